/*
 * likelihood.c - losses of a distribution: poisson_nll_loss and kl_div, each
 * its point function instantiated by pointwise_loss.h.
 */
#include "numerics.h"
#include "pointwise_driver.h"

/*
 * poisson_nll_loss, p0 = eps, p1 = full, p2 = log_input:
 *   log_input  exp(x) - y x               dL/dx = exp(x) - y
 *   else       x - y log(x + eps)         dL/dx = 1 - y / (x + eps)
 * full adds Stirling's y log y - y + log(2 pi y) / 2 where y > 1 (it does not
 * depend on x).
 */
#define PW_NAME poisson_nll_loss
#define PW_PARAM int log_input, int full, double eps,
#define PW_P0 eps
#define PW_P1 (full != 0)
#define PW_P2 (log_input != 0)
#define PW_PARAM_OK 1
#define PW_POINT(x, y, a, v, g)                                                         \
    do {                                                                                \
        const PW_T ex = exp(x), xe = (x) + p0;                                          \
        v = p2 != 0 ? ex - (y) * (x) : (x) - (y) * log(xe);                             \
        g = p2 != 0 ? ex - (y) : 1 - (y) / xe;                                          \
        if (p1 != 0)                                                                    \
            v += (y) > 1 ? (y) * log(y) - (y) + (PW_T)0.5 * log((PW_T)(2 * CLOSS_PI) * (y)) \
                         : (PW_T)0;                                                     \
    } while (0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"

/*
 * kl_div, x = log q (the input), y = the target, p0 = log_target:
 *   p or log p target   y log y - y x  (0 where y == 0: torch's xlogy)   dL/dx = -y
 *   log_target          exp(y) (y - x)                                   dL/dx = -exp(y)
 * 'batchmean' is a sum divided by the batch size, in the Python layer.
 */
#define PW_NAME kl_div
#define PW_PARAM int log_target,
#define PW_P0 (log_target != 0)
#define PW_PARAM_OK 1
#define PW_POINT(x, y, a, v, g)                                                \
    do {                                                                       \
        const PW_T ey = exp(y);                                                \
        v = p0 != 0 ? ey * ((y) - (x)) : closs_xlogy(y, y) - (y) * (x);        \
        g = p0 != 0 ? -ey : -(y);                                              \
    } while (0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"
