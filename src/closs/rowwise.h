/*
 * rowwise.h - the template of every row-wise loss: block kernels over rows and
 * the three public functions, for one loss and one dtype.
 *
 * A family's rows header (margin_rows.h, embedding_rows.h), included once per
 * dtype by rowwise_dtypes.h, defines each loss's row function and includes
 * this file after defining:
 *   RW_T, RW_SFX   the element type and its suffix (set by rowwise_dtypes.h)
 *   RW_NAME        the loss's name, e.g. triplet_margin_loss
 *   RW_ROW         the row function:
 *                    double row(const closs_rw_ctx *c, int64_t i, int want_g, double s)
 *                  returns the value of row i in double and, when want_g (a
 *                  compile-time constant in every caller), writes the row's
 *                  gradients times s into c->g
 *   RW_ELEMENTWISE 1 when rows are single elements (the block loop then
 *                  vectorises across rows), else 0
 *   RW_NX          its differentiable inputs (1 to 3), in argument order
 *   RW_NEEDS_Y     1 when per-row target values are required
 *   RW_CHECK       a closs_sums_fn counting out-of-range class indices, or NULL
 *   RW_ARGS        the public parameters before the reduction
 *   RW_GRADS       the gradient parameters of backward and fused, RW_GRAD_PTRS their names
 *   RW_INIT        a closs_rw_args initializer from RW_ARGS (reduction and dtype
 *                  are filled in here)
 *
 * It defines closs_<name>_<sfx>, closs_<name>_backward_<sfx> and
 * closs_<name>_fused_<sfx>. Each loop variant (value stored or summed,
 * gradient or not, per-row grad_output or a scalar) is its own block kernel, so
 * no row loop tests a flag.
 */

#define RW_FN(part) CLOSS_CAT3(RW_NAME, _##part##_, RW_SFX)
#define RW_PUBLIC(op) CLOSS_CAT3(closs_, RW_NAME, CLOSS_CAT(op, RW_SFX))

CLOSS_INLINE void RW_FN(body)(const void *ctx, int64_t b, int64_t e, double *sums,
                              const int store_v, const int sum_v, const int want_g,
                              const int go_vec)
{
    const closs_rw_ctx *c = (const closs_rw_ctx *)ctx;
    const RW_T *restrict go = (const RW_T *)c->go;
    RW_T *restrict out = (RW_T *)c->out;
    (void)go, (void)out;
    double acc[CLOSS_LANES] = {0};
#define RW_STEP(i, a)                                                                \
    do {                                                                             \
        const double v_ = RW_ROW(c, i, want_g, go_vec ? (double)go[i] : c->gscale); \
        if (store_v) out[i] = (RW_T)v_;                                              \
        if (sum_v) a += v_;                                                          \
    } while (0)
    int64_t i = b;
#if RW_ELEMENTWISE
    /* rows of one element, CLOSS_LANES at a time with an accumulator each: the
     * loop vectorises across rows like an element-wise loss */
    for (; i + CLOSS_LANES <= e; i += CLOSS_LANES)
        for (int k = 0; k < CLOSS_LANES; ++k) RW_STEP(i + k, acc[k]);
#endif
    for (; i < e; ++i) RW_STEP(i, acc[0]);
#undef RW_STEP
    sums[0] = closs_lanes_sum(acc);
}

/* The block kernels: (store_v, sum_v, want_g, go_vec). */
#define RW_KERNEL(suffix, ...)                                                          \
    static CLOSS_KERNEL void RW_FN(suffix)(const void *c, int64_t b, int64_t e, double *s) \
    {                                                                                   \
        RW_FN(body)(c, b, e, s, __VA_ARGS__);                                           \
    }
RW_KERNEL(value, 1, 0, 0, 0)
RW_KERNEL(sum, 0, 1, 0, 0)
RW_KERNEL(grad, 0, 0, 1, 0)
RW_KERNEL(grad_go, 0, 0, 1, 1)
RW_KERNEL(fused, 1, 0, 1, 0)
RW_KERNEL(fused_sum, 0, 1, 1, 0)
#undef RW_KERNEL

static const closs_rw_kernels RW_FN(kernels) = {
    .value = RW_FN(value),
    .sum = RW_FN(sum),
    .grad = RW_FN(grad),
    .grad_go = RW_FN(grad_go),
    .fused = RW_FN(fused),
    .fused_sum = RW_FN(fused_sum),
    .check = RW_CHECK,
    .nx = RW_NX,
    .needs_y = RW_NEEDS_Y,
};

static closs_rw_args RW_FN(args)(closs_rw_args a, closs_reduction reduction)
{
    a.reduction = reduction;
    a.is_f64 = sizeof(RW_T) == sizeof(double);
    return a;
}

closs_status RW_PUBLIC(_)(RW_ARGS, closs_reduction reduction, RW_T *out)
{
    const closs_rw_args a = RW_FN(args)((closs_rw_args)RW_INIT, reduction);
    return closs_rw_forward(&RW_FN(kernels), &a, out);
}

closs_status RW_PUBLIC(_backward_)(RW_ARGS, closs_reduction reduction,
                                   const RW_T *grad_output, RW_GRADS)
{
    const closs_rw_args a = RW_FN(args)((closs_rw_args)RW_INIT, reduction);
    void *const g[CLOSS_RW_MAX_INPUTS] = {RW_GRAD_PTRS};
    return closs_rw_backward(&RW_FN(kernels), &a, grad_output, g);
}

closs_status RW_PUBLIC(_fused_)(RW_ARGS, closs_reduction reduction, RW_T *out, RW_GRADS)
{
    const closs_rw_args a = RW_FN(args)((closs_rw_args)RW_INIT, reduction);
    void *const g[CLOSS_RW_MAX_INPUTS] = {RW_GRAD_PTRS};
    return closs_rw_fused(&RW_FN(kernels), &a, out, g);
}

#undef RW_FN
#undef RW_PUBLIC
#undef RW_NAME
#undef RW_ROW
#undef RW_ELEMENTWISE
#undef RW_NX
#undef RW_NEEDS_Y
#undef RW_CHECK
#undef RW_ARGS
#undef RW_GRADS
#undef RW_GRAD_PTRS
#undef RW_INIT
