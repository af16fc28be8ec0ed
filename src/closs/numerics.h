/*
 * numerics.h - numerical helpers of the point functions, type-generic through
 * <tgmath.h> (float in, float out). Each names its reference.
 */
#ifndef CLOSS_NUMERICS_H
#define CLOSS_NUMERICS_H

#include <tgmath.h>

#define CLOSS_PI 3.14159265358979323846

/* softplus(t) = log(1 + exp(t)) = max(t, 0) + log1p(exp(-|t|)): exact to
 * rounding for every finite t and never overflows (Maechler, "Accurately
 * computing log(1 - exp(-|a|))", 2012, section 3). */
#define closs_softplus(t) (fmax((t), 0) + log1p(exp(-fabs(t))))

/* log(sigmoid(x)) = -softplus(-x) = min(x, 0) - log1p(exp(-|x|)). */
#define closs_log_sigmoid(x) (fmin((x), 0) - log1p(exp(-fabs(x))))

/* sigmoid(x) from e = exp(-|x|) in (0, 1]: 1 / (1 + e) for x >= 0, e / (1 + e)
 * below, so neither side overflows. NaN gives NaN. */
#define closs_sigmoid(x) \
    ((x) >= 0 ? 1 / (1 + exp(-fabs(x))) : exp(-fabs(x)) / (1 + exp(-fabs(x))))

/* xlogy(x, y) = x log y, and 0 where x == 0 unless y is NaN (torch.xlogy,
 * scipy.special.xlogy). */
#define closs_xlogy(x, y) ((x) == 0 && (y) == (y) ? 0 * (x) : (x) * log(y))

#endif /* CLOSS_NUMERICS_H */
