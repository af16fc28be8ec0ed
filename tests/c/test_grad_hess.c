/*
 * C unit tests of closs_<loss>_grad_hess_<dtype>: hand values (the kinks'
 * convention included), the gradient equal to backward's with reduction SUM
 * (bit for bit) and the value to the forward's SUM, the Hessian diagonal
 * against central differences of the gradient, float and double, and status
 * codes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "closs.h"

enum { N = 64 };

static uint64_t rng_state = 0x2545F4914F6CDD1Du;
static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void test_hand_values(void)
{
    /* weighted mse: grad 2 w d, hess 2 w, out the weighted sum */
    const double x[4] = {1.0, -2.0, 0.5, 3.0}, y[4] = {0.0, 1.0, 0.5, 1.0};
    const double w[4] = {1.0, 0.5, 2.0, 0.25};
    double out, g[4], h[4];
    CHECK(closs_mse_loss_grad_hess_f64(4, x, y, w, &out, g, h) == CLOSS_OK);
    CHECK(out == 1.0 + 0.5 * 9.0 + 0.0 + 0.25 * 4.0);
    CHECK(g[0] == 2.0 && g[1] == -3.0 && g[2] == 0.0 && g[3] == 1.0);
    CHECK(h[0] == 2.0 && h[1] == 1.0 && h[2] == 4.0 && h[3] == 0.5);

    /* huber, delta 2: d = {1, -3, 0, 2}: 1 inside, 0 outside and on the kink */
    CHECK(closs_huber_loss_grad_hess_f64(4, x, y, NULL, 2.0, NULL, g, h) == CLOSS_OK);
    CHECK(g[0] == 1.0 && g[1] == -2.0 && g[2] == 0.0 && g[3] == 2.0);
    CHECK(h[0] == 1.0 && h[1] == 0.0 && h[2] == 1.0 && h[3] == 0.0);

    /* smooth_l1, beta 2: 1 / beta inside, 0 at |d| == beta; beta 0: 0 everywhere */
    CHECK(closs_smooth_l1_loss_grad_hess_f64(4, x, y, NULL, 2.0, NULL, g, h) == CLOSS_OK);
    CHECK(h[0] == 0.5 && h[1] == 0.0 && h[2] == 0.5 && h[3] == 0.0);
    CHECK(closs_smooth_l1_loss_grad_hess_f64(4, x, y, NULL, 0.0, NULL, g, h) == CLOSS_OK);
    CHECK(h[0] == 0.0 && h[1] == 0.0 && h[2] == 0.0 && h[3] == 0.0);

    /* l1: the Hessian is 0, the kink d = 0 included */
    CHECK(closs_l1_loss_grad_hess_f64(4, x, y, NULL, &out, g, h) == CLOSS_OK);
    CHECK(out == 1.0 + 3.0 + 0.0 + 2.0 && g[2] == 0.0);
    CHECK(h[0] == 0.0 && h[1] == 0.0 && h[2] == 0.0 && h[3] == 0.0);

    /* poisson, log_input: exp(x); else y / (x + eps)^2 */
    const double lam[2] = {0.5, 2.0}, k[2] = {1.0, 3.0};
    CHECK(closs_poisson_nll_loss_grad_hess_f64(2, lam, k, NULL, 1, 0, 1e-8, NULL, g, h) ==
          CLOSS_OK);
    CHECK(close_to(h[0], exp(0.5), 1e-15) && close_to(h[1], exp(2.0), 1e-15));
    CHECK(closs_poisson_nll_loss_grad_hess_f64(2, lam, k, NULL, 0, 1, 0.0, NULL, g, h) ==
          CLOSS_OK);
    CHECK(close_to(h[0], 4.0, 1e-15) && close_to(h[1], 0.75, 1e-15));

    /* binary_cross_entropy_with_logits at 0: sigmoid' = 1/4, times 1 + (p - 1) y */
    const double z[2] = {0.0, 0.0}, t[2] = {1.0, 0.0}, pw[2] = {3.0, 3.0};
    CHECK(closs_binary_cross_entropy_with_logits_grad_hess_f64(2, z, t, NULL, pw, NULL, g, h) ==
          CLOSS_OK);
    CHECK(h[0] == 0.75 && h[1] == 0.25 && g[0] == 1.5 - 3.0 && g[1] == 0.5);

    /* cross_entropy of a uniform row of 4: p = 1/4, hess 3/16, grad 1/4 - onehot */
    const double logits[4] = {0.0, 0.0, 0.0, 0.0};
    const int64_t cls[1] = {2};
    double g4[4], h4[4];
    CHECK(closs_cross_entropy_grad_hess_f64(1, 4, 1, logits, cls, NULL, -100, 0.0, &out, g4,
                                            h4) == CLOSS_OK);
    CHECK(close_to(out, log(4.0), 1e-15));
    CHECK(g4[0] == 0.25 && g4[2] == -0.75 && h4[0] == 0.1875 && h4[2] == 0.1875);
    /* nll_loss: linear, -w_t at the target */
    const double cw[4] = {1.0, 2.0, 3.0, 4.0};
    CHECK(closs_nll_loss_grad_hess_f64(1, 4, 1, logits, cls, cw, -100, &out, g4, h4) == CLOSS_OK);
    CHECK(g4[0] == 0.0 && g4[2] == -3.0 && h4[2] == 0.0 && out == 0.0);
}

