/*
 * C unit test of the size checks: every public loss entry point (forward,
 * backward, fused; f32 and f64; every family), called with sizes outside the
 * documented range (a size negative or above CLOSS_MAX_ELEMENTS, or a product
 * of sizes that counts an array's elements above it, overflowing int64_t or
 * not) and small dummy buffers, returns CLOSS_ERR_INVALID_SIZE without reading
 * them; at the limit itself the size is accepted (NULL arrays then give
 * CLOSS_ERR_NULL_POINTER); small valid calls return CLOSS_OK.
 *
 * Table-driven: one adapter per entry point and dtype, generated from the
 * loss's argument list; the cases are generated from each table row's sizes
 * and the products of them that count an array's elements.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "closs.h"

enum { OP_FORWARD, OP_BACKWARD, OP_FUSED, NOPS };
static const char *const op_names[NOPS] = {"forward", "backward", "fused"};

/* Dummy arrays, zero: valid data for every loss at the small sizes below
 * (class index 0, lengths 0, probabilities and variances 0). Each argument has
 * its own, so nothing aliases; pass_null replaces them all by NULL. */
#define BUF_LEN 64
enum { X0, X1, X2, Y, W, AUX, OUT, GO, G0, G1, G2, TGT, IL, TL, NBUFS };
static double bufs[NBUFS][BUF_LEN];
static int pass_null;

static void *buf(int k) { return pass_null ? NULL : (void *)bufs[k]; }

/* z: the sizes of the call, in the order of the table row's size names. */
typedef closs_status (*call_fn)(int op, const int64_t *z, closs_reduction r);

/* One adapter: ARGS are the arguments before the reduction, GRADS the gradient
 * arrays after grad_output (backward) or out (fused), both parenthesised and
 * written with the local names below. */
#define UNPAREN(...) __VA_ARGS__
#define ADAPTER(ID, NAME, TYPE, SFX, ARGS, GRADS)                                        \
    static closs_status call_##ID##_##SFX(int op, const int64_t *z, closs_reduction r)   \
    {                                                                                    \
        typedef TYPE T;                                                                  \
        T *x0 = buf(X0), *x1 = buf(X1), *x2 = buf(X2), *y = buf(Y), *w = buf(W);         \
        T *aux = buf(AUX), *out = buf(OUT), *go = buf(GO);                               \
        T *g0 = buf(G0), *g1 = buf(G1), *g2 = buf(G2);                                   \
        int64_t *tgt = buf(TGT), *il = buf(IL), *tl = buf(TL);                           \
        (void)x0, (void)x1, (void)x2, (void)y, (void)w, (void)aux, (void)g0, (void)g1;   \
        (void)g2, (void)tgt, (void)il, (void)tl, (void)z;                                \
        switch (op) {                                                                    \
        case OP_FORWARD: return closs_##NAME##_##SFX(UNPAREN ARGS, r, out);              \
        case OP_BACKWARD:                                                                \
            return closs_##NAME##_backward_##SFX(UNPAREN ARGS, r, go, UNPAREN GRADS);    \
        default: return closs_##NAME##_fused_##SFX(UNPAREN ARGS, r, out, UNPAREN GRADS); \
        }                                                                                \
    }
#define ENTRY(ID, NAME, ARGS, GRADS)                 \
    ADAPTER(ID, NAME, float, f32, ARGS, GRADS)       \
    ADAPTER(ID, NAME, double, f64, ARGS, GRADS)

/* Element-wise losses: sizes (n). */
#define PW(NAME, ...) ENTRY(NAME, NAME, (z[0], x0, y, __VA_ARGS__), (g0))
PW(l1_loss, w)
PW(mse_loss, w)
PW(smooth_l1_loss, w, 1.0)
PW(huber_loss, w, 1.0)
PW(binary_cross_entropy, w)
PW(binary_cross_entropy_with_logits, w, aux)
PW(soft_margin_loss, w)
PW(hinge_embedding_loss, w, 1.0)
PW(poisson_nll_loss, w, 1, 1, 1e-8)
PW(kl_div, w, 0)
ENTRY(gaussian_nll_loss, gaussian_nll_loss, (z[0], x0, y, w, aux, 1, 1e-6), (g0, g1))

/* Row-wise losses: sizes (n) or (n, d). */
ENTRY(margin_ranking_loss, margin_ranking_loss, (z[0], x0, x1, y, 0.5), (g0, g1))
ENTRY(cosine_embedding_loss, cosine_embedding_loss, (z[0], z[1], x0, x1, y, 0.5), (g0, g1))
ENTRY(multi_margin_loss, multi_margin_loss, (z[0], z[1], x0, tgt, w, 1, 1.0), (g0))
ENTRY(multilabel_margin_loss, multilabel_margin_loss, (z[0], z[1], x0, tgt), (g0))
ENTRY(triplet_margin_loss, triplet_margin_loss, (z[0], z[1], x0, x1, x2, 1.0, 2.0, 1e-6, 1),
      (g0, g1, g2))

