/*
 * ctc.c - ctc_loss (closs.h): the family's entry closs_ctc_call
 * (closs_internal.h) with argument checks, scratch memory and the reduction;
 * the recursions of one sample, the kernels and the public functions are in
 * the template ctc.h, instantiated for float and double.
 */
#include <stdlib.h>
#include <tgmath.h>

#include "closs_internal.h"

/* -inf cells before and after every row of alpha and beta: the recursions read
 * s - 2 .. s + 2 without a test. */
#define CTC_PAD 2

/* The recursions' loops run over whole vectors of CTC_VLEN cells (16: one
 * AVX-512 vector of floats); rows hold the longest extended target rounded up
 * to it, and the pads. */
#define CTC_VLEN 16

#if defined(__GNUC__)
#define CTC_PREFETCH(p) __builtin_prefetch(p)
#else
#define CTC_PREFETCH(p) ((void)0)
#endif

/* Samples run in blocks of closs_blocks_sums, longest first (order); each
 * thread of the team uses its own slot of the scratch memory: the extended
 * target (width int64), then rows of width values: the skip mask, the gradient's
 * terms, two rows of beta, the rows of alpha (every frame of the longest input
 * with a gradient, else two) and the gathered log-probabilities (every frame). */
typedef struct closs_ctc_ctx {
    int64_t t, n, c, blank;
    const void *lp;          /* t x n x c log-probabilities */
    const int64_t *tg;       /* the targets */
    const int64_t *toff;     /* n offsets of the samples' targets in tg */
    const int64_t *il, *tl;  /* n input and target lengths */
    int zero_infinity;
    closs_reduction reduction;
    const void *go;          /* per-sample grad_output (NONE), or NULL */
    double gscale;           /* scalar grad_output, over n for MEAN */
    void *out;               /* per-sample values (NONE), or NULL */
    void *g;                 /* the gradient (t x n x c), or NULL */
    const int64_t *order;    /* the samples, longest first */
    char *scratch;
    int slots;
    int64_t width;           /* a row: the longest extended target rounded up, + CTC_VLEN */
    size_t slot_bytes;
    int64_t frames;          /* the longest input */
} closs_ctc_ctx;

#define CLOSS_TEMPLATE "ctc.h"
#include "closs_instantiate.h"

/* The block kernels by [dtype][gradient wanted]. */
static const closs_sums_fn ctc_kernels[2][2] = {{ctc_value_f32, ctc_grad_f32},
                                                {ctc_value_f64, ctc_grad_f64}};

/* A sample's work in cells of alpha (an exp and a log each, vectorised):
 * frames times extended-target symbols, and with a gradient beta's and the
 * terms' cells and the gradient's row of c exponentials per frame. */
static int64_t ctc_cost(int64_t frames, int64_t symbols, int64_t c, int want_g)
{
    return frames * (want_g ? 3 * symbols + c / 4 : symbols);
}

/* Work above which a team of threads pays, in cells of alpha. */
#define CTC_PARALLEL_MIN ((int64_t)1 << 13)

/* Batches up to this size run longest sample first. */
#define CTC_SORT_MAX 256

/* qsort's order of (cost, sample) pairs: higher cost first, then by sample. */
static int longer_first(const void *x, const void *y)
{
    const int64_t *p = (const int64_t *)x, *q = (const int64_t *)y;
    if (p[0] != q[0]) return p[0] > q[0] ? -1 : 1;
    return p[1] < q[1] ? -1 : p[1] > q[1];
}

/* Checks the arguments, fills the offsets of the targets (toff, n values) and
 * the longest input (*tmax) and extended target (*lmax). */
