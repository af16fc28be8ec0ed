/*
 * closs.h - the loss functions of PyTorch's torch.nn, value and gradient, in C99.
 *
 * Layering (each tier only calls the one below it):
 *   1. point math     static inline functions of one element (numerics.h and the
 *                     POINT macro of each loss) or of one row (the row functions
 *                     of the row-wise losses): formula, domain, constants.
 *   2. array kernels  one body per loss, instantiated for float and double by the
 *                     preprocessor (pointwise.h, rowwise.h), run in fixed blocks by
 *                     one driver (parallel.c) that owns OpenMP and the
 *                     deterministic reduction.
 *   3. this API       forward, backward (vector-Jacobian product) and fused
 *                     forward+gradient per loss and per dtype; status codes only.
 *   4. Python         Cython memoryview wrappers (nogil) and the torch-like
 *                     functional / Module layer that validates and allocates.
 *
 * Conventions, for every function below:
 *   - Arrays are contiguous, caller-owned, and do not alias unless stated.
 *     When n is 0 the array pointers may be NULL.
 *   - Optional arrays (weight ...) are NULL for "absent".
 *   - `out` receives n values for CLOSS_REDUCTION_NONE, one value otherwise.
 *   - `grad_output` follows the reduction: one value for MEAN/SUM, n values for
 *     NONE; NULL means ones. Fused functions use ones.
 *   - Reductions accumulate in double over blocks whose boundaries depend on n
 *     only, so results are bit-identical for any thread count.
 *   - Functions never print, never abort and never allocate per element; they
 *     return CLOSS_OK or a status explaining what was wrong with the arguments.
 *   - Sizes (n, d, c, s, t ...) are in [0, CLOSS_MAX_ELEMENTS], and so is the
 *     element count of every array they describe (n * d, n * c * s ...), else
 *     CLOSS_ERR_INVALID_SIZE before any array is read.
 *
 * ABI: enum values are fixed and never renumbered; new values are appended.
 */
#ifndef CLOSS_H
#define CLOSS_H

#include <stdint.h>

#define CLOSS_VERSION_MAJOR 0
#define CLOSS_VERSION_MINOR 1
#define CLOSS_VERSION_PATCH 0
#define CLOSS_VERSION_NUMBER \
    (CLOSS_VERSION_MAJOR * 10000 + CLOSS_VERSION_MINOR * 100 + CLOSS_VERSION_PATCH)

#if defined(_WIN32) && defined(CLOSS_SHARED_BUILD)
#define CLOSS_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CLOSS_API __attribute__((visibility("default")))
#else
#define CLOSS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The most elements any array argument may hold: PTRDIFF_MAX / 8 (2^60 - 1
 * with 64-bit pointers), so that the byte count of every array, of double or
 * int64_t elements too, fits in ptrdiff_t, and sums of sizes fit in int64_t. */
#define CLOSS_MAX_ELEMENTS ((int64_t)(PTRDIFF_MAX / 8))

typedef enum closs_status {
    CLOSS_OK = 0,
    CLOSS_ERR_NULL_POINTER = 1,   /* a required array is NULL */
    CLOSS_ERR_INVALID_SIZE = 2,   /* a size negative, inconsistent, or too large:
                                     * above CLOSS_MAX_ELEMENTS, alone or as a product */
    CLOSS_ERR_INVALID_REDUCTION = 3,
    CLOSS_ERR_INVALID_ARGUMENT = 4, /* a parameter outside its domain (beta < 0 ...) */
    CLOSS_ERR_INDEX_OUT_OF_RANGE = 5, /* a class index outside [0, C) */
    CLOSS_ERR_OUT_OF_MEMORY = 6,
    CLOSS_ERR_DOMAIN = 7 /* an input element outside the loss's domain (BCE's [0, 1]) */
} closs_status;

typedef enum closs_reduction {
    CLOSS_REDUCTION_NONE = 0,
    CLOSS_REDUCTION_MEAN = 1,
    CLOSS_REDUCTION_SUM = 2,
    CLOSS_REDUCTION_BATCHMEAN = 3 /* kl_div only */
} closs_reduction;

/* A static string naming the status ("CLOSS_OK", ...) followed by a description. */
CLOSS_API const char *closs_status_string(closs_status status);

/* The library's version as CLOSS_VERSION_NUMBER computes it, to detect a
 * header / library mismatch. */
