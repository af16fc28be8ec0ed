/*
 * _dispatch.h - the Cython layer's view of the C core's losses: every loss of
 * a family behind one signature per dtype, in one table indexed by kind.
 *
 * Adding a loss of a family to Python is one X line here; the loss's public
 * functions stay as closs.h declares them.
 */
#ifndef CLOSS_PY_DISPATCH_H
#define CLOSS_PY_DISPATCH_H

#include "closs.h"

/* A parenthesised argument list without its parentheses. */
#define CLOSS_UNPAREN(...) __VA_ARGS__
/* The leading arguments of the ctc_loss functions (closs.h), in type TYPE. */
#define CLOSS_CTC_ARGS(TYPE)                                                         \
    int64_t t, int64_t n, int64_t c, const TYPE *log_probs, const int64_t *targets, \
        int64_t s, int concatenated, const int64_t *input_lengths,                 \
        const int64_t *target_lengths, int64_t blank, int zero_infinity

/* X(name, parameters): CLOSS_PY_PARAMS_<parameters> passes the loss's
 * parameters from the uniform (aux, p0, p1, p2), CLOSS_PY_GAUX_<parameters>
 * the gradient of a differentiable aux array. */
#define CLOSS_PY_POINTWISE(X)                    \
    X(l1_loss, NONE)                             \
    X(mse_loss, NONE)                            \
    X(smooth_l1_loss, P0)                        \
    X(huber_loss, P0)                            \
    X(binary_cross_entropy, NONE)                \
    X(binary_cross_entropy_with_logits, AUX)     \
    X(soft_margin_loss, NONE)                    \
    X(hinge_embedding_loss, P0)                  \
    X(poisson_nll_loss, POISSON)                 \
    X(kl_div, FLAG0)                             \
    X(gaussian_nll_loss, GAUSSIAN)

/* op: 0 forward (fills out), 1 backward (fills gx from go), 2 fused (both). */
#define CLOSS_PY_SIGNATURE(T)                                                          \
    int op, int64_t n, const T *x, const T *y, const T *w, const T *aux, double p0,     \
        double p1, double p2, closs_reduction r, T *out, const T *go, T *gx, T *gaux
typedef closs_status (*closs_py_pointwise_f32)(CLOSS_PY_SIGNATURE(float));
typedef closs_status (*closs_py_pointwise_f64)(CLOSS_PY_SIGNATURE(double));

#define CLOSS_PY_PARAMS_NONE
#define CLOSS_PY_PARAMS_P0 p0,
#define CLOSS_PY_PARAMS_FLAG0 (int)p0,
#define CLOSS_PY_PARAMS_AUX aux,
#define CLOSS_PY_PARAMS_POISSON (int)p2, (int)p1, p0,
#define CLOSS_PY_PARAMS_GAUSSIAN aux, (int)p1, p0,
#define CLOSS_PY_GAUX_NONE
#define CLOSS_PY_GAUX_P0
#define CLOSS_PY_GAUX_FLAG0
#define CLOSS_PY_GAUX_AUX
#define CLOSS_PY_GAUX_POISSON
#define CLOSS_PY_GAUX_GAUSSIAN , gaux

#define CLOSS_PY_WRAP(name, params, T, SFX)                                             \
    static closs_status closs_py_##name##_##SFX(CLOSS_PY_SIGNATURE(T))                   \
    {                                                                                    \
        (void)aux, (void)p0, (void)p1, (void)p2, (void)gaux;                             \
        if (op == 0) return closs_##name##_##SFX(n, x, y, w, CLOSS_PY_PARAMS_##params r, out); \
        if (op == 1)                                                                     \
            return closs_##name##_backward_##SFX(n, x, y, w, CLOSS_PY_PARAMS_##params r, go,    \
                                                 gx CLOSS_PY_GAUX_##params);               \
        return closs_##name##_fused_##SFX(n, x, y, w, CLOSS_PY_PARAMS_##params r, out,        \
                                          gx CLOSS_PY_GAUX_##params);                      \
    }
#define CLOSS_PY_WRAP_BOTH(name, params) \
    CLOSS_PY_WRAP(name, params, float, f32) CLOSS_PY_WRAP(name, params, double, f64)
CLOSS_PY_POINTWISE(CLOSS_PY_WRAP_BOTH)

