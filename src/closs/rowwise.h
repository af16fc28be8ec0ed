/*
 * rowwise.h - the template of the row-wise losses (rowwise.c), in CLOSS_T
 * (closs_instantiate.h includes it once per dtype): each loss's row function
 * and the block kernels over rows that the driver runs.
 *
 * A row function <name>_row, for each loss of CLOSS_ROWWISE_LOSSES:
 *     double row(const rowwise_ctx *c, int64_t i, int want_g, double s)
 * returns the value of row i in double and, when want_g (a compile-time
 * constant in every caller), writes the row's gradients times s into c->g.
 * Comparisons are written as torch's CPU kernels write them, so that NaN and
 * inf take the same branches: a hinge term counts when z > 0 (NaN adds
 * nothing), a clamp keeps NaN. Row sums (dot products, norms, distances, a
 * row's hinge terms) accumulate in double lanes in a fixed order.
 *
 * Each loop variant of a loss (value stored or summed, gradient or not,
 * per-row grad_output or a scalar) is its own block kernel, so no row loop
 * tests a flag: rowwise_kernels_<sfx>[kind].
 */

#ifndef CLOSS_ROWWISE_ONCE
#define CLOSS_ROWWISE_ONCE
/* What the row functions share across dtypes. */

/* torch adds its float constant EPSILON = 1e-12 to both squared norms (cosine_embedding_loss). */
#define COSINE_EPS ((double)1e-12f)

/* The p-norms of triplet_margin_loss, each with its own loops. */
enum { DIST_L1, DIST_L2, DIST_LINF, DIST_LP };

static int dist_kind(double p)
{
    return p == 1 ? DIST_L1 : p == 2 ? DIST_L2 : isinf(p) ? DIST_LINF : DIST_LP;
}

/* torch's sgn of a real number: -1, 0 or 1, and 0 at NaN. */
#define EMB_SIGN(T, v) (T)(((v) > 0) - ((v) < 0))

/* Classes per pass of a multilabel row: its "is a target" flags live on the stack. */
#define ML_CHUNK 1024
#endif /* CLOSS_ROWWISE_ONCE */

/* ------------------------------------------------------------ margin losses */
/* margin_ranking_loss, rows of one element: v = -y (x1 - x2) + margin in CLOSS_T,
 * L = max(v, 0) keeping NaN; dL/dx1 = -y [v >= 0] = -dL/dx2 (torch's clamp_min
 * passes the gradient at v == 0, and a NaN y gives a NaN gradient). */
CLOSS_INLINE double CLOSS_FN(margin_ranking_loss_row)(const rowwise_ctx *c, int64_t i,
                                                      const int want_g, const double s)
{
    const CLOSS_T x1 = ((const CLOSS_T *)c->x[0])[i], x2 = ((const CLOSS_T *)c->x[1])[i];
    const CLOSS_T y = ((const CLOSS_T *)c->y)[i];
    const CLOSS_T v = -y * (x1 - x2) + (CLOSS_T)c->p[0];
    if (want_g) {
        const CLOSS_T g = (v >= 0 ? (CLOSS_T)s : (CLOSS_T)0) * -y;
        ((CLOSS_T *)c->g[0])[i] = g;
        ((CLOSS_T *)c->g[1])[i] = -g;
    }
    return v < 0 ? 0.0 : (double)v;
}

/* The hinge terms h(z_j) of a multi_margin row over classes [j0, j1), where
 * z_j = a + x_j (a = margin - x_t) and h(z) = z (sq = 0) or z^2 (sq = 1) when
 * z > 0, else 0: their sum. */
CLOSS_INLINE double CLOSS_FN(multi_margin_hinges)(const CLOSS_T *restrict x, int64_t j0,
                                                  int64_t j1, const CLOSS_T a, const int sq)
{
    double sum;
    x += j0;
#define MM_Z(j) (a + x[j])
    CLOSS_SUM_LANES(sum, j1 - j0, j, MM_Z(j) > 0 ? (sq ? MM_Z(j) * MM_Z(j) : MM_Z(j)) : 0);
    return sum;
}

