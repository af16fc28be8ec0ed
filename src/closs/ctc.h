/*
 * ctc.h - the template of ctc_loss: the CTC recursions of one sample, in
 * CLOSS_T, the block kernels and closs.h's public functions (thin wrappers over
 * closs_ctc_call); included by ctc.c through closs_instantiate.h once per dtype
 * (ctc.c defines closs_ctc_ctx).
 *
 * Graves et al., "Connectionist temporal classification", ICML 2006, eqs. 6-16,
 * in log space, 0-based, on the extended target l' = (blank, l1, blank, l2,
 * ..., blank) of L = 2 tl + 1 symbols, with PyTorch's CPU kernel's definitions
 * (aten/src/ATen/native/LossCTC.cpp), in the input's precision as torch does
 * (float32 alpha and beta stay float32):
 *   alpha[0][0] = lp[0][blank], alpha[0][1] = lp[0][l1], alpha[0][s > 1] = -inf
 *   alpha[t][s] = lse(alpha[t-1][s], alpha[t-1][s-1], alpha[t-1][s-2]) + lp[t][l'_s]
 *                 (the s-2 term only where l'_{s-2} != l'_s)
 *   nll = -lse(alpha[il-1][L-1], alpha[il-1][L-2])   (0 / inf when il == 0)
 *   beta: the same backwards from beta[il-1][L-1], beta[il-1][L-2]; both
 *         include the frame's own lp[t][l'_s]
 *   grad[t][k] = (exp(lp[t][k]) - sum over s with l'_s == k of
 *                 exp(alpha[t][s] + beta[t][s] + nll - lp[t][k])) * gr
 * lse is torch's: the maximum subtracted and taken as 0 when it is -inf, the
 * three exponentials added left to right, NaN in giving NaN out.
 *
 * Speed. Each frame's recursion is one branch-free loop over s (the s-1 and
 * s-2 terms read from two -inf cells padding every row, the s-2 term selected
 * by a precomputed mask), with closs_internal.h's polynomial exp and log, so GCC
 * vectorises it (AVX-512 / AVX2 clones). The log-probabilities a frame needs
 * are gathered once into a row e[s] = lp[t][l'_s]. Alpha is kept for every
 * frame when a gradient is wanted (two rows otherwise); beta runs backwards in
 * two rows, and each frame's gradient row is written as soon as its beta row
 * exists, so log_probs and the gradient are each passed over once.
 *
 * Where this is not torch's arithmetic (results agree to rounding, not to the
 * bit; tests/test_ctc.py's assert_parity states the rule):
 *   - exp and log are closs_internal.h's (1-2 ulp), not glibc's scalar expf / exp;
 *   - torch log-adds alpha + beta per class and then takes one exp; here each
 *     term's exp is summed (the same number: e^(log a + log b) = a b); the
 *     blank's terms are added first, then subtracted once.
 * What torch's form implies for non-finite input is kept exactly:
 *   - exp(-inf + nll - lp) of a class no alignment visits is 0, but NaN where
 *     lp is -inf or NaN or nll is inf or NaN (-inf + inf): the term z below;
 *   - at the last frame only the two final symbols count, and where the last
 *     label is the blank itself torch sets (does not add) its term over the
 *     blank's, dropping the blank's own.
 */

#define CTC_FN(name) CLOSS_FN(ctc_##name)
#define CTC_EXP CLOSS_FN(closs_exp)           /* arguments <= 0, -inf or NaN */
#define CTC_EXP_FULL CLOSS_FN(closs_exp_full) /* any argument */
#define CTC_LOG CLOSS_FN(closs_log)

/* log(e^a + e^b + e^c) as torch's kernel computes it (see the top). */
CLOSS_INLINE CLOSS_T CTC_FN(lse3)(CLOSS_T a, CLOSS_T b, CLOSS_T c)
{
    CLOSS_T m = b > a ? b : a; /* a NaN a stays; a NaN b or c makes its exp NaN */
    m = c > m ? c : m;
    m = m == -(CLOSS_T)INFINITY ? 0 : m;
    return CTC_LOG(CTC_EXP(a - m) + CTC_EXP(b - m) + CTC_EXP(c - m)) + m;
}

