/*
 * pointwise.h - the template of every element-wise loss L(x_i, y_i) * w_i.
 *
 * Included once per loss and dtype (pointwise_loss.h does both dtypes) with:
 *   PW_NAME          the loss's name, e.g. mse_loss
 *   PW_T, PW_SFX     the element type and its suffix: float f32 or double f64
 *   PW_POINT(x, y, p0, p1, v, g)
 *                    a statement setting v = L(x, y) and g = dL/dx, in PW_T; the
 *                    unused one is removed by the compiler
 *   PW_PARAM         the public parameter declaration and a comma (undefined
 *                    for a loss without parameters, with the next two)
 *   PW_P0, PW_P1     the parameters as doubles (0.0 when unused)
 *   PW_PARAM_OK      true when the parameters are in the loss's domain
 *   PW_MEAN_BY_WSUM  1 when a weighted MEAN divides by the weight sum, 0 for n
 *
 * It defines the three public functions closs_<name>[_backward|_fused]_<sfx>.
 * Every loop variant (weight or not, per-element grad_output or scalar, value
 * stored or summed) is its own block kernel, so no hot loop tests a flag.
 */
#include <tgmath.h>

#define PW_FN(part) CLOSS_CAT3(PW_NAME, _##part##_, PW_SFX)
#define PW_PUBLIC(op) CLOSS_CAT3(closs_, PW_NAME, CLOSS_CAT(op, PW_SFX))
#define PW_IS_F64 (sizeof(PW_T) == sizeof(double))

/* One element: the flags are compile-time constants in every caller. */
#define PW_STEP(j, acc)                                                   \
    do {                                                                  \
        PW_T v_, g_;                                                      \
        PW_POINT(x[j], y[j], p0, p1, v_, g_);                             \
        if (has_w) {                                                      \
            v_ *= w[j];                                                   \
            g_ *= w[j];                                                   \
        }                                                                 \
        if (store_v) out[j] = v_;                                         \
        if (want_g) gx[j] = go_vec ? g_ * go[j] : g_ * gs;                \
        if (sum_v) acc += (double)v_;                                     \
    } while (0)

CLOSS_INLINE double PW_FN(body)(const void *ctx, int64_t b, int64_t e, const int has_w,
                                const int store_v, const int sum_v, const int want_g,
                                const int go_vec)
{
    const closs_pw_ctx *c = (const closs_pw_ctx *)ctx;
    const PW_T *restrict x = (const PW_T *)c->x;
    const PW_T *restrict y = (const PW_T *)c->y;
    const PW_T *restrict w = (const PW_T *)c->w;
    const PW_T *restrict go = (const PW_T *)c->go;
    PW_T *restrict out = (PW_T *)c->out;
    PW_T *restrict gx = (PW_T *)c->gx;
    const PW_T p0 = (PW_T)c->p0, p1 = (PW_T)c->p1, gs = (PW_T)c->gscale;
    (void)p0, (void)p1, (void)w, (void)go, (void)out, (void)gx, (void)gs;
    double acc[CLOSS_LANES] = {0};
    int64_t i = b;
    for (; i + CLOSS_LANES <= e; i += CLOSS_LANES)
        for (int k = 0; k < CLOSS_LANES; ++k) PW_STEP(i + k, acc[k]);
    for (; i < e; ++i) PW_STEP(i, acc[0]);
    return closs_lanes_sum(acc);
}

/* The block kernels: (has_w, store_v, sum_v, want_g, go_vec). */
#define PW_KERNEL(suffix, ...)                                                   \
    static CLOSS_KERNEL double PW_FN(suffix)(const void *c, int64_t b, int64_t e) \
    {                                                                            \
        return PW_FN(body)(c, b, e, __VA_ARGS__);                                \
    }
PW_KERNEL(value, 0, 1, 0, 0, 0)
PW_KERNEL(value_w, 1, 1, 0, 0, 0)
PW_KERNEL(sum, 0, 0, 1, 0, 0)
PW_KERNEL(sum_w, 1, 0, 1, 0, 0)
PW_KERNEL(grad, 0, 0, 0, 1, 0)
PW_KERNEL(grad_w, 1, 0, 0, 1, 0)
PW_KERNEL(grad_go, 0, 0, 0, 1, 1)
PW_KERNEL(grad_w_go, 1, 0, 0, 1, 1)
PW_KERNEL(fused, 0, 1, 0, 1, 0)
PW_KERNEL(fused_w, 1, 1, 0, 1, 0)
PW_KERNEL(fused_sum, 0, 0, 1, 1, 0)
PW_KERNEL(fused_sum_w, 1, 0, 1, 1, 0)
#undef PW_KERNEL

static const closs_pw_kernels PW_FN(kernels) = {
    .value = {PW_FN(value), PW_FN(value_w)},
    .sum = {PW_FN(sum), PW_FN(sum_w)},
    .grad = {{PW_FN(grad), PW_FN(grad_go)}, {PW_FN(grad_w), PW_FN(grad_w_go)}},
    .fused = {PW_FN(fused), PW_FN(fused_w)},
    .fused_sum = {PW_FN(fused_sum), PW_FN(fused_sum_w)},
    .mean_by_wsum = PW_MEAN_BY_WSUM,
};

closs_status PW_PUBLIC(_)(int64_t n, const PW_T *input, const PW_T *target,
                          const PW_T *weight, PW_PARAM closs_reduction reduction,
                          PW_T *out)
{
    CLOSS_REQUIRE(PW_PARAM_OK, CLOSS_ERR_INVALID_ARGUMENT);
    const closs_pw_args a = {n, input, target, weight, PW_P0, PW_P1, reduction, PW_IS_F64};
    return closs_pw_forward(&PW_FN(kernels), &a, out);
}

closs_status PW_PUBLIC(_backward_)(int64_t n, const PW_T *input, const PW_T *target,
                                   const PW_T *weight, PW_PARAM closs_reduction reduction,
                                   const PW_T *grad_output, PW_T *grad_input)
{
    CLOSS_REQUIRE(PW_PARAM_OK, CLOSS_ERR_INVALID_ARGUMENT);
    const closs_pw_args a = {n, input, target, weight, PW_P0, PW_P1, reduction, PW_IS_F64};
    return closs_pw_backward(&PW_FN(kernels), &a, grad_output, grad_input);
}

closs_status PW_PUBLIC(_fused_)(int64_t n, const PW_T *input, const PW_T *target,
                                const PW_T *weight, PW_PARAM closs_reduction reduction,
                                PW_T *out, PW_T *grad_input)
{
    CLOSS_REQUIRE(PW_PARAM_OK, CLOSS_ERR_INVALID_ARGUMENT);
    const closs_pw_args a = {n, input, target, weight, PW_P0, PW_P1, reduction, PW_IS_F64};
    return closs_pw_fused(&PW_FN(kernels), &a, out, grad_input);
}

#undef PW_STEP
#undef PW_FN
#undef PW_PUBLIC
#undef PW_IS_F64
