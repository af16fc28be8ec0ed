/*
 * ctc_sample.h - the CTC recursions of one sample, in RW_T (included once per
 * dtype by rowwise_dtypes.h from ctc.c, which defines closs_ctc_ctx).
 *
 * Graves et al., "Connectionist temporal classification", ICML 2006, eqs. 6-16,
 * in log space, 0-based, on the extended target l' = (blank, l1, blank, l2,
 * ..., blank) of L = 2 tl + 1 symbols. The arithmetic follows PyTorch's CPU
 * kernel (aten/src/ATen/native/LossCTC.cpp) operation for operation, in the
 * input's precision as it does (float32 alpha and beta stay float32), so values
 * and gradients agree with torch's to rounding:
 *   alpha[0][0] = lp[0][blank], alpha[0][1] = lp[0][l1], alpha[0][s > 1] = -inf
 *   alpha[t][s] = lse(alpha[t-1][s], alpha[t-1][s-1], alpha[t-1][s-2]) + lp[t][l'_s]
 *                 (the s-2 term only where l'_{s-2} != l'_s)
 *   nll = -lse(alpha[il-1][L-1], alpha[il-1][L-2])   (0 / inf when il == 0)
 *   beta: the same backwards from beta[il-1][L-1], beta[il-1][L-2]
 *   grad[t][k] = (exp(lp[t][k]) - exp(lab[t][k] + nll - lp[t][k])) * gr
 *                with lab[t][k] = log sum over s with l'_s == k of alpha[t][s] beta[t][s]
 * lse is torch's: the maximum is subtracted and taken as 0 when it is -inf.
 */

#define CTC_FN(name) RW_TYPED(ctc_##name)

/* exp(x - m) for x <= m or NaN, without calling exp where the result is exact
 * anyway: 1 at the maximum (NaN when it is inf: 1 + (inf - inf)), 0 at -inf. */
CLOSS_INLINE RW_T CTC_FN(exp_below)(RW_T x, RW_T m)
{
    return x == m ? 1 + (x - m) : x == -(RW_T)INFINITY ? (RW_T)0 : exp(x - m);
}

/* log(exp(a) + exp(b) + exp(c)) as torch's kernel computes it, to the bit:
 * the maximum m subtracted (0 when it is -inf), the terms added left to right;
 * NaN in gives NaN out. */
CLOSS_INLINE RW_T CTC_FN(lse3)(RW_T a, RW_T b, RW_T c)
{
    RW_T m = a;
    if (b > m) m = b;
    if (c > m) m = c;
    if (m == -(RW_T)INFINITY) m = 0;
    return log(CTC_FN(exp_below)(a, m) + CTC_FN(exp_below)(b, m) + CTC_FN(exp_below)(c, m)) + m;
}

/* *acc "log+=" ab as torch's kernel does: set while *acc is -inf. */
CLOSS_INLINE void CTC_FN(log_add)(RW_T *acc, RW_T ab)
{
    if (*acc == -(RW_T)INFINITY) {
        *acc = ab;
    } else {
        const RW_T m = *acc > ab ? *acc : ab; /* std::max */
        *acc = log(CTC_FN(exp_below)(*acc, m) + CTC_FN(exp_below)(ab, m)) + m;
    }
}

/* Sample b's negative log-likelihood. Scratch `alpha` holds il * L values.
 * With want_g, also writes its gradient times gr into g (all T frames of the
 * sample; frames past il get 0), using scratch `beta` of il * L values. */