/* Their gradients g_j = gs h'(z_j) written over [j0, j1); returns their sum. A
 * separate pass from the value's (over the same row, in L1). */
CLOSS_INLINE double CLOSS_FN(multi_margin_slopes)(const CLOSS_T *restrict x, CLOSS_T *restrict g,
                                                  int64_t j0, int64_t j1, const CLOSS_T a,
                                                  const int sq, const CLOSS_T gs)
{
    double sum;
    x += j0, g += j0;
    CLOSS_SUM_LANES(sum, j1 - j0, j, g[j] = MM_Z(j) > 0 ? (sq ? 2 * gs * MM_Z(j) : gs) : 0);
#undef MM_Z
    return sum;
}

/* One multi_margin row for p = 1 (sq = 0) or 2 (sq = 1): classes [0, t) and
 * (t, d) on either side of the target. */
CLOSS_INLINE double CLOSS_FN(multi_margin_rowp)(const CLOSS_T *restrict x, CLOSS_T *restrict g,
                                                const int64_t d, const int64_t t, const CLOSS_T a,
                                                const int sq, const int want_g, const CLOSS_T gs)
{
    if (want_g)
        g[t] = (CLOSS_T) - (CLOSS_FN(multi_margin_slopes)(x, g, 0, t, a, sq, gs) +
                         CLOSS_FN(multi_margin_slopes)(x, g, t + 1, d, a, sq, gs));
    return CLOSS_FN(multi_margin_hinges)(x, 0, t, a, sq) +
           CLOSS_FN(multi_margin_hinges)(x, t + 1, d, a, sq);
}

/* multi_margin_loss, a row of d classes with target t (validated):
 * L = w_t / d sum_{j != t} h(margin - x_t + x_j); dL/dx_j = w_t / d h'(.) for
 * j != t and dL/dx_t = -(their sum). p[0] is p (1 or 2), p[1] the margin. */
CLOSS_INLINE double CLOSS_FN(multi_margin_loss_row)(const rowwise_ctx *c, int64_t i,
                                                    const int want_g, const double s)
{
    const int64_t d = c->d, t = c->idx[i];
    const CLOSS_T *x = (const CLOSS_T *)c->x[0] + i * d;
    CLOSS_T *g = want_g ? (CLOSS_T *)c->g[0] + i * d : NULL;
    const double wt = c->w ? (double)((const CLOSS_T *)c->w)[t] : 1.0;
    const CLOSS_T a = (CLOSS_T)c->p[1] - x[t], gs = (CLOSS_T)(s * wt / (double)d);
    const double hsum = c->p[0] == 2 ? CLOSS_FN(multi_margin_rowp)(x, g, d, t, a, 1, want_g, gs)
                                     : CLOSS_FN(multi_margin_rowp)(x, g, d, t, a, 0, want_g, gs);
    return hsum * wt / (double)d;
}

/* sum over j in [0, len) of the hinge max(0, a + x_j) where listed[j] is 0.
 * (The flags have x's width, so that the loop vectorises.) ML_ON loads both
 * operands unconditionally (`&`, not `&&`): GCC 12 at -O3 with AVX2 turns the
 * short-circuit load of listed[j] into masked loads and gives every 4-lane
 * group of the 16-accumulator loop the first group's mask (a wrong sum for
 * rows of 16+ classes with several targets; tests/test_class_counts.py). */
CLOSS_INLINE double CLOSS_FN(multilabel_hinges)(const CLOSS_T *restrict x,
                                                const CLOSS_T *restrict listed,
                                                const int64_t len, const CLOSS_T a)
{
    double sum;
#define ML_ON(j) ((a + x[j] > 0) & (listed[j] == 0))
    CLOSS_SUM_LANES(sum, len, j, ML_ON(j) ? a + x[j] : 0);
    return sum;
}

