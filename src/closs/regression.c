/*
 * regression.c - l1_loss, mse_loss, smooth_l1_loss and huber_loss.
 *
 * Each loss is its point function (value v and derivative g with respect to
 * the input, d = x - y), instantiated by pointwise_loss.h. Comparisons are
 * written so that NaN and inf propagate as in PyTorch 2.13:
 *   l1      g = sign(d), 0 at d = 0 and at NaN (torch's sgn)
 *   smooth  |d| < beta takes the quadratic branch; NaN falls to the linear one,
 *           whose value is NaN, and its gradient d/beta is NaN as in torch
 *   huber   the same with delta; the gradient clamps d to [-delta, delta]
 */
#include "pointwise_driver.h"

#define L1_SIGN(d) (PW_T)(((d) > 0) - ((d) < 0))

#define PW_NAME l1_loss
#define PW_POINT(x, y, a, v, g) \
    do {                             \
        const PW_T d = (x) - (y);    \
        v = fabs(d);                 \
        g = L1_SIGN(d);              \
    } while (0)
#define PW_MEAN_BY_WSUM 1
#include "pointwise_loss.h"

#define PW_NAME mse_loss
#define PW_POINT(x, y, a, v, g) \
    do {                             \
        const PW_T d = (x) - (y);    \
        v = d * d;                   \
        g = 2 * d;                   \
    } while (0)
#define PW_MEAN_BY_WSUM 1
#include "pointwise_loss.h"

/* p0 = beta, p1 = 1 / beta (0 when beta == 0, where the quadratic branch is empty). */
#define PW_NAME smooth_l1_loss
#define PW_POINT(x, y, a, v, g)                                     \
    do {                                                                 \
        const PW_T d = (x) - (y), ad = fabs(d);                          \
        const int quad = ad < p0;                                        \
        v = quad ? (PW_T)0.5 * d * d * p1 : ad - (PW_T)0.5 * p0;         \
        g = quad ? d * p1 : (p0 == 0 ? L1_SIGN(d) : (d < -p0 ? (PW_T)-1 : (d > p0 ? (PW_T)1 : d * p1))); \
    } while (0)
#define PW_PARAM double beta,
#define PW_P0 beta
#define PW_P1 (beta > 0 ? 1.0 / beta : 0.0)
#define PW_PARAM_OK (beta >= 0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"

/* p0 = delta. */
#define PW_NAME huber_loss
#define PW_POINT(x, y, a, v, g)                                           \
    do {                                                                       \
        const PW_T d = (x) - (y), ad = fabs(d);                                \
        v = ad < p0 ? (PW_T)0.5 * d * d : p0 * (ad - (PW_T)0.5 * p0);          \
        g = d < -p0 ? -p0 : (d > p0 ? p0 : d);                                 \
    } while (0)
#define PW_PARAM double delta,
#define PW_P0 delta
#define PW_P1 0.0
#define PW_PARAM_OK (delta > 0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"