static closs_status check(const closs_ctc_args *a, int64_t *toff, int64_t *tmax, int64_t *lmax)
{
    *tmax = 0;
    *lmax = 1;
    int64_t pos = 0;
    for (int64_t b = 0; b < a->n; ++b) {
        const int64_t il = a->input_lengths[b], tl = a->target_lengths[b];
        CLOSS_REQUIRE(il >= 0 && il <= a->t && tl >= 0 && tl <= a->s, CLOSS_ERR_INVALID_SIZE);
        if (a->concatenated) {
            CLOSS_REQUIRE(tl <= a->s - pos, CLOSS_ERR_INVALID_SIZE);
            toff[b] = pos;
            pos += tl;
        } else {
            toff[b] = b * a->s;
        }
        if (il > *tmax) *tmax = il;
        if (2 * tl + 1 > *lmax) *lmax = 2 * tl + 1;
    }
    CLOSS_REQUIRE(!a->concatenated || pos == a->s, CLOSS_ERR_INVALID_SIZE);
    for (int64_t b = 0; b < a->n; ++b)
        for (int64_t j = 0; j < a->target_lengths[b]; ++j) {
            const int64_t k = a->targets[toff[b] + j];
            CLOSS_REQUIRE(k >= 0 && k < a->c, CLOSS_ERR_INDEX_OUT_OF_RANGE);
        }
    return CLOSS_OK;
}

/* The family's entry and one driver: with want_out, out receives the values
 * (n for NONE, else one); with want_g, g (t x n x c) receives the gradient
 * times grad_output (NULL: ones; n values for NONE, else one). */
