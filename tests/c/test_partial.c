/*
 * C unit tests of the partial reductions (closs_<loss>_partial_<dtype>): hand
 * values of the pair, any split of a batch combining into the whole batch's
 * MEAN and SUM, the gradient recipe of closs.h (a part's SUM gradient over the
 * global denominator is the whole MEAN's gradient, bit for bit), status codes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "closs.h"

/* A reproducible uniform in [0, 1). */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* The parts of a batch of n: [0, 1), [1, n / 3), [n / 3, n), uneven on purpose. */
#define NPARTS 3
static void parts(int64_t n, int64_t lo[NPARTS], int64_t hi[NPARTS])
{
    lo[0] = 0, hi[0] = 1, lo[1] = 1, hi[1] = n / 3, lo[2] = n / 3, hi[2] = n;
}

static void test_hand_values(void)
{
    /* weighted l1: |x - y| = {3, 0.5, 0, 0.25, 2}, weights sum to 7.75 */
    const double x[5] = {-1.0, 0.5, 2.0, 1.25, 4.0}, y[5] = {2.0, 1.0, 2.0, 1.0, 2.0};
    const double w[5] = {1.0, 2.0, 0.5, 4.0, 0.25};
    double pair[2];
    CHECK(closs_l1_loss_partial_f64(5, x, y, w, CLOSS_REDUCTION_MEAN, pair) == CLOSS_OK);
    CHECK(close_to(pair[0], 5.5, 1e-15) && pair[1] == 7.75);
    CHECK(closs_l1_loss_partial_f64(5, x, y, NULL, CLOSS_REDUCTION_MEAN, pair) == CLOSS_OK);
    CHECK(close_to(pair[0], 5.75, 1e-15) && pair[1] == 5.0);
    CHECK(closs_l1_loss_partial_f64(5, x, y, NULL, CLOSS_REDUCTION_SUM, pair) == CLOSS_OK);
    CHECK(close_to(pair[0], 5.75, 1e-15) && pair[1] == 1.0);
    /* huber's weighted MEAN divides by n, not the weight sum */
    CHECK(closs_huber_loss_partial_f64(5, x, y, w, 2.0, CLOSS_REDUCTION_MEAN, pair) == CLOSS_OK);
    CHECK(close_to(pair[0], 4.875, 1e-15) && pair[1] == 5.0);

    /* nll_loss: weighted, one target ignored; D is the kept targets' weight */
    const double lp[6] = {-0.5, -1.0, -2.0, -0.25, -3.0, -1.5};
    const int64_t t[3] = {1, -100, 0};
    const double cw[2] = {2.0, 0.5};
    CHECK(closs_nll_loss_partial_f64(3, 2, 1, lp, t, cw, -100, CLOSS_REDUCTION_MEAN, pair) ==
          CLOSS_OK);
    CHECK(close_to(pair[0], 0.5 * 1.0 + 2.0 * 3.0, 1e-15) && pair[1] == 2.5);

    /* float input, double pair: the sum is not rounded to float */
    const float xf[3] = {0.1f, 0.2f, 0.3f}, yf[3] = {0.0f, 0.0f, 0.0f};
    CHECK(closs_l1_loss_partial_f32(3, xf, yf, NULL, CLOSS_REDUCTION_SUM, pair) == CLOSS_OK);
    CHECK(pair[0] == (double)xf[0] + (double)xf[1] + (double)xf[2]);
}