/* The loops over s run over whole vectors: s < Lv, L rounded up to
 * CTC_VLEN, so that no scalar remainder loop runs the exp and log of a
 * short target. Cells past L have e[s] = -inf, so beta's are -inf (they are
 * read as beta's pads) and alpha's feed no cell below L. The s-2 / s+2 cell is
 * loaded unconditionally (the pads make it readable) and then selected: a load
 * under skip[s] became an AVX2 masked load, a form GCC 12 -O3 has miscompiled
 * in 16-lane loops (every 4-lane group given the first group's mask; see
 * margin_rows.h). */
#define CTC_FOR_S(s, Lv, BODY)                                      \
    for (int64_t v_ = 0; v_ < (Lv); v_ += CTC_VLEN)                 \
        for (int64_t k_ = 0; k_ < CTC_VLEN; ++k_) {                 \
            const int64_t s = v_ + k_;                              \
            BODY;                                                   \
        }

/* One frame of alpha: cur[s] from prev[s], prev[s-1], prev[s-2] (prev[-1],
 * prev[-2] are -inf pads; skip[s] != 0 where the s-2 term counts). */
CLOSS_INLINE void CTC_FN(alpha_step)(const CLOSS_T *restrict prev, CLOSS_T *restrict cur,
                                     const CLOSS_T *restrict e, const CLOSS_T *restrict skip,
                                     int64_t Lv)
{
    const CLOSS_T ninf = -(CLOSS_T)INFINITY;
    CTC_FOR_S(s, Lv, const CLOSS_T p2 = prev[s - 2]; /* unconditional: see CTC_FOR_S */
              cur[s] = CTC_FN(lse3)(prev[s], prev[s - 1], skip[s] != 0 ? p2 : ninf) + e[s])
}

/* One frame of beta: cur[s] from next[s], next[s+1], next[s+2] (next[Lv],
 * next[Lv+1] are -inf pads; the s+2 term counts where skip[s+2] != 0). */
CLOSS_INLINE void CTC_FN(beta_step)(const CLOSS_T *restrict next, CLOSS_T *restrict cur,
                                    const CLOSS_T *restrict e, const CLOSS_T *restrict skip,
                                    int64_t Lv)
{
    const CLOSS_T ninf = -(CLOSS_T)INFINITY;
    CTC_FOR_S(s, Lv, const CLOSS_T n2 = next[s + 2]; /* unconditional: see CTC_FOR_S */
              cur[s] = CTC_FN(lse3)(next[s], next[s + 1], skip[s + 2] != 0 ? n2 : ninf) + e[s])
}

/* Prefetches the lines of a frame `rows` that a pass will read (or write):
 * the whole row when it is short, else the lines of the extended target's
 * classes. Frames lie n c values apart, a stride the hardware prefetcher
 * misses. */
#define CTC_AHEAD 8
#define CTC_WHOLE_ROW (1024 / (int64_t)sizeof(CLOSS_T))
CLOSS_INLINE void CTC_FN(prefetch)(const CLOSS_T *row, int64_t cc, const int64_t *restrict ext,
                                   int64_t L)
{
    if (cc <= CTC_WHOLE_ROW)
        for (int64_t k = 0; k < cc; k += 64 / (int64_t)sizeof(CLOSS_T)) CTC_PREFETCH(row + k);
    else
        for (int64_t s = 0; s < L; ++s) CTC_PREFETCH(row + ext[s]);
}

/* em[t][s] = lp[t][l'_s] for the sample's il frames (s < L; -inf up to Lv):
 * one pass of independent loads, CTC_AHEAD frames prefetched, so that the
 * recursions read their log-probabilities from contiguous rows. */
