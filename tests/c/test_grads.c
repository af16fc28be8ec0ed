/*
 * C unit tests of closs_<loss>_grads_<dtype>: hand values of the targets' and
 * weights' gradients, the input's gradient and value equal (bit for bit) to
 * backward's and fused's, the target's gradient against central differences of
 * the forward, float and double, and status codes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "closs.h"

enum { N = 37 };

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void test_hand_values(void)
{
    /* weighted mse, MEAN = sum(w d^2) / sum(w): dL/dy = -2 w d / W,
     * dL/dw = (d^2 - MEAN) / W */
    const double x[3] = {1.0, -2.0, 0.5}, y[3] = {0.0, 1.0, 0.5}, w[3] = {1.0, 0.5, 2.5};
    double out, gx[3], gy[3], gw[3];
    CHECK(closs_mse_loss_grads_f64(3, x, y, w, CLOSS_REDUCTION_MEAN, NULL, &out, gx, gy, gw) ==
          CLOSS_OK);
    const double W = 4.0, mean = (1.0 + 0.5 * 9.0) / W;
    CHECK(close_to(out, mean, 1e-15));
    CHECK(gy[0] == -gx[0] && gy[1] == -gx[1] && gy[2] == -gx[2]);
    CHECK(close_to(gy[0], -2.0 / W, 1e-15) && close_to(gy[1], 2.0 * 0.5 * 3.0 / W, 1e-15));
    CHECK(close_to(gw[0], (1.0 - mean) / W, 1e-14) && close_to(gw[1], (9.0 - mean) / W, 1e-14));
    CHECK(close_to(gw[2], (0.0 - mean) / W, 1e-14));

    /* backward of NONE with grad_output: dL/dw = d^2 go, dL/dy = -2 w d go */
    const double go[3] = {2.0, -1.0, 3.0};
    CHECK(closs_mse_loss_grads_f64(3, x, y, w, CLOSS_REDUCTION_NONE, go, NULL, gx, gy, gw) ==
          CLOSS_OK);
    CHECK(gw[0] == 2.0 && gw[1] == -9.0 && gw[2] == 0.0);
    CHECK(gy[0] == -4.0 && gy[1] == -3.0 && gy[2] == 0.0);

    /* kl_div: log y + 1 - x; NaN at y == 0 (torch's xlogy); log_target exp(y) (y - x + 1) */
    const double lq[2] = {0.5, -1.0}, p[2] = {0.25, 0.0};
    CHECK(closs_kl_div_grads_f64(2, lq, p, NULL, 0, CLOSS_REDUCTION_SUM, NULL, &out, gx, gy,
                                 NULL) == CLOSS_OK);
    CHECK(close_to(gy[0], log(0.25) + 1.0 - 0.5, 1e-15) && isnan(gy[1]));
    CHECK(closs_kl_div_grads_f64(2, lq, p, NULL, 1, CLOSS_REDUCTION_SUM, NULL, &out, gx, gy,
                                 NULL) == CLOSS_OK);
    CHECK(close_to(gy[0], exp(0.25) * (0.25 - 0.5 + 1.0), 1e-15));
    CHECK(close_to(gy[1], 1.0 * (0.0 + 1.0 + 1.0), 1e-15));

    /* bce_with_logits: -x without pos_weight (inf at -inf), -x - (p - 1) log_sigmoid(x) */
    const double z[2] = {-INFINITY, 3.0}, t[2] = {0.5, 0.5}, pw[2] = {2.0, 2.0};
    CHECK(closs_binary_cross_entropy_with_logits_grads_f64(
              2, z, t, NULL, NULL, CLOSS_REDUCTION_SUM, NULL, &out, gx, gy, NULL) == CLOSS_OK);
    CHECK(gy[0] == INFINITY && gy[1] == -3.0);
    CHECK(closs_binary_cross_entropy_with_logits_grads_f64(
              2, z, t, NULL, pw, CLOSS_REDUCTION_SUM, NULL, &out, gx, gy, NULL) == CLOSS_OK);
    CHECK(close_to(gy[1], -3.0 + log1p(exp(-3.0)), 1e-15));

    /* hinge_embedding: the labels only select terms */
    const double lab[2] = {1.0, -1.0};
    gy[0] = gy[1] = 7.0;
    CHECK(closs_hinge_embedding_loss_grads_f64(2, x, lab, NULL, 1.0, CLOSS_REDUCTION_SUM, NULL,
                                               &out, gx, gy, NULL) == CLOSS_OK);
    CHECK(gy[0] == 0.0 && gy[1] == 0.0);

    /* margin_ranking: dL/dy = -(x1 - x2) where the hinge is active */
    const double a[2] = {1.0, 2.0}, b[2] = {0.0, 0.0}, r[2] = {-1.0, 1.0};
    double g1[2], g2[2];
    CHECK(closs_margin_ranking_loss_grads_f64(2, a, b, r, 0.0, CLOSS_REDUCTION_SUM, NULL, &out,
                                              g1, g2, gy) == CLOSS_OK);
    CHECK(out == 1.0 && gy[0] == -1.0 && gy[1] == 0.0 && g1[0] == 1.0 && g2[0] == -1.0);

    /* cross_entropy_prob, one row of two classes, weights, smoothing 0.5:
     * dL/dy_j = -(1 - eps) w_j l_j, dL/dw_j = -y'_j l_j */
    const double lg[2] = {0.0, 1.0}, pr[2] = {0.25, 0.75}, cw[2] = {2.0, 0.5};
    double gi[2], gt[2], gcw[2];
    CHECK(closs_cross_entropy_prob_grads_f64(1, 2, 1, lg, pr, cw, 0.5, CLOSS_REDUCTION_SUM, NULL,
                                             &out, gi, gt, gcw) == CLOSS_OK);
    const double lse = 1.0 + log1p(exp(-1.0)), l0 = 0.0 - lse, l1 = 1.0 - lse;
    CHECK(close_to(gt[0], -0.5 * 2.0 * l0, 1e-15) && close_to(gt[1], -0.5 * 0.5 * l1, 1e-15));
    CHECK(close_to(gcw[0], -(0.5 * 0.25 + 0.25) * l0, 1e-15));
    CHECK(close_to(gcw[1], -(0.5 * 0.75 + 0.25) * l1, 1e-15));
}