static RW_T CTC_FN(sample)(const closs_ctc_ctx *c, int64_t b, RW_T *restrict alpha,
                           RW_T *restrict beta, int want_g, RW_T gr)
{
    const RW_T ninf = -(RW_T)INFINITY;
    const int64_t stride = c->n * c->c, cc = c->c, blank = c->blank;
    const RW_T *restrict lp = (const RW_T *)c->lp + b * cc; /* frame t at lp + t * stride */
    const int64_t tl = c->tl[b], L = 2 * tl + 1;
    int64_t il = c->il[b];
    const int64_t *restrict tg = c->tg + c->toff[b];
    RW_T nll;
    if (il == 0) {
        nll = tl == 0 ? -(RW_T)0 : (RW_T)INFINITY;
    } else {
        for (int64_t s = 0; s < L; ++s) alpha[s] = ninf;
        alpha[0] = lp[blank];
        if (tl > 0) alpha[1] = lp[tg[0]];
        for (int64_t t = 1; t < il; ++t) {
            const RW_T *restrict prev = alpha + (t - 1) * L;
            RW_T *restrict cur = alpha + t * L;
            const RW_T *restrict lpt = lp + t * stride;
            /* s = 0, then label j's position 2 j + 1 and the blank after it:
             * a blank never skips (l'_{s-2} is a blank too) */
            cur[0] = CTC_FN(lse3)(prev[0], ninf, ninf) + lpt[blank];
            for (int64_t j = 0; j < tl; ++j) {
                const int64_t s = 2 * j + 1, k = tg[j];
                const RW_T a3 = j > 0 && tg[j - 1] != k ? prev[s - 2] : ninf;
                cur[s] = CTC_FN(lse3)(prev[s], prev[s - 1], a3) + lpt[k];
                cur[s + 1] = CTC_FN(lse3)(prev[s + 1], prev[s], ninf) + lpt[blank];
            }
        }
        const RW_T *last = alpha + (il - 1) * L;
        nll = -CTC_FN(lse3)(last[L - 1], tl > 0 ? last[L - 2] : ninf, ninf);
    }
    if (!want_g) return nll;

    RW_T *restrict g = (RW_T *)c->g + b * cc;
    if (c->zero_infinity && nll == (RW_T)INFINITY) il = 0;
    for (int64_t t = 0; t < il; ++t)
        for (int64_t k = 0; k < cc; ++k) g[t * stride + k] = ninf;
    if (il > 0) {
        RW_T *lb = beta + (il - 1) * L;
        RW_T *la = alpha + (il - 1) * L;
        RW_T *gl = g + (il - 1) * stride;
        for (int64_t s = 0; s < L; ++s) lb[s] = ninf;
        lb[L - 1] = lp[(il - 1) * stride + blank];
        gl[blank] = la[L - 1] + lb[L - 1];
        if (tl > 0) {
            const int64_t k = tg[tl - 1];
            lb[L - 2] = lp[(il - 1) * stride + k];
            /* set, not log-added, as torch does: where the last label is the
             * blank itself, the gradient then lacks the L - 1 term (torch's) */
            gl[k] = la[L - 2] + lb[L - 2];
        }
    }
    for (int64_t t = il - 2; t >= 0; --t) {
        const RW_T *restrict next = beta + (t + 1) * L;
        RW_T *restrict cur = beta + t * L;
        const RW_T *restrict la = alpha + t * L;
        const RW_T *restrict lpt = lp + t * stride;
        RW_T *restrict gt = g + t * stride;
        /* s descending as torch's, so the sums of alpha beta add in its order */
        cur[L - 1] = CTC_FN(lse3)(next[L - 1], ninf, ninf) + lpt[blank];
        CTC_FN(log_add)(gt + blank, la[L - 1] + cur[L - 1]);
        for (int64_t j = tl - 1; j >= 0; --j) {
            const int64_t s = 2 * j + 1, k = tg[j];
            const RW_T b3 = j + 1 < tl && tg[j + 1] != k ? next[s + 2] : ninf;
            cur[s] = CTC_FN(lse3)(next[s], next[s + 1], b3) + lpt[k];
            CTC_FN(log_add)(gt + k, la[s] + cur[s]);
            cur[s - 1] = CTC_FN(lse3)(next[s - 1], next[s], ninf) + lpt[blank];
            CTC_FN(log_add)(gt + blank, la[s - 1] + cur[s - 1]);
        }
    }
    for (int64_t t = 0; t < il; ++t)
        for (int64_t k = 0; k < cc; ++k) {
            RW_T *r = g + t * stride + k;
            const RW_T x = lp[t * stride + k];
            *r = (exp(x) - exp(*r + nll - x)) * gr;
        }
    for (int64_t t = il; t < c->t; ++t)
        for (int64_t k = 0; k < cc; ++k) g[t * stride + k] = 0;
    return nll;
}

/* The block kernel: samples [b, e); sums[0] = the sum of their reduced values
 * (nll, 0 for an infinite one with zero_infinity, over max(tl, 1) for MEAN),
 * sums[1] = 1 when no scratch slot was free. */
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
    RW_T *alpha = (RW_T *)(c->scratch + (size_t)slot * c->slot_bytes);
    RW_T *beta = alpha + c->slot_cells;
    const RW_T *go = (const RW_T *)c->go;
    RW_T *out = (RW_T *)c->out;
    double acc = 0.0;
    for (int64_t i = b; i < e; ++i) {
        RW_T gr = 0;
        if (want_g) {
            gr = go ? go[i] : (RW_T)c->gscale;
            if (c->reduction == CLOSS_REDUCTION_MEAN)
                gr = (RW_T)(c->gscale / (double)(c->tl[i] > 1 ? c->tl[i] : 1));
        }
        RW_T v = CTC_FN(sample)(c, i, alpha, beta, want_g, gr);
        if (c->zero_infinity && v == (RW_T)INFINITY) v = 0;
        if (out) out[i] = v;
        acc += c->reduction == CLOSS_REDUCTION_MEAN
                   ? (double)v / (double)(c->tl[i] > 1 ? c->tl[i] : 1)
                   : (double)v;
    }
    sums[0] = acc;
}

static CLOSS_KERNEL void CTC_FN(value)(const void *c, int64_t b, int64_t e, double *s)
{
    CTC_FN(body)(c, b, e, s, 0);
}

static CLOSS_KERNEL void CTC_FN(grad)(const void *c, int64_t b, int64_t e, double *s)
{
    CTC_FN(body)(c, b, e, s, 1);
}

closs_status RW_TYPED(closs_ctc_loss)(CLOSS_CTC_ARGS(RW_T), closs_reduction reduction, RW_T *out)
{
    const closs_ctc_args a = CLOSS_CTC_INIT(reduction);
    return closs_ctc_run(&a, CTC_FN(value), 0, 1, out, NULL, NULL);
}

closs_status RW_TYPED(closs_ctc_loss_backward)(CLOSS_CTC_ARGS(RW_T), closs_reduction reduction,
                                               const RW_T *grad_output, RW_T *grad_log_probs)
{
    const closs_ctc_args a = CLOSS_CTC_INIT(reduction);
    return closs_ctc_run(&a, CTC_FN(grad), 1, 0, NULL, grad_output, grad_log_probs);
}

closs_status RW_TYPED(closs_ctc_loss_fused)(CLOSS_CTC_ARGS(RW_T), closs_reduction reduction,
                                            RW_T *out, RW_T *grad_log_probs)
{
    const closs_ctc_args a = CLOSS_CTC_INIT(reduction);
    return closs_ctc_run(&a, CTC_FN(grad), 1, 1, out, NULL, grad_log_probs);
}

#undef CTC_FN
