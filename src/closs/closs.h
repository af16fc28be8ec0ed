/*
 * closs.h - the loss functions of PyTorch's torch.nn, value and gradient, in C99.
 *
 * Every public declaration of the library is written out below: grep a name to
 * find its prototype (closs_cross_entropy_fused_f64 ...). The only include is
 * closs_version.h, which meson generates from the project version and installs
 * next to this file. Link with -lcloss (pkg-config: closs).
 *
 * Tiers (each calls only the one below it):
 *   1. point math     static inline functions of one element or one row:
 *                     formula, domain, constants (internal).
 *   2. array kernels  one body per loss family, instantiated for float and
 *                     double, run in fixed blocks by one driver that owns
 *                     OpenMP and the deterministic reduction (internal).
 *   3. this API       forward, backward (vector-Jacobian product), fused
 *                     forward + gradient and the partial reduction (sum,
 *                     denominator), per loss and per dtype; statuses only.
 *   4. Python         the closs package (Cython wrappers, then the torch-like
 *                     functional / Module layer that validates and allocates).
 *
 * Names: closs_<loss>_<dtype>, closs_<loss>_backward_<dtype>,
 * closs_<loss>_fused_<dtype>, closs_<loss>_partial_<dtype>, closs_<loss>_grads_<dtype>
 * (every gradient) and (some losses)
 * closs_<loss>_grad_hess_<dtype>, with <dtype>
 * f32 (float arrays) or f64 (double arrays). Scalar parameters (beta, margin, eps, label_smoothing ...) are
 * double for both dtypes, flags are int (0 false), class indices and lengths
 * int64_t.
 *
 * Conventions, for every loss function below:
 *   - Statuses: each returns CLOSS_OK or a closs_status saying what was wrong
 *     with the arguments (closs_status_string() names it). Functions never
 *     print, never abort, never allocate per element. After an error the
 *     outputs are unspecified unless the loss's block says otherwise.
 *   - Arrays are contiguous, caller-owned, and do not alias unless stated.
 *     A required array is non-NULL (else CLOSS_ERR_NULL_POINTER), except that
 *     every array pointer may be NULL when the sizes make it empty.
 *   - Optional arrays (weight, pos_weight, grad_var) are NULL for "absent":
 *     weights of ones, an output not wanted.
 *   - Reductions: `out` receives n values for CLOSS_REDUCTION_NONE (one per
 *     element, row or sample, as the loss's block says), one value for MEAN
 *     and SUM. `grad_output` follows the reduction the same way; NULL means
 *     ones. Fused functions use ones. Any other reduction value is
 *     CLOSS_ERR_INVALID_REDUCTION.
 *   - Partial reductions, to shard a batch: closs_<loss>_partial_<dtype>
 *     takes the forward function's arguments, with `out` two doubles: out[0]
 *     the sum S of the loss terms, out[1] MEAN's denominator D (the element,
 *     row or position count, or the weight sum the loss's block names), so
 *     that MEAN is S / D; for SUM, S is the sum and D is 1. Split the batch
 *     anyhow, call it on each part, add the S's and the D's (in double, in an
 *     order of your choosing: the result then depends on that order alone):
 *     MEAN is sum(S) / sum(D), equal to the whole batch's value within double
 *     rounding. S is always SUM's value, except ctc_loss's MEAN (see its
 *     block). A part's gradient of the whole batch's MEAN is its SUM
 *     gradient times 1 / sum(D): backward with reduction SUM and grad_output
 *     1 / sum(D). NONE is CLOSS_ERR_INVALID_REDUCTION.
 *   - Second order, for gradient boosting and Newton steps (element-wise losses,
 *     nll_loss, cross_entropy): closs_<loss>_grad_hess_<dtype> takes the
 *     forward function's arguments without the reduction and writes the
 *     gradient `grad` and the diagonal of the Hessian `hess` (d2 / dx_i^2), each
 *     of the input's size, of the SUM of the loss terms (weights included, no
 *     mean), and that sum into `out` (one value) unless out is NULL. The
 *     gradient equals backward's with CLOSS_REDUCTION_SUM. Where a loss has a
 *     kink the Hessian is that of the branch the gradient takes, and 0 on the
 *     kink itself: l1_loss and hinge_embedding_loss 0 everywhere, smooth_l1_loss
 *     1 / beta for |x - y| < beta (0 at |x - y| == beta and for beta == 0),
 *     huber_loss 1 for |x - y| < delta (0 at |x - y| == delta); kl_div and
 *     nll_loss are linear (0); gaussian_nll_loss is differentiated in the input,
 *     var fixed (1 / max(var, eps)); cross_entropy gives k p_j (1 - p_j) with p the
 *     softmax and k the sum of the position's target weights (0 where ignored).
 *     Losses with a domain (binary_cross_entropy, gaussian_nll_loss) check it as
 *     the forward does.
 *   - Gradients have the shape of their input; backward and fused take one
 *     gradient array per differentiable input, in argument order.
 *   - Every gradient (element-wise losses, margin_ranking_loss,
 *     cross_entropy_prob): closs_<loss>_grads_<dtype> takes the backward
 *     function's arguments with `out`, `grad_input`, then `grad_target`,
 *     `grad_weight` (and the loss's other gradients, as its backward orders
 *     them) in place of `grad_input`: out NULL is a backward (grad_output as
 *     backward's), out non-NULL a fused call (grad_output must be NULL, else
 *     CLOSS_ERR_INVALID_ARGUMENT). grad_input is required; every other gradient
 *     is NULL when not wanted; grad_weight needs the weight, and
 *     gaussian_nll_loss's grad_target its grad_var (else CLOSS_ERR_NULL_POINTER). The target's gradient comes from the same pass
 *     as the input's; the weight's, d/dw_i = L_i times grad_output (for a
 *     weighted MEAN (L_i - MEAN) / sum(w)), from a pass after it. They are
 *     torch 2.13's autograd gradients, where torch differentiates the argument;
 *     closs also differentiates the target of soft_margin_loss and the weight
 *     of binary_cross_entropy[_with_logits], which torch does not, and gives 0
 *     for hinge_embedding_loss's labels, which torch's graph does not use.
 *   - Sizes (n, d, c, s, t ...) are in [0, CLOSS_MAX_ELEMENTS], and so is the
 *     element count of every array they describe (n * d, n * c * s ...), else
 *     CLOSS_ERR_INVALID_SIZE before any array is read.
 *   - Determinism: reductions accumulate in double over blocks whose
 *     boundaries depend on the sizes only, so results are bit-identical for
 *     any thread count.
 *   - Threads: the kernels run on an OpenMP team of closs_get_num_threads()
 *     threads (when built with OpenMP); see closs_set_num_threads() for the
 *     count and for what happens across fork().
 *
 * Symbols: CLOSS_API marks every exported function. It is overridable (define
 * it before including this file). On Windows it is __declspec(dllimport) for
 * users of the DLL, __declspec(dllexport) while building it
 * (CLOSS_SHARED_BUILD) and nothing when linking the static library (define
 * CLOSS_STATIC); elsewhere it is default visibility, the library being built
 * with -fvisibility=hidden.
 *
 * ABI: enum values are fixed and never renumbered; new values are appended.
 */
