/*
 * classification.h - the template of the classification kernels: nll_loss and
 * cross_entropy (class indices or probabilities) on input of shape (n, c, s).
 *
 * Included by classification.c through closs_instantiate.h once per dtype
 * (CLOSS_T, CLOSS_SFX, CLOSS_IS_F64); CL_UINT below is the unsigned integer of
 * CLOSS_T's width.
 *
 * Every cross_entropy row (one position (i, k) of the n x s positions, c
 * classes j, strided by s) is the same computation on a "target distribution"
 * u_j >= 0 (see classification.c):
 *   loss = sum_j u_j (lse - x_j) = k lse - sum_j u_j x_j,  k = sum_j u_j,
 *   dloss/dx_j = k softmax_j - u_j,                         lse = log sum_j e^x_j,
 * where u = a onehot(t) + b dense, split in an index part (the weight a of the
 * target class t) and a dense part that differs per variant (CL_U_*): none
 * (indices), b = eps/c times 1 or w_j (label smoothing), or w_j t'_j
 * (probabilities, b = 1). The variant is a compile-time constant of each block
 * kernel, as are "value wanted" and "gradient wanted", so no hot loop tests a
 * flag.
 *
 * Three layouts: s == 1 (rows contiguous; one pass per row computes the online
 * log-sum-exp and the dense sums and stores the exponentials in the gradient,
 * a second pass rescales them from L1 or L2: see rows() below); s == 1 with
 * few classes and class indices (few(): CL_L rows at a time, transposed so
 * that the rows are the lanes of vectors); and s > 1 (tiles of CL_TILE
 * positions along s, vectorised across the positions: a max pass, a sum pass
 * that also stores the exponentials in the gradient, a pass that rescales
 * them, over the c classes).
 */
#include <math.h>

#define CL_FN(part) CLOSS_FN(cl_##part)
#define CL_EXP CLOSS_FN(closs_exp)
#define CL_L CLOSS_LANES
#if CLOSS_IS_F64
#define CL_UINT uint64_t
#else
#define CL_UINT uint32_t
#endif

/* The dense part of u at class j (without the factor b for label smoothing). */
CLOSS_INLINE CLOSS_T CL_FN(dense)(const int u, CLOSS_T wj, CLOSS_T tj, CLOSS_T keep, CLOSS_T eps_c)
{
    switch (u) {
    case CL_U_SMOOTH: return 1;
    case CL_U_SMOOTH_W: return wj;
    case CL_U_PROB: return keep * tj + eps_c;
    case CL_U_PROB_W: return wj * (keep * tj + eps_c);
    default: return 0;
    }
}

/* Sum over double lanes in a fixed tree order (short dependency chains: this is
 * per row). */
CLOSS_INLINE double CL_FN(lanes_sum)(const double v[CL_L])
{
    double t[CL_L / 2];
    for (int k = 0; k < CL_L / 2; ++k) t[k] = v[k] + v[k + CL_L / 2];
    for (int k = 0; k < CL_L / 4; ++k) t[k] += t[k + CL_L / 4];
    for (int k = 0; k < CL_L / 8; ++k) t[k] += t[k + CL_L / 8];
    return t[0] + t[1];
}

/* max over lanes, in a fixed tree order (NaN is dropped here; it reaches the
 * sum through its exponential). */
CLOSS_INLINE CLOSS_T CL_FN(lanes_max)(CLOSS_T v[CL_L])
{
    for (int k = 0; k < 8; ++k) v[k] = v[k + 8] > v[k] ? v[k + 8] : v[k];
    for (int k = 0; k < 4; ++k) v[k] = v[k + 4] > v[k] ? v[k + 4] : v[k];
    for (int k = 0; k < 2; ++k) v[k] = v[k + 2] > v[k] ? v[k + 2] : v[k];
    return v[1] > v[0] ? v[1] : v[0];
}

/* The max of x[0, len). The vectorised max reduction (OpenMP simd) may keep or
 * drop a NaN; either way a NaN reaches the row's sum through its exponential. */
CLOSS_INLINE CLOSS_T CL_FN(max)(const CLOSS_T *restrict x, const int64_t len)
{
    CLOSS_T m = -INFINITY;
    /* whole vectors; the end as the last CL_L elements again (no scalar epilogue) */
    const int64_t whole = len >= CL_L ? len / CL_L * CL_L : len;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < whole; ++j) m = x[j] > m ? x[j] : m;
    if (whole < len)
#pragma omp simd reduction(max : m)
        for (int64_t j = len - CL_L; j < len; ++j) m = x[j] > m ? x[j] : m;
    return m;
}

/* Elements a CLOSS_T lane adds (CL_RUN / CL_L terms) before the double lanes take it. */
#define CL_RUN (32 * CL_L)

/* lanes_on[tail + k]: lane k's mask in a tail of `tail` elements (all ones when
 * k >= CL_L - tail), a load rather than a compare of every lane */
static const CL_UINT CL_FN(lanes_on)[2 * CL_L] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1,
    (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1, (CL_UINT)-1};

/* v where the lane mask on is all ones, pad where it is 0: a select by bits,
 * so that v's load stays unconditional (see online()). */
CLOSS_INLINE CLOSS_T CL_FN(pick)(CLOSS_T v, CL_UINT on, CLOSS_T pad)
{
    CL_UINT a, b;
    memcpy(&a, &v, sizeof a);
    memcpy(&b, &pad, sizeof b);
    a = (a & on) | (b & ~on);
    memcpy(&v, &a, sizeof v);
    return v;
}

/*
 * Online log-sum-exp (Milakov & Gimelshein, "Online normalizer calculation
 * for softmax", 2018) over one chunk x[0, len) of a row: the running max m
 * moves to the chunk's max cm (and the double lanes sum[] are rescaled) before
 * the chunk's exponentials are added, so the row is read once from memory and
 * the chunk a second time from L1. Also adds the dense sums of the variant:
 * dot += u_j x_j (when dot_on) and us += u_j (probabilities). Exponentials are
 * taken relative to the returned shift: m, or 0 while m = -inf (so that -inf
 * adds e^-inf = 0 and NaN adds NaN, which stays NaN). With store (a
 * compile-time constant, as u and dot_on) the exponentials are also stored in
 * ex, for the gradient pass to rescale.
 *
 * The chunk's end, tail = len % CL_L elements, is one more vector whose lanes
 * below lo = CL_L - tail count nothing. Its loads are unconditional: the
 * vector is the CL_L elements ending at the chunk's end (some counted already,
 * or of the previous row) where they are readable (readable: x and tp hold
 * CL_L elements up to there), else a local copy; w's lanes are wtail (its last
 * CL_L classes, zero-padded below when there are fewer). The lanes below lo
 * are then replaced by bits (CL_FN(pick)), not by a select: a load under a
 * lane condition (`k < tail ? x[k] : 0`), or one whose every use is under it
 * (GCC sinks it there), becomes an AVX2 masked load (vmaskmovps/pd), and
 * GCC 12 at -O3 has given every 4-lane group of a 16-lane loop the first
 * group's mask (margin_rows.h's multilabel hinges); none is left to it here
 * (tests/c/check_masked_loads.sh).
 */
