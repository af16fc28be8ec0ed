/*
 * rowwise.c - the row-wise losses (formulas in closs.h): margin_ranking_loss,
 * multi_margin_loss, multilabel_margin_loss, cosine_embedding_loss and
 * triplet_margin_loss.
 *
 * A row-wise loss has n rows of d elements (contiguous, row after row) in each
 * of its differentiable inputs, a per-row target (values y, or class indices
 * idx) and gives one value per row. Its row function (rowwise.h, compiled for
 * float and double) returns a row's value in double and, when asked, writes
 * the row's gradients scaled by s. Everything else - argument checks,
 * class-index validation, reductions, threads - is here, once for every loss
 * and both dtypes: the family entry closs_rowwise_call (closs_internal.h) and
 * the per-loss public functions of closs.h, thin wrappers over it.
 */
#include <tgmath.h>

#include "closs_internal.h"

/*
 * The losses: X(name, layout, nx, needs_y, one_element, narrow)
 *   layout       what idx holds (closs_rowwise_layout); with indices, d >= 1
 *                and every index is validated before anything is written
 *   nx           differentiable inputs x0 .. (and gradients g0 ..), 1 to 3
 *   needs_y      per-row target values are required
 *   one_element  rows are single elements (d == 1): the block loop then
 *                vectorises across rows
 *   narrow       the variants (rowwise_variant: 0 .. narrow - 1, at most 4)
 *                whose forward kernels take narrow rows across rows
 *                (rowwise.h, ROWWISE_NARROW_LENGTHS): triplet's L1, L2 and
 *                max norms, not the other p (a pow per element)
 * Each has a row function <name>_row in rowwise.h.
 */
#define CLOSS_ROWWISE_LOSSES(X)                                       \
    X(margin_ranking_loss, CLOSS_ROWWISE_NO_INDICES, 2, 1, 1, 0)      \
    X(multi_margin_loss, CLOSS_ROWWISE_ROW_INDEX, 1, 0, 0, 4)         \
    X(multilabel_margin_loss, CLOSS_ROWWISE_ROW_INDICES, 1, 0, 0, 1)  \
    X(cosine_embedding_loss, CLOSS_ROWWISE_NO_INDICES, 2, 1, 0, 1)    \
    X(triplet_margin_loss, CLOSS_ROWWISE_NO_INDICES, 3, 0, 0, 3)

#define ROWWISE_KIND(name) CLOSS_CAT(ROWWISE_, name)
#define ROWWISE_ENUM(name, layout, nx, needs_y, one_element, narrow) ROWWISE_KIND(name),
enum { CLOSS_ROWWISE_LOSSES(ROWWISE_ENUM) ROWWISE_COUNT };

#define ROWWISE_NAME(name, layout, nx, needs_y, one_element, narrow) #name,
#define ROWWISE_LAYOUT(name, layout, nx, needs_y, one_element, narrow) layout,
const char *const closs_rowwise_names[] = {CLOSS_ROWWISE_LOSSES(ROWWISE_NAME)};
const int closs_rowwise_layouts[] = {CLOSS_ROWWISE_LOSSES(ROWWISE_LAYOUT)};
const int closs_rowwise_count = ROWWISE_COUNT;

/* A loss's argument rules. */
typedef struct rowwise_traits {
    int layout, nx, needs_y, one_element;
} rowwise_traits;
#define ROWWISE_TRAITS(name, layout, nx, needs_y, one_element, narrow) {layout, nx, needs_y, one_element},
static const rowwise_traits rowwise_traits_of[] = {CLOSS_ROWWISE_LOSSES(ROWWISE_TRAITS)};

#define ROWWISE_MAX_INPUTS 3

