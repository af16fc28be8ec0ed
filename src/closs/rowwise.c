/*
 * rowwise.c - the drivers of the row-wise losses (rowwise_driver.h).
 */
#include "rowwise_driver.h"

/* Runs one block kernel over the rows; returns sums[0]. */
static double run_rows(closs_sums_fn fn, const closs_rw_args *a, const closs_rw_ctx *c)
{
    double s;
    closs_blocks_sums(a->n, a->d, CLOSS_STREAM_PARALLEL_MIN, fn, c, 1, &s);
    return s;
}

/* out holds n values for NONE, else one; with n == 0 NONE takes NULL. */
static int out_ok(const closs_rw_args *a, const void *out)
{
    return out || (a->n == 0 && a->reduction == CLOSS_REDUCTION_NONE);
}

/*
 * Checks shared by the three drivers (out_given: the value buffer is fine or
 * not needed), then the context, then the class indices. grads (NULL for a
 * forward) holds nx arrays of n * d values. With n == 0 (or d == 0 for the
 * arrays of n * d values) any array may be NULL.
 */
static closs_status prepare(const closs_rw_kernels *k, const closs_rw_args *a, int out_given,
                            void *const *grads, closs_rw_ctx *c)
{
    CLOSS_REQUIRE(closs_mul_size(a->n, a->d) >= 0, CLOSS_ERR_INVALID_SIZE); /* n, d too */
    CLOSS_REQUIRE(closs_reduction_valid(a->reduction), CLOSS_ERR_INVALID_REDUCTION);
    CLOSS_REQUIRE(a->params_ok, CLOSS_ERR_INVALID_ARGUMENT);
    CLOSS_REQUIRE(!k->check || a->n == 0 || a->d >= 1, CLOSS_ERR_INVALID_SIZE);
    const int rows = a->n > 0, elements = a->n > 0 && a->d > 0;
    for (int j = 0; j < k->nx; ++j) {
        CLOSS_REQUIRE(a->x[j] || !elements, CLOSS_ERR_NULL_POINTER);
        CLOSS_REQUIRE(!grads || grads[j] || !elements, CLOSS_ERR_NULL_POINTER);
    }
    CLOSS_REQUIRE(a->y || !k->needs_y || !rows, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(a->idx || !k->check || !rows, CLOSS_ERR_NULL_POINTER);
    CLOSS_REQUIRE(out_given, CLOSS_ERR_NULL_POINTER);

    const closs_rw_ctx init = {a->d, {a->x[0], a->x[1], a->x[2]}, a->y, a->idx, a->w, NULL,
                               NULL, {NULL, NULL, NULL}, {a->p[0], a->p[1], a->p[2], a->p[3]},
                               1.0};
    *c = init;
    if (grads)
        for (int j = 0; j < k->nx; ++j) c->g[j] = grads[j];
    if (k->check && run_rows(k->check, a, c) > 0) return CLOSS_ERR_INDEX_OUT_OF_RANGE;
    return CLOSS_OK;
}

/* The forward pass, with the gradients (grad_output = ones) when grads is not
 * NULL: the value kernel stores or sums the rows, the fused one also writes
 * their gradients, scaled by the mean's 1 / n. */
static closs_status value_pass(const closs_rw_kernels *k, const closs_rw_args *a, void *out,
                               void *const *grads)
{
    closs_rw_ctx c;
    closs_status st = prepare(k, a, out_ok(a, out), grads, &c);
    if (st != CLOSS_OK) return st;
    if (a->reduction == CLOSS_REDUCTION_NONE) {
        c.out = out;
        run_rows(grads ? k->fused : k->value, a, &c);
        return CLOSS_OK;
    }
    const double denom = a->reduction == CLOSS_REDUCTION_MEAN ? (double)a->n : 1.0;
    c.gscale = 1.0 / denom;
    closs_store_scalar(out, run_rows(grads ? k->fused_sum : k->sum, a, &c) / denom, a->is_f64);
    return CLOSS_OK;
}

closs_status closs_rw_forward(const closs_rw_kernels *k, const closs_rw_args *a, void *out)
{
    return value_pass(k, a, out, NULL);
}

closs_status closs_rw_backward(const closs_rw_kernels *k, const closs_rw_args *a,
                               const void *grad_output, void *const *grads)
{
    closs_rw_ctx c;
    closs_status st = prepare(k, a, 1, grads, &c);
    if (st != CLOSS_OK) return st;
    const int go_vec = a->reduction == CLOSS_REDUCTION_NONE && grad_output != NULL;
    if (go_vec) c.go = grad_output;
    if (a->reduction != CLOSS_REDUCTION_NONE && grad_output)
        c.gscale = closs_load_scalar(grad_output, a->is_f64);
    if (a->reduction == CLOSS_REDUCTION_MEAN) c.gscale /= (double)a->n;
    run_rows(go_vec ? k->grad_go : k->grad, a, &c);
    return CLOSS_OK;
}

closs_status closs_rw_fused(const closs_rw_kernels *k, const closs_rw_args *a, void *out,
                            void *const *grads)
{
    return value_pass(k, a, out, grads);
}
