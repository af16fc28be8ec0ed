/*
 * closs_internal.h - what every kernel file shares and no user sees:
 * name pasting, the SIMD dispatch attribute, argument checks and the one
 * block driver that owns threading and the deterministic reduction.
 */
#ifndef CLOSS_INTERNAL_H
#define CLOSS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "closs.h"

#define CLOSS_CAT_(a, b) a##b
#define CLOSS_CAT(a, b) CLOSS_CAT_(a, b)
#define CLOSS_CAT3(a, b, c) CLOSS_CAT(CLOSS_CAT(a, b), c)

/* A parenthesised argument list without its parentheses (the X-lists pass
 * argument lists as one macro argument). */
#define CLOSS_UNPAREN(...) __VA_ARGS__

/* The leading arguments of the ctc_loss functions (closs.h), in element type
 * TYPE: ctc.h defines the public functions with it. */
#define CLOSS_CTC_ARGS(TYPE)                                                         \
    int64_t t, int64_t n, int64_t c, const TYPE *log_probs, const int64_t *targets, \
        int64_t s, int concatenated, const int64_t *input_lengths,                 \
        const int64_t *target_lengths, int64_t blank, int zero_infinity

#if defined(__GNUC__)
#define CLOSS_INLINE static inline __attribute__((always_inline))
#else
#define CLOSS_INLINE static inline
#endif

/* Runtime SIMD dispatch for hot array kernels: GCC emits an AVX2 clone and a
 * baseline clone and picks one at load time, so one binary runs on any x86-64.
 * Off (-Dsimd_dispatch=disabled) the baseline code alone is built. */
#if defined(CLOSS_SIMD_DISPATCH) && defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CLOSS_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define CLOSS_KERNEL
#endif

/* Compute-bound kernels (an exponential per element: the softmax losses) gain
 * from FMA and AVX-512 too: clones for x86-64-v4 (AVX-512), x86-64-v3 (AVX2,
 * FMA) and the baseline, where GCC knows the ISA levels (GCC >= 12). */
#if defined(CLOSS_SIMD_DISPATCH) && defined(CLOSS_SIMD_ISA_LEVELS) && defined(__GNUC__) && \
    defined(__x86_64__) && !defined(__clang__)
#define CLOSS_COMPUTE_KERNEL \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLOSS_COMPUTE_KERNEL CLOSS_KERNEL
#endif

/* Independent double accumulators per block: wide enough for AVX2 on float
 * input, and fixed, so the summation order depends on the data alone. */
#define CLOSS_LANES 16

/* A block kernel processes elements [begin, end) of the work described by ctx
 * and returns its partial sum (0 when it reduces nothing). */
typedef double (*closs_block_fn)(const void *ctx, int64_t begin, int64_t end);

/*
 * closs_blocks - the one driver of every array kernel.
 * Splits [0, n) into at most CLOSS_MAX_BLOCKS blocks of at least
 * CLOSS_BLOCK_MIN elements whose boundaries depend on n alone, runs fn on each
 * (on a team of threads when n >= parallel_min and more than one thread is
 * allowed) and returns the partial sums added in block order. The result is
 * therefore bit-identical for any number of threads.
 */
#define CLOSS_BLOCK_MIN 4096
#define CLOSS_MAX_BLOCKS 1024
double closs_blocks(int64_t n, int64_t parallel_min, closs_block_fn fn, const void *ctx);

/*
 * closs_blocks_sums - the same driver for work in units of `unit` elements each
 * (a row of C classes, a sample ...) and kernels with several sums.
 * fn stores the nsums (<= CLOSS_MAX_SUMS) partial sums of units [begin, end) in
 * sums[]; blocks hold at least one unit and at least CLOSS_BLOCK_MIN elements;
 * their boundaries depend on n and unit alone; a team runs them when
 * n * unit >= parallel_min; sums[k] receives the partial sums added in block
 * order. closs_blocks is the case unit = 1, nsums = 1.
 */