#ifndef CLOSS_H
#define CLOSS_H

#include <stdint.h> /* int64_t, PTRDIFF_MAX */

#include "closs_version.h" /* CLOSS_VERSION_MAJOR, _MINOR, _PATCH, _STRING */

/* The version as one integer, MAJOR * 10000 + MINOR * 100 + PATCH (0.1.0 is
 * 100): compare it with closs_version_number() to detect a header / library
 * mismatch. */
#define CLOSS_VERSION_NUMBER \
    (CLOSS_VERSION_MAJOR * 10000 + CLOSS_VERSION_MINOR * 100 + CLOSS_VERSION_PATCH)

#ifndef CLOSS_API
#if defined(CLOSS_STATIC)
#define CLOSS_API
#elif defined(_WIN32) || defined(__CYGWIN__)
#if defined(CLOSS_SHARED_BUILD)
#define CLOSS_API __declspec(dllexport)
#else
#define CLOSS_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define CLOSS_API __attribute__((visibility("default")))
#else
#define CLOSS_API
#endif
#endif

/* The most elements any array argument may hold: PTRDIFF_MAX / 8 (2^60 - 1
 * with 64-bit pointers), so that the byte count of every array, of double or
 * int64_t elements too, fits in ptrdiff_t, and sums of sizes fit in int64_t. */
#define CLOSS_MAX_ELEMENTS ((int64_t)(PTRDIFF_MAX / 8))

#ifdef __cplusplus
extern "C" {
#endif

typedef enum closs_status {
    CLOSS_OK = 0,
    CLOSS_ERR_NULL_POINTER = 1,       /* a required array is NULL */
    CLOSS_ERR_INVALID_SIZE = 2,       /* a size negative, inconsistent, or too large:
                                       * above CLOSS_MAX_ELEMENTS, alone or as a product */
    CLOSS_ERR_INVALID_REDUCTION = 3,  /* not NONE, MEAN or SUM */
    CLOSS_ERR_INVALID_ARGUMENT = 4,   /* a parameter outside its domain (beta < 0 ...) */
    CLOSS_ERR_INDEX_OUT_OF_RANGE = 5, /* a class index outside [0, c) */
    CLOSS_ERR_OUT_OF_MEMORY = 6,      /* scratch memory could not be allocated */
    CLOSS_ERR_DOMAIN = 7,             /* an input element outside the loss's domain
                                       * (binary_cross_entropy's [0, 1]) */
    CLOSS_ERR_UNSUPPORTED = 8         /* not in this build: linear_cross_entropy in a
                                       * library built without a BLAS (-Dblas=none) */
} closs_status;

typedef enum closs_reduction {
    CLOSS_REDUCTION_NONE = 0, /* one value per element / row / sample */
    CLOSS_REDUCTION_MEAN = 1, /* the sum divided by the loss's denominator (its block says which) */
    CLOSS_REDUCTION_SUM = 2,
    /* Reserved: every function rejects it with CLOSS_ERR_INVALID_REDUCTION.
     * kl_div's 'batchmean' is SUM divided by the batch size by the caller. */
    CLOSS_REDUCTION_BATCHMEAN = 3
} closs_reduction;

/* ===========================================================================
 * Library
 * ======================================================================== */

/* The library's version, "MAJOR.MINOR.PATCH" (static storage): equal to the
 * CLOSS_VERSION_STRING of the header it was built with. */
CLOSS_API const char *closs_version_string(void);

/* The library's version as CLOSS_VERSION_NUMBER computes it, to detect a
 * header / library mismatch. */
CLOSS_API int closs_version_number(void);

/* A static string naming the status ("CLOSS_OK", ...) followed by a
 * description; "CLOSS_ERR_UNKNOWN: ..." for a value that is no closs_status. */
CLOSS_API const char *closs_status_string(closs_status status);

/* 1 when the library was built with OpenMP, else 0. */
CLOSS_API int closs_has_openmp(void);

/* A static one-line description of the build: compiler, OpenMP, SIMD level
 * compiled and SIMD level running. */
CLOSS_API const char *closs_build_info(void);

/* The SIMD level the kernels run, a static string: "avx512" (x86-64-v4),
 * "avx2" (x86-64-v3) or "baseline". It is the best the CPU has among the
 * levels the library was built with (x86-64 with GCC: all three; elsewhere
 * "baseline", the build's own target), capped by the environment variable
 * CLOSS_SIMD=baseline|avx2|avx512 as read when closs first needs the level
 * (its first kernel, closs_build_info() or this call); an unknown value is
 * ignored (closs_build_info() says so). */
CLOSS_API const char *closs_simd_level(void);

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

/* ===========================================================================
 * Element-wise losses: n elements (0 <= n <= CLOSS_MAX_ELEMENTS) of input x
 * and target y; `weight` (n values, already broadcast, or NULL) multiplies
 * each element's loss. `out` and `grad_output` hold n values for NONE; MEAN
 * divides the sum by n unless the loss's block says otherwise.
 *
 *   closs_NAME_T(n, input, target, weight, [params,] reduction, out)
 *   closs_NAME_backward_T(n, input, target, weight, [params,] reduction,
 *                         grad_output, grad_input)
 *   closs_NAME_fused_T(n, input, target, weight, [params,] reduction,
 *                      out, grad_input)
 * ======================================================================== */

/* l1_loss: |x - y|. With a weight, MEAN divides by the sum of the weights (as
 * torch.nn.functional does). */
CLOSS_API closs_status closs_l1_loss_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, float *out);
CLOSS_API closs_status closs_l1_loss_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_l1_loss_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_l1_loss_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_l1_loss_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_l1_loss_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_l1_loss_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_l1_loss_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_l1_loss_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, float *out,
    float *grad, float *hess);
CLOSS_API closs_status closs_l1_loss_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, double *out,
    double *grad, double *hess);
