/*
 * binary.c - losses of a binary target: binary_cross_entropy (probabilities),
 * binary_cross_entropy_with_logits, soft_margin_loss and hinge_embedding_loss
 * (labels +-1). Each is its point function, instantiated by pointwise_loss.h.
 *
 * Numerics (numerics.h has the helpers and their references):
 *   - log-sigmoid and softplus never overflow: log1p(exp(-|x|)) + max(.., 0);
 *   - sigmoid is evaluated from exp(-|x|) on the side where it cannot overflow.
 */
#include "numerics.h"
#include "pointwise_driver.h"

/*
 * binary_cross_entropy: -(y log x + (1 - y) log(1 - x)), each log clamped at
 * -100 as torch does, so x in {0, 1} gives finite values. Domain x, y in [0, 1]
 * (NaN is outside, as in torch); outside it the value is NaN and the forward
 * reports CLOSS_ERR_DOMAIN. The gradient is torch's (x - y) / max(x (1 - x),
 * 1e-12, a float constant in torch too), not the derivative of the clamped value.
 */
#define PW_NAME binary_cross_entropy
#define PW_PARALLEL_MIN CLOSS_COMPUTE_PARALLEL_MIN
#define PW_DOMAIN(x, y, a) ((x) >= 0 && (x) <= 1 && (y) >= 0 && (y) <= 1)
#define PW_POINT(x, y, a, v, g)                                                       \
    do {                                                                              \
        const PW_T lx = log(x), l1x = CLOSS_NUM(log1p)(-(x)), xx = (1 - (x)) * (x);    \
        v = ((y) - 1) * (l1x < -100 ? -100 : l1x) - (y) * (lx < -100 ? -100 : lx);     \
        v = PW_DOMAIN(x, y, a) ? v : (PW_T)NAN;                                       \
        g = ((x) - (y)) / (xx < (PW_T)1e-12f ? (PW_T)1e-12f : xx);                    \
    } while (0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"

/*
 * binary_cross_entropy_with_logits: (1 - y) x - l log_sigmoid(x), with
 * l = 1 + (p - 1) y and p = pos_weight (1 when absent). Stable for any finite x.
 * dL/dx = l sigmoid(x) - p y.
 */
#define PW_NAME binary_cross_entropy_with_logits
#define PW_PARALLEL_MIN CLOSS_COMPUTE_PARALLEL_MIN
#define PW_PARAM const PW_T *pos_weight,
#define PW_PARAM_OK 1
#define PW_HAS_AUX 1
#define PW_AUX pos_weight
#define PW_AUX_ABSENT 1
#define PW_POINT(x, y, a, v, g)                                    \
    do {                                                           \
        const PW_T l = 1 + ((a) - 1) * (y);                        \
        v = (1 - (y)) * (x) - l * CLOSS_NUM(log_sigmoid)(x);            \
        g = l * CLOSS_NUM(sigmoid)(x) - (a) * (y);                      \
    } while (0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"

/*
 * soft_margin_loss: log(1 + exp(-y x)) = softplus(-y x), for labels y (+-1 in
 * use, any value computes). Stable where torch's log1p(exp(-y x)) overflows to
 * inf (y x < -88 in float): closs returns the finite value there.
 * dL/dx = -y sigmoid(-y x).
 */
#define PW_NAME soft_margin_loss
#define PW_PARALLEL_MIN CLOSS_COMPUTE_PARALLEL_MIN
#define PW_POINT(x, y, a, v, g)                 \
    do {                                        \
        const PW_T t = -(y) * (x);              \
        v = CLOSS_NUM(softplus)(t);                  \
        g = -(y) * CLOSS_NUM(sigmoid)(t);            \
    } while (0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"

/*
 * hinge_embedding_loss, p0 = margin: max(0, margin - x) where y != 1, plus x
 * where y != -1 (labels other than +-1 get both terms, as in torch). The hinge
 * passes its gradient where margin - x >= 0 (torch's clamp_min) and NaN
 * propagates through it.
 */
#define PW_NAME hinge_embedding_loss
#define PW_PARAM double margin,
#define PW_P0 margin
#define PW_PARAM_OK 1
#define PW_POINT(x, y, a, v, g)                                                \
    do {                                                                       \
        const PW_T h = p0 - (x);                                               \
        const PW_T not_pos = (PW_T)((y) != 1), not_neg = (PW_T)((y) != -1);    \
        v = ((y) != 1 ? (h < 0 ? (PW_T)0 : h) : (PW_T)0) + ((y) != -1 ? (x) : (PW_T)0); \
        g = not_neg - not_pos * (PW_T)(h >= 0);                                \
    } while (0)
#define PW_MEAN_BY_WSUM 0
#include "pointwise_loss.h"
