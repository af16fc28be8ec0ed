/*
 * closs_families.h - the internal ABI between the Python extension and the C
 * core: one entry point per loss family, (dtype, kind, op, arguments struct).
 * Not installed, not exported from the shared library (no CLOSS_API): the
 * extension links the static library. Embedders use closs.h's per-loss
 * functions, which are thin wrappers over these entries.
 *
 * kind indexes the family's X-list (CLOSS_<FAMILY>_LOSSES), whose names table
 * (closs_<family>_names) the extension reads; op is a closs_op.
 */
#ifndef CLOSS_FAMILIES_H
#define CLOSS_FAMILIES_H

#include <stdint.h>

#include "closs.h"

typedef enum closs_op { CLOSS_OP_FORWARD = 0, CLOSS_OP_BACKWARD = 1, CLOSS_OP_FUSED = 2 } closs_op;
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

#endif /* CLOSS_FAMILIES_H */
