/*
 * embedding.c - cosine_embedding_loss and triplet_margin_loss (formulas in
 * closs.h): their row functions in embedding_rows.h, compiled for float and
 * double. Row sums (dot products, norms, distances) accumulate in double
 * lanes in a fixed order.
 */
#include <tgmath.h>

#include "rowwise_driver.h"

/* torch adds its float constant EPSILON = 1e-12 to both squared norms. */
#define COSINE_EPS ((double)1e-12f)

/* The p-norms of triplet_margin_loss, each with its own loops. */
enum { DIST_L1, DIST_L2, DIST_LINF, DIST_LP };

static int dist_kind(double p)
{
    return p == 1 ? DIST_L1 : p == 2 ? DIST_L2 : isinf(p) ? DIST_LINF : DIST_LP;
}

/* torch's sgn of a real number: -1, 0 or 1, and 0 at NaN. */
#define EMB_SIGN(T, v) (T)(((v) > 0) - ((v) < 0))

#define RW_FAMILY "embedding_rows.h"
#include "rowwise_dtypes.h"