CLOSS_API closs_status closs_l1_loss_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, const float *grad_output, float *out, float *grad_input,
    float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_l1_loss_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, const double *grad_output, double *out, double *grad_input,
    double *grad_target, double *grad_weight);

/* mse_loss: (x - y)^2. With a weight, MEAN divides by the sum of the weights. */
CLOSS_API closs_status closs_mse_loss_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, float *out);
CLOSS_API closs_status closs_mse_loss_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_mse_loss_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_mse_loss_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_mse_loss_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_mse_loss_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_mse_loss_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_mse_loss_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_mse_loss_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, float *out,
    float *grad, float *hess);
CLOSS_API closs_status closs_mse_loss_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, double *out,
    double *grad, double *hess);
CLOSS_API closs_status closs_mse_loss_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, const float *grad_output, float *out, float *grad_input,
    float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_mse_loss_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, const double *grad_output, double *out, double *grad_input,
    double *grad_target, double *grad_weight);

/* smooth_l1_loss: 0.5 (x - y)^2 / beta where |x - y| < beta, else
 * |x - y| - 0.5 beta. beta >= 0 (else CLOSS_ERR_INVALID_ARGUMENT); beta == 0
 * is l1_loss. */
CLOSS_API closs_status closs_smooth_l1_loss_f32(
    int64_t n, const float *input, const float *target, const float *weight, double beta,
    closs_reduction reduction, float *out);
CLOSS_API closs_status closs_smooth_l1_loss_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight, double beta,
    closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_smooth_l1_loss_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight, double beta,
    closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_smooth_l1_loss_f64(
    int64_t n, const double *input, const double *target, const double *weight, double beta,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_smooth_l1_loss_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight, double beta,
    closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_smooth_l1_loss_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight, double beta,
    closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_smooth_l1_loss_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight, double beta,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_smooth_l1_loss_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight, double beta,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_smooth_l1_loss_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, double beta,
    float *out, float *grad, float *hess);
CLOSS_API closs_status closs_smooth_l1_loss_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, double beta,
    double *out, double *grad, double *hess);
CLOSS_API closs_status closs_smooth_l1_loss_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight, double beta,
    closs_reduction reduction, const float *grad_output, float *out, float *grad_input,
    float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_smooth_l1_loss_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight, double beta,
    closs_reduction reduction, const double *grad_output, double *out, double *grad_input,
    double *grad_target, double *grad_weight);

/* huber_loss: 0.5 (x - y)^2 where |x - y| < delta, else
 * delta (|x - y| - 0.5 delta). delta > 0 (else CLOSS_ERR_INVALID_ARGUMENT). */
CLOSS_API closs_status closs_huber_loss_f32(
    int64_t n, const float *input, const float *target, const float *weight, double delta,
    closs_reduction reduction, float *out);
CLOSS_API closs_status closs_huber_loss_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight, double delta,
    closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_huber_loss_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight, double delta,
    closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_huber_loss_f64(
    int64_t n, const double *input, const double *target, const double *weight, double delta,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_huber_loss_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight, double delta,
    closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_huber_loss_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight, double delta,
    closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_huber_loss_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight, double delta,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_huber_loss_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight, double delta,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_huber_loss_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, double delta,
    float *out, float *grad, float *hess);
CLOSS_API closs_status closs_huber_loss_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, double delta,
    double *out, double *grad, double *hess);
CLOSS_API closs_status closs_huber_loss_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight, double delta,
    closs_reduction reduction, const float *grad_output, float *out, float *grad_input,
    float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_huber_loss_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight, double delta,
    closs_reduction reduction, const double *grad_output, double *out, double *grad_input,
    double *grad_target, double *grad_weight);

/* binary_cross_entropy: -(y log x + (1 - y) log(1 - x)), logs clamped at
 * -100. x and y in [0, 1], else CLOSS_ERR_DOMAIN from the forward and fused
 * functions (the backward does not check). The gradient is torch's
 * (x - y) / max(x (1 - x), 1e-12). */
CLOSS_API closs_status closs_binary_cross_entropy_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, float *out);
CLOSS_API closs_status closs_binary_cross_entropy_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_binary_cross_entropy_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_binary_cross_entropy_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_binary_cross_entropy_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_binary_cross_entropy_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_binary_cross_entropy_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_binary_cross_entropy_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_binary_cross_entropy_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, float *out,
    float *grad, float *hess);
CLOSS_API closs_status closs_binary_cross_entropy_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, double *out,
    double *grad, double *hess);
CLOSS_API closs_status closs_binary_cross_entropy_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, const float *grad_output, float *out, float *grad_input,
    float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_binary_cross_entropy_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, const double *grad_output, double *out, double *grad_input,
    double *grad_target, double *grad_weight);

/* binary_cross_entropy_with_logits: (1 - y) x - (1 + (p - 1) y) log sigmoid(x)
 * with p = pos_weight[i] (n values, already broadcast; NULL: 1), computed
 * without overflow. */
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    const float *pos_weight, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    const float *pos_weight, closs_reduction reduction, const float *grad_output,
    float *grad_input);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    const float *pos_weight, closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    const double *pos_weight, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    const double *pos_weight, closs_reduction reduction, const double *grad_output,
    double *grad_input);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    const double *pos_weight, closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    const float *pos_weight, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    const double *pos_weight, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    const float *pos_weight, float *out, float *grad, float *hess);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    const double *pos_weight, double *out, double *grad, double *hess);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    const float *pos_weight, closs_reduction reduction, const float *grad_output, float *out,
    float *grad_input, float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_binary_cross_entropy_with_logits_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    const double *pos_weight, closs_reduction reduction, const double *grad_output, double *out,
    double *grad_input, double *grad_target, double *grad_weight);

/* soft_margin_loss: log(1 + exp(-y x)), computed without overflow. */
CLOSS_API closs_status closs_soft_margin_loss_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, float *out);
CLOSS_API closs_status closs_soft_margin_loss_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_soft_margin_loss_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_soft_margin_loss_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_soft_margin_loss_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_soft_margin_loss_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_soft_margin_loss_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_soft_margin_loss_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_soft_margin_loss_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, float *out,
    float *grad, float *hess);
CLOSS_API closs_status closs_soft_margin_loss_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, double *out,
    double *grad, double *hess);
CLOSS_API closs_status closs_soft_margin_loss_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight,
    closs_reduction reduction, const float *grad_output, float *out, float *grad_input,
    float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_soft_margin_loss_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight,
    closs_reduction reduction, const double *grad_output, double *out, double *grad_input,
    double *grad_target, double *grad_weight);

