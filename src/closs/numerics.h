/*
 * numerics.h - numerical helpers of the point functions and kernels. Each
 * names its reference.
 *
 * The macros are type-generic through <tgmath.h> (float in, float out).
 *
 * closs_exp_f32 / closs_exp_f64: e^x written so that GCC vectorises a loop that
 * calls it (no libm call, no table, no float-to-int conversion), used by the
 * softmax of the classification losses.
 *   Method: x = n ln2 + r with n = round(x / ln2), |r| <= ln2 / 2 (Cody-Waite,
 *   ln2 split in two so that n * ln2_hi is exact); e^r by a polynomial; 2^n
 *   built from exponent bits.
 *   f32: the polynomial of Cephes' expf (S. Moshier, Cephes Math Library,
 *        expf.c): e^r = 1 + r + r^2 P5(r); within 1 ulp of the exact value
 *        (tests/c/test_classification.c checks a dense sample of [-87, 0]).
 *   f64: Taylor series of degree 13, truncation error < 5e-18 on |r| <= ln2 / 2;
 *        within 2 ulp of expl over a sweep of [-708, 709] (the same test).
 *   Domain: x <= 88 (f32), x <= 709 (f64), where e^x is finite. Results below
 *   the smallest normal number (x < -87.3, -708.4) flush to 0 from about
 *   x < -87.7 (-708.9), as the exp of PyTorch's softmax kernels does; -inf
 *   gives 0 and NaN gives NaN. Callers pass x - max(x) <= 0, or NaN.
 */
#ifndef CLOSS_NUMERICS_H
#define CLOSS_NUMERICS_H

#include <stdint.h>
#include <string.h>
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

/* A float's bits and back, without breaking aliasing rules (memcpy compiles to
 * a register move). */
#define CLOSS_BITS(T, U, SFX)                                                       \
    CLOSS_INLINE T closs_##SFX##_from_bits(U u)                                     \
    {                                                                               \
        T f;                                                                        \
        memcpy(&f, &u, sizeof f);                                                   \
        return f;                                                                   \
    }                                                                               \
    CLOSS_INLINE U closs_##SFX##_bits(T f)                                          \
    {                                                                               \
        U u;                                                                        \
        memcpy(&u, &f, sizeof u);                                                   \
        return u;                                                                   \
    }
CLOSS_BITS(float, uint32_t, f32)
CLOSS_BITS(double, uint64_t, f64)
#undef CLOSS_BITS

/* 2^n for an integer-valued n in [-126, 127], and 0 for n = -127: n + 127
 * lands in the low bits of the mantissa of n + 1.5 * 2^23 + 127, and shifting
 * it by 23 makes it the exponent (the bits above fall off). */
CLOSS_INLINE float closs_pow2i_f32(float n)
{
    return closs_f32_from_bits(closs_f32_bits(n + (0x1.8p23f + 127.0f)) << 23);
}

CLOSS_INLINE double closs_pow2i_f64(double n)
{
    return closs_f64_from_bits(closs_f64_bits(n + (0x1.8p52 + 1023.0)) << 52);
}

CLOSS_INLINE float closs_exp_f32(float x)
{
    const float shift = 0x1.8p23f; /* adding it rounds to an integer */
    x = x < -88.0f ? -88.0f : x; /* keeps NaN; n >= -127, and 2^-127 is made 0 */
    const float n = (x * 1.44269504088896341f + shift) - shift;
    float r = x - n * 0.693359375f;  /* ln2_hi: 9 bits, n * ln2_hi is exact */
    r = r - n * -2.12194440e-4f;     /* ln2_lo */
    const float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    return p * closs_pow2i_f32(n);
}

CLOSS_INLINE double closs_exp_f64(double x)
{
    const double shift = 0x1.8p52;
    x = x < -709.0 ? -709.0 : x; /* n >= -1023, and 2^-1023 is made 0 */
    const double n = (x * 1.4426950408889634074 + shift) - shift;
    double r = x - n * 6.93147180369123816490e-01; /* fdlibm's ln2_hi and ln2_lo */
    r = r - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0; /* 1/13! ... 1/0!, Horner */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * closs_pow2i_f64(n);
}

#endif /* CLOSS_NUMERICS_H */
