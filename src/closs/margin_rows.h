/*
 * margin_rows.h - the row functions of margin.c's losses, in RW_T (included
 * once per dtype by rowwise_dtypes.h), and their rowwise.h instantiations.
 * Comparisons are written as torch's CPU kernels write them, so that NaN and
 * inf take the same branches: a hinge term counts when z > 0 (NaN adds
 * nothing), a clamp keeps NaN.
 */

/* margin_ranking_loss, rows of one element: v = -y (x1 - x2) + margin in RW_T,
 * L = max(v, 0) keeping NaN; dL/dx1 = -y [v >= 0] = -dL/dx2 (torch's clamp_min
 * passes the gradient at v == 0, and a NaN y gives a NaN gradient). */
CLOSS_INLINE double RW_TYPED(margin_ranking_row)(const closs_rw_ctx *c, int64_t i,
                                                 const int want_g, const double s)
{
    const RW_T x1 = ((const RW_T *)c->x[0])[i], x2 = ((const RW_T *)c->x[1])[i];
    const RW_T y = ((const RW_T *)c->y)[i];
    const RW_T v = -y * (x1 - x2) + (RW_T)c->p[0];
    if (want_g) {
        const RW_T g = (v >= 0 ? (RW_T)s : (RW_T)0) * -y;
        ((RW_T *)c->g[0])[i] = g;
        ((RW_T *)c->g[1])[i] = -g;
    }
    return v < 0 ? 0.0 : (double)v;
}

#define RW_NAME margin_ranking_loss
#define RW_ROW RW_TYPED(margin_ranking_row)
#define RW_NX 2
#define RW_NEEDS_Y 1
#define RW_CHECK NULL
#define RW_ARGS int64_t n, const RW_T *input1, const RW_T *input2, const RW_T *target, double margin
#define RW_GRADS RW_T *grad_input1, RW_T *grad_input2
#define RW_GRAD_PTRS grad_input1, grad_input2
#define RW_INIT {.n = n, .d = 1, .x = {input1, input2}, .y = target, .p = {margin}, .params_ok = 1}
#include "rowwise.h"

/* The hinge terms of classes [j0, j1) of a multi_margin row: z = a + x_j with
 * a = margin - x_t; adds sum h(z) to *hsum and, when want_g, writes
 * g_j = gs h'(z) and adds sum g_j to *gsum. h(z) = z (sq = 0) or z^2 (sq = 1)
 * where z > 0, else 0. */
CLOSS_INLINE void RW_TYPED(multi_margin_span)(const RW_T *restrict x, RW_T *restrict g,
                                              int64_t j0, int64_t j1, const RW_T a,
                                              const int sq, const int want_g, const RW_T gs,
                                              double *hsum, double *gsum)
{
    double acc[CLOSS_LANES] = {0}, gacc[CLOSS_LANES] = {0};
#define MM_STEP(j, k)                                                       \
    do {                                                                    \
        const RW_T z = a + x[j];                                            \
        const int on = z > 0;                                               \
        acc[k] += on ? (double)(sq ? z * z : z) : 0.0;                      \
        if (want_g) {                                                       \
            const RW_T gj = on ? (sq ? 2 * gs * z : gs) : (RW_T)0;          \
            g[j] = gj;                                                      \
            gacc[k] += (double)gj;                                          \
        }                                                                   \
    } while (0)
    int64_t j = j0;
    for (; j + CLOSS_LANES <= j1; j += CLOSS_LANES)
        for (int k = 0; k < CLOSS_LANES; ++k) MM_STEP(j + k, k);
    for (; j < j1; ++j) MM_STEP(j, 0);
#undef MM_STEP
    *hsum += closs_lanes_sum(acc);
    *gsum += closs_lanes_sum(gacc);
}

/* multi_margin_loss, a row of d classes with target t (validated):
 * L = w_t / d sum_{j != t} h(margin - x_t + x_j); dL/dx_j = w_t / d h'(.) for
 * j != t and dL/dx_t = -(their sum). p[0] is p (1 or 2), p[1] the margin. */
