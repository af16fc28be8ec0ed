/*
 * elementwise.h - the element-wise family's template: L(x_i, y_i[, a_i]) * w_i.
 * elementwise.c includes it once per dtype through closs_instantiate.h
 * (CLOSS_T, CLOSS_SFX, CLOSS_FN: closs_internal.h). A loss is a point function
 * here and a line in the list below: its kernels, its kind and names-table
 * entry, its dispatch and its public functions (elementwise.c) follow.
 *
 * 0. The list of losses, CLOSS_ELEMENTWISE_LOSSES, and their kinds (defined
 *    once, by the first inclusion; elementwise.c's driver uses them too).
 * 1. Numerical helpers in CLOSS_T (softplus, sigmoid ...), with references.
 * 2. Point functions: one per loss, CLOSS_FN(<name>_point)(x, y, j, a, p0, p1, p2),
 *    returning element j's value v, dL/dx g and, for a differentiable aux
 *    array, dL/da ga; outside a loss's input domain they set `outside` and v is
 *    NaN. a is the aux element (1 without an aux array), p0..p2 the loss's
 *    parameters as ew_params (elementwise.c) prepares them. The unused results
 *    are removed by the compiler.
 *    They read x[j] and y[j] at each use rather than take the two values: with
 *    one load per element, GCC 12's size estimate of the 16-lane loop of
 *    ew_body falls under its complete-peeling limit, the lanes are unrolled
 *    before vectorisation and most exp/log calls become scalar libm calls
 *    (3-4x slower for poisson_nll_loss's gradient, and rounded differently from
 *    libmvec's). Read at each use, every kernel vectorises as the former
 *    per-loss macros did, with bit-identical results
 *    (tools/outputs_digest.py). binary_cross_entropy's domain test is likewise
 *    inline at each use (its remainder loop vectorises only so).
 *    Beside it, CLOSS_FN(<name>_hess)(args) is the Hessian's diagonal d2L/dx2
 *    (GRAD_HESS) and CLOSS_FN(<name>_dy)(args, g) the target's gradient dL/dy
 *    (g: the point's dL/dx), both as torch 2.13's autograd computes them.
 * 3. One block body, written once: every loop variant (aux or not, weight or
 *    not, per-element grad_output or scalar, value stored or summed) is a
 *    block kernel calling it with constant flags, so no hot loop tests a flag.
 * 4. The kernels of every loss of CLOSS_ELEMENTWISE_LOSSES and their table
 *    CLOSS_FN(ew_kernels)[kind].
 */
#include <tgmath.h>

#ifndef CLOSS_ELEMENTWISE_LOSSES
/* ------------------------------------------------------------ the losses
 * X(name, aux, params, traits), in kind order (the names table, Python's
 * _core.POINTWISE); name_point below is the loss's point function.
 *   aux     NOAUX; AUX: an optional second per-element input (pos_weight);
 *           AUX_GRAD: a required one with a gradient (var, into grad_aux)
 *   params  NONE, or the loss's parameters in its public functions
 *           (EW_DECL_<params>, elementwise.c) and their place in the args
 *           struct (EW_SET_<params>); ew_params checks them
 *   traits  0, or EW_MEAN_WSUM: a weighted MEAN divides by the weight sum (else n);
 *           EW_EXP: an exp or log per element (a team of threads from
 *           CLOSS_COMPUTE_PARALLEL_MIN, else CLOSS_STREAM_PARALLEL_MIN);
 *           EW_DOMAIN: inputs have a domain (the point function's `outside`)
 */
#define CLOSS_ELEMENTWISE_LOSSES(X)                                          \
    X(l1_loss, NOAUX, NONE, EW_MEAN_WSUM)                                    \
    X(mse_loss, NOAUX, NONE, EW_MEAN_WSUM)                                   \
    X(smooth_l1_loss, NOAUX, P0, 0)                                          \
    X(huber_loss, NOAUX, P0, 0)                                              \
    X(binary_cross_entropy, NOAUX, NONE, EW_EXP | EW_DOMAIN)                 \
    X(binary_cross_entropy_with_logits, AUX, NONE, EW_EXP)                   \
    X(soft_margin_loss, NOAUX, NONE, EW_EXP)                                 \
    X(hinge_embedding_loss, NOAUX, P0, 0)                                    \
    X(poisson_nll_loss, NOAUX, POISSON, EW_EXP)                              \
    X(kl_div, NOAUX, FLAG0, EW_EXP)                                          \
    X(gaussian_nll_loss, AUX_GRAD, FULL_EPS, EW_EXP | EW_DOMAIN)

#define EW_MEAN_WSUM 1
#define EW_EXP 2
#define EW_DOMAIN 4
#define EW_CHECKS(traits) (((traits) & EW_DOMAIN) != 0)
#define EW_AUX_NOAUX 0 /* the aux column as a number */
#define EW_AUX_AUX 1
#define EW_AUX_AUX_GRAD 2
#define EW_DIFF_AUX(aux) (EW_AUX_##aux == 2)

#define EW_KIND(name) EW_KIND_##name
enum {
#define EW_ENUM(name, aux, params, traits) EW_KIND(name),
    CLOSS_ELEMENTWISE_LOSSES(EW_ENUM)
#undef EW_ENUM
    EW_COUNT
};
#endif /* CLOSS_ELEMENTWISE_LOSSES */

