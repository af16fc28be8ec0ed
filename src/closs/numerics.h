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
 * numerics_typed.h, instantiated below for float (_f32) and double (_f64) by
 * the templating convention (closs_instantiate.h), defines the helpers written
 * once in CLOSS_T: log1p, softplus, log_sigmoid, sigmoid, xlogy (their
 * references are there) and a float's bits and back (closs_bits_SFX,
 * closs_from_bits_SFX). A template calls CLOSS_FN(closs_name).
 */
#define CLOSS_TEMPLATE "numerics_typed.h"
#include "closs_instantiate.h"

/* 2^n for an integer-valued n in [-126, 127], and 0 for n = -127: n + 127
 * lands in the low bits of the mantissa of n + 1.5 * 2^23 + 127, and shifting
 * it by 23 makes it the exponent (the bits above fall off). */
CLOSS_INLINE float closs_pow2i_f32(float n)
{
    return closs_from_bits_f32(closs_bits_f32(n + (0x1.8p23f + 127.0f)) << 23);
}

CLOSS_INLINE double closs_pow2i_f64(double n)
{
    return closs_from_bits_f64(closs_bits_f64(n + (0x1.8p52 + 1023.0)) << 52);
}

/* e^x = p 2^n for |x| below about 750: Cody-Waite reduction x = n ln2 + r
 * (n = round(x / ln2), |r| <= ln2 / 2, ln2 split in two so that n ln2_hi is
 * exact) and e^r = p by a polynomial. Returns p and stores n (integer-valued).
 * NaN gives NaN. */
CLOSS_INLINE float closs_exp_reduced_f32(float x, float *n_out)
{
    const float shift = 0x1.8p23f; /* adding it rounds to an integer */
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
    *n_out = n;
    return p * z + r + 1.0f;
}

CLOSS_INLINE double closs_exp_reduced_f64(double x, double *n_out)
{
    const double shift = 0x1.8p52;
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
    *n_out = n;
    return p * r + 1.0;
}

CLOSS_INLINE float closs_exp_f32(float x)
{
    x = x < -88.0f ? -88.0f : x; /* keeps NaN; n >= -127, and 2^-127 is made 0 */
    float n;
    const float p = closs_exp_reduced_f32(x, &n);
    return p * closs_pow2i_f32(n);
}

CLOSS_INLINE double closs_exp_f64(double x)
{
    x = x < -709.0 ? -709.0 : x; /* n >= -1023, and 2^-1023 is made 0 */
    double n;
    const double p = closs_exp_reduced_f64(x, &n);
    return p * closs_pow2i_f64(n);
}

/*
 * closs_exp_full_f32 / closs_exp_full_f64: e^x on the whole line, for
 * arguments of any sign (the CTC gradient's exp(log_probs), which need not be
 * normalised): the same reduction and polynomial as closs_exp, with 2^n
 * applied as 2^h 2^(n - h), h = round(n / 2), so that both factors are normal
 * and the one rounding of the last product gives gradual underflow
 * (subnormal results) and overflow to inf. x is clamped first to
 * [-104, 89] (f32) / [-750, 710] (f64), where e^x rounds to 0 and inf: -inf
 * gives 0, +inf gives inf, NaN gives NaN. Within 1 ulp (f32) / 2 ulp (f64)
 * for normal results (tests/c/test_ctc.c sweeps the range).
 */
CLOSS_INLINE float closs_exp_full_f32(float x)
{
    x = x < -104.0f ? -104.0f : x; /* e^-104 < 2^-150: rounds to 0 */
    x = x > 89.0f ? 89.0f : x;     /* e^89 > FLT_MAX */
    float n;
    const float p = closs_exp_reduced_f32(x, &n);
    const float h = (n * 0.5f + 0x1.8p23f) - 0x1.8p23f;
    return p * closs_pow2i_f32(h) * closs_pow2i_f32(n - h);
}

CLOSS_INLINE double closs_exp_full_f64(double x)
{
    x = x < -750.0 ? -750.0 : x;
    x = x > 710.0 ? 710.0 : x;
    double n;
    const double p = closs_exp_reduced_f64(x, &n);
    const double h = (n * 0.5 + 0x1.8p52) - 0x1.8p52;
    return p * closs_pow2i_f64(h) * closs_pow2i_f64(n - h);
}