/* Adds gs to g_j for each j of [0, len) whose hinge above is active; returns
 * how many are (a separate pass from the value's). */
CLOSS_INLINE double CLOSS_FN(multilabel_slopes)(const CLOSS_T *restrict x, CLOSS_T *restrict g,
                                                const CLOSS_T *restrict listed,
                                                const int64_t len, const CLOSS_T a,
                                                const CLOSS_T gs)
{
    double count;
    CLOSS_SUM_LANES(count, len, j, (g[j] += ML_ON(j) ? gs : 0, ML_ON(j)));
#undef ML_ON
    return count;
}

/* multilabel_margin_loss, a row of d classes whose targets t_0 .. t_{k-1} end
 * at the first negative entry (validated: all in [-1, d)):
 * L = 1/d sum_e sum_{j not a target} max(0, 1 - x_{t_e} + x_j), a duplicate
 * target counting twice; each active pair adds 1/d to dL/dx_j and takes it
 * from dL/dx_{t_e}. The classes are taken ML_CHUNK at a time, with a flag per
 * class of the chunk telling the targets, so that the loops over classes
 * vectorise and no memory is allocated. */
CLOSS_INLINE double CLOSS_FN(multilabel_margin_loss_row)(const rowwise_ctx *c, int64_t i,
                                                         const int want_g, const double s)
{
    const int64_t d = c->d, *t = c->idx + i * d;
    const CLOSS_T *x = (const CLOSS_T *)c->x[0] + i * d;
    CLOSS_T *g = want_g ? (CLOSS_T *)c->g[0] + i * d : NULL;
    const CLOSS_T gs = (CLOSS_T)(s / (double)d);
    int64_t k = 0;
    while (k < d && t[k] >= 0) ++k;
    if (want_g)
        for (int64_t j = 0; j < d; ++j) g[j] = 0;
    double sum = 0.0;
    CLOSS_T listed[ML_CHUNK];
    for (int64_t c0 = 0; c0 < d; c0 += ML_CHUNK) {
        const int64_t len = d - c0 < ML_CHUNK ? d - c0 : ML_CHUNK;
        for (int64_t j = 0; j < len; ++j) listed[j] = 0;
        for (int64_t e = 0; e < k; ++e)
            if (t[e] >= c0 && t[e] < c0 + len) listed[t[e] - c0] = 1;
        for (int64_t e = 0; e < k; ++e) {
            const CLOSS_T a = (CLOSS_T)1 - x[t[e]];
            sum += CLOSS_FN(multilabel_hinges)(x + c0, listed, len, a);
            if (want_g)
                g[t[e]] -= gs * (CLOSS_T)CLOSS_FN(multilabel_slopes)(x + c0, g + c0, listed, len,
                                                                     a, gs);
        }
    }
    return sum / (double)d;
}

/* ------------------------------------------------------------ embedding losses */

/* x.y of one row in double lanes. The three sums of a cosine take three passes
 * (the second and third from L1): one pass with three sets of lanes does not
 * vectorise. */