/* ------------------------------------------------------------ numerical helpers
 * Each calls exp and log (tgmath's, of CLOSS_T) unconditionally and ends in a
 * select, so loops that use them vectorise; NaN propagates through each (max
 * and min are written as selects that keep it).
 *
 *   log1p(z), z >= -1   from log alone: with u = 1 + z rounded, log(u) z / (u - 1)
 *                       cancels u's rounding error (Goldberg, "What every computer
 *                       scientist should know about floating-point arithmetic",
 *                       1991, theorem 4); u == 1 means log1p(z) = z to rounding.
 *   logistic pieces     e = exp(-|t|) in [0, 1], r = 1 / (1 + e) and log1p(e) =
 *                       2 atanh(e / (2 + e)) by its series (ew_log1p_exp_neg). One
 *                       exp and two divisions serve softplus, sigmoid and sigmoid'
 *                       at one t: every helper below recomputes them and GCC merges
 *                       the identical calls.
 *   softplus(t)         log(1 + exp(t)) = max(t, 0) + log1p(exp(-|t|)): exact to
 *                       rounding for every finite t and never overflows (Maechler,
 *                       "Accurately computing log(1 - exp(-|a|))", 2012, sec. 3).
 *   log_sigmoid(x)      -softplus(-x) = min(x, 0) - log1p(exp(-|x|)).
 *   sigmoid(x)          r for x >= 0, e r below, so neither side overflows.
 *   sigmoid'(x)         sigmoid(x) sigmoid(-x) = e r^2: 0 at +-inf.
 *   xlogx(x)            x log x, and 0 where x == 0 (torch.xlogy(x, x),
 *                       scipy.special.xlogy).
 */
static inline CLOSS_T CLOSS_FN(ew_log1p)(CLOSS_T z)
{
    const CLOSS_T u = 1 + z, l = log(u);
    return u == 1 ? z : l * (z / (u - 1));
}

/* log1p(exp(-|t|)) = 2 atanh(s), s = e / (2 + e) in [0, 1/3] for e = exp(-|t|):
 * the odd series 2 (s + s^3 / 3 + s^5 / 5 + ...), whose first omitted term after
 * s^(2 K + 1) / (2 K + 1) is below 3^-(2 K) / (2 K + 3) relative: K = 7 (float,
 * 2e-8) and 16 (double, 1.6e-17). One division and K + 2 multiply-adds, no
 * range reduction: 23% faster than log(1 + e) through libmvec's AVX-512 log in
 * binary_cross_entropy_with_logits' fused loop (7.9 against 10.2 ms, 1e7 float32).
 * softplus within 4 ulp (3.8 measured with libmvec's exp; 5.0 with log(1 + e)):
 * tests/test_elementwise.py sweeps it against float64 and mpmath. */
static inline CLOSS_T CLOSS_FN(ew_log1p_exp_neg)(CLOSS_T t)
{
    const CLOSS_T e = exp(-fabs(t)), s = e / (2 + e), z = s * s;
    const int K = sizeof(CLOSS_T) == sizeof(float) ? 7 : 16;
    CLOSS_T p = (CLOSS_T)2 / (2 * K + 1);
    for (int k = K - 1; k >= 1; --k) p = p * z + (CLOSS_T)2 / (2 * k + 1);
    return 2 * s + s * z * p;
}

static inline CLOSS_T CLOSS_FN(ew_softplus)(CLOSS_T t)
{
    return (t > 0 ? t : 0) + CLOSS_FN(ew_log1p_exp_neg)(t);
}

static inline CLOSS_T CLOSS_FN(ew_log_sigmoid)(CLOSS_T x)
{
    return (x < 0 ? x : 0) - CLOSS_FN(ew_log1p_exp_neg)(x);
}

static inline CLOSS_T CLOSS_FN(ew_sigmoid)(CLOSS_T x)
{
    const CLOSS_T e = exp(-fabs(x)), r = 1 / (1 + e);
    return x >= 0 ? r : e * r;
}

static inline CLOSS_T CLOSS_FN(ew_dsigmoid)(CLOSS_T x)
{
    const CLOSS_T e = exp(-fabs(x)), r = 1 / (1 + e);
    return e * r * r;
}

static inline CLOSS_T CLOSS_FN(ew_xlogx)(CLOSS_T x)
{
    /* log(x + 1) = log 1 = 0 where x == 0: a zero x (a one-hot or sparse target)
     * hands the vector log no 0, whose special-case path is ~5x slower. An add,
     * not a select: GCC folds log over a select into a select of log(x). + 0: a
     * -0 x gives +0, as torch. */
    return x * log(x + (CLOSS_T)(x == 0)) + 0;
}

typedef struct CLOSS_FN(ew_point) {
    CLOSS_T v, g, ga; /* value, dL/dx, dL/da */
    int outside;      /* the element is outside the loss's domain (v is NaN) */
} CLOSS_FN(ew_point);

#define EW_POINT CLOSS_FN(ew_point)
#define EW_POINT_ARGS \
    const CLOSS_T *restrict x, const CLOSS_T *restrict y, int64_t j, CLOSS_T a, CLOSS_T p0, CLOSS_T p1, CLOSS_T p2

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* ------------------------------------------------------------ point functions
 * Regression, d = x - y. Comparisons are written so that NaN and inf
 * propagate as in PyTorch 2.13. */

/* sign(d), 0 at d = 0 and at NaN (torch's sgn). */
CLOSS_INLINE CLOSS_T CLOSS_FN(ew_sign)(CLOSS_T d)
{
    return (CLOSS_T)((d > 0) - (d < 0));
}