CLOSS_API int closs_version_number(void);

/* 1 when the library was built with OpenMP. */
CLOSS_API int closs_has_openmp(void);

/* A static one-line description of the build: compiler, OpenMP, SIMD level
 * compiled and SIMD level running. */
CLOSS_API const char *closs_build_info(void);

/* Threads used by the kernels. The default follows OMP_NUM_THREADS, else the
 * number of cores. n < 1 is CLOSS_ERR_INVALID_ARGUMENT. Without OpenMP the
 * count is recorded but kernels run serially.
 *
 * fork(): closs installs pthread_atfork handlers (when it loads, or at its
 * first parallel kernel) that release the forking thread's OpenMP thread pool
 * with omp_pause_resource_all(omp_pause_soft), so that a forked child can
 * start a team again (GNU libgomp's pool does not survive fork; without this a
 * child hangs in its first parallel kernel). The release applies to the whole
 * OpenMP runtime of the forking thread, the host's own teams included; the
 * parent's team is recreated at its next parallel kernel. Where the release is
 * unavailable or refused (fork called inside a parallel region), the child and
 * its descendants run every kernel serially: closs_get_num_threads() returns 1
 * there whatever was set. Results are bit-identical either way. */
CLOSS_API closs_status closs_set_num_threads(int n);
CLOSS_API int closs_get_num_threads(void);

/* ---------------------------------------------------------------------------
 * Regression losses: element-wise on n elements (0 <= n <= CLOSS_MAX_ELEMENTS),
 * optional element-wise weight.
 *
 *   l1_loss         |x - y|
 *   mse_loss        (x - y)^2
 *   smooth_l1_loss  0.5 (x - y)^2 / beta  if |x - y| < beta, else |x - y| - 0.5 beta
 *                   (beta >= 0; beta == 0 is l1_loss)
 *   huber_loss      0.5 (x - y)^2         if |x - y| < delta, else delta (|x - y| - 0.5 delta)
 *                   (delta > 0)
 *
 * With a weight, each element's loss is multiplied by weight[i]. MEAN divides the
 * sum by n, except for l1_loss and mse_loss with a weight, which divide by the sum
 * of the weights (as torch.nn.functional does).
 *
 * For each NAME and each T/SFX in {float/f32, double/f64}:
 *   closs_NAME_SFX(n, input, target, weight, [param,] reduction, out)
 *   closs_NAME_backward_SFX(n, input, target, weight, [param,] reduction,
 *                           grad_output, grad_input)
 *   closs_NAME_fused_SFX(n, input, target, weight, [param,] reduction,
 *                        out, grad_input)
 * ------------------------------------------------------------------------- */
/* The trailing arguments are the weight and the loss's parameters. */
#define CLOSS_DECLARE_POINTWISE(NAME, T, SFX, ...)                                   \
    CLOSS_API closs_status closs_##NAME##_##SFX(                                      \
        int64_t n, const T *input, const T *target, __VA_ARGS__,                      \
        closs_reduction reduction, T *out);                                           \
    CLOSS_API closs_status closs_##NAME##_backward_##SFX(                             \
        int64_t n, const T *input, const T *target, __VA_ARGS__,                      \
        closs_reduction reduction, const T *grad_output, T *grad_input);              \
    CLOSS_API closs_status closs_##NAME##_fused_##SFX(                                \
        int64_t n, const T *input, const T *target, __VA_ARGS__,                      \
        closs_reduction reduction, T *out, T *grad_input)

CLOSS_DECLARE_POINTWISE(l1_loss, float, f32, const float *weight);
CLOSS_DECLARE_POINTWISE(l1_loss, double, f64, const double *weight);
CLOSS_DECLARE_POINTWISE(mse_loss, float, f32, const float *weight);
CLOSS_DECLARE_POINTWISE(mse_loss, double, f64, const double *weight);
CLOSS_DECLARE_POINTWISE(smooth_l1_loss, float, f32, const float *weight, double beta);
CLOSS_DECLARE_POINTWISE(smooth_l1_loss, double, f64, const double *weight, double beta);
CLOSS_DECLARE_POINTWISE(huber_loss, float, f32, const float *weight, double delta);
CLOSS_DECLARE_POINTWISE(huber_loss, double, f64, const double *weight, double delta);