CLOSS_INLINE CLOSS_T CL_FN(online)(const CLOSS_T *restrict x, const CLOSS_T *restrict w,
                                const CLOSS_T *restrict tp, const int64_t len, const CLOSS_T cm,
                                const CLOSS_T *restrict wtail, const int readable,
                                const int u, const int dot_on, const int store, CLOSS_T *restrict ex,
                                const CLOSS_T keep, const CLOSS_T eps_c, CLOSS_T *m,
                                double *restrict sum, double *restrict dot, double *restrict us)
{
    if (cm > *m) {
        if (*m != -INFINITY) { /* else the sums are 0 (or NaN), and stay so */
            const double f = closs_exp_f64((double)*m - (double)cm);
            for (int k = 0; k < CL_L; ++k) sum[k] *= f;
        }
        *m = cm;
    }
    const CLOSS_T sh = *m == -INFINITY ? 0 : *m;
    const int64_t whole = len / CL_L * CL_L, tail = len - whole;
    int64_t r0 = 0;
    do { /* runs of CL_RUN elements in CLOSS_T lanes; the last one takes the tail */
        const int64_t r1 = whole - r0 > CL_RUN ? r0 + CL_RUN : whole;
        CLOSS_T ps[CL_L] = {0}, pd[CL_L] = {0}, pu[CL_L] = {0};
        for (int64_t q = r0; q < r1; q += CL_L) {
#pragma omp simd
            for (int k = 0; k < CL_L; ++k) {
                const CLOSS_T xv = x[q + k], e = CL_EXP(xv - sh);
                if (store) ex[q + k] = e;
                ps[k] += e;
                if (u != CL_U_ONEHOT) {
                    const CLOSS_T uj = CL_FN(dense)(u, CL_HAS_W(u) ? w[q + k] : 0,
                                                 u >= CL_U_PROB ? tp[q + k] : 0, keep, eps_c);
                    if (dot_on) pd[k] += uj * xv;
                    if (u >= CL_U_PROB) pu[k] += uj;
                }
            }
        }
        if (r1 == whole && tail) {
            const int64_t lo = CL_L - tail, at = len - CL_L; /* lane k: element at + k */
            CLOSS_T xc[CL_L], tc[CL_L], et[CL_L];
            const CLOSS_T *xs = x + at, *ts = u >= CL_U_PROB ? tp + at : wtail, *ws = wtail;
            if (!readable) { /* the first rows of short ones: lanes [lo, CL_L) copied, the others 0 */
                for (int64_t k = 0; k < lo; ++k) xc[k] = tc[k] = 0;
                for (int64_t k = lo; k < CL_L; ++k) xc[k] = x[at + k];
                if (u >= CL_U_PROB)
                    for (int64_t k = lo; k < CL_L; ++k) tc[k] = tp[at + k];
                xs = xc, ts = tc;
            }
#pragma omp simd
            for (int k = 0; k < CL_L; ++k) {
                const CL_UINT on = CL_FN(lanes_on)[tail + k];
                /* e^(-inf - sh) = 0 below lo (sh is finite, +inf or 0) */
                et[k] = CL_EXP(CL_FN(pick)(xs[k], on, -INFINITY) - sh);
                ps[k] += et[k];
                if (u != CL_U_ONEHOT) {
                    const CLOSS_T uj = CL_FN(pick)(
                        CL_FN(dense)(u, CL_FN(pick)(ws[k], on, 0), CL_FN(pick)(ts[k], on, 0),
                                     keep, eps_c), on, 0);
                    if (dot_on) pd[k] += uj * CL_FN(pick)(xs[k], on, 0);
                    if (u >= CL_U_PROB) pu[k] += uj;
                }
            }
            if (store)
                for (int64_t k = lo; k < CL_L; ++k) ex[at + k] = et[k];
        }
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) {
            sum[k] += (double)ps[k];
            if (u != CL_U_ONEHOT && dot_on) dot[k] += (double)pd[k];
            if (u >= CL_U_PROB) us[k] += (double)pu[k];
        }
        r0 = r1;
    } while (r0 < whole);
    return sh;
}

/* What the epilogue of a position needs to know about its target. */
typedef struct CL_FN(target) {
    int kept;   /* not ignored (and, for indices, in range) */
    int64_t t;  /* the class index (0 when not kept, and for probabilities) */
    double a;   /* weight of the one-hot part: (1 - eps) w_t */
    double b;   /* factor of the dense part: eps / c for indices, 1 for probabilities */
    double wt;  /* w_t: what the weighted mean divides by */
} CL_FN(target);

CLOSS_INLINE CL_FN(target) CL_FN(target_of)(const closs_cl_ctx *c, const int u, int64_t p,
                                            double *bad)
{
    CL_FN(target) r = {1, 0, 0.0, 1.0, 0.0};
    if (u >= CL_U_PROB) return r;
    const CLOSS_T *w = (const CLOSS_T *)c->w;
    const int64_t t = c->t[p];
    r.kept = t != c->ignore;
    if (r.kept && (uint64_t)t >= (uint64_t)c->c) { /* negative too */
        r.kept = 0;
        *bad += 1;
    }
    r.t = r.kept ? t : 0; /* so that any index computed from it is in range */
    r.wt = r.kept ? (w ? (double)w[r.t] : 1.0) : 0.0;
    r.a = c->keep * r.wt;
    r.b = r.kept ? c->eps_c : 0.0;
    return r;
}

/* The loss of a position from its log-sum-exp and sums (x_t: the target's input). */
CLOSS_INLINE double CL_FN(position_loss)(const closs_cl_ctx *c, const int u,
                                         const CL_FN(target) *g, double lse, double x_t,
                                         double dot, double us)
{
    if (u >= CL_U_PROB) return us * lse - dot;
    if (!g->kept) return 0.0;
    double v = g->a * (lse - x_t);
    if (u != CL_U_ONEHOT) v += g->b * (c->wtotal * lse - dot);
    return v;
}

/* The k of the gradient k softmax_j - u_j. */
CLOSS_INLINE double CL_FN(grad_k)(const closs_cl_ctx *c, const int u, const CL_FN(target) *g,
                                  double us)
{
    if (u >= CL_U_PROB) return us;
    return g->a + (u != CL_U_ONEHOT ? g->b * c->wtotal : 0.0);
}

/* The gradient's scale at position p: grad_output (over the mean's denominator),
 * 0 where the target is ignored. */
CLOSS_INLINE double CL_FN(grad_scale)(const closs_cl_ctx *c, const CL_FN(target) *g, int64_t p)
{
    const CLOSS_T *go = (const CLOSS_T *)c->go;
    const double r = go ? (double)go[p] : c->gscale; /* not under kept: see online() */
    return g->kept ? r : 0.0;
}

/* ---------------------------------------------------------------- s == 1 */

/* A row's chunks: at least CL_CHUNK_MIN elements (x and the stored
 * exponentials stay in L1), at most CL_MAX_CHUNKS of them (the gradient pass
 * keeps one shift per chunk). */
#define CL_CHUNK_MIN (64 * CL_L)
#define CL_MAX_CHUNKS 64

/* The gradient of one chunk, from its stored exponentials e_j (in g[]): scaled
 * by f = grad_output k e^(shift - m) / sum, minus grad_output times the dense
 * part of u (the one-hot part is subtracted by the caller). */
CLOSS_INLINE void CL_FN(chunk_grad)(CLOSS_T *restrict g, const CLOSS_T *restrict w,
                                    const CLOSS_T *restrict tp, const int64_t len, const int u,
                                    const CLOSS_T f, const CLOSS_T rb, const CLOSS_T rk, const CLOSS_T re)
{
    switch (u) {
    case CL_U_ONEHOT:
        for (int64_t j = 0; j < len; ++j) g[j] = f * g[j];
        break;
    case CL_U_SMOOTH:
        for (int64_t j = 0; j < len; ++j) g[j] = f * g[j] - rb;
        break;
    case CL_U_SMOOTH_W:
        for (int64_t j = 0; j < len; ++j) g[j] = f * g[j] - rb * w[j];
        break;
    case CL_U_PROB:
        for (int64_t j = 0; j < len; ++j) g[j] = f * g[j] - (rk * tp[j] + re);
        break;
    default:
        for (int64_t j = 0; j < len; ++j) g[j] = f * g[j] - w[j] * (rk * tp[j] + re);
    }
}

/* Rows of a group: up to CL_GROUP rows of CL_GROUP_ELEMS elements together. */
#define CL_GROUP 16
#define CL_GROUP_ELEMS 4096

/*
 * Positions [b, e), one row each, in groups of rows. A row is read once:
 * chunk by chunk, the online log-sum-exp and the dense sums; the gradient
 * kernels store the chunk's exponentials in the gradient row. Then the group's
 * logarithms in one (vectorised) loop, and per row its value and the gradient
 * pass, which rescales the stored exponentials (from L1 or L2) by one factor
 * per chunk: one exponential per element in every kernel. Groups let short
 * rows overlap their latency chains (max, sum, log).
 */