/* The gradient is backward's with SUM, bit for bit; the value is forward's SUM. */
static void test_matches_backward(void)
{
    double x[N], y[N], w[N], pw[N], g[N], h[N], gb[N], out, ref;
    for (int i = 0; i < N; ++i) x[i] = 6 * uniform() - 3, y[i] = uniform(), w[i] = uniform() + 0.1,
                                pw[i] = 2 * uniform() + 0.1;
    CHECK(closs_binary_cross_entropy_with_logits_grad_hess_f64(N, x, y, w, pw, &out, g, h) ==
          CLOSS_OK);
    CHECK(closs_binary_cross_entropy_with_logits_backward_f64(N, x, y, w, pw, CLOSS_REDUCTION_SUM,
                                                              NULL, gb) == CLOSS_OK);
    CHECK(closs_binary_cross_entropy_with_logits_f64(N, x, y, w, pw, CLOSS_REDUCTION_SUM, &ref) ==
          CLOSS_OK);
    CHECK(memcmp(g, gb, sizeof g) == 0 && out == ref);

    float xf[N], yf[N], gf[N], hf[N], gbf[N], outf, reff;
    for (int i = 0; i < N; ++i) xf[i] = (float)x[i], yf[i] = (float)(3 * y[i]);
    CHECK(closs_poisson_nll_loss_grad_hess_f32(N, xf, yf, NULL, 1, 1, 1e-8, &outf, gf, hf) ==
          CLOSS_OK);
    CHECK(closs_poisson_nll_loss_backward_f32(N, xf, yf, NULL, 1, 1, 1e-8, CLOSS_REDUCTION_SUM,
                                              NULL, gbf) == CLOSS_OK);
    CHECK(closs_poisson_nll_loss_f32(N, xf, yf, NULL, 1, 1, 1e-8, CLOSS_REDUCTION_SUM, &reff) ==
          CLOSS_OK);
    CHECK(memcmp(gf, gbf, sizeof gf) == 0 && outf == reff);
    for (int i = 0; i < N; ++i) CHECK(close_to(hf[i], expf(xf[i]), 1e-6));
}

/* Central differences of the gradient against the Hessian diagonal (double). */
typedef closs_status (*gh_fn)(int64_t n, const double *x, const void *ctx, double *g, double *h);

static closs_status bce_logits(int64_t n, const double *x, const void *ctx, double *g, double *h)
{
    const double *y = ctx, *pw = (const double *)ctx + N;
    return closs_binary_cross_entropy_with_logits_grad_hess_f64(n, x, y, NULL, pw, NULL, g, h);
}
static closs_status bce(int64_t n, const double *x, const void *ctx, double *g, double *h)
{
    return closs_binary_cross_entropy_grad_hess_f64(n, x, ctx, NULL, NULL, g, h);
}
static closs_status soft_margin(int64_t n, const double *x, const void *ctx, double *g, double *h)
{
    return closs_soft_margin_loss_grad_hess_f64(n, x, ctx, NULL, NULL, g, h);
}
static closs_status poisson(int64_t n, const double *x, const void *ctx, double *g, double *h)
{
    return closs_poisson_nll_loss_grad_hess_f64(n, x, ctx, NULL, 0, 1, 1e-3, NULL, g, h);
}
static closs_status gaussian(int64_t n, const double *x, const void *ctx, double *g, double *h)
{
    const double *y = ctx, *var = (const double *)ctx + N;
    return closs_gaussian_nll_loss_grad_hess_f64(n, x, y, NULL, var, 0, 1e-6, NULL, g, h);
}