CLOSS_INLINE double RW_TYPED(multi_margin_row)(const closs_rw_ctx *c, int64_t i,
                                               const int want_g, const double s)
{
    const int64_t d = c->d, t = c->idx[i];
    const RW_T *x = (const RW_T *)c->x[0] + i * d;
    RW_T *g = want_g ? (RW_T *)c->g[0] + i * d : NULL;
    const double wt = c->w ? (double)((const RW_T *)c->w)[t] : 1.0;
    const RW_T a = (RW_T)c->p[1] - x[t], gs = (RW_T)(s * wt / (double)d);
    double hsum = 0.0, gsum = 0.0;
    if (c->p[0] == 2) {
        RW_TYPED(multi_margin_span)(x, g, 0, t, a, 1, want_g, gs, &hsum, &gsum);
        RW_TYPED(multi_margin_span)(x, g, t + 1, d, a, 1, want_g, gs, &hsum, &gsum);
    } else {
        RW_TYPED(multi_margin_span)(x, g, 0, t, a, 0, want_g, gs, &hsum, &gsum);
        RW_TYPED(multi_margin_span)(x, g, t + 1, d, a, 0, want_g, gs, &hsum, &gsum);
    }
    if (want_g) g[t] = (RW_T)-gsum;
    return hsum * wt / (double)d;
}

#define RW_NAME multi_margin_loss
#define RW_ROW RW_TYPED(multi_margin_row)
#define RW_NX 1
#define RW_NEEDS_Y 0
#define RW_CHECK multi_margin_check
#define RW_ARGS int64_t n, int64_t c, const RW_T *input, const int64_t *target, \
                const RW_T *weight, int p, double margin
#define RW_GRADS RW_T *grad_input
#define RW_GRAD_PTRS grad_input
#define RW_INIT {.n = n, .d = c, .x = {input}, .idx = target, .w = weight, \
                 .p = {p, margin}, .params_ok = p == 1 || p == 2}
#include "rowwise.h"

/* multilabel_margin_loss, a row of d classes whose targets t_0 .. t_{k-1} end
 * at the first negative entry (validated: all in [-1, d)):
 * L = 1/d sum_e sum_{j not a target} max(0, 1 - x_{t_e} + x_j), a duplicate
 * target counting twice. Loops run over j outside and the targets inside, so
 * that "is j a target" needs no scratch memory; each violated pair adds 1/d to
 * dL/dx_j and takes it from dL/dx_{t_e}. */
CLOSS_INLINE double RW_TYPED(multilabel_margin_row)(const closs_rw_ctx *c, int64_t i,
                                                    const int want_g, const double s)
{
    const int64_t d = c->d, *t = c->idx + i * d;
    const RW_T *x = (const RW_T *)c->x[0] + i * d;
    RW_T *g = want_g ? (RW_T *)c->g[0] + i * d : NULL;
    const RW_T gs = (RW_T)(s / (double)d);
    int64_t k = 0;
    while (k < d && t[k] >= 0) ++k;
    if (want_g)
        for (int64_t e = 0; e < k; ++e) g[t[e]] = 0;
    double sum = 0.0;
    for (int64_t j = 0; j < d; ++j) {
        int is_target = 0;
        for (int64_t e = 0; e < k; ++e) is_target |= t[e] == j;
        if (is_target) continue;
        int64_t hits = 0;
        for (int64_t e = 0; e < k; ++e) {
            const RW_T z = (RW_T)1 - x[t[e]] + x[j];
            if (z > 0) {
                sum += (double)z;
                ++hits;
                if (want_g) g[t[e]] -= gs;
            }
        }
        if (want_g) g[j] = (RW_T)hits * gs;
    }
    return sum / (double)d;
}

#define RW_NAME multilabel_margin_loss
#define RW_ROW RW_TYPED(multilabel_margin_row)
#define RW_NX 1
#define RW_NEEDS_Y 0
#define RW_CHECK multilabel_margin_check
#define RW_ARGS int64_t n, int64_t c, const RW_T *input, const int64_t *target
#define RW_GRADS RW_T *grad_input
#define RW_GRAD_PTRS grad_input
#define RW_INIT {.n = n, .d = c, .x = {input}, .idx = target, .params_ok = 1}
#include "rowwise.h"