CLOSS_INLINE void CL_FN(rows)(const void *ctx, int64_t b, int64_t e, double *sums,
                              const int u, const int want_v, const int want_g)
{
    const closs_cl_ctx *c = (const closs_cl_ctx *)ctx;
    const int64_t C = c->c;
    const CLOSS_T *restrict x = (const CLOSS_T *)c->x;
    const CLOSS_T *restrict w = (const CLOSS_T *)c->w;
    const CLOSS_T *restrict tp = (const CLOSS_T *)c->tp;
    CLOSS_T *restrict out = (CLOSS_T *)c->out;
    CLOSS_T *restrict gx = (CLOSS_T *)c->gx;
    const CLOSS_T keep = (CLOSS_T)c->keep, eps_c = (CLOSS_T)c->eps_c;
    int64_t chunk = (C + CL_MAX_CHUNKS - 1) / CL_MAX_CHUNKS;
    chunk = chunk < CL_CHUNK_MIN ? CL_CHUNK_MIN : (chunk + CL_L - 1) / CL_L * CL_L;
    const int64_t nc = (C + chunk - 1) / chunk;
    const int64_t group = C >= CL_GROUP_ELEMS / CL_GROUP ? (C >= CL_GROUP_ELEMS ? 1 : CL_GROUP_ELEMS / C)
                                                         : CL_GROUP;
    double lsum = 0.0, wsum = 0.0, bad = 0.0;
    /* w's last CL_L classes, the lanes of a row's tail vector (see online()):
     * only the last chunk has a tail (the others are whole vectors) */
    CLOSS_T wpad[CL_L] = {0};
    const CLOSS_T *wtail = wpad;
    if (CL_HAS_W(u) && C >= CL_L) wtail = w + C - CL_L;
    else if (CL_HAS_W(u))
        for (int64_t k = 0; k < C; ++k) wpad[CL_L - C + k] = w[k];
    CL_FN(target) g[CL_GROUP];
    CLOSS_T m[CL_GROUP], cmax[CL_GROUP][CL_MAX_CHUNKS];
    double s[CL_GROUP], lse[CL_GROUP], dots[CL_GROUP], uss[CL_GROUP];
    for (int64_t p0 = b; p0 < e; p0 += group) {
        const int64_t gl = e - p0 < group ? e - p0 : group;
        /* rows of one chunk: the maxes first, so that no row's exponentials
         * wait for its max */
        if (nc == 1)
            for (int64_t l = 0; l < gl; ++l) m[l] = CL_FN(max)(x + (p0 + l) * C, C);
        for (int64_t l = 0; l < gl; ++l) {
            const int64_t p = p0 + l;
            g[l] = CL_FN(target_of)(c, u, p, &bad);
            wsum += g[l].wt;
            s[l] = 1.0;
            dots[l] = uss[l] = 0.0;
            if (!want_g && !g[l].kept) {
                m[l] = 0;
                continue;
            }
            const CLOSS_T *restrict xr = x + p * C;
            const CLOSS_T *restrict tr = u >= CL_U_PROB ? tp + p * C : NULL;
            CLOSS_T *restrict gr = want_g ? gx + p * C : NULL;
            CLOSS_T mr = -INFINITY;
            double sum[CL_L] = {0}, dot[CL_L] = {0}, us[CL_L] = {0};
            for (int64_t q = 0, j = 0; q < nc; ++q, j += chunk) {
                const int64_t len = C - j < chunk ? C - j : chunk;
                CL_FN(online)(xr + j, w ? w + j : NULL, tr ? tr + j : NULL, len,
                              nc == 1 ? m[l] : CL_FN(max)(xr + j, len), wtail,
                              p * C + j + len >= CL_L, u, want_v, want_g,
                              gr ? gr + j : NULL, keep, eps_c, &mr, sum, dot, us);
                cmax[l][q] = mr;
            }
            m[l] = mr;
            s[l] = CL_FN(lanes_sum)(sum);
            if (u != CL_U_ONEHOT && want_v) dots[l] = CL_FN(lanes_sum)(dot);
            if (u >= CL_U_PROB) uss[l] = CL_FN(lanes_sum)(us);
        }
        if (want_v)
            for (int64_t l = 0; l < gl; ++l) lse[l] = (double)m[l] + log(s[l]);
        for (int64_t l = 0; l < gl; ++l) {
            const int64_t p = p0 + l;
            if (want_v) {
                const int has_t = g[l].kept && u < CL_U_PROB;
                const double v = !want_g && !g[l].kept
                                     ? 0.0
                                     : CL_FN(position_loss)(c, u, &g[l], lse[l],
                                                            has_t ? (double)x[p * C + g[l].t] : 0.0,
                                                            dots[l], uss[l]);
                if (out)
                    out[p] = (CLOSS_T)v;
                else
                    lsum += v;
            }
            if (!want_g) continue;
            const CLOSS_T *restrict tr = u >= CL_U_PROB ? tp + p * C : NULL;
            CLOSS_T *restrict gr = gx + p * C;
            const double r = CL_FN(grad_scale)(c, &g[l], p);
            const double kk = r * CL_FN(grad_k)(c, u, &g[l], uss[l]) / s[l];
            const CLOSS_T rb = (CLOSS_T)(r * g[l].b);
            const CLOSS_T rk = (CLOSS_T)(r * c->keep), re = (CLOSS_T)(r * c->eps_c);
            for (int64_t q = 0, j = 0; q < nc; ++q, j += chunk) {
                /* e^(x - shift) stored, shift = the running max, or 0 while it
                 * was -inf (the chunk held only -inf, stored as 0, or NaN); a
                 * row whose max is -inf has no softmax (NaN, as e^(-inf - -inf)). */
                const CLOSS_T f = m[l] == -INFINITY       ? (CLOSS_T)NAN
                               : cmax[l][q] == m[l]      ? (CLOSS_T)kk
                               : cmax[l][q] == -INFINITY ? 0
                                   : (CLOSS_T)(kk * closs_exp_f64((double)cmax[l][q] - (double)m[l]));
                CL_FN(chunk_grad)(gr + j, w ? w + j : NULL, tr ? tr + j : NULL,
                                  C - j < chunk ? C - j : chunk, u, f, rb, rk, re);
            }
            if (u < CL_U_PROB && g[l].kept) gr[g[l].t] -= (CLOSS_T)(r * g[l].a);
        }
    }
    sums[CL_SUM_LOSS] = lsum;
    sums[CL_SUM_WEIGHT] = wsum;
    sums[CL_SUM_BAD] = bad;
}

/* ---------------------------------------------------------------- s > 1 */

/* Positions per tile: CL_TILE at most, CL_L at least, and about CL_TILE_ELEMS
 * elements (so that a tile's input and gradient stay in L2); long runs of each
 * class's row, so that a tile's c rows (s elements apart) cost few page walks
 * and prefetch well. */
#define CL_TILE 256
#define CL_TILE_ELEMS 8192

