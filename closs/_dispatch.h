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

#define CLOSS_PY_ENTRY_F32(name, params) closs_py_##name##_f32,
#define CLOSS_PY_ENTRY_F64(name, params) closs_py_##name##_f64,
#define CLOSS_PY_NAME(name, params) #name,
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
