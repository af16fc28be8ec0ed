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

/* ---- row-wise family (rowwise.c) ---- */

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