/* Positions s0 .. s0 + tl - 1 (tl <= CL_TILE) of sample i, vectorised across them. */
CLOSS_INLINE void CL_FN(tile)(const closs_cl_ctx *c, int64_t i, int64_t s0, const int64_t tl,
                              const int u, const int want_v, const int want_g, double *lsum,
                              double *wsum, double *bad)
{
    const int64_t C = c->c, S = c->s, p0 = i * S + s0;
    const CLOSS_T *restrict xb = (const CLOSS_T *)c->x + i * C * S + s0;
    const CLOSS_T *restrict w = (const CLOSS_T *)c->w;
    const CLOSS_T *restrict tb = u >= CL_U_PROB ? (const CLOSS_T *)c->tp + i * C * S + s0 : NULL;
    CLOSS_T *restrict out = (CLOSS_T *)c->out;
    const CLOSS_T keep = (CLOSS_T)c->keep, eps_c = (CLOSS_T)c->eps_c;
    CL_FN(target) g[CL_TILE];
    CLOSS_T m[CL_TILE];
    double sum[CL_TILE] = {0}, dot[CL_TILE] = {0}, us[CL_TILE] = {0};
    for (int64_t l = 0; l < tl; ++l) {
        g[l] = CL_FN(target_of)(c, u, p0 + l, bad);
        *wsum += g[l].wt;
        m[l] = -INFINITY;
    }
    for (int64_t j = 0; j < C; ++j)
        for (int64_t l = 0; l < tl; ++l) m[l] = xb[j * S + l] > m[l] ? xb[j * S + l] : m[l];
    CLOSS_T *restrict gb = want_g ? (CLOSS_T *)c->gx + i * C * S + s0 : NULL;
    for (int64_t j = 0; j < C; ++j) {
        const CLOSS_T wj = CL_HAS_W(u) ? w[j] : 0;
        for (int64_t l = 0; l < tl; ++l) {
            const CLOSS_T xv = xb[j * S + l], ev = CL_EXP(xv - m[l]);
            if (want_g) gb[j * S + l] = ev; /* rescaled below */
            sum[l] += (double)ev;
            if (u != CL_U_ONEHOT) {
                const CLOSS_T uj = CL_FN(dense)(u, wj, u >= CL_U_PROB ? tb[j * S + l] : 0, keep, eps_c);
                if (want_v) dot[l] += (double)uj * (double)xv;
                if (u >= CL_U_PROB) us[l] += (double)uj;
            }
        }
    }
    CLOSS_T kk[CL_TILE], rb[CL_TILE], rk[CL_TILE], re[CL_TILE], ra[CL_TILE];
    /* A loop of its own: the same code (vectorised or not, with libmvec's log or
     * libm's) in every kernel, so forward and fused values agree to the bit. */
    double lses[CL_TILE];
    for (int64_t l = 0; l < tl; ++l) lses[l] = (double)m[l] + log(sum[l]);
    for (int64_t l = 0; l < tl; ++l) {
        const double lse = lses[l];
        if (want_v) {
            /* x_t loaded unconditionally (t is 0 when not kept): see online() */
            const CLOSS_T xt = xb[g[l].t * S + l];
            const double v = CL_FN(position_loss)(c, u, &g[l], lse,
                                                  g[l].kept && u < CL_U_PROB ? (double)xt : 0.0,
                                                  dot[l], us[l]);
            if (out)
                out[p0 + l] = (CLOSS_T)v;
            else
                *lsum += v;
        }
        if (want_g) {
            const double r = CL_FN(grad_scale)(c, &g[l], p0 + l);
            kk[l] = (CLOSS_T)(r * CL_FN(grad_k)(c, u, &g[l], us[l]) / sum[l]);
            rb[l] = (CLOSS_T)(r * g[l].b);
            rk[l] = (CLOSS_T)(r * c->keep);
            re[l] = (CLOSS_T)(r * c->eps_c);
            ra[l] = (CLOSS_T)(r * g[l].a);
        }
    }
    if (!want_g) return;
    for (int64_t j = 0; j < C; ++j) {
        const CLOSS_T wj = CL_HAS_W(u) ? w[j] : 0;
        for (int64_t l = 0; l < tl; ++l) {
            const CLOSS_T e = kk[l] * gb[j * S + l];
            switch (u) {
            case CL_U_ONEHOT: gb[j * S + l] = e; break;
            case CL_U_SMOOTH: gb[j * S + l] = e - rb[l]; break;
            case CL_U_SMOOTH_W: gb[j * S + l] = e - rb[l] * wj; break;
            case CL_U_PROB: gb[j * S + l] = e - (rk[l] * tb[j * S + l] + re[l]); break;
            default: gb[j * S + l] = e - wj * (rk[l] * tb[j * S + l] + re[l]);
            }
        }
    }
    if (u < CL_U_PROB)
        for (int64_t l = 0; l < tl; ++l)
            if (g[l].kept)
                gb[g[l].t * S + l] -= ra[l];
}

/* Positions [b, e) in tiles that do not cross a sample. */
CLOSS_INLINE void CL_FN(tiles)(const void *ctx, int64_t b, int64_t e, double *sums,
                               const int u, const int want_v, const int want_g)
{
    const closs_cl_ctx *c = (const closs_cl_ctx *)ctx;
    const int64_t S = c->s;
    int64_t tile = CL_TILE_ELEMS / c->c / CL_L * CL_L;
    tile = tile < CL_L ? CL_L : tile > CL_TILE ? CL_TILE : tile;
    double lsum = 0.0, wsum = 0.0, bad = 0.0;
    for (int64_t p = b; p < e;) {
        const int64_t i = p / S, s0 = p - i * S;
        const int64_t len = S - s0 < e - p ? S - s0 : e - p;
        int64_t q = 0;
        for (; q + tile <= len; q += tile)
            CL_FN(tile)(c, i, s0 + q, tile, u, want_v, want_g, &lsum, &wsum, &bad);
        if (q < len)
            CL_FN(tile)(c, i, s0 + q, len - q, u, want_v, want_g, &lsum, &wsum, &bad);
        p += len;
    }
    sums[CL_SUM_LOSS] = lsum;
    sums[CL_SUM_WEIGHT] = wsum;
    sums[CL_SUM_BAD] = bad;
}

/* ---------------------------------------------------------------- few classes */

/*
 * Rows (s == 1) of at most CL_FEW classes (classification.c), CL_L rows at a
 * time: the rows are the lanes of every loop and the class loop is outside,
 * so a row's max, exponentials, sum, logarithm and epilogue are lanes of
 * vectors (one dependency chain per CL_L rows, not one per row). A group's
 * c x CL_L inputs are first transposed into xt[j][k] (class j of row k), which
 * then holds the exponentials and the gradient, transposed back into the
 * gradient rows. The last, short group of a block runs on a padded local copy
 * (ignored targets, zero input), so no load or store is under a lane
 * condition. Values and kept weights go to double lanes (acc, wacc) added in
 * a fixed order at the block's end. (nll_loss's kernel reads one element a row
 * and is not faster this way.)
 */

/* The targets of CL_L positions as lanes: the class (0 when not kept), kept, and
 * w_t (0 when not kept); counts the out-of-range indices in *bad. */
CLOSS_INLINE void CL_FN(lanes_targets)(const closs_cl_ctx *c, const int64_t *restrict t,
                                       int32_t tt[CL_L], int kept[CL_L], double wt[CL_L],
                                       double *bad)
{
    const CLOSS_T *restrict w = (const CLOSS_T *)c->w;
    const uint64_t C = (uint64_t)c->c;
    const int64_t ignore = c->ignore;
    int64_t nb = 0; /* an integer sum: a vector reduction (a double one would be in order) */
#pragma omp simd reduction(+ : nb)
    for (int k = 0; k < CL_L; ++k) {
        const int on = t[k] != ignore, in = (uint64_t)t[k] < C; /* negative too */
        nb += on && !in;
        kept[k] = on && in;
        tt[k] = kept[k] ? (int32_t)t[k] : 0; /* c <= CL_FEW */
    }
    if (w)
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) {
            const double wk = (double)w[tt[k]]; /* unconditional: tt is in range */
            wt[k] = kept[k] ? wk : 0.0;
        }
    else
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) wt[k] = kept[k] ? 1.0 : 0.0;
    *bad += (double)nb;
}

/* The values of CL_L positions, stored (out) or added to the lanes acc. */
CLOSS_INLINE void CL_FN(lanes_put)(const double v[CL_L], CLOSS_T *restrict out,
                                   double acc[CL_L])
{
    if (out)
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) out[k] = (CLOSS_T)v[k];
    else
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) acc[k] += v[k];
}

/* The gradient's scale of CL_L positions (as grad_scale, in CLOSS_T): go[k], or
 * c->gscale without go, 0 where not kept. */
CLOSS_INLINE void CL_FN(lanes_scale)(const closs_cl_ctx *c, const CLOSS_T *restrict go,
                                     const int kept[CL_L], CLOSS_T r[CL_L])
{
    const CLOSS_T gs = (CLOSS_T)c->gscale;
    if (go) /* the load unconditional, the lanes not kept replaced by bits: see online() */
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) r[k] = CL_FN(pick)(go[k], kept[k] ? (CL_UINT)-1 : 0, 0);
    else
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) r[k] = kept[k] ? gs : 0;
}

/* xt[j][k] = x[k c + j] (to) or back (!to), with c a constant in each case of
 * the switch, so that GCC vectorises the strided accesses with permutations
 * (with c unknown it inserts and extracts lane by lane). */
#define CL_TRANSPOSE_CASE(n)                                                              \
    case n:                                                                               \
        if (to)                                                                           \
            for (int k = 0; k < CL_L; ++k)                                                \
                for (int j = 0; j < n; ++j) xt[j][k] = x[k * n + j];                      \
        else                                                                              \
            for (int k = 0; k < CL_L; ++k)                                                \
                for (int j = 0; j < n; ++j) gx[k * n + j] = xt[j][k];                     \
        break;