/* hinge_embedding_loss: max(0, margin - x) where y != 1, plus x where y != -1. */
CLOSS_API closs_status closs_hinge_embedding_loss_f32(
    int64_t n, const float *input, const float *target, const float *weight, double margin,
    closs_reduction reduction, float *out);
CLOSS_API closs_status closs_hinge_embedding_loss_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight, double margin,
    closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_hinge_embedding_loss_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight, double margin,
    closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_hinge_embedding_loss_f64(
    int64_t n, const double *input, const double *target, const double *weight, double margin,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_hinge_embedding_loss_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight, double margin,
    closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_hinge_embedding_loss_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight, double margin,
    closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_hinge_embedding_loss_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight, double margin,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_hinge_embedding_loss_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight, double margin,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_hinge_embedding_loss_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, double margin,
    float *out, float *grad, float *hess);
CLOSS_API closs_status closs_hinge_embedding_loss_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, double margin,
    double *out, double *grad, double *hess);
CLOSS_API closs_status closs_hinge_embedding_loss_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight, double margin,
    closs_reduction reduction, const float *grad_output, float *out, float *grad_input,
    float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_hinge_embedding_loss_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight, double margin,
    closs_reduction reduction, const double *grad_output, double *out, double *grad_input,
    double *grad_target, double *grad_weight);

/* poisson_nll_loss: with log_input, exp(x) - y x; else x - y log(x + eps).
 * full != 0 adds Stirling's y log y - y + log(2 pi y) / 2 where y > 1. */
CLOSS_API closs_status closs_poisson_nll_loss_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_input,
    int full, double eps, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_poisson_nll_loss_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_input,
    int full, double eps, closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_poisson_nll_loss_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_input,
    int full, double eps, closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_poisson_nll_loss_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_input,
    int full, double eps, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_poisson_nll_loss_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_input,
    int full, double eps, closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_poisson_nll_loss_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_input,
    int full, double eps, closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_poisson_nll_loss_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_input,
    int full, double eps, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_poisson_nll_loss_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_input,
    int full, double eps, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_poisson_nll_loss_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_input,
    int full, double eps, float *out, float *grad, float *hess);
CLOSS_API closs_status closs_poisson_nll_loss_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_input,
    int full, double eps, double *out, double *grad, double *hess);
CLOSS_API closs_status closs_poisson_nll_loss_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_input,
    int full, double eps, closs_reduction reduction, const float *grad_output, float *out,
    float *grad_input, float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_poisson_nll_loss_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_input,
    int full, double eps, closs_reduction reduction, const double *grad_output, double *out,
    double *grad_input, double *grad_target, double *grad_weight);

/* kl_div: y log y - y x (0 where y == 0); with log_target, exp(y) (y - x).
 * 'batchmean' is SUM divided by the batch size, by the caller. */
CLOSS_API closs_status closs_kl_div_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_target,
    closs_reduction reduction, float *out);
CLOSS_API closs_status closs_kl_div_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_target,
    closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_kl_div_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_target,
    closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_kl_div_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_target,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_kl_div_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_target,
    closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_kl_div_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_target,
    closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_kl_div_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_target,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_kl_div_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_target,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_kl_div_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_target,
    float *out, float *grad, float *hess);
CLOSS_API closs_status closs_kl_div_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_target,
    double *out, double *grad, double *hess);
CLOSS_API closs_status closs_kl_div_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight, int log_target,
    closs_reduction reduction, const float *grad_output, float *out, float *grad_input,
    float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_kl_div_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight, int log_target,
    closs_reduction reduction, const double *grad_output, double *out, double *grad_input,
    double *grad_target, double *grad_weight);

/* gaussian_nll_loss: 0.5 (log v + (x - y)^2 / v) [+ 0.5 log(2 pi) when full],
 * v = max(var[i], eps). var (n values, already broadcast) is required and
 * >= 0, else CLOSS_ERR_DOMAIN. Backward and fused also write d/dvar into
 * grad_var (n values; NULL: not wanted), the derivative at v even where
 * var < eps, as torch's is. */