/* Element-wise and classification: the parts' pairs combine into the whole batch. */
static void test_splits(void)
{
    enum { N = 301, C = 7 };
    double *x = malloc(N * C * sizeof *x), *y = malloc(N * C * sizeof *y);
    double *w = malloc(N * C * sizeof *w), cw[C];
    int64_t t[N], lo[NPARTS], hi[NPARTS];
    for (int64_t i = 0; i < N * C; ++i) x[i] = 4 * uniform() - 2, y[i] = 4 * uniform() - 2,
                                        w[i] = uniform() + 0.1;
    for (int k = 0; k < C; ++k) cw[k] = uniform() + 0.5;
    for (int64_t i = 0; i < N; ++i) t[i] = i % 11 == 3 ? -1 : (int64_t)(uniform() * C);
    parts(N, lo, hi);

    for (int r = CLOSS_REDUCTION_MEAN; r <= CLOSS_REDUCTION_SUM; ++r) {
        double whole, s = 0, d = 0, pair[2];
        /* mse with an element-wise weight: MEAN by the weight sum */
        CHECK(closs_mse_loss_f64(N * C, x, y, w, (closs_reduction)r, &whole) == CLOSS_OK);
        for (int p = 0; p < NPARTS; ++p) {
            const int64_t b = lo[p] * C, n = (hi[p] - lo[p]) * C;
            CHECK(closs_mse_loss_partial_f64(n, x + b, y + b, w + b, (closs_reduction)r, pair) ==
                  CLOSS_OK);
            s += pair[0], d += pair[1];
        }
        CHECK(close_to(r == CLOSS_REDUCTION_MEAN ? s / d : s, whole, 1e-13));

        /* cross_entropy with class weights, ignore_index and label smoothing */
        s = d = 0;
        CHECK(closs_cross_entropy_f64(N, C, 1, x, t, cw, -1, 0.1, (closs_reduction)r, &whole) ==
              CLOSS_OK);
        for (int p = 0; p < NPARTS; ++p) {
            CHECK(closs_cross_entropy_partial_f64(hi[p] - lo[p], C, 1, x + lo[p] * C, t + lo[p],
                                                  cw, -1, 0.1, (closs_reduction)r,
                                                  pair) == CLOSS_OK);
            s += pair[0], d += pair[1];
        }
        CHECK(close_to(r == CLOSS_REDUCTION_MEAN ? s / d : s, whole, 1e-13));

        /* multi_margin_loss (row-wise): MEAN by the row count */
        s = d = 0;
        for (int64_t i = 0; i < N; ++i) t[i] = t[i] < 0 ? 0 : t[i];
        CHECK(closs_multi_margin_loss_f64(N, C, x, t, cw, 1, 1.0, (closs_reduction)r, &whole) ==
              CLOSS_OK);
        for (int p = 0; p < NPARTS; ++p) {
            CHECK(closs_multi_margin_loss_partial_f64(hi[p] - lo[p], C, x + lo[p] * C, t + lo[p],
                                                      cw, 1, 1.0, (closs_reduction)r,
                                                      pair) == CLOSS_OK);
            s += pair[0], d += pair[1];
        }
        CHECK(close_to(r == CLOSS_REDUCTION_MEAN ? s / d : s, whole, 1e-13));
        CHECK(r != CLOSS_REDUCTION_MEAN || d == N);
    }

    /* The gradient recipe: a part's SUM gradient with grad_output 1 / sum(D) is the
     * whole batch's MEAN gradient, bit for bit when the denominators add exactly. */
    double *g = malloc(N * C * sizeof *g), *gp = malloc(N * C * sizeof *gp);
    CHECK(closs_mse_loss_backward_f64(N * C, x, y, NULL, CLOSS_REDUCTION_MEAN, NULL, g) ==
          CLOSS_OK);
    const double scale = 1.0 / (N * C);
    for (int p = 0; p < NPARTS; ++p) {
        const int64_t b = lo[p] * C, n = (hi[p] - lo[p]) * C;
        CHECK(closs_mse_loss_backward_f64(n, x + b, y + b, NULL, CLOSS_REDUCTION_SUM, &scale,
                                          gp + b) == CLOSS_OK);
    }
    int same = 1;
    for (int64_t i = 0; i < N * C; ++i) same &= g[i] == gp[i];
    CHECK(same);
    free(x), free(y), free(w), free(g), free(gp);
}

/* ctc_loss: MEAN's pair is (sum of loss / max(target length, 1), n); the gradient
 * recipe divides the global scale by each sample's target length. */