/* ---------------------------------------------------------------------------
 * Losses of a binary target, element-wise with the same conventions as above
 * (MEAN divides by n; the optional weight is per element, already broadcast).
 *
 *   binary_cross_entropy     -(y log x + (1 - y) log(1 - x)), logs clamped at
 *                            -100; x and y in [0, 1], else CLOSS_ERR_DOMAIN from
 *                            the forward and fused functions (the backward does
 *                            not check; on error the outputs are unspecified).
 *                            The gradient is torch's (x - y) / max(x (1 - x), 1e-12).
 *   binary_cross_entropy_with_logits
 *                            (1 - y) x - (1 + (p - 1) y) log sigmoid(x), with
 *                            p = pos_weight[i] (NULL: 1), already broadcast to n
 *   soft_margin_loss         log(1 + exp(-y x)), computed without overflow
 *   hinge_embedding_loss     max(0, margin - x) where y != 1, plus x where y != -1
 * ------------------------------------------------------------------------- */
CLOSS_DECLARE_POINTWISE(binary_cross_entropy, float, f32, const float *weight);
CLOSS_DECLARE_POINTWISE(binary_cross_entropy, double, f64, const double *weight);
CLOSS_DECLARE_POINTWISE(binary_cross_entropy_with_logits, float, f32, const float *weight,
                        const float *pos_weight);
CLOSS_DECLARE_POINTWISE(binary_cross_entropy_with_logits, double, f64, const double *weight,
                        const double *pos_weight);
CLOSS_DECLARE_POINTWISE(soft_margin_loss, float, f32, const float *weight);
CLOSS_DECLARE_POINTWISE(soft_margin_loss, double, f64, const double *weight);
CLOSS_DECLARE_POINTWISE(hinge_embedding_loss, float, f32, const float *weight, double margin);
CLOSS_DECLARE_POINTWISE(hinge_embedding_loss, double, f64, const double *weight, double margin);

/* ---------------------------------------------------------------------------
 * Losses of a distribution, element-wise (x: the input, y: the target).
 *
 *   poisson_nll_loss  log_input: exp(x) - y x; else x - y log(x + eps); full
 *                     adds Stirling's y log y - y + log(2 pi y) / 2 where y > 1
 *   kl_div            y log y - y x (0 where y == 0), or with log_target
 *                     exp(y) (y - x); 'batchmean' is SUM divided by the batch
 *                     size by the caller
 * ------------------------------------------------------------------------- */
CLOSS_DECLARE_POINTWISE(poisson_nll_loss, float, f32, const float *weight, int log_input,
                        int full, double eps);
CLOSS_DECLARE_POINTWISE(poisson_nll_loss, double, f64, const double *weight, int log_input,
                        int full, double eps);
CLOSS_DECLARE_POINTWISE(kl_div, float, f32, const float *weight, int log_target);
CLOSS_DECLARE_POINTWISE(kl_div, double, f64, const double *weight, int log_target);

/*   gaussian_nll_loss  0.5 (log v + (x - y)^2 / v) [+ 0.5 log(2 pi) when full],
 *                      v = max(var[i], eps); var (already broadcast to n) is
 *                      required and >= 0, else CLOSS_ERR_DOMAIN. Backward and
 *                      fused also write d/dvar into grad_var (n values; NULL:
 *                      not wanted), the derivative at v even where var < eps,
 *                      as torch's is. */
#define CLOSS_DECLARE_GAUSSIAN_NLL(T, SFX)                                                \
    CLOSS_API closs_status closs_gaussian_nll_loss_##SFX(                                 \
        int64_t n, const T *input, const T *target, const T *weight, const T *var,        \
        int full, double eps, closs_reduction reduction, T *out);                         \
    CLOSS_API closs_status closs_gaussian_nll_loss_backward_##SFX(                        \
        int64_t n, const T *input, const T *target, const T *weight, const T *var,        \
        int full, double eps, closs_reduction reduction, const T *grad_output,            \
        T *grad_input, T *grad_var);                                                      \
    CLOSS_API closs_status closs_gaussian_nll_loss_fused_##SFX(                           \
        int64_t n, const T *input, const T *target, const T *weight, const T *var,        \
        int full, double eps, closs_reduction reduction, T *out, T *grad_input,           \
        T *grad_var)
CLOSS_DECLARE_GAUSSIAN_NLL(float, f32);
CLOSS_DECLARE_GAUSSIAN_NLL(double, f64);