CLOSS_INLINE double CLOSS_FN(dot)(const CLOSS_T *restrict x, const CLOSS_T *restrict y,
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
CLOSS_INLINE double CLOSS_FN(cosine_embedding_loss_row)(const rowwise_ctx *c, int64_t i,
                                                        const int want_g, const double s)
{
    const int64_t d = c->d;
    const CLOSS_T *restrict x1 = (const CLOSS_T *)c->x[0] + i * d;
    const CLOSS_T *restrict x2 = (const CLOSS_T *)c->x[1] + i * d;
    const double m1 = CLOSS_FN(dot)(x1, x1, d) + COSINE_EPS;
    const double m2 = CLOSS_FN(dot)(x2, x2, d) + COSINE_EPS;
    const double denom = sqrt(m1 * m2), cos = CLOSS_FN(dot)(x1, x2, d) / denom;
    const CLOSS_T y = ((const CLOSS_T *)c->y)[i];
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
        CLOSS_T *restrict g1 = (CLOSS_T *)c->g[0] + i * d;
        CLOSS_T *restrict g2 = (CLOSS_T *)c->g[1] + i * d;
        const double f = s * dv;
        const CLOSS_T a = (CLOSS_T)(f / denom), b1 = (CLOSS_T)(f * cos / m1);
        const CLOSS_T b2 = (CLOSS_T)(f * cos / m2);
        for (int64_t j = 0; j < d; ++j) {
            g1[j] = a * x2[j] - b1 * x1[j];
            g2[j] = a * x1[j] - b2 * x2[j];
        }
    }
    return v;
}

/* ||x - y + eps||_p of one row (torch's pairwise_distance), the sum in double
 * lanes; for p = inf the largest |v|, NaN kept. */
