/*
 * embedding_rows.h - the row functions of embedding.c's losses, in RW_T
 * (included once per dtype by rowwise_dtypes.h), and their rowwise.h
 * instantiations.
 */
#define RW_L CLOSS_LANES

/* x.y of one row in double lanes. The three sums of a cosine take three passes
 * (the second and third from L1): one pass with three sets of lanes does not
 * vectorise. */
CLOSS_INLINE double RW_TYPED(dot)(const RW_T *restrict x, const RW_T *restrict y,
                                  const int64_t d)
{
    double sum;
    CLOSS_SUM_LANES(sum, d, j, (double)x[j] * (double)y[j]);
    return sum;
}

/* cosine_embedding_loss, rows of d features:
 *   cos = x1.x2 / sqrt((|x1|^2 + eps) (|x2|^2 + eps)),  eps = COSINE_EPS,
 *   L = 1 - cos (y == 1), max(0, cos - margin) (y == -1), 0 (any other y);
 *   dcos/dx1 = x2 / denom - cos x1 / (|x1|^2 + eps), and symmetrically for x2.
 * The max passes its gradient at cos == margin (torch's clamp_min) and keeps NaN. */
CLOSS_INLINE double RW_TYPED(cosine_embedding_row)(const closs_rw_ctx *c, int64_t i,
                                                   const int want_g, const double s)
{
    const int64_t d = c->d;
    const RW_T *restrict x1 = (const RW_T *)c->x[0] + i * d;
    const RW_T *restrict x2 = (const RW_T *)c->x[1] + i * d;
    const double m1 = RW_TYPED(dot)(x1, x1, d) + COSINE_EPS;
    const double m2 = RW_TYPED(dot)(x2, x2, d) + COSINE_EPS;
    const double denom = sqrt(m1 * m2), cos = RW_TYPED(dot)(x1, x2, d) / denom;
    const RW_T y = ((const RW_T *)c->y)[i];
    double v = 0.0, dv = 0.0;
    if (y == 1) {
        v = 1 - cos;
        dv = -1;
    } else if (y == -1) {
        const double h = cos - c->p[0];
        v = h < 0 ? 0.0 : h;
        dv = h >= 0;
    }
    if (want_g) {
        RW_T *restrict g1 = (RW_T *)c->g[0] + i * d, *restrict g2 = (RW_T *)c->g[1] + i * d;
        const double f = s * dv;
        const RW_T a = (RW_T)(f / denom), b1 = (RW_T)(f * cos / m1), b2 = (RW_T)(f * cos / m2);
        for (int64_t j = 0; j < d; ++j) {
            g1[j] = a * x2[j] - b1 * x1[j];
            g2[j] = a * x1[j] - b2 * x2[j];
        }
    }
    return v;
}

#define RW_NAME cosine_embedding_loss
#define RW_ROW RW_TYPED(cosine_embedding_row)
#define RW_ELEMENTWISE 0
#define RW_NX 2
#define RW_NEEDS_Y 1
#define RW_CHECK NULL
#define RW_ARGS int64_t n, int64_t d, const RW_T *input1, const RW_T *input2, \
                const RW_T *target, double margin
#define RW_GRADS RW_T *grad_input1, RW_T *grad_input2
#define RW_GRAD_PTRS grad_input1, grad_input2
#define RW_INIT {.n = n, .d = d, .x = {input1, input2}, .y = target, .p = {margin}, \
                 .params_ok = 1}
#include "rowwise.h"

/* ||x - y + eps||_p of one row (torch's pairwise_distance), the sum in double
 * lanes; for p = inf the largest |v|, NaN kept. */