/* ---------------------------------------------------------------------------
 * Row-wise losses: n rows of d elements each, stored row after row (an (n, d)
 * C-contiguous array; n, d and n * d in [0, CLOSS_MAX_ELEMENTS]), one loss
 * value per row. `out` and `grad_output` follow the rows (n values for
 * CLOSS_REDUCTION_NONE); MEAN divides by n. Gradients
 * have the shape of their input; backward and fused take one gradient array
 * per differentiable input, in argument order, none of them NULL (unless the
 * input is empty). Class indices are int64_t; an index outside its range is
 * CLOSS_ERR_INDEX_OUT_OF_RANGE, found before any output is written.
 *
 *   margin_ranking_loss     n elements (no d): max(0, -y (x1 - x2) + margin)
 *   cosine_embedding_loss   cos = x1.x2 / sqrt((|x1|^2 + e)(|x2|^2 + e)), e = 1e-12f;
 *                           1 - cos where y == 1, max(0, cos - margin) where
 *                           y == -1, 0 for any other y
 *   multi_margin_loss       d = c classes, target t in [0, c), p 1 or 2:
 *                           w[t] / c sum_{j != t} max(0, margin - x_t + x_j)^p
 *                           (weight: c values or NULL for ones)
 *   multilabel_margin_loss  d = c classes; target: n x c indices in [-1, c),
 *                           a row's targets end at its first -1; 1/c times the
 *                           sum over targets t and non-targets j of
 *                           max(0, 1 - x_t + x_j) (a repeated target counts twice)
 *   triplet_margin_loss     max(0, margin + |a - p + eps|_p - |a - n + eps|_p)
 *                           (margin > 0, p > 0, inf for the max norm); swap != 0
 *                           uses min(|a - n + eps|_p, |p - n + eps|_p) instead
 *
 * Row sums (dot products, norms, a row's hinge terms) accumulate in double.
 * For each NAME and each T/SFX in {float/f32, double/f64}, with ARGS and
 * GRADS as listed below:
 *   closs_NAME_SFX(ARGS, reduction, out)
 *   closs_NAME_backward_SFX(ARGS, reduction, grad_output, GRADS)
 *   closs_NAME_fused_SFX(ARGS, reduction, out, GRADS)
 * ------------------------------------------------------------------------- */
#define CLOSS_UNPAREN(...) __VA_ARGS__
#define CLOSS_DECLARE_ROWWISE(NAME, T, SFX, ARGS, GRADS)                                  \
    CLOSS_API closs_status closs_##NAME##_##SFX(CLOSS_UNPAREN ARGS,                       \
                                                closs_reduction reduction, T *out);       \
    CLOSS_API closs_status closs_##NAME##_backward_##SFX(                                 \
        CLOSS_UNPAREN ARGS, closs_reduction reduction, const T *grad_output,              \
        CLOSS_UNPAREN GRADS);                                                             \
    CLOSS_API closs_status closs_##NAME##_fused_##SFX(                                    \
        CLOSS_UNPAREN ARGS, closs_reduction reduction, T *out, CLOSS_UNPAREN GRADS)

#define CLOSS_DECLARE_MARGIN_RANKING(T, SFX)                                              \
    CLOSS_DECLARE_ROWWISE(margin_ranking_loss, T, SFX,                                    \
        (int64_t n, const T *input1, const T *input2, const T *target, double margin),    \
        (T *grad_input1, T *grad_input2))
#define CLOSS_DECLARE_COSINE_EMBEDDING(T, SFX)                                            \
    CLOSS_DECLARE_ROWWISE(cosine_embedding_loss, T, SFX,                                  \
        (int64_t n, int64_t d, const T *input1, const T *input2, const T *target,         \
         double margin),                                                                  \
        (T *grad_input1, T *grad_input2))
#define CLOSS_DECLARE_MULTI_MARGIN(T, SFX)                                                \
    CLOSS_DECLARE_ROWWISE(multi_margin_loss, T, SFX,                                      \
        (int64_t n, int64_t c, const T *input, const int64_t *target, const T *weight,    \
         int p, double margin),                                                           \
        (T *grad_input))
#define CLOSS_DECLARE_MULTILABEL_MARGIN(T, SFX)                                           \
    CLOSS_DECLARE_ROWWISE(multilabel_margin_loss, T, SFX,                                 \
        (int64_t n, int64_t c, const T *input, const int64_t *target), (T *grad_input))