/* The input's gradient and the value equal backward's and fused's; the target's
 * gradient matches central differences of the forward's SUM. */
static void test_against_other_entries(void)
{
    double x[N], y[N], w[N], gx[N], gy[N], ref[N], out, fout;
    for (int i = 0; i < N; ++i) {
        x[i] = 4.0 * uniform() - 2.0;
        y[i] = 4.0 * uniform() - 2.0;
        w[i] = 0.5 + uniform();
    }
    CHECK(closs_huber_loss_grads_f64(N, x, y, w, 1.0, CLOSS_REDUCTION_MEAN, NULL, &out, gx, gy,
                                     NULL) == CLOSS_OK);
    CHECK(closs_huber_loss_fused_f64(N, x, y, w, 1.0, CLOSS_REDUCTION_MEAN, &fout, ref) ==
          CLOSS_OK);
    CHECK(out == fout && memcmp(gx, ref, sizeof gx) == 0);
    const double go = 1.5;
    CHECK(closs_huber_loss_grads_f64(N, x, y, w, 1.0, CLOSS_REDUCTION_SUM, &go, NULL, gx, gy,
                                     NULL) == CLOSS_OK);
    CHECK(closs_huber_loss_backward_f64(N, x, y, w, 1.0, CLOSS_REDUCTION_SUM, &go, ref) ==
          CLOSS_OK);
    CHECK(memcmp(gx, ref, sizeof gx) == 0);
    /* poisson (log_input, full) at non-integer targets > 1, and soft_margin */
    for (int i = 0; i < N; ++i) y[i] = 1.5 + 3.0 * uniform();
    CHECK(closs_poisson_nll_loss_grads_f64(N, x, y, NULL, 1, 1, 1e-8, CLOSS_REDUCTION_SUM, NULL,
                                           &out, gx, gy, NULL) == CLOSS_OK);
    for (int i = 0; i < N; i += 5) {
        const double h = 1e-6, y0 = y[i];
        double up, down;
        y[i] = y0 + h;
        CHECK(closs_poisson_nll_loss_f64(N, x, y, NULL, 1, 1, 1e-8, CLOSS_REDUCTION_SUM, &up) ==
              CLOSS_OK);
        y[i] = y0 - h;
        CHECK(closs_poisson_nll_loss_f64(N, x, y, NULL, 1, 1, 1e-8, CLOSS_REDUCTION_SUM, &down) ==
              CLOSS_OK);
        y[i] = y0;
        CHECK(close_to(gy[i], (up - down) / (2 * h), 1e-6));
    }
    /* float: the same kernels; the target's gradient of l1 is -sign(d) */
    float xf[N], yf[N], gxf[N], gyf[N], of;
    for (int i = 0; i < N; ++i) xf[i] = (float)x[i], yf[i] = (float)(y[i] - 2.0);
    CHECK(closs_l1_loss_grads_f32(N, xf, yf, NULL, CLOSS_REDUCTION_SUM, NULL, &of, gxf, gyf,
                                  NULL) == CLOSS_OK);
    for (int i = 0; i < N; ++i) CHECK(gyf[i] == -gxf[i] && fabsf(gyf[i]) <= 1.0f);
}

static void test_status(void)
{
    double x[2] = {0.0, 1.0}, y[2] = {1.0, 0.0}, gx[2], gy[2], gw[2], out, go = 1.0;
    /* a value and a grad_output: neither a fused call nor a backward */
    CHECK(closs_mse_loss_grads_f64(2, x, y, NULL, CLOSS_REDUCTION_SUM, &go, &out, gx, gy, NULL) ==
          CLOSS_ERR_INVALID_ARGUMENT);
    /* the weight's gradient needs the weight; the input's is required */
    CHECK(closs_mse_loss_grads_f64(2, x, y, NULL, CLOSS_REDUCTION_SUM, NULL, &out, gx, gy, gw) ==
          CLOSS_ERR_NULL_POINTER);
    CHECK(closs_mse_loss_grads_f64(2, x, y, NULL, CLOSS_REDUCTION_SUM, NULL, &out, NULL, gy,
                                   NULL) == CLOSS_ERR_NULL_POINTER);
    double lg[2] = {0.0, 1.0}, pr[2] = {0.5, 0.5}, gi[2], gt[2], gcw[2];
    CHECK(closs_cross_entropy_prob_grads_f64(1, 2, 1, lg, pr, NULL, 0.0, CLOSS_REDUCTION_SUM,
                                             NULL, &out, gi, gt, gcw) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_mse_loss_grads_f64(2, x, y, NULL, (closs_reduction)9, NULL, &out, gx, gy, NULL) ==
          CLOSS_ERR_INVALID_REDUCTION);
    /* empty calls accept NULL arrays */
    CHECK(closs_mse_loss_grads_f64(0, NULL, NULL, NULL, CLOSS_REDUCTION_NONE, NULL, NULL, NULL,
                                   NULL, NULL) == CLOSS_OK);
}

int main(void)
{
    test_hand_values();
    test_against_other_entries();
    test_status();
    return check_summary();
}
