/*
 * C unit tests of linear_cross_entropy: against logits computed here by plain
 * loops and the library's cross_entropy on them (value and logit gradient,
 * then the three gradients by loops), over blocks (n above a block's rows),
 * K-dimensional logits, probabilities, bias on and off, empty batches; status
 * codes (outputs untouched by a bad class index); the gradients a caller
 * leaves out; bit-identical results for 1 and 2 threads.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "closs.h"

static double frand(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return ((*state >> 8) & 0xFFFF) / 65536.0 - 0.5;
}

typedef struct problem {
    int64_t n, in, c, s;
    int bias, prob, weighted;
    double ls;
    closs_reduction red;
    double *x, *W, *b, *tp, *w;
    int64_t *t;
} problem;

static problem make(int64_t n, int64_t in, int64_t c, int64_t s, int bias, int prob,
                    int weighted, double ls, closs_reduction red, unsigned seed)
{
    problem p = {n, in, c, s, bias, prob, weighted, ls, red, 0, 0, 0, 0, 0, 0};
    const int64_t v = c * s;
    p.x = malloc(sizeof(double) * (size_t)(n * in + 1));
    p.W = malloc(sizeof(double) * (size_t)(v * in + 1));
    p.b = malloc(sizeof(double) * (size_t)(v + 1));
    p.tp = malloc(sizeof(double) * (size_t)(n * v + 1));
    p.w = malloc(sizeof(double) * (size_t)(c + 1));
    p.t = malloc(sizeof(int64_t) * (size_t)(n * s + 1));
    for (int64_t i = 0; i < n * in; ++i) p.x[i] = 2 * frand(&seed);
    for (int64_t i = 0; i < v * in; ++i) p.W[i] = frand(&seed);
    for (int64_t i = 0; i < v; ++i) p.b[i] = frand(&seed);
    for (int64_t i = 0; i < c; ++i) p.w[i] = 0.5 + frand(&seed) + 0.5;
    for (int64_t i = 0; i < n * s; ++i) {
        const double r = frand(&seed) + 0.5;
        p.t[i] = i % 7 == 3 ? -100 : (int64_t)(r * (double)c) % c;
    }
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < s; ++k) {
            double z = 0;
            for (int64_t j = 0; j < c; ++j) z += (p.tp[(i * c + j) * s + k] = frand(&seed) + 0.5);
            for (int64_t j = 0; j < c; ++j) p.tp[(i * c + j) * s + k] /= z;
        }
    return p;
}

static void release(problem *p)
{
    free(p->x), free(p->W), free(p->b), free(p->tp), free(p->w), free(p->t);
}

/* The expected value and gradients: logits by loops, cross_entropy's fused
 * kernel on them, the three gradients by loops (all in double). */
static void expected(const problem *p, double *out, double *gx, double *gW, double *gb)
{
    const int64_t n = p->n, in = p->in, v = p->c * p->s;
    double *L = calloc((size_t)(n * v + 1), sizeof(double));
    double *G = calloc((size_t)(n * v + 1), sizeof(double));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < v; ++j) {
            double z = p->bias ? p->b[j] : 0.0;
            for (int64_t k = 0; k < in; ++k) z += p->x[i * in + k] * p->W[j * in + k];
            L[i * v + j] = z;
        }
    const double *w = p->weighted ? p->w : NULL;
    closs_status st = p->prob
        ? closs_cross_entropy_prob_fused_f64(n, p->c, p->s, L, p->tp, w, p->ls, p->red, out, G)
        : closs_cross_entropy_fused_f64(n, p->c, p->s, L, p->t, w, -100, p->ls, p->red, out, G);
    CHECK(st == CLOSS_OK);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < in; ++k) {
            double z = 0;
            for (int64_t j = 0; j < v; ++j) z += G[i * v + j] * p->W[j * in + k];
            gx[i * in + k] = z;
        }
    for (int64_t j = 0; j < v; ++j) {
        double zb = 0;
        for (int64_t i = 0; i < n; ++i) zb += G[i * v + j];
        gb[j] = zb;
        for (int64_t k = 0; k < in; ++k) {
            double z = 0;
            for (int64_t i = 0; i < n; ++i) z += G[i * v + j] * p->x[i * in + k];
            gW[j * in + k] = z;
        }
    }
    free(L), free(G);
}