CLOSS_INLINE double RW_TYPED(distance)(const RW_T *restrict x, const RW_T *restrict y,
                                       const int64_t d, const RW_T eps, const int kind,
                                       const double p)
{
    double sum;
#define DIST_V(j) (x[j] - y[j] + eps)
    switch (kind) {
    case DIST_L1: CLOSS_SUM_LANES(sum, d, j, fabs(DIST_V(j))); return sum;
    case DIST_L2: CLOSS_SUM_LANES(sum, d, j, (double)DIST_V(j) * (double)DIST_V(j)); return sqrt(sum);
    case DIST_LP: CLOSS_SUM_LANES(sum, d, j, pow(fabs((double)DIST_V(j)), p)); return pow(sum, 1.0 / p);
    default: {
        double top[RW_L] = {0}, m = 0.0;
#define DIST_MAX(a, v)                                \
    do {                                              \
        const double m_ = (double)fabs(v);            \
        a = m_ > a || m_ != m_ ? m_ : a;              \
    } while (0)
        int64_t j = 0;
        for (; j + RW_L <= d; j += RW_L)
            for (int k = 0; k < RW_L; ++k) DIST_MAX(top[k], DIST_V(j + k));
        for (; j < d; ++j) DIST_MAX(top[0], DIST_V(j));
        for (int k = 0; k < RW_L; ++k) DIST_MAX(m, top[k]);
#undef DIST_MAX
        return m;
    }
    }
#undef DIST_V
}

/* The factor f of a distance's gradient, for the gradient coef * d dist / dv
 * that dist_unit computes; for p = inf coef is shared by the elements where
 * |v| reaches the maximum (or is NaN), as torch shares it. A zero distance
 * has gradient 0 (torch's subgradient). */
CLOSS_INLINE double RW_TYPED(dist_factor)(const RW_T *restrict x, const RW_T *restrict y,
                                          const int64_t d, const RW_T eps, const int kind,
                                          const double dist, const double coef)
{
    switch (kind) {
    case DIST_L1: return coef;
    case DIST_L2:
    case DIST_LP: return dist == 0 ? 0.0 : kind == DIST_L2 ? coef / dist : coef;
    default: {
        int64_t ties = 0;
        for (int64_t j = 0; j < d; ++j) {
            const double a = (double)fabs(x[j] - y[j] + eps);
            ties += a == dist || a != a;
        }
        return ties ? coef / (double)ties : 0.0;
    }
    }
}

/* coef * d||v||_p / dv_j at v_j = v, from the distance's factor f (above):
 *   p = 1: sgn(v) f;  p = 2: v f (f = coef / dist);  p = inf: sgn(v) f where
 *   |v| is the maximum, else 0;  other p: sgn(v) f (|v| / dist)^(p-1), 0 at v = 0. */
CLOSS_INLINE RW_T RW_TYPED(dist_unit)(const RW_T v, const int kind, const RW_T f,
                                      const double dist, const double p)
{
    switch (kind) {
    case DIST_L1: return EMB_SIGN(RW_T, v) * f;
    case DIST_L2: return v * f;
    case DIST_LINF:
        return (double)fabs(v) == dist || v != v ? EMB_SIGN(RW_T, v) * f : (RW_T)0;
    default:
        return v == 0 ? (RW_T)0
                      : EMB_SIGN(RW_T, v) * (RW_T)((double)f * pow((double)fabs(v) / dist, p - 1));
    }
}

/* triplet_margin_loss, rows of d features, for one kind of p-norm:
 *   L = max(0, margin + d(a, p) - d(a, n)),  d(x, y) = ||x - y + eps||_p,
 * with swap: d(a, n) replaced by min(d(a, n), d(p, n)). Like torch, the max
 * passes its gradient at 0 and keeps NaN, and the min splits a tie in halves.
 * Parameters: p[0] margin, p[1] p, p[2] eps, p[3] swap. */
