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

/* ---- ctc family (ctc.c) ---- */

#endif /* CLOSS_FAMILIES_H */