CLOSS_INLINE void CL_FN(transpose)(const CLOSS_T *restrict x, CLOSS_T *restrict gx,
                                   const int64_t C, CLOSS_T xt[CL_FEW][CL_L], const int to)
{
    switch (C) {
        CL_TRANSPOSE_CASE(1)
        CL_TRANSPOSE_CASE(2)
        CL_TRANSPOSE_CASE(3)
        CL_TRANSPOSE_CASE(4)
        CL_TRANSPOSE_CASE(5)
        CL_TRANSPOSE_CASE(6)
        CL_TRANSPOSE_CASE(7)
        CL_TRANSPOSE_CASE(8)
        CL_TRANSPOSE_CASE(9)
        CL_TRANSPOSE_CASE(10)
        CL_TRANSPOSE_CASE(11)
        CL_TRANSPOSE_CASE(12)
        CL_TRANSPOSE_CASE(13)
        CL_TRANSPOSE_CASE(14)
        CL_TRANSPOSE_CASE(15)
    default:
        CL_TRANSPOSE_CASE(16)
    }
}
#undef CL_TRANSPOSE_CASE

/* The CL_L rows of cross_entropy (index variant u) at x (c classes each),
 * targets t, per-row grad_output go (or NULL: c->gscale), values out (or NULL:
 * added to acc), gradient gx. */
CLOSS_INLINE void CL_FN(few_group)(const closs_cl_ctx *c, const CLOSS_T *restrict x,
                                   const int64_t *restrict t, const CLOSS_T *restrict go,
                                   CLOSS_T *restrict out, CLOSS_T *restrict gx, const int u,
                                   const int want_v, const int want_g, double acc[CL_L],
                                   double wacc[CL_L], double *bad)
{
    const int64_t C = c->c;
    const CLOSS_T *restrict w = (const CLOSS_T *)c->w;
    const CLOSS_T keep = (CLOSS_T)c->keep, eps_c = (CLOSS_T)c->eps_c;
    int32_t tt[CL_L];
    int kept[CL_L];
    double wt[CL_L];
    CL_FN(lanes_targets)(c, t, tt, kept, wt, bad);
    for (int k = 0; k < CL_L; ++k) wacc[k] += wt[k];
    CLOSS_T xt[CL_FEW][CL_L], m[CL_L];
    CL_FN(transpose)(x, NULL, C, xt, 1);
    for (int k = 0; k < CL_L; ++k) m[k] = -INFINITY;
    for (int64_t j = 0; j < C; ++j)
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) m[k] = xt[j][k] > m[k] ? xt[j][k] : m[k];
    /* In CLOSS_T, with nothing lost to cancellation: log sum = log1p(q), q the sum
     * of the exponentials but the max's 1 (those below 1, and the count of 1s less
     * one), log1p(q) = log(1 + q) + (q - ((1 + q) - 1)) / (1 + q) (the rounding of
     * 1 + q corrected to first order: exact where 1 + q rounds to 1); d_t = m - x_t
     * and dm = sum_j u_j (m - x_j) (terms >= 0), so that the loss is
     *   a (d_t + log sum) + b (wtotal log sum + dm)    (lse - x_j = m - x_j + log sum),
     * within a few ulp of CLOSS_T however small. */
    CLOSS_T q[CL_L] = {0}, ones[CL_L] = {0}, dm[CL_L] = {0}, dt[CL_L] = {0};
    for (int32_t j = 0; j < (int32_t)C; ++j) {
        const CLOSS_T uj = CL_FN(dense)(u, CL_HAS_W(u) ? w[j] : 0, 0, keep, eps_c);
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) {
            const CLOSS_T v = xt[j][k], ev = CL_EXP(v - m[k]);
            if (want_v) {
                if (u != CL_U_ONEHOT) dm[k] += uj * (m[k] - v);
                dt[k] = tt[k] == j ? m[k] - v : dt[k];
            }
            xt[j][k] = ev;
            const CLOSS_T one = ev == 1 ? 1 : 0; /* not `ev == 1 ? 0 : ev`: GCC 12 leaves that a branch */
            q[k] += ev - one;
            ones[k] += one;
        }
    }
    CLOSS_T inv[CL_L];
#pragma omp simd
    for (int k = 0; k < CL_L; ++k) {
        q[k] += ones[k] - 1;
        inv[k] = 1 / (1 + q[k]);
    }
    if (want_v) {
        const CLOSS_T wtotal = (CLOSS_T)c->wtotal;
        double v[CL_L];
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) {
            const CLOSS_T s1 = 1 + q[k], a = (CLOSS_T)(c->keep * wt[k]);
            const CLOSS_T ls = CLOSS_FN(closs_log)(s1) + (q[k] - (s1 - 1)) * inv[k];
            CLOSS_T vk = a * (dt[k] + ls);
            if (u != CL_U_ONEHOT) vk += eps_c * (wtotal * ls + dm[k]);
            v[k] = kept[k] ? (double)vk : 0.0;
        }
        CL_FN(lanes_put)(v, out, acc);
    }
    if (!want_g) return;
    /* the scales in CLOSS_T: r = grad_output (go[k], or gscale; 0 where not kept),
     * ra = r a, rb = r b, kk = r (a + b wtotal) / sum */
    const CLOSS_T keep_t = (CLOSS_T)c->keep;
    const CLOSS_T bw = u != CL_U_ONEHOT ? eps_c * (CLOSS_T)c->wtotal : 0;
    CLOSS_T r[CL_L], kk[CL_L], rb[CL_L], ra[CL_L];
    CL_FN(lanes_scale)(c, go, kept, r);
#pragma omp simd
    for (int k = 0; k < CL_L; ++k) {
        const CLOSS_T ka = r[k] * (keep_t * (CLOSS_T)wt[k]);
        kk[k] = (ka + r[k] * bw) * inv[k];
        rb[k] = r[k] * eps_c;
        ra[k] = ka;
    }
    for (int32_t j = 0; j < (int32_t)C; ++j) {
        const CLOSS_T wj = CL_HAS_W(u) ? w[j] : 0;
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) {
            CLOSS_T g = kk[k] * xt[j][k];
            if (u == CL_U_SMOOTH) g -= rb[k];
            if (u == CL_U_SMOOTH_W) g -= rb[k] * wj;
            xt[j][k] = tt[k] == j ? g - ra[k] : g;
        }
    }
    CL_FN(transpose)(NULL, gx, C, xt, 0);
}

/* Positions [b, e) in groups of CL_L rows. */
CLOSS_INLINE void CL_FN(few)(const void *ctx, int64_t b, int64_t e, double *sums, const int u,
                             const int want_v, const int want_g)
{
    const closs_cl_ctx *c = (const closs_cl_ctx *)ctx;
    const int64_t C = c->c;
    const CLOSS_T *restrict x = (const CLOSS_T *)c->x;
    const CLOSS_T *restrict go = (const CLOSS_T *)c->go;
    CLOSS_T *restrict out = (CLOSS_T *)c->out;
    CLOSS_T *restrict gx = (CLOSS_T *)c->gx;
    double acc[CL_L] = {0}, wacc[CL_L] = {0}, bad = 0.0;
    int64_t p = b;
    for (; p + CL_L <= e; p += CL_L)
        CL_FN(few_group)(c, x + p * C, c->t + p, go ? go + p : NULL, out ? out + p : NULL,
                         want_g ? gx + p * C : NULL, u, want_v, want_g, acc, wacc, &bad);
    if (p < e) { /* the short last group, on a padded copy */
        const int64_t n = e - p;
        CLOSS_T xp[CL_FEW * CL_L] = {0}, gp[CL_FEW * CL_L], gop[CL_L] = {0}, op[CL_L];
        int64_t tp[CL_L];
        memcpy(xp, x + p * C, (size_t)(n * C) * sizeof(CLOSS_T));
        for (int k = 0; k < CL_L; ++k) tp[k] = k < n ? c->t[p + k] : c->ignore;
        if (go) memcpy(gop, go + p, (size_t)n * sizeof(CLOSS_T));
        CL_FN(few_group)(c, xp, tp, go ? gop : NULL, out ? op : NULL, gp, u, want_v, want_g,
                         acc, wacc, &bad);
        if (out && want_v) memcpy(out + p, op, (size_t)n * sizeof(CLOSS_T));
        if (want_g) memcpy(gx + p * C, gp, (size_t)(n * C) * sizeof(CLOSS_T));
    }
    sums[CL_SUM_LOSS] = CL_FN(lanes_sum)(acc);
    sums[CL_SUM_WEIGHT] = CL_FN(lanes_sum)(wacc);
    sums[CL_SUM_BAD] = bad;
}

/* ---------------------------------------------------------------- nll_loss */

