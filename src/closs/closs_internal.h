/*
 * closs_internal.h - what the C core shares and no user sees (not installed):
 *   family entries   the ABI between the Python extension and the core: one
 *                    entry point and one arguments struct per loss family
 *   conventions      name pasting, the one templating convention (CLOSS_T,
 *                    CLOSS_SFX, CLOSS_FN; closs_instantiate.h), SIMD attributes
 *   block driver     closs_blocks (parallel.c): threads and the deterministic
 *                    reduction, and what every family's driver shares (sums,
 *                    reduced values, argument and size checks)
 *   numerics         the vectorisable exp and log of the compute-bound kernels
 */
#ifndef CLOSS_INTERNAL_H
#define CLOSS_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "closs.h"

/* ============================================================ family entries
 * The ABI between the Python extension and the C core: one entry point per
 * loss family, (dtype, kind, op, arguments struct). Not exported from the
 * shared library (no CLOSS_API): the extension links the static library and
 * declares these in closs/_closs.pxd. Embedders use closs.h's per-loss
 * functions, which are thin wrappers over these entries.
 *
 * kind indexes the family's X-list (CLOSS_<FAMILY>_LOSSES), whose names table
 * (closs_<family>_names) the extension reads; op is a closs_op. */

/* PARTIAL is a FORWARD of a reduced loss (MEAN or SUM, else
 * CLOSS_ERR_INVALID_REDUCTION) whose out is two doubles, the partial pair of
 * closs.h's closs_<loss>_partial functions: the sum S and MEAN's denominator D
 * (1 for SUM). */
/* GRAD_HESS (element-wise and classification families) is a FUSED of
 * reduction SUM (else CLOSS_ERR_INVALID_REDUCTION) that also writes the
 * diagonal of the Hessian, d2 sum(L) / dx_i^2, into `hess` (n values, like
 * grad_input); its out is one value or NULL (the value not wanted). The
 * public closs_<loss>_grad_hess functions are its wrappers. */
typedef enum closs_op {
    CLOSS_OP_FORWARD = 0,
    CLOSS_OP_BACKWARD = 1,
    CLOSS_OP_FUSED = 2,
    CLOSS_OP_PARTIAL = 3,
    CLOSS_OP_GRAD_HESS = 4
} closs_op;
typedef enum closs_dtype { CLOSS_F32 = 0, CLOSS_F64 = 1 } closs_dtype;

/* ---- element-wise family (elementwise.c) ---- */

/* One element-wise call on n elements (0 <= n <= CLOSS_MAX_ELEMENTS). Arrays
 * are of the dtype's type, n values each unless said otherwise; NULL when
 * absent (any array when n == 0). */
typedef struct closs_elementwise_args {
    int64_t n;
    const void *input, *target;
    const void *weight;      /* per-element weight, or NULL */
    const void *aux;         /* the loss's second input (pos_weight, var), or NULL */
    const void *grad_output; /* BACKWARD: n values for NONE, one otherwise; NULL: 1 */
    void *out;               /* FORWARD, FUSED: n values for NONE, one otherwise */
    void *grad_input;        /* BACKWARD, FUSED */
    void *grad_aux;          /* BACKWARD, FUSED of a differentiable aux (var), or NULL */
    double p0, p1, p2;       /* the loss's parameters (elementwise.c's X-list) */
    closs_reduction reduction;
    void *hess;              /* GRAD_HESS: the Hessian's diagonal, n values */
    void *grad_target;       /* BACKWARD, FUSED: dL/dtarget, n values, or NULL */
    void *grad_weight;       /* BACKWARD, FUSED: dL/dweight (weight given), n values, or NULL */
} closs_elementwise_args;

/* The losses' names by kind, and their count. */
extern const char *const closs_elementwise_names[];
extern const int closs_elementwise_count;

/* Runs loss `kind` of the element-wise family. The per-loss public functions
 * (closs_mse_loss_f32 ...) are wrappers over it; status codes as theirs, and
 * CLOSS_ERR_INVALID_ARGUMENT for an unknown dtype, kind or op. */