/* What a block kernel reads and writes; arrays are of the kernel's dtype. */
typedef struct rowwise_ctx {
    int64_t d;                         /* row length */
    const void *x[ROWWISE_MAX_INPUTS]; /* differentiable inputs, n * d each */
    const void *y;                     /* per-row target values (n), or NULL */
    const int64_t *idx;                /* class indices, or NULL */
    const void *w;                     /* per-class weights (d), or NULL */
    const void *go;                    /* per-row grad_output, or NULL */
    void *out;                         /* per-row values */
    void *g[ROWWISE_MAX_INPUTS];       /* gradients, n * d each */
    double p[4];                       /* the loss's parameters */
    double gscale;                     /* scalar grad_output over the mean's denominator */
    void *gy;                          /* y's gradient (n), or NULL */
} rowwise_ctx;

/* One loss's block kernels for one dtype (closs_blocks_sums functions over
 * rows; sums[0] is the sum of the row values where the kernel sums). */
typedef struct rowwise_kernels {
    closs_sums_fn value;     /* out[i] = L_i */
    closs_sums_fn sum;       /* sum of L_i */
    closs_sums_fn grad;      /* gradients times gscale */
    closs_sums_fn grad_go;   /* gradients times go[i] */
    closs_sums_fn fused;     /* out[i] = L_i, gradients times gscale */
    closs_sums_fn fused_sum; /* sum of L_i, gradients times gscale */
} rowwise_kernels;

#define CLOSS_TEMPLATE "rowwise.h"
#include "closs_instantiate.h"

/* ------------------------------------------------------------ checks */

/* The parameters are in the loss's domain. */
static int params_ok(int kind, const closs_rowwise_args *a)
{
    switch (kind) {
    case ROWWISE_KIND(multi_margin_loss): return a->p0 == 1 || a->p0 == 2; /* p */
    case ROWWISE_KIND(triplet_margin_loss): return a->p0 > 0 && a->p1 > 0; /* margin, p */
    default: return 1;
    }
}

/* sums[0] = how many of rows [b, e) have a class index outside [0, d). */
static void row_index_check(const void *ctx, int64_t b, int64_t e, double *sums)
{
    const rowwise_ctx *c = (const rowwise_ctx *)ctx;
    int64_t bad = 0;
    for (int64_t i = b; i < e; ++i) bad += c->idx[i] < 0 || c->idx[i] >= c->d;
    sums[0] = (double)bad;
}

/* sums[0] = how many index-list entries of rows [b, e) lie outside [-1, d);
 * like torch (multilabel_margin_loss), the entries after a row's first -1 count too. */
static void row_indices_check(const void *ctx, int64_t b, int64_t e, double *sums)
{
    const rowwise_ctx *c = (const rowwise_ctx *)ctx;
    int64_t bad = 0;
    for (int64_t j = b * c->d; j < e * c->d; ++j) bad += c->idx[j] < -1 || c->idx[j] >= c->d;
    sums[0] = (double)bad;
}

/* ------------------------------------------------------------ driver */

/* Runs one block kernel over the rows; returns sums[0]. */
static double run_rows(closs_sums_fn fn, const closs_rowwise_args *a, const rowwise_ctx *c)
{
    double s;
    closs_blocks_sums(a->n, a->d, CLOSS_STREAM_PARALLEL_MIN, fn, c, 1, &s);
    return s;
}

/*
 * The checks of every call (out_given: the value buffer is there or not
 * needed; want_g: the gradients are written), then the context, then the
 * class indices. With n == 0 (or d == 0 for the arrays of n * d values) any
 * array may be NULL.
 */