/* Zeroes the gradient of positions [b, e): whole rows when s == 1. */
static void CL_FN(zero_grad)(const closs_cl_ctx *c, int64_t b, int64_t e)
{
    const int64_t C = c->c, S = c->s;
    CLOSS_T *gx = (CLOSS_T *)c->gx;
    if (S == 1) {
        memset(gx + b * C, 0, (size_t)((e - b) * C) * sizeof(CLOSS_T));
        return;
    }
    for (int64_t p = b; p < e;) {
        const int64_t i = p / S, s0 = p - i * S;
        const int64_t len = S - s0 < e - p ? S - s0 : e - p;
        for (int64_t j = 0; j < C; ++j)
            memset(gx + (i * C + j) * S + s0, 0, (size_t)len * sizeof(CLOSS_T));
        p += len;
    }
}

/* -w_t x_t, a gather: one element of each position's classes is read. */
CLOSS_INLINE void CL_FN(nll)(const void *ctx, int64_t b, int64_t e, double *sums,
                             const int want_v, const int want_g)
{
    const closs_cl_ctx *c = (const closs_cl_ctx *)ctx;
    const int64_t C = c->c, S = c->s;
    const CLOSS_T *restrict x = (const CLOSS_T *)c->x;
    CLOSS_T *restrict out = (CLOSS_T *)c->out;
    CLOSS_T *restrict gx = (CLOSS_T *)c->gx;
    double lsum = 0.0, wsum = 0.0, bad = 0.0;
    if (want_g) CL_FN(zero_grad)(c, b, e);
    int64_t i = b / S, s = b - i * S;
    for (int64_t p = b; p < e; ++p) {
        const CL_FN(target) g = CL_FN(target_of)(c, CL_U_ONEHOT, p, &bad);
        wsum += g.wt;
        const int64_t at = (i * C + g.t) * S + s; /* read only when kept */
        if (want_v) {
            const double v = g.kept ? -g.wt * (double)x[at] : 0.0;
            if (out)
                out[p] = (CLOSS_T)v;
            else
                lsum += v;
        }
        if (want_g && g.kept) gx[at] = (CLOSS_T)(-CL_FN(grad_scale)(c, &g, p) * g.wt);
        if (++s == S) s = 0, ++i;
    }
    sums[CL_SUM_LOSS] = lsum;
    sums[CL_SUM_WEIGHT] = wsum;
    sums[CL_SUM_BAD] = bad;
}

/* nll_loss on rows (s == 1, c < CL_NLL_ROWS_MAX), CL_L positions at a time: the
 * targets as lanes (lanes_targets), the values -w_t x_t by a gather (its own
 * loop, so that the load is unconditional), and the group's gradient rows
 * written once, while in cache: zeros, then -scale w_t at the target classes
 * (nll()'s memset of a whole block, then its scatter, reads the gradient back
 * from memory). The last positions of the block, fewer than CL_L, run nll(). */
CLOSS_INLINE void CL_FN(nll_rows)(const void *ctx, int64_t b, int64_t e, double *sums,
                                  const int want_v, const int want_g)
{
    const closs_cl_ctx *c = (const closs_cl_ctx *)ctx;
    const int64_t C = c->c;
    const CLOSS_T *restrict go = (const CLOSS_T *)c->go;
    CLOSS_T *restrict out = (CLOSS_T *)c->out;
    double acc[CL_L] = {0}, wacc[CL_L] = {0}, bad = 0.0;
    int64_t p = b;
    for (; p + CL_L <= e; p += CL_L) {
        const CLOSS_T *restrict x = (const CLOSS_T *)c->x + p * C;
        int32_t tt[CL_L];
        int kept[CL_L];
        double wt[CL_L];
        CL_FN(lanes_targets)(c, c->t + p, tt, kept, wt, &bad);
#pragma omp simd
        for (int k = 0; k < CL_L; ++k) wacc[k] += wt[k];
        if (want_v) {
            const int32_t c32 = (int32_t)C; /* < CL_NLL_ROWS_MAX: 16 rows' indices fit */
            CLOSS_T xt[CL_L];
            double v[CL_L];
#pragma omp simd
            for (int k = 0; k < CL_L; ++k) xt[k] = x[k * c32 + tt[k]]; /* a gather: tt in range */
#pragma omp simd
            for (int k = 0; k < CL_L; ++k) v[k] = kept[k] ? -wt[k] * (double)xt[k] : 0.0;
            CL_FN(lanes_put)(v, out ? out + p : NULL, acc);
        }
        if (want_g) {
            CLOSS_T *restrict gx = (CLOSS_T *)c->gx + p * C;
            CLOSS_T r[CL_L], gv[CL_L];
            CL_FN(lanes_scale)(c, go ? go + p : NULL, kept, r);
#pragma omp simd
            for (int k = 0; k < CL_L; ++k) gv[k] = kept[k] ? -(r[k] * (CLOSS_T)wt[k]) : 0;
            for (int64_t j = 0; j < CL_L * C; ++j) gx[j] = 0;
            for (int k = 0; k < CL_L; ++k) gx[k * C + tt[k]] = gv[k];
        }
    }
    double tail[CL_NSUMS] = {0};
    if (p < e) CL_FN(nll)(ctx, p, e, tail, want_v, want_g);
    sums[CL_SUM_LOSS] = CL_FN(lanes_sum)(acc) + tail[CL_SUM_LOSS];
    sums[CL_SUM_WEIGHT] = CL_FN(lanes_sum)(wacc) + tail[CL_SUM_WEIGHT];
    sums[CL_SUM_BAD] = bad + tail[CL_SUM_BAD];
}

/* Validates the class indices and sums the weights of the kept ones, CL_L
 * positions at a time (lanes_targets); the weights are added in position order
 * (the sums of the other kernels, and linear_cross_entropy's denominator, stay
 * as they were), and without weights the kept positions are counted (exact). */
CLOSS_INLINE void CL_FN(targets_body)(const void *ctx, int64_t b, int64_t e, double *sums)
{
    const closs_cl_ctx *c = (const closs_cl_ctx *)ctx;
    double wsum = 0.0, bad = 0.0;
    int64_t kept_n = 0;
    int64_t p = b;
    for (; p + CL_L <= e; p += CL_L) {
        int32_t tt[CL_L];
        int kept[CL_L];
        double wt[CL_L];
        CL_FN(lanes_targets)(c, c->t + p, tt, kept, wt, &bad);
        if (c->w)
            for (int k = 0; k < CL_L; ++k) wsum += wt[k];
        else
#pragma omp simd reduction(+ : kept_n)
            for (int k = 0; k < CL_L; ++k) kept_n += kept[k];
    }
    for (; p < e; ++p) wsum += CL_FN(target_of)(c, CL_U_ONEHOT, p, &bad).wt;
    sums[CL_SUM_LOSS] = 0.0;
    sums[CL_SUM_WEIGHT] = c->w ? wsum : wsum + (double)kept_n;
    sums[CL_SUM_BAD] = bad;
}
CLOSS_SUMS_KERNEL(CL_FN(targets), CL_FN(targets_body)(c, b, e, s);)

/* Sums nothing: positions without classes (and probabilities) are 0. */
static void CL_FN(nothing)(const void *ctx, int64_t b, int64_t e, double *sums)
{
    (void)ctx, (void)b, (void)e;
    sums[CL_SUM_LOSS] = sums[CL_SUM_WEIGHT] = sums[CL_SUM_BAD] = 0.0;
}

/* ---------------------------------------------------------------- grad_hess */

/*
 * CLOSS_OP_GRAD_HESS of cross_entropy (variant u) and nll_loss (nll): the SUM's
 * gradient and the diagonal of its Hessian, position by position in any layout
 * (class j of position p = (i, k) at (i c + j) s + k). With p_j = softmax(x)_j,
 *   grad_j = k p_j - u_j,   hess_j = k p_j (1 - p_j)     (k = sum_j u_j);
 * nll_loss is linear in its input: grad -w_t at the target class, hess 0. An
 * ignored position has zero derivatives. One exponential per element, stored
 * in the gradient and rescaled, as the gradient kernels do; rows (s == 1) are
 * unit-stride loops (strided a compile-time 0), vectorised from CL_GH_VECTOR_MIN
 * classes; shorter rows and s > 1 run scalar loops.
 */
