/*
 * C unit tests of nll_loss and cross_entropy: hand-computed values, status
 * codes, entry points agreeing with each other, thread-count determinism, and
 * the accuracy of the vectorisable exp of closs_internal.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "closs.h"
#include "closs_internal.h" /* closs_exp, closs_log */

static int all_close(const double *a, const double *b, int n, double rtol, double atol)
{
    for (int i = 0; i < n; ++i)
        if (!(fabs(a[i] - b[i]) <= atol + rtol * fabs(b[i]))) return 0;
    return 1;
}

#define LN3 1.0986122886681098
#define LN4 1.3862943611198906
#define LN43 (LN4 - LN3) /* ln(4/3) */

/* Two rows of two classes whose softmax is (1/4, 3/4) and (3/4, 1/4). */
static const double X[4] = {0.0, LN3, LN3, 0.0};

static void test_cross_entropy_values(void)
{
    double out, none[2], g[4];
    const int64_t t11[2] = {1, 1}, t10[2] = {1, 0}, tign[2] = {-100, 1};
    /* -log(3/4) + -log(1/4) */
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, t11, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, LN43 + LN4, 1e-15));
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, t11, NULL, -100, 0.0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(close_to(none[0], LN43, 1e-15) && close_to(none[1], LN4, 1e-15));
    /* gradient softmax - onehot, over n = 2 for the mean */
    CHECK(closs_cross_entropy_backward_f64(2, 2, 1, X, t11, NULL, -100, 0.0, CLOSS_REDUCTION_MEAN, NULL, g) == CLOSS_OK);
    const double g_mean[4] = {0.125, -0.125, 0.375, -0.375};
    CHECK(all_close(g, g_mean, 4, 1e-15, 1e-16));
    /* weight (1, 3), targets (1, 0): 3 log(4/3) + 1 log(4/3), mean over 3 + 1 */
    const double w[2] = {1.0, 3.0};
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, t10, w, -100, 0.0, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, LN43, 1e-15));
    /* ignore_index: the first row counts nothing, the mean is over one row */
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, tign, NULL, -100, 0.0, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, LN4, 1e-15));
    CHECK(closs_cross_entropy_fused_f64(2, 2, 1, X, tign, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &out, g) == CLOSS_OK);
    CHECK(g[0] == 0.0 && g[1] == 0.0 && close_to(g[2], 0.75, 1e-15) && close_to(g[3], -0.75, 1e-15));
    /* label smoothing 0.5 with target 1 on row 0: u = (1/4, 3/4) = softmax, gradient 0 */
    CHECK(closs_cross_entropy_fused_f64(1, 2, 1, X, t11, NULL, -100, 0.5, CLOSS_REDUCTION_SUM, &out, g) == CLOSS_OK);
    CHECK(close_to(out, 0.25 * LN4 + 0.75 * LN43, 1e-15));
    CHECK(fabs(g[0]) < 1e-16 && fabs(g[1]) < 1e-16);
    /* the same as probabilities (1/4, 3/4) */
    const double p[2] = {0.25, 0.75};
    CHECK(closs_cross_entropy_prob_fused_f64(1, 2, 1, X, p, NULL, 0.0, CLOSS_REDUCTION_MEAN, &out, g) == CLOSS_OK);
    CHECK(close_to(out, 0.25 * LN4 + 0.75 * LN43, 1e-15));
    CHECK(fabs(g[0]) < 1e-16 && fabs(g[1]) < 1e-16);
    /* probabilities with label smoothing 1: the uniform target (1/2, 1/2) */
    CHECK(closs_cross_entropy_prob_f64(1, 2, 1, X, p, NULL, 1.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, 0.5 * LN4 + 0.5 * LN43, 1e-15));
    /* K-dim: n = 1, c = 2, s = 2; position k reads X[k], X[2 + k] */
    CHECK(closs_cross_entropy_f64(1, 2, 2, X, t10, NULL, -100, 0.0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(close_to(none[0], LN43, 1e-15) && close_to(none[1], LN43, 1e-15));
    CHECK(closs_cross_entropy_backward_f64(1, 2, 2, X, t10, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, NULL, g) == CLOSS_OK);
    const double g_kdim[4] = {0.25, -0.25, -0.25, 0.25};
    CHECK(all_close(g, g_kdim, 4, 1e-15, 1e-16));

    float xf[4], outf, gf[4];
    for (int i = 0; i < 4; ++i) xf[i] = (float)X[i];
    CHECK(closs_cross_entropy_fused_f32(2, 2, 1, xf, t11, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &outf, gf) == CLOSS_OK);
    CHECK(close_to(outf, LN43 + LN4, 1e-6) && close_to(gf[3], -0.75, 1e-6));
}

static void test_nll_values(void)
{
    const double x[4] = {-1.0, -2.0, -3.0, -4.0}, w[2] = {2.0, 0.5};
    const int64_t t[2] = {0, 1};
    double out, none[2], g[4], go[2] = {10.0, 100.0};
    /* 2 * 1 + 0.5 * 4 = 4; weighted mean over 2.5 */
    CHECK(closs_nll_loss_f64(2, 2, 1, x, t, w, -100, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK && out == 4.0);
    CHECK(closs_nll_loss_f64(2, 2, 1, x, t, w, -100, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    CHECK(close_to(out, 1.6, 1e-15));
    CHECK(closs_nll_loss_f64(2, 2, 1, x, t, NULL, -100, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(none[0] == 1.0 && none[1] == 4.0);
    CHECK(closs_nll_loss_backward_f64(2, 2, 1, x, t, w, -100, CLOSS_REDUCTION_NONE, go, g) == CLOSS_OK);
    CHECK(g[0] == -20.0 && g[1] == 0.0 && g[2] == 0.0 && g[3] == -50.0);
    /* K-dim (1, 2, 2): position 0 picks x[0], position 1 picks x[2 + 1] */
    CHECK(closs_nll_loss_fused_f64(1, 2, 2, x, t, NULL, -100, CLOSS_REDUCTION_SUM, &out, g) == CLOSS_OK);
    CHECK(out == 5.0 && g[0] == -1.0 && g[1] == 0.0 && g[2] == 0.0 && g[3] == -1.0);
    /* ignore_index inside [0, c) ignores that class */
    CHECK(closs_nll_loss_f64(2, 2, 1, x, t, NULL, 1, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK && out == 1.0);
    /* every target ignored: the mean is 0 / 0 */
    const int64_t tall[2] = {-100, -100};
    CHECK(closs_nll_loss_f64(2, 2, 1, x, tall, NULL, -100, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK && isnan(out));
    CHECK(closs_nll_loss_fused_f64(2, 2, 1, x, tall, NULL, -100, CLOSS_REDUCTION_MEAN, &out, g) == CLOSS_OK);
    CHECK(isnan(out) && g[0] == 0.0 && g[3] == 0.0);
}

static void test_status(void)
{
    double out, g[4], none[2];
    const int64_t bad_hi[2] = {0, 2}, bad_neg[2] = {-1, 0}, ok[2] = {0, 1};
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, bad_hi, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, bad_neg, NULL, -100, 0.0, CLOSS_REDUCTION_NONE, none) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_cross_entropy_fused_f64(2, 2, 1, X, bad_hi, NULL, -100, 0.1, CLOSS_REDUCTION_MEAN, &out, g) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_cross_entropy_backward_f64(1, 2, 2, X, bad_hi, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, NULL, g) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_nll_loss_backward_f64(2, 2, 1, X, bad_neg, NULL, -100, CLOSS_REDUCTION_MEAN, NULL, g) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_nll_loss_f64(2, 2, 1, X, bad_neg, NULL, -1, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK); /* ignored */
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, ok, NULL, -100, -0.1, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, ok, NULL, -100, 1.5, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_cross_entropy_prob_f64(2, 2, 1, X, X, NULL, NAN, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_cross_entropy_f64(-1, 2, 1, X, ok, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_nll_loss_f64(2, 2, -1, X, ok, NULL, -100, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_nll_loss_f64((int64_t)1 << 40, (int64_t)1 << 40, 1, X, ok, NULL, -100, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, ok, NULL, -100, 0.0, (closs_reduction)9, &out) == CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, ok, NULL, -100, 0.0, CLOSS_REDUCTION_BATCHMEAN, &out) == CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_cross_entropy_f64(2, 2, 1, NULL, ok, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, NULL, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_cross_entropy_prob_f64(2, 2, 1, X, NULL, NULL, 0.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_cross_entropy_f64(2, 2, 1, X, ok, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_cross_entropy_fused_f64(2, 2, 1, X, ok, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &out, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_nll_loss_backward_f64(2, 2, 1, X, ok, NULL, -100, CLOSS_REDUCTION_SUM, NULL, NULL) == CLOSS_ERR_NULL_POINTER);
    /* empty: NULL arrays are fine; the mean is NaN as in torch */
    CHECK(closs_cross_entropy_f64(0, 5, 1, NULL, NULL, NULL, -100, 0.0, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK && isnan(out));
    CHECK(closs_cross_entropy_prob_f64(0, 5, 3, NULL, NULL, NULL, 0.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK && out == 0.0);
    CHECK(closs_nll_loss_fused_f64(3, 4, 0, NULL, NULL, NULL, -100, CLOSS_REDUCTION_NONE, NULL, NULL) == CLOSS_OK);
    /* no classes: every index is out of range unless ignored; probabilities give 0, mean NaN */
    CHECK(closs_cross_entropy_f64(2, 0, 1, NULL, ok, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    const int64_t ign[2] = {-100, -100};
    CHECK(closs_cross_entropy_f64(2, 0, 1, NULL, ign, NULL, -100, 0.0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(none[0] == 0.0 && none[1] == 0.0);
    CHECK(closs_cross_entropy_prob_f64(2, 0, 1, NULL, NULL, NULL, 0.0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(none[0] == 0.0 && none[1] == 0.0);
    CHECK(closs_cross_entropy_prob_f64(2, 0, 1, NULL, NULL, NULL, 0.0, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK && isnan(out));
}

/* NaN and inf as torch propagates them: a row with -inf logits is fine, a NaN
 * row is NaN, an all -inf row is NaN. */
static void test_non_finite(void)
{
    double out[3], g[9];
    const double x[9] = {-INFINITY, 0.0, LN3, NAN, 0.0, 1.0, -INFINITY, -INFINITY, -INFINITY};
    const int64_t t[3] = {2, 1, 0};
    CHECK(closs_cross_entropy_fused_f64(3, 3, 1, x, t, NULL, -100, 0.0, CLOSS_REDUCTION_NONE, out, g) == CLOSS_OK);
    CHECK(close_to(out[0], LN43, 1e-15) && isnan(out[1]) && isnan(out[2]));
    CHECK(g[0] == 0.0 && close_to(g[1], 0.25, 1e-15) && close_to(g[2], -0.25, 1e-15));
    CHECK(isnan(g[3]) && isnan(g[4]) && isnan(g[8]));
    /* ignored: value 0; the gradient 0 * NaN stays NaN, as torch's */
    const int64_t ti[3] = {2, -100, -100};
    CHECK(closs_cross_entropy_f64(3, 3, 1, x, ti, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, out) == CLOSS_OK);
    CHECK(close_to(out[0], LN43, 1e-15));
}

/* A deterministic pseudo-random array in [-2, 2). */
static void fill(double *a, int64_t n, unsigned seed)
{
    unsigned s = seed;
    for (int64_t i = 0; i < n; ++i) {
        s = s * 1103515245u + 12345u;
        a[i] = (double)(s >> 8) / (1 << 24) * 4 - 2;
    }
}

/* Fused = forward + backward for every kind, layout and option, on sizes that
 * take several blocks, chunks and tiles. */
static void test_fused_agrees(void)
{
    enum { N = 301, C = 150, S = 19, E = N * C * S };
    double *x = malloc(E * sizeof *x), *tp = malloc(E * sizeof *tp), *w = malloc(C * sizeof *w);
    double *v1 = malloc(N * S * sizeof *v1), *v2 = malloc(N * S * sizeof *v2);
    double *g1 = malloc(E * sizeof *g1), *g2 = malloc(E * sizeof *g2);
    int64_t *t = malloc(N * S * sizeof *t);
    fill(x, E, 1);
    fill(tp, E, 2);
    for (int64_t i = 0; i < E; ++i) tp[i] = fabs(tp[i]);
    for (int j = 0; j < C; ++j) w[j] = 0.5 + (j % 7) * 0.25;
    for (int64_t i = 0; i < N * S; ++i) t[i] = i % 11 == 0 ? -100 : (i * 7) % C;
    const int64_t layouts[2][2] = {{N * S, 1}, {N, S}}; /* (n, s) */
    for (int l = 0; l < 2; ++l)
        for (int r = 0; r <= 2; ++r)
            for (int hw = 0; hw <= 1; ++hw)
                for (int ls = 0; ls <= 1; ++ls) {
                    const int64_t n = layouts[l][0], s = layouts[l][1];
                    const double *wp = hw ? w : NULL, eps = ls ? 0.15 : 0.0;
                    const closs_reduction red = (closs_reduction)r;
                    const int m = r == 0 ? N * S : 1;
#define AGREE(CALL_F, CALL_B, CALL_FUSED)                                              \
    do {                                                                               \
        CHECK(CALL_F == CLOSS_OK);                                                     \
        CHECK(CALL_B == CLOSS_OK);                                                     \
        CHECK(CALL_FUSED == CLOSS_OK);                                                 \
        CHECK(memcmp(v1, v2, m * sizeof *v1) == 0);                                    \
        CHECK(all_close(g1, g2, E, 1e-14, 1e-14)); /* gradients are O(1) */            \
    } while (0)
                    AGREE(closs_cross_entropy_f64(n, C, s, x, t, wp, -100, eps, red, v1),
                          closs_cross_entropy_backward_f64(n, C, s, x, t, wp, -100, eps, red, NULL, g1),
                          closs_cross_entropy_fused_f64(n, C, s, x, t, wp, -100, eps, red, v2, g2));
                    AGREE(closs_cross_entropy_prob_f64(n, C, s, x, tp, wp, eps, red, v1),
                          closs_cross_entropy_prob_backward_f64(n, C, s, x, tp, wp, eps, red, NULL, g1),
                          closs_cross_entropy_prob_fused_f64(n, C, s, x, tp, wp, eps, red, v2, g2));
                    AGREE(closs_nll_loss_f64(n, C, s, x, t, wp, -100, red, v1),
                          closs_nll_loss_backward_f64(n, C, s, x, t, wp, -100, red, NULL, g1),
                          closs_nll_loss_fused_f64(n, C, s, x, t, wp, -100, red, v2, g2));
#undef AGREE
                }
    free(x), free(tp), free(w), free(v1), free(v2), free(g1), free(g2), free(t);
}

/* The same value, bit for bit, and the same gradient for 1, 2 and 3 threads. */
static void test_determinism(void)
{
    enum { N = 4001, C = 97, E = N * C };
    float *x = malloc(E * sizeof *x), *g[3];
    int64_t *t = malloc(N * sizeof *t);
    unsigned s = 7;
    for (int i = 0; i < E; ++i) {
        s = s * 1103515245u + 12345u;
        x[i] = (float)((double)(s >> 8) / (1 << 24) * 8 - 4);
    }
    for (int i = 0; i < N; ++i) t[i] = (i * 13) % C;
    float out[3], sum_kdim[3];
    for (int k = 0; k < 3; ++k) {
        g[k] = malloc(E * sizeof *g[k]);
        CHECK(closs_set_num_threads(k + 1) == CLOSS_OK);
        CHECK(closs_cross_entropy_fused_f32(N, C, 1, x, t, NULL, -100, 0.1, CLOSS_REDUCTION_MEAN, &out[k], g[k]) == CLOSS_OK);
        CHECK(closs_cross_entropy_f32(1, C, N, x, t, NULL, -100, 0.0, CLOSS_REDUCTION_SUM, &sum_kdim[k]) == CLOSS_OK);
    }
    for (int k = 1; k < 3; ++k) {
        CHECK(memcmp(&out[0], &out[k], sizeof(float)) == 0);
        CHECK(memcmp(&sum_kdim[0], &sum_kdim[k], sizeof(float)) == 0);
        CHECK(memcmp(g[0], g[k], E * sizeof(float)) == 0);
    }
    for (int k = 0; k < 3; ++k) free(g[k]);
    free(x), free(t);
}

/* closs_exp_f32 within 1 ulp of exp (in double) on a dense sample of [-87, 0];
 * closs_exp_f64 within 2 ulp of expl on [-708, 709]; the ends of the domain. */
static void test_exp(void)
{
    double worst32 = 0.0, worst64 = 0.0;
    for (float x = 0.0f; x >= -87.0f; x = nextafterf(x, -INFINITY)) {
        for (int k = 0; k < 251 && x >= -87.0f; ++k) x = nextafterf(x, -INFINITY);
        const double exact = exp((double)x);
        int e;
        frexp(exact, &e);
        const double err = fabs((double)closs_exp_f32(x) - exact) / ldexp(1.0, e - 24);
        if (err > worst32) worst32 = err;
    }
    for (int i = 0; i <= 2000000; ++i) {
        const double x = -708.0 + 1417.0 * i / 2000000.0;
        const long double exact = expl((long double)x);
        int e;
        frexp((double)exact, &e);
        const double err = (double)fabsl((long double)closs_exp_f64(x) - exact) / ldexp(1.0, e - 53);
        if (err > worst64) worst64 = err;
    }
    printf("exp: worst %.3f ulp (float), %.3f ulp (double)\n", worst32, worst64);
    CHECK(worst32 <= 1.0);
    CHECK(worst64 <= 2.0);
    CHECK(closs_exp_f32(-INFINITY) == 0.0f && closs_exp_f64(-INFINITY) == 0.0);
    CHECK(isnan(closs_exp_f32(NAN)) && isnan(closs_exp_f64(NAN)));
    CHECK(closs_exp_f32(0.0f) == 1.0f && closs_exp_f64(0.0) == 1.0);
    CHECK(closs_exp_f32(-200.0f) == 0.0f && closs_exp_f64(-1000.0) == 0.0);
    CHECK(isfinite(closs_exp_f32(88.0f)) && isfinite(closs_exp_f64(709.0)));
}

int main(void)
{
    printf("%s\n", closs_build_info());
    test_cross_entropy_values();
    test_nll_values();
    test_status();
    test_non_finite();
    test_fused_agrees();
    test_determinism();
    test_exp();
    return check_summary();
}