static void check_differences(gh_fn f, const double *x0, const void *ctx, double step)
{
    double x[N], g[N], h[N], gp[N], gm[N], hh[N];
    memcpy(x, x0, sizeof x);
    CHECK(f(N, x, ctx, g, h) == CLOSS_OK);
    for (int i = 0; i < N; ++i) {
        const double s = step * (1 + fabs(x0[i]));
        x[i] = x0[i] + s;
        CHECK(f(N, x, ctx, gp, hh) == CLOSS_OK);
        x[i] = x0[i] - s;
        CHECK(f(N, x, ctx, gm, hh) == CLOSS_OK);
        x[i] = x0[i];
        const double fd = (gp[i] - gm[i]) / (2 * s);
        CHECK(fabs(fd - h[i]) <= 1e-6 * (1 + fabs(h[i])));
    }
}

static void test_differences(void)
{
    double x[N], ctx[2 * N];
    for (int i = 0; i < N; ++i) x[i] = 8 * uniform() - 4, ctx[i] = uniform(),
                                ctx[N + i] = 2 * uniform() + 0.2;
    check_differences(bce_logits, x, ctx, 1e-5);
    check_differences(gaussian, x, ctx, 1e-5);
    for (int i = 0; i < N; ++i) ctx[i] = uniform() < 0.5 ? -1.0 : 1.0;
    check_differences(soft_margin, x, ctx, 1e-5);
    for (int i = 0; i < N; ++i) x[i] = 0.05 + 0.9 * uniform(), ctx[i] = uniform();
    check_differences(bce, x, ctx, 1e-6);
    for (int i = 0; i < N; ++i) x[i] = 0.5 + 3 * uniform(), ctx[i] = floor(5 * uniform());
    check_differences(poisson, x, ctx, 1e-5);
}

/* cross_entropy on (n, c, s), weights, label smoothing, an ignored position:
 * gradient = backward SUM (to rounding), Hessian = differences of the gradient. */
static void test_cross_entropy(void)
{
    enum { NS = 3, C = 5, S = 2, NE = NS * C * S };
    double x[NE], g[NE], h[NE], gb[NE], gp[NE], gm[NE], hh[NE], w[C], out, ref;
    const int64_t t[NS * S] = {0, 4, -100, 2, 3, 1};
    for (int i = 0; i < NE; ++i) x[i] = 4 * uniform() - 2;
    for (int j = 0; j < C; ++j) w[j] = uniform() + 0.5;
    for (int with_w = 0; with_w < 2; ++with_w) {
        const double *cw = with_w ? w : NULL;
        CHECK(closs_cross_entropy_grad_hess_f64(NS, C, S, x, t, cw, -100, 0.2, &out, g, h) ==
              CLOSS_OK);
        CHECK(closs_cross_entropy_backward_f64(NS, C, S, x, t, cw, -100, 0.2, CLOSS_REDUCTION_SUM,
                                               NULL, gb) == CLOSS_OK);
        CHECK(closs_cross_entropy_f64(NS, C, S, x, t, cw, -100, 0.2, CLOSS_REDUCTION_SUM, &ref) ==
              CLOSS_OK);
        CHECK(close_to(out, ref, 1e-13));
        for (int i = 0; i < NE; ++i) CHECK(fabs(g[i] - gb[i]) <= 1e-14);
        /* the ignored position (sample 1, s 0) has zero derivatives */
        for (int j = 0; j < C; ++j) CHECK(g[(1 * C + j) * S] == 0.0 && h[(1 * C + j) * S] == 0.0);
        for (int i = 0; i < NE; ++i) {
            const double s = 1e-5, x0 = x[i];
            x[i] = x0 + s;
            CHECK(closs_cross_entropy_grad_hess_f64(NS, C, S, x, t, cw, -100, 0.2, NULL, gp, hh) ==
                  CLOSS_OK);
            x[i] = x0 - s;
            CHECK(closs_cross_entropy_grad_hess_f64(NS, C, S, x, t, cw, -100, 0.2, NULL, gm, hh) ==
                  CLOSS_OK);
            x[i] = x0;
            CHECK(fabs((gp[i] - gm[i]) / (2 * s) - h[i]) <= 1e-7);
        }
    }
    /* probabilities (float): the rows' Hessians are k p (1 - p), k = sum of the target */
    float xf[C], tp[C], gf[C], hf[C], outf;
    double z = 0;
    for (int j = 0; j < C; ++j) xf[j] = (float)(j - 2), tp[j] = 0.4f, z += exp(j - 2.0);
    CHECK(closs_cross_entropy_prob_grad_hess_f32(1, C, 1, xf, tp, NULL, 0.0, &outf, gf, hf) ==
          CLOSS_OK);
    for (int j = 0; j < C; ++j) {
        const double p = exp(j - 2.0) / z;
        CHECK(close_to(hf[j], 2.0 * p * (1 - p), 1e-6) && close_to(gf[j], 2.0 * p - 0.4, 1e-5));
    }
}