CLOSS_INLINE double RW_TYPED(triplet_rows)(const closs_rw_ctx *c, int64_t i, const int want_g,
                                           const double s, const int kind)
{
    const int64_t d = c->d;
    const RW_T *restrict a = (const RW_T *)c->x[0] + i * d;
    const RW_T *restrict p = (const RW_T *)c->x[1] + i * d;
    const RW_T *restrict n = (const RW_T *)c->x[2] + i * d;
    const RW_T eps = (RW_T)c->p[2];
    const double pn = c->p[1];
    const int swap = c->p[3] != 0;
    const double dap = RW_TYPED(distance)(a, p, d, eps, kind, pn);
    const double dan = RW_TYPED(distance)(a, n, d, eps, kind, pn);
    const double dpn = swap ? RW_TYPED(distance)(p, n, d, eps, kind, pn) : 0.0;
    const double dneg = !swap || dan <= dpn || dan != dan ? dan : dpn;
    const double pre = (double)(RW_T)c->p[0] + dap - dneg;
    if (want_g) {
        RW_T *restrict ga = (RW_T *)c->g[0] + i * d;
        RW_T *restrict gp = (RW_T *)c->g[1] + i * d;
        RW_T *restrict gn = (RW_T *)c->g[2] + i * d;
        const double k = pre >= 0 ? s : 0.0;
        const double tie = dan == dpn ? 0.5 : 1.0;
        const double k_an = swap && dan > dpn ? 0.0 : swap ? k * tie : k;
        const double k_pn = swap && !(dan < dpn) ? k * tie : 0.0;
        const RW_T fp = (RW_T)RW_TYPED(dist_factor)(a, p, d, eps, kind, dap, k);
        const RW_T fn = (RW_T)RW_TYPED(dist_factor)(a, n, d, eps, kind, dan, k_an);
        const RW_T fs = swap ? (RW_T)RW_TYPED(dist_factor)(p, n, d, eps, kind, dpn, k_pn) : 0;
        for (int64_t j = 0; j < d; ++j) {
            const RW_T up = RW_TYPED(dist_unit)(a[j] - p[j] + eps, kind, fp, dap, pn);
            const RW_T un = RW_TYPED(dist_unit)(a[j] - n[j] + eps, kind, fn, dan, pn);
            const RW_T us = swap ? RW_TYPED(dist_unit)(p[j] - n[j] + eps, kind, fs, dpn, pn) : 0;
            ga[j] = up - un;
            gp[j] = -up - us;
            gn[j] = un + us;
        }
    }
    return pre < 0 ? 0.0 : pre;
}

/* One copy of the row per kind of norm, so that its loops carry no switch. */
CLOSS_INLINE double RW_TYPED(triplet_row)(const closs_rw_ctx *c, int64_t i, const int want_g,
                                          const double s)
{
    switch (dist_kind(c->p[1])) {
    case DIST_L2: return RW_TYPED(triplet_rows)(c, i, want_g, s, DIST_L2);
    case DIST_L1: return RW_TYPED(triplet_rows)(c, i, want_g, s, DIST_L1);
    case DIST_LINF: return RW_TYPED(triplet_rows)(c, i, want_g, s, DIST_LINF);
    default: return RW_TYPED(triplet_rows)(c, i, want_g, s, DIST_LP);
    }
}

#define RW_NAME triplet_margin_loss
#define RW_ROW RW_TYPED(triplet_row)
#define RW_ELEMENTWISE 0
#define RW_NX 3
#define RW_NEEDS_Y 0
#define RW_CHECK NULL
#define RW_ARGS int64_t n, int64_t d, const RW_T *anchor, const RW_T *positive, \
                const RW_T *negative, double margin, double p, double eps, int swap
#define RW_GRADS RW_T *grad_anchor, RW_T *grad_positive, RW_T *grad_negative
#define RW_GRAD_PTRS grad_anchor, grad_positive, grad_negative
#define RW_INIT {.n = n, .d = d, .x = {anchor, positive, negative}, \
                 .p = {margin, p, eps, swap}, .params_ok = margin > 0 && p > 0}
#include "rowwise.h"

#undef RW_L