/* l1_loss: |d|, g = sign(d) (0 at d = 0 and at NaN). */
CLOSS_INLINE EW_POINT CLOSS_FN(l1_loss_point)(EW_POINT_ARGS)
{
    const CLOSS_T d = x[j] - y[j];
    return (EW_POINT){.v = fabs(d), .g = CLOSS_FN(ew_sign)(d)};
}

/* d2L/dx2 = 0 everywhere, the kink d = 0 included (torch's double backward). */
CLOSS_INLINE CLOSS_T CLOSS_FN(l1_loss_hess)(EW_POINT_ARGS) { return 0; }

/* dL/dy = -dL/dx (here and in the other losses of d = x - y). */
CLOSS_INLINE CLOSS_T CLOSS_FN(l1_loss_dy)(EW_POINT_ARGS, CLOSS_T g) { return -g; }

/* mse_loss: d^2, g = 2 d. */
CLOSS_INLINE EW_POINT CLOSS_FN(mse_loss_point)(EW_POINT_ARGS)
{
    const CLOSS_T d = x[j] - y[j];
    return (EW_POINT){.v = d * d, .g = 2 * d};
}

CLOSS_INLINE CLOSS_T CLOSS_FN(mse_loss_hess)(EW_POINT_ARGS) { return 2; }

CLOSS_INLINE CLOSS_T CLOSS_FN(mse_loss_dy)(EW_POINT_ARGS, CLOSS_T g) { return -g; }

/* smooth_l1_loss, p0 = beta, p1 = 1 / beta (0 when beta == 0, where the
 * quadratic branch is empty): |d| < beta takes the quadratic branch
 * 0.5 d^2 / beta; NaN falls to the linear one |d| - 0.5 beta, whose value is
 * NaN, and its gradient d / beta is NaN as in torch. beta == 0 is l1_loss. */
CLOSS_INLINE EW_POINT CLOSS_FN(smooth_l1_loss_point)(EW_POINT_ARGS)
{
    const CLOSS_T d = x[j] - y[j], ad = fabs(d);
    const int quad = ad < p0;
    EW_POINT r;
    r.v = quad ? (CLOSS_T)0.5 * d * d * p1 : ad - (CLOSS_T)0.5 * p0;
    r.g = quad ? d * p1
               : (p0 == 0 ? CLOSS_FN(ew_sign)(d)
                          : (d < -p0 ? (CLOSS_T)-1 : (d > p0 ? (CLOSS_T)1 : d * p1)));
    r.ga = 0, r.outside = 0;
    return r;
}

/* 1 / beta where |d| < beta, else 0: 0 at the kink |d| == beta, at NaN, and
 * everywhere for beta == 0 (p1 = 0), as torch's double backward. */
CLOSS_INLINE CLOSS_T CLOSS_FN(smooth_l1_loss_hess)(EW_POINT_ARGS)
{
    return fabs(x[j] - y[j]) < p0 ? p1 : (CLOSS_T)0;
}

CLOSS_INLINE CLOSS_T CLOSS_FN(smooth_l1_loss_dy)(EW_POINT_ARGS, CLOSS_T g) { return -g; }

/* huber_loss, p0 = delta: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5
 * delta) (NaN takes the second branch); the gradient clamps d to
 * [-delta, delta]. */
CLOSS_INLINE EW_POINT CLOSS_FN(huber_loss_point)(EW_POINT_ARGS)
{
    const CLOSS_T d = x[j] - y[j], ad = fabs(d);
    return (EW_POINT){.v = ad < p0 ? (CLOSS_T)0.5 * d * d : p0 * (ad - (CLOSS_T)0.5 * p0),
                      .g = d < -p0 ? -p0 : (d > p0 ? p0 : d)};
}

/* 1 where |d| < delta, else 0 (0 at the kink |d| == delta and at NaN). */
CLOSS_INLINE CLOSS_T CLOSS_FN(huber_loss_hess)(EW_POINT_ARGS)
{
    return fabs(x[j] - y[j]) < p0 ? (CLOSS_T)1 : (CLOSS_T)0;
}

CLOSS_INLINE CLOSS_T CLOSS_FN(huber_loss_dy)(EW_POINT_ARGS, CLOSS_T g) { return -g; }

/* ------------------------------------------------------------ binary targets
 * (the helpers above, with their references): log-sigmoid and softplus
 * never overflow (log1p(exp(-|x|)) + max(.., 0)); sigmoid is evaluated from
 * exp(-|x|) on the side where it cannot overflow. */

/* binary_cross_entropy: -(y log x + (1 - y) log(1 - x)), each log clamped at
 * -100 as torch does, so x in {0, 1} gives finite values. Domain x, y in
 * [0, 1] (NaN is outside, as in torch); outside it the value is NaN and the
 * forward reports CLOSS_ERR_DOMAIN. The gradient is torch's
 * (x - y) / max(x (1 - x), 1e-12, a float constant in torch too), not the
 * derivative of the clamped value. */
