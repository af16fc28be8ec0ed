/*
 * pointwise.h - the template of every element-wise loss L(x_i, y_i) * w_i.
 *
 * Included once per loss and dtype (pointwise_loss.h does both dtypes) with:
 *   PW_NAME          the loss's name, e.g. mse_loss
 *   PW_T, PW_SFX     the element type and its suffix: float f32 or double f64
 *   PW_POINT(x, y, a, v, g)
 *                    a statement setting v = L(x, y) and g = dL/dx, in PW_T; the
 *                    unused one is removed by the compiler. The loss's
 *                    parameters are in scope as PW_T p0, p1, p2, and a is the
 *                    element of the optional aux array (PW_AUX_ABSENT without one)
 *   PW_PARAM         the public parameter declarations, each followed by a comma
 *                    (undefined for a loss without parameters)
 *   PW_P0, PW_P1, PW_P2  the parameters as doubles (0.0 when unused)
 *   PW_PARAM_OK      true when the parameters are in the loss's domain
 *   PW_MEAN_BY_WSUM  1 when a weighted MEAN divides by the weight sum, 0 for n
 *   PW_PARALLEL_MIN  optional: CLOSS_COMPUTE_PARALLEL_MIN for a loss with an exp
 *                    or log per element (default CLOSS_STREAM_PARALLEL_MIN)
 * and, for a loss with a second per-element array (pos_weight ...):
 *   PW_HAS_AUX 1, PW_AUX its parameter's name, PW_AUX_ABSENT its value when NULL,
 *   PW_AUX_REQUIRED 1 when it may not be NULL, and when it is differentiable
 *   PW_AUX_GRAD(x, y, a, ga) setting ga = dL/da, with PW_AUX_GRAD_OUT the name of
 *   the extra gradient parameter that backward and fused functions then take
 *   (NULL: not wanted);
 * and, for a loss whose inputs have a domain (binary_cross_entropy):
 *   PW_DOMAIN(x, y, a)  true when an element is inside it; PW_POINT gives NaN
 *                    outside, so value and fused kernels also sum their values
 *                    and a NaN sum makes the driver look for the culprit.
 *
 * It defines the three public functions closs_<name>[_backward|_fused]_<sfx>.
 * Every loop variant (aux or not, weight or not, per-element grad_output or
 * scalar, value stored or summed) is its own block kernel, so no hot loop tests
 * a flag.
 */
#include <tgmath.h>

#define PW_FN(part) CLOSS_CAT3(PW_NAME, _##part##_, PW_SFX)
#define PW_PUBLIC(op) CLOSS_CAT3(closs_, PW_NAME, CLOSS_CAT(op, PW_SFX))
#define PW_IS_F64 (sizeof(PW_T) == sizeof(double))

#ifdef PW_AUX_GRAD
#define PW_DIFF_AUX 1
#define PW_AUX_GRAD_POINT PW_AUX_GRAD
#define PW_AUX_GRAD_DECL , PW_T *PW_AUX_GRAD_OUT
#define PW_AUX_GRAD_PTR PW_AUX_GRAD_OUT
#else
#define PW_DIFF_AUX 0
#define PW_AUX_GRAD_POINT(x, y, a, ga) ga = 0
#define PW_AUX_GRAD_DECL
#define PW_AUX_GRAD_PTR NULL
#endif

/* One element: the flags are compile-time constants in every caller. */
#define PW_STEP(j, acc)                                                   \
    do {                                                                  \
        PW_T v_, g_;                                                      \
        const PW_T a_ = has_a ? aux[j] : (PW_T)(PW_AUX_ABSENT);           \
        (void)a_;                                                         \
        PW_POINT(x[j], y[j], a_, v_, g_);                                 \
        if (has_w) {                                                      \
            v_ *= w[j];                                                   \
            g_ *= w[j];                                                   \
        }                                                                 \
        if (store_v) out[j] = v_;                                         \
        if (want_g) gx[j] = go_vec ? g_ * go[j] : g_ * gs;                \
        if (want_g && PW_DIFF_AUX && gaux) { /* loop-invariant: unswitched */ \
            PW_T ga_;                                                     \
            PW_AUX_GRAD_POINT(x[j], y[j], a_, ga_);                       \
            if (has_w) ga_ *= w[j];                                       \
            gaux[j] = go_vec ? ga_ * go[j] : ga_ * gs;                    \
        }                                                                 \
        if (sum_v) acc += (double)v_;                                     \
    } while (0)