/* Classification: sizes (n, c, s). */
ENTRY(nll_loss, nll_loss, (z[0], z[1], z[2], x0, tgt, w, -100), (g0))
ENTRY(cross_entropy, cross_entropy, (z[0], z[1], z[2], x0, tgt, w, -100, 0.1), (g0))
ENTRY(cross_entropy_prob, cross_entropy_prob, (z[0], z[1], z[2], x0, y, w, 0.1), (g0))

/* ctc_loss: sizes (t, n, c, s), padded and concatenated targets. */
ENTRY(ctc_padded, ctc_loss, (z[0], z[1], z[2], x0, tgt, z[3], 0, il, tl, 0, 0), (g0))
ENTRY(ctc_concatenated, ctc_loss, (z[0], z[1], z[2], x0, tgt, z[3], 1, il, tl, 0, 0), (g0))

/* A table row: the entry points of both dtypes, valid small sizes (whose
 * arrays fit in BUF_LEN) and the products of sizes (bit masks over the sizes)
 * that count an array's elements. */
#define MAX_SIZES 4
#define MAX_PRODUCTS 2
typedef struct entry {
    const char *name;
    call_fn f32, f64;
    int nsizes;
    int64_t small[MAX_SIZES];
    unsigned products[MAX_PRODUCTS];
} entry;

#define ROW(ID, ...) {#ID, call_##ID##_f32, call_##ID##_f64, __VA_ARGS__}
#define N_SHAPE 1, {16}, {0x1}
#define ND_SHAPE 2, {4, 8}, {0x3}
#define NCS_SHAPE 3, {2, 3, 4}, {0x7}
static const entry entries[] = {
    ROW(l1_loss, N_SHAPE),
    ROW(mse_loss, N_SHAPE),
    ROW(smooth_l1_loss, N_SHAPE),
    ROW(huber_loss, N_SHAPE),
    ROW(binary_cross_entropy, N_SHAPE),
    ROW(binary_cross_entropy_with_logits, N_SHAPE),
    ROW(soft_margin_loss, N_SHAPE),
    ROW(hinge_embedding_loss, N_SHAPE),
    ROW(poisson_nll_loss, N_SHAPE),
    ROW(kl_div, N_SHAPE),
    ROW(gaussian_nll_loss, N_SHAPE),
    ROW(margin_ranking_loss, N_SHAPE),
    ROW(cosine_embedding_loss, ND_SHAPE),
    ROW(multi_margin_loss, ND_SHAPE),
    ROW(multilabel_margin_loss, ND_SHAPE),
    ROW(triplet_margin_loss, ND_SHAPE),
    ROW(nll_loss, NCS_SHAPE),
    ROW(cross_entropy, NCS_SHAPE),
    ROW(cross_entropy_prob, NCS_SHAPE),
    /* (t, n, c, s): log-probabilities t n c, padded targets n s */
    ROW(ctc_padded, 4, {3, 2, 4, 3}, {0x7, 0xa}),
    ROW(ctc_concatenated, 4, {3, 2, 4, 0}, {0x7, 0x8}),
};
#define NENTRIES ((int)(sizeof entries / sizeof entries[0]))

static const closs_reduction reductions[] = {CLOSS_REDUCTION_NONE, CLOSS_REDUCTION_MEAN,
                                             CLOSS_REDUCTION_SUM};
#define NREDUCTIONS 3

/* The documented rule: is the size vector z of row e out of range? Products
 * in double are exact here (powers of two times small integers). */
static int out_of_range(const entry *e, const int64_t *z)
{
    for (int i = 0; i < e->nsizes; ++i)
        if (z[i] < 0 || z[i] > CLOSS_MAX_ELEMENTS) return 1;
    for (int p = 0; p < MAX_PRODUCTS && e->products[p]; ++p) {
        double prod = 1.0;
        for (int i = 0; i < e->nsizes; ++i)
            if (e->products[p] >> i & 1) prod *= (double)z[i];
        if (prod > (double)CLOSS_MAX_ELEMENTS) return 1;
    }
    return 0;
}

static int calls = 0;

/* Calls every entry point of row e (ops, dtypes, reductions) with sizes z and
 * checks that each returns `expected`. */
