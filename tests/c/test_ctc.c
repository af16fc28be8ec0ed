/*
 * C unit tests of ctc_loss: a hand-computed two-frame case (value and
 * gradient), padded and concatenated targets, zero_infinity, status codes,
 * fused agreeing with forward + backward, thread-count determinism; and the
 * accuracy of closs_internal.h's closs_log and closs_exp_full that its recursions use.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "closs.h"
#include "closs_internal.h" /* closs_exp, closs_log */

/* t = 2 frames, n = 2 samples, c = 2 classes (blank 0, label 1), target "1".
 * Probabilities p0 = (0.4, 0.6), p1 = (0.7, 0.3) for both samples.
 * Sample 0 (input length 2): the alignments 11, 01, 10 give
 *   p = 0.18 + 0.12 + 0.42 = 0.72.
 * torch's gradient at (t, k) is p_t(k) - P(alignments with k at t) / p:
 *   t = 0: 0.4 - 0.12 / 0.72, 0.6 - 0.60 / 0.72
 *   t = 1: 0.7 - 0.42 / 0.72, 0.3 - 0.30 / 0.72
 * Sample 1 (input length 1): p = 0.6; gradient (0.4, 0.6 - 1) at t = 0, 0 at t = 1. */
static double lp[8];
static const int64_t il[2] = {2, 1}, tl[2] = {1, 1};
static const int64_t padded[2] = {1, 1}, concat[2] = {1, 1};

static void fill_lp(void)
{
    const double p[2][2] = {{0.4, 0.6}, {0.7, 0.3}};
    for (int t = 0; t < 2; ++t)
        for (int b = 0; b < 2; ++b)
            for (int k = 0; k < 2; ++k) lp[(t * 2 + b) * 2 + k] = log(p[t][k]);
}

static void test_hand_computed(void)
{
    double none[2], out, g[8];
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, padded, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(close_to(none[0], -log(0.72), 1e-14) && close_to(none[1], -log(0.6), 1e-14));
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, concat, 2, 1, il, tl, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK);
    CHECK(close_to(out, -log(0.72) - log(0.6), 1e-14));
    CHECK(closs_ctc_loss_backward_f64(2, 2, 2, lp, padded, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_SUM, NULL, g) == CLOSS_OK);
    const double want[8] = {0.4 - 0.12 / 0.72, 0.6 - 0.60 / 0.72, 0.4, 0.6 - 1.0,
                            0.7 - 0.42 / 0.72, 0.3 - 0.30 / 0.72, 0.0, 0.0};
    for (int i = 0; i < 8; ++i) CHECK(fabs(g[i] - want[i]) < 1e-14);
    /* MEAN: each over its target length (1), then over the batch (2) */
    CHECK(closs_ctc_loss_fused_f64(2, 2, 2, lp, padded, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_MEAN, &out, g) == CLOSS_OK);
    CHECK(close_to(out, (-log(0.72) - log(0.6)) / 2, 1e-14));
    for (int i = 0; i < 8; ++i) CHECK(fabs(g[i] - want[i] / 2) < 1e-14);
    /* float: the same to float rounding */
    float flp[8], fg[8], fout;
    for (int i = 0; i < 8; ++i) flp[i] = (float)lp[i];
    CHECK(closs_ctc_loss_fused_f32(2, 2, 2, flp, padded, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_SUM, &fout, fg) == CLOSS_OK);
    CHECK(close_to(fout, -log(0.72) - log(0.6), 1e-6));
    for (int i = 0; i < 8; ++i) CHECK(fabs(fg[i] - want[i]) < 1e-6);
}

static void test_impossible(void)
{
    /* target "1 1" needs 3 frames (1, blank, 1): with 2, inf; zero_infinity gives 0
     * and a zero gradient */
    const int64_t t2[4] = {1, 1, 1, 1}, il2[2] = {2, 2}, tl2[2] = {2, 0};
    double none[2], g[8];
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, t2, 2, 0, il2, tl2, 0, 0, CLOSS_REDUCTION_NONE, none) == CLOSS_OK);
    CHECK(isinf(none[0]) && none[0] > 0);
    CHECK(close_to(none[1], -log(0.4 * 0.7), 1e-14)); /* empty target: all blanks */
    CHECK(closs_ctc_loss_fused_f64(2, 2, 2, lp, t2, 2, 0, il2, tl2, 0, 1, CLOSS_REDUCTION_NONE, none, g) == CLOSS_OK);
    CHECK(none[0] == 0.0);
    CHECK(g[0] == 0.0 && g[1] == 0.0 && g[4] == 0.0 && g[5] == 0.0);
    /* the empty target's gradient: p - [k == blank] */
    CHECK(fabs(g[2] - (0.4 - 1)) < 1e-14 && fabs(g[3] - 0.6) < 1e-14);
    /* empty inputs: 0 for an empty target, inf for another; no gradient */
    const int64_t il0[2] = {0, 0}, tl0[2] = {0, 1};
    CHECK(closs_ctc_loss_fused_f64(2, 2, 2, lp, t2, 2, 0, il0, tl0, 0, 0, CLOSS_REDUCTION_NONE, none, g) == CLOSS_OK);
    CHECK(none[0] == 0.0 && isinf(none[1]));
    for (int i = 0; i < 8; ++i) CHECK(g[i] == 0.0);
    /* no frames at all (t = 0) */
    CHECK(closs_ctc_loss_fused_f64(0, 2, 2, NULL, t2, 2, 0, il0, tl0, 0, 1, CLOSS_REDUCTION_SUM, none, NULL) == CLOSS_OK);
    CHECK(none[0] == 0.0);
}

