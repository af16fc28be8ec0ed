/*
 * numerics.h - numerical helpers of the point functions, type-generic through
 * <tgmath.h> (float in, float out). Each names its reference.
 */
#ifndef CLOSS_NUMERICS_H
#define CLOSS_NUMERICS_H

#include <tgmath.h>

#include "closs_internal.h"

/* Vector math: glibc's libmvec (glibc >= 2.22, linked through libm) has SIMD
 * variants of exp and log for SSE2 and AVX2, accurate to 4 ulp. glibc declares
 * them only under -ffast-math, which closs does not use (it would break NaN and
 * inf handling); declaring them here lets GCC vectorise the loops that call
 * them. meson.build defines CLOSS_VECTOR_MATH where this links. Only the
 * glibc 2.22 set is used (not log1p), so wheels need no newer glibc. */
#ifdef CLOSS_VECTOR_MATH
#define CLOSS_SIMD_MATH __attribute__((simd("notinbranch")))
extern float (expf)(float) CLOSS_SIMD_MATH;
extern float (logf)(float) CLOSS_SIMD_MATH;
extern double (exp)(double) CLOSS_SIMD_MATH; /* (name): not tgmath's macro */
extern double (log)(double) CLOSS_SIMD_MATH;
#endif

/*
 * The helpers below are defined for float (_f32) and double (_f64); inside a
 * template, CLOSS_NUM(name) picks the one of PW_T. Each calls exp and log
 * unconditionally and ends in a select, so loops that use them vectorise.
 *
 *   log1p(z), z >= -1   from log alone: with u = 1 + z rounded, log(u) z / (u - 1)
 *                       cancels u's rounding error (Goldberg, "What every computer
 *                       scientist should know about floating-point arithmetic",
 *                       1991, theorem 4); u == 1 means log1p(z) = z to rounding.
 *   softplus(t)         log(1 + exp(t)) = max(t, 0) + log1p(exp(-|t|)): exact to
 *                       rounding for every finite t and never overflows (Maechler,
 *                       "Accurately computing log(1 - exp(-|a|))", 2012, sec. 3).
 *   log_sigmoid(x)      -softplus(-x) = min(x, 0) - log1p(exp(-|x|)).
 *   sigmoid(x)          from e = exp(-|x|) in (0, 1]: 1 / (1 + e) for x >= 0,
 *                       e / (1 + e) below, so neither side overflows.
 *   xlogy(x, y)         x log y, and 0 where x == 0 unless y is NaN (torch.xlogy,
 *                       scipy.special.xlogy).
 * NaN propagates through each (max and min are written as selects that keep it).
 */
#define CLOSS_NUMERICS(T, SFX)                                                      \
    static inline T closs_log1p_##SFX(T z)                                          \
    {                                                                               \
        const T u = 1 + z, l = log(u);                                              \
        return u == 1 ? z : l * (z / (u - 1));                                      \
    }                                                                               \
    static inline T closs_softplus_##SFX(T t)                                       \
    {                                                                               \
        return (t > 0 ? t : 0) + closs_log1p_##SFX(exp(-fabs(t)));                  \
    }                                                                               \
    static inline T closs_log_sigmoid_##SFX(T x)                                    \
    {                                                                               \
        return (x < 0 ? x : 0) - closs_log1p_##SFX(exp(-fabs(x)));                  \
    }                                                                               \
    static inline T closs_sigmoid_##SFX(T x)                                        \
    {                                                                               \
        const T e = exp(-fabs(x));                                                  \
        return (x >= 0 ? 1 : e) / (1 + e);                                          \
    }                                                                               \
    static inline T closs_xlogy_##SFX(T x, T y)                                     \
    {                                                                               \
        const T l = log(y);                                                         \
        return x == 0 && y == y ? 0 * x : x * l;                                    \
    }
CLOSS_NUMERICS(float, f32)
CLOSS_NUMERICS(double, f64)
#undef CLOSS_NUMERICS

/* The helper `name` of the template's element type. */
#define CLOSS_NUM(name) CLOSS_CAT3(closs_, name, CLOSS_CAT(_, PW_SFX))

#endif /* CLOSS_NUMERICS_H */