CLOSS_INLINE void CL_FN(gh)(const void *ctx, int64_t b, int64_t e, double *sums, const int u,
                            const int nll, const int strided)
{
    const closs_cl_ctx *c = (const closs_cl_ctx *)ctx;
    /* strided: positions s apart (s > 1), or rows too short to vectorise (scalar
     * loops: for c = 10, 1.8x faster than vectors); else contiguous rows, vectorised */
    const int64_t C = c->c, S = strided ? c->s : 1;
    const CLOSS_T *restrict w = (const CLOSS_T *)c->w;
    const CLOSS_T keep = (CLOSS_T)c->keep, eps_c = (CLOSS_T)c->eps_c;
    double lsum = 0.0, wsum = 0.0, bad = 0.0;
    for (int64_t p = b; p < e; ++p) {
        const int64_t i = p / c->s, at = i * C * c->s + (p - i * c->s);
        const CLOSS_T *restrict x = (const CLOSS_T *)c->x + at;
        const CLOSS_T *restrict tp = u >= CL_U_PROB ? (const CLOSS_T *)c->tp + at : NULL;
        CLOSS_T *restrict g = (CLOSS_T *)c->gx + at;
        CLOSS_T *restrict h = (CLOSS_T *)c->hx + at;
        const CL_FN(target) t = CL_FN(target_of)(c, nll ? CL_U_ONEHOT : u, p, &bad);
        wsum += t.wt;
        if (nll) {
            for (int64_t j = 0; j < C; ++j) g[j * S] = h[j * S] = 0;
            if (t.kept) {
                g[t.t * S] = (CLOSS_T)-t.wt;
                lsum -= t.wt * (double)x[t.t * S];
            }
            continue;
        }
        /* a NaN may or may not win the vectorised max: it reaches the sum either way */
        CLOSS_T m = -INFINITY;
#pragma omp simd reduction(max : m) if (simd : !strided)
        for (int64_t j = 0; j < C; ++j) m = x[j * S] > m ? x[j * S] : m;
        const CLOSS_T sh = m == -INFINITY ? 0 : m; /* an all -inf row: NaN below, as torch */
        double sum = 0.0, dot = 0.0, us = 0.0;
#pragma omp simd reduction(+ : sum, dot, us) if (simd : !strided)
        for (int64_t j = 0; j < C; ++j) {
            const CLOSS_T ev = CL_EXP(x[j * S] - sh);
            g[j * S] = ev;
            sum += (double)ev;
            if (u != CL_U_ONEHOT) {
                const CLOSS_T uj = CL_FN(dense)(u, CL_HAS_W(u) ? w[j] : 0,
                                                u >= CL_U_PROB ? tp[j * S] : 0, keep, eps_c);
                dot += (double)uj * (double)x[j * S];
                if (u >= CL_U_PROB) us += (double)uj;
            }
        }
        if (t.kept && c->gh_value) /* a log per position, only for the value */
            lsum += CL_FN(position_loss)(c, u, &t, (double)sh + log(sum),
                                         u < CL_U_PROB ? (double)x[t.t * S] : 0.0, dot, us);
        const double r = t.kept ? 1.0 : 0.0; /* see grad_scale */
        const double kk = r * CL_FN(grad_k)(c, u, &t, us), inv = 1.0 / sum;
        const double ru = u >= CL_U_PROB ? r : r * t.b; /* the dense part's factor */
#pragma omp simd if (simd : !strided)
        for (int64_t j = 0; j < C; ++j) {
            const double pj = (double)g[j * S] * inv;
            const double uj = u == CL_U_ONEHOT ? 0.0
                              : ru * (double)CL_FN(dense)(u, CL_HAS_W(u) ? w[j] : 0,
                                                          u >= CL_U_PROB ? tp[j * S] : 0, keep,
                                                          eps_c);
            g[j * S] = (CLOSS_T)(kk * pj - uj);
            h[j * S] = (CLOSS_T)(kk * pj * (1.0 - pj));
        }
        if (u < CL_U_PROB && t.kept) g[t.t * S] -= (CLOSS_T)(r * t.a);
    }
    sums[CL_SUM_LOSS] = lsum;
    sums[CL_SUM_WEIGHT] = wsum;
    sums[CL_SUM_BAD] = bad;
}

/* cross_entropy_prob's target and weight gradients over positions [b, e):
 * with l_j = x_j - logsumexp(x) the row's log-softmax, sc the position's scale
 * (go[p] or gscale) and y'_j = (1 - eps) y_j + eps / c the smoothed target,
 *   dL/dy_j = -(1 - eps) w_j l_j sc,   dL/dw_j += -y'_j l_j sc (into c->gw).
 * The log-sum-exp is recomputed (the input's kernels keep no state). */
static double CL_FN(prob_grads)(const void *ctx, int64_t b, int64_t e)
{
    const closs_cl_ctx *c = (const closs_cl_ctx *)ctx;
    const int64_t nc = c->c, s = c->s;
    const CLOSS_T *x = (const CLOSS_T *)c->x, *y = (const CLOSS_T *)c->tp;
    const CLOSS_T *w = (const CLOSS_T *)c->w, *go = (const CLOSS_T *)c->go;
    CLOSS_T *gt = (CLOSS_T *)c->gt;
    for (int64_t p = b; p < e; ++p) {
        const int64_t base = (p / s) * nc * s + p % s;
        CLOSS_T m = -(CLOSS_T)INFINITY;
        for (int64_t j = 0; j < nc; ++j) {
            const CLOSS_T v = x[base + j * s];
            m = v > m || v != v ? v : m;
        }
        double sum = 0.0;
        for (int64_t j = 0; j < nc; ++j) sum += (double)exp(x[base + j * s] - m);
        const CLOSS_T lse = m + (CLOSS_T)log(sum);
        const double sc = go ? (double)go[p] : c->gscale;
        for (int64_t j = 0; j < nc; ++j) {
            const int64_t q = base + j * s;
            const double l = (double)(x[q] - lse) * sc;
            if (gt) gt[q] = (CLOSS_T)(-c->keep * (w ? (double)w[j] : 1.0) * l);
            if (c->gw) c->gw[j] -= (c->keep * (double)y[q] + c->eps_c) * l;
        }
    }
    return 0.0;
}

/* ---------------------------------------------------------------- kernels */

#define CL_KERNEL(name, body, ...) \
    CLOSS_COMPUTE_SUMS_KERNEL(CL_FN(name), CL_FN(body)(c, b, e, s, __VA_ARGS__);)