CLOSS_INLINE double PW_FN(body)(const void *ctx, int64_t b, int64_t e, const int has_a,
                                const int has_w, const int store_v, const int sum_v,
                                const int want_g, const int go_vec)
{
    const closs_pw_ctx *c = (const closs_pw_ctx *)ctx;
    const PW_T *restrict x = (const PW_T *)c->x;
    const PW_T *restrict y = (const PW_T *)c->y;
    const PW_T *restrict w = (const PW_T *)c->w;
    const PW_T *restrict aux = (const PW_T *)c->aux;
    const PW_T *restrict go = (const PW_T *)c->go;
    PW_T *restrict out = (PW_T *)c->out;
    PW_T *restrict gx = (PW_T *)c->gx;
    PW_T *restrict gaux = (PW_T *)c->gaux;
    const PW_T p0 = (PW_T)c->p0, p1 = (PW_T)c->p1, p2 = (PW_T)c->p2, gs = (PW_T)c->gscale;
    (void)p0, (void)p1, (void)p2, (void)w, (void)aux, (void)go, (void)out, (void)gx, (void)gaux, (void)gs;
    double acc[CLOSS_LANES] = {0};
    int64_t i = b;
    for (; i + CLOSS_LANES <= e; i += CLOSS_LANES)
        for (int k = 0; k < CLOSS_LANES; ++k) PW_STEP(i + k, acc[k]);
    for (; i < e; ++i) PW_STEP(i, acc[0]);
    return closs_lanes_sum(acc);
}

/* The block kernels of one aux choice A: (has_w, store_v, sum_v, want_g, go_vec). */
#define PW_KERNEL(A, suffix, ...)                                                     \
    static CLOSS_KERNEL double PW_FN(suffix##_a##A)(const void *c, int64_t b,         \
                                                    int64_t e)                        \
    {                                                                                 \
        return PW_FN(body)(c, b, e, A, __VA_ARGS__);                                  \
    }
#define PW_KERNELS(A)                          \
    PW_KERNEL(A, value, 0, 1, PW_CHECKS, 0, 0) \
    PW_KERNEL(A, value_w, 1, 1, PW_CHECKS, 0, 0) \
    PW_KERNEL(A, sum, 0, 0, 1, 0, 0)           \
    PW_KERNEL(A, sum_w, 1, 0, 1, 0, 0)         \
    PW_KERNEL(A, grad, 0, 0, 0, 1, 0)          \
    PW_KERNEL(A, grad_w, 1, 0, 0, 1, 0)        \
    PW_KERNEL(A, grad_go, 0, 0, 0, 1, 1)       \
    PW_KERNEL(A, grad_go_w, 1, 0, 0, 1, 1)     \
    PW_KERNEL(A, fused, 0, 1, PW_CHECKS, 1, 0) \
    PW_KERNEL(A, fused_w, 1, 1, PW_CHECKS, 1, 0) \
    PW_KERNEL(A, fused_sum, 0, 0, 1, 1, 0)     \
    PW_KERNEL(A, fused_sum_w, 1, 0, 1, 1, 0)
/* A table row of one aux choice: [has weight]. */
#define PW_ROW(A, name) {PW_FN(name##_a##A), PW_FN(name##_w_a##A)}

#ifdef PW_DOMAIN
#define PW_CHECKS 1
/* Counts the elements outside the domain; run only after a NaN sum. */
static double PW_FN(outside)(const void *ctx, int64_t b, int64_t e)
{
    const closs_pw_ctx *c = (const closs_pw_ctx *)ctx;
    const PW_T *x = (const PW_T *)c->x, *y = (const PW_T *)c->y, *aux = (const PW_T *)c->aux;
    double count = 0;
    for (int64_t j = b; j < e; ++j) {
        const PW_T a = aux ? aux[j] : (PW_T)(PW_AUX_ABSENT);
        (void)a, (void)x, (void)y;
        count += !(PW_DOMAIN(x[j], y[j], a));
    }
    return count;
}
#define PW_OUTSIDE PW_FN(outside)
#else
#define PW_CHECKS 0
#define PW_OUTSIDE NULL
#endif