static int arrays_close(const double *a, const double *b, int64_t n, double rtol, double atol)
{
    for (int64_t i = 0; i < n; ++i)
        if (!(fabs(a[i] - b[i]) <= atol + rtol * fabs(b[i])) && !(isnan(a[i]) && isnan(b[i]))) {
            printf("  element %lld: %.17g vs %.17g\n", (long long)i, a[i], b[i]);
            return 0;
        }
    return 1;
}

static float *to_f32(const double *a, int64_t n)
{
    float *r = malloc(sizeof(float) * (size_t)(n + 1));
    for (int64_t i = 0; i < n; ++i) r[i] = (float)a[i];
    return r;
}

/* Fused f64 and f32 against expected(); backward f64 with grad_output 1 (or ones). */
static void check_problem(const problem *p)
{
    const int64_t n = p->n, in = p->in, v = p->c * p->s;
    const int64_t nout = p->red == CLOSS_REDUCTION_NONE ? n * p->s : 1;
    double *eo = calloc((size_t)(nout + 1), 8), *ex = calloc((size_t)(n * in + 1), 8);
    double *eW = calloc((size_t)(v * in + 1), 8), *eb = calloc((size_t)(v + 1), 8);
    expected(p, eo, ex, eW, eb);
    double *o = calloc((size_t)(nout + 1), 8), *gx = calloc((size_t)(n * in + 1), 8);
    double *gW = malloc(8 * (size_t)(v * in + 1)), *gb = malloc(8 * (size_t)(v + 1));
    for (int64_t i = 0; i < v * in; ++i) gW[i] = 12345.0; /* overwritten, not added to */
    const double *b = p->bias ? p->b : NULL, *w = p->weighted ? p->w : NULL;
    closs_status st = p->prob
        ? closs_linear_cross_entropy_prob_fused_f64(n, in, p->c, p->s, p->x, p->W, b, p->tp, w,
                                                    p->ls, p->red, o, gx, gW, gb)
        : closs_linear_cross_entropy_fused_f64(n, in, p->c, p->s, p->x, p->W, b, p->t, w, -100,
                                               p->ls, p->red, o, gx, gW, gb);
    CHECK(st == CLOSS_OK);
    CHECK(arrays_close(o, eo, nout, 1e-12, 1e-13));
    CHECK(arrays_close(gx, ex, n * in, 1e-11, 1e-13));
    CHECK(arrays_close(gW, eW, v * in, 1e-11, 1e-13));
    CHECK(arrays_close(gb, eb, v, 1e-11, 1e-13));

    /* backward: the same gradients, and the value alone from the forward */
    double *go = malloc(8 * (size_t)(nout + 1));
    for (int64_t i = 0; i < nout; ++i) go[i] = 1.0;
    double *bx = calloc((size_t)(n * in + 1), 8), *bW = calloc((size_t)(v * in + 1), 8);
    double *bb = calloc((size_t)(v + 1), 8), *fo = calloc((size_t)(nout + 1), 8);
    st = p->prob ? closs_linear_cross_entropy_prob_backward_f64(n, in, p->c, p->s, p->x, p->W, b,
                                                                p->tp, w, p->ls, p->red, go, bx,
                                                                bW, bb)
                 : closs_linear_cross_entropy_backward_f64(n, in, p->c, p->s, p->x, p->W, b, p->t,
                                                           w, -100, p->ls, p->red, go, bx, bW, bb);
    CHECK(st == CLOSS_OK);
    CHECK(memcmp(bx, gx, 8 * (size_t)(n * in)) == 0 && memcmp(bW, gW, 8 * (size_t)(v * in)) == 0 &&
          memcmp(bb, gb, 8 * (size_t)v) == 0);
    st = p->prob ? closs_linear_cross_entropy_prob_f64(n, in, p->c, p->s, p->x, p->W, b, p->tp, w,
                                                       p->ls, p->red, fo)
                 : closs_linear_cross_entropy_f64(n, in, p->c, p->s, p->x, p->W, b, p->t, w, -100,
                                                  p->ls, p->red, fo);
    CHECK(st == CLOSS_OK);
    CHECK(memcmp(fo, o, 8 * (size_t)nout) == 0);

    /* float32 */
    float *x = to_f32(p->x, n * in), *W = to_f32(p->W, v * in), *bf = to_f32(p->b, v);
    float *tp = to_f32(p->tp, n * v), *wf = to_f32(p->w, p->c);
    float *fo32 = calloc((size_t)(nout + 1), 4), *fx = calloc((size_t)(n * in + 1), 4);
    float *fW = calloc((size_t)(v * in + 1), 4), *fb = calloc((size_t)(v + 1), 4);
    st = p->prob ? closs_linear_cross_entropy_prob_fused_f32(n, in, p->c, p->s, x, W,
                                                             p->bias ? bf : NULL, tp,
                                                             p->weighted ? wf : NULL, p->ls,
                                                             p->red, fo32, fx, fW, fb)
                 : closs_linear_cross_entropy_fused_f32(n, in, p->c, p->s, x, W,
                                                        p->bias ? bf : NULL, p->t,
                                                        p->weighted ? wf : NULL, -100, p->ls,
                                                        p->red, fo32, fx, fW, fb);
    CHECK(st == CLOSS_OK);
    double *d = malloc(8 * (size_t)(n * in + v * in + v + nout + 1));
    for (int64_t i = 0; i < nout; ++i) d[i] = fo32[i];
    CHECK(arrays_close(d, eo, nout, 1e-4, 1e-5));
    for (int64_t i = 0; i < n * in; ++i) d[i] = fx[i];
    CHECK(arrays_close(d, ex, n * in, 1e-3, 1e-5));
    for (int64_t i = 0; i < v * in; ++i) d[i] = fW[i];
    CHECK(arrays_close(d, eW, v * in, 1e-3, 1e-5));

    free(eo), free(ex), free(eW), free(eb), free(o), free(gx), free(gW), free(gb), free(go);
    free(bx), free(bW), free(bb), free(fo), free(x), free(W), free(bf), free(tp), free(wf);
    free(fo32), free(fx), free(fW), free(fb), free(d);
}