/* value, gradient, fused of one variant and layout */
#define CL_KERNELS(layout, variant, U)                   \
    CL_KERNEL(layout##_##variant##_v, layout, U, 1, 0)   \
    CL_KERNEL(layout##_##variant##_g, layout, U, 0, 1)   \
    CL_KERNEL(layout##_##variant##_f, layout, U, 1, 1)
#define CL_TABLE(layout, variant) \
    {CL_FN(layout##_##variant##_v), CL_FN(layout##_##variant##_g), CL_FN(layout##_##variant##_f)}

CL_KERNELS(rows, onehot, CL_U_ONEHOT)
CL_KERNELS(rows, smooth, CL_U_SMOOTH)
CL_KERNELS(rows, smooth_w, CL_U_SMOOTH_W)
CL_KERNELS(rows, prob, CL_U_PROB)
CL_KERNELS(rows, prob_w, CL_U_PROB_W)
CL_KERNELS(tiles, onehot, CL_U_ONEHOT)
CL_KERNELS(tiles, smooth, CL_U_SMOOTH)
CL_KERNELS(tiles, smooth_w, CL_U_SMOOTH_W)
CL_KERNELS(tiles, prob, CL_U_PROB)
CL_KERNELS(tiles, prob_w, CL_U_PROB_W)
CL_KERNELS(few, onehot, CL_U_ONEHOT)
CL_KERNELS(few, smooth, CL_U_SMOOTH)
CL_KERNELS(few, smooth_w, CL_U_SMOOTH_W)
/* grad_hess of each variant: long rows (vectorised), short rows or s > 1 (scalar) */
#define CL_GH_KERNELS(variant, U)                        \
    CL_KERNEL(gh_rows_##variant, gh, U, 0, 0)            \
    CL_KERNEL(gh_tiles_##variant, gh, U, 0, 1)
CL_GH_KERNELS(onehot, CL_U_ONEHOT)
CL_GH_KERNELS(smooth, CL_U_SMOOTH)
CL_GH_KERNELS(smooth_w, CL_U_SMOOTH_W)
CL_GH_KERNELS(prob, CL_U_PROB)
CL_GH_KERNELS(prob_w, CL_U_PROB_W)
CL_KERNEL(gh_nll, gh, CL_U_ONEHOT, 1, 1)
#undef CL_GH_KERNELS
CL_KERNEL(nll_v, nll, 1, 0)
CL_KERNEL(nll_g, nll, 0, 1)
CL_KERNEL(nll_f, nll, 1, 1)
CL_KERNEL(nll_rows_v, nll_rows, 1, 0)
CL_KERNEL(nll_rows_g, nll_rows, 0, 1)
CL_KERNEL(nll_rows_f, nll_rows, 1, 1)

static const closs_cl_kernels CL_FN(kernels) = {
    .targets = CL_FN(targets),
    .none = CL_FN(nothing),
    .nll = {{CL_FN(nll_v), CL_FN(nll_g), CL_FN(nll_f)},
            {CL_FN(nll_rows_v), CL_FN(nll_rows_g), CL_FN(nll_rows_f)}},
    .few = {CL_TABLE(few, onehot), CL_TABLE(few, smooth), CL_TABLE(few, smooth_w)},
    .rows = {CL_TABLE(rows, onehot), CL_TABLE(rows, smooth), CL_TABLE(rows, smooth_w),
             CL_TABLE(rows, prob), CL_TABLE(rows, prob_w)},
    .tiles = {CL_TABLE(tiles, onehot), CL_TABLE(tiles, smooth), CL_TABLE(tiles, smooth_w),
              CL_TABLE(tiles, prob), CL_TABLE(tiles, prob_w)},
    .gh = {{CL_FN(gh_rows_onehot), CL_FN(gh_rows_smooth), CL_FN(gh_rows_smooth_w),
            CL_FN(gh_rows_prob), CL_FN(gh_rows_prob_w)},
           {CL_FN(gh_tiles_onehot), CL_FN(gh_tiles_smooth), CL_FN(gh_tiles_smooth_w),
            CL_FN(gh_tiles_prob), CL_FN(gh_tiles_prob_w)}},
    .gh_nll = CL_FN(gh_nll),
    .prob_grads = CL_FN(prob_grads),
    .is_f64 = CLOSS_IS_F64,
};
#undef CL_KERNEL
#undef CL_KERNELS
#undef CL_TABLE

/* ---------------------------------------------------------------- public */

/* closs.h's functions of each loss of CLOSS_CLASSIFICATION_LOSSES: the
 * arguments in a struct, then the family's entry. */
#define CL_TARGET_INDICES const int64_t *
#define CL_TARGET_PROBABILITIES const CLOSS_T *
#define CL_SET_TARGET_INDICES(target) .t = target
#define CL_SET_TARGET_PROBABILITIES(target) .tp = target
#define CL_SET_PARAMS(ignore, ls) .ignore_index = ignore, .label_smoothing = ls
#define CL_ARGS(tk, args, ...)                                                              \
    const closs_classification_args a = {.n = n, .c = c, .s = s, .x = input,                \
                                         CL_SET_TARGET_##tk(target), .w = weight,           \
                                         CL_SET_PARAMS args, .reduction = reduction,        \
                                         __VA_ARGS__}
#define CL_PUBLIC(name, tk, params, args)                                                   \
    closs_status CLOSS_FN(closs_##name)(int64_t n, int64_t c, int64_t s,                    \
                                        const CLOSS_T *input, CL_TARGET_##tk target,        \
                                        const CLOSS_T *weight, CLOSS_UNPAREN params,        \
                                        closs_reduction reduction, CLOSS_T *out)            \
    {                                                                                       \
        CL_ARGS(tk, args, .out = out);                                                      \
        return closs_classification_call(CL_DTYPE, CLOSS_CLASSIFICATION_##name,             \
                                         CLOSS_OP_FORWARD, &a);                             \
    }                                                                                       \
    closs_status CLOSS_FN(closs_##name##_backward)(                                         \
        int64_t n, int64_t c, int64_t s, const CLOSS_T *input, CL_TARGET_##tk target,       \
        const CLOSS_T *weight, CLOSS_UNPAREN params, closs_reduction reduction,             \
        const CLOSS_T *grad_output, CLOSS_T *grad_input)                                    \
    {                                                                                       \
        CL_ARGS(tk, args, .grad_output = grad_output, .grad_input = grad_input);            \
        return closs_classification_call(CL_DTYPE, CLOSS_CLASSIFICATION_##name,             \
                                         CLOSS_OP_BACKWARD, &a);                            \
    }                                                                                       \
    closs_status CLOSS_FN(closs_##name##_fused)(                                            \
        int64_t n, int64_t c, int64_t s, const CLOSS_T *input, CL_TARGET_##tk target,       \
        const CLOSS_T *weight, CLOSS_UNPAREN params, closs_reduction reduction,             \
        CLOSS_T *out, CLOSS_T *grad_input)                                                  \
    {                                                                                       \
        CL_ARGS(tk, args, .out = out, .grad_input = grad_input);                            \
        return closs_classification_call(CL_DTYPE, CLOSS_CLASSIFICATION_##name,             \
                                         CLOSS_OP_FUSED, &a);                               \
    }                                                                                       \
    closs_status CLOSS_FN(closs_##name##_grad_hess)(                                      \
        int64_t n, int64_t c, int64_t s, const CLOSS_T *input, CL_TARGET_##tk target,       \
        const CLOSS_T *weight, CLOSS_UNPAREN params, CLOSS_T *out, CLOSS_T *grad,           \
        CLOSS_T *hess)                                                                      \
    {                                                                                       \
        const closs_reduction reduction = CLOSS_REDUCTION_SUM;                              \
        CL_ARGS(tk, args, .out = out, .grad_input = grad, .hess = hess);                    \
        return closs_classification_call(CL_DTYPE, CLOSS_CLASSIFICATION_##name,             \
                                         CLOSS_OP_GRAD_HESS, &a);                           \
    }                                                                                       \
    closs_status CLOSS_FN(closs_##name##_partial)(int64_t n, int64_t c, int64_t s,          \
                                                  const CLOSS_T *input,                     \
                                                  CL_TARGET_##tk target,                    \
                                                  const CLOSS_T *weight,                    \
                                                  CLOSS_UNPAREN params,                     \
                                                  closs_reduction reduction, double *out)   \
    {                                                                                       \
        CL_ARGS(tk, args, .out = out);                                                      \
        return closs_classification_call(CL_DTYPE, CLOSS_CLASSIFICATION_##name,             \
                                         CLOSS_OP_PARTIAL, &a);                             \
    }
#define CL_DTYPE (CLOSS_IS_F64 ? CLOSS_F64 : CLOSS_F32)
CLOSS_CLASSIFICATION_LOSSES(CL_PUBLIC)

/* closs.h's every-gradient function (grads) of cross_entropy_prob. */
closs_status CLOSS_FN(closs_cross_entropy_prob_grads)(
    int64_t n, int64_t c, int64_t s, const CLOSS_T *input, const CLOSS_T *target,
    const CLOSS_T *weight, double label_smoothing, closs_reduction reduction,
    const CLOSS_T *grad_output, CLOSS_T *out, CLOSS_T *grad_input, CLOSS_T *grad_target,
    CLOSS_T *grad_weight)
{
    CL_ARGS(PROBABILITIES, (0, label_smoothing), .grad_output = grad_output, .out = out,
            .grad_input = grad_input, .grad_target = grad_target, .grad_weight = grad_weight);
    CLOSS_REQUIRE(!out || !grad_output, CLOSS_ERR_INVALID_ARGUMENT);
    return closs_classification_call(CL_DTYPE, CLOSS_CLASSIFICATION_cross_entropy_prob,
                                     out ? CLOSS_OP_FUSED : CLOSS_OP_BACKWARD, &a);
}

#undef CL_DTYPE
#undef CL_PUBLIC
#undef CL_TARGET_INDICES
#undef CL_TARGET_PROBABILITIES
#undef CL_SET_TARGET_INDICES
#undef CL_SET_TARGET_PROBABILITIES
#undef CL_SET_PARAMS
#undef CL_ARGS
#undef CL_FN
#undef CL_EXP
#undef CL_UINT
#undef CL_L
#undef CL_CHUNK_MIN
#undef CL_MAX_CHUNKS
#undef CL_RUN
#undef CL_GROUP
#undef CL_GROUP_ELEMS
#undef CL_TILE
#undef CL_TILE_ELEMS