closs_status closs_ctc_call(closs_dtype dtype, closs_op op, const closs_ctc_args *a)
{
    CLOSS_REQUIRE(a, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(dtype == CLOSS_F32 || dtype == CLOSS_F64, CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(op == CLOSS_OP_FORWARD || op == CLOSS_OP_BACKWARD || op == CLOSS_OP_FUSED ||
                      op == CLOSS_OP_PARTIAL,
                  CLOSS_ERR_INVALID_ARGUMENT);
    const int partial = op == CLOSS_OP_PARTIAL; /* a FORWARD that stores the pair */
    if (partial) op = CLOSS_OP_FORWARD;
    const int is_f64 = dtype == CLOSS_F64;
    const int want_g = op != CLOSS_OP_FORWARD, want_out = op != CLOSS_OP_BACKWARD;
    const closs_sums_fn kernel = ctc_kernels[is_f64][want_g];
    /* what the op uses; grad_output is a backward's alone */
    void *out = want_out ? a->out : NULL, *g = want_g ? a->grad_log_probs : NULL;
    const void *grad_output = op == CLOSS_OP_BACKWARD ? a->grad_output : NULL;

    /* the sizes, the log-probabilities (t n c) and the targets (n s padded, else s);
     * then 2 s + 1 (the longest extended target) fits too */
    const int64_t elements = closs_mul_size(closs_mul_size(a->t, a->n), a->c);
    const int64_t n_targets = a->concatenated ? closs_size(a->s) : closs_mul_size(a->n, a->s);
    CLOSS_REQUIRE(elements >= 0 && n_targets >= 0, CLOSS_ERR_INVALID_SIZE);
    CLOSS_REQUIRE(closs_reduction_valid(a->reduction, partial), CLOSS_ERR_INVALID_REDUCTION);
    CLOSS_REQUIRE(a->n == 0 || (a->blank >= 0 && a->blank < a->c), CLOSS_ERR_INVALID_ARGUMENT);
    const int none = a->reduction == CLOSS_REDUCTION_NONE;
    CLOSS_REQUIRE(a->n == 0 || (a->input_lengths && a->target_lengths),
                  CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(a->log_probs || elements == 0, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(a->targets || a->s == 0 || a->n == 0, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(!want_out || out || (none && a->n == 0), CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(!want_g || g || elements == 0, CLOSS_ERR_NULL_POINTER);

    /* toff, order, and (cost, sample) pairs to sort */
    CLOSS_REQUIRE((uint64_t)a->n <= SIZE_MAX / 32, CLOSS_ERR_OUT_OF_MEMORY);
    int64_t *toff = a->n > 0 ? malloc((size_t)a->n * 4 * sizeof *toff) : NULL;
    CLOSS_REQUIRE(toff || a->n == 0, CLOSS_ERR_OUT_OF_MEMORY);
    int64_t tmax, lmax;
    closs_status st = check(a, toff, &tmax, &lmax);
    if (st != CLOSS_OK) {
        free(toff);
        return st;
    }
    if (tmax > 0 && lmax > (INT64_MAX / 16 - a->c) / tmax) { /* the costs below would overflow */
        free(toff);
        return CLOSS_ERR_OUT_OF_MEMORY;
    }
    const size_t elem = is_f64 ? sizeof(double) : sizeof(float);
    /* rows of width values; with a gradient alpha keeps every frame */
    const double width = (double)((lmax + CTC_VLEN - 1) / CTC_VLEN * CTC_VLEN + CTC_VLEN);
    const double rows = 4 + (want_g && tmax > 2 ? (double)tmax : 2) + (double)tmax;
    const double slot = width * (sizeof(int64_t) + rows * (double)elem);
    if (a->n > 0 && slot * closs_get_num_threads() > (double)SIZE_MAX / 4) {
        free(toff);
        return CLOSS_ERR_OUT_OF_MEMORY;
    }
    closs_ctc_ctx c = {a->t, a->n, a->c, a->blank, a->log_probs, a->targets, toff,
                       a->input_lengths, a->target_lengths,
                       a->zero_infinity, a->reduction, NULL, 1.0, NULL, NULL, NULL,
                       NULL, 0, (int64_t)width, 0, tmax};
    c.slots = closs_get_num_threads();
    c.slot_bytes = ((size_t)slot + 63) & ~(size_t)63;
    c.scratch = a->n > 0 ? malloc(c.slot_bytes * (size_t)c.slots + 64) : NULL;
    if (a->n > 0 && !c.scratch) {
        free(toff);
        return CLOSS_ERR_OUT_OF_MEMORY;
    }
    /* Up to CTC_SORT_MAX samples, longest first, so that the threads' last
     * blocks are short ones (the sums' order then depends on the data alone,
     * not the threads). More samples balance anyway, and run in memory order:
     * a sample's frames lie n c values apart, in as many pages, which the next
     * samples share (measured at (50, 6896, 29, 16): about 1.15x faster than sorted). */
    if (a->n > 0 && a->n <= CTC_SORT_MAX) {
        int64_t *order = toff + a->n, *pairs = toff + 2 * a->n;
        for (int64_t b = 0; b < a->n; ++b) {
            pairs[2 * b] =
                ctc_cost(a->input_lengths[b], 2 * a->target_lengths[b] + 1, a->c, want_g);
            pairs[2 * b + 1] = b;
        }
        qsort(pairs, (size_t)a->n, 2 * sizeof *pairs, longer_first);
        for (int64_t b = 0; b < a->n; ++b) order[b] = pairs[2 * b + 1];
        c.order = order;
    } else if (a->n > 0) {
        int64_t *order = toff + a->n;
        for (int64_t b = 0; b < a->n; ++b) order[b] = b;
        c.order = order;
    }
    if (want_out && none) c.out = out;
    if (want_g) {
        c.g = g;
        if (none) {
            c.go = grad_output;
        } else {
            c.gscale = closs_grad_scale(grad_output, is_f64, a->reduction, (double)a->n);
        }
    }
    double sums[2];
    closs_blocks_sums(a->n, ctc_cost(tmax, lmax, a->c, want_g), CTC_PARALLEL_MIN, kernel, &c, 2, sums);
    free(c.scratch);
    free(toff);
    CLOSS_REQUIRE(sums[1] == 0, CLOSS_ERR_INVALID_ARGUMENT); /* threads changed mid-call */
    if (want_out && !none)
        closs_store_reduced(out, sums[0], a->reduction, (double)a->n, is_f64, partial);
    return CLOSS_OK;
}