CLOSS_INLINE int CLOSS_FN(binary_cross_entropy_inside)(EW_POINT_ARGS)
{
    return x[j] >= 0 && x[j] <= 1 && y[j] >= 0 && y[j] <= 1;
}
CLOSS_INLINE EW_POINT CLOSS_FN(binary_cross_entropy_point)(EW_POINT_ARGS)
{
    const CLOSS_T lx = log(x[j]), l1x = CLOSS_FN(ew_log1p)(-x[j]), xx = (1 - x[j]) * x[j];
    EW_POINT r;
    r.v = (y[j] - 1) * (l1x < -100 ? -100 : l1x) - y[j] * (lx < -100 ? -100 : lx);
    r.v = CLOSS_FN(binary_cross_entropy_inside)(x, y, j, a, p0, p1, p2) ? r.v : (CLOSS_T)NAN;
    r.g = (x[j] - y[j]) / (xx < (CLOSS_T)1e-12f ? (CLOSS_T)1e-12f : xx);
    r.ga = 0, r.outside = !CLOSS_FN(binary_cross_entropy_inside)(x, y, j, a, p0, p1, p2);
    return r;
}

/* The derivative of the gradient above: ((x - y)^2 + y (1 - y)) / max(x (1 - x),
 * 1e-12)^2, i.e. y / x^2 + (1 - y) / (1 - x)^2 where x (1 - x) >= 1e-12. */
CLOSS_INLINE CLOSS_T CLOSS_FN(binary_cross_entropy_hess)(EW_POINT_ARGS)
{
    const CLOSS_T xx = (1 - x[j]) * x[j], d = x[j] - y[j];
    const CLOSS_T c = xx < (CLOSS_T)1e-12f ? (CLOSS_T)1e-12f : xx;
    return (d * d + y[j] * (1 - y[j])) / (c * c);
}

/* dL/dy = log(1 - x) - log x, unclamped (torch's -logit(x)): +-inf at x = 0, 1. */
CLOSS_INLINE CLOSS_T CLOSS_FN(binary_cross_entropy_dy)(EW_POINT_ARGS, CLOSS_T g)
{
    return CLOSS_FN(ew_log1p)(-x[j]) - log(x[j]);
}

/* binary_cross_entropy_with_logits, a = pos_weight p (1 when absent):
 * (1 - y) x - l log_sigmoid(x), l = 1 + (p - 1) y. Stable for any finite x.
 * dL/dx = l sigmoid(x) - p y. */
CLOSS_INLINE EW_POINT CLOSS_FN(binary_cross_entropy_with_logits_point)(EW_POINT_ARGS)
{
    const CLOSS_T l = 1 + (a - 1) * y[j];
    return (EW_POINT){.v = (1 - y[j]) * x[j] - l * CLOSS_FN(ew_log_sigmoid)(x[j]),
                      .g = l * CLOSS_FN(ew_sigmoid)(x[j]) - a * y[j]};
}

/* d2L/dx2 = l sigmoid'(x). */
CLOSS_INLINE CLOSS_T CLOSS_FN(binary_cross_entropy_with_logits_hess)(EW_POINT_ARGS)
{
    return (1 + (a - 1) * y[j]) * CLOSS_FN(ew_dsigmoid)(x[j]);
}

/* dL/dy = -x - (p - 1) log_sigmoid(x) (-x alone when p == 1, so that x = -inf
 * gives inf, not 0 * inf). */
CLOSS_INLINE CLOSS_T CLOSS_FN(binary_cross_entropy_with_logits_dy)(EW_POINT_ARGS, CLOSS_T g)
{
    return a == 1 ? -x[j] : -x[j] - (a - 1) * CLOSS_FN(ew_log_sigmoid)(x[j]);
}

/* soft_margin_loss: log(1 + exp(-y x)) = softplus(-y x), for labels y (+-1 in
 * use, any value computes). Stable where torch's log1p(exp(-y x)) overflows to
 * inf (y x < -88 in float): closs returns the finite value there.
 * dL/dx = -y sigmoid(-y x). */
CLOSS_INLINE EW_POINT CLOSS_FN(soft_margin_loss_point)(EW_POINT_ARGS)
{
    const CLOSS_T t = -y[j] * x[j];
    return (EW_POINT){.v = CLOSS_FN(ew_softplus)(t), .g = -y[j] * CLOSS_FN(ew_sigmoid)(t)};
}

/* d2L/dx2 = y^2 sigmoid'(-y x). */
CLOSS_INLINE CLOSS_T CLOSS_FN(soft_margin_loss_hess)(EW_POINT_ARGS)
{
    return y[j] * y[j] * CLOSS_FN(ew_dsigmoid)(y[j] * x[j]);
}

/* dL/dy = -x sigmoid(-y x) (torch does not differentiate the target; closs does). */
CLOSS_INLINE CLOSS_T CLOSS_FN(soft_margin_loss_dy)(EW_POINT_ARGS, CLOSS_T g)
{
    return -x[j] * CLOSS_FN(ew_sigmoid)(-y[j] * x[j]);
}

/* hinge_embedding_loss, p0 = margin: max(0, margin - x) where y != 1, plus x
 * where y != -1 (labels other than +-1 get both terms, as in torch). The hinge
 * passes its gradient where margin - x >= 0 (torch's clamp_min) and NaN
 * propagates through it. */
CLOSS_INLINE EW_POINT CLOSS_FN(hinge_embedding_loss_point)(EW_POINT_ARGS)
{
    const CLOSS_T h = p0 - x[j];
    const CLOSS_T not_pos = (CLOSS_T)(y[j] != 1), not_neg = (CLOSS_T)(y[j] != -1);
    return (EW_POINT){
        .v = (y[j] != 1 ? (h < 0 ? (CLOSS_T)0 : h) : (CLOSS_T)0) + (y[j] != -1 ? x[j] : (CLOSS_T)0),
        .g = not_neg - not_pos * (CLOSS_T)(h >= 0)};
}