static void test_against_loops(void)
{
    const closs_reduction reds[3] = {CLOSS_REDUCTION_MEAN, CLOSS_REDUCTION_SUM, CLOSS_REDUCTION_NONE};
    unsigned seed = 1;
    for (int r = 0; r < 3; ++r)
        for (int prob = 0; prob < 2; ++prob)
            for (int variant = 0; variant < 3; ++variant) {
                /* variant 0: plain; 1: bias, weight, smoothing; 2: K-dim (s = 3), bias */
                problem p = make(9, 5, 7, variant == 2 ? 3 : 1, variant > 0, prob, variant == 1,
                                 variant == 1 ? 0.2 : 0.0, reds[r], ++seed);
                check_problem(&p);
                release(&p);
            }
    /* more rows than a block (v = 12: 4096 rows a block), and an empty batch */
    problem big = make(4100, 3, 12, 1, 1, 0, 1, 0.1, CLOSS_REDUCTION_MEAN, 99);
    check_problem(&big);
    release(&big);
    for (int prob = 0; prob < 2; ++prob) {
        problem e = make(0, 4, 5, 1, 1, prob, 0, 0.0, CLOSS_REDUCTION_MEAN, 7);
        check_problem(&e); /* MEAN of nothing is NaN; gradients zero */
        release(&e);
    }
}

