/*
 * elementwise.c - the element-wise family: every loss L(x_i, y_i[, a_i]) * w_i
 * (regression, binary targets, distributions). Here: their kernels (the
 * template elementwise.h, with the list of the losses CLOSS_ELEMENTWISE_LOSSES
 * and their point functions, once per dtype), the driver, the family entry
 * closs_elementwise_call (closs_internal.h) and the public per-loss functions
 * of closs.h, thin wrappers over it.
 */
#include <math.h>

#include "closs_internal.h"

/* What a block kernel reads and writes; arrays are of the kernel's dtype. */
typedef struct ew_ctx {
    const void *x, *y, *w, *aux, *go; /* go: per-element grad_output, or NULL */
    void *out, *gx, *gaux;            /* gaux: d/d aux, for a differentiable aux */
    void *hx;                         /* GRAD_HESS: d2L/dx2 */
    double p0, p1, p2;                /* the point function's parameters */
    double gscale;                    /* scalar grad_output over the mean's denominator */
    void *gy, *gw;                    /* the target's and the weight's gradients */
    double shift;                     /* the weight's gradient: a weighted mean's value */
} ew_ctx;

/* One loss's block kernels, by [has aux][has weight], the gradient kernels by
 * [has aux][writes the target's gradient gy][has weight]; the aux rows are
 * NULL for a loss without an aux array. */
typedef struct ew_kernels {
    closs_block_fn value[2][2];        /* out[i] = w L */
    closs_block_fn sum[2][2];          /* returns sum of w L */
    closs_block_fn grad[2][2][2];      /* gx[i] = w dL gscale (and gy[i] = w dL/dy gscale) */
    closs_block_fn grad_go[2][2][2];   /* the same times go[i] instead of gscale */
    closs_block_fn fused[2][2][2];     /* out[i] = w L, gx[i] = w dL (gy[i]) */
    closs_block_fn fused_sum[2][2][2]; /* returns sum of w L, gx[i] = w dL gscale (gy[i]) */
    closs_block_fn gh[2][2];        /* gx[i] = w dL, hx[i] = w d2L (sums w L with a domain) */
    closs_block_fn gh_sum[2][2];    /* gh, and returns sum of w L */
    closs_block_fn outside;         /* counts elements outside the domain (EW_DOMAIN) */
} ew_kernels;

#define CLOSS_TEMPLATE "elementwise.h"
#include "closs_instantiate.h"

static const ew_kernels *const ew_tables[2] = {ew_kernels_f32, ew_kernels_f64};
static const closs_block_fn *const ew_weight_tables[2] = {ew_weight_kernels_f32,
                                                          ew_weight_kernels_f64};

#define EW_NAME(name, aux, params, traits) #name,
const char *const closs_elementwise_names[] = {CLOSS_ELEMENTWISE_LOSSES(EW_NAME)};
const int closs_elementwise_count = EW_COUNT;

#define EW_TRAITS(name, aux, params, traits) traits,
static const int ew_traits[] = {CLOSS_ELEMENTWISE_LOSSES(EW_TRAITS)};
#define EW_AUX_OF(name, aux, params, traits) EW_AUX_##aux,
static const int ew_aux[] = {CLOSS_ELEMENTWISE_LOSSES(EW_AUX_OF)};

/* ------------------------------------------------------------ driver */

/* The point functions' parameters from the call's, and the domain of these. */
static closs_status ew_params(int kind, const closs_elementwise_args *a, double p[3])
{
    p[0] = a->p0, p[1] = a->p1, p[2] = a->p2;
    switch (kind) {
    case EW_KIND(smooth_l1_loss): /* p0 = beta >= 0, p1 = 1 / beta (0 when beta == 0) */
        CLOSS_REQUIRE(a->p0 >= 0, CLOSS_ERR_INVALID_ARGUMENT);
        p[1] = a->p0 > 0 ? 1.0 / a->p0 : 0.0;
        break;
    case EW_KIND(huber_loss): /* p0 = delta > 0 */
        CLOSS_REQUIRE(a->p0 > 0, CLOSS_ERR_INVALID_ARGUMENT);
        break;
    default: break;
    }
    return CLOSS_OK;
}