closs_status closs_elementwise_call(closs_dtype dtype, int kind, closs_op op,
                                    const closs_elementwise_args *a);

/* ---- row-wise family (rowwise.c) ---- */

/* What a row-wise loss's idx holds (closs_rowwise_layouts[kind]). */
typedef enum closs_rowwise_layout {
    CLOSS_ROWWISE_NO_INDICES = 0,  /* no class indices */
    CLOSS_ROWWISE_ROW_INDEX = 1,   /* one class index per row (n) */
    CLOSS_ROWWISE_ROW_INDICES = 2, /* a list of class indices per row (n * d) */
} closs_rowwise_layout;

/* One row-wise call: n rows of d elements (d is 1 for margin_ranking_loss),
 * arrays of the call's dtype except idx. Fields a loss does not take are
 * ignored; closs.h's per-loss functions say which it takes. */
typedef struct closs_rowwise_args {
    int64_t n, d;
    const void *x0, *x1, *x2;  /* differentiable inputs, n * d each */
    const void *y;             /* per-row target values (n) */
    const int64_t *idx;        /* class indices, as closs_rowwise_layouts[kind] says */
    const void *w;             /* class weights (d), or NULL for ones */
    double p0, p1, p2, p3;     /* the loss's parameters, in closs.h's order */
    closs_reduction reduction;
    const void *grad_output;   /* BACKWARD: n values for NONE, else one; NULL: ones */
    void *out;                 /* FORWARD, FUSED: n values for NONE, else one */
    void *g0, *g1, *g2;        /* BACKWARD, FUSED: the inputs' gradients, n * d each */
    void *gy;                  /* BACKWARD, FUSED: y's gradient (margin_ranking_loss), or NULL */
} closs_rowwise_args;

/* kind indexes closs_rowwise_names (closs_rowwise_count of them). */
closs_status closs_rowwise_call(closs_dtype dtype, int kind, closs_op op,
                                const closs_rowwise_args *a);
extern const char *const closs_rowwise_names[];
extern const int closs_rowwise_layouts[];
extern const int closs_rowwise_count;

/* ---- classification family (classification.c) ---- */

/* X(name, target, (parameters), (ignore_index, label_smoothing)): target is
 * INDICES (int64 class indices, args.t) or PROBABILITIES (args.tp, of the
 * input's dtype); parameters are those of the public functions between weight
 * and reduction, and the last group how they fill the arguments. */
#define CLOSS_CLASSIFICATION_LOSSES(X)                                                 \
    X(nll_loss, INDICES, (int64_t ignore_index), (ignore_index, 0.0))                  \
    X(cross_entropy, INDICES, (int64_t ignore_index, double label_smoothing),          \
      (ignore_index, label_smoothing))                                                 \
    X(cross_entropy_prob, PROBABILITIES, (double label_smoothing), (0, label_smoothing))

#define CLOSS_CLASSIFICATION_KIND_(name, target, params, args) CLOSS_CLASSIFICATION_##name,
enum { CLOSS_CLASSIFICATION_LOSSES(CLOSS_CLASSIFICATION_KIND_) CLOSS_CLASSIFICATION_COUNT };
#undef CLOSS_CLASSIFICATION_KIND_

extern const char *const closs_classification_names[CLOSS_CLASSIFICATION_COUNT];

/* A classification call on input (n, c, s) (closs.h): t (n s class indices) for
 * INDICES losses, tp (n c s probabilities) for PROBABILITIES, w (c) or NULL;
 * ignore_index only with indices, label_smoothing not for nll_loss (both
 * ignored where a loss has no such parameter). FORWARD fills out, BACKWARD
 * grad_input from grad_output, FUSED out and grad_input (what an op does not
 * use is ignored). Arrays are of dtype. */