#define CLOSS_MAX_SUMS 4
typedef void (*closs_sums_fn)(const void *ctx, int64_t begin, int64_t end, double *sums);
void closs_blocks_sums(int64_t n, int64_t unit, int64_t parallel_min, closs_sums_fn fn,
                       const void *ctx, int nsums, double *sums);

/* Inside a block function of closs_blocks_sums: the calling thread's number in
 * the team running the blocks (0 when they run serially, also from within a
 * caller's own OpenMP team), below the closs_get_num_threads() of the call: an
 * index into per-thread scratch memory allocated once per call. */
int closs_thread_index(void);

/* Element count above which a streaming kernel (a few flops per element) is
 * worth a team of threads, measured with benchmarks/bench.py --threshold on the
 * 2-vCPU development machine (mse_loss fused, 1-thread time over 2-thread time):
 *   size                  2^13  2^15  2^16  2^18  2^19  2^20  2^21
 *   libgomp default spin  0.78  0.76  0.84  0.85  0.84  0.95  1.06
 *   GOMP_SPINCOUNT=1000   0.16  0.27  0.48  0.69  0.69  1.23  1.40
 * (an earlier, quieter run had 2 threads paying 1.3x from 2^16). Below 2^20 a
 * second thread of a shared 2-vCPU machine cannot be counted on, so serial. */
#define CLOSS_STREAM_PARALLEL_MIN ((int64_t)1 << 20)

/* Element count above which a kernel with an exp or log per element (binary
 * cross entropy, softplus, kl_div, poisson and gaussian nll) is worth a team:
 * 2^16 of them take 40-90 us on one thread here, as long as a streaming kernel
 * at 2^20, and a second thread paid in the same run (1 -> 2 threads, float32,
 * forward 'mean', medians of 21 interleaved samples, 2026-12-03):
 *   size    soft_margin  bce_with_logits  bce   kl_div  poisson  gaussian  mse
 *   2^16       1.73          1.73         1.71   1.64    1.64     1.37     1.12
 *   1e5        1.85          1.85         1.84   1.77    1.73     1.44     1.27  */
#define CLOSS_COMPUTE_PARALLEL_MIN ((int64_t)1 << 16)

/* Sums of arrays in the blocked order of closs_blocks. */
double closs_sum_f32(int64_t n, const float *a);
double closs_sum_f64(int64_t n, const double *a);

/* Adds the lanes of an accumulator in a fixed order. */
CLOSS_INLINE double closs_lanes_sum(const double acc[CLOSS_LANES])
{
    double s = 0.0;
    for (int k = 0; k < CLOSS_LANES; ++k) s += acc[k];
    return s;
}

/*
 * CLOSS_SUM_LANES(sum, len, j, TERM) - sets sum to TERM summed over j in
 * [0, len): CLOSS_LANES double accumulators take the terms in turn, then add in
 * a fixed order, so the loop vectorises and the result depends on the data
 * alone. TERM is an expression in j (an int64_t); it may store (a gradient).
 * Keep one such sum per loop: GCC does not vectorise two in one loop.
 */
#define CLOSS_SUM_LANES(sum, len, j, TERM)                                         \
    do {                                                                           \
        double acc_[CLOSS_LANES] = {0};                                            \
        const int64_t len_ = (len);                                                \
        int64_t base_ = 0;                                                         \
        for (; base_ + CLOSS_LANES <= len_; base_ += CLOSS_LANES)                  \
            for (int k_ = 0; k_ < CLOSS_LANES; ++k_) {                             \
                const int64_t j = base_ + k_;                                      \
                acc_[k_] += (double)(TERM);                                        \
            }                                                                      \
        for (; base_ < len_; ++base_) {                                            \
            const int64_t j = base_;                                               \
            acc_[0] += (double)(TERM);                                             \
        }                                                                          \
        (sum) = closs_lanes_sum(acc_);                                             \
    } while (0)