/* Piecewise linear: 0 (at the hinge too). */
CLOSS_INLINE CLOSS_T CLOSS_FN(hinge_embedding_loss_hess)(EW_POINT_ARGS) { return 0; }

/* The labels only select terms: 0 (torch's graph does not use the target). */
CLOSS_INLINE CLOSS_T CLOSS_FN(hinge_embedding_loss_dy)(EW_POINT_ARGS, CLOSS_T g) { return 0; }

/* ------------------------------------------------------------ distributions */

#define EW_LOG_2PI 1.83787706640934548356

/* poisson_nll_loss, p0 = eps, p1 = full, p2 = log_input:
 *   log_input  exp(x) - y x               dL/dx = exp(x) - y
 *   else       x - y log(x + eps)         dL/dx = 1 - y / (x + eps)
 * full adds Stirling's y log y - y + log(2 pi y) / 2 where y > 1 (it does not
 * depend on x). The flags are loop-invariant: the loops are unswitched. */
CLOSS_INLINE EW_POINT CLOSS_FN(poisson_nll_loss_point)(EW_POINT_ARGS)
{
    EW_POINT r = {0};
    if (p2 != 0) {
        const CLOSS_T ex = exp(x[j]);
        r.v = ex - y[j] * x[j];
        r.g = ex - y[j];
    } else {
        const CLOSS_T xe = x[j] + p0;
        r.v = x[j] - y[j] * log(xe);
        r.g = 1 - y[j] / xe;
    }
    if (p1 != 0) {
        const CLOSS_T ly = log(y[j]);
        const CLOSS_T stirling = y[j] * ly - y[j] + (CLOSS_T)0.5 * ((CLOSS_T)EW_LOG_2PI + ly);
        r.v += y[j] > 1 ? stirling : (CLOSS_T)0;
    }
    return r;
}

/* log_input: exp(x); else y / (x + eps)^2 (full adds nothing that depends on x). */
CLOSS_INLINE CLOSS_T CLOSS_FN(poisson_nll_loss_hess)(EW_POINT_ARGS)
{
    const CLOSS_T xe = x[j] + p0;
    return p2 != 0 ? exp(x[j]) : y[j] / (xe * xe);
}

/* dL/dy = -x (log_input) or -log(x + eps); full adds log y + 1 / (2 y) where
 * y > 1, and NaN where y <= 0 or is NaN: torch differentiates the masked
 * Stirling term y log y - y + log(2 pi y) / 2 through its zeroed branch too
 * (0 log 0, 0 / 0). */
CLOSS_INLINE CLOSS_T CLOSS_FN(poisson_nll_loss_dy)(EW_POINT_ARGS, CLOSS_T g)
{
    CLOSS_T r = p2 != 0 ? -x[j] : -log(x[j] + p0);
    if (p1 != 0) {
        const CLOSS_T s = y[j] > 1 ? log(y[j]) + (CLOSS_T)0.5 / y[j] : (CLOSS_T)0;
        r += y[j] > 0 ? s : (CLOSS_T)NAN;
    }
    return r;
}

/* kl_div, x = log q (the input), y = the target, p0 = log_target:
 *   p or log p target   y log y - y x  (0 where y == 0: torch's xlogy)   dL/dx = -y
 *   log_target          exp(y) (y - x)                                   dL/dx = -exp(y)
 * 'batchmean' is a sum divided by the batch size, in the Python layer. */
CLOSS_INLINE EW_POINT CLOSS_FN(kl_div_point)(EW_POINT_ARGS)
{
    EW_POINT r = {0};
    if (p0 != 0) { /* loop-invariant: unswitched */
        const CLOSS_T ey = exp(y[j]);
        r.v = ey * (y[j] - x[j]);
        r.g = -ey;
    } else {
        r.v = CLOSS_FN(ew_xlogx)(y[j]) - y[j] * x[j];
        r.g = -y[j];
    }
    return r;
}

/* Linear in the input: 0 (either target form). */
CLOSS_INLINE CLOSS_T CLOSS_FN(kl_div_hess)(EW_POINT_ARGS) { return 0; }

/* dL/dy = exp(y) (y - x + 1) (log_target), else log y + y / y - x as torch's
 * xlogy(y, y) differentiates: NaN at y == 0 (0 / 0) and y = inf. */
CLOSS_INLINE CLOSS_T CLOSS_FN(kl_div_dy)(EW_POINT_ARGS, CLOSS_T g)
{
    if (p0 != 0) return exp(y[j]) * (y[j] - x[j] + 1);
    return log(y[j] + (CLOSS_T)(y[j] == 0)) + y[j] / y[j] - x[j];
}

/* gaussian_nll_loss, a = var (already broadcast to n), p0 = eps, p1 = full:
 *   0.5 (log v + (x - y)^2 / v) [+ 0.5 log(2 pi)],  v = max(var, eps)
 *   dL/dx = (x - y) / v,   dL/dvar = 0.5 (1 / v - (x - y)^2 / v^2)
 * torch clamps var under no_grad, so dL/dvar is the derivative at v even where
 * var < eps. NaN var stays NaN; var < 0 is outside the domain (CLOSS_ERR_DOMAIN). */