typedef struct closs_classification_args {
    int64_t n, c, s;
    const void *x;
    const int64_t *t;
    const void *tp;
    const void *w;
    int64_t ignore_index;
    double label_smoothing;
    closs_reduction reduction;
    void *out;
    const void *grad_output;
    void *grad_input;
    void *hess; /* GRAD_HESS: the Hessian's diagonal, n c s values */
    void *grad_target; /* cross_entropy_prob, BACKWARD, FUSED: n c s values, or NULL */
    void *grad_weight; /* cross_entropy_prob, BACKWARD, FUSED: c values (w given), or NULL */
} closs_classification_args;

closs_status closs_classification_call(closs_dtype dtype, int kind, closs_op op,
                                       const closs_classification_args *a);

/* A part of a larger classification call (linear.c: one block of rows): the
 * call's kernels with the reduction left to the caller. With NONE, out (FORWARD,
 * FUSED) receives the positions' values and the gradient (BACKWARD, FUSED) is
 * scaled by grad_output (n s values) when given, else by gscale; with MEAN or
 * SUM the gradient is scaled by gscale (grad_output over the whole call's
 * denominator) and part[0], part[1] receive the loss sum and the kept weight
 * (double, added in the part's fixed block order); out and grad_output are
 * then not read. */
closs_status closs_classification_part(closs_dtype dtype, int kind, closs_op op,
                                       const closs_classification_args *a, double gscale,
                                       double part[2]);

/* MEAN's denominator of a classification call: n s for probabilities (0 when
 * c is 0), else the summed weight of the kept class indices, which are checked
 * (CLOSS_ERR_INDEX_OUT_OF_RANGE) in a pass that writes nothing. */
closs_status closs_classification_denominator(closs_dtype dtype, int kind,
                                              const closs_classification_args *a,
                                              double *denominator);

/* ---- linear_cross_entropy (linear.c) ---- */

/* A linear_cross_entropy call (closs.h): cross entropy (kind cross_entropy or
 * cross_entropy_prob of the classification family, whose parameters it takes)
 * of the logits input linear_weight^T + linear_bias, of shape (n, c, s), which
 * are computed and consumed a block of rows at a time. FORWARD fills out,
 * BACKWARD the wanted gradients (each NULL when not wanted) from grad_output,
 * FUSED both. Arrays are of dtype. */
typedef struct closs_linear_args {
    int64_t n, in_features, c, s;
    const void *input;         /* n x in_features */
    const void *linear_weight; /* (c s) x in_features */
    const void *linear_bias;   /* c s, or NULL */
    const int64_t *t;          /* n s class indices (cross_entropy) */
    const void *tp;            /* n c s probabilities (cross_entropy_prob) */
    const void *w;             /* c class weights, or NULL */
    int64_t ignore_index;
    double label_smoothing;
    closs_reduction reduction;
    void *out;
    const void *grad_output;
    void *grad_input, *grad_weight, *grad_bias;
} closs_linear_args;

closs_status closs_linear_call(closs_dtype dtype, int kind, closs_op op,
                               const closs_linear_args *a);

/* The rows of the blocks of a call with v = c s logits per row (linear.c). */
int64_t closs_linear_block_rows(int64_t v);

/* ---- ctc family (ctc.c) ---- */

/* A ctc_loss call (closs.h's CLOSS_CTC_ARGS, reduction and buffers); FORWARD
 * fills out, BACKWARD grad_log_probs from grad_output, FUSED out and
 * grad_log_probs (what an op does not use is ignored). Arrays are of dtype. */
typedef struct closs_ctc_args {
    int64_t t, n, c;
    const void *log_probs;
    const int64_t *targets;
    int64_t s;
    int concatenated;
    const int64_t *input_lengths, *target_lengths;
    int64_t blank;
    int zero_infinity;
    closs_reduction reduction;
    void *out;
    const void *grad_output;
    void *grad_log_probs;
} closs_ctc_args;

closs_status closs_ctc_call(closs_dtype dtype, closs_op op, const closs_ctc_args *a);

