/*
 * linear.c - linear_cross_entropy: cross entropy of the logits
 * input linear_weight^T + linear_bias, fused and taken a block of rows at a
 * time, so that the (n, c s) logits and their gradient never exist whole.
 *
 * Per block of R rows (R from closs_linear_block_rows: about 2^24 logits, so
 * the two block buffers L and G are closs's whole scratch, allocated once per
 * call):
 *   L  = X_b W^T (+ b)                  GEMM, R x v x in  (v = c s logits a row)
 *   value, G = d loss / d L             the classification family's
 *                                       cross_entropy kernels on L
 *                                       (closs_classification_part)
 *   grad_input_b = G W                  GEMM, R x in x v
 *   grad_weight (+)= G^T X_b            GEMM, v x in x R (beta 0 for the first block)
 *   grad_bias  += column sums of G      double accumulators
 *
 * Determinism. The blocks are fixed by (n, v) alone, and so is every GEMM's
 * tiling (lin_plan): each tile is one BLAS call of a shape that depends on the
 * sizes only, run by one thread of closs's team (closs_blocks_sums), so any
 * thread count gives the same bits. The loss is the blocks' double sums added
 * in block order, MEAN's denominator a pass of its own over the targets
 * (closs_classification_denominator, which also checks every class index
 * before anything is written), grad_bias's column sums run over the rows in
 * order. grad_weight sums over the blocks in order, R rows per GEMM: the
 * block is the unit of its rounding.
 *
 * Threads: the BLAS calls are single-threaded (blas.h) and closs's OpenMP
 * team runs the tiles, so one pool of threads does all the work.
 */
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "closs_internal.h"

/* One GEMM, C = op(A) op(B) + beta C (row-major, op(A) m x k, op(B) k x n), in
 * tiles of tm x tn; bias (n values, or NULL) is copied into C's rows first and
 * the product added to it. */
typedef struct lin_gemm {
    int ta, tb;
    int64_t m, n, k;
    const void *a, *b;
    int64_t lda, ldb;
    void *c;
    int64_t ldc;
    double beta;
    const void *bias;
    int64_t tm, tn, tiles_m, tiles_n;
} lin_gemm;

/* acc[j] += sum over rows of g[r][j], in column tiles. */
typedef struct lin_colsum {
    int64_t rows, v, tile;
    const void *g;
    double *acc;
} lin_colsum;

typedef struct lin_kernels {
    closs_sums_fn gemm, colsum;
    void (*store)(int64_t n, const double *acc, void *out);
    size_t size;
    int is_f64;
} lin_kernels;

#define CLOSS_TEMPLATE "linear.h"
#include "closs_instantiate.h"

/* Logits per block: 2^24 (64 MiB of float; the L and G buffers 128 MiB
 * together), at least 64 rows (the grad_weight GEMM's k: grad_weight is read
 * and written once per block; with 2^23, (512, 4096, 32000) paid for it) and at
 * most 4096. */
#define LIN_BLOCK_ELEMENTS ((int64_t)1 << 24)
#define LIN_BLOCK_MIN 64
#define LIN_BLOCK_MAX 4096

int64_t closs_linear_block_rows(int64_t v)
{
    int64_t r = v > 0 ? LIN_BLOCK_ELEMENTS / v / 16 * 16 : LIN_BLOCK_MAX;
    return r < LIN_BLOCK_MIN ? LIN_BLOCK_MIN : r > LIN_BLOCK_MAX ? LIN_BLOCK_MAX : r;
}

/* Tiles of a GEMM: at most `most`, first along the dimension whose split
 * re-reads the smaller operand (`first`, at least first_min wide), then
 * along the other; shapes depend on the sizes alone. */
#define LIN_TILES 16

static void lin_split(int64_t size, int64_t min, int64_t most, int64_t *tile, int64_t *count)
{
    int64_t t = size / min;
    t = t < 1 ? 1 : t > most ? most : t;
    *tile = (closs_ceil_div(size, t) + 15) / 16 * 16;
    if (*tile < 1) *tile = 1;
    *count = size > 0 ? closs_ceil_div(size, *tile) : 0;
}

static void lin_plan(lin_gemm *g, int first_is_n, int64_t first_min, int64_t second_min,
                     int64_t most)
{
    int64_t t1, c1, t2, c2;
    lin_split(first_is_n ? g->n : g->m, first_min, most, &t1, &c1);
    lin_split(first_is_n ? g->m : g->n, second_min, c1 > 0 ? most / c1 : 1, &t2, &c2);
    g->tn = first_is_n ? t1 : t2;
    g->tiles_n = first_is_n ? c1 : c2;
    g->tm = first_is_n ? t2 : t1;
    g->tiles_m = first_is_n ? c2 : c1;
}