CLOSS_API closs_status closs_gaussian_nll_loss_f32(
    int64_t n, const float *input, const float *target, const float *weight, const float *var,
    int full, double eps, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_gaussian_nll_loss_backward_f32(
    int64_t n, const float *input, const float *target, const float *weight, const float *var,
    int full, double eps, closs_reduction reduction, const float *grad_output, float *grad_input,
    float *grad_var);
CLOSS_API closs_status closs_gaussian_nll_loss_fused_f32(
    int64_t n, const float *input, const float *target, const float *weight, const float *var,
    int full, double eps, closs_reduction reduction, float *out, float *grad_input,
    float *grad_var);
CLOSS_API closs_status closs_gaussian_nll_loss_f64(
    int64_t n, const double *input, const double *target, const double *weight, const double *var,
    int full, double eps, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_gaussian_nll_loss_backward_f64(
    int64_t n, const double *input, const double *target, const double *weight, const double *var,
    int full, double eps, closs_reduction reduction, const double *grad_output, double *grad_input,
    double *grad_var);
CLOSS_API closs_status closs_gaussian_nll_loss_fused_f64(
    int64_t n, const double *input, const double *target, const double *weight, const double *var,
    int full, double eps, closs_reduction reduction, double *out, double *grad_input,
    double *grad_var);
CLOSS_API closs_status closs_gaussian_nll_loss_partial_f32(
    int64_t n, const float *input, const float *target, const float *weight, const float *var,
    int full, double eps, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_gaussian_nll_loss_partial_f64(
    int64_t n, const double *input, const double *target, const double *weight, const double *var,
    int full, double eps, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_gaussian_nll_loss_grad_hess_f32(
    int64_t n, const float *input, const float *target, const float *weight, const float *var,
    int full, double eps, float *out, float *grad, float *hess);
CLOSS_API closs_status closs_gaussian_nll_loss_grad_hess_f64(
    int64_t n, const double *input, const double *target, const double *weight, const double *var,
    int full, double eps, double *out, double *grad, double *hess);
CLOSS_API closs_status closs_gaussian_nll_loss_grads_f32(
    int64_t n, const float *input, const float *target, const float *weight, const float *var,
    int full, double eps, closs_reduction reduction, const float *grad_output, float *out,
    float *grad_input, float *grad_target, float *grad_weight, float *grad_var);
CLOSS_API closs_status closs_gaussian_nll_loss_grads_f64(
    int64_t n, const double *input, const double *target, const double *weight, const double *var,
    int full, double eps, closs_reduction reduction, const double *grad_output, double *out,
    double *grad_input, double *grad_target, double *grad_weight, double *grad_var);

/* ===========================================================================
 * Row-wise losses: n rows of d elements each, stored row after row (an (n, d)
 * C-contiguous array; n, d and n * d in [0, CLOSS_MAX_ELEMENTS]), one loss
 * value per row: `out` and `grad_output` hold n values for NONE; MEAN divides
 * by n. Gradient arrays are required (non-NULL unless the input is empty).
 * Class indices are int64_t; one outside its range is
 * CLOSS_ERR_INDEX_OUT_OF_RANGE, found before any output is written. Row sums
 * (dot products, norms, a row's hinge terms) accumulate in double.
 * ======================================================================== */

/* margin_ranking_loss: n elements (no d): max(0, -y (x1 - x2) + margin). */
CLOSS_API closs_status closs_margin_ranking_loss_f32(
    int64_t n, const float *input1, const float *input2, const float *target, double margin,
    closs_reduction reduction, float *out);
CLOSS_API closs_status closs_margin_ranking_loss_backward_f32(
    int64_t n, const float *input1, const float *input2, const float *target, double margin,
    closs_reduction reduction, const float *grad_output, float *grad_input1, float *grad_input2);
CLOSS_API closs_status closs_margin_ranking_loss_fused_f32(
    int64_t n, const float *input1, const float *input2, const float *target, double margin,
    closs_reduction reduction, float *out, float *grad_input1, float *grad_input2);
CLOSS_API closs_status closs_margin_ranking_loss_f64(
    int64_t n, const double *input1, const double *input2, const double *target, double margin,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_margin_ranking_loss_backward_f64(
    int64_t n, const double *input1, const double *input2, const double *target, double margin,
    closs_reduction reduction, const double *grad_output, double *grad_input1, double *grad_input2);
CLOSS_API closs_status closs_margin_ranking_loss_fused_f64(
    int64_t n, const double *input1, const double *input2, const double *target, double margin,
    closs_reduction reduction, double *out, double *grad_input1, double *grad_input2);
CLOSS_API closs_status closs_margin_ranking_loss_partial_f32(
    int64_t n, const float *input1, const float *input2, const float *target, double margin,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_margin_ranking_loss_partial_f64(
    int64_t n, const double *input1, const double *input2, const double *target, double margin,
    closs_reduction reduction, double *out);
CLOSS_API closs_status closs_margin_ranking_loss_grads_f32(
    int64_t n, const float *input1, const float *input2, const float *target, double margin,
    closs_reduction reduction, const float *grad_output, float *out, float *grad_input1,
    float *grad_input2, float *grad_target);
CLOSS_API closs_status closs_margin_ranking_loss_grads_f64(
    int64_t n, const double *input1, const double *input2, const double *target, double margin,
    closs_reduction reduction, const double *grad_output, double *out, double *grad_input1,
    double *grad_input2, double *grad_target);

/* cosine_embedding_loss: cos = x1.x2 / sqrt((|x1|^2 + e)(|x2|^2 + e)),
 * e = 1e-12f; 1 - cos where y == 1, max(0, cos - margin) where y == -1, 0 for
 * any other y. target: n values. */
CLOSS_API closs_status closs_cosine_embedding_loss_f32(
    int64_t n, int64_t d, const float *input1, const float *input2, const float *target,
    double margin, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_cosine_embedding_loss_backward_f32(
    int64_t n, int64_t d, const float *input1, const float *input2, const float *target,
    double margin, closs_reduction reduction, const float *grad_output, float *grad_input1,
    float *grad_input2);
CLOSS_API closs_status closs_cosine_embedding_loss_fused_f32(
    int64_t n, int64_t d, const float *input1, const float *input2, const float *target,
    double margin, closs_reduction reduction, float *out, float *grad_input1, float *grad_input2);
CLOSS_API closs_status closs_cosine_embedding_loss_f64(
    int64_t n, int64_t d, const double *input1, const double *input2, const double *target,
    double margin, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_cosine_embedding_loss_backward_f64(
    int64_t n, int64_t d, const double *input1, const double *input2, const double *target,
    double margin, closs_reduction reduction, const double *grad_output, double *grad_input1,
    double *grad_input2);
CLOSS_API closs_status closs_cosine_embedding_loss_fused_f64(
    int64_t n, int64_t d, const double *input1, const double *input2, const double *target,
    double margin, closs_reduction reduction, double *out, double *grad_input1,
    double *grad_input2);
CLOSS_API closs_status closs_cosine_embedding_loss_partial_f32(
    int64_t n, int64_t d, const float *input1, const float *input2, const float *target,
    double margin, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_cosine_embedding_loss_partial_f64(
    int64_t n, int64_t d, const double *input1, const double *input2, const double *target,
    double margin, closs_reduction reduction, double *out);

/* multi_margin_loss: d = c classes, target t (n indices) in [0, c), p 1 or 2:
 * w[t] / c sum_{j != t} max(0, margin - x_t + x_j)^p (weight: c values or
 * NULL for ones). */
CLOSS_API closs_status closs_multi_margin_loss_f32(
    int64_t n, int64_t c, const float *input, const int64_t *target, const float *weight, int p,
    double margin, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_multi_margin_loss_backward_f32(
    int64_t n, int64_t c, const float *input, const int64_t *target, const float *weight, int p,
    double margin, closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_multi_margin_loss_fused_f32(
    int64_t n, int64_t c, const float *input, const int64_t *target, const float *weight, int p,
    double margin, closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_multi_margin_loss_f64(
    int64_t n, int64_t c, const double *input, const int64_t *target, const double *weight, int p,
    double margin, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_multi_margin_loss_backward_f64(
    int64_t n, int64_t c, const double *input, const int64_t *target, const double *weight, int p,
    double margin, closs_reduction reduction, const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_multi_margin_loss_fused_f64(
    int64_t n, int64_t c, const double *input, const int64_t *target, const double *weight, int p,
    double margin, closs_reduction reduction, double *out, double *grad_input);
CLOSS_API closs_status closs_multi_margin_loss_partial_f32(
    int64_t n, int64_t c, const float *input, const int64_t *target, const float *weight, int p,
    double margin, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_multi_margin_loss_partial_f64(
    int64_t n, int64_t c, const double *input, const int64_t *target, const double *weight, int p,
    double margin, closs_reduction reduction, double *out);

/* multilabel_margin_loss: d = c classes; target: n x c indices in [-1, c), a
 * row's targets end at its first -1; 1/c times the sum over targets t and
 * non-targets j of max(0, 1 - x_t + x_j) (a repeated target counts twice). */
CLOSS_API closs_status closs_multilabel_margin_loss_f32(
    int64_t n, int64_t c, const float *input, const int64_t *target, closs_reduction reduction,
    float *out);
CLOSS_API closs_status closs_multilabel_margin_loss_backward_f32(
    int64_t n, int64_t c, const float *input, const int64_t *target, closs_reduction reduction,
    const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_multilabel_margin_loss_fused_f32(
    int64_t n, int64_t c, const float *input, const int64_t *target, closs_reduction reduction,
    float *out, float *grad_input);
CLOSS_API closs_status closs_multilabel_margin_loss_f64(
    int64_t n, int64_t c, const double *input, const int64_t *target, closs_reduction reduction,
    double *out);
CLOSS_API closs_status closs_multilabel_margin_loss_backward_f64(
    int64_t n, int64_t c, const double *input, const int64_t *target, closs_reduction reduction,
    const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_multilabel_margin_loss_fused_f64(
    int64_t n, int64_t c, const double *input, const int64_t *target, closs_reduction reduction,
    double *out, double *grad_input);
CLOSS_API closs_status closs_multilabel_margin_loss_partial_f32(
    int64_t n, int64_t c, const float *input, const int64_t *target, closs_reduction reduction,
    double *out);
CLOSS_API closs_status closs_multilabel_margin_loss_partial_f64(
    int64_t n, int64_t c, const double *input, const int64_t *target, closs_reduction reduction,
    double *out);

/* triplet_margin_loss: max(0, margin + |a - p + eps|_p - |a - n + eps|_p)
 * (margin > 0, p > 0, INFINITY for the max norm); swap != 0 uses
 * min(|a - n + eps|_p, |p - n + eps|_p) instead. */
CLOSS_API closs_status closs_triplet_margin_loss_f32(
    int64_t n, int64_t d, const float *anchor, const float *positive, const float *negative,
    double margin, double p, double eps, int swap, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_triplet_margin_loss_backward_f32(
    int64_t n, int64_t d, const float *anchor, const float *positive, const float *negative,
    double margin, double p, double eps, int swap, closs_reduction reduction,
    const float *grad_output, float *grad_anchor, float *grad_positive, float *grad_negative);
CLOSS_API closs_status closs_triplet_margin_loss_fused_f32(
    int64_t n, int64_t d, const float *anchor, const float *positive, const float *negative,
    double margin, double p, double eps, int swap, closs_reduction reduction, float *out,
    float *grad_anchor, float *grad_positive, float *grad_negative);
CLOSS_API closs_status closs_triplet_margin_loss_f64(
    int64_t n, int64_t d, const double *anchor, const double *positive, const double *negative,
    double margin, double p, double eps, int swap, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_triplet_margin_loss_backward_f64(
    int64_t n, int64_t d, const double *anchor, const double *positive, const double *negative,
    double margin, double p, double eps, int swap, closs_reduction reduction,
    const double *grad_output, double *grad_anchor, double *grad_positive, double *grad_negative);
CLOSS_API closs_status closs_triplet_margin_loss_fused_f64(
    int64_t n, int64_t d, const double *anchor, const double *positive, const double *negative,
    double margin, double p, double eps, int swap, closs_reduction reduction, double *out,
    double *grad_anchor, double *grad_positive, double *grad_negative);
CLOSS_API closs_status closs_triplet_margin_loss_partial_f32(
    int64_t n, int64_t d, const float *anchor, const float *positive, const float *negative,
    double margin, double p, double eps, int swap, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_triplet_margin_loss_partial_f64(
    int64_t n, int64_t d, const double *anchor, const double *positive, const double *negative,
    double margin, double p, double eps, int swap, closs_reduction reduction, double *out);

/* ===========================================================================
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
 * where no alignment exists, replaced by 0 when zero_infinity != 0. `out` and
 * `grad_output` hold n values for NONE; MEAN divides each loss by
 * max(target_length, 1), then averages over the batch: MEAN's partial pair is
 * (the sum of loss / max(target_length, 1), n), and a part's gradient of the
 * whole batch's MEAN is backward with NONE and grad_output
 * (1 / sum(D)) / max(target_length, 1) per sample.
 *
 * The gradient (grad_log_probs, t x n x c) is torch's: (exp(lp) - exp(log sum
 * of alpha beta - log p - lp)) times grad_output per (frame, class) for frames
 * below the sample's input length, 0 past it and for samples zeroed by
 * zero_infinity. It is the derivative with respect to the logits z of
 * lp = log_softmax(z) (d/dlp plus the terms exp(lp) that log_softmax's
 * Jacobian removes again), not d/dlp.
 *
 * Alpha and beta are computed in the input's precision, as torch does, with
 * vectorised exp and log, so results agree with torch's to rounding, not to
 * the bit (docs/architecture.md, ctc_loss); batch sums in double. The target
 * indices that are used (sample b's first target_lengths[b]) outside [0, c)
 * give CLOSS_ERR_INDEX_OUT_OF_RANGE, lengths out of range
 * CLOSS_ERR_INVALID_SIZE, a blank outside [0, c) CLOSS_ERR_INVALID_ARGUMENT,
 * all before any output is written. Scratch memory (per thread: alpha and the
 * gathered log-probabilities, t x (2 max target length + 1) each) is
 * allocated once per call: CLOSS_ERR_OUT_OF_MEMORY when that fails.
 * ======================================================================== */
CLOSS_API closs_status closs_ctc_loss_f32(
    int64_t t, int64_t n, int64_t c, const float *log_probs, const int64_t *targets, int64_t s,
    int concatenated, const int64_t *input_lengths, const int64_t *target_lengths, int64_t blank,
    int zero_infinity, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_ctc_loss_backward_f32(
    int64_t t, int64_t n, int64_t c, const float *log_probs, const int64_t *targets, int64_t s,
    int concatenated, const int64_t *input_lengths, const int64_t *target_lengths, int64_t blank,
    int zero_infinity, closs_reduction reduction, const float *grad_output, float *grad_log_probs);
CLOSS_API closs_status closs_ctc_loss_fused_f32(
    int64_t t, int64_t n, int64_t c, const float *log_probs, const int64_t *targets, int64_t s,
    int concatenated, const int64_t *input_lengths, const int64_t *target_lengths, int64_t blank,
    int zero_infinity, closs_reduction reduction, float *out, float *grad_log_probs);
CLOSS_API closs_status closs_ctc_loss_f64(
    int64_t t, int64_t n, int64_t c, const double *log_probs, const int64_t *targets, int64_t s,
    int concatenated, const int64_t *input_lengths, const int64_t *target_lengths, int64_t blank,
    int zero_infinity, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_ctc_loss_backward_f64(
    int64_t t, int64_t n, int64_t c, const double *log_probs, const int64_t *targets, int64_t s,
    int concatenated, const int64_t *input_lengths, const int64_t *target_lengths, int64_t blank,
    int zero_infinity, closs_reduction reduction, const double *grad_output,
    double *grad_log_probs);
CLOSS_API closs_status closs_ctc_loss_fused_f64(
    int64_t t, int64_t n, int64_t c, const double *log_probs, const int64_t *targets, int64_t s,
    int concatenated, const int64_t *input_lengths, const int64_t *target_lengths, int64_t blank,
    int zero_infinity, closs_reduction reduction, double *out, double *grad_log_probs);
CLOSS_API closs_status closs_ctc_loss_partial_f32(
    int64_t t, int64_t n, int64_t c, const float *log_probs, const int64_t *targets, int64_t s,
    int concatenated, const int64_t *input_lengths, const int64_t *target_lengths, int64_t blank,
    int zero_infinity, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_ctc_loss_partial_f64(
    int64_t t, int64_t n, int64_t c, const double *log_probs, const int64_t *targets, int64_t s,
    int concatenated, const int64_t *input_lengths, const int64_t *target_lengths, int64_t blank,
    int zero_infinity, closs_reduction reduction, double *out);

/* ===========================================================================
 * Classification losses: input of shape (n, c, s) - n samples, c classes and
 * s = d1 * ... * dK positions per sample (s = 1 for (n, c) input; unbatched
 * (c,) input is n = 1, s = 1) - C-contiguous, so class j of position (i, k)
 * is input[(i * c + j) * s + k]. Class-index targets and NONE values have
 * shape (n, s); probability targets have the input's shape; weight holds c
 * values (NULL: w = 1). Sizes n, c, s and n * c * s in [0, CLOSS_MAX_ELEMENTS].
 *
 * Class indices equal to ignore_index contribute nothing (value 0, gradient
 * 0); any other index outside [0, c) is CLOSS_ERR_INDEX_OUT_OF_RANGE, found
 * before anything outside an array is read. With class indices MEAN divides
 * the sum by the summed w[t] of the kept positions (NaN when none is kept);
 * with probabilities by n * s. label_smoothing e outside [0, 1] (or NaN) is
 * CLOSS_ERR_INVALID_ARGUMENT.
 * ======================================================================== */

/* nll_loss: -w[t] x[t] (x: log-probabilities). */
CLOSS_API closs_status closs_nll_loss_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_nll_loss_backward_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_nll_loss_fused_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_nll_loss_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_nll_loss_backward_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, closs_reduction reduction,
    const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_nll_loss_fused_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, closs_reduction reduction, double *out,
    double *grad_input);
CLOSS_API closs_status closs_nll_loss_partial_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_nll_loss_partial_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_nll_loss_grad_hess_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, float *out, float *grad, float *hess);
CLOSS_API closs_status closs_nll_loss_grad_hess_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, double *out, double *grad, double *hess);

/* cross_entropy: (1 - e) w[t] (lse - x[t]) + (e / c) sum_j w[j] (lse - x[j]),
 * lse = log sum_j exp(x[j]). */
CLOSS_API closs_status closs_cross_entropy_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_cross_entropy_backward_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_cross_entropy_fused_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction, float *out,
    float *grad_input);
CLOSS_API closs_status closs_cross_entropy_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    double *out);
CLOSS_API closs_status closs_cross_entropy_backward_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_cross_entropy_fused_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    double *out, double *grad_input);
CLOSS_API closs_status closs_cross_entropy_partial_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_cross_entropy_partial_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    double *out);
CLOSS_API closs_status closs_cross_entropy_grad_hess_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const int64_t *target, const float *weight,
    int64_t ignore_index, double label_smoothing, float *out, float *grad, float *hess);
CLOSS_API closs_status closs_cross_entropy_grad_hess_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const int64_t *target,
    const double *weight, int64_t ignore_index, double label_smoothing, double *out, double *grad,
    double *hess);

/* cross_entropy_prob: sum_j w[j] t'[j] (lse - x[j]), t' = (1 - e) t + e / c;
 * target: probabilities of the input's shape and dtype. */
CLOSS_API closs_status closs_cross_entropy_prob_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const float *target, const float *weight,
    double label_smoothing, closs_reduction reduction, float *out);
CLOSS_API closs_status closs_cross_entropy_prob_backward_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const float *target, const float *weight,
    double label_smoothing, closs_reduction reduction, const float *grad_output, float *grad_input);
CLOSS_API closs_status closs_cross_entropy_prob_fused_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const float *target, const float *weight,
    double label_smoothing, closs_reduction reduction, float *out, float *grad_input);
CLOSS_API closs_status closs_cross_entropy_prob_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const double *target,
    const double *weight, double label_smoothing, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_cross_entropy_prob_backward_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const double *target,
    const double *weight, double label_smoothing, closs_reduction reduction,
    const double *grad_output, double *grad_input);
CLOSS_API closs_status closs_cross_entropy_prob_fused_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const double *target,
    const double *weight, double label_smoothing, closs_reduction reduction, double *out,
    double *grad_input);
CLOSS_API closs_status closs_cross_entropy_prob_partial_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const float *target, const float *weight,
    double label_smoothing, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_cross_entropy_prob_partial_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const double *target,
    const double *weight, double label_smoothing, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_cross_entropy_prob_grad_hess_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const float *target, const float *weight,
    double label_smoothing, float *out, float *grad, float *hess);
CLOSS_API closs_status closs_cross_entropy_prob_grad_hess_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const double *target,
    const double *weight, double label_smoothing, double *out, double *grad, double *hess);
CLOSS_API closs_status closs_cross_entropy_prob_grads_f32(
    int64_t n, int64_t c, int64_t s, const float *input, const float *target, const float *weight,
    double label_smoothing, closs_reduction reduction, const float *grad_output, float *out,
    float *grad_input, float *grad_target, float *grad_weight);
CLOSS_API closs_status closs_cross_entropy_prob_grads_f64(
    int64_t n, int64_t c, int64_t s, const double *input, const double *target,
    const double *weight, double label_smoothing, closs_reduction reduction,
    const double *grad_output, double *out, double *grad_input, double *grad_target,
    double *grad_weight);

/* ===========================================================================
 * linear_cross_entropy: cross entropy (above: cross_entropy with class
 * indices, cross_entropy_prob with probabilities) of the logits
 *   logits[i][j] = sum_k input[i][k] linear_weight[j][k] + linear_bias[j],
 * input (n, in_features), linear_weight (c * s, in_features) - that is
 * (c, d1, ..., dK, in_features) with s = d1 * ... * dK positions -,
 * linear_bias (c * s) or NULL, so that the logits have the classification
 * layout (n, c, s). Targets, weight, ignore_index, label_smoothing, the
 * reductions and MEAN's denominator are cross_entropy's; an unbatched input
 * (in_features) is n = 1, s = 1. Every class index is checked
 * (CLOSS_ERR_INDEX_OUT_OF_RANGE) before any output is written.
 *
 * The logits never exist whole: they are computed, consumed and their
 * gradient G used a block of R rows at a time (R chosen from c * s alone,
 * about 2^24 logits a block; scratch: two blocks of logits, allocated once per
 * call), with a BLAS GEMM for each of input W^T, G W and G^T input. Backward
 * computes the logits again. Results are bit-identical for any thread count.
 *
 * Gradients: grad_input (n, in_features), grad_linear_weight (c * s,
 * in_features) and grad_linear_bias (c * s); each is NULL when not wanted
 * (grad_linear_bias may be asked for without linear_bias: it is the
 * gradient of a zero bias). Threads: the GEMMs run in tiles on closs's team,
 * each a single-threaded BLAS call; an OpenBLAS is set to one thread by every
 * call (another BLAS must be sequential). in_features and c * s must not
 * exceed the BLAS's integer (2^31 - 1 for a 32-bit-integer BLAS), else
 * CLOSS_ERR_INVALID_SIZE. The partial functions are cross_entropy's (S, D)
 * pair of the same logits. A library built without a BLAS (-Dblas=none)
 * returns CLOSS_ERR_UNSUPPORTED from every function of this block.
 * ======================================================================== */

CLOSS_API closs_status closs_linear_cross_entropy_f32(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const float *input,
    const float *linear_weight, const float *linear_bias, const int64_t *target, const float *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    float *out);
CLOSS_API closs_status closs_linear_cross_entropy_backward_f32(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const float *input,
    const float *linear_weight, const float *linear_bias, const int64_t *target, const float *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    const float *grad_output, float *grad_input, float *grad_linear_weight, float *grad_linear_bias);
CLOSS_API closs_status closs_linear_cross_entropy_fused_f32(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const float *input,
    const float *linear_weight, const float *linear_bias, const int64_t *target, const float *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    float *out, float *grad_input, float *grad_linear_weight, float *grad_linear_bias);
CLOSS_API closs_status closs_linear_cross_entropy_partial_f32(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const float *input,
    const float *linear_weight, const float *linear_bias, const int64_t *target, const float *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_linear_cross_entropy_f64(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const double *input,
    const double *linear_weight, const double *linear_bias, const int64_t *target, const double *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    double *out);
CLOSS_API closs_status closs_linear_cross_entropy_backward_f64(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const double *input,
    const double *linear_weight, const double *linear_bias, const int64_t *target, const double *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    const double *grad_output, double *grad_input, double *grad_linear_weight, double *grad_linear_bias);
CLOSS_API closs_status closs_linear_cross_entropy_fused_f64(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const double *input,
    const double *linear_weight, const double *linear_bias, const int64_t *target, const double *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction,
    double *out, double *grad_input, double *grad_linear_weight, double *grad_linear_bias);
CLOSS_API closs_status closs_linear_cross_entropy_partial_f64(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const double *input,
    const double *linear_weight, const double *linear_bias, const int64_t *target, const double *weight,
    int64_t ignore_index, double label_smoothing, closs_reduction reduction, double *out);

/* With probability targets (n, c, s) of the input's dtype. */
CLOSS_API closs_status closs_linear_cross_entropy_prob_f32(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const float *input,
    const float *linear_weight, const float *linear_bias, const float *target, const float *weight,
    double label_smoothing, closs_reduction reduction,
    float *out);
CLOSS_API closs_status closs_linear_cross_entropy_prob_backward_f32(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const float *input,
    const float *linear_weight, const float *linear_bias, const float *target, const float *weight,
    double label_smoothing, closs_reduction reduction,
    const float *grad_output, float *grad_input, float *grad_linear_weight, float *grad_linear_bias);
CLOSS_API closs_status closs_linear_cross_entropy_prob_fused_f32(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const float *input,
    const float *linear_weight, const float *linear_bias, const float *target, const float *weight,
    double label_smoothing, closs_reduction reduction,
    float *out, float *grad_input, float *grad_linear_weight, float *grad_linear_bias);
CLOSS_API closs_status closs_linear_cross_entropy_prob_partial_f32(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const float *input,
    const float *linear_weight, const float *linear_bias, const float *target, const float *weight,
    double label_smoothing, closs_reduction reduction, double *out);
CLOSS_API closs_status closs_linear_cross_entropy_prob_f64(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const double *input,
    const double *linear_weight, const double *linear_bias, const double *target, const double *weight,
    double label_smoothing, closs_reduction reduction,
    double *out);
CLOSS_API closs_status closs_linear_cross_entropy_prob_backward_f64(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const double *input,
    const double *linear_weight, const double *linear_bias, const double *target, const double *weight,
    double label_smoothing, closs_reduction reduction,
    const double *grad_output, double *grad_input, double *grad_linear_weight, double *grad_linear_bias);
CLOSS_API closs_status closs_linear_cross_entropy_prob_fused_f64(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const double *input,
    const double *linear_weight, const double *linear_bias, const double *target, const double *weight,
    double label_smoothing, closs_reduction reduction,
    double *out, double *grad_input, double *grad_linear_weight, double *grad_linear_bias);
CLOSS_API closs_status closs_linear_cross_entropy_prob_partial_f64(
    int64_t n, int64_t in_features, int64_t c, int64_t s, const double *input,
    const double *linear_weight, const double *linear_bias, const double *target, const double *weight,
    double label_smoothing, closs_reduction reduction, double *out);

#ifdef __cplusplus
}
#endif

#endif /* CLOSS_H */
