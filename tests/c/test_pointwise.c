/*
 * C unit tests of the element-wise losses: hand-computed values, status codes,
 * entry points agreeing with each other, thread-count determinism.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "closs.h"

/* x - y = {-3, -0.5, 0, 0.25, 2}: values worked out by hand. */
static const double X[5] = {-1.0, 0.5, 2.0, 1.25, 4.0};
static const double Y[5] = {2.0, 1.0, 2.0, 1.0, 2.0};
static const double W[5] = {1.0, 2.0, 0.5, 4.0, 0.25};

static void test_values(void)
{
    double out;
    /* l1: 3 + 0.5 + 0 + 0.25 + 2 = 5.75 */
    CHECK(closs_l1_loss_f64(5, X, Y, NULL, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, 5.75, 1e-15));
    CHECK(closs_l1_loss_f64(5, X, Y, NULL, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, 1.15, 1e-15));
    /* weighted l1 mean divides by the weight sum 7.75: (3 + 1 + 0 + 1 + 0.5) / 7.75 */
    CHECK(closs_l1_loss_f64(5, X, Y, W, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, 5.5 / 7.75, 1e-15));
    /* mse: 9 + 0.25 + 0 + 0.0625 + 4 = 13.3125 */
    CHECK(closs_mse_loss_f64(5, X, Y, NULL, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, 13.3125, 1e-15));
    /* smooth_l1 beta=1: 2.5 + 0.125 + 0 + 0.03125 + 1.5 = 4.15625 */
    CHECK(closs_smooth_l1_loss_f64(5, X, Y, NULL, 1.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, 4.15625, 1e-15));
    /* smooth_l1 beta=0 is l1 */
    CHECK(closs_smooth_l1_loss_f64(5, X, Y, NULL, 0.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, 5.75, 1e-15));
    /* huber delta=2: 2*(3-1) + 0.125 + 0 + 0.03125 + 2*(2-1) = 6.15625; weighted mean / n */
    CHECK(closs_huber_loss_f64(5, X, Y, NULL, 2.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, 6.15625, 1e-15));
    CHECK(closs_huber_loss_f64(5, X, Y, W, 2.0, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, (4.0 + 0.25 + 0 + 0.125 + 0.5) / 5, 1e-15));

    double none[5];
    CHECK(closs_huber_loss_f64(5, X, Y, NULL, 2.0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(close_to(none[0], 4.0, 1e-15) && none[2] == 0.0 && close_to(none[4], 2.0, 1e-15));

    float xf[5], yf[5], outf;
    for (int i = 0; i < 5; ++i) xf[i] = (float)X[i], yf[i] = (float)Y[i];
    CHECK(closs_mse_loss_f32(5, xf, yf, NULL, CLOSS_REDUCTION_MEAN, &outf) == CLOSS_OK);
    CHECK(close_to(outf, 13.3125 / 5, 1e-7));
}

static void test_gradients(void)
{
    double g[5], go = 2.0;
    /* mse mean: 2 d / n times grad_output 2 */
    CHECK(closs_mse_loss_backward_f64(5, X, Y, NULL, CLOSS_REDUCTION_MEAN, &go, g) == CLOSS_OK);
    CHECK(close_to(g[0], -2.4, 1e-15) && close_to(g[4], 1.6, 1e-15) && g[2] == 0.0);
    /* l1 sign, 0 at d = 0; NULL grad_output means ones */
    CHECK(closs_l1_loss_backward_f64(5, X, Y, NULL, CLOSS_REDUCTION_SUM, NULL, g) == CLOSS_OK);
    CHECK(g[0] == -1.0 && g[1] == -1.0 && g[2] == 0.0 && g[3] == 1.0 && g[4] == 1.0);
    /* huber delta=1 with per-element grad_output: clamp(d, -1, 1) * go */
    const double gov[5] = {1, 2, 3, 4, 5};
    CHECK(closs_huber_loss_backward_f64(5, X, Y, NULL, 1.0, CLOSS_REDUCTION_NONE, gov, g) == CLOSS_OK);
    CHECK(g[0] == -1.0 && g[1] == -1.0 && g[2] == 0.0 && g[3] == 1.0 && g[4] == 5.0);
    /* smooth_l1 beta=0.5: d / beta inside, sign outside; weighted */
    CHECK(closs_smooth_l1_loss_backward_f64(5, X, Y, W, 0.5, CLOSS_REDUCTION_SUM, NULL, g) == CLOSS_OK);
    CHECK(g[0] == -1.0 && g[1] == -2.0 && g[2] == 0.0 && g[3] == 2.0 && g[4] == 0.25);
}

/* Fused = forward + backward, for every loss, reduction and weight choice. */
static void test_fused_agrees(void)
{
    enum { N = 10007 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *w = malloc(N * sizeof *w);
    double *v1 = malloc(N * sizeof *v1), *v2 = malloc(N * sizeof *v2);
    double *g1 = malloc(N * sizeof *g1), *g2 = malloc(N * sizeof *g2);
    unsigned s = 12345;
    for (int i = 0; i < N; ++i) {
        s = s * 1103515245u + 12345u;
        x[i] = (double)(s >> 8) / (1 << 24) * 4 - 2;
        y[i] = sin(i * 0.37);
        w[i] = 0.5 + (i % 7) * 0.25;
    }
    for (int r = 0; r <= 2; ++r)
        for (int hw = 0; hw <= 1; ++hw) {
            const double *wp = hw ? w : NULL;
            const closs_reduction red = (closs_reduction)r;
#define AGREE(CALL_F, CALL_B, CALL_FUSED)                                         \
    do {                                                                          \
        CHECK(CALL_F == CLOSS_OK);                                                \
        CHECK(CALL_B == CLOSS_OK);                                                \
        CHECK(CALL_FUSED == CLOSS_OK);                                            \
        const int m = r == 0 ? N : 1;                                             \
        for (int i = 0; i < m; ++i) CHECK(close_to(v1[i], v2[i], 1e-14));         \
        for (int i = 0; i < N; ++i) CHECK(close_to(g1[i], g2[i], 1e-14));         \
    } while (0)
            AGREE(closs_mse_loss_f64(N, x, y, wp, red, v1),
                  closs_mse_loss_backward_f64(N, x, y, wp, red, NULL, g1),
                  closs_mse_loss_fused_f64(N, x, y, wp, red, v2, g2));
            AGREE(closs_l1_loss_f64(N, x, y, wp, red, v1),
                  closs_l1_loss_backward_f64(N, x, y, wp, red, NULL, g1),
                  closs_l1_loss_fused_f64(N, x, y, wp, red, v2, g2));
            AGREE(closs_smooth_l1_loss_f64(N, x, y, wp, 0.7, red, v1),
                  closs_smooth_l1_loss_backward_f64(N, x, y, wp, 0.7, red, NULL, g1),
                  closs_smooth_l1_loss_fused_f64(N, x, y, wp, 0.7, red, v2, g2));
            AGREE(closs_huber_loss_f64(N, x, y, wp, 1.3, red, v1),
                  closs_huber_loss_backward_f64(N, x, y, wp, 1.3, red, NULL, g1),
                  closs_huber_loss_fused_f64(N, x, y, wp, 1.3, red, v2, g2));
#undef AGREE
        }
    free(x), free(y), free(w), free(v1), free(v2), free(g1), free(g2);
}

static void test_status(void)
{
    double out, g[5];
    CHECK(closs_mse_loss_f64(-1, X, Y, NULL, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_mse_loss_f64(5, NULL, Y, NULL, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_mse_loss_f64(5, X, Y, NULL, CLOSS_REDUCTION_SUM, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_mse_loss_f64(5, X, Y, NULL, (closs_reduction)7, &out) == CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_mse_loss_f64(5, X, Y, NULL, CLOSS_REDUCTION_BATCHMEAN, &out) == CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_mse_loss_fused_f64(5, X, Y, NULL, CLOSS_REDUCTION_SUM, &out, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_mse_loss_backward_f64(5, X, Y, NULL, CLOSS_REDUCTION_SUM, NULL, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_smooth_l1_loss_f64(5, X, Y, NULL, -0.1, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_huber_loss_backward_f64(5, X, Y, NULL, 0.0, CLOSS_REDUCTION_SUM, NULL, g) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_set_num_threads(0) == CLOSS_ERR_INVALID_ARGUMENT);
    /* n == 0: NULL arrays are fine; mean is 0/0 = NaN as in torch */
    CHECK(closs_mse_loss_f64(0, NULL, NULL, NULL, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(isnan(out));
    CHECK(closs_mse_loss_f64(0, NULL, NULL, NULL, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK && out == 0.0);
    CHECK(closs_mse_loss_f64(0, NULL, NULL, NULL, CLOSS_REDUCTION_NONE, NULL) == CLOSS_OK);
    CHECK(strncmp(closs_status_string(CLOSS_ERR_INVALID_ARGUMENT), "CLOSS_ERR_INVALID_ARGUMENT", 26) == 0);
    CHECK(strncmp(closs_status_string((closs_status)99), "CLOSS_ERR_UNKNOWN", 17) == 0);
    CHECK(closs_version_number() == CLOSS_VERSION_NUMBER);
}

/* The same sum, bit for bit, for 1, 2 and 3 threads; float accumulates in double. */
static void test_determinism(void)
{
    enum { N = 3000001 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    double exact = 0.0;
    for (int i = 0; i < N; ++i) {
        x[i] = (float)((i % 1000) * 1e-3);
        y[i] = 0.0f;
        exact += (double)x[i] * x[i];
    }
    float out[3];
    for (int t = 1; t <= 3; ++t) {
        CHECK(closs_set_num_threads(t) == CLOSS_OK);
        CHECK(closs_get_num_threads() == t);
        CHECK(closs_mse_loss_f32(N, x, y, NULL, CLOSS_REDUCTION_SUM, &out[t - 1]) == CLOSS_OK);
    }
    CHECK(memcmp(&out[0], &out[1], sizeof(float)) == 0);
    CHECK(memcmp(&out[0], &out[2], sizeof(float)) == 0);
    CHECK(close_to(out[0], exact, 1e-7));
    free(x), free(y);
}

/* Binary-target and distribution losses at points worked out by hand. */
static void test_other_families(void)
{
    const double ln2 = log(2.0);
    double out, g[3];
    /* BCE: x = 0.5 gives ln 2 whatever y; x = 0, y = 1 clamps at 100 */
    const double bx[3] = {0.5, 0.0, 0.25}, by[3] = {1.0, 1.0, 0.0};
    CHECK(closs_binary_cross_entropy_f64(3, bx, by, NULL, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, ln2 + 100 - log(0.75), 1e-15));
    CHECK(closs_binary_cross_entropy_backward_f64(3, bx, by, NULL, CLOSS_REDUCTION_SUM, NULL, g) == CLOSS_OK);
    CHECK(close_to(g[0], -2.0, 1e-15) && close_to(g[2], 0.25 / 0.1875, 1e-15));
    const double bad[3] = {0.5, 1.5, 0.25};
    double none[3], gbad[3];
    CHECK(closs_binary_cross_entropy_f64(3, bad, by, NULL, CLOSS_REDUCTION_MEAN, &out) == CLOSS_ERR_DOMAIN);
    CHECK(closs_binary_cross_entropy_f64(3, bx, bad, NULL, CLOSS_REDUCTION_NONE, none) == CLOSS_ERR_DOMAIN);
    CHECK(closs_binary_cross_entropy_fused_f64(3, bad, by, NULL, CLOSS_REDUCTION_NONE, none, gbad) == CLOSS_ERR_DOMAIN);
    /* BCE with logits at x = 0: ln 2 (1 + (p - 1) y) - ... with p = 3, y = 1: 3 ln 2 */
    const double lx[2] = {0.0, 0.0}, ly[2] = {1.0, 0.0}, pw[2] = {3.0, 3.0};
    CHECK(closs_binary_cross_entropy_with_logits_f64(2, lx, ly, NULL, pw, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(close_to(none[0], 3 * ln2, 1e-15) && close_to(none[1], ln2, 1e-15));
    CHECK(closs_binary_cross_entropy_with_logits_backward_f64(2, lx, ly, NULL, pw, CLOSS_REDUCTION_SUM, NULL, g) == CLOSS_OK);
    CHECK(close_to(g[0], 1.5 - 3.0, 1e-15) && close_to(g[1], 0.5, 1e-15)); /* l s(x) - p y */
    /* soft margin: log(1 + e^-yx); finite where exp overflows */
    const double sx[2] = {0.0, 1000.0}, sy[2] = {1.0, -1.0};
    CHECK(closs_soft_margin_loss_f64(2, sx, sy, NULL, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(close_to(none[0], ln2, 1e-15) && close_to(none[1], 1000.0, 1e-15));
    /* hinge embedding, margin 1: y = 1 -> x; y = -1 -> max(0, 1 - x); y = 0 -> both */
    const double hx[3] = {0.25, 0.25, 0.25}, hy[3] = {1.0, -1.0, 0.0};
    CHECK(closs_hinge_embedding_loss_f64(3, hx, hy, NULL, 1.0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(none[0] == 0.25 && none[1] == 0.75 && none[2] == 1.0);
    /* poisson, log input: exp(0) - 2 * 0 = 1; full adds 2 ln 2 - 2 + ln(4 pi) / 2 for y = 2 */
    const double px[1] = {0.0}, py[1] = {2.0};
    CHECK(closs_poisson_nll_loss_f64(1, px, py, NULL, 1, 1, 1e-8, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, 1 + 2 * ln2 - 2 + 0.5 * log(4 * 3.14159265358979323846), 1e-14));
    /* kl_div: y = 0 contributes 0; y = 0.5, x = -1: 0.5 ln 0.5 + 0.5 */
    const double kx[2] = {-3.0, -1.0}, ky[2] = {0.0, 0.5};
    CHECK(closs_kl_div_f64(2, kx, ky, NULL, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, 0.5 * log(0.5) + 0.5, 1e-15));
    /* gaussian: x - y = 2, var = 4: 0.5 (ln 4 + 1); d/dx = 0.5, d/dvar = 0.5 (1/4 - 4/16) = 0 */
    const double gxv[1] = {3.0}, gyv[1] = {1.0}, var[1] = {4.0}, negvar[1] = {-1.0};
    double gi[1], gv[1];
    CHECK(closs_gaussian_nll_loss_fused_f64(1, gxv, gyv, NULL, var, 0, 1e-6, CLOSS_REDUCTION_SUM,
                                            &out, gi, gv) == CLOSS_OK);
    CHECK(close_to(out, 0.5 * (log(4.0) + 1.0), 1e-15) && gi[0] == 0.5 && gv[0] == 0.0);
    CHECK(closs_gaussian_nll_loss_backward_f64(1, gxv, gyv, NULL, var, 0, 1e-6, CLOSS_REDUCTION_SUM,
                                               NULL, gi, NULL) == CLOSS_OK && gi[0] == 0.5);
    CHECK(closs_gaussian_nll_loss_f64(1, gxv, gyv, NULL, NULL, 0, 1e-6, CLOSS_REDUCTION_SUM, &out)
          == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_gaussian_nll_loss_f64(1, gxv, gyv, NULL, negvar, 0, 1e-6, CLOSS_REDUCTION_SUM, &out)
          == CLOSS_ERR_DOMAIN);
}

int main(void)
{
    printf("%s\n", closs_build_info());
    test_values();
    test_gradients();
    test_fused_agrees();
    test_status();
    test_determinism();
    test_other_families();
    return check_summary();
}