static void test_ctc(void)
{
    enum { T = 9, N = 5, C = 4, S = 3 };
    float lp[T * N * C];
    for (int64_t i = 0; i < T * N; ++i) {
        double z[C], m = 0;
        for (int k = 0; k < C; ++k) z[k] = 2 * uniform(), m += exp(z[k]);
        for (int k = 0; k < C; ++k) lp[i * C + k] = (float)(z[k] - log(m));
    }
    const int64_t targets[N * S] = {1, 2, 3, 2, 2, 0, 3, 0, 0, 1, 1, 1, 0, 0, 0};
    const int64_t il[N] = {9, 7, 8, 9, 6}, tl[N] = {3, 2, 1, 3, 0};
    float whole;
    double pair[2], s = 0, d = 0;
    CHECK(closs_ctc_loss_f32(T, N, C, lp, targets, S, 0, il, tl, 0, 0, CLOSS_REDUCTION_MEAN,
                             &whole) == CLOSS_OK);
    /* the batch split 2 + 3: sample b's frames lie at b * C in rows of N * C values */
    float part[2][T * 3 * C];
    const int64_t lo[2] = {0, 2}, cnt[2] = {2, 3};
    for (int p = 0; p < 2; ++p) {
        for (int64_t f = 0; f < T; ++f)
            for (int64_t b = 0; b < cnt[p]; ++b)
                for (int k = 0; k < C; ++k)
                    part[p][(f * cnt[p] + b) * C + k] = lp[(f * N + lo[p] + b) * C + k];
        CHECK(closs_ctc_loss_partial_f32(T, cnt[p], C, part[p], targets + lo[p] * S, S, 0,
                                         il + lo[p], tl + lo[p], 0, 0, CLOSS_REDUCTION_MEAN,
                                         pair) == CLOSS_OK);
        s += pair[0], d += pair[1];
    }
    CHECK(d == N && close_to(s / d, whole, 1e-6));
    float values[N];
    CHECK(closs_ctc_loss_f32(T, N, C, lp, targets, S, 0, il, tl, 0, 0, CLOSS_REDUCTION_NONE,
                             values) == CLOSS_OK);
    double by_hand = 0;
    for (int b = 0; b < N; ++b) by_hand += (double)values[b] / (tl[b] > 1 ? tl[b] : 1);
    CHECK(close_to(s, by_hand, 1e-12));

    /* gradient: NONE with grad_output (1 / sum(D)) / max(tl, 1) equals MEAN's, bit for bit */
    float g[T * N * C], g2[T * N * C], go[N];
    CHECK(closs_ctc_loss_backward_f32(T, N, C, lp, targets, S, 0, il, tl, 0, 0,
                                      CLOSS_REDUCTION_MEAN, NULL, g) == CLOSS_OK);
    for (int b = 0; b < N; ++b) go[b] = (float)((1.0 / N) / (double)(tl[b] > 1 ? tl[b] : 1));
    CHECK(closs_ctc_loss_backward_f32(T, N, C, lp, targets, S, 0, il, tl, 0, 0,
                                      CLOSS_REDUCTION_NONE, go, g2) == CLOSS_OK);
    int same = 1;
    for (int i = 0; i < T * N * C; ++i) same &= g[i] == g2[i];
    CHECK(same);
}

static void test_statuses(void)
{
    const double x[2] = {1, 2}, y[2] = {0, 0};
    double pair[2] = {-1, -1};
    CHECK(closs_mse_loss_partial_f64(2, x, y, NULL, CLOSS_REDUCTION_NONE, pair) ==
          CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_mse_loss_partial_f64(2, x, y, NULL, CLOSS_REDUCTION_BATCHMEAN, pair) ==
          CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_mse_loss_partial_f64(2, x, y, NULL, CLOSS_REDUCTION_MEAN, NULL) ==
          CLOSS_ERR_NULL_POINTER);
    CHECK(pair[0] == -1 && pair[1] == -1);
    const int64_t t[2] = {0, 5};
    CHECK(closs_cross_entropy_partial_f64(2, 1, 1, x, t, NULL, -100, 0.0, CLOSS_REDUCTION_MEAN,
                                          pair) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_margin_ranking_loss_partial_f64(2, x, y, y, 0.0, CLOSS_REDUCTION_NONE, pair) ==
          CLOSS_ERR_INVALID_REDUCTION);
    /* an empty part: (0, 0) for MEAN, so that it adds nothing */
    CHECK(closs_mse_loss_partial_f64(0, NULL, NULL, NULL, CLOSS_REDUCTION_MEAN, pair) == CLOSS_OK);
    CHECK(pair[0] == 0 && pair[1] == 0);
    CHECK(closs_cross_entropy_partial_f64(0, 3, 1, NULL, NULL, NULL, -100, 0.0,
                                          CLOSS_REDUCTION_MEAN, pair) == CLOSS_OK);
    CHECK(pair[0] == 0 && pair[1] == 0);
}

int main(void)
{
    test_hand_values();
    test_splits();
    test_ctc();
    test_statuses();
    return check_summary();
}
