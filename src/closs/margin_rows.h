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
#define RW_ELEMENTWISE 1
#define RW_NX 2
#define RW_NEEDS_Y 1
#define RW_CHECK NULL
#define RW_ARGS int64_t n, const RW_T *input1, const RW_T *input2, const RW_T *target, double margin
#define RW_GRADS RW_T *grad_input1, RW_T *grad_input2
#define RW_GRAD_PTRS grad_input1, grad_input2
#define RW_INIT {.n = n, .d = 1, .x = {input1, input2}, .y = target, .p = {margin}, .params_ok = 1}
#include "rowwise.h"

/* The hinge terms h(z_j) of a multi_margin row over classes [j0, j1), where
 * z_j = a + x_j (a = margin - x_t) and h(z) = z (sq = 0) or z^2 (sq = 1) when
 * z > 0, else 0: their sum. */
CLOSS_INLINE double RW_TYPED(multi_margin_hinges)(const RW_T *restrict x, int64_t j0,
                                                  int64_t j1, const RW_T a, const int sq)
{
    double sum;
    x += j0;
#define MM_Z(j) (a + x[j])
    CLOSS_SUM_LANES(sum, j1 - j0, j, MM_Z(j) > 0 ? (sq ? MM_Z(j) * MM_Z(j) : MM_Z(j)) : 0);
    return sum;
}

/* Their gradients g_j = gs h'(z_j) written over [j0, j1); returns their sum. A
 * separate pass from the value's (over the same row, in L1). */
CLOSS_INLINE double RW_TYPED(multi_margin_slopes)(const RW_T *restrict x, RW_T *restrict g,
                                                  int64_t j0, int64_t j1, const RW_T a,
                                                  const int sq, const RW_T gs)
{
    double sum;
    x += j0, g += j0;
    CLOSS_SUM_LANES(sum, j1 - j0, j, g[j] = MM_Z(j) > 0 ? (sq ? 2 * gs * MM_Z(j) : gs) : 0);
#undef MM_Z
    return sum;
}

/* One multi_margin row for p = 1 (sq = 0) or 2 (sq = 1): classes [0, t) and
 * (t, d) on either side of the target. */
CLOSS_INLINE double RW_TYPED(multi_margin_rowp)(const RW_T *restrict x, RW_T *restrict g,
                                                const int64_t d, const int64_t t, const RW_T a,
                                                const int sq, const int want_g, const RW_T gs)
{
    if (want_g)
        g[t] = (RW_T) - (RW_TYPED(multi_margin_slopes)(x, g, 0, t, a, sq, gs) +
                         RW_TYPED(multi_margin_slopes)(x, g, t + 1, d, a, sq, gs));
    return RW_TYPED(multi_margin_hinges)(x, 0, t, a, sq) +
           RW_TYPED(multi_margin_hinges)(x, t + 1, d, a, sq);
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
    const double hsum = c->p[0] == 2 ? RW_TYPED(multi_margin_rowp)(x, g, d, t, a, 1, want_g, gs)
                                     : RW_TYPED(multi_margin_rowp)(x, g, d, t, a, 0, want_g, gs);
    return hsum * wt / (double)d;
}

#define RW_NAME multi_margin_loss
#define RW_ROW RW_TYPED(multi_margin_row)
#define RW_ELEMENTWISE 0
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

/* sum over j in [0, len) of the hinge max(0, a + x_j) where listed[j] is 0.
 * (The flags have x's width, so that the loop vectorises.) ML_ON loads both
 * operands unconditionally (`&`, not `&&`): GCC 12 at -O3 with AVX2 turns the
 * short-circuit load of listed[j] into masked loads and gives every 4-lane
 * group of the 16-accumulator loop the first group's mask (a wrong sum for
 * rows of 16+ classes with several targets; tests/test_class_counts.py). */
CLOSS_INLINE double RW_TYPED(multilabel_hinges)(const RW_T *restrict x,
                                                const RW_T *restrict listed,
                                                const int64_t len, const RW_T a)
{
    double sum;
#define ML_ON(j) ((a + x[j] > 0) & (listed[j] == 0))
    CLOSS_SUM_LANES(sum, len, j, ML_ON(j) ? a + x[j] : 0);
    return sum;
}

/* Adds gs to g_j for each j of [0, len) whose hinge above is active; returns
 * how many are (a separate pass from the value's). */
CLOSS_INLINE double RW_TYPED(multilabel_slopes)(const RW_T *restrict x, RW_T *restrict g,
                                                const RW_T *restrict listed,
                                                const int64_t len, const RW_T a, const RW_T gs)
{
    double count;
    CLOSS_SUM_LANES(count, len, j, (g[j] += ML_ON(j) ? gs : 0, ML_ON(j)));
#undef ML_ON
    return count;
}

/* Classes per pass of a multilabel row: its "is a target" flags live on the stack. */
#define ML_CHUNK 1024

/* multilabel_margin_loss, a row of d classes whose targets t_0 .. t_{k-1} end
 * at the first negative entry (validated: all in [-1, d)):
 * L = 1/d sum_e sum_{j not a target} max(0, 1 - x_{t_e} + x_j), a duplicate
 * target counting twice; each active pair adds 1/d to dL/dx_j and takes it
 * from dL/dx_{t_e}. The classes are taken ML_CHUNK at a time, with a flag per
 * class of the chunk telling the targets, so that the loops over classes
 * vectorise and no memory is allocated. */
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
        for (int64_t j = 0; j < d; ++j) g[j] = 0;
    double sum = 0.0;
    RW_T listed[ML_CHUNK];
    for (int64_t c0 = 0; c0 < d; c0 += ML_CHUNK) {
        const int64_t len = d - c0 < ML_CHUNK ? d - c0 : ML_CHUNK;
        for (int64_t j = 0; j < len; ++j) listed[j] = 0;
        for (int64_t e = 0; e < k; ++e)
            if (t[e] >= c0 && t[e] < c0 + len) listed[t[e] - c0] = 1;
        for (int64_t e = 0; e < k; ++e) {
            const RW_T a = (RW_T)1 - x[t[e]];
            sum += RW_TYPED(multilabel_hinges)(x + c0, listed, len, a);
            if (want_g)
                g[t[e]] -= gs * (RW_T)RW_TYPED(multilabel_slopes)(x + c0, g + c0, listed, len, a, gs);
        }
    }
    return sum / (double)d;
}

#define RW_NAME multilabel_margin_loss
#define RW_ROW RW_TYPED(multilabel_margin_row)
#define RW_ELEMENTWISE 0
#define RW_NX 1
#define RW_NEEDS_Y 0
#define RW_CHECK multilabel_margin_check
#define RW_ARGS int64_t n, int64_t c, const RW_T *input, const int64_t *target
#define RW_GRADS RW_T *grad_input
#define RW_GRAD_PTRS grad_input
#define RW_INIT {.n = n, .d = c, .x = {input}, .idx = target, .params_ok = 1}
#include "rowwise.h"
