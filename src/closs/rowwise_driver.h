/*
 * rowwise_driver.h - what the row-wise losses share: the work description
 * their block kernels read, and the three drivers that turn (args, reduction)
 * into block runs over rows.
 *
 * A row-wise loss has n rows of d elements (contiguous, row after row) in each
 * of its differentiable inputs x[0..nx-1], a per-row target (y: values of the
 * kernel's dtype, or idx: class indices) and gives one value per row. Its row
 * function (a rows header instantiated by rowwise.h) returns the row's value in
 * double and, when asked, writes the row's gradients scaled by s. Everything
 * else - argument checks, class-index validation, reductions, threads - is
 * here, once for every row-wise loss and both dtypes.
 */
#ifndef CLOSS_ROWWISE_DRIVER_H
#define CLOSS_ROWWISE_DRIVER_H

#include "closs_internal.h"

#define CLOSS_RW_MAX_INPUTS 3
#define CLOSS_RW_MAX_PARAMS 4

/* What a block kernel reads and writes; arrays are of the kernel's dtype. */
typedef struct closs_rw_ctx {
    int64_t d;                         /* row length */
    const void *x[CLOSS_RW_MAX_INPUTS]; /* differentiable inputs, n * d each */
    const void *y;                     /* per-row target values (n), or NULL */
    const int64_t *idx;                /* class indices, or NULL */
    const void *w;                     /* per-class weights (d), or NULL */
    const void *go;                    /* per-row grad_output, or NULL */
    void *out;                         /* per-row values */
    void *g[CLOSS_RW_MAX_INPUTS];      /* gradients, n * d each */
    double p[CLOSS_RW_MAX_PARAMS];     /* the loss's parameters */
    double gscale;                     /* scalar grad_output over the mean's denominator */
} closs_rw_ctx;

/* One loss's block kernels (closs_blocks_sums functions over rows; sums[0] is
 * the sum of the row values where the kernel sums) and its argument rules. */
typedef struct closs_rw_kernels {
    closs_sums_fn value;     /* out[i] = L_i */
    closs_sums_fn sum;       /* sum of L_i */
    closs_sums_fn grad;      /* gradients times gscale */
    closs_sums_fn grad_go;   /* gradients times go[i] */
    closs_sums_fn fused;     /* out[i] = L_i, gradients times gscale */
    closs_sums_fn fused_sum; /* sum of L_i, gradients times gscale */
    closs_sums_fn check;     /* sums[0] = out-of-range class indices of the rows; NULL
                              * when the loss takes no class indices */
    int nx;                  /* differentiable inputs: x[0..nx-1] and g[0..nx-1] */
    int needs_y;             /* target values are required */
} closs_rw_kernels;

/* A public call's arguments, untyped. */
typedef struct closs_rw_args {
    int64_t n, d;
    const void *x[CLOSS_RW_MAX_INPUTS];
    const void *y;
    const int64_t *idx;
    const void *w;
    double p[CLOSS_RW_MAX_PARAMS];
    int params_ok;           /* the parameters are in the loss's domain */
    closs_reduction reduction;
    int is_f64;
} closs_rw_args;

closs_status closs_rw_forward(const closs_rw_kernels *k, const closs_rw_args *a, void *out);
closs_status closs_rw_backward(const closs_rw_kernels *k, const closs_rw_args *a,
                               const void *grad_output, void *const *grads);
closs_status closs_rw_fused(const closs_rw_kernels *k, const closs_rw_args *a, void *out,
                            void *const *grads);

#endif /* CLOSS_ROWWISE_DRIVER_H */