/* A scalar of the kernel's dtype behind a void pointer (grad_output, a reduced value). */
CLOSS_INLINE double closs_load_scalar(const void *p, int is_f64)
{
    return is_f64 ? *(const double *)p : (double)*(const float *)p;
}

CLOSS_INLINE void closs_store_scalar(void *p, double v, int is_f64)
{
    if (is_f64)
        *(double *)p = v;
    else
        *(float *)p = (float)v;
}

/* The reduced results every family's driver computes the same way: the scale of
 * a gradient (grad_output, 1 when NULL, over the mean's denominator for MEAN)
 * and the stored value (the sum, over the denominator for MEAN; with partial,
 * CLOSS_OP_PARTIAL's pair in double). */
CLOSS_INLINE double closs_grad_scale(const void *grad_output, int is_f64, closs_reduction r,
                                     double denominator)
{
    double s = grad_output ? closs_load_scalar(grad_output, is_f64) : 1.0;
    if (r == CLOSS_REDUCTION_MEAN) s /= denominator;
    return s;
}

CLOSS_INLINE void closs_store_reduced(void *out, double sum, closs_reduction r,
                                      double denominator, int is_f64, int partial)
{
    if (partial) { /* CLOSS_OP_PARTIAL: two doubles, the sum and MEAN's denominator */
        ((double *)out)[0] = sum;
        ((double *)out)[1] = r == CLOSS_REDUCTION_MEAN ? denominator : 1.0;
        return;
    }
    closs_store_scalar(out, r == CLOSS_REDUCTION_MEAN ? sum / denominator : sum, is_f64);
}

/*
 * The one templating convention. A family's template header is written in
 * CLOSS_T (float or double) and names what it defines per dtype CLOSS_FN(name)
 * (name_f32 or name_f64); CLOSS_IS_F64 tells the dtype to untyped code. A
 * family's .c file defines CLOSS_TEMPLATE as its template header's name and
 * includes "closs_instantiate.h", which includes the template once per dtype.
 */
#define CLOSS_FN(name) CLOSS_CAT3(name, _, CLOSS_SFX)

/* Argument checks shared by every entry point. */
/* r is a reduction the entries take; a partial call's (CLOSS_OP_PARTIAL) reduces. */
CLOSS_INLINE int closs_reduction_valid(closs_reduction r, int partial)
{
    return (r == CLOSS_REDUCTION_NONE && !partial) || r == CLOSS_REDUCTION_MEAN ||
           r == CLOSS_REDUCTION_SUM;
}

#define CLOSS_REQUIRE(cond, status) \
    do {                            \
        if (!(cond)) return (status); \
    } while (0)

/*
 * Checked sizes: the one place where sizes are multiplied before they are
 * known to be valid. Each returns -1 (invalid) when an operand is
 * outside [0, CLOSS_MAX_ELEMENTS] (a -1 from an earlier step included) or the
 * result exceeds CLOSS_MAX_ELEMENTS, so chains need one test at their end.
 * A family's driver checks its sizes and array lengths with these once; past
 * that check no size arithmetic of the library can overflow.
 */
CLOSS_INLINE int64_t closs_size(int64_t a)
{
    return a >= 0 && a <= CLOSS_MAX_ELEMENTS ? a : -1;
}

CLOSS_INLINE int64_t closs_mul_size(int64_t a, int64_t b)
{
    if (closs_size(a) < 0 || closs_size(b) < 0) return -1;
    if (b != 0 && a > CLOSS_MAX_ELEMENTS / b) return -1;
    return a * b;
}

/* ceil(a / b) for a >= 0 and b >= 1, without the overflow of (a + b - 1) / b. */
CLOSS_INLINE int64_t closs_ceil_div(int64_t a, int64_t b)
{
    return a / b + (a % b != 0);
}

#endif /* CLOSS_INTERNAL_H */
