/*
 * C unit tests of the row-wise losses: hand-computed values and gradients,
 * status codes (class indices out of range found before any output is
 * written), entry points agreeing with each other, thread-count determinism.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "closs.h"

static int all_close(const double *a, const double *b, int n, double rtol)
{
    for (int i = 0; i < n; ++i)
        if (!close_to(a[i], b[i], rtol)) return 0;
    return 1;
}

static void test_margin_ranking(void)
{
    /* -y (x1 - x2) + 0.5 = 1.5, -0.5, 0.5 */
    const double x1[3] = {1.0, 2.0, 0.5}, x2[3] = {2.0, 1.0, 0.5}, y[3] = {1, 1, -1};
    double out, none[3], g1[3], g2[3];
    CHECK(closs_margin_ranking_loss_f64(3, x1, x2, y, 0.5, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(out == 2.0);
    CHECK(closs_margin_ranking_loss_f64(3, x1, x2, y, 0.5, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, 2.0 / 3, 1e-15));
    CHECK(closs_margin_ranking_loss_f64(3, x1, x2, y, 0.5, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(none[0] == 1.5 && none[1] == 0.0 && none[2] == 0.5);
    /* per-row grad_output: g1 = -y [v >= 0] go, g2 = -g1 */
    const double go[3] = {1, 2, 3};
    CHECK(closs_margin_ranking_loss_backward_f64(3, x1, x2, y, 0.5, CLOSS_REDUCTION_NONE, go, g1, g2) == CLOSS_OK);
    CHECK(g1[0] == -1.0 && g1[1] == 0.0 && g1[2] == 3.0);
    CHECK(g2[0] == 1.0 && g2[1] == 0.0 && g2[2] == -3.0);
    float f1[3], f2[3], fy[3], fout;
    for (int i = 0; i < 3; ++i) f1[i] = (float)x1[i], f2[i] = (float)x2[i], fy[i] = (float)y[i];
    CHECK(closs_margin_ranking_loss_f32(3, f1, f2, fy, 0.5, CLOSS_REDUCTION_SUM, &fout) == CLOSS_OK);
    CHECK(fout == 2.0f);
}

static void test_cosine_embedding(void)
{
    /* cos = 0, 1, 1, and 0 for zero vectors (the 1e-12 in the norms); labels 1, -1, 0, 1 */
    const double x1[8] = {1, 0, 1, 1, 3, 4, 0, 0}, x2[8] = {0, 2, 1, 1, 3, 4, 0, 0};
    const double y[4] = {1, -1, 0, 1}, want[4] = {1.0, 0.5, 0.0, 1.0};
    double none[4], g1[8], g2[8], out;
    CHECK(closs_cosine_embedding_loss_f64(4, 2, x1, x2, y, 0.5, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(all_close(none, want, 4, 1e-11));
    CHECK(closs_cosine_embedding_loss_fused_f64(4, 2, x1, x2, y, 0.5, CLOSS_REDUCTION_SUM, &out, g1, g2) == CLOSS_OK);
    CHECK(close_to(out, 2.5, 1e-11));
    /* row 0: d(1 - cos)/dx1 = -x2 / (|x1| |x2|) = (0, -1); row 2 (label 0): no gradient */
    CHECK(close_to(g1[0], 0.0, 0) && close_to(g1[1], -1.0, 1e-11));
    CHECK(g1[4] == 0.0 && g1[5] == 0.0 && g2[4] == 0.0 && g2[5] == 0.0);
}

static void test_multi_margin(void)
{
    const double x[8] = {0.1, 0.2, 0.4, 0.8, 1.0, 0.0, 0.0, 0.0}, w[4] = {1, 1, 1, 2};
    const int64_t t[2] = {3, 0};
    double none[2], out, g[8];
    /* row 0: (0.3 + 0.4 + 0.6) w[3] / 4 = 0.65; row 1: z = 0 is no term */
    CHECK(closs_multi_margin_loss_f64(2, 4, x, t, w, 1, 1.0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(close_to(none[0], 0.65, 1e-15) && none[1] == 0.0);
    CHECK(closs_multi_margin_loss_f64(2, 4, x, t, NULL, 2, 1.0, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, (0.09 + 0.16 + 0.36) / 4 / 2, 1e-14));
    CHECK(closs_multi_margin_loss_backward_f64(2, 4, x, t, w, 1, 1.0, CLOSS_REDUCTION_SUM, NULL, g) == CLOSS_OK);
    const double want[8] = {0.5, 0.5, 0.5, -1.5, 0, 0, 0, 0};
    CHECK(all_close(g, want, 8, 1e-15));
}

static void test_multilabel_margin(void)
{
    /* targets 2, 2 then -1 (the 0 after it does not count): 2 x 0.5 / 4 */
    const double x[4] = {0.5, 0.0, 1.0, -0.5};
    const int64_t t[4] = {2, 2, -1, 0};
    double out, g[4];
    CHECK(closs_multilabel_margin_loss_fused_f64(1, 4, x, t, CLOSS_REDUCTION_SUM, &out, g) == CLOSS_OK);
    CHECK(close_to(out, 0.25, 1e-15));
    const double want[4] = {0.5, 0.0, -0.5, 0.0};
    CHECK(all_close(g, want, 4, 1e-15));
    const int64_t none_listed[4] = {-1, 3, 3, 3};
    CHECK(closs_multilabel_margin_loss_f64(1, 4, x, none_listed, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(out == 0.0);
}

static void test_triplet(void)
{
    const double a[4] = {0, 0, 0, 0}, n[4] = {1, 1, 1, 1}, n3[4] = {3, 3, 3, 3};
    double out, ga[4], gp[4], gn[4];
    /* |a - p + eps| = 2 eps, |a - n + eps| = 2 (1 - eps) */
    CHECK(closs_triplet_margin_loss_fused_f64(1, 4, a, a, n, 3.0, 2.0, 0.01, 0, CLOSS_REDUCTION_SUM, &out, ga, gp, gn) == CLOSS_OK);
    CHECK(close_to(out, 3.0 + 0.02 - 1.98, 1e-14));
    CHECK(close_to(ga[0], 1.0, 1e-14) && close_to(gp[1], -0.5, 1e-14) && close_to(gn[2], -0.5, 1e-14));
    /* swap: d(p, n) ties with d(a, n): the gradient splits in halves */
    CHECK(closs_triplet_margin_loss_fused_f64(1, 4, a, a, n, 3.0, 2.0, 0.01, 1, CLOSS_REDUCTION_SUM, &out, ga, gp, gn) == CLOSS_OK);
    CHECK(close_to(out, 1.04, 1e-14));
    CHECK(close_to(ga[0], 0.75, 1e-14) && close_to(gp[0], -0.25, 1e-14) && close_to(gn[0], -0.5, 1e-14));
    /* p = inf: the largest |v|; p = 1: the sum of |v| */
    CHECK(closs_triplet_margin_loss_f64(1, 4, a, a, n3, 4.0, INFINITY, 0.01, 0, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, 4.0 + 0.01 - 2.99, 1e-14));
    CHECK(closs_triplet_margin_loss_f64(1, 4, a, a, n3, 20.0, 1.0, 0.0, 0, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, 8.0, 1e-15));
    /* no features: every distance is 0, the loss is the margin */
    double none[2];
    CHECK(closs_triplet_margin_loss_f64(2, 0, NULL, NULL, NULL, 1.5, 2.0, 1e-6, 0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(none[0] == 1.5 && none[1] == 1.5);
}

static void test_status(void)
{
    const double x[8] = {0}, y[2] = {1, 1}, w[4] = {1, 1, 1, 1};
    double out = -7.0, g[8], g2[8];
    const int64_t high[2] = {0, 4}, negative[2] = {-1, 0};
    const closs_reduction sum = CLOSS_REDUCTION_SUM;
    CHECK(closs_cosine_embedding_loss_f64(-1, 4, x, x, y, 0, sum, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_cosine_embedding_loss_f64(2, -4, x, x, y, 0, sum, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_cosine_embedding_loss_f64(2, 4, x, x, y, 0, (closs_reduction)7, &out) == CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_cosine_embedding_loss_f64(2, 4, x, x, y, 0, CLOSS_REDUCTION_BATCHMEAN, &out) == CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_cosine_embedding_loss_f64(2, 4, x, NULL, y, 0, sum, &out) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_cosine_embedding_loss_f64(2, 4, x, x, NULL, 0, sum, &out) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_cosine_embedding_loss_f64(2, 4, x, x, y, 0, sum, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_cosine_embedding_loss_fused_f64(2, 4, x, x, y, 0, sum, &out, g, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_margin_ranking_loss_backward_f64(2, x, x, y, 0, sum, NULL, NULL, g) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_triplet_margin_loss_backward_f64(2, 4, x, x, x, 1, 2, 0, 0, sum, NULL, g, g2, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_multi_margin_loss_f64(2, 4, x, NULL, w, 1, 1, sum, &out) == CLOSS_ERR_NULL_POINTER);
    /* parameters outside their domain */
    CHECK(closs_multi_margin_loss_f64(2, 4, x, high, w, 3, 1, sum, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_triplet_margin_loss_f64(2, 4, x, x, x, 0.0, 2, 0, 0, sum, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_triplet_margin_loss_f64(2, 4, x, x, x, 1.0, 0.0, 0, 0, sum, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_triplet_margin_loss_f64(2, 4, x, x, x, 1.0, NAN, 0, 0, sum, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    /* class indices: found before anything is written */
    CHECK(closs_multi_margin_loss_f64(2, 4, x, high, w, 1, 1, sum, &out) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_multi_margin_loss_f64(2, 4, x, negative, NULL, 1, 1, sum, &out) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(out == -7.0);
    g[0] = -7.0;
    CHECK(closs_multi_margin_loss_backward_f64(2, 4, x, high, NULL, 1, 1, sum, NULL, g) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(g[0] == -7.0);
    const int64_t below[4] = {1, -2, 0, 0}, above[4] = {1, 4, 0, 0}, after_end[4] = {1, -1, 9, 0};
    CHECK(closs_multilabel_margin_loss_f64(1, 4, x, below, sum, &out) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_multilabel_margin_loss_f64(1, 4, x, above, sum, &out) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_multilabel_margin_loss_fused_f64(1, 4, x, after_end, sum, &out, g) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(out == -7.0 && g[0] == -7.0);
    /* class losses need a class; n == 0 takes NULL arrays: mean NaN, sum 0 */
    CHECK(closs_multi_margin_loss_f64(2, 0, x, high, NULL, 1, 1, sum, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_multilabel_margin_loss_f64(0, 4, NULL, NULL, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(isnan(out));
    CHECK(closs_triplet_margin_loss_f64(0, 4, NULL, NULL, NULL, 1, 2, 0, 0, sum, &out) == CLOSS_OK && out == 0.0);
    CHECK(closs_triplet_margin_loss_backward_f64(0, 4, NULL, NULL, NULL, 1, 2, 0, 0, sum, NULL, NULL, NULL, NULL) == CLOSS_OK);
    CHECK(closs_cosine_embedding_loss_f64(0, 4, NULL, NULL, NULL, 0, CLOSS_REDUCTION_NONE, NULL) == CLOSS_OK);
}

/* Fused = forward + backward, for every loss and reduction, over many blocks. */
static void test_fused_agrees(void)
{
    enum { N = 3001, D = 37 };
    double *x[3], *v1 = malloc(N * sizeof(double)), *v2 = malloc(N * sizeof(double));
    double *g[3][2], *y = malloc(N * sizeof(double)), *w = malloc(D * sizeof(double));
    int64_t *t = malloc(N * sizeof(int64_t)), *tl = malloc((size_t)N * D * sizeof(int64_t));
    unsigned s = 12345;
    for (int k = 0; k < 3; ++k) {
        x[k] = malloc((size_t)N * D * sizeof(double));
        for (int j = 0; j < 2; ++j) g[k][j] = malloc((size_t)N * D * sizeof(double));
        for (int i = 0; i < N * D; ++i) {
            s = s * 1103515245u + 12345u;
            x[k][i] = (double)(s >> 8) / (1 << 24) * 4 - 2;
        }
    }
    for (int i = 0; i < N; ++i) {
        y[i] = i % 3 ? 1.0 : -1.0;
        t[i] = (i * 7) % D;
        for (int j = 0; j < D; ++j) tl[(int64_t)i * D + j] = j < i % 5 ? (i + 3 * j) % D : -1;
    }
    for (int j = 0; j < D; ++j) w[j] = 0.5 + j * 0.1;
    for (int r = 0; r <= 2; ++r) {
        const closs_reduction red = (closs_reduction)r;
        const int m = r == 0 ? N : 1;
/* NX gradients of NG elements each */
#define AGREE(NX, NG, FORWARD, BACKWARD, FUSED)                                      \
    do {                                                                             \
        CHECK(FORWARD == CLOSS_OK && BACKWARD == CLOSS_OK && FUSED == CLOSS_OK);     \
        CHECK(all_close(v1, v2, m, 1e-14));                                          \
        for (int k = 0; k < NX; ++k) CHECK(all_close(g[k][0], g[k][1], NG, 1e-14));   \
    } while (0)
        AGREE(2, N, closs_margin_ranking_loss_f64(N, x[0], x[1], x[2], 0.1, red, v1),
              closs_margin_ranking_loss_backward_f64(N, x[0], x[1], x[2], 0.1, red, NULL, g[0][0], g[1][0]),
              closs_margin_ranking_loss_fused_f64(N, x[0], x[1], x[2], 0.1, red, v2, g[0][1], g[1][1]));
        AGREE(2, N * D, closs_cosine_embedding_loss_f64(N, D, x[0], x[1], y, 0.1, red, v1),
              closs_cosine_embedding_loss_backward_f64(N, D, x[0], x[1], y, 0.1, red, NULL, g[0][0], g[1][0]),
              closs_cosine_embedding_loss_fused_f64(N, D, x[0], x[1], y, 0.1, red, v2, g[0][1], g[1][1]));
        AGREE(1, N * D, closs_multi_margin_loss_f64(N, D, x[0], t, w, 2, 0.7, red, v1),
              closs_multi_margin_loss_backward_f64(N, D, x[0], t, w, 2, 0.7, red, NULL, g[0][0]),
              closs_multi_margin_loss_fused_f64(N, D, x[0], t, w, 2, 0.7, red, v2, g[0][1]));
        AGREE(1, N * D, closs_multilabel_margin_loss_f64(N, D, x[0], tl, red, v1),
              closs_multilabel_margin_loss_backward_f64(N, D, x[0], tl, red, NULL, g[0][0]),
              closs_multilabel_margin_loss_fused_f64(N, D, x[0], tl, red, v2, g[0][1]));
        AGREE(3, N * D, closs_triplet_margin_loss_f64(N, D, x[0], x[1], x[2], 1.0, 3.0, 1e-6, 1, red, v1),
              closs_triplet_margin_loss_backward_f64(N, D, x[0], x[1], x[2], 1.0, 3.0, 1e-6, 1, red, NULL, g[0][0], g[1][0], g[2][0]),
              closs_triplet_margin_loss_fused_f64(N, D, x[0], x[1], x[2], 1.0, 3.0, 1e-6, 1, red, v2, g[0][1], g[1][1], g[2][1]));
#undef AGREE
    }
    for (int k = 0; k < 3; ++k) free(x[k]), free(g[k][0]), free(g[k][1]);
    free(v1), free(v2), free(y), free(w), free(t), free(tl);
}

/* The same float sums, bit for bit, for 1, 2 and 3 threads. */
static void test_determinism(void)
{
    enum { N = 5000, D = 64 };
    float *a = malloc((size_t)N * D * sizeof(float)), *p = malloc((size_t)N * D * sizeof(float));
    float *n = malloc((size_t)N * D * sizeof(float)), *y = malloc(N * sizeof(float));
    for (int i = 0; i < N * D; ++i) {
        a[i] = (float)sin(i * 0.37), p[i] = (float)cos(i * 0.11), n[i] = (float)sin(i * 0.05);
    }
    for (int i = 0; i < N; ++i) y[i] = i % 3 ? 1.0f : -1.0f;
    float out[3], cos_out[3];
    for (int t = 1; t <= 3; ++t) {
        CHECK(closs_set_num_threads(t) == CLOSS_OK);
        CHECK(closs_triplet_margin_loss_f32(N, D, a, p, n, 1.0, 2.0, 1e-6, 1, CLOSS_REDUCTION_SUM, &out[t - 1]) == CLOSS_OK);
        CHECK(closs_cosine_embedding_loss_f32(N, D, a, p, y, 0.0, CLOSS_REDUCTION_MEAN, &cos_out[t - 1]) == CLOSS_OK);
    }
    CHECK(memcmp(&out[0], &out[1], sizeof(float)) == 0 && memcmp(&out[0], &out[2], sizeof(float)) == 0);
    CHECK(memcmp(&cos_out[0], &cos_out[1], sizeof(float)) == 0 && memcmp(&cos_out[0], &cos_out[2], sizeof(float)) == 0);
    free(a), free(p), free(n), free(y);
}

int main(void)
{
    printf("%s\n", closs_build_info());
    test_margin_ranking();
    test_cosine_embedding();
    test_multi_margin();
    test_multilabel_margin();
    test_triplet();
    test_status();
    test_fused_agrees();
    test_determinism();
    return check_summary();
}
