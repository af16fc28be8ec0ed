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
#define LOG_2PI 1.83787706640934548356
#define PW_NAME poisson_nll_loss
#define PW_PARALLEL_MIN CLOSS_COMPUTE_PARALLEL_MIN
#define PW_PARAM int log_input, int full, double eps,
#define PW_P0 eps
#define PW_P1 (full != 0)
#define PW_P2 (log_input != 0)
#define PW_PARAM_OK 1
#define PW_POINT(x, y, a, v, g)                                                         \
    do {                                                                                \
        if (p2 != 0) { /* loop-invariant: unswitched */                                 \
            const PW_T ex = exp(x);                                                     \
            v = ex - (y) * (x);                                                         \
            g = ex - (y);                                                               \
        } else {                                                                        \
            const PW_T xe = (x) + p0;                                                   \
            v = (x) - (y) * log(xe);                                                    \
            g = 1 - (y) / xe;                                                           \
        }                                                                               \
        if (p1 != 0) { /* loop-invariant: unswitched */                                 \
            const PW_T ly = log(y);                                                     \
            const PW_T stirling = (y) * ly - (y) + (PW_T)0.5 * ((PW_T)LOG_2PI + ly);   \
            v += (y) > 1 ? stirling : (PW_T)0;                                          \
        }                                                                               \
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
#define PW_PARALLEL_MIN CLOSS_COMPUTE_PARALLEL_MIN
#define PW_PARAM int log_target,
#define PW_P0 (log_target != 0)
#define PW_PARAM_OK 1
#define PW_POINT(x, y, a, v, g)                                                \
    do {                                                                       \
        if (p0 != 0) { /* loop-invariant: unswitched */                        \
            const PW_T ey = exp(y);                                            \
            v = ey * ((y) - (x));                                              \
            g = -ey;                                                           \
        } else {                                                               \
            v = CLOSS_NUM(xlogy)(y, y) - (y) * (x);                            \
            g = -(y);                                                          \
        }                                                                      \
    } while (0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"

/*
 * gaussian_nll_loss, a = var (already broadcast to n), p0 = eps, p1 = full:
 *   0.5 (log v + (x - y)^2 / v) [+ 0.5 log(2 pi)],  v = max(var, eps)
 *   dL/dx = (x - y) / v,   dL/dvar = 0.5 (1 / v - (x - y)^2 / v^2)
 * torch clamps var under no_grad, so dL/dvar is the derivative at v even where
 * var < eps. NaN var stays NaN; var < 0 is outside the domain (CLOSS_ERR_DOMAIN).
 */
#define PW_NAME gaussian_nll_loss
#define PW_PARALLEL_MIN CLOSS_COMPUTE_PARALLEL_MIN
#define PW_PARAM const PW_T *var, int full, double eps,
#define PW_P0 eps
#define PW_P1 (full != 0)
#define PW_PARAM_OK 1
#define PW_HAS_AUX 1
#define PW_AUX var
#define PW_AUX_ABSENT 1
#define PW_AUX_REQUIRED 1
#define PW_AUX_GRAD_OUT grad_var
#define PW_DOMAIN(x, y, a) (!((a) < 0))
#define GAUSSIAN_VAR(a) ((a) < p0 ? p0 : (a))
#define PW_POINT(x, y, a, v, g)                                                        \
    do {                                                                               \
        const PW_T d = (x) - (y), s = GAUSSIAN_VAR(a);                                 \
        const PW_T ls = log(s);                                                        \
        v = PW_DOMAIN(x, y, a) ? (PW_T)0.5 * (ls + d * d / s) : (PW_T)NAN;             \
        if (p1 != 0) v += (PW_T)(0.5 * LOG_2PI);                                       \
        g = d / s;                                                                     \
    } while (0)
#define PW_AUX_GRAD(x, y, a, ga)                                                       \
    do {                                                                               \
        const PW_T d = (x) - (y), s = GAUSSIAN_VAR(a);                                 \
        ga = (PW_T)0.5 * (1 / s - d * d / (s * s));                                    \
    } while (0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"
#undef GAUSSIAN_VAR
#undef LOG_2PI