/* ============================================================ conventions */

#define CLOSS_CAT_(a, b) a##b
#define CLOSS_CAT(a, b) CLOSS_CAT_(a, b)
#define CLOSS_CAT3(a, b, c) CLOSS_CAT(CLOSS_CAT(a, b), c)

/*
 * The one templating convention. A family's template header is written in
 * CLOSS_T (float or double) and names what it defines per dtype CLOSS_FN(name)
 * (name_f32 or name_f64); CLOSS_IS_F64 tells the dtype to untyped code. A
 * family's .c file defines CLOSS_TEMPLATE as its template header's name and
 * includes "closs_instantiate.h", which includes the template once per dtype.
 */
#define CLOSS_FN(name) CLOSS_CAT3(name, _, CLOSS_SFX)

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

/*
 * Runtime SIMD dispatch. A hot block kernel is compiled once per SIMD level
 * (GCC's target attribute on copies of one body) and reached through a small
 * dispatcher that calls the copy of the process's level: the best the CPU
 * has, capped by the environment variable CLOSS_SIMD=baseline|avx2|avx512,
 * chosen once (closs_simd(), library.c). One binary runs on any x86-64, and
 * each level can be run and tested on a machine that has a better one.
 *
 *   CLOSS_BLOCK_KERNEL(name, body...)         static closs_block_fn: (c, b, e) -> double
 *   CLOSS_SUMS_KERNEL(name, body...)          static closs_sums_fn: (c, b, e, s)
 *   CLOSS_COMPUTE_SUMS_KERNEL(name, body...)  the same, for compute-bound kernels
 *
 * Streaming kernels have an AVX2 copy (target "avx2": no FMA, so their
 * rounding is the baseline's) and the baseline. Compute-bound kernels (an
 * exponential per element: the softmax losses, ctc) also gain from FMA and
 * AVX-512: copies for x86-64-v4 (level avx512), x86-64-v3 (level avx2) and the
 * baseline where GCC knows the ISA levels (GCC >= 12, CLOSS_SIMD_ISA_LEVELS).
 * Off (-Dsimd_dispatch=disabled, another compiler or another CPU family) each
 * kernel is one plain function compiled for the build's target.
 */
#define CLOSS_SIMD_BASELINE 0
#define CLOSS_SIMD_AVX2 1   /* x86-64-v3 (AVX2, FMA) where GCC knows the levels, else AVX2 */
#define CLOSS_SIMD_AVX512 2 /* x86-64-v4 (AVX-512 F, BW, CD, DQ, VL) */

#define CLOSS_BLOCK_PARAMS (const void *c, int64_t b, int64_t e)
#define CLOSS_SUMS_PARAMS (const void *c, int64_t b, int64_t e, double *s)

#if defined(CLOSS_SIMD_DISPATCH) && defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CLOSS_DISPATCHING 1

/* The level the kernels run (CLOSS_SIMD_*), chosen at the first call. */
extern int closs_simd_state_; /* library.c: -1 until chosen */
int closs_simd_choose(void);
CLOSS_INLINE int closs_simd(void)
{
    const int state = __atomic_load_n(&closs_simd_state_, __ATOMIC_RELAXED);
    return (state >= 0 ? state : closs_simd_choose()) & 3;
}

#define CLOSS_AT_AVX2 __attribute__((target("avx2")))
#define CLOSS_BLOCK_KERNEL(name, ...)                                                       \
    static CLOSS_AT_AVX2 double CLOSS_CAT(name, _avx2) CLOSS_BLOCK_PARAMS { __VA_ARGS__ } \
    static double CLOSS_CAT(name, _base) CLOSS_BLOCK_PARAMS { __VA_ARGS__ }               \
    static double name CLOSS_BLOCK_PARAMS                                                 \
    {                                                                                     \
        return closs_simd() >= CLOSS_SIMD_AVX2 ? CLOSS_CAT(name, _avx2)(c, b, e)          \
                                               : CLOSS_CAT(name, _base)(c, b, e);         \
    }