CLOSS_INLINE void CTC_FN(emissions)(const CLOSS_T *restrict lp, int64_t stride, int64_t cc,
                                    const int64_t *restrict ext, int64_t L, int64_t Lv,
                                    int64_t il, CLOSS_T *restrict em, int64_t w)
{
    for (int64_t t = 0; t < CTC_AHEAD && t < il; ++t) CTC_FN(prefetch)(lp + t * stride, cc, ext, L);
    for (int64_t t = 0; t < il; ++t) {
        if (t + CTC_AHEAD < il) CTC_FN(prefetch)(lp + (t + CTC_AHEAD) * stride, cc, ext, L);
        const CLOSS_T *restrict lpt = lp + t * stride;
        CLOSS_T *restrict row = em + t * w;
        for (int64_t s = 0; s < L; ++s) row[s] = lpt[ext[s]];
        for (int64_t s = L; s < Lv; ++s) row[s] = -(CLOSS_T)INFINITY;
    }
}

/* A frame's gradient before the alignments' terms: (exp(lp) - z) * gr, where
 * z = exp(h - lp) with h = -inf + nll is 0, or NaN (see the top). */
CLOSS_INLINE void CTC_FN(grad_row)(const CLOSS_T *restrict lpt, CLOSS_T *restrict gt, int64_t cc,
                                   CLOSS_T h, CLOSS_T gr)
{
    for (int64_t k = 0; k < cc; ++k) {
        const CLOSS_T x = lpt[k], d = h - x;
        gt[k] = (CTC_EXP_FULL(x) - (d == d ? (CLOSS_T)0 : d)) * gr;
    }
}

/* q[s] = exp(alpha[s] + beta[s] + nll - e[s]) * gr: the occupancy of symbol s
 * over the frame's probability of its class, times grad_output. */
CLOSS_INLINE void CTC_FN(terms)(const CLOSS_T *restrict la, const CLOSS_T *restrict lb,
                                const CLOSS_T *restrict e, CLOSS_T nll, CLOSS_T gr, CLOSS_T *restrict q,
                                int64_t Lv)
{
    CTC_FOR_S(s, Lv, q[s] = CTC_EXP_FULL(la[s] + lb[s] + nll - e[s]) * gr)
}

/* Sample b's negative log-likelihood. work: the slot's rows (see ctc.c:
 * skip, e, q, two beta rows, then alpha's rows: all il frames with want_g,
 * else two), ext: its extended target. With want_g, also writes the sample's
 * gradient times gr into g (all T frames; frames past il get 0). */