CLOSS_INLINE EW_POINT CLOSS_FN(gaussian_nll_loss_point)(EW_POINT_ARGS)
{
    const CLOSS_T d = x[j] - y[j], s = a < p0 ? p0 : a;
    const CLOSS_T ls = log(s), q = 1 / s; /* the one division */
    EW_POINT r;
    r.outside = a < 0;
    r.g = d * q;
    r.v = !r.outside ? (CLOSS_T)0.5 * (ls + d * r.g) : (CLOSS_T)NAN;
    if (p1 != 0) r.v += (CLOSS_T)(0.5 * EW_LOG_2PI);
    r.ga = (CLOSS_T)0.5 * (q - r.g * r.g);
    return r;
}

/* With respect to the input, var fixed: 1 / max(var, eps). */
CLOSS_INLINE CLOSS_T CLOSS_FN(gaussian_nll_loss_hess)(EW_POINT_ARGS)
{
    return 1 / (a < p0 ? p0 : a);
}

CLOSS_INLINE CLOSS_T CLOSS_FN(gaussian_nll_loss_dy)(EW_POINT_ARGS, CLOSS_T g) { return -g; }

#pragma GCC diagnostic pop

/* ------------------------------------------------------------ block kernels */

/* Loss `kind`'s function name##_<fn> (point, hess, dy) on (args): kind is a
 * constant in every caller, so the switch folds away. */