/* Gradients left out are not written; the others are as in the fused call. */
static void test_optional_gradients(void)
{
    problem p = make(6, 4, 5, 1, 1, 0, 0, 0.0, CLOSS_REDUCTION_SUM, 3);
    double out, all_x[24], all_W[20], all_b[5], only_W[20], only_b[5];
    CHECK(closs_linear_cross_entropy_fused_f64(6, 4, 5, 1, p.x, p.W, p.b, p.t, NULL, -100, 0.0,
                                               CLOSS_REDUCTION_SUM, &out, all_x, all_W,
                                               all_b) == CLOSS_OK);
    CHECK(closs_linear_cross_entropy_backward_f64(6, 4, 5, 1, p.x, p.W, p.b, p.t, NULL, -100, 0.0,
                                                  CLOSS_REDUCTION_SUM, NULL, NULL, only_W,
                                                  NULL) == CLOSS_OK);
    CHECK(memcmp(only_W, all_W, sizeof only_W) == 0);
    CHECK(closs_linear_cross_entropy_backward_f64(6, 4, 5, 1, p.x, p.W, NULL, p.t, NULL, -100,
                                                  0.0, CLOSS_REDUCTION_SUM, NULL, NULL, NULL,
                                                  only_b) == CLOSS_OK);
    double tol_b = 0;
    for (int j = 0; j < 5; ++j) tol_b += fabs(only_b[j] - all_b[j]);
    CHECK(tol_b > 0); /* without the bias the logits, so the gradient, differ */
    /* grad_output scales every gradient */
    const double two = 2.0;
    CHECK(closs_linear_cross_entropy_backward_f64(6, 4, 5, 1, p.x, p.W, p.b, p.t, NULL, -100, 0.0,
                                                  CLOSS_REDUCTION_SUM, &two, NULL, only_W,
                                                  NULL) == CLOSS_OK);
    for (int i = 0; i < 20; ++i) CHECK(close_to(only_W[i], 2 * all_W[i], 1e-14));
    release(&p);
}