/* One call as the driver sees it: the loss's kernels and traits, the work. */
typedef struct ew_call {
    const ew_kernels *k;
    int ha, hw, hy, traits, is_f64, partial; /* hy: the target's gradient is wanted */
    int64_t n, parallel_min;
    closs_reduction r;
    ew_ctx c;
} ew_call;

/* The denominator of MEAN: n, or the sum of the weights where the loss says so. */
static double mean_denominator(const ew_call *e)
{
    if (e->hw && (e->traits & EW_MEAN_WSUM))
        return e->is_f64 ? closs_sum_f64(e->n, e->c.w) : closs_sum_f32(e->n, e->c.w);
    return (double)e->n;
}

/* A NaN sum of a loss with a domain: are elements outside it, or is it a NaN weight? */
static closs_status domain_status(const ew_call *e, double s)
{
    if ((e->traits & EW_DOMAIN) && isnan(s) &&
        closs_blocks(e->n, e->parallel_min, e->k->outside, &e->c) > 0)
        return CLOSS_ERR_DOMAIN;
    return CLOSS_OK;
}

static closs_status ew_forward(ew_call *e, void *out)
{
    if (e->r == CLOSS_REDUCTION_NONE) {
        e->c.out = out;
        return domain_status(e, closs_blocks(e->n, e->parallel_min, e->k->value[e->ha][e->hw], &e->c));
    }
    const double s = closs_blocks(e->n, e->parallel_min, e->k->sum[e->ha][e->hw], &e->c);
    const closs_status st = domain_status(e, s);
    if (st != CLOSS_OK) return st;
    const double denom = e->r == CLOSS_REDUCTION_MEAN ? mean_denominator(e) : 1.0;
    closs_store_reduced(out, s, e->r, denom, e->is_f64, e->partial);
    return CLOSS_OK;
}

static closs_status ew_backward(ew_call *e, const void *grad_output, void *grad_input)
{
    const int go_vec = e->r == CLOSS_REDUCTION_NONE && grad_output != NULL;
    e->c.gx = grad_input;
    e->c.go = go_vec ? grad_output : NULL;
    if (e->r != CLOSS_REDUCTION_NONE) {
        const double denom = e->r == CLOSS_REDUCTION_MEAN ? mean_denominator(e) : 1.0;
        e->c.gscale = closs_grad_scale(grad_output, e->is_f64, e->r, denom);
    }
    closs_blocks(e->n, e->parallel_min,
                 (go_vec ? e->k->grad_go : e->k->grad)[e->ha][e->hy][e->hw], &e->c);
    return CLOSS_OK;
}

static closs_status ew_fused(ew_call *e, void *out, void *grad_input)
{
    e->c.gx = grad_input;
    e->c.out = out;
    if (e->r == CLOSS_REDUCTION_NONE)
        return domain_status(
            e, closs_blocks(e->n, e->parallel_min, e->k->fused[e->ha][e->hy][e->hw], &e->c));
    const double denom = e->r == CLOSS_REDUCTION_MEAN ? mean_denominator(e) : 1.0;
    e->c.gscale = closs_grad_scale(NULL, e->is_f64, e->r, denom);
    const double s =
        closs_blocks(e->n, e->parallel_min, e->k->fused_sum[e->ha][e->hy][e->hw], &e->c);
    const closs_status st = domain_status(e, s);
    if (st != CLOSS_OK) return st;
    closs_store_reduced(out, s, e->r, denom, e->is_f64, 0);
    return CLOSS_OK;
}

/* The weight's gradient of a BACKWARD or FUSED call, after it (ew_weight_body):
 * the unweighted values into grad_weight, then scaled in place; a weighted
 * MEAN's value (the shift) is summed again on BACKWARD. */
static closs_status ew_weight_grad(ew_call *e, const void *grad_output, void *grad_weight)
{
    const int go_vec = e->r == CLOSS_REDUCTION_NONE && grad_output != NULL;
    ew_call v = *e;
    v.hw = 0, v.c.out = grad_weight;
    closs_blocks(e->n, e->parallel_min, e->k->value[e->ha][0], &v.c);
    e->c.gw = grad_weight;
    e->c.go = go_vec ? grad_output : NULL;
    e->c.shift = 0.0;
    e->c.gscale = 1.0;
    if (e->r != CLOSS_REDUCTION_NONE) {
        const double denom = e->r == CLOSS_REDUCTION_MEAN ? mean_denominator(e) : 1.0;
        e->c.gscale = closs_grad_scale(grad_output, e->is_f64, e->r, denom);
        if (e->r == CLOSS_REDUCTION_MEAN && (e->traits & EW_MEAN_WSUM))
            e->c.shift = closs_blocks(e->n, e->parallel_min, e->k->sum[e->ha][1], &e->c) / denom;
    }
    closs_blocks(e->n, CLOSS_STREAM_PARALLEL_MIN, ew_weight_tables[e->is_f64][go_vec], &e->c);
    return CLOSS_OK;
}