PW_KERNELS(0)
#if PW_HAS_AUX
PW_KERNELS(1)
#define PW_AUX_ROW(name) PW_ROW(1, name)
#define PW_AUX_GRADS {PW_ROW(1, grad), PW_ROW(1, grad_go)}
#else
#define PW_AUX_ROW(name) {NULL, NULL}
#define PW_AUX_GRADS {{NULL, NULL}, {NULL, NULL}}
#endif

static const closs_pw_kernels PW_FN(kernels) = {
    .value = {PW_ROW(0, value), PW_AUX_ROW(value)},
    .sum = {PW_ROW(0, sum), PW_AUX_ROW(sum)},
    .grad = {{PW_ROW(0, grad), PW_ROW(0, grad_go)}, PW_AUX_GRADS},
    .fused = {PW_ROW(0, fused), PW_AUX_ROW(fused)},
    .fused_sum = {PW_ROW(0, fused_sum), PW_AUX_ROW(fused_sum)},
    .outside = PW_OUTSIDE,
    .mean_by_wsum = PW_MEAN_BY_WSUM,
    .parallel_min = PW_PARALLEL_MIN,
};

/* The checks of every public function. */
#define PW_CHECK_CALL()                                                                 \
    do {                                                                                \
        CLOSS_REQUIRE(n <= 0 || !PW_AUX_REQUIRED || PW_AUX, CLOSS_ERR_NULL_POINTER);    \
        CLOSS_REQUIRE(PW_PARAM_OK, CLOSS_ERR_INVALID_ARGUMENT);                         \
    } while (0)

closs_status PW_PUBLIC(_)(int64_t n, const PW_T *input, const PW_T *target,
                          const PW_T *weight, PW_PARAM closs_reduction reduction,
                          PW_T *out)
{
    PW_CHECK_CALL();
    const closs_pw_args a = {n, input, target, weight, PW_AUX, NULL, PW_P0, PW_P1, PW_P2, reduction, PW_IS_F64};
    return closs_pw_forward(&PW_FN(kernels), &a, out);
}

closs_status PW_PUBLIC(_backward_)(int64_t n, const PW_T *input, const PW_T *target,
                                   const PW_T *weight, PW_PARAM closs_reduction reduction,
                                   const PW_T *grad_output, PW_T *grad_input PW_AUX_GRAD_DECL)
{
    PW_CHECK_CALL();
    const closs_pw_args a = {n, input, target, weight, PW_AUX, PW_AUX_GRAD_PTR, PW_P0, PW_P1, PW_P2, reduction, PW_IS_F64};
    return closs_pw_backward(&PW_FN(kernels), &a, grad_output, grad_input);
}

closs_status PW_PUBLIC(_fused_)(int64_t n, const PW_T *input, const PW_T *target,
                                const PW_T *weight, PW_PARAM closs_reduction reduction,
                                PW_T *out, PW_T *grad_input PW_AUX_GRAD_DECL)
{
    PW_CHECK_CALL();
    const closs_pw_args a = {n, input, target, weight, PW_AUX, PW_AUX_GRAD_PTR, PW_P0, PW_P1, PW_P2, reduction, PW_IS_F64};
    return closs_pw_fused(&PW_FN(kernels), &a, out, grad_input);
}

#undef PW_STEP
#undef PW_CHECK_CALL
#undef PW_DIFF_AUX
#undef PW_AUX_GRAD_POINT
#undef PW_AUX_GRAD_DECL
#undef PW_AUX_GRAD_PTR
#undef PW_CHECKS
#undef PW_OUTSIDE
#undef PW_KERNEL
#undef PW_KERNELS
#undef PW_ROW
#undef PW_AUX_ROW
#undef PW_AUX_GRADS
#undef PW_FN
#undef PW_PUBLIC
#undef PW_IS_F64