static void test_status(void)
{
    double out = 42.0, g[8];
    const int64_t bad_label[2] = {2, 1}, neg[2] = {-1, 1}, long_il[2] = {3, 1}, long_tl[2] = {2, 1};
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, bad_label, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, neg, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(out == 42.0); /* nothing written */
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, padded, 1, 0, long_il, tl, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, padded, 1, 0, neg, tl, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, padded, 1, 0, il, long_tl, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, padded, 1, 0, il, neg, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    /* concatenated: the target lengths must add up to s */
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, concat, 1, 1, il, tl, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, concat, 2, 1, il, long_tl, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, padded, 1, 0, il, tl, 2, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, padded, 1, 0, il, tl, -1, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, padded, 1, 0, il, tl, 0, 0, (closs_reduction)9, &out) == CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_ctc_loss_f64(2, 2, 2, lp, padded, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_SUM, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_ctc_loss_backward_f64(2, 2, 2, lp, padded, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_SUM, NULL, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_ctc_loss_fused_f64(2, 2, 2, NULL, padded, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_SUM, &out, g) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_ctc_loss_f64(-1, 2, 2, lp, padded, 1, 0, il, tl, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_ERR_INVALID_SIZE);
    /* an empty batch: sum 0, mean NaN (0 / 0, as torch's mean of nothing) */
    CHECK(closs_ctc_loss_f64(2, 0, 2, NULL, NULL, 0, 0, NULL, NULL, 0, 0, CLOSS_REDUCTION_SUM, &out) == CLOSS_OK && out == 0.0);
    CHECK(closs_ctc_loss_f64(2, 0, 2, NULL, NULL, 0, 0, NULL, NULL, 0, 0, CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK && isnan(out));
}

/* A random batch big enough for a team of threads. */
#define T 50
#define N 24
#define C 6
#define S 12
static void test_fused_and_threads(void)
{
    float *x = malloc(sizeof(float) * T * N * C), *g1 = malloc(sizeof(float) * T * N * C);
    float *g2 = malloc(sizeof(float) * T * N * C), *g3 = malloc(sizeof(float) * T * N * C);
    int64_t tg[N * S], ilen[N], tlen[N];
    srand(7);
    for (int i = 0; i < T * N; ++i) {
        double z[C], m = 0;
        for (int k = 0; k < C; ++k) z[k] = rand() / (double)RAND_MAX * 4, m += exp(z[k]);
        for (int k = 0; k < C; ++k) x[i * C + k] = (float)(z[k] - log(m));
    }
    for (int i = 0; i < N * S; ++i) tg[i] = 1 + rand() % (C - 1);
    for (int b = 0; b < N; ++b) ilen[b] = T - rand() % 10, tlen[b] = rand() % (S + 1);
    float out[3], out_f, none[N];
    for (int nt = 1; nt <= 3; ++nt) {
        closs_set_num_threads(nt);
        CHECK(closs_ctc_loss_f32(T, N, C, x, tg, S, 0, ilen, tlen, 0, 0, CLOSS_REDUCTION_MEAN, &out[nt - 1]) == CLOSS_OK);
        CHECK(closs_ctc_loss_backward_f32(T, N, C, x, tg, S, 0, ilen, tlen, 0, 0, CLOSS_REDUCTION_MEAN, NULL, nt == 1 ? g1 : g2) == CLOSS_OK);
        if (nt > 1) CHECK(memcmp(g1, g2, sizeof(float) * T * N * C) == 0);
    }
    CHECK(memcmp(&out[0], &out[1], sizeof(float)) == 0 && memcmp(&out[0], &out[2], sizeof(float)) == 0);
    CHECK(closs_ctc_loss_fused_f32(T, N, C, x, tg, S, 0, ilen, tlen, 0, 0, CLOSS_REDUCTION_MEAN, &out_f, g3) == CLOSS_OK);
    CHECK(memcmp(&out_f, &out[0], sizeof(float)) == 0 && memcmp(g1, g3, sizeof(float) * T * N * C) == 0);
    /* NONE with per-sample grad_output of ones equals SUM */
    float ones[N];
    for (int b = 0; b < N; ++b) ones[b] = 1.0f;
    CHECK(closs_ctc_loss_backward_f32(T, N, C, x, tg, S, 0, ilen, tlen, 0, 0, CLOSS_REDUCTION_NONE, ones, g2) == CLOSS_OK);
    CHECK(closs_ctc_loss_fused_f32(T, N, C, x, tg, S, 0, ilen, tlen, 0, 0, CLOSS_REDUCTION_NONE, none, g3) == CLOSS_OK);
    CHECK(memcmp(g2, g3, sizeof(float) * T * N * C) == 0);
    free(x), free(g1), free(g2), free(g3);
}

/* The error of got against exact in units of the last place of the exact
 * value in a p-bit format whose smallest exponent is emin (so subnormal
 * results count in units of the smallest subnormal). */
static double ulps(long double got, long double exact, int p, int emin)
{
    int e;
    frexpl(exact, &e);
    if (e < emin) e = emin;
    return (double)(fabsl(got - exact) / ldexpl(1.0L, e - p));
}

/* closs_log within 2 ulp over every binade (f32: a dense sample of all
 * positive floats, subnormals included); closs_exp_full within 1 ulp (f32) /
 * 2 ulp (f64) from underflow to overflow, subnormal results included; the
 * special values. */
static void test_log_and_exp_full(void)
{
    double log32 = 0, log64 = 0, exp32 = 0, exp64 = 0;
    for (uint32_t u = 1; u < 0x7f800000u; u += 61) {
        float x;
        memcpy(&x, &u, sizeof x);
        const double err = ulps(closs_log_f32(x), logl(x), 24, -125);
        if (err > log32) log32 = err;
    }
    for (int i = 0; i <= 2000000; ++i) {
        const double x = ldexp(1.0 + (i % 1000) / 1000.0, -1074 + (int)((long)i * 2097 / 2000000));
        if (x == 0 || isinf(x)) continue;
        const double err = ulps(closs_log_f64(x), logl(x), 53, -1021);
        if (err > log64) log64 = err;
    }
    for (float x = -103.9f; x < 88.7f; x += 0.0007f) {
        const double err = ulps(closs_exp_full_f32(x), expl(x), 24, -125);
        if (err > exp32) exp32 = err;
    }
    for (int i = 0; i <= 2000000; ++i) {
        const double x = -745.0 + 1454.7 * i / 2000000.0;
        const double err = ulps(closs_exp_full_f64(x), expl(x), 53, -1021);
        if (err > exp64) exp64 = err;
    }
    printf("log: worst %.3f ulp (float), %.3f ulp (double); exp_full: %.3f, %.3f\n", log32,
           log64, exp32, exp64);
    CHECK(log32 <= 2.0 && log64 <= 2.0 && exp32 <= 1.0 && exp64 <= 2.0);
    CHECK(closs_log_f32(1.0f) == 0.0f && closs_log_f64(1.0) == 0.0);
    CHECK(closs_log_f32(0.0f) == -INFINITY && closs_log_f64(0.0) == -INFINITY);
    CHECK(closs_log_f32(INFINITY) == INFINITY && closs_log_f64(INFINITY) == INFINITY);
    CHECK(isnan(closs_log_f32(-1.0f)) && isnan(closs_log_f64(-1.0)));
    CHECK(isnan(closs_log_f32(-INFINITY)) && isnan(closs_log_f64(-INFINITY)));
    CHECK(isnan(closs_log_f32(NAN)) && isnan(closs_log_f64(NAN)));
    CHECK(closs_exp_full_f32(0.0f) == 1.0f && closs_exp_full_f64(0.0) == 1.0);
    CHECK(closs_exp_full_f32(-INFINITY) == 0.0f && closs_exp_full_f64(-INFINITY) == 0.0);
    CHECK(closs_exp_full_f32(-200.0f) == 0.0f && closs_exp_full_f64(-1000.0) == 0.0);
    CHECK(closs_exp_full_f32(INFINITY) == INFINITY && closs_exp_full_f64(INFINITY) == INFINITY);
    CHECK(closs_exp_full_f32(89.0f) == INFINITY && closs_exp_full_f64(710.0) == INFINITY);
    CHECK(isfinite(closs_exp_full_f32(88.7f)) && isfinite(closs_exp_full_f64(709.7)));
    CHECK(closs_exp_full_f32(-103.0f) > 0.0f && closs_exp_full_f64(-744.0) > 0.0);
    CHECK(isnan(closs_exp_full_f32(NAN)) && isnan(closs_exp_full_f64(NAN)));
}

int main(void)
{
    fill_lp();
    test_log_and_exp_full();
    test_hand_computed();
    test_impossible();
    test_status();
    test_fused_and_threads();
    return check_summary();
}