/* Runs g's tiles on closs's team: one tile a block (its cost in units of
 * about 8 multiply-adds), a team when the whole product is worth one. */
static void lin_run_gemm(const lin_kernels *k, lin_gemm *g)
{
    const int64_t tiles = g->tiles_m * g->tiles_n;
    if (tiles == 0) return;
    int64_t unit = g->tm * g->tn / 8 * (g->k > 0 ? g->k : 1);
    if (unit < CLOSS_BLOCK_MIN) unit = CLOSS_BLOCK_MIN; /* one tile a block */
    closs_blocks_sums(tiles, unit, CLOSS_COMPUTE_PARALLEL_MIN * 16, k->gemm, g, 0, NULL);
}

closs_status closs_linear_call(closs_dtype dtype, int kind, closs_op op, const closs_linear_args *a)
{
    CLOSS_REQUIRE(a, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(dtype == CLOSS_F32 || dtype == CLOSS_F64, CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(kind == CLOSS_CLASSIFICATION_cross_entropy ||
                      kind == CLOSS_CLASSIFICATION_cross_entropy_prob,
                  CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(op == CLOSS_OP_FORWARD || op == CLOSS_OP_BACKWARD || op == CLOSS_OP_FUSED ||
                      op == CLOSS_OP_PARTIAL,
                  CLOSS_ERR_INVALID_ARGUMENT);
    const int partial = op == CLOSS_OP_PARTIAL; /* a FORWARD that stores the pair */
    if (partial) op = CLOSS_OP_FORWARD;
    CLOSS_REQUIRE(CLOSS_BLAS_FOUND, CLOSS_ERR_UNSUPPORTED);
    const lin_kernels *k = dtype == CLOSS_F64 ? &lin_kernels_f64 : &lin_kernels_f32;
    const int indices = kind == CLOSS_CLASSIFICATION_cross_entropy;
    const int64_t n = a->n, in = a->in_features, c = a->c, s = a->s;
    const int64_t v = closs_mul_size(c, s), np = closs_mul_size(n, s);
    const int64_t nx = closs_mul_size(n, in), nw = closs_mul_size(v, in),
                  nl = closs_mul_size(n, v);
    CLOSS_REQUIRE(v >= 0 && np >= 0 && nx >= 0 && nw >= 0 && nl >= 0, CLOSS_ERR_INVALID_SIZE);
    /* every BLAS dimension and leading dimension: in, v and a block's rows */
    CLOSS_REQUIRE(in <= CLOSS_BLAS_INT_MAX && v <= CLOSS_BLAS_INT_MAX, CLOSS_ERR_INVALID_SIZE);
    const closs_reduction red = a->reduction;
    CLOSS_REQUIRE(closs_reduction_valid(red, partial), CLOSS_ERR_INVALID_REDUCTION);
    CLOSS_REQUIRE(a->label_smoothing >= 0.0 && a->label_smoothing <= 1.0,
                  CLOSS_ERR_INVALID_ARGUMENT);
    const int want_v = op != CLOSS_OP_BACKWARD;
    void *gi = op != CLOSS_OP_FORWARD ? a->grad_input : NULL;
    void *gw = op != CLOSS_OP_FORWARD ? a->grad_weight : NULL;
    void *gb = op != CLOSS_OP_FORWARD ? a->grad_bias : NULL;
    const int want_g = gi || gw || gb;
    CLOSS_REQUIRE(nx == 0 || a->input, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(nw == 0 || a->linear_weight, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(indices ? (np == 0 || a->t) : (nl == 0 || a->tp), CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(!want_v || a->out || (red == CLOSS_REDUCTION_NONE && np == 0),
                  CLOSS_ERR_NULL_POINTER);

    /* the classification call on a block (its rows, pointers and op set per block) */
    closs_classification_args ca;
    memset(&ca, 0, sizeof ca);
    ca.n = n, ca.c = c, ca.s = s, ca.t = a->t, ca.tp = a->tp, ca.w = a->w;
    ca.ignore_index = indices ? a->ignore_index : 0;
    ca.label_smoothing = a->label_smoothing;
    ca.reduction = red;
    double denominator = 0.0;
    const closs_status st = closs_classification_denominator(dtype, kind, &ca, &denominator);
    if (st != CLOSS_OK) return st;
    if (!want_v && !want_g) return CLOSS_OK; /* a backward asked for no gradient */
    double gscale = 1.0;
    if (want_g && red != CLOSS_REDUCTION_NONE)
        gscale = closs_grad_scale(op == CLOSS_OP_BACKWARD ? a->grad_output : NULL, k->is_f64, red,
                                  denominator);
    const closs_op block_op = !want_g ? CLOSS_OP_FORWARD : want_v ? CLOSS_OP_FUSED : CLOSS_OP_BACKWARD;

    const int64_t R = closs_linear_block_rows(v), rows_max = n < R ? n : R;
    char *scratch = NULL;
    double *gb_acc = NULL;
    const size_t block_bytes = (size_t)(rows_max * v) * k->size;
    if (rows_max > 0 && (want_v || want_g)) {
        scratch = (char *)malloc(block_bytes * (want_g ? 2 : 1) + 1);
        if (!scratch) return CLOSS_ERR_OUT_OF_MEMORY;
    }
    if (gb) {
        gb_acc = (double *)calloc((size_t)(v > 0 ? v : 1), sizeof(double));
        if (!gb_acc) {
            free(scratch);
            return CLOSS_ERR_OUT_OF_MEMORY;
        }
    }
    void *L = scratch, *G = want_g ? scratch + block_bytes : NULL;
    CLOSS_BLAS_ONE_THREAD();

    const char *x = (const char *)a->input;
    double loss = 0.0;
    closs_status status = CLOSS_OK;
    for (int64_t r0 = 0; r0 < n; r0 += R) {
        const int64_t rows = n - r0 < R ? n - r0 : R;
        /* L = X_b W^T + b: tiles along v (each reads its rows of W once) */
        lin_gemm g = {0, 1, rows, v, in, x + (size_t)(r0 * in) * k->size, a->linear_weight, in,
                      in, L, v, 0.0, a->linear_bias, 0, 0, 0, 0};
        lin_plan(&g, 1, 256, 64, LIN_TILES);
        lin_run_gemm(k, &g);

        ca.n = rows;
        ca.x = L;
        ca.t = indices ? a->t + r0 * s : NULL;
        ca.tp = indices ? NULL : (const char *)a->tp + (size_t)(r0 * v) * k->size;
        ca.out = want_v && red == CLOSS_REDUCTION_NONE ? (char *)a->out + (size_t)(r0 * s) * k->size
                                                       : NULL;
        ca.grad_output = op == CLOSS_OP_BACKWARD && red == CLOSS_REDUCTION_NONE && a->grad_output
                             ? (const char *)a->grad_output + (size_t)(r0 * s) * k->size
                             : NULL;
        ca.grad_input = G;
        double part[2];
        status = closs_classification_part(dtype, kind, block_op, &ca, gscale, part);
        if (status != CLOSS_OK) break;
        loss += part[0];
        if (!want_g) continue;

        if (gi) { /* grad_input_b = G W: tiles along in (each packs G), then rows */
            lin_gemm p = {0, 0, rows, in, v, G, a->linear_weight, v, in,
                          (char *)gi + (size_t)(r0 * in) * k->size, in, 0.0, NULL, 0, 0, 0, 0};
            lin_plan(&p, 1, 256, 128, LIN_TILES / 2); /* each tile packs G */
            lin_run_gemm(k, &p);
        }
        if (gw) { /* grad_weight (+)= G^T X_b: tiles along v, then in */
            lin_gemm p = {1, 0, v, in, rows, G, x + (size_t)(r0 * in) * k->size, v, in, gw, in,
                          r0 == 0 ? 0.0 : 1.0, NULL, 0, 0, 0, 0};
            lin_plan(&p, 0, 256, 128, LIN_TILES);
            lin_run_gemm(k, &p);
        }
        if (gb && v > 0) {
            const lin_colsum cs = {rows, v, 1024, G, gb_acc};
            closs_blocks_sums(closs_ceil_div(v, cs.tile), rows * cs.tile,
                              CLOSS_STREAM_PARALLEL_MIN, k->colsum, &cs, 0, NULL);
        }
    }
    free(scratch);
    if (status == CLOSS_OK) {
        if (gw && n == 0 && nw > 0) memset(gw, 0, (size_t)nw * k->size);
        if (gb) k->store(v, gb_acc, gb);
        if (want_v && red != CLOSS_REDUCTION_NONE)
            closs_store_reduced(a->out, loss, red, denominator, k->is_f64, partial);
    }
    free(gb_acc);
    return status;
}