#define CLOSS_SUMS_KERNEL(name, ...)                                                      \
    static CLOSS_AT_AVX2 void CLOSS_CAT(name, _avx2) CLOSS_SUMS_PARAMS { __VA_ARGS__ }  \
    static void CLOSS_CAT(name, _base) CLOSS_SUMS_PARAMS { __VA_ARGS__ }                \
    static void name CLOSS_SUMS_PARAMS                                                  \
    {                                                                                   \
        if (closs_simd() >= CLOSS_SIMD_AVX2)                                            \
            CLOSS_CAT(name, _avx2)(c, b, e, s);                                         \
        else                                                                            \
            CLOSS_CAT(name, _base)(c, b, e, s);                                         \
    }
/* A block kernel that is compute-bound when `compute` (a constant expression)
 * is nonzero, streaming otherwise: the copies of the one kind are called, and
 * GCC drops the other's, which nothing references. */
#if defined(CLOSS_SIMD_ISA_LEVELS)
#define CLOSS_BLOCK_KERNEL_IF_COMPUTE(compute, name, ...)                                   \
    static __attribute__((target("arch=x86-64-v4"))) double CLOSS_CAT(name, _v4)           \
        CLOSS_BLOCK_PARAMS { __VA_ARGS__ }                                                  \
    static __attribute__((target("arch=x86-64-v3"))) double CLOSS_CAT(name, _v3)           \
        CLOSS_BLOCK_PARAMS { __VA_ARGS__ }                                                  \
    static CLOSS_AT_AVX2 double CLOSS_CAT(name, _avx2) CLOSS_BLOCK_PARAMS { __VA_ARGS__ } \
    static double CLOSS_CAT(name, _base) CLOSS_BLOCK_PARAMS { __VA_ARGS__ }               \
    static double name CLOSS_BLOCK_PARAMS                                                 \
    {                                                                                     \
        const int level_ = closs_simd();                                                  \
        if (compute && level_ >= CLOSS_SIMD_AVX512) return CLOSS_CAT(name, _v4)(c, b, e); \
        if (compute && level_ == CLOSS_SIMD_AVX2) return CLOSS_CAT(name, _v3)(c, b, e);   \
        if (!compute && level_ >= CLOSS_SIMD_AVX2) return CLOSS_CAT(name, _avx2)(c, b, e); \
        return CLOSS_CAT(name, _base)(c, b, e);                                           \
    }
#define CLOSS_COMPUTE_SUMS_KERNEL(name, ...)                                            \
    static __attribute__((target("arch=x86-64-v4"))) void CLOSS_CAT(name, _v4)         \
        CLOSS_SUMS_PARAMS { __VA_ARGS__ }                                               \
    static __attribute__((target("arch=x86-64-v3"))) void CLOSS_CAT(name, _v3)         \
        CLOSS_SUMS_PARAMS { __VA_ARGS__ }                                               \
    static void CLOSS_CAT(name, _base) CLOSS_SUMS_PARAMS { __VA_ARGS__ }                \
    static void name CLOSS_SUMS_PARAMS                                                  \
    {                                                                                   \
        const int level_ = closs_simd();                                                \
        if (level_ >= CLOSS_SIMD_AVX512)                                                \
            CLOSS_CAT(name, _v4)(c, b, e, s);                                           \
        else if (level_ == CLOSS_SIMD_AVX2)                                             \
            CLOSS_CAT(name, _v3)(c, b, e, s);                                           \
        else                                                                            \
            CLOSS_CAT(name, _base)(c, b, e, s);                                         \
    }
#else
#define CLOSS_BLOCK_KERNEL_IF_COMPUTE(compute, name, ...) CLOSS_BLOCK_KERNEL(name, __VA_ARGS__)
#define CLOSS_COMPUTE_SUMS_KERNEL CLOSS_SUMS_KERNEL
#endif

