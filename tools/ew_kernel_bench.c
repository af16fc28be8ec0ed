/* tools/ew_kernel_bench.c: the element-wise family's transcendental losses, and
 * cross_entropy and nll_loss with few classes (n elements: n / C rows), against
 * mse_loss through the C API alone (no Python), 1 thread, float32, 'mean', fused
 * value and gradient and forward; medians of many repetitions, side by side in
 * one process. Issue 19's memory-floor ratios.
 *   cc -O2 tools/ew_kernel_bench.c -Isrc/closs -Ibuild/c -Lbuild/c -lcloss -o ewb
 *   OMP_NUM_THREADS=1 LD_LIBRARY_PATH=build/c ./ewb [n] [reps]  */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "closs.h"

#define T float
#define S(name) name##_f32

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { MSE, BCEL, BCE, SOFT, POIS, KL, GNLL, NLOSS };
static const char *names[NLOSS] = {"mse_loss", "bce_with_logits", "binary_cross_entropy",
                                   "soft_margin_loss", "poisson_nll_loss", "kl_div",
                                   "gaussian_nll_loss"};

static void call(int k, int fused, int64_t n, T **a, T *out, T *g, T *g2)
{
    const closs_reduction m = CLOSS_REDUCTION_MEAN;
    T *lin = a[0], *p = a[1], *y = a[2], *lab = a[3], *v = a[4];
    switch (k) {
    case MSE: fused ? S(closs_mse_loss_fused)(n, lin, y, NULL, m, out, g) : S(closs_mse_loss)(n, lin, y, NULL, m, out); break;
    case BCEL: fused ? S(closs_binary_cross_entropy_with_logits_fused)(n, lin, y, NULL, NULL, m, out, g) : S(closs_binary_cross_entropy_with_logits)(n, lin, y, NULL, NULL, m, out); break;
    case BCE: fused ? S(closs_binary_cross_entropy_fused)(n, p, y, NULL, m, out, g) : S(closs_binary_cross_entropy)(n, p, y, NULL, m, out); break;
    case SOFT: fused ? S(closs_soft_margin_loss_fused)(n, lin, lab, NULL, m, out, g) : S(closs_soft_margin_loss)(n, lin, lab, NULL, m, out); break;
    case POIS: fused ? S(closs_poisson_nll_loss_fused)(n, lin, v, NULL, 1, 0, 1e-8, m, out, g) : S(closs_poisson_nll_loss)(n, lin, v, NULL, 1, 0, 1e-8, m, out); break;
    case KL: fused ? S(closs_kl_div_fused)(n, lin, p, NULL, 0, m, out, g) : S(closs_kl_div)(n, lin, p, NULL, 0, m, out); break;
    case GNLL: fused ? S(closs_gaussian_nll_loss_fused)(n, lin, y, NULL, v, 0, 1e-6, m, out, g, g2) : S(closs_gaussian_nll_loss)(n, lin, y, NULL, v, 0, 1e-6, m, out); break;
    }
}

int main(int argc, char **argv)
{
    const int64_t n = argc > 1 ? (int64_t)atof(argv[1]) : 10000000;
    int reps = argc > 2 ? atoi(argv[2]) : 25;
    reps = reps < 1 ? 1 : reps > 200 ? 200 : reps; /* the timing tables hold 200 */
    T *a[5], out[1], *g = malloc(sizeof(T) * n), *g2 = malloc(sizeof(T) * n);
    for (int i = 0; i < 5; ++i) a[i] = malloc(sizeof(T) * n);
    srand(1);
    for (int64_t i = 0; i < n; ++i) {
        const double u = (double)rand() / RAND_MAX, w = (double)rand() / RAND_MAX;
        a[0][i] = (T)(8 * u - 4);                /* logits, log-rates */
        a[1][i] = (T)(0.01 + 0.98 * w);          /* probabilities */
        a[2][i] = (T)((double)rand() / RAND_MAX); /* targets in [0, 1] */
        a[3][i] = rand() & 1 ? 1 : -1;           /* labels */
        a[4][i] = (T)(0.1 + 3 * w);              /* counts, variances */
        g[i] = g2[i] = 0;
    }
    static double t[NLOSS][2][200];
    for (int r = 0; r < reps; ++r)
        for (int k = 0; k < NLOSS; ++k)
            for (int f = 0; f < 2; ++f) {
                const double t0 = now();
                call(k, f, n, a, out, g, g2);
                t[k][f][r] = now() - t0;
            }
    double mse_fused = 0;
    printf("n = %lld, %d reps, median ms (ratio to mse_loss's fused)\n", (long long)n, reps);
    for (int k = 0; k < NLOSS; ++k) {
        qsort(t[k][0], reps, sizeof(double), cmp);
        qsort(t[k][1], reps, sizeof(double), cmp);
        const double fw = 1e3 * t[k][0][reps / 2], fu = 1e3 * t[k][1][reps / 2];
        if (k == MSE) mse_fused = fu;
        printf("%-22s forward %8.3f  fused %8.3f  (%.2fx)\n", names[k], fw, fu, fu / mse_fused);
    }
    /* cross_entropy and nll_loss, n / C rows of C classes */
    const int classes[3] = {2, 3, 10};
    int64_t *lab = malloc(sizeof(int64_t) * (size_t)n);
    static double tc[3][4][200];
    for (int r = 0; r < reps; ++r)
        for (int q = 0; q < 3; ++q) {
            const int64_t C = classes[q], rows = n / C;
            for (int64_t i = 0; i < rows; ++i) lab[i] = (i * 7 + r) % C;
            for (int f = 0; f < 4; ++f) {
                const double t0 = now();
                if (f == 0)
                    closs_cross_entropy_f32(rows, C, 1, a[0], lab, NULL, -100, 0.0,
                                            CLOSS_REDUCTION_MEAN, out);
                else if (f == 1)
                    closs_cross_entropy_fused_f32(rows, C, 1, a[0], lab, NULL, -100, 0.0,
                                                  CLOSS_REDUCTION_MEAN, out, g);
                else if (f == 2)
                    closs_nll_loss_f32(rows, C, 1, a[0], lab, NULL, -100, CLOSS_REDUCTION_MEAN, out);
                else
                    closs_nll_loss_fused_f32(rows, C, 1, a[0], lab, NULL, -100,
                                             CLOSS_REDUCTION_MEAN, out, g);
                tc[q][f][r] = now() - t0;
            }
        }
    for (int q = 0; q < 3; ++q) {
        double m[4];
        for (int f = 0; f < 4; ++f) {
            qsort(tc[q][f], reps, sizeof(double), cmp);
            m[f] = 1e3 * tc[q][f][reps / 2];
        }
        printf("cross_entropy C=%-2d     forward %8.3f  fused %8.3f  (%.2fx)   nll_loss forward "
               "%8.3f  fused %8.3f  (%.2fx)\n", classes[q], m[0], m[1], m[1] / mse_fused, m[2],
               m[3], m[3] / mse_fused);
    }
    return 0;
}