/* Rows of 20 classes take the vectorised kernel: against backward and k p (1 - p). */
static void test_wide_rows(void)
{
    enum { R = 7, C = 20 };
    float x[R * C], g[R * C], h[R * C], gb[R * C], w[C];
    const int64_t t[R] = {0, 19, 5, -100, 7, 12, 3};
    for (int i = 0; i < R * C; ++i) x[i] = (float)(6 * uniform() - 3);
    for (int j = 0; j < C; ++j) w[j] = (float)(uniform() + 0.5);
    CHECK(closs_cross_entropy_grad_hess_f32(R, C, 1, x, t, w, -100, 0.1, NULL, g, h) == CLOSS_OK);
    CHECK(closs_cross_entropy_backward_f32(R, C, 1, x, t, w, -100, 0.1, CLOSS_REDUCTION_SUM, NULL,
                                           gb) == CLOSS_OK);
    double wsum = 0;
    for (int j = 0; j < C; ++j) wsum += w[j];
    for (int r = 0; r < R; ++r) {
        double z = 0;
        for (int j = 0; j < C; ++j) z += exp((double)x[r * C + j]);
        const double k = t[r] == -100 ? 0.0 : 0.9 * w[t[r]] + 0.1 / C * wsum;
        for (int j = 0; j < C; ++j) {
            const double p = exp((double)x[r * C + j]) / z;
            CHECK(fabs(g[r * C + j] - gb[r * C + j]) <= 1e-6);
            CHECK(fabs(h[r * C + j] - k * p * (1 - p)) <= 1e-6 * (1 + k));
        }
    }
}

static void test_statuses(void)
{
    double x[2] = {0.5, 2.0}, y[2] = {0.5, 0.5}, g[2], h[2], out;
    const int64_t t[1] = {7};
    CHECK(closs_mse_loss_grad_hess_f64(2, x, y, NULL, NULL, g, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_mse_loss_grad_hess_f64(2, x, y, NULL, NULL, NULL, h) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_mse_loss_grad_hess_f64(-1, x, y, NULL, NULL, g, h) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_mse_loss_grad_hess_f64(0, NULL, NULL, NULL, NULL, NULL, NULL) == CLOSS_OK);
    CHECK(closs_huber_loss_grad_hess_f64(2, x, y, NULL, 0.0, NULL, g, h) ==
          CLOSS_ERR_INVALID_ARGUMENT);
    /* x = 2 is outside binary_cross_entropy's [0, 1] */
    CHECK(closs_binary_cross_entropy_grad_hess_f64(2, x, y, NULL, &out, g, h) == CLOSS_ERR_DOMAIN);
    CHECK(closs_binary_cross_entropy_grad_hess_f64(2, x, y, NULL, NULL, g, h) == CLOSS_ERR_DOMAIN);
    CHECK(closs_cross_entropy_grad_hess_f64(1, 2, 1, x, t, NULL, -100, 0.0, NULL, g, h) ==
          CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_cross_entropy_grad_hess_f64(1, 2, 1, x, t, NULL, -100, 0.0, NULL, g, NULL) ==
          CLOSS_ERR_NULL_POINTER);
    CHECK(closs_cross_entropy_grad_hess_f64(1, 2, 1, x, t, NULL, -100, 1.5, NULL, g, h) ==
          CLOSS_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    test_hand_values();
    test_matches_backward();
    test_differences();
    test_cross_entropy();
    test_wide_rows();
    test_statuses();
    return check_summary();
}