/* GRAD_HESS: the SUM's gradient and Hessian diagonal, and its value when out. */
static closs_status ew_grad_hess(ew_call *e, void *out, void *grad_input, void *hess)
{
    e->c.gx = grad_input;
    e->c.hx = hess;
    const double s = closs_blocks(e->n, e->parallel_min,
                                  (out ? e->k->gh_sum : e->k->gh)[e->ha][e->hw], &e->c);
    const closs_status st = domain_status(e, s);
    if (st != CLOSS_OK) return st;
    if (out) closs_store_reduced(out, s, CLOSS_REDUCTION_SUM, 1.0, e->is_f64, 0);
    return CLOSS_OK;
}

closs_status closs_elementwise_call(closs_dtype dtype, int kind, closs_op op,
                                    const closs_elementwise_args *a)
{
    CLOSS_REQUIRE(a && kind >= 0 && kind < EW_COUNT && (dtype == CLOSS_F32 || dtype == CLOSS_F64) &&
                      (op == CLOSS_OP_FORWARD || op == CLOSS_OP_BACKWARD ||
                       op == CLOSS_OP_FUSED || op == CLOSS_OP_PARTIAL ||
                       op == CLOSS_OP_GRAD_HESS),
                  CLOSS_ERR_INVALID_ARGUMENT);
    const int partial = op == CLOSS_OP_PARTIAL; /* a FORWARD that stores the pair */
    if (partial) op = CLOSS_OP_FORWARD;
    const int aux = ew_aux[kind];
    CLOSS_REQUIRE(a->n <= 0 || aux != 2 || a->aux, CLOSS_ERR_NULL_POINTER);
    double p[3];
    closs_status st = ew_params(kind, a, p);
    if (st != CLOSS_OK) return st;

    if (op == CLOSS_OP_GRAD_HESS) {
        CLOSS_REQUIRE(a->reduction == CLOSS_REDUCTION_SUM, CLOSS_ERR_INVALID_REDUCTION);
        CLOSS_REQUIRE(closs_size(a->n) >= 0, CLOSS_ERR_INVALID_SIZE);
        CLOSS_REQUIRE(a->n == 0 || (a->input && a->target && a->grad_input && a->hess),
                      CLOSS_ERR_NULL_POINTER);
    }
    /* out (FORWARD, FUSED) holds n values for NONE, else one; grad_input n;
     * n == 0 accepts NULL for arrays of n values. */
    const int per_element = op == CLOSS_OP_BACKWARD || op == CLOSS_OP_GRAD_HESS ||
                            a->reduction == CLOSS_REDUCTION_NONE;
    void *const first_out = op == CLOSS_OP_BACKWARD || op == CLOSS_OP_GRAD_HESS ? a->grad_input
                                                                                : a->out;
    CLOSS_REQUIRE(closs_size(a->n) >= 0, CLOSS_ERR_INVALID_SIZE);
    CLOSS_REQUIRE(closs_reduction_valid(a->reduction, partial), CLOSS_ERR_INVALID_REDUCTION);
    CLOSS_REQUIRE(a->n == 0 || (a->input && a->target), CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(first_out || (a->n == 0 && per_element), CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(op != CLOSS_OP_FUSED || a->grad_input || a->n == 0, CLOSS_ERR_NULL_POINTER);

    /* the target's and the weight's gradients: BACKWARD and FUSED only; the
     * weight's needs the weight */
    const int grads = op == CLOSS_OP_BACKWARD || op == CLOSS_OP_FUSED;
    void *const grad_target = grads ? a->grad_target : NULL;
    void *const grad_weight = grads ? a->grad_weight : NULL;
    CLOSS_REQUIRE(!grad_weight || a->weight || a->n == 0, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(!grad_target || ew_aux[kind] != 2 || a->grad_aux || a->n == 0,
                  CLOSS_ERR_NULL_POINTER);

    const void *aux_array = aux ? a->aux : NULL;
    ew_call e = {
        .k = &ew_tables[dtype][kind],
        .ha = aux_array != NULL,
        .hw = a->weight != NULL,
        .hy = grad_target != NULL,
        .traits = ew_traits[kind],
        .is_f64 = dtype == CLOSS_F64,
        .partial = partial,
        .n = a->n,
        .parallel_min = ew_traits[kind] & EW_EXP ? CLOSS_COMPUTE_PARALLEL_MIN
                                                 : CLOSS_STREAM_PARALLEL_MIN,
        .r = a->reduction,
        .c = {a->input, a->target, a->weight, aux_array, NULL, NULL, NULL,
              aux == 2 && op != CLOSS_OP_GRAD_HESS ? a->grad_aux : NULL, NULL, p[0], p[1],
              p[2], 1.0, grad_target, NULL, 0.0},
    };
    if (op == CLOSS_OP_GRAD_HESS) return ew_grad_hess(&e, a->out, a->grad_input, a->hess);
    if (op == CLOSS_OP_FORWARD) return ew_forward(&e, a->out);
    st = op == CLOSS_OP_BACKWARD ? ew_backward(&e, a->grad_output, a->grad_input)
                                 : ew_fused(&e, a->out, a->grad_input);
    if (st != CLOSS_OK || !grad_weight || a->n == 0) return st;
    return ew_weight_grad(&e, op == CLOSS_OP_BACKWARD ? a->grad_output : NULL, grad_weight);
}

/* ------------------------------------------------------------ public functions
 * closs_<name>[_backward|_fused|_partial]_<sfx> of closs.h: the arguments into the args
 * struct, one call of the family entry. */

/* The loss's parameters after the weight (and the aux array), and their place. */
#define EW_DECL_NONE
#define EW_SET_NONE
#define EW_DECL_P0 double p0,
#define EW_SET_P0 .p0 = p0,
#define EW_DECL_FLAG0 int p0,
#define EW_SET_FLAG0 .p0 = p0,
#define EW_DECL_POISSON int log_input, int full, double eps,
#define EW_SET_POISSON .p0 = eps, .p1 = full, .p2 = log_input,
#define EW_DECL_FULL_EPS int full, double eps,
#define EW_SET_FULL_EPS .p0 = eps, .p1 = full,
/* The aux array after the weight, and the gradient of a differentiable one. */
#define EW_DECL_AUX_NOAUX(T)
#define EW_DECL_AUX_AUX(T) const T *aux,
#define EW_DECL_AUX_AUX_GRAD(T) const T *aux,
#define EW_SET_AUX_NOAUX
#define EW_SET_AUX_AUX .aux = aux,
#define EW_SET_AUX_AUX_GRAD .aux = aux,
#define EW_DECL_GAUX_NOAUX(T)
#define EW_DECL_GAUX_AUX(T)
#define EW_DECL_GAUX_AUX_GRAD(T) , T *grad_aux
#define EW_SET_GAUX_NOAUX
#define EW_SET_GAUX_AUX
#define EW_SET_GAUX_AUX_GRAD .grad_aux = grad_aux,

#define EW_PUBLIC(name, aux, params, T, SFX, DTYPE)                                              \
    closs_status closs_##name##_##SFX(int64_t n, const T *input, const T *target,                \
                                      const T *weight, EW_DECL_AUX_##aux(T) EW_DECL_##params     \
                                      closs_reduction reduction, T *out)                         \
    {                                                                                            \
        const closs_elementwise_args a = {.n = n, .input = input, .target = target,              \
                                          .weight = weight, EW_SET_AUX_##aux EW_SET_##params     \
                                          .reduction = reduction, .out = out};                   \
        return closs_elementwise_call(DTYPE, EW_KIND(name), CLOSS_OP_FORWARD, &a);               \
    }                                                                                            \
    closs_status closs_##name##_backward_##SFX(                                                  \
        int64_t n, const T *input, const T *target, const T *weight,                             \
        EW_DECL_AUX_##aux(T) EW_DECL_##params closs_reduction reduction, const T *grad_output,   \
        T *grad_input EW_DECL_GAUX_##aux(T))                                                     \
    {                                                                                            \
        const closs_elementwise_args a = {.n = n, .input = input, .target = target,              \
                                          .weight = weight, EW_SET_AUX_##aux EW_SET_##params     \
                                          EW_SET_GAUX_##aux .reduction = reduction,              \
                                          .grad_output = grad_output, .grad_input = grad_input}; \
        return closs_elementwise_call(DTYPE, EW_KIND(name), CLOSS_OP_BACKWARD, &a);              \
    }                                                                                            \
    closs_status closs_##name##_fused_##SFX(int64_t n, const T *input, const T *target,          \
                                            const T *weight, EW_DECL_AUX_##aux(T)                \
                                            EW_DECL_##params closs_reduction reduction, T *out,  \
                                            T *grad_input EW_DECL_GAUX_##aux(T))                 \
    {                                                                                            \
        const closs_elementwise_args a = {.n = n, .input = input, .target = target,              \
                                          .weight = weight, EW_SET_AUX_##aux EW_SET_##params     \
                                          EW_SET_GAUX_##aux .reduction = reduction, .out = out,  \
                                          .grad_input = grad_input};                             \
        return closs_elementwise_call(DTYPE, EW_KIND(name), CLOSS_OP_FUSED, &a);                 \
    }                                                                                            \
    closs_status closs_##name##_partial_##SFX(int64_t n, const T *input, const T *target,        \
                                              const T *weight, EW_DECL_AUX_##aux(T)              \
                                              EW_DECL_##params closs_reduction reduction,        \
                                              double *out)                                       \
    {                                                                                            \
        const closs_elementwise_args a = {.n = n, .input = input, .target = target,              \
                                          .weight = weight, EW_SET_AUX_##aux EW_SET_##params     \
                                          .reduction = reduction, .out = out};                   \
        return closs_elementwise_call(DTYPE, EW_KIND(name), CLOSS_OP_PARTIAL, &a);               \
    }                                                                                            \
    closs_status closs_##name##_grad_hess_##SFX(int64_t n, const T *input, const T *target,      \
                                                const T *weight, EW_DECL_AUX_##aux(T)            \
                                                EW_DECL_##params T *out, T *grad, T *hess)       \
    {                                                                                            \
        const closs_elementwise_args a = {.n = n, .input = input, .target = target,              \
                                          .weight = weight, EW_SET_AUX_##aux EW_SET_##params     \
                                          .reduction = CLOSS_REDUCTION_SUM, .out = out,          \
                                          .grad_input = grad, .hess = hess};                     \
        return closs_elementwise_call(DTYPE, EW_KIND(name), CLOSS_OP_GRAD_HESS, &a);             \
    }                                                                                            \
    closs_status closs_##name##_grads_##SFX(                                                     \
        int64_t n, const T *input, const T *target, const T *weight,                             \
        EW_DECL_AUX_##aux(T) EW_DECL_##params closs_reduction reduction, const T *grad_output,   \
        T *out, T *grad_input, T *grad_target, T *grad_weight EW_DECL_GAUX_##aux(T))             \
    {                                                                                            \
        const closs_elementwise_args a = {.n = n, .input = input, .target = target,              \
                                          .weight = weight, EW_SET_AUX_##aux EW_SET_##params     \
                                          EW_SET_GAUX_##aux .reduction = reduction, .out = out,  \
                                          .grad_output = grad_output, .grad_input = grad_input,  \
                                          .grad_target = grad_target,                            \
                                          .grad_weight = grad_weight};                           \
        CLOSS_REQUIRE(!out || !grad_output, CLOSS_ERR_INVALID_ARGUMENT);                         \
        return closs_elementwise_call(DTYPE, EW_KIND(name),                                      \
                                      out ? CLOSS_OP_FUSED : CLOSS_OP_BACKWARD, &a);             \
    }
#define EW_PUBLIC_BOTH(name, aux, params, traits)      \
    EW_PUBLIC(name, aux, params, float, f32, CLOSS_F32) \
    EW_PUBLIC(name, aux, params, double, f64, CLOSS_F64)
CLOSS_ELEMENTWISE_LOSSES(EW_PUBLIC_BOTH)
