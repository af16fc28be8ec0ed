/*
 * pointwise_driver.h - what the element-wise losses share: the work description
 * their block kernels read, and the three drivers that turn (args, reduction)
 * into block runs. One driver serves float and double: the only typed work here
 * is reading a scalar grad_output and storing a reduced value.
 */
#ifndef CLOSS_POINTWISE_DRIVER_H
#define CLOSS_POINTWISE_DRIVER_H

#include "closs_internal.h"

/* What a block kernel reads and writes; arrays are of the kernel's dtype. */
typedef struct closs_pw_ctx {
    const void *x, *y, *w, *aux, *go; /* go: per-element grad_output, or NULL */
    void *out, *gx, *gaux;            /* gaux: d/d aux, for a differentiable aux */
    double p0, p1, p2;          /* the loss's parameters */
    double gscale;              /* scalar grad_output over the mean's denominator */
} closs_pw_ctx;

/* One loss's block kernels, by [has aux][has weight] (and [per-element
 * grad_output]); the aux rows are NULL for a loss without an aux array. */
typedef struct closs_pw_kernels {
    closs_block_fn value[2][2];     /* out[i] = w L */
    closs_block_fn sum[2][2];       /* returns sum of w L */
    closs_block_fn grad[2][2][2];   /* [aux][go vector][weight]: gx[i] = w dL * (go[i] or gscale) */
    closs_block_fn fused[2][2];     /* out[i] = w L, gx[i] = w dL */
    closs_block_fn fused_sum[2][2]; /* returns sum of w L, gx[i] = w dL gscale */
    closs_block_fn outside;         /* counts elements outside the domain, or NULL */
    int mean_by_wsum;               /* weighted MEAN divides by the sum of the weights */
    int64_t parallel_min;           /* elements from which a team of threads runs */
} closs_pw_kernels;

/* A public call's arguments, untyped. */
typedef struct closs_pw_args {
    int64_t n;
    const void *x, *y, *w, *aux;
    void *gaux;
    double p0, p1, p2;
    closs_reduction reduction;
    int is_f64;
} closs_pw_args;

closs_status closs_pw_forward(const closs_pw_kernels *k, const closs_pw_args *a, void *out);
closs_status closs_pw_backward(const closs_pw_kernels *k, const closs_pw_args *a,
                               const void *grad_output, void *grad_input);
closs_status closs_pw_fused(const closs_pw_kernels *k, const closs_pw_args *a, void *out,
                            void *grad_input);

#endif /* CLOSS_POINTWISE_DRIVER_H */
