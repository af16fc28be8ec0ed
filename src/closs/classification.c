/*
 * classification.c - nll_loss and cross_entropy (class indices or
 * probabilities): the family's entry closs_classification_call (closs_internal.h)
 * with its driver, and classification.h instantiated per dtype (its kernels and
 * the public functions of closs.h, thin wrappers over the entry), from the
 * X-list CLOSS_CLASSIFICATION_LOSSES.
 *
 * The input has shape (n, c, s): n samples, c classes, s = d1 * ... * dK
 * positions per sample (1 for (n, c) input), so class j of position (i, k)
 * is input[(i c + j) s + k]. Targets and values have shape (n, s).
 *
 * Every cross_entropy position is the cross entropy of log_softmax(x) with a
 * target distribution u (classification.h):
 *   indices          u = (1 - eps) w_t onehot(t) + (eps / c) w     (w = 1 without weight)
 *   probabilities    u_j = w_j ((1 - eps) t_j + eps / c)
 * and ignored positions (t == ignore_index) have u = 0. With eps = 0 and
 * indices this is torch's nll_loss(log_softmax(x), t); with eps > 0 it is
 * torch's (1 - eps) nll + (eps / c) sum_j w_j (-log_softmax(x)_j). MEAN divides
 * by the summed w_t of the kept positions (indices: nll_loss, and torch's
 * label-smoothing term alike) or by n s (probabilities).
 */
#include <string.h>
#include <tgmath.h>

#include <stdlib.h>

#include "closs_internal.h"

/* The variants of the dense part of u, compile-time constants of the kernels. */
enum {
    CL_U_ONEHOT = 0,   /* indices, no label smoothing: no dense part */
    CL_U_SMOOTH = 1,   /* indices, label smoothing: eps / c */
    CL_U_SMOOTH_W = 2, /* indices, label smoothing, weight: eps / c w_j */
    CL_U_PROB = 3,     /* probabilities: (1 - eps) t_j + eps / c */
    CL_U_PROB_W = 4,   /* probabilities, weight: w_j ((1 - eps) t_j + eps / c) */
    CL_NVARIANTS = 5
};
#define CL_HAS_W(u) ((u) == CL_U_SMOOTH_W || (u) == CL_U_PROB_W)

/* The partial sums every block kernel returns. */
enum { CL_SUM_LOSS = 0, CL_SUM_WEIGHT = 1, CL_SUM_BAD = 2, CL_NSUMS = 3 };

/* Elements above which a softmax kernel (an exponential per element) is worth a
 * team of threads: a team costs a few microseconds, 2^15 exponentials about 10. */
#define CLOSS_SOFTMAX_PARALLEL_MIN ((int64_t)1 << 15)

/* Elements zeroed (memset) in the time of one element of a streaming kernel:
 * nll_loss's gradient, mostly zeros, counts a row of c elements as c / 8 for
 * the block sizes and the parallel threshold, so that its blocks are not
 * shorter than a few microseconds (4096 x 1000 input: ~125 blocks of 33 rows,
 * not ~820 of 5; 2-thread backward, best of 300 calls on a loaded 2-vCPU
 * machine: 75 us against 106 us). */
#define CL_ZERO_COST 8

/* Classes from which grad_hess vectorises a row (s == 1): measured on the shared
 * 2-vCPU AVX-512 machine, 1e6 float32 elements, scalar / vectorised loops:
 * c = 3 5.9 / 18.3 ms, c = 10 4.4 / 7.9 ms, c = 12 - / 7.5 ms, c = 16 - / 2.2 ms,
 * c = 20 4.6 / 3.6 ms, c = 100 3.5 / 1.2 ms (a short row is mostly a vector
 * loop's remainder). */
#define CL_GH_VECTOR_MIN 16

/* Classes up to which cross_entropy's rows (s == 1) with class indices run the
 * few-class kernels (CL_L rows as the lanes of vectors, classification.h):
 * faster than the row kernels from c = 1 to 16 (1e7 float32 elements, 1 thread,
 * forward / fused ms, row kernels -> few-class kernels, CPU time on the shared
 * 2-vCPU machine: c = 4 95 / 121 -> 13 / 23, c = 8 50 / 62 -> 8.5 / 14,
 * c = 12 33 / 44 -> 10 / 15, c = 16 18 / 23 -> 7.1 / 11). */
#define CL_FEW 16
/* nll_loss's row kernel (nll_rows) for c below this: a group's indices are int32 */
#define CL_NLL_ROWS_MAX (1 << 26)

