/*
 * pointwise.c - the drivers of the element-wise losses (pointwise_driver.h).
 */
#include <math.h>

#include "pointwise_driver.h"

/* Checks shared by the three drivers. out holds n values when per_element, else
 * one; n == 0 accepts NULL for arrays of n values. */
static closs_status check_args(const closs_pw_args *a, const void *out, int per_element)
{
    CLOSS_REQUIRE(closs_size(a->n) >= 0, CLOSS_ERR_INVALID_SIZE);
    CLOSS_REQUIRE(closs_reduction_valid(a->reduction), CLOSS_ERR_INVALID_REDUCTION);
    CLOSS_REQUIRE(a->n == 0 || (a->x && a->y), CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(out || (a->n == 0 && per_element), CLOSS_ERR_NULL_POINTER);
    return CLOSS_OK;
}

/* The denominator of MEAN: n, or the sum of the weights where the loss says so. */
static double mean_denominator(const closs_pw_kernels *k, const closs_pw_args *a)
{
    if (a->w && k->mean_by_wsum)
        return a->is_f64 ? closs_sum_f64(a->n, a->w) : closs_sum_f32(a->n, a->w);
    return (double)a->n;
}

/* A NaN sum of a loss with a domain: are elements outside it, or is it a NaN weight? */
static closs_status domain_status(const closs_pw_kernels *k, const closs_pw_ctx *c, int64_t n,
                                  double s)
{
    if (k->outside && isnan(s) && closs_blocks(n, k->parallel_min, k->outside, c) > 0)
        return CLOSS_ERR_DOMAIN;
    return CLOSS_OK;
}

static closs_pw_ctx make_ctx(const closs_pw_args *a)
{
    closs_pw_ctx c = {a->x, a->y, a->w, a->aux, NULL, NULL, NULL, a->gaux, a->p0, a->p1, a->p2, 1.0};
    return c;
}

closs_status closs_pw_forward(const closs_pw_kernels *k, const closs_pw_args *a, void *out)
{
    closs_status st = check_args(a, out, a->reduction == CLOSS_REDUCTION_NONE);
    if (st != CLOSS_OK) return st;
    const int ha = a->aux != NULL, hw = a->w != NULL;
    closs_pw_ctx c = make_ctx(a);
    if (a->reduction == CLOSS_REDUCTION_NONE) {
        c.out = out;
        const double s = closs_blocks(a->n, k->parallel_min, k->value[ha][hw], &c);
        return domain_status(k, &c, a->n, s);
    }
    double s = closs_blocks(a->n, k->parallel_min, k->sum[ha][hw], &c);
    st = domain_status(k, &c, a->n, s);
    if (st != CLOSS_OK) return st;
    if (a->reduction == CLOSS_REDUCTION_MEAN) s /= mean_denominator(k, a);
    closs_store_scalar(out, s, a->is_f64);
    return CLOSS_OK;
}

closs_status closs_pw_backward(const closs_pw_kernels *k, const closs_pw_args *a,
                               const void *grad_output, void *grad_input)
{
    closs_status st = check_args(a, grad_input, 1);
    if (st != CLOSS_OK) return st;
    const int ha = a->aux != NULL, hw = a->w != NULL;
    const int go_vec = a->reduction == CLOSS_REDUCTION_NONE && grad_output != NULL;
    closs_pw_ctx c = make_ctx(a);
    c.gx = grad_input;
    c.go = go_vec ? grad_output : NULL;
    if (a->reduction != CLOSS_REDUCTION_NONE) {
        c.gscale = grad_output ? closs_load_scalar(grad_output, a->is_f64) : 1.0;
        if (a->reduction == CLOSS_REDUCTION_MEAN) c.gscale /= mean_denominator(k, a);
    }
    closs_blocks(a->n, k->parallel_min, k->grad[ha][go_vec][hw], &c);
    return CLOSS_OK;
}

closs_status closs_pw_fused(const closs_pw_kernels *k, const closs_pw_args *a, void *out,
                            void *grad_input)
{
    closs_status st = check_args(a, out, a->reduction == CLOSS_REDUCTION_NONE);
    if (st != CLOSS_OK) return st;
    CLOSS_REQUIRE(grad_input || a->n == 0, CLOSS_ERR_NULL_POINTER);
    const int ha = a->aux != NULL, hw = a->w != NULL;
    closs_pw_ctx c = make_ctx(a);
    c.gx = grad_input;
    if (a->reduction == CLOSS_REDUCTION_NONE) {
        c.out = out;
        const double s = closs_blocks(a->n, k->parallel_min, k->fused[ha][hw], &c);
        return domain_status(k, &c, a->n, s);
    }
    const double denom = a->reduction == CLOSS_REDUCTION_MEAN ? mean_denominator(k, a) : 1.0;
    c.gscale = 1.0 / denom;
    const double s = closs_blocks(a->n, k->parallel_min, k->fused_sum[ha][hw], &c);
    st = domain_status(k, &c, a->n, s);
    if (st != CLOSS_OK) return st;
    closs_store_scalar(out, s / denom, a->is_f64);
    return CLOSS_OK;
}