CLOSS_INLINE CLOSS_T CTC_FN(sample)(const closs_ctc_ctx *c, int64_t b, CLOSS_T *restrict work,
                                 int64_t *restrict ext, int want_g, CLOSS_T gr)
{
    const CLOSS_T ninf = -(CLOSS_T)INFINITY;
    const int64_t stride = c->n * c->c, cc = c->c, blank = c->blank, w = c->width;
    const CLOSS_T *restrict lp = (const CLOSS_T *)c->lp + b * cc; /* frame t at lp + t * stride */
    const int64_t tl = c->tl[b], L = 2 * tl + 1, Lv = (L + CTC_VLEN - 1) / CTC_VLEN * CTC_VLEN;
    int64_t il = c->il[b];
    const int64_t *restrict tg = c->tg + c->toff[b];
    CLOSS_T *restrict skip = work + CTC_PAD, *restrict q = skip + w, *restrict beta = q + w;
    CLOSS_T *restrict alpha = beta + 2 * w, *restrict em = alpha + (want_g ? c->frames : 2) * w;
#define CTC_ALPHA(t) (alpha + CTC_PAD + (want_g ? (t) : (t) & 1) * w)

    for (int64_t s = 0; s < L; ++s) {
        ext[s] = s & 1 ? tg[s >> 1] : blank;
        skip[s] = s & 1 && s > 1 && tg[(s >> 1) - 1] != tg[s >> 1];
    }
    for (int64_t s = L; s < Lv + CTC_PAD; ++s) skip[s] = 0;
    CLOSS_T nll;
    if (il == 0) {
        nll = tl == 0 ? -(CLOSS_T)0 : (CLOSS_T)INFINITY;
    } else {
        CTC_FN(emissions)(lp, stride, cc, ext, L, Lv, il, em, w);
        CLOSS_T *a0 = CTC_ALPHA(0);
        for (int64_t s = -CTC_PAD; s < Lv; ++s) a0[s] = ninf;
        a0[0] = lp[blank];
        if (tl > 0) a0[1] = lp[tg[0]];
        for (int64_t t = 1; t < il; ++t) {
            CLOSS_T *cur = CTC_ALPHA(t);
            cur[-2] = cur[-1] = ninf;
            CTC_FN(alpha_step)(CTC_ALPHA(t - 1), cur, em + t * w, skip, Lv);
        }
        const CLOSS_T *last = CTC_ALPHA(il - 1);
        nll = -CTC_FN(lse3)(last[L - 1], tl > 0 ? last[L - 2] : ninf, ninf);
    }
    if (!want_g) return nll;

    CLOSS_T *restrict g = (CLOSS_T *)c->g + b * cc;
    if (c->zero_infinity && nll == (CLOSS_T)INFINITY) il = 0;
    const CLOSS_T h = ninf + nll;
    if (il > 0) { /* the last frame: beta is its lp at the two final symbols */
        const CLOSS_T *lpt = lp + (il - 1) * stride, *la = CTC_ALPHA(il - 1);
        CLOSS_T *gt = g + (il - 1) * stride;
        CTC_FN(grad_row)(lpt, gt, cc, h, gr);
        const CLOSS_T lb = lpt[blank];
        if (tl == 0 || tg[tl - 1] != blank) gt[blank] -= CTC_EXP_FULL(la[L - 1] + lb + nll - lb) * gr;
        if (tl > 0) {
            const CLOSS_T lk = lpt[tg[tl - 1]];
            gt[tg[tl - 1]] -= CTC_EXP_FULL(la[L - 2] + lk + nll - lk) * gr;
        }
        CLOSS_T *b0 = beta + CTC_PAD + ((il - 1) & 1) * w, *b1 = beta + CTC_PAD + (il & 1) * w;
        for (int64_t s = 0; s < Lv + CTC_PAD; ++s) b0[s] = ninf;
        b0[L - 1] = lb;
        if (tl > 0) b0[L - 2] = lpt[tg[tl - 1]];
        b1[Lv] = b1[Lv + 1] = ninf; /* the other row's pads */
    }
    for (int64_t t = il - 2; t >= 0; --t) {
        const CLOSS_T *lpt = lp + t * stride, *la = CTC_ALPHA(t);
        const CLOSS_T *next = beta + CTC_PAD + ((t + 1) & 1) * w;
        CLOSS_T *cur = beta + CTC_PAD + (t & 1) * w, *gt = g + t * stride;
        const CLOSS_T *e = em + t * w;
        if (t >= CTC_AHEAD) { /* the gradient's rows, also lp's where the gather took a few lines */
            CTC_FN(prefetch)(gt - CTC_AHEAD * stride, cc, ext, 0);
            CTC_FN(prefetch)(lpt - CTC_AHEAD * stride, cc, ext, 0);
        }
        CTC_FN(beta_step)(next, cur, e, skip, Lv);
        CTC_FN(terms)(la, cur, e, nll, gr, q, Lv);
        CTC_FN(grad_row)(lpt, gt, cc, h, gr);
        CLOSS_T qb = 0;
        for (int64_t j = 0; j < tl; ++j) {
            qb += q[2 * j];
            gt[tg[j]] -= q[2 * j + 1];
        }
        gt[blank] -= qb + q[L - 1];
    }
    for (int64_t t = il; t < c->t; ++t)
        for (int64_t k = 0; k < cc; ++k) g[t * stride + k] = 0;
#undef CTC_ALPHA
    return nll;
}

/* The block kernel: samples order[b .. e); sums[0] = the sum of their reduced
 * values (nll, 0 for an infinite one with zero_infinity, over max(tl, 1) for
 * MEAN), sums[1] = 1 when no scratch slot was free. */
