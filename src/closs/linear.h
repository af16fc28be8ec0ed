/*
 * linear.h - the template of linear_cross_entropy's dtype-specific parts: the
 * GEMM tiles (one BLAS call each), the bias gradient's column sums and the
 * public functions of closs.h, thin wrappers over closs_linear_call.
 * Included by linear.c through closs_instantiate.h once per dtype (CLOSS_T,
 * CLOSS_SFX, CLOSS_IS_F64).
 */
#include <string.h>

#if CLOSS_IS_F64
#define LIN_GEMM CLOSS_BLAS(cblas_dgemm)
#else
#define LIN_GEMM CLOSS_BLAS(cblas_sgemm)
#endif

/* Tiles [b, e) of the product g describes (row-major tiles q = (qi, qj)). */
static void CLOSS_FN(lin_gemm_tiles)(const void *ctx, int64_t b, int64_t e, double *sums)
{
    (void)sums;
    const lin_gemm *g = (const lin_gemm *)ctx;
    const CLOSS_T *A = (const CLOSS_T *)g->a, *B = (const CLOSS_T *)g->b;
    const CLOSS_T *bias = (const CLOSS_T *)g->bias;
    CLOSS_T *C = (CLOSS_T *)g->c;
    for (int64_t q = b; q < e; ++q) {
        const int64_t i0 = q / g->tiles_n * g->tm, j0 = q % g->tiles_n * g->tn;
        const int64_t mm = g->m - i0 < g->tm ? g->m - i0 : g->tm;
        const int64_t nn = g->n - j0 < g->tn ? g->n - j0 : g->tn;
        CLOSS_T *c = C + i0 * g->ldc + j0;
        double beta = g->beta;
        if (bias) { /* the bias first, then the product added to it */
            for (int64_t i = 0; i < mm; ++i)
                memcpy(c + i * g->ldc, bias + j0, (size_t)nn * sizeof(CLOSS_T));
            beta = 1.0;
        }
        if (g->k == 0) { /* an empty sum: C = beta C, without asking BLAS (lda 0) */
            if (beta == 0.0)
                for (int64_t i = 0; i < mm; ++i) memset(c + i * g->ldc, 0, (size_t)nn * sizeof(CLOSS_T));
            continue;
        }
        LIN_GEMM(CLOSS_CBLAS_ROW_MAJOR, g->ta ? CLOSS_CBLAS_TRANS : CLOSS_CBLAS_NO_TRANS,
                 g->tb ? CLOSS_CBLAS_TRANS : CLOSS_CBLAS_NO_TRANS, (closs_blas_int)mm,
                 (closs_blas_int)nn, (closs_blas_int)g->k, (CLOSS_T)1,
                 g->ta ? A + i0 : A + i0 * g->lda, (closs_blas_int)g->lda,
                 g->tb ? B + j0 * g->ldb : B + j0, (closs_blas_int)g->ldb, (CLOSS_T)beta, c,
                 (closs_blas_int)g->ldc);
    }
}

/* Column tiles [b, e) of acc[j] += sum_r G[r][j], rows in order: each column's
 * sum runs over the batch's rows in their order, whatever the blocks. */
static void CLOSS_FN(lin_colsum_tiles)(const void *ctx, int64_t b, int64_t e, double *sums)
{
    (void)sums;
    const lin_colsum *cs = (const lin_colsum *)ctx;
    const CLOSS_T *G = (const CLOSS_T *)cs->g;
    for (int64_t q = b; q < e; ++q) {
        const int64_t j0 = q * cs->tile, len = cs->v - j0 < cs->tile ? cs->v - j0 : cs->tile;
        double *restrict acc = cs->acc + j0;
        for (int64_t r = 0; r < cs->rows; ++r) {
            const CLOSS_T *restrict gr = G + r * cs->v + j0;
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) acc[j] += (double)gr[j];
        }
    }
}

static void CLOSS_FN(lin_store)(int64_t n, const double *acc, void *out)
{
    CLOSS_T *o = (CLOSS_T *)out;
    for (int64_t j = 0; j < n; ++j) o[j] = (CLOSS_T)acc[j];
}

static const lin_kernels CLOSS_FN(lin_kernels) = {
    .gemm = CLOSS_FN(lin_gemm_tiles),
    .colsum = CLOSS_FN(lin_colsum_tiles),
    .store = CLOSS_FN(lin_store),
    .size = sizeof(CLOSS_T),
    .is_f64 = CLOSS_IS_F64,
};

/* ---------------------------------------------------------------- public */

#define LIN_DTYPE (CLOSS_IS_F64 ? CLOSS_F64 : CLOSS_F32)
/* The four functions of closs.h for one kind of target: `target` of type
 * TARGET, stored in the arguments' field FIELD; (PARAMS) the options between
 * weight and label_smoothing, IGNORE the ignore_index they give. */