/* What a block kernel reads and writes; arrays are of the kernel's dtype. */
typedef struct closs_cl_ctx {
    int64_t c, s;
    const void *x, *w;
    const void *go;      /* per-position grad_output (NONE), or NULL */
    const int64_t *t;    /* class indices, or NULL */
    const void *tp;      /* probabilities, or NULL */
    void *out;           /* per-position values (NONE), or NULL: summed */
    void *gx;
    void *hx;            /* GRAD_HESS: the Hessian's diagonal */
    int gh_value;        /* GRAD_HESS: the value is wanted (summed) */
    int64_t ignore;
    double keep, eps_c;  /* 1 - label_smoothing, label_smoothing / c */
    double wtotal;       /* sum of the weights (c without weight) */
    double gscale;       /* scalar grad_output over the mean's denominator */
    void *gt;            /* cross_entropy_prob: the target's gradient, or NULL */
    double *gw;          /* cross_entropy_prob: the weight's gradient (c sums), or NULL */
} closs_cl_ctx;

/* One dtype's block kernels, by [variant][op] and layout. */
typedef struct closs_cl_kernels {
    closs_sums_fn targets;                   /* validation and weight sum only */
    closs_sums_fn none;                      /* nothing: zero sums */
    closs_sums_fn nll[2][3];                 /* [s == 1] */
    closs_sums_fn rows[CL_NVARIANTS][3];     /* s == 1 */
    closs_sums_fn tiles[CL_NVARIANTS][3];    /* s > 1 */
    closs_sums_fn few[CL_U_PROB][3];         /* s == 1, c <= CL_FEW, class indices */
    closs_sums_fn gh[2][CL_NVARIANTS];       /* GRAD_HESS of cross_entropy, [scalar] */
    closs_sums_fn gh_nll;                    /* GRAD_HESS of nll_loss */
    closs_block_fn prob_grads;               /* cross_entropy_prob's gt and gw */
    int is_f64;
} closs_cl_kernels;

#define CLOSS_TEMPLATE "classification.h"
#include "closs_instantiate.h"

#define CL_NAME(name, target, params, args) #name,
const char *const closs_classification_names[CLOSS_CLASSIFICATION_COUNT] = {
    CLOSS_CLASSIFICATION_LOSSES(CL_NAME)};
#undef CL_NAME

/* ---------------------------------------------------------------- driver */

/* The context's sizes, arrays and target of a call's arguments (the rest 0). */
static void cl_ctx_of(closs_cl_ctx *c, const closs_classification_args *a, int indices)
{
    memset(c, 0, sizeof *c);
    c->c = a->c;
    c->s = a->s;
    c->x = a->x;
    c->w = a->w;
    c->t = indices ? a->t : NULL;
    c->tp = indices ? NULL : a->tp;
    c->ignore = indices ? a->ignore_index : 0;
}

/* MEAN's denominator with class indices: the summed weight of the kept
 * positions' targets, in a pass of its own (validating them: 0 when an index is
 * out of range, before any output is written). */
static int cl_kept_weight(const closs_cl_kernels *k, const closs_cl_ctx *c, int64_t np,
                          double *weight)
{
    double sums[CL_NSUMS];
    closs_blocks_sums(np, 1, CLOSS_STREAM_PARALLEL_MIN, k->targets, c, CL_NSUMS, sums);
    *weight = sums[CL_SUM_WEIGHT];
    return sums[CL_SUM_BAD] == 0;
}

/* cross_entropy_prob's target and weight gradients (a->grad_target,
 * a->grad_weight: each NULL when not wanted), after the input's pass, with its
 * scale (c->go or c->gscale): one more pass over the positions, in blocks for
 * the target's; the weight's sums over positions run in one fixed order, into
 * c doubles. */
static closs_status cl_prob_grads(const closs_cl_kernels *k, closs_cl_ctx *c,
                                  const closs_classification_args *a, int64_t np)
{
    if (!a->grad_target && !a->grad_weight) return CLOSS_OK;
    CLOSS_REQUIRE(!a->grad_weight || a->w, CLOSS_ERR_NULL_POINTER);
    c->gt = a->grad_target;
    c->gw = NULL;
    if (!a->grad_weight) {
        closs_blocks(np, CLOSS_SOFTMAX_PARALLEL_MIN / a->c + 1, k->prob_grads, c);
        return CLOSS_OK;
    }
    c->gw = calloc((size_t)a->c, sizeof(double));
    CLOSS_REQUIRE(c->gw, CLOSS_ERR_OUT_OF_MEMORY);
    k->prob_grads(c, 0, np);
    for (int64_t j = 0; j < a->c; ++j) {
        if (k->is_f64)
            ((double *)a->grad_weight)[j] = c->gw[j];
        else
            ((float *)a->grad_weight)[j] = (float)c->gw[j];
    }
    free(c->gw);
    c->gw = NULL;
    return CLOSS_OK;
}