CLOSS_INLINE void CTC_FN(body)(const void *ctx, int64_t b, int64_t e, double *sums,
                               const int want_g)
{
    const closs_ctc_ctx *c = (const closs_ctc_ctx *)ctx;
    const int slot = closs_thread_index();
    sums[0] = 0.0;
    sums[1] = 0.0;
    if (slot >= c->slots) {
        sums[1] = 1.0;
        return;
    }
    char *mem = c->scratch + (size_t)slot * c->slot_bytes;
    int64_t *ext = (int64_t *)mem;
    CLOSS_T *work = (CLOSS_T *)(mem + (size_t)c->width * sizeof(int64_t));
    const CLOSS_T *go = (const CLOSS_T *)c->go;
    CLOSS_T *out = (CLOSS_T *)c->out;
    double acc = 0.0;
    for (int64_t r = b; r < e; ++r) {
        const int64_t i = c->order[r];
        CLOSS_T gr = 0;
        if (want_g) {
            gr = go ? go[i] : (CLOSS_T)c->gscale;
            if (c->reduction == CLOSS_REDUCTION_MEAN)
                gr = (CLOSS_T)(c->gscale / (double)(c->tl[i] > 1 ? c->tl[i] : 1));
        }
        CLOSS_T v = CTC_FN(sample)(c, i, work, ext, want_g, gr);
        if (c->zero_infinity && v == (CLOSS_T)INFINITY) v = 0;
        if (out) out[i] = v;
        acc += c->reduction == CLOSS_REDUCTION_MEAN
                   ? (double)v / (double)(c->tl[i] > 1 ? c->tl[i] : 1)
                   : (double)v;
    }
    sums[0] = acc;
}

CLOSS_COMPUTE_SUMS_KERNEL(CTC_FN(value), CTC_FN(body)(c, b, e, s, 0);)
CLOSS_COMPUTE_SUMS_KERNEL(CTC_FN(grad), CTC_FN(body)(c, b, e, s, 1);)

/* closs.h's functions: the arguments in a struct, then the family's entry. */
#define CTC_ARGS(...)                                                                      \
    const closs_ctc_args a = {t, n, c, log_probs, targets, s, concatenated, input_lengths, \
                              target_lengths, blank, zero_infinity, reduction, __VA_ARGS__}
#define CTC_DTYPE (CLOSS_IS_F64 ? CLOSS_F64 : CLOSS_F32)

closs_status CLOSS_FN(closs_ctc_loss)(CLOSS_CTC_ARGS(CLOSS_T), closs_reduction reduction,
                                      CLOSS_T *out)
{
    CTC_ARGS(out, NULL, NULL);
    return closs_ctc_call(CTC_DTYPE, CLOSS_OP_FORWARD, &a);
}

closs_status CLOSS_FN(closs_ctc_loss_backward)(CLOSS_CTC_ARGS(CLOSS_T), closs_reduction reduction,
                                               const CLOSS_T *grad_output,
                                               CLOSS_T *grad_log_probs)
{
    CTC_ARGS(NULL, grad_output, grad_log_probs);
    return closs_ctc_call(CTC_DTYPE, CLOSS_OP_BACKWARD, &a);
}

closs_status CLOSS_FN(closs_ctc_loss_fused)(CLOSS_CTC_ARGS(CLOSS_T), closs_reduction reduction,
                                            CLOSS_T *out, CLOSS_T *grad_log_probs)
{
    CTC_ARGS(out, NULL, grad_log_probs);
    return closs_ctc_call(CTC_DTYPE, CLOSS_OP_FUSED, &a);
}

closs_status CLOSS_FN(closs_ctc_loss_partial)(CLOSS_CTC_ARGS(CLOSS_T), closs_reduction reduction,
                                              double *out)
{
    CTC_ARGS(out, NULL, NULL);
    return closs_ctc_call(CTC_DTYPE, CLOSS_OP_PARTIAL, &a);
}

#undef CTC_ARGS
#undef CTC_DTYPE
#undef CTC_FN
#undef CTC_FOR_S
#undef CTC_EXP
#undef CTC_EXP_FULL
#undef CTC_LOG