#else /* no dispatch: one copy */
#define CLOSS_BLOCK_KERNEL(name, ...) static double name CLOSS_BLOCK_PARAMS { __VA_ARGS__ }
#define CLOSS_SUMS_KERNEL(name, ...) static void name CLOSS_SUMS_PARAMS { __VA_ARGS__ }
#define CLOSS_BLOCK_KERNEL_IF_COMPUTE(compute, name, ...) CLOSS_BLOCK_KERNEL(name, __VA_ARGS__)
#define CLOSS_COMPUTE_SUMS_KERNEL CLOSS_SUMS_KERNEL
#endif

/* ============================================================ block driver */

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

/* ============================================================ numerics
 * Numerical helpers of the kernels; each names its reference. (The element-wise
 * losses' softplus, sigmoid ... are in CLOSS_T in their template, elementwise.h.) */

/* Vector math: glibc's libmvec (glibc >= 2.22, linked through libm) has SIMD
 * variants of exp and log for SSE2 and AVX2, accurate to 4 ulp. glibc declares
 * them only under -ffast-math, which closs does not use (it would break NaN and
 * inf handling); declaring them here lets GCC vectorise the loops that call
 * them. meson.build defines CLOSS_VECTOR_MATH where this links. Only the
 * glibc 2.22 set is used (not log1p), so wheels need no newer glibc. */
#ifdef CLOSS_VECTOR_MATH
#define CLOSS_SIMD_MATH __attribute__((simd("notinbranch")))
extern float (expf)(float) CLOSS_SIMD_MATH;
extern float (logf)(float) CLOSS_SIMD_MATH;
extern double (exp)(double) CLOSS_SIMD_MATH; /* (name): not tgmath's macro */
extern double (log)(double) CLOSS_SIMD_MATH;
#endif

/* A float's bits (the unsigned integer of its width) and back, without
 * breaking aliasing rules: memcpy compiles to a register move. */