/*
 * closs_log_f32 / closs_log_f64: the natural logarithm, written so that GCC
 * vectorises a loop that calls it (no libm call, no table, no int-to-float
 * conversion), used by the CTC recursions.
 *   Method: x = 2^e m with m in [sqrt(1/2), sqrt(2)) (subnormal x scaled up
 *   first); with f = m - 1 and s = f / (2 + f), log(m) = 2 atanh(s)
 *   = f - (f^2/2 - s (f^2/2 + R(s^2))), R(z) = 2 z / 3 + 2 z^2 / 5 + ... (the
 *   atanh series; the exact f carries the leading term, as in fdlibm's log),
 *   |s| <= 0.172: 4 terms (f32), 10 terms (f64) leave a truncation error
 *   below 3e-9 / 6e-19 relative; log(x) = e ln2_hi + (log(m) + e ln2_lo).
 *   The exponent e becomes a float through the bits of 1.5 2^23 + e.
 *   Within 2 ulp of the exact value over the positive numbers (the sweep in
 *   tests/c/test_ctc.c). log(0) = -inf, log(inf) = inf, x < 0 and NaN give NaN.
 */
CLOSS_INLINE float closs_log_f32(float x)
{
    const int tiny = x < 0x1p-126f;
    const float xs = tiny ? x * 0x1p23f : x;
    const uint32_t k = closs_bits_f32(xs) - 0x3f3504f3u; /* 0x3f3504f3: sqrt(1/2) */
    const int32_t ei = (int32_t)k >> 23;                  /* arithmetic: e < 0 too */
    const float m = closs_from_bits_f32((k & 0x007fffffu) + 0x3f3504f3u);
    const float e = closs_from_bits_f32(0x4b400000u + (uint32_t)ei) - 0x1.8p23f -
                    (tiny ? 23.0f : 0.0f);
    const float f = m - 1.0f, s = f / (2.0f + f), z = s * s, hfsq = 0.5f * f * f;
    const float r = z * (2.0f / 3 + z * (2.0f / 5 + z * (2.0f / 7 + z * (2.0f / 9))));
    const float lm = f - (hfsq - s * (hfsq + r));
    const float l = e * 0.693359375f + (lm + e * -2.12194440e-4f);
    const float special = x == 0 ? -(float)INFINITY : x < 0 ? (float)NAN : x;
    return x > 0 && x < (float)INFINITY ? l : special;
}

CLOSS_INLINE double closs_log_f64(double x)
{
    const int tiny = x < 0x1p-1022;
    const double xs = tiny ? x * 0x1p52 : x;
    const uint64_t k = closs_bits_f64(xs) - 0x3fe6a09e667f3bcdu; /* sqrt(1/2) */
    const int64_t ei = (int64_t)k >> 52;
    const double m = closs_from_bits_f64((k & 0x000fffffffffffffu) + 0x3fe6a09e667f3bcdu);
    const double e = closs_from_bits_f64(0x4338000000000000u + (uint64_t)ei) - 0x1.8p52 -
                     (tiny ? 52.0 : 0.0);
    const double f = m - 1.0, s = f / (2.0 + f), z = s * s, hfsq = 0.5 * f * f;
    double r = 2.0 / 21;
    r = r * z + 2.0 / 19;
    r = r * z + 2.0 / 17;
    r = r * z + 2.0 / 15;
    r = r * z + 2.0 / 13;
    r = r * z + 2.0 / 11;
    r = r * z + 2.0 / 9;
    r = r * z + 2.0 / 7;
    r = r * z + 2.0 / 5;
    r = r * z + 2.0 / 3;
    r = r * z;
    const double lm = f - (hfsq - s * (hfsq + r));
    const double l = e * 6.93147180369123816490e-01 + (lm + e * 1.90821492927058770002e-10);
    const double special = x == 0 ? -(double)INFINITY : x < 0 ? (double)NAN : x;
    return x > 0 && x < (double)INFINITY ? l : special;
}

#endif /* CLOSS_NUMERICS_H */
