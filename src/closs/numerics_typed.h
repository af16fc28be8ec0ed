/*
 * numerics_typed.h - the template of numerics.h's helpers written once in
 * CLOSS_T (included by numerics.h through closs_instantiate.h, once per
 * dtype); each is named CLOSS_FN(closs_name): closs_name_f32, closs_name_f64.
 * Each calls exp and log (tgmath's, of CLOSS_T) unconditionally and ends in a
 * select, so loops that use them vectorise.
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
 *
 *   bits(f), from_bits(u)  a float's bits (the unsigned integer of its width) and
 *                          back, without breaking aliasing rules (memcpy compiles
 *                          to a register move).
 */
#if CLOSS_IS_F64
#define NUM_UINT uint64_t
#else
#define NUM_UINT uint32_t
#endif

static inline CLOSS_T CLOSS_FN(closs_log1p)(CLOSS_T z)
{
    const CLOSS_T u = 1 + z, l = log(u);
    return u == 1 ? z : l * (z / (u - 1));
}

static inline CLOSS_T CLOSS_FN(closs_softplus)(CLOSS_T t)
{
    return (t > 0 ? t : 0) + CLOSS_FN(closs_log1p)(exp(-fabs(t)));
}

static inline CLOSS_T CLOSS_FN(closs_log_sigmoid)(CLOSS_T x)
{
    return (x < 0 ? x : 0) - CLOSS_FN(closs_log1p)(exp(-fabs(x)));
}

static inline CLOSS_T CLOSS_FN(closs_sigmoid)(CLOSS_T x)
{
    const CLOSS_T e = exp(-fabs(x));
    return (x >= 0 ? 1 : e) / (1 + e);
}

static inline CLOSS_T CLOSS_FN(closs_xlogy)(CLOSS_T x, CLOSS_T y)
{
    const CLOSS_T l = log(y);
    return x == 0 && y == y ? 0 * x : x * l;
}

CLOSS_INLINE CLOSS_T CLOSS_FN(closs_from_bits)(NUM_UINT u)
{
    CLOSS_T f;
    memcpy(&f, &u, sizeof f);
    return f;
}

CLOSS_INLINE NUM_UINT CLOSS_FN(closs_bits)(CLOSS_T f)
{
    NUM_UINT u;
    memcpy(&u, &f, sizeof u);
    return u;
}

#undef NUM_UINT