#define CLOSS_DECLARE_TRIPLET_MARGIN(T, SFX)                                              \
    CLOSS_DECLARE_ROWWISE(triplet_margin_loss, T, SFX,                                    \
        (int64_t n, int64_t d, const T *anchor, const T *positive, const T *negative,     \
         double margin, double p, double eps, int swap),                                  \
        (T *grad_anchor, T *grad_positive, T *grad_negative))

CLOSS_DECLARE_MARGIN_RANKING(float, f32);
CLOSS_DECLARE_MARGIN_RANKING(double, f64);
CLOSS_DECLARE_COSINE_EMBEDDING(float, f32);
CLOSS_DECLARE_COSINE_EMBEDDING(double, f64);
CLOSS_DECLARE_MULTI_MARGIN(float, f32);
CLOSS_DECLARE_MULTI_MARGIN(double, f64);
CLOSS_DECLARE_MULTILABEL_MARGIN(float, f32);
CLOSS_DECLARE_MULTILABEL_MARGIN(double, f64);
CLOSS_DECLARE_TRIPLET_MARGIN(float, f32);
CLOSS_DECLARE_TRIPLET_MARGIN(double, f64);

/* ---------------------------------------------------------------------------
 * ctc_loss: connectionist temporal classification (Graves et al., ICML 2006),
 * PyTorch's CPU semantics.
 *
 *   log_probs       t x n x c (frames x batch x classes), log-probabilities
 *   targets         padded (concatenated == 0): n x s class indices, sample b's
 *                   at b * s; concatenated: s indices, sample b's after the
 *                   target_lengths of the samples before it (they add up to s)
 *   input_lengths   n values in [0, t]; target_lengths n values in [0, s]
 *   blank           the blank class, in [0, c); a target may equal it
 *   sizes           t, n, c, s, t * n * c and (padded) n * s in [0, CLOSS_MAX_ELEMENTS]
 *
 * Sample b's loss is -log p(target | log_probs[0 .. input_lengths[b]), b); inf
 * where no alignment exists, replaced by 0 when zero_infinity != 0. MEAN
 * divides each loss by max(target_length, 1), then averages over the batch.
 * The gradient is torch's: (exp(lp) - exp(log sum of alpha beta - log p - lp))
 * times grad_output per (frame, class) for frames below the sample's input
 * length, 0 past it and for samples zeroed by zero_infinity. It is the
 * derivative with respect to the logits z of lp = log_softmax(z) (d/dlp plus
 * the terms exp(lp) that log_softmax's Jacobian removes again), not d/dlp.
 * Alpha and beta are computed in the input's precision, as torch does, with
 * vectorised exp and log, so results agree with torch's to rounding, not to
 * the bit (the rule: docs/architecture.md, ctc_loss); batch sums in double.
 * The target indices that are used (sample b's first
 * target_lengths[b]) outside [0, c) give CLOSS_ERR_INDEX_OUT_OF_RANGE, lengths
 * out of range CLOSS_ERR_INVALID_SIZE, a blank outside [0, c)
 * CLOSS_ERR_INVALID_ARGUMENT, all before any output is written. Scratch memory
 * (per thread: alpha and the gathered log-probabilities, t x (2 max target
 * length + 1) each) is allocated once per call: CLOSS_ERR_OUT_OF_MEMORY when
 * that fails.
 *
 *   closs_ctc_loss_SFX(ARGS, reduction, out)
 *   closs_ctc_loss_backward_SFX(ARGS, reduction, grad_output, grad_log_probs)
 *   closs_ctc_loss_fused_SFX(ARGS, reduction, out, grad_log_probs)
 * ------------------------------------------------------------------------- */
#define CLOSS_CTC_ARGS(TYPE)                                                               \
    int64_t t, int64_t n, int64_t c, const TYPE *log_probs, const int64_t *targets,       \
        int64_t s, int concatenated, const int64_t *input_lengths,                       \
        const int64_t *target_lengths, int64_t blank, int zero_infinity