#define LIN_PUBLIC(name, KIND, TARGET, FIELD, PARAMS, IGNORE)                                  \
    static closs_status CLOSS_FN(lin_##name)(                                                 \
        int64_t n, int64_t in_features, int64_t c, int64_t s, const CLOSS_T *input,            \
        const CLOSS_T *linear_weight, const CLOSS_T *linear_bias, TARGET target,               \
        const CLOSS_T *weight, int64_t ignore_index, double label_smoothing,                   \
        closs_reduction reduction, closs_op op, const CLOSS_T *grad_output, CLOSS_T *out,      \
        CLOSS_T *grad_input, CLOSS_T *grad_linear_weight, CLOSS_T *grad_linear_bias)           \
    {                                                                                          \
        closs_linear_args a;                                                                   \
        memset(&a, 0, sizeof a);                                                               \
        a.n = n, a.in_features = in_features, a.c = c, a.s = s, a.input = input;               \
        a.linear_weight = linear_weight, a.linear_bias = linear_bias, a.FIELD = target;        \
        a.w = weight, a.ignore_index = ignore_index, a.label_smoothing = label_smoothing;      \
        a.reduction = reduction, a.grad_output = grad_output, a.out = out;                     \
        a.grad_input = grad_input, a.grad_weight = grad_linear_weight;                         \
        a.grad_bias = grad_linear_bias;                                                        \
        return closs_linear_call(LIN_DTYPE, KIND, op, &a);                                     \
    }                                                                                          \
    closs_status CLOSS_FN(closs_##name)(                                                       \
        int64_t n, int64_t in_features, int64_t c, int64_t s, const CLOSS_T *input,            \
        const CLOSS_T *linear_weight, const CLOSS_T *linear_bias, TARGET target,               \
        const CLOSS_T *weight, CLOSS_UNPAREN PARAMS double label_smoothing,                    \
        closs_reduction reduction, CLOSS_T *out)                                               \
    {                                                                                          \
        return CLOSS_FN(lin_##name)(n, in_features, c, s, input, linear_weight, linear_bias,   \
                                    target, weight, IGNORE, label_smoothing, reduction,        \
                                    CLOSS_OP_FORWARD, NULL, out, NULL, NULL, NULL);            \
    }                                                                                          \
    closs_status CLOSS_FN(closs_##name##_backward)(                                            \
        int64_t n, int64_t in_features, int64_t c, int64_t s, const CLOSS_T *input,            \
        const CLOSS_T *linear_weight, const CLOSS_T *linear_bias, TARGET target,               \
        const CLOSS_T *weight, CLOSS_UNPAREN PARAMS double label_smoothing,                    \
        closs_reduction reduction, const CLOSS_T *grad_output, CLOSS_T *grad_input,            \
        CLOSS_T *grad_linear_weight, CLOSS_T *grad_linear_bias)                                \
    {                                                                                          \
        return CLOSS_FN(lin_##name)(n, in_features, c, s, input, linear_weight, linear_bias,   \
                                    target, weight, IGNORE, label_smoothing, reduction,        \
                                    CLOSS_OP_BACKWARD, grad_output, NULL, grad_input,          \
                                    grad_linear_weight, grad_linear_bias);                     \
    }                                                                                          \
    closs_status CLOSS_FN(closs_##name##_fused)(                                               \
        int64_t n, int64_t in_features, int64_t c, int64_t s, const CLOSS_T *input,            \
        const CLOSS_T *linear_weight, const CLOSS_T *linear_bias, TARGET target,               \
        const CLOSS_T *weight, CLOSS_UNPAREN PARAMS double label_smoothing,                    \
        closs_reduction reduction, CLOSS_T *out, CLOSS_T *grad_input,                          \
        CLOSS_T *grad_linear_weight, CLOSS_T *grad_linear_bias)                                \
    {                                                                                          \
        return CLOSS_FN(lin_##name)(n, in_features, c, s, input, linear_weight, linear_bias,   \
                                    target, weight, IGNORE, label_smoothing, reduction,        \
                                    CLOSS_OP_FUSED, NULL, out, grad_input, grad_linear_weight, \
                                    grad_linear_bias);                                         \
    }                                                                                          \
    closs_status CLOSS_FN(closs_##name##_partial)(                                             \
        int64_t n, int64_t in_features, int64_t c, int64_t s, const CLOSS_T *input,            \
        const CLOSS_T *linear_weight, const CLOSS_T *linear_bias, TARGET target,               \
        const CLOSS_T *weight, CLOSS_UNPAREN PARAMS double label_smoothing,                    \
        closs_reduction reduction, double *out)                                                \
    {                                                                                          \
        return CLOSS_FN(lin_##name)(n, in_features, c, s, input, linear_weight, linear_bias,   \
                                    target, weight, IGNORE, label_smoothing, reduction,        \
                                    CLOSS_OP_PARTIAL, NULL, (CLOSS_T *)(void *)out, NULL,      \
                                    NULL, NULL);                                               \
    }

LIN_PUBLIC(linear_cross_entropy, CLOSS_CLASSIFICATION_cross_entropy, const int64_t *, t,
           (int64_t ignore_index,), ignore_index)
LIN_PUBLIC(linear_cross_entropy_prob, CLOSS_CLASSIFICATION_cross_entropy_prob, const CLOSS_T *,
           tp, (), 0)

#undef LIN_PUBLIC
#undef LIN_DTYPE
#undef LIN_GEMM