CLOSS_INLINE double CLOSS_FN(distance)(const CLOSS_T *restrict x, const CLOSS_T *restrict y,
                                       const int64_t d, const CLOSS_T eps, const int kind,
                                       const double p)
{
    double sum;
#define DIST_V(j) (x[j] - y[j] + eps)
    switch (kind) {
    case DIST_L1: CLOSS_SUM_LANES(sum, d, j, fabs(DIST_V(j))); return sum;
    case DIST_L2:
        CLOSS_SUM_LANES(sum, d, j, (double)DIST_V(j) * (double)DIST_V(j));
        return sqrt(sum);
    case DIST_LP:
        CLOSS_SUM_LANES(sum, d, j, pow(fabs((double)DIST_V(j)), p));
        return pow(sum, 1.0 / p);
    default: {
        double top[CLOSS_LANES] = {0}, m = 0.0;
#define DIST_MAX(a, v)                                \
    do {                                              \
        const double m_ = (double)fabs(v);            \
        a = m_ > a || m_ != m_ ? m_ : a;              \
    } while (0)
        int64_t j = 0;
        for (; j + CLOSS_LANES <= d; j += CLOSS_LANES)
            for (int k = 0; k < CLOSS_LANES; ++k) DIST_MAX(top[k], DIST_V(j + k));
        for (; j < d; ++j) DIST_MAX(top[0], DIST_V(j));
        for (int k = 0; k < CLOSS_LANES; ++k) DIST_MAX(m, top[k]);
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
CLOSS_INLINE double CLOSS_FN(dist_factor)(const CLOSS_T *restrict x, const CLOSS_T *restrict y,
                                          const int64_t d, const CLOSS_T eps, const int kind,
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
CLOSS_INLINE CLOSS_T CLOSS_FN(dist_unit)(const CLOSS_T v, const int kind, const CLOSS_T f,
                                      const double dist, const double p)
{
    switch (kind) {
    case DIST_L1: return EMB_SIGN(CLOSS_T, v) * f;
    case DIST_L2: return v * f;
    case DIST_LINF:
        return (double)fabs(v) == dist || v != v ? EMB_SIGN(CLOSS_T, v) * f : (CLOSS_T)0;
    default:
        return v == 0 ? (CLOSS_T)0
                      : EMB_SIGN(CLOSS_T, v) *
                            (CLOSS_T)((double)f * pow((double)fabs(v) / dist, p - 1));
    }
}

/* triplet_margin_loss, rows of d features, for one kind of p-norm:
 *   L = max(0, margin + d(a, p) - d(a, n)),  d(x, y) = ||x - y + eps||_p,
 * with swap: d(a, n) replaced by min(d(a, n), d(p, n)). Like torch, the max
 * passes its gradient at 0 and keeps NaN, and the min splits a tie in halves.
 * Parameters: p[0] margin, p[1] p, p[2] eps, p[3] swap. */
CLOSS_INLINE double CLOSS_FN(triplet_rows)(const rowwise_ctx *c, int64_t i, const int want_g,
                                           const double s, const int kind)
{
    const int64_t d = c->d;
    const CLOSS_T *restrict a = (const CLOSS_T *)c->x[0] + i * d;
    const CLOSS_T *restrict p = (const CLOSS_T *)c->x[1] + i * d;
    const CLOSS_T *restrict n = (const CLOSS_T *)c->x[2] + i * d;
    const CLOSS_T eps = (CLOSS_T)c->p[2];
    const double pn = c->p[1];
    const int swap = c->p[3] != 0;
    const double dap = CLOSS_FN(distance)(a, p, d, eps, kind, pn);
    const double dan = CLOSS_FN(distance)(a, n, d, eps, kind, pn);
    const double dpn = swap ? CLOSS_FN(distance)(p, n, d, eps, kind, pn) : 0.0;
    const double dneg = !swap || dan <= dpn || dan != dan ? dan : dpn;
    const double pre = (double)(CLOSS_T)c->p[0] + dap - dneg;
    if (want_g) {
        CLOSS_T *restrict ga = (CLOSS_T *)c->g[0] + i * d;
        CLOSS_T *restrict gp = (CLOSS_T *)c->g[1] + i * d;
        CLOSS_T *restrict gn = (CLOSS_T *)c->g[2] + i * d;
        const double k = pre >= 0 ? s : 0.0;
        const double tie = dan == dpn ? 0.5 : 1.0;
        const double k_an = swap && dan > dpn ? 0.0 : swap ? k * tie : k;
        const double k_pn = swap && !(dan < dpn) ? k * tie : 0.0;
        const CLOSS_T fp = (CLOSS_T)CLOSS_FN(dist_factor)(a, p, d, eps, kind, dap, k);
        const CLOSS_T fn = (CLOSS_T)CLOSS_FN(dist_factor)(a, n, d, eps, kind, dan, k_an);
        const CLOSS_T fs = swap ? (CLOSS_T)CLOSS_FN(dist_factor)(p, n, d, eps, kind, dpn, k_pn) : 0;
        for (int64_t j = 0; j < d; ++j) {
            const CLOSS_T up = CLOSS_FN(dist_unit)(a[j] - p[j] + eps, kind, fp, dap, pn);
            const CLOSS_T un = CLOSS_FN(dist_unit)(a[j] - n[j] + eps, kind, fn, dan, pn);
            const CLOSS_T us = swap ? CLOSS_FN(dist_unit)(p[j] - n[j] + eps, kind, fs, dpn, pn) : 0;
            ga[j] = up - un;
            gp[j] = -up - us;
            gn[j] = un + us;
        }
    }
    return pre < 0 ? 0.0 : pre;
}

/* One copy of the row per kind of norm, so that its loops carry no switch. */
CLOSS_INLINE double CLOSS_FN(triplet_margin_loss_row)(const rowwise_ctx *c, int64_t i,
                                                      const int want_g, const double s)
{
    switch (dist_kind(c->p[1])) {
    case DIST_L2: return CLOSS_FN(triplet_rows)(c, i, want_g, s, DIST_L2);
    case DIST_L1: return CLOSS_FN(triplet_rows)(c, i, want_g, s, DIST_L1);
    case DIST_LINF: return CLOSS_FN(triplet_rows)(c, i, want_g, s, DIST_LINF);
    default: return CLOSS_FN(triplet_rows)(c, i, want_g, s, DIST_LP);
    }
}

/* ------------------------------------------------------------ block kernels */

/* The row function of loss `kind` (a constant: the switch folds away). */
CLOSS_INLINE double CLOSS_FN(rowwise_row)(const int kind, const rowwise_ctx *c, int64_t i,
                                          const int want_g, const double s)
{
    switch (kind) {
#define ROWWISE_ROW_CASE(name, layout, nx, needs_y, one_element) \
    case ROWWISE_KIND(name): return CLOSS_FN(name##_row)(c, i, want_g, s);
        CLOSS_ROWWISE_LOSSES(ROWWISE_ROW_CASE)
#undef ROWWISE_ROW_CASE
    }
    return 0.0;
}

/* Rows [b, e) of loss `kind`: values stored (store_v) or summed into sums[0]
 * (sum_v), gradients written (want_g) times go[i] (go_vec) or c->gscale. Rows
 * of one element (one_element) are taken CLOSS_LANES at a time with an
 * accumulator each: the loop vectorises across rows like an element-wise loss. */
CLOSS_INLINE void CLOSS_FN(rowwise_body)(const int kind, const int one_element, const void *ctx,
                                         int64_t b, int64_t e, double *sums, const int store_v,
                                         const int sum_v, const int want_g, const int go_vec)
{
    const rowwise_ctx *c = (const rowwise_ctx *)ctx;
    const CLOSS_T *restrict go = (const CLOSS_T *)c->go;
    CLOSS_T *restrict out = (CLOSS_T *)c->out;
    (void)go, (void)out;
    double acc[CLOSS_LANES] = {0};
#define ROWWISE_STEP(i, a)                                                           \
    do {                                                                             \
        const double v_ =                                                            \
            CLOSS_FN(rowwise_row)(kind, c, i, want_g, go_vec ? (double)go[i] : c->gscale); \
        if (store_v) out[i] = (CLOSS_T)v_;                                           \
        if (sum_v) a += v_;                                                          \
    } while (0)
    int64_t i = b;
    if (one_element)
        for (; i + CLOSS_LANES <= e; i += CLOSS_LANES)
            for (int k = 0; k < CLOSS_LANES; ++k) ROWWISE_STEP(i + k, acc[k]);
    for (; i < e; ++i) ROWWISE_STEP(i, acc[0]);
#undef ROWWISE_STEP
    sums[0] = closs_lanes_sum(acc);
}

/* The block kernels of each loss: (store_v, sum_v, want_g, go_vec). */
#define ROWWISE_KERNEL(name, one_element, part, ...) \
    CLOSS_SUMS_KERNEL(CLOSS_FN(name##_##part),         \
        CLOSS_FN(rowwise_body)(ROWWISE_KIND(name), one_element, c, b, e, s, __VA_ARGS__);)
#define ROWWISE_KERNELS(name, layout, nx, needs_y, one_element) \
    ROWWISE_KERNEL(name, one_element, value, 1, 0, 0, 0)        \
    ROWWISE_KERNEL(name, one_element, sum, 0, 1, 0, 0)          \
    ROWWISE_KERNEL(name, one_element, grad, 0, 0, 1, 0)         \
    ROWWISE_KERNEL(name, one_element, grad_go, 0, 0, 1, 1)      \
    ROWWISE_KERNEL(name, one_element, fused, 1, 0, 1, 0)        \
    ROWWISE_KERNEL(name, one_element, fused_sum, 0, 1, 1, 0)
CLOSS_ROWWISE_LOSSES(ROWWISE_KERNELS)
#undef ROWWISE_KERNELS
#undef ROWWISE_KERNEL

#define ROWWISE_KERNELS_ENTRY(name, layout, nx, needs_y, one_element)            \
    {CLOSS_FN(name##_value), CLOSS_FN(name##_sum), CLOSS_FN(name##_grad),        \
     CLOSS_FN(name##_grad_go), CLOSS_FN(name##_fused), CLOSS_FN(name##_fused_sum)},
static const rowwise_kernels CLOSS_FN(rowwise_kernels)[] = {
    CLOSS_ROWWISE_LOSSES(ROWWISE_KERNELS_ENTRY)};
#undef ROWWISE_KERNELS_ENTRY