static closs_status prepare(int kind, const closs_rowwise_args *a, int out_given, int want_g,
                            int partial, rowwise_ctx *c)
{
    const rowwise_traits *t = &rowwise_traits_of[kind];
    const int indexed = t->layout != CLOSS_ROWWISE_NO_INDICES;
    CLOSS_REQUIRE(closs_mul_size(a->n, a->d) >= 0, CLOSS_ERR_INVALID_SIZE); /* n, d too */
    CLOSS_REQUIRE(!t->one_element || a->d == 1, CLOSS_ERR_INVALID_SIZE);
    CLOSS_REQUIRE(closs_reduction_valid(a->reduction, partial), CLOSS_ERR_INVALID_REDUCTION);
    CLOSS_REQUIRE(params_ok(kind, a), CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(!indexed || a->n == 0 || a->d >= 1, CLOSS_ERR_INVALID_SIZE);
    const int rows = a->n > 0, elements = a->n > 0 && a->d > 0;
    const void *const x[ROWWISE_MAX_INPUTS] = {a->x0, a->x1, a->x2};
    void *const g[ROWWISE_MAX_INPUTS] = {a->g0, a->g1, a->g2};
    for (int j = 0; j < t->nx; ++j) {
        CLOSS_REQUIRE(x[j] || !elements, CLOSS_ERR_NULL_POINTER);
        CLOSS_REQUIRE(!want_g || g[j] || !elements, CLOSS_ERR_NULL_POINTER);
    }
    CLOSS_REQUIRE(a->y || !t->needs_y || !rows, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(a->idx || !indexed || !rows, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(out_given, CLOSS_ERR_NULL_POINTER);

    const rowwise_ctx init = {a->d, {a->x0, a->x1, a->x2}, a->y, a->idx, a->w, NULL, NULL,
                              {NULL, NULL, NULL}, {a->p0, a->p1, a->p2, a->p3}, 1.0, NULL};
    *c = init;
    if (want_g) {
        for (int j = 0; j < t->nx; ++j) c->g[j] = g[j];
        c->gy = a->gy;
    }
    if (indexed) {
        const closs_sums_fn check =
            t->layout == CLOSS_ROWWISE_ROW_INDEX ? row_index_check : row_indices_check;
        if (run_rows(check, a, c) > 0) return CLOSS_ERR_INDEX_OUT_OF_RANGE;
    }
    return CLOSS_OK;
}

/* FORWARD, and FUSED (want_g; grad_output = ones): the value kernel stores or
 * sums the rows, the fused one also writes their gradients, scaled by the
 * mean's 1 / n. out holds n values for NONE, else one (PARTIAL, partial: the
 * pair); with n == 0 NONE takes NULL. */
static closs_status value_pass(int kind, const rowwise_kernels *k, const closs_rowwise_args *a,
                               int is_f64, int want_g, int partial)
{
    rowwise_ctx c;
    const int out_given = a->out || (a->n == 0 && a->reduction == CLOSS_REDUCTION_NONE);
    closs_status st = prepare(kind, a, out_given, want_g, partial, &c);
    if (st != CLOSS_OK) return st;
    if (a->reduction == CLOSS_REDUCTION_NONE) {
        c.out = a->out;
        run_rows(want_g ? k->fused : k->value, a, &c);
        return CLOSS_OK;
    }
    c.gscale = closs_grad_scale(NULL, is_f64, a->reduction, (double)a->n);
    const double sum = run_rows(want_g ? k->fused_sum : k->sum, a, &c);
    closs_store_reduced(a->out, sum, a->reduction, (double)a->n, is_f64, partial);
    return CLOSS_OK;
}

/* BACKWARD: the gradients times grad_output (per row for NONE, else a scalar
 * over the mean's n; ones when NULL). */
static closs_status backward(int kind, const rowwise_kernels *k, const closs_rowwise_args *a,
                             int is_f64)
{
    rowwise_ctx c;
    closs_status st = prepare(kind, a, 1, 1, 0, &c);
    if (st != CLOSS_OK) return st;
    const int go_vec = a->reduction == CLOSS_REDUCTION_NONE && a->grad_output != NULL;
    if (go_vec)
        c.go = a->grad_output;
    else
        c.gscale = closs_grad_scale(a->grad_output, is_f64, a->reduction, (double)a->n);
    run_rows(go_vec ? k->grad_go : k->grad, a, &c);
    return CLOSS_OK;
}

closs_status closs_rowwise_call(closs_dtype dtype, int kind, closs_op op,
                                const closs_rowwise_args *a)
{
    CLOSS_REQUIRE(a, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(kind >= 0 && kind < ROWWISE_COUNT, CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(dtype == CLOSS_F32 || dtype == CLOSS_F64, CLOSS_ERR_INVALID_ARGUMENT);
    const int is_f64 = dtype == CLOSS_F64;
    const rowwise_kernels *k = is_f64 ? &rowwise_kernels_f64[kind] : &rowwise_kernels_f32[kind];
    /* y's gradient (margin_ranking_loss alone has one): the kernels that write it */
    const int want_gy = a->gy && kind == ROWWISE_KIND(margin_ranking_loss) &&
                        (op == CLOSS_OP_BACKWARD || op == CLOSS_OP_FUSED);
    if (want_gy) k = is_f64 ? &margin_ranking_y_kernels_f64 : &margin_ranking_y_kernels_f32;
    switch (op) {
    case CLOSS_OP_FORWARD: return value_pass(kind, k, a, is_f64, 0, 0);
    case CLOSS_OP_BACKWARD: return backward(kind, k, a, is_f64);
    case CLOSS_OP_FUSED: return value_pass(kind, k, a, is_f64, 1, 0);
    case CLOSS_OP_PARTIAL: return value_pass(kind, k, a, is_f64, 0, 1);
    case CLOSS_OP_GRAD_HESS: break; /* no Hessian diagonal for row-wise losses */
    }
    return CLOSS_ERR_INVALID_ARGUMENT;
}

/* ------------------------------------------------------------ public functions */

/*
 * closs.h's four functions of loss NAME for one dtype T (suffix SFX, closs
 * dtype DT): ARGS its parameters before the reduction, GRADS its gradient
 * arrays, FILL and GFILL the closs_rowwise_args fields they give.
 */
#define ROWWISE_LIST(...) __VA_ARGS__
#define ROWWISE_PUBLIC(NAME, T, SFX, DT, ARGS, GRADS, FILL, GFILL)                          \
    closs_status closs_##NAME##_##SFX(ROWWISE_LIST ARGS, closs_reduction reduction, T *out) \
    {                                                                                       \
        const closs_rowwise_args a = {ROWWISE_LIST FILL, .reduction = reduction, .out = out}; \
        return closs_rowwise_call(DT, ROWWISE_KIND(NAME), CLOSS_OP_FORWARD, &a);            \
    }                                                                                       \
    closs_status closs_##NAME##_backward_##SFX(ROWWISE_LIST ARGS, closs_reduction reduction, \
                                               const T *grad_output, ROWWISE_LIST GRADS)    \
    {                                                                                       \
        const closs_rowwise_args a = {ROWWISE_LIST FILL, .reduction = reduction,             \
                                      .grad_output = grad_output, ROWWISE_LIST GFILL};      \
        return closs_rowwise_call(DT, ROWWISE_KIND(NAME), CLOSS_OP_BACKWARD, &a);           \
    }                                                                                       \
    closs_status closs_##NAME##_fused_##SFX(ROWWISE_LIST ARGS, closs_reduction reduction,   \
                                            T *out, ROWWISE_LIST GRADS)                     \
    {                                                                                       \
        const closs_rowwise_args a = {ROWWISE_LIST FILL, .reduction = reduction, .out = out, \
                                      ROWWISE_LIST GFILL};                                  \
        return closs_rowwise_call(DT, ROWWISE_KIND(NAME), CLOSS_OP_FUSED, &a);              \
    }                                                                                       \
    closs_status closs_##NAME##_partial_##SFX(ROWWISE_LIST ARGS, closs_reduction reduction, \
                                              double *out)                                  \
    {                                                                                       \
        const closs_rowwise_args a = {ROWWISE_LIST FILL, .reduction = reduction, .out = out}; \
        return closs_rowwise_call(DT, ROWWISE_KIND(NAME), CLOSS_OP_PARTIAL, &a);            \
    }

#define MARGIN_RANKING(T, SFX, DT)                                                      \
    ROWWISE_PUBLIC(margin_ranking_loss, T, SFX, DT,                                     \
        (int64_t n, const T *input1, const T *input2, const T *target, double margin),  \
        (T *grad_input1, T *grad_input2),                                               \
        (.n = n, .d = 1, .x0 = input1, .x1 = input2, .y = target, .p0 = margin),        \
        (.g0 = grad_input1, .g1 = grad_input2))
#define MULTI_MARGIN(T, SFX, DT)                                                        \
    ROWWISE_PUBLIC(multi_margin_loss, T, SFX, DT,                                       \
        (int64_t n, int64_t c, const T *input, const int64_t *target, const T *weight,  \
         int p, double margin),                                                         \
        (T *grad_input),                                                                \
        (.n = n, .d = c, .x0 = input, .idx = target, .w = weight, .p0 = p, .p1 = margin), \
        (.g0 = grad_input))
#define MULTILABEL_MARGIN(T, SFX, DT)                                                   \
    ROWWISE_PUBLIC(multilabel_margin_loss, T, SFX, DT,                                  \
        (int64_t n, int64_t c, const T *input, const int64_t *target), (T *grad_input), \
        (.n = n, .d = c, .x0 = input, .idx = target), (.g0 = grad_input))
#define COSINE_EMBEDDING(T, SFX, DT)                                                    \
    ROWWISE_PUBLIC(cosine_embedding_loss, T, SFX, DT,                                   \
        (int64_t n, int64_t d, const T *input1, const T *input2, const T *target,       \
         double margin),                                                                \
        (T *grad_input1, T *grad_input2),                                               \
        (.n = n, .d = d, .x0 = input1, .x1 = input2, .y = target, .p0 = margin),        \
        (.g0 = grad_input1, .g1 = grad_input2))
#define TRIPLET_MARGIN(T, SFX, DT)                                                      \
    ROWWISE_PUBLIC(triplet_margin_loss, T, SFX, DT,                                     \
        (int64_t n, int64_t d, const T *anchor, const T *positive, const T *negative,   \
         double margin, double p, double eps, int swap),                                \
        (T *grad_anchor, T *grad_positive, T *grad_negative),                           \
        (.n = n, .d = d, .x0 = anchor, .x1 = positive, .x2 = negative, .p0 = margin,    \
         .p1 = p, .p2 = eps, .p3 = swap),                                               \
        (.g0 = grad_anchor, .g1 = grad_positive, .g2 = grad_negative))

/* closs.h's every-gradient function (grads) of margin_ranking_loss. */
#define MARGIN_RANKING_GRADS(T, SFX, DT)                                                  \
    closs_status closs_margin_ranking_loss_grads_##SFX(                                   \
        int64_t n, const T *input1, const T *input2, const T *target, double margin,      \
        closs_reduction reduction, const T *grad_output, T *out, T *grad_input1,          \
        T *grad_input2, T *grad_target)                                                   \
    {                                                                                     \
        const closs_rowwise_args a = {.n = n, .d = 1, .x0 = input1, .x1 = input2,         \
                                      .y = target, .p0 = margin, .reduction = reduction,  \
                                      .grad_output = grad_output, .out = out,             \
                                      .g0 = grad_input1, .g1 = grad_input2,               \
                                      .gy = grad_target};                                 \
        CLOSS_REQUIRE(!out || !grad_output, CLOSS_ERR_INVALID_ARGUMENT);                  \
        return closs_rowwise_call(DT, ROWWISE_KIND(margin_ranking_loss),                  \
                                  out ? CLOSS_OP_FUSED : CLOSS_OP_BACKWARD, &a);          \
    }

#define ROWWISE_BOTH_DTYPES(M) M(float, f32, CLOSS_F32) M(double, f64, CLOSS_F64)
ROWWISE_BOTH_DTYPES(MARGIN_RANKING_GRADS)
ROWWISE_BOTH_DTYPES(MARGIN_RANKING)
ROWWISE_BOTH_DTYPES(MULTI_MARGIN)
ROWWISE_BOTH_DTYPES(MULTILABEL_MARGIN)
ROWWISE_BOTH_DTYPES(COSINE_EMBEDDING)
ROWWISE_BOTH_DTYPES(TRIPLET_MARGIN)