CLOSS_INLINE uint32_t closs_bits_f32(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }
CLOSS_INLINE uint64_t closs_bits_f64(double f) { uint64_t u; memcpy(&u, &f, sizeof u); return u; }
CLOSS_INLINE float closs_from_bits_f32(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
CLOSS_INLINE double closs_from_bits_f64(uint64_t u) { double f; memcpy(&f, &u, sizeof f); return f; }

/*
 * closs_exp_f32 / closs_exp_f64: e^x written so that GCC vectorises a loop that
 * calls it (no libm call, no table, no float-to-int conversion), used by the
 * softmax of the classification losses.
 *   Method: x = n ln2 + r with n = round(x / ln2), |r| <= ln2 / 2 (Cody-Waite,
 *   ln2 split in two so that n * ln2_hi is exact); e^r by a polynomial; 2^n
 *   built from exponent bits.
 *   f32: the polynomial of Cephes' expf (S. Moshier, Cephes Math Library,
 *        expf.c): e^r = 1 + r + r^2 P5(r); within 1 ulp of the exact value
 *        (tests/c/test_classification.c checks a dense sample of [-87, 0]).
 *   f64: Taylor series of degree 13, truncation error < 5e-18 on |r| <= ln2 / 2;
 *        within 2 ulp of expl over a sweep of [-708, 709] (the same test).
 *   Domain: x <= 88 (f32), x <= 709 (f64), where e^x is finite. Results below
 *   the smallest normal number (x < -87.3, -708.4) flush to 0 from about
 *   x < -87.7 (-708.9), as the exp of PyTorch's softmax kernels does; -inf
 *   gives 0 and NaN gives NaN. Callers pass x - max(x) <= 0, or NaN.
 */

/* 2^n for an integer-valued n in [-126, 127], and 0 for n = -127: n + 127
 * lands in the low bits of the mantissa of n + 1.5 * 2^23 + 127, and shifting
 * it by 23 makes it the exponent (the bits above fall off). */
CLOSS_INLINE float closs_pow2i_f32(float n)
{
    return closs_from_bits_f32(closs_bits_f32(n + (0x1.8p23f + 127.0f)) << 23);
}

CLOSS_INLINE double closs_pow2i_f64(double n)
{
    return closs_from_bits_f64(closs_bits_f64(n + (0x1.8p52 + 1023.0)) << 52);
}

/* e^x = p 2^n for |x| below about 750: Cody-Waite reduction x = n ln2 + r
 * (n = round(x / ln2), |r| <= ln2 / 2, ln2 split in two so that n ln2_hi is
 * exact) and e^r = p by a polynomial. Returns p and stores n (integer-valued).
 * NaN gives NaN. */
CLOSS_INLINE float closs_exp_reduced_f32(float x, float *n_out)
{
    const float shift = 0x1.8p23f; /* adding it rounds to an integer */
    const float n = (x * 1.44269504088896341f + shift) - shift;
    float r = x - n * 0.693359375f;  /* ln2_hi: 9 bits, n * ln2_hi is exact */
    r = r - n * -2.12194440e-4f;     /* ln2_lo */
    const float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    *n_out = n;
    return p * z + r + 1.0f;
}

CLOSS_INLINE double closs_exp_reduced_f64(double x, double *n_out)
{
    const double shift = 0x1.8p52;
    const double n = (x * 1.4426950408889634074 + shift) - shift;
    double r = x - n * 6.93147180369123816490e-01; /* fdlibm's ln2_hi and ln2_lo */
    r = r - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0; /* 1/13! ... 1/0!, Horner */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    *n_out = n;
    return p * r + 1.0;
}

CLOSS_INLINE float closs_exp_f32(float x)
{
    x = x < -88.0f ? -88.0f : x; /* keeps NaN; n >= -127, and 2^-127 is made 0 */
    float n;
    const float p = closs_exp_reduced_f32(x, &n);
    return p * closs_pow2i_f32(n);
}

CLOSS_INLINE double closs_exp_f64(double x)
{
    x = x < -709.0 ? -709.0 : x; /* n >= -1023, and 2^-1023 is made 0 */
    double n;
    const double p = closs_exp_reduced_f64(x, &n);
    return p * closs_pow2i_f64(n);
}

/*
 * closs_exp_full_f32 / closs_exp_full_f64: e^x on the whole line, for
 * arguments of any sign (the CTC gradient's exp(log_probs), which need not be
 * normalised): the same reduction and polynomial as closs_exp, with 2^n
 * applied as 2^h 2^(n - h), h = round(n / 2), so that both factors are normal
 * and the one rounding of the last product gives gradual underflow
 * (subnormal results) and overflow to inf. x is clamped first to
 * [-104, 89] (f32) / [-750, 710] (f64), where e^x rounds to 0 and inf: -inf
 * gives 0, +inf gives inf, NaN gives NaN. Within 1 ulp (f32) / 2 ulp (f64)
 * for normal results (tests/c/test_ctc.c sweeps the range).
 */
CLOSS_INLINE float closs_exp_full_f32(float x)
{
    x = x < -104.0f ? -104.0f : x; /* e^-104 < 2^-150: rounds to 0 */
    x = x > 89.0f ? 89.0f : x;     /* e^89 > FLT_MAX */
    float n;
    const float p = closs_exp_reduced_f32(x, &n);
    const float h = (n * 0.5f + 0x1.8p23f) - 0x1.8p23f;
    return p * closs_pow2i_f32(h) * closs_pow2i_f32(n - h);
}

CLOSS_INLINE double closs_exp_full_f64(double x)
{
    x = x < -750.0 ? -750.0 : x;
    x = x > 710.0 ? 710.0 : x;
    double n;
    const double p = closs_exp_reduced_f64(x, &n);
    const double h = (n * 0.5 + 0x1.8p52) - 0x1.8p52;
    return p * closs_pow2i_f64(h) * closs_pow2i_f64(n - h);
}

/*
 * closs_log_f32 / closs_log_f64: the natural logarithm, written so that GCC
 * vectorises a loop that calls it (no libm call, no table, no int-to-float
 * conversion), used by the CTC recursions.
 *   Method: x = 2^e m with m in [sqrt(1/2), sqrt(2)) (subnormal x scaled up
 *   first); with f = m - 1 and s = f / (2 + f), log(m) = 2 atanh(s)
 *   = f - (f^2/2 - s (f^2/2 + R(s^2))), R(z) = 2 z / 3 + 2 z^2 / 5 + ... (the
 *   atanh series; the exact f carries the leading term, as in fdlibm's log),
 *   |s| <= 0.172: 4 terms (f32), 10 terms (f64) leave a truncation error
 *   below 3e-9 / 6e-19 relative; log(x) = e ln2_hi + (log(m) + e ln2_lo).
 *   The exponent e becomes a float through the bits of 1.5 2^23 + e.
 *   Within 2 ulp of the exact value over the positive numbers (the sweep in
 *   tests/c/test_ctc.c). log(0) = -inf, log(inf) = inf, x < 0 and NaN give NaN.
 */
CLOSS_INLINE float closs_log_f32(float x)
{
    const int tiny = x < 0x1p-126f;
    const float xs = tiny ? x * 0x1p23f : x;
    const uint32_t k = closs_bits_f32(xs) - 0x3f3504f3u; /* 0x3f3504f3: sqrt(1/2) */
    const int32_t ei = (int32_t)k >> 23;                  /* arithmetic: e < 0 too */
    const float m = closs_from_bits_f32((k & 0x007fffffu) + 0x3f3504f3u);
    const float e = closs_from_bits_f32(0x4b400000u + (uint32_t)ei) - 0x1.8p23f -
                    (tiny ? 23.0f : 0.0f);
    const float f = m - 1.0f, s = f / (2.0f + f), z = s * s, hfsq = 0.5f * f * f;
    const float r = z * (2.0f / 3 + z * (2.0f / 5 + z * (2.0f / 7 + z * (2.0f / 9))));
    const float lm = f - (hfsq - s * (hfsq + r));
    const float l = e * 0.693359375f + (lm + e * -2.12194440e-4f);
    const float special = x == 0 ? -(float)INFINITY : x < 0 ? (float)NAN : x;
    return x > 0 && x < (float)INFINITY ? l : special;
}

CLOSS_INLINE double closs_log_f64(double x)
{
    const int tiny = x < 0x1p-1022;
    const double xs = tiny ? x * 0x1p52 : x;
    const uint64_t k = closs_bits_f64(xs) - 0x3fe6a09e667f3bcdu; /* sqrt(1/2) */
    const int64_t ei = (int64_t)k >> 52;
    const double m = closs_from_bits_f64((k & 0x000fffffffffffffu) + 0x3fe6a09e667f3bcdu);
    const double e = closs_from_bits_f64(0x4338000000000000u + (uint64_t)ei) - 0x1.8p52 -
                     (tiny ? 52.0 : 0.0);
    const double f = m - 1.0, s = f / (2.0 + f), z = s * s, hfsq = 0.5 * f * f;
    double r = 2.0 / 21;
    r = r * z + 2.0 / 19;
    r = r * z + 2.0 / 17;
    r = r * z + 2.0 / 15;
    r = r * z + 2.0 / 13;
    r = r * z + 2.0 / 11;
    r = r * z + 2.0 / 9;
    r = r * z + 2.0 / 7;
    r = r * z + 2.0 / 5;
    r = r * z + 2.0 / 3;
    r = r * z;
    const double lm = f - (hfsq - s * (hfsq + r));
    const double l = e * 6.93147180369123816490e-01 + (lm + e * 1.90821492927058770002e-10);
    const double special = x == 0 ? -(double)INFINITY : x < 0 ? (double)NAN : x;
    return x > 0 && x < (double)INFINITY ? l : special;
}

#endif /* CLOSS_INTERNAL_H */