static void test_statuses(void)
{
    problem p = make(4, 3, 5, 1, 0, 0, 0, 0.0, CLOSS_REDUCTION_MEAN, 11);
    double out = -1.0, gx[12], gW[15];
    CHECK(closs_linear_cross_entropy_f64(4, 3, 5, 1, NULL, p.W, NULL, p.t, NULL, -100, 0.0,
                                         CLOSS_REDUCTION_MEAN, &out) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_linear_cross_entropy_f64(4, 3, 5, 1, p.x, NULL, NULL, p.t, NULL, -100, 0.0,
                                         CLOSS_REDUCTION_MEAN, &out) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_linear_cross_entropy_f64(4, 3, 5, 1, p.x, p.W, NULL, NULL, NULL, -100, 0.0,
                                         CLOSS_REDUCTION_MEAN, &out) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_linear_cross_entropy_f64(4, 3, 5, 1, p.x, p.W, NULL, p.t, NULL, -100, 0.0,
                                         CLOSS_REDUCTION_MEAN, NULL) == CLOSS_ERR_NULL_POINTER);
    CHECK(closs_linear_cross_entropy_f64(-1, 3, 5, 1, p.x, p.W, NULL, p.t, NULL, -100, 0.0,
                                         CLOSS_REDUCTION_MEAN, &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_linear_cross_entropy_f64(4, (int64_t)1 << 40, (int64_t)1 << 40, 1, p.x, p.W, NULL,
                                         p.t, NULL, -100, 0.0, CLOSS_REDUCTION_MEAN,
                                         &out) == CLOSS_ERR_INVALID_SIZE);
    CHECK(closs_linear_cross_entropy_f64(4, (int64_t)1 << 32, 1, 1, p.x, p.W, NULL, p.t, NULL,
                                         -100, 0.0, CLOSS_REDUCTION_MEAN,
                                         &out) == CLOSS_ERR_INVALID_SIZE); /* past BLAS's int */
    CHECK(closs_linear_cross_entropy_f64(4, 3, 5, 1, p.x, p.W, NULL, p.t, NULL, -100, 0.0,
                                         (closs_reduction)7, &out) == CLOSS_ERR_INVALID_REDUCTION);
    CHECK(closs_linear_cross_entropy_f64(4, 3, 5, 1, p.x, p.W, NULL, p.t, NULL, -100, 1.5,
                                         CLOSS_REDUCTION_MEAN, &out) == CLOSS_ERR_INVALID_ARGUMENT);
    /* a bad class index: the status, and nothing written */
    p.t[2] = 5;
    for (int i = 0; i < 15; ++i) gW[i] = 7.0;
    CHECK(closs_linear_cross_entropy_fused_f64(4, 3, 5, 1, p.x, p.W, NULL, p.t, NULL, -100, 0.0,
                                               CLOSS_REDUCTION_SUM, &out, gx, gW,
                                               NULL) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    CHECK(out == -1.0);
    for (int i = 0; i < 15; ++i) CHECK(gW[i] == 7.0);
    p.t[2] = -3;
    CHECK(closs_linear_cross_entropy_f64(4, 3, 5, 1, p.x, p.W, NULL, p.t, NULL, -100, 0.0,
                                         CLOSS_REDUCTION_NONE, gx) == CLOSS_ERR_INDEX_OUT_OF_RANGE);
    p.t[2] = -3, p.t[3] = 0; /* ... unless it is the ignore_index (t[3] was -100) */
    CHECK(closs_linear_cross_entropy_f64(4, 3, 5, 1, p.x, p.W, NULL, p.t, NULL, -3, 0.0,
                                         CLOSS_REDUCTION_MEAN, &out) == CLOSS_OK);
    release(&p);
}

/* 1 and 2 threads give the same bits (two blocks: 300 rows of 80000 logits, 208 a block). */
static void test_threads(void)
{
    const int64_t n = 300, in = 16, c = 80000;
    problem p = make(n, in, c, 1, 1, 0, 1, 0.1, CLOSS_REDUCTION_MEAN, 5);
    float *x = to_f32(p.x, n * in), *W = to_f32(p.W, c * in), *b = to_f32(p.b, c);
    float *w = to_f32(p.w, c);
    float out[2], *gx[2], *gW[2], *gb[2];
    for (int r = 0; r < 2; ++r) {
        gx[r] = malloc(4 * (size_t)(n * in)), gW[r] = malloc(4 * (size_t)(c * in));
        gb[r] = malloc(4 * (size_t)c);
        CHECK(closs_set_num_threads(r + 1) == CLOSS_OK);
        CHECK(closs_linear_cross_entropy_fused_f32(n, in, c, 1, x, W, b, p.t, w, -100, 0.1,
                                                   CLOSS_REDUCTION_MEAN, &out[r], gx[r], gW[r],
                                                   gb[r]) == CLOSS_OK);
    }
    CHECK(memcmp(&out[0], &out[1], sizeof(float)) == 0);
    CHECK(memcmp(gx[0], gx[1], 4 * (size_t)(n * in)) == 0);
    CHECK(memcmp(gW[0], gW[1], 4 * (size_t)(c * in)) == 0);
    CHECK(memcmp(gb[0], gb[1], 4 * (size_t)c) == 0);
    for (int r = 0; r < 2; ++r) free(gx[r]), free(gW[r]), free(gb[r]);
    free(x), free(W), free(b), free(w);
    release(&p);
}

int main(void)
{
#ifdef CLOSS_BLAS_NONE
    /* -Dblas=none: every call says so, for valid and invalid arguments alike. */
    const float x[2] = {1, 2}, W[2] = {3, 4};
    const int64_t t[1] = {0};
    float out = -1, gx[2];
    CHECK(closs_linear_cross_entropy_f32(1, 2, 1, 1, x, W, NULL, t, NULL, -100, 0.0,
                                         CLOSS_REDUCTION_MEAN, &out) == CLOSS_ERR_UNSUPPORTED);
    CHECK(out == -1);
    CHECK(closs_linear_cross_entropy_fused_f32(1, 2, 1, 1, x, W, NULL, t, NULL, -100, 0.0,
                                               CLOSS_REDUCTION_SUM, &out, gx, NULL, NULL)
          == CLOSS_ERR_UNSUPPORTED);
    CHECK(strncmp(closs_status_string(CLOSS_ERR_UNSUPPORTED), "CLOSS_ERR_UNSUPPORTED:", 22) == 0);
    return check_summary();
#endif
    test_against_loops();
    test_optional_gradients();
    test_statuses();
    test_threads();
    return check_summary();
}