#define EW_DISPATCH(fn, fail, ...)                                        \
    switch (kind) {                                                       \
        CLOSS_ELEMENTWISE_LOSSES(EW_DISPATCH_CASE_##fn)                   \
    }                                                                     \
    return fail;
#define EW_DISPATCH_CASE_point(name, aux, params, traits) \
    case EW_KIND(name): return CLOSS_FN(name##_point)(x, y, j, a, p0, p1, p2);
#define EW_DISPATCH_CASE_hess(name, aux, params, traits) \
    case EW_KIND(name): return CLOSS_FN(name##_hess)(x, y, j, a, p0, p1, p2);
#define EW_DISPATCH_CASE_dy(name, aux, params, traits) \
    case EW_KIND(name): return CLOSS_FN(name##_dy)(x, y, j, a, p0, p1, p2, g);

CLOSS_INLINE EW_POINT CLOSS_FN(ew_eval)(const int kind, EW_POINT_ARGS)
{
    EW_DISPATCH(point, (EW_POINT){0})
}

/* The Hessian's diagonal d2L/dx2 of loss `kind`. */
CLOSS_INLINE CLOSS_T CLOSS_FN(ew_hess)(const int kind, EW_POINT_ARGS) { EW_DISPATCH(hess, 0) }

/* The target's gradient dL/dy of loss `kind`, from the point's dL/dx g. */
CLOSS_INLINE CLOSS_T CLOSS_FN(ew_dy)(const int kind, EW_POINT_ARGS, CLOSS_T g)
{
    EW_DISPATCH(dy, 0)
}
#undef EW_DISPATCH
#undef EW_DISPATCH_CASE_point
#undef EW_DISPATCH_CASE_hess
#undef EW_DISPATCH_CASE_dy

/* Elements [b, e) of one loss (kind) in one loop variant; every flag is a
 * compile-time constant in each caller. Returns the sum of the values when
 * sum_v, else 0. */
CLOSS_INLINE double CLOSS_FN(ew_body)(const int kind, const int diff_aux, const void *ctx,
                                      int64_t b, int64_t e, const int has_a, const int has_w,
                                      const int store_v, const int sum_v, const int want_g,
                                      const int go_vec, const int want_h, const int want_gy)
{
    const ew_ctx *c = (const ew_ctx *)ctx;
    const CLOSS_T *restrict x = (const CLOSS_T *)c->x;
    const CLOSS_T *restrict y = (const CLOSS_T *)c->y;
    const CLOSS_T *restrict w = (const CLOSS_T *)c->w;
    const CLOSS_T *restrict aux = (const CLOSS_T *)c->aux;
    const CLOSS_T *restrict go = (const CLOSS_T *)c->go;
    CLOSS_T *restrict out = (CLOSS_T *)c->out;
    CLOSS_T *restrict gx = (CLOSS_T *)c->gx;
    CLOSS_T *restrict gaux = (CLOSS_T *)c->gaux;
    CLOSS_T *restrict gy = (CLOSS_T *)c->gy;
    CLOSS_T *restrict hx = (CLOSS_T *)c->hx;
    const CLOSS_T p0 = (CLOSS_T)c->p0, p1 = (CLOSS_T)c->p1, p2 = (CLOSS_T)c->p2;
    const CLOSS_T gs = (CLOSS_T)c->gscale;
    double acc[CLOSS_LANES] = {0};
/* One element j into the accumulator acc. */
#define EW_STEP(j, acc)                                                              \
    do {                                                                             \
        const CLOSS_T a_ = has_a ? aux[j] : (CLOSS_T)1;                              \
        EW_POINT p_ = CLOSS_FN(ew_eval)(kind, x, y, j, a_, p0, p1, p2);           \
        /* before any store, so that it shares the point's loads and exp/log */     \
        const CLOSS_T h_ = want_h ? CLOSS_FN(ew_hess)(kind, x, y, j, a_, p0, p1, p2) \
                                  : (CLOSS_T)0;                                      \
        /* before the weight: dy takes the unweighted dL/dx */                      \
        CLOSS_T dy_ = want_gy ? CLOSS_FN(ew_dy)(kind, x, y, j, a_, p0, p1, p2, p_.g)  \
                              : (CLOSS_T)0;                                          \
        if (has_w) {                                                                 \
            p_.v *= w[j];                                                            \
            p_.g *= w[j];                                                            \
            dy_ *= w[j];                                                             \
        }                                                                            \
        if (want_gy) gy[j] = go_vec ? dy_ * go[j] : dy_ * gs;                        \
        if (store_v) out[j] = p_.v;                                                  \
        if (want_g) gx[j] = go_vec ? p_.g * go[j] : p_.g * gs;                       \
        /* gaux is required with gy (a second unswitched flag kept the loop scalar) */ \
        if (want_g && diff_aux && (want_gy || gaux)) { /* loop-invariant: unswitched */ \
            if (has_w) p_.ga *= w[j];                                                \
            gaux[j] = go_vec ? p_.ga * go[j] : p_.ga * gs;                           \
        }                                                                            \
        if (want_h) hx[j] = has_w ? h_ * w[j] : h_; /* GRAD_HESS: gscale 1 */      \
        if (sum_v) acc += (double)p_.v;                                              \
    } while (0)
    int64_t i = b;
    for (; i + CLOSS_LANES <= e; i += CLOSS_LANES)
        for (int k = 0; k < CLOSS_LANES; ++k) EW_STEP(i + k, acc[k]);
    for (; i < e; ++i) EW_STEP(i, acc[0]);
#undef EW_STEP
    return closs_lanes_sum(acc);
}

/* Counts the elements outside the loss's domain; run only after a NaN sum. */
CLOSS_INLINE double CLOSS_FN(ew_outside)(const int kind, const void *ctx, int64_t b, int64_t e)
{
    const ew_ctx *c = (const ew_ctx *)ctx;
    const CLOSS_T *x = (const CLOSS_T *)c->x, *y = (const CLOSS_T *)c->y;
    const CLOSS_T *aux = (const CLOSS_T *)c->aux;
    const CLOSS_T p0 = (CLOSS_T)c->p0, p1 = (CLOSS_T)c->p1, p2 = (CLOSS_T)c->p2;
    double count = 0;
    for (int64_t j = b; j < e; ++j)
        count += CLOSS_FN(ew_eval)(kind, x, y, j, aux ? aux[j] : (CLOSS_T)1, p0, p1, p2).outside;
    return count;
}

/* The weight's gradient dL/dw_i = L_i (the unweighted value, which a value
 * kernel without weight has written into c->gw) times grad_output: go[i]
 * (go_vec), else (L_i - c->shift) * c->gscale, the shift being a weighted
 * mean's value (d/dw_i of sum(w L) / sum(w) is (L_i - mean) / sum(w)). */
CLOSS_INLINE double CLOSS_FN(ew_weight_body)(const void *ctx, int64_t b, int64_t e,
                                             const int go_vec)
{
    const ew_ctx *c = (const ew_ctx *)ctx;
    const CLOSS_T *restrict go = (const CLOSS_T *)c->go;
    CLOSS_T *restrict gw = (CLOSS_T *)c->gw;
    const CLOSS_T gs = (CLOSS_T)c->gscale, shift = (CLOSS_T)c->shift;
    for (int64_t j = b; j < e; ++j) gw[j] = go_vec ? gw[j] * go[j] : (gw[j] - shift) * gs;
    return 0;
}
CLOSS_BLOCK_KERNEL(CLOSS_FN(ew_weight_grad), return CLOSS_FN(ew_weight_body)(c, b, e, 0);)
CLOSS_BLOCK_KERNEL(CLOSS_FN(ew_weight_grad_go), return CLOSS_FN(ew_weight_body)(c, b, e, 1);)

/* The block kernels of one loss and aux choice A: (has_w, store_v, sum_v,
 * want_g, go_vec, want_h, want_gy); the value kernels (and grad_hess) of a loss
 * with a domain also sum, so that a NaN sum makes the driver look for elements
 * outside it. The _y kernels also write the target's gradient. */
#define EW_KERNEL(name, aux, traits, A, variant, ...)                                       \
    CLOSS_BLOCK_KERNEL_IF_COMPUTE(((traits) & EW_EXP), CLOSS_FN(name##_##variant##_a##A),   \
        return CLOSS_FN(ew_body)(EW_KIND(name), EW_DIFF_AUX(aux), c, b, e, A, __VA_ARGS__);)
/* The gradient kernels, without (Y = 0) and with (Y = 1, names _y) the target's. */
#define EW_GRAD_KERNELS(name, aux, traits, A, Y, y)                                       \
    EW_KERNEL(name, aux, traits, A, grad##y, 0, 0, 0, 1, 0, 0, Y)                         \
    EW_KERNEL(name, aux, traits, A, grad##y##_w, 1, 0, 0, 1, 0, 0, Y)                     \
    EW_KERNEL(name, aux, traits, A, grad_go##y, 0, 0, 0, 1, 1, 0, Y)                      \
    EW_KERNEL(name, aux, traits, A, grad_go##y##_w, 1, 0, 0, 1, 1, 0, Y)                  \
    EW_KERNEL(name, aux, traits, A, fused##y, 0, 1, EW_CHECKS(traits), 1, 0, 0, Y)        \
    EW_KERNEL(name, aux, traits, A, fused##y##_w, 1, 1, EW_CHECKS(traits), 1, 0, 0, Y)    \
    EW_KERNEL(name, aux, traits, A, fused_sum##y, 0, 0, 1, 1, 0, 0, Y)                    \
    EW_KERNEL(name, aux, traits, A, fused_sum##y##_w, 1, 0, 1, 1, 0, 0, Y)
#define EW_KERNELS(name, aux, traits, A)                                           \
    EW_KERNEL(name, aux, traits, A, value, 0, 1, EW_CHECKS(traits), 0, 0, 0, 0)     \
    EW_KERNEL(name, aux, traits, A, value_w, 1, 1, EW_CHECKS(traits), 0, 0, 0, 0)   \
    EW_KERNEL(name, aux, traits, A, sum, 0, 0, 1, 0, 0, 0, 0)                       \
    EW_KERNEL(name, aux, traits, A, sum_w, 1, 0, 1, 0, 0, 0, 0)                     \
    EW_GRAD_KERNELS(name, aux, traits, A, 0, )                                      \
    EW_GRAD_KERNELS(name, aux, traits, A, 1, _y)                                    \
    EW_KERNEL(name, aux, traits, A, gh, 0, 0, EW_CHECKS(traits), 1, 0, 1, 0)        \
    EW_KERNEL(name, aux, traits, A, gh_w, 1, 0, EW_CHECKS(traits), 1, 0, 1, 0)      \
    EW_KERNEL(name, aux, traits, A, gh_sum, 0, 0, 1, 1, 0, 1, 0)                    \
    EW_KERNEL(name, aux, traits, A, gh_sum_w, 1, 0, 1, 1, 0, 1, 0)
/* Per loss: the kernels without aux, those with (EW_AUX_KERNELS_<aux>), the
 * domain counter. */
#define EW_AUX_KERNELS_NOAUX(name, aux, traits)
#define EW_AUX_KERNELS_AUX(name, aux, traits) EW_KERNELS(name, aux, traits, 1)
#define EW_AUX_KERNELS_AUX_GRAD(name, aux, traits) EW_KERNELS(name, aux, traits, 1)
#define EW_LOSS_KERNELS(name, aux, params, traits)                                 \
    EW_KERNELS(name, aux, traits, 0)                                               \
    EW_AUX_KERNELS_##aux(name, aux, traits)                                        \
    static double CLOSS_FN(name##_outside)(const void *c, int64_t b, int64_t e)    \
    {                                                                              \
        return CLOSS_FN(ew_outside)(EW_KIND(name), c, b, e);                       \
    }
CLOSS_ELEMENTWISE_LOSSES(EW_LOSS_KERNELS)

/* A table row of one aux choice: [has weight]; NULLs for the aux rows of a
 * loss without an aux array. */
#define EW_ROW(name, A, variant) {CLOSS_FN(name##_##variant##_a##A), CLOSS_FN(name##_##variant##_w_a##A)}
#define EW_AUX_ROW_NOAUX(name, variant) {NULL, NULL}
#define EW_AUX_ROW_AUX(name, variant) EW_ROW(name, 1, variant)
#define EW_AUX_ROW_AUX_GRAD(name, variant) EW_ROW(name, 1, variant)
/* [aux][target's gradient] rows of a gradient variant */
#define EW_GRAD_ROWS(name, aux, variant)                                                   \
    {{EW_ROW(name, 0, variant), EW_ROW(name, 0, variant##_y)},                             \
     {EW_AUX_ROW_##aux(name, variant), EW_AUX_ROW_##aux(name, variant##_y)}}
#define EW_TABLE_ENTRY(name, aux, params, traits)                                          \
    {                                                                                      \
        .value = {EW_ROW(name, 0, value), EW_AUX_ROW_##aux(name, value)},                  \
        .sum = {EW_ROW(name, 0, sum), EW_AUX_ROW_##aux(name, sum)},                        \
        .grad = EW_GRAD_ROWS(name, aux, grad),                                             \
        .grad_go = EW_GRAD_ROWS(name, aux, grad_go),                                       \
        .fused = EW_GRAD_ROWS(name, aux, fused),                                           \
        .fused_sum = EW_GRAD_ROWS(name, aux, fused_sum),                                   \
        .gh = {EW_ROW(name, 0, gh), EW_AUX_ROW_##aux(name, gh)},                           \
        .gh_sum = {EW_ROW(name, 0, gh_sum), EW_AUX_ROW_##aux(name, gh_sum)},               \
        .outside = CLOSS_FN(name##_outside),                                               \
    },
static const ew_kernels CLOSS_FN(ew_kernels)[] = {CLOSS_ELEMENTWISE_LOSSES(EW_TABLE_ENTRY)};
static const closs_block_fn CLOSS_FN(ew_weight_kernels)[2] = {CLOSS_FN(ew_weight_grad),
                                                             CLOSS_FN(ew_weight_grad_go)};

#undef EW_KERNEL
#undef EW_KERNELS
#undef EW_GRAD_KERNELS
#undef EW_GRAD_ROWS
#undef EW_AUX_KERNELS_NOAUX
#undef EW_AUX_KERNELS_AUX
#undef EW_AUX_KERNELS_AUX_GRAD
#undef EW_LOSS_KERNELS
#undef EW_ROW
#undef EW_AUX_ROW_NOAUX
#undef EW_AUX_ROW_AUX
#undef EW_AUX_ROW_AUX_GRAD
#undef EW_TABLE_ENTRY
#undef EW_LOG_2PI
#undef EW_POINT_ARGS
#undef EW_POINT