#define CLOSS_DECLARE_CTC(TYPE, SFX)                                                       \
    CLOSS_API closs_status closs_ctc_loss_##SFX(CLOSS_CTC_ARGS(TYPE),                     \
                                                closs_reduction reduction, TYPE *out);     \
    CLOSS_API closs_status closs_ctc_loss_backward_##SFX(                                  \
        CLOSS_CTC_ARGS(TYPE), closs_reduction reduction, const TYPE *grad_output,          \
        TYPE *grad_log_probs);                                                             \
    CLOSS_API closs_status closs_ctc_loss_fused_##SFX(                                     \
        CLOSS_CTC_ARGS(TYPE), closs_reduction reduction, TYPE *out, TYPE *grad_log_probs)
CLOSS_DECLARE_CTC(float, f32);
CLOSS_DECLARE_CTC(double, f64);

/* ---------------------------------------------------------------------------
 * Classification losses: input of shape (n, c, s) - n samples, c classes and
 * s = d1 * ... * dK positions per sample (s = 1 for (n, c) input; unbatched
 * (c,) input is n = 1, s = 1) - C-contiguous, so class j of position (i, k) is
 * input[(i * c + j) * s + k]. Class-index targets and 'none' values have shape
 * (n, s); probability targets have the input's shape; weight holds c values.
 *
 *   nll_loss            -w[t] x[t]                       (x: log-probabilities)
 *   cross_entropy       (1 - e) w[t] (lse - x[t]) + (e / c) sum_j w[j] (lse - x[j])
 *                       lse = log sum_j exp(x[j]), e = label_smoothing in [0, 1]
 *   cross_entropy_prob  sum_j w[j] t'[j] (lse - x[j]),   t' = (1 - e) t + e / c
 *
 * w = 1 when weight is NULL. Class indices equal to ignore_index contribute
 * nothing (value 0, gradient 0); any other index outside [0, c) is
 * CLOSS_ERR_INDEX_OUT_OF_RANGE, found before anything outside an array is read
 * (the outputs are then unspecified). MEAN divides the sum by the summed w[t]
 * of the kept positions for class indices (NaN when none is kept), and by
 * n * s for probabilities. label_smoothing outside [0, 1] (or NaN) is
 * CLOSS_ERR_INVALID_ARGUMENT. Sizes n, c, s and n * c * s in [0, CLOSS_MAX_ELEMENTS].
 *
 * For each T/SFX in {float/f32, double/f64}, with (ARGS) = (n, c, s, input,
 * target, weight, [ignore_index,] [label_smoothing,] reduction):
 *   closs_NAME_SFX(ARGS, out)
 *   closs_NAME_backward_SFX(ARGS, grad_output, grad_input)
 *   closs_NAME_fused_SFX(ARGS, out, grad_input)
 * ------------------------------------------------------------------------- */
/* TGT is the target's element type; the trailing arguments are the loss's
 * parameters. */
#define CLOSS_DECLARE_CLASSIFICATION(NAME, T, SFX, TGT, ...)                          \
    CLOSS_API closs_status closs_##NAME##_##SFX(                                      \
        int64_t n, int64_t c, int64_t s, const T *input, const TGT *target,           \
        const T *weight, __VA_ARGS__, closs_reduction reduction, T *out);             \
    CLOSS_API closs_status closs_##NAME##_backward_##SFX(                             \
        int64_t n, int64_t c, int64_t s, const T *input, const TGT *target,           \
        const T *weight, __VA_ARGS__, closs_reduction reduction,                      \
        const T *grad_output, T *grad_input);                                         \
    CLOSS_API closs_status closs_##NAME##_fused_##SFX(                                \
        int64_t n, int64_t c, int64_t s, const T *input, const TGT *target,           \
        const T *weight, __VA_ARGS__, closs_reduction reduction, T *out, T *grad_input)

CLOSS_DECLARE_CLASSIFICATION(nll_loss, float, f32, int64_t, int64_t ignore_index);
CLOSS_DECLARE_CLASSIFICATION(nll_loss, double, f64, int64_t, int64_t ignore_index);
CLOSS_DECLARE_CLASSIFICATION(cross_entropy, float, f32, int64_t, int64_t ignore_index,
                             double label_smoothing);
CLOSS_DECLARE_CLASSIFICATION(cross_entropy, double, f64, int64_t, int64_t ignore_index,
                             double label_smoothing);
CLOSS_DECLARE_CLASSIFICATION(cross_entropy_prob, float, f32, float, double label_smoothing);
CLOSS_DECLARE_CLASSIFICATION(cross_entropy_prob, double, f64, double, double label_smoothing);

#ifdef __cplusplus
}
#endif

#endif /* CLOSS_H */