static void expect(const entry *e, const int64_t *z, closs_status expected, const char *what)
{
    for (int op = 0; op < NOPS; ++op)
        for (int f64 = 0; f64 < 2; ++f64)
            for (int r = 0; r < NREDUCTIONS; ++r) {
                const closs_status st = (f64 ? e->f64 : e->f32)(op, z, reductions[r]);
                ++calls;
                if (st != expected) {
                    printf("FAIL %s %s_%s reduction %d, %s, sizes (", e->name, op_names[op],
                           f64 ? "f64" : "f32", (int)reductions[r], what);
                    for (int i = 0; i < e->nsizes; ++i)
                        printf("%s%lld", i ? ", " : "", (long long)z[i]);
                    printf("): %s, expected %s\n", closs_status_string(st),
                           closs_status_string(expected));
                    ++failures;
                }
            }
}

/* Sizes too large or negative: row e's small sizes with those of `mask` set to v,
 * run when the rule says the result is out of range. */
static void expect_invalid(const entry *e, unsigned mask, int64_t v, const char *what)
{
    int64_t z[MAX_SIZES];
    memcpy(z, e->small, sizeof z);
    for (int i = 0; i < e->nsizes; ++i)
        if (mask >> i & 1) z[i] = v;
    if (out_of_range(e, z)) expect(e, z, CLOSS_ERR_INVALID_SIZE, what);
}

static int popcount(unsigned m)
{
    int k = 0;
    for (; m; m &= m - 1) ++k;
    return k;
}

static void test_entry(const entry *e)
{
    /* small valid sizes work */
    expect(e, e->small, CLOSS_OK, "small sizes");

    /* one size negative or too large alone */
    const int64_t bad[] = {-1, INT64_MIN, CLOSS_MAX_ELEMENTS + 1, INT64_MAX / 4,
                           INT64_MAX / 2, INT64_MAX};
    for (int i = 0; i < e->nsizes; ++i)
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; ++k)
            expect_invalid(e, 1u << i, bad[k], "one size out of range");

    /* every subset of each product, its k sizes set to INT64_MAX, to 2^ceil(64 / k)
     * (k >= 2: the product overflows int64_t) and to 2^(60 / k) (the product
     * reaches 2^60 = CLOSS_MAX_ELEMENTS + 1 with 64-bit pointers, or more with
     * the other sizes: its byte count would not fit in ptrdiff_t) */
    for (int p = 0; p < MAX_PRODUCTS && e->products[p]; ++p)
        for (unsigned sub = 1; sub < 1u << MAX_SIZES; ++sub) {
            if ((sub & e->products[p]) != sub) continue;
            const int k = popcount(sub);
            expect_invalid(e, sub, INT64_MAX, "sizes of INT64_MAX");
            if (k >= 2)
                expect_invalid(e, sub, (int64_t)1 << (64 + k - 1) / k, "a product overflowing");
            expect_invalid(e, sub, (int64_t)1 << 60 / k, "a product above the limit");
        }

    /* one size at the limit, the others 1: accepted, so the NULL arrays are the error */
    pass_null = 1;
    for (int i = 0; i < e->nsizes; ++i) {
        int64_t z[MAX_SIZES] = {1, 1, 1, 1};
        z[i] = CLOSS_MAX_ELEMENTS;
        expect(e, z, CLOSS_ERR_NULL_POINTER, "one size at the limit, NULL arrays");
    }
    pass_null = 0;
}

/* A product of sizes up to the limit is accepted (floor(CLOSS_MAX_ELEMENTS / d)
 * rows of d = 2^30: the NULL input is the error), one row more is not; and the
 * two calls of the issue that crashed or returned CLOSS_OK. */
static void test_limit_exact(void)
{
    float x[1] = {0}, y[1] = {0};
    const int64_t d = (int64_t)1 << 30, n_max = CLOSS_MAX_ELEMENTS / d;
    CHECK(closs_cosine_embedding_loss_f32(n_max, d, NULL, x, y, 0.0, CLOSS_REDUCTION_SUM, x) ==
          CLOSS_ERR_NULL_POINTER);
    CHECK(closs_cosine_embedding_loss_f32(n_max + 1, d, x, x, y, 0.0, CLOSS_REDUCTION_SUM, x) ==
          CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_cosine_embedding_loss_f32(INT64_MAX, INT64_MAX, x, x, y, 0.0,
                                          CLOSS_REDUCTION_MEAN, x) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_mse_loss_f32(INT64_MAX, x, y, NULL, CLOSS_REDUCTION_MEAN, x) ==
          CLOSS_ERR_INVALID_SIZE);
}

int main(void)
{
    (void)close_to;
    CHECK(CLOSS_MAX_ELEMENTS == (int64_t)(PTRDIFF_MAX / 8));
    for (int i = 0; i < NENTRIES; ++i) test_entry(&entries[i]);
    test_limit_exact();
    /* 21 rows x 2 dtypes x 3 ops = every loss entry point of closs.h */
    CHECK(NENTRIES == 21);
    printf("%d calls\n", calls);
    return check_summary();
}