#define CLOSS_PY_ENTRY_F32(name, params) closs_py_##name##_f32,
#define CLOSS_PY_ENTRY_F64(name, params) closs_py_##name##_f64,
#define CLOSS_PY_NAME(name, params) #name,
static const closs_py_pointwise_f32 closs_py_pointwise_f32_table[] = {
    CLOSS_PY_POINTWISE(CLOSS_PY_ENTRY_F32)};
static const closs_py_pointwise_f64 closs_py_pointwise_f64_table[] = {
    CLOSS_PY_POINTWISE(CLOSS_PY_ENTRY_F64)};
static const char *const closs_py_pointwise_names[] = {CLOSS_PY_POINTWISE(CLOSS_PY_NAME)};
#define CLOSS_PY_POINTWISE_COUNT \
    ((int)(sizeof closs_py_pointwise_names / sizeof closs_py_pointwise_names[0]))

/*
 * Row-wise losses: X(name, target layout, (forward arguments), (gradients)),
 * the arguments named as in CLOSS_PY_ROW_SIGNATURE. Target layout: what idx
 * holds, 0 nothing, 1 one class index per row, 2 n * d class indices.
 */
#define CLOSS_PY_ROWWISE(X)                                                                 \
    X(margin_ranking_loss, 0, (n, x0, x1, y, p0), (g0, g1))                                 \
    X(cosine_embedding_loss, 0, (n, d, x0, x1, y, p0), (g0, g1))                            \
    X(multi_margin_loss, 1, (n, d, x0, idx, w, (int)p0, p1), (g0))                          \
    X(multilabel_margin_loss, 2, (n, d, x0, idx), (g0))                                     \
    X(triplet_margin_loss, 0, (n, d, x0, x1, x2, p0, p1, p2, (int)p3), (g0, g1, g2))

#define CLOSS_PY_ROW_SIGNATURE(T)                                                           \
    int op, int64_t n, int64_t d, const T *x0, const T *x1, const T *x2, const T *y,        \
        const int64_t *idx, const T *w, double p0, double p1, double p2, double p3,         \
        closs_reduction r, T *out, const T *go, T *g0, T *g1, T *g2
typedef closs_status (*closs_py_rowwise_f32)(CLOSS_PY_ROW_SIGNATURE(float));
typedef closs_status (*closs_py_rowwise_f64)(CLOSS_PY_ROW_SIGNATURE(double));

#define CLOSS_PY_ROW_WRAP(name, layout, args, grads, T, SFX)                                \
    static closs_status closs_py_##name##_##SFX(CLOSS_PY_ROW_SIGNATURE(T))                  \
    {                                                                                       \
        (void)n, (void)d, (void)x0, (void)x1, (void)x2, (void)y, (void)idx, (void)w;        \
        (void)p0, (void)p1, (void)p2, (void)p3, (void)g0, (void)g1, (void)g2;               \
        if (op == 0) return closs_##name##_##SFX(CLOSS_UNPAREN args, r, out);           \
        if (op == 1)                                                                        \
            return closs_##name##_backward_##SFX(CLOSS_UNPAREN args, r, go,              \
                                                 CLOSS_UNPAREN grads);                   \
        return closs_##name##_fused_##SFX(CLOSS_UNPAREN args, r, out,                    \
                                          CLOSS_UNPAREN grads);                          \
    }
#define CLOSS_PY_ROW_WRAP_BOTH(name, layout, args, grads)                                   \
    CLOSS_PY_ROW_WRAP(name, layout, args, grads, float, f32)                                \
    CLOSS_PY_ROW_WRAP(name, layout, args, grads, double, f64)
CLOSS_PY_ROWWISE(CLOSS_PY_ROW_WRAP_BOTH)

#define CLOSS_PY_ROW_ENTRY_F32(name, layout, args, grads) closs_py_##name##_f32,
#define CLOSS_PY_ROW_ENTRY_F64(name, layout, args, grads) closs_py_##name##_f64,
#define CLOSS_PY_ROW_NAME(name, layout, args, grads) #name,
#define CLOSS_PY_ROW_LAYOUT(name, layout, args, grads) layout,
static const closs_py_rowwise_f32 closs_py_rowwise_f32_table[] = {
    CLOSS_PY_ROWWISE(CLOSS_PY_ROW_ENTRY_F32)};
static const closs_py_rowwise_f64 closs_py_rowwise_f64_table[] = {
    CLOSS_PY_ROWWISE(CLOSS_PY_ROW_ENTRY_F64)};