/* The driver of closs_classification_call and of the parts of a larger call
 * (closs_classification_part, linear.c). A part (gscale non-NULL) takes the
 * gradient's scale from *gscale instead of the reduction (or, with NONE, from
 * a->grad_output when given, for FUSED too), and returns its loss sum and kept
 * weight in part[0..1] instead of storing the reduced value. */
static closs_status cl_run(closs_dtype dtype, int kind, closs_op op,
                           const closs_classification_args *a, const double *gscale,
                           double *part)
{
    CLOSS_REQUIRE(a, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(dtype == CLOSS_F32 || dtype == CLOSS_F64, CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(kind >= 0 && kind < CLOSS_CLASSIFICATION_COUNT, CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(op == CLOSS_OP_FORWARD || op == CLOSS_OP_BACKWARD || op == CLOSS_OP_FUSED ||
                      op == CLOSS_OP_PARTIAL || op == CLOSS_OP_GRAD_HESS,
                  CLOSS_ERR_INVALID_ARGUMENT);
    const int partial = op == CLOSS_OP_PARTIAL; /* a FORWARD that stores the pair */
    if (partial) op = CLOSS_OP_FORWARD;
    const int grad_hess = op == CLOSS_OP_GRAD_HESS; /* a FUSED of SUM, out optional, + hess */
    CLOSS_REQUIRE(!grad_hess || a->reduction == CLOSS_REDUCTION_SUM, CLOSS_ERR_INVALID_REDUCTION);
    const closs_cl_kernels *k = dtype == CLOSS_F64 ? &cl_kernels_f64 : &cl_kernels_f32;
    const int want_v = grad_hess ? a->out != NULL : op != CLOSS_OP_BACKWARD;
    const int want_g = op != CLOSS_OP_FORWARD;
    /* what the op uses; grad_output is a backward's alone */
    void *out = want_v ? a->out : NULL, *grad_input = want_g ? a->grad_input : NULL;
    const void *grad_output = op == CLOSS_OP_BACKWARD || gscale ? a->grad_output : NULL;
    const int indices = kind != CLOSS_CLASSIFICATION_cross_entropy_prob;
    const double label_smoothing =
        kind == CLOSS_CLASSIFICATION_nll_loss ? 0.0 : a->label_smoothing;
    const closs_reduction red = a->reduction;
    const int64_t np = closs_mul_size(a->n, a->s), ne = closs_mul_size(np, a->c);
    CLOSS_REQUIRE(ne >= 0, CLOSS_ERR_INVALID_SIZE); /* n, s, c and n s too */
    CLOSS_REQUIRE(closs_reduction_valid(red, partial), CLOSS_ERR_INVALID_REDUCTION);
    CLOSS_REQUIRE(label_smoothing >= 0.0 && label_smoothing <= 1.0,
                  CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(ne == 0 || a->x, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(indices ? (np == 0 || a->t) : (ne == 0 || a->tp), CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(!want_v || out || (red == CLOSS_REDUCTION_NONE ? np == 0 : part != NULL),
                  CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(!want_g || grad_input || ne == 0, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(!grad_hess || a->hess || ne == 0, CLOSS_ERR_NULL_POINTER);

    closs_cl_ctx c;
    cl_ctx_of(&c, a, indices);
    c.gx = want_g ? grad_input : NULL;
    c.hx = grad_hess ? a->hess : NULL;
    c.gh_value = grad_hess && want_v;
    c.out = want_v && red == CLOSS_REDUCTION_NONE ? out : NULL;
    c.keep = 1.0 - label_smoothing;
    c.eps_c = a->c > 0 ? label_smoothing / (double)a->c : 0.0;
    c.gscale = 1.0;
    const int smooth = kind == CLOSS_CLASSIFICATION_cross_entropy && label_smoothing > 0.0;
    if (smooth)
        c.wtotal = !a->w ? (double)a->c
                   : k->is_f64 ? closs_sum_f64(a->c, (const double *)a->w)
                               : closs_sum_f32(a->c, (const float *)a->w);

    /* MEAN's denominator: n s for probabilities (NaN when there are no
     * elements, as torch), the kept weight for indices (known after a pass). */
    const double prob_denominator = a->c > 0 ? (double)np : 0.0;
    double sums[CL_NSUMS];
    if (grad_hess) {
        /* derivatives of the SUM: scale 1 */
    } else if (want_g && red == CLOSS_REDUCTION_NONE) {
        c.go = grad_output;
        if (gscale) c.gscale = *gscale;
    } else if (want_g && gscale) {
        c.gscale = *gscale;
    } else if (want_g) {
        double denominator = prob_denominator;
        if (red == CLOSS_REDUCTION_MEAN && indices)
            CLOSS_REQUIRE(cl_kept_weight(k, &c, np, &denominator), CLOSS_ERR_INDEX_OUT_OF_RANGE);
        c.gscale = closs_grad_scale(grad_output, k->is_f64, red, denominator);
    }

    const int u = !indices ? (a->w ? CL_U_PROB_W : CL_U_PROB)
                  : smooth  ? (a->w ? CL_U_SMOOTH_W : CL_U_SMOOTH)
                            : CL_U_ONEHOT;
    closs_sums_fn fn;
    int64_t unit = a->c > 0 ? a->c : 1, parallel_min = CLOSS_SOFTMAX_PARALLEL_MIN;
    if (a->c == 0) {
        /* No classes, no input to read: the targets are checked (any kept index
         * is out of range) and every value is 0. */
        if (c.out) memset(c.out, 0, (size_t)np * (k->is_f64 ? sizeof(double) : sizeof(float)));
        c.out = NULL;
        fn = indices ? k->targets : k->none;
        unit = 1;
        parallel_min = CLOSS_STREAM_PARALLEL_MIN;
    } else if (grad_hess) {
        fn = kind == CLOSS_CLASSIFICATION_nll_loss ? k->gh_nll
                                                   : k->gh[a->s > 1 || a->c < CL_GH_VECTOR_MIN][u];
    } else if (kind == CLOSS_CLASSIFICATION_nll_loss) {
        fn = k->nll[a->s == 1 && a->c < CL_NLL_ROWS_MAX][op];
        parallel_min = CLOSS_STREAM_PARALLEL_MIN;
        if (!want_g) {
            unit = 1; /* a gather: one element per position */
        } else {      /* a row zeroed: c / CL_ZERO_COST streamed elements */
            unit = (a->c + CL_ZERO_COST - 1) / CL_ZERO_COST;
            parallel_min /= CL_ZERO_COST;
        }
    } else {
        fn = a->s > 1                              ? k->tiles[u][op]
             : a->c <= CL_FEW && u < CL_U_PROB ? k->few[u][op]
                                               : k->rows[u][op];
    }
    closs_blocks_sums(np, unit, parallel_min, fn, &c, CL_NSUMS, sums);
    if (sums[CL_SUM_BAD] > 0) return CLOSS_ERR_INDEX_OUT_OF_RANGE;
    if (!indices && want_g && !grad_hess && !part && a->c > 0) {
        const closs_status st = cl_prob_grads(k, &c, a, np);
        if (st != CLOSS_OK) return st;
    }

    if (part) {
        part[0] = sums[CL_SUM_LOSS];
        part[1] = sums[CL_SUM_WEIGHT];
    } else if (want_v && red != CLOSS_REDUCTION_NONE) {
        closs_store_reduced(out, sums[CL_SUM_LOSS], red,
                            indices ? sums[CL_SUM_WEIGHT] : prob_denominator, k->is_f64,
                            partial);
    }
    return CLOSS_OK;
}

closs_status closs_classification_call(closs_dtype dtype, int kind, closs_op op,
                                       const closs_classification_args *a)
{
    return cl_run(dtype, kind, op, a, NULL, NULL);
}

closs_status closs_classification_part(closs_dtype dtype, int kind, closs_op op,
                                       const closs_classification_args *a, double gscale,
                                       double part[2])
{
    CLOSS_REQUIRE(part, CLOSS_ERR_NULL_POINTER);
    return cl_run(dtype, kind, op, a, &gscale, part);
}

closs_status closs_classification_denominator(closs_dtype dtype, int kind,
                                              const closs_classification_args *a,
                                              double *denominator)
{
    CLOSS_REQUIRE(a && denominator, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(dtype == CLOSS_F32 || dtype == CLOSS_F64, CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(kind >= 0 && kind < CLOSS_CLASSIFICATION_COUNT, CLOSS_ERR_INVALID_ARGUMENT);
    const int64_t np = closs_mul_size(a->n, a->s), ne = closs_mul_size(np, a->c);
    CLOSS_REQUIRE(ne >= 0, CLOSS_ERR_INVALID_SIZE);
    if (kind == CLOSS_CLASSIFICATION_cross_entropy_prob) {
        *denominator = a->c > 0 ? (double)np : 0.0;
        return CLOSS_OK;
    }
    CLOSS_REQUIRE(np == 0 || a->t, CLOSS_ERR_NULL_POINTER);
    closs_cl_ctx c;
    cl_ctx_of(&c, a, 1);
    const closs_cl_kernels *k = dtype == CLOSS_F64 ? &cl_kernels_f64 : &cl_kernels_f32;
    CLOSS_REQUIRE(cl_kept_weight(k, &c, np, denominator), CLOSS_ERR_INDEX_OUT_OF_RANGE);
    return CLOSS_OK;
}