static const char *const closs_py_rowwise_names[] = {CLOSS_PY_ROWWISE(CLOSS_PY_ROW_NAME)};
static const int closs_py_rowwise_layouts[] = {CLOSS_PY_ROWWISE(CLOSS_PY_ROW_LAYOUT)};
#define CLOSS_PY_ROWWISE_COUNT \
    ((int)(sizeof closs_py_rowwise_names / sizeof closs_py_rowwise_names[0]))

/* Classification losses: input (n, c, s), class indices t or probabilities tp.
 * X(name, arguments): CLOSS_PY_CL_ARGS_<arguments> passes the loss's target,
 * weight and parameters from the uniform signature. */
#define CLOSS_PY_CLASSIFICATION(X)   \
    X(nll_loss, INDICES)             \
    X(cross_entropy, INDICES_SMOOTH) \
    X(cross_entropy_prob, PROB)

#define CLOSS_PY_CL_SIGNATURE(T)                                                          \
    int op, int64_t n, int64_t c, int64_t s, const T *x, const int64_t *t, const T *tp,   \
        const T *w, int64_t ignore, double ls, closs_reduction r, T *out, const T *go,    \
        T *gx
typedef closs_status (*closs_py_classification_f32)(CLOSS_PY_CL_SIGNATURE(float));
typedef closs_status (*closs_py_classification_f64)(CLOSS_PY_CL_SIGNATURE(double));

#define CLOSS_PY_CL_ARGS_INDICES t, w, ignore,
#define CLOSS_PY_CL_ARGS_INDICES_SMOOTH t, w, ignore, ls,
#define CLOSS_PY_CL_ARGS_PROB tp, w, ls,

#define CLOSS_PY_CL_WRAP(name, args, T, SFX)                                                  \
    static closs_status closs_py_##name##_##SFX(CLOSS_PY_CL_SIGNATURE(T))                      \
    {                                                                                         \
        (void)t, (void)tp, (void)ignore, (void)ls;                                            \
        if (op == 0) return closs_##name##_##SFX(n, c, s, x, CLOSS_PY_CL_ARGS_##args r, out);  \
        if (op == 1)                                                                          \
            return closs_##name##_backward_##SFX(n, c, s, x, CLOSS_PY_CL_ARGS_##args r, go, gx); \
        return closs_##name##_fused_##SFX(n, c, s, x, CLOSS_PY_CL_ARGS_##args r, out, gx);     \
    }
#define CLOSS_PY_CL_WRAP_BOTH(name, args) \
    CLOSS_PY_CL_WRAP(name, args, float, f32) CLOSS_PY_CL_WRAP(name, args, double, f64)
CLOSS_PY_CLASSIFICATION(CLOSS_PY_CL_WRAP_BOTH)

static const closs_py_classification_f32 closs_py_classification_f32_table[] = {
    CLOSS_PY_CLASSIFICATION(CLOSS_PY_ENTRY_F32)};
static const closs_py_classification_f64 closs_py_classification_f64_table[] = {
    CLOSS_PY_CLASSIFICATION(CLOSS_PY_ENTRY_F64)};
static const char *const closs_py_classification_names[] = {
    CLOSS_PY_CLASSIFICATION(CLOSS_PY_NAME)};
#define CLOSS_PY_CLASSIFICATION_COUNT \
    ((int)(sizeof closs_py_classification_names / sizeof closs_py_classification_names[0]))

/* ctc_loss: the three functions of a dtype behind one signature (op as above). */
#define CLOSS_PY_CTC_NAMES                                                                  \
    t, n, c, log_probs, targets, s, concatenated, input_lengths, target_lengths, blank,    \
        zero_infinity, r
#define CLOSS_PY_CTC_WRAP(T, SFX)                                                          \
    static closs_status closs_py_ctc_##SFX(int op, CLOSS_CTC_ARGS(T), closs_reduction r,    \
                                           T *out, const T *go, T *grad)                   \
    {                                                                                      \
        if (op == 0) return closs_ctc_loss_##SFX(CLOSS_PY_CTC_NAMES, out);                 \
        if (op == 1) return closs_ctc_loss_backward_##SFX(CLOSS_PY_CTC_NAMES, go, grad);   \
        return closs_ctc_loss_fused_##SFX(CLOSS_PY_CTC_NAMES, out, grad);                  \
    }
CLOSS_PY_CTC_WRAP(float, f32)
CLOSS_PY_CTC_WRAP(double, f64)

#endif
