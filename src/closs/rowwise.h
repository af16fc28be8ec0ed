/*
 * rowwise.h - the template of the row-wise losses (rowwise.c), in CLOSS_T
 * (closs_instantiate.h includes it once per dtype): each loss's row function
 * and the block kernels over rows that the driver runs.
 *
 * A row function <name>_row, for each loss of CLOSS_ROWWISE_LOSSES:
 *     double row(const rowwise_ctx *c, int64_t i, int64_t d, int v, int want_g, double s)
 * returns the value of row i (of d elements) in double and, when want_g (a
 * compile-time constant in every caller), writes the row's gradients times s
 * into c->g; v is the call's variant (rowwise_variant: the norm of a triplet,
 * multi_margin's p). In the narrow kernels d and v are constants, and the row
 * functions are written so that their loops then unroll into straight code
 * without branches or gathers (a class's score is picked by a select over the
 * row, row_pick): the loop over rows vectorises across rows.
 * Comparisons are written as torch's CPU kernels write them, so that NaN and
 * inf take the same branches: a hinge term counts when z > 0 (NaN adds
 * nothing), a clamp keeps NaN. Row sums (dot products, norms, distances, a
 * row's hinge terms) accumulate in double lanes in a fixed order (ROW_SUM).
 *
 * Each loop variant of a loss (value stored or summed, gradient or not,
 * per-row grad_output or a scalar) is its own block kernel, so no row loop
 * tests a flag: rowwise_kernels_<sfx>[kind].
 */

#ifndef CLOSS_ROWWISE_ONCE
#define CLOSS_ROWWISE_ONCE
/* What the row functions share across dtypes. */

/* torch adds its float constant EPSILON = 1e-12 to both squared norms (cosine_embedding_loss). */
#define COSINE_EPS ((double)1e-12f)

/* The p-norms of triplet_margin_loss, each with its own loops (the variants of its rows). */
enum { DIST_L1, DIST_L2, DIST_LINF, DIST_LP };

static int dist_kind(double p)
{
    return p == 1 ? DIST_L1 : p == 2 ? DIST_L2 : isinf(p) ? DIST_LINF : DIST_LP;
}

/* The variant of a call's rows, a constant of the row loops of the narrow kernels. */
static int rowwise_variant(int kind, const rowwise_ctx *c)
{
    switch (kind) {
    case ROWWISE_KIND(multi_margin_loss): /* squared hinges, class weights */
        return (c->p[0] == 2) | (c->w != NULL) << 1;
    case ROWWISE_KIND(triplet_margin_loss): return dist_kind(c->p[1]);
    default: return 0;
    }
}

/* torch's sgn of a real number: -1, 0 or 1, and 0 at NaN. */
#define EMB_SIGN(T, v) (T)(((v) > 0) - ((v) < 0))

/* Classes per pass of a multilabel row: its "is a target" flags live on the stack. */
#define ML_CHUNK 1024

/*
 * Narrow rows: rows of ROWWISE_NARROW_MIN .. ROWWISE_NARROW elements (the row
 * length a constant: ROWWISE_NARROW_LENGTHS) are taken CLOSS_LANES rows at a
 * time, one accumulator per row of the group, by the forward kernels (value,
 * sum): a row's few elements are then too few to vectorise along, and the
 * loop across rows vectorises instead. Measured with
 * benchmarks/bench.py --rowwise-corners (docs/architecture.md).
 */
#define ROWWISE_NARROW_MIN 2
#define ROWWISE_NARROW 4
#define ROWWISE_NARROW_LENGTHS(X) X(2) X(3) X(4)

/* How a block kernel's loop takes its rows (rowwise_rows). */
enum { ROWS_ONE_BY_ONE, ROWS_ONE_ELEMENT, ROWS_NARROW };

/* Before a loop of at most ROWWISE_NARROW iterations: unroll it completely.
 * ROW_KEEP_LOOP, before the loop across CLOSS_LANES rows: do not peel it (GCC
 * would then try to vectorise 16 copies of a row as one block, and fail where
 * a row has several loops, multilabel's), so that it vectorises as a loop. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define ROW_UNROLL _Pragma("GCC unroll 4")
#define ROW_KEEP_LOOP _Pragma("GCC unroll 1")
#else
#define ROW_UNROLL
#define ROW_KEEP_LOOP
#endif

/*
 * ROW_SUM(sum, len, j, TERM) - CLOSS_SUM_LANES for a row: a row shorter than
 * CLOSS_LANES is summed in one accumulator, which gives CLOSS_SUM_LANES's value
 * (there the first lane takes every term and the others add +0), without its
 * lanes: a narrow row's sums are then a few adds.
 */
#define ROW_SUM(sum, len, j, TERM)                           \
    do {                                                     \
        const int64_t rlen_ = (len);                         \
        if (rlen_ < CLOSS_LANES) {                           \
            double racc_ = 0.0;                              \
            for (int64_t j = 0; j < rlen_; ++j) racc_ += (double)(TERM); \
            (sum) = racc_;                                   \
        } else {                                             \
            CLOSS_SUM_LANES(sum, rlen_, j, TERM);            \
        }                                                    \
    } while (0)
#endif /* CLOSS_ROWWISE_ONCE */

/* v[t] of a row of d values (0 <= t < d): for a narrow row a select over the
 * row (t is the only index it matches), which vectorises across rows where a
 * load at t would be a gather; a load otherwise. */
CLOSS_INLINE CLOSS_T CLOSS_FN(row_pick)(const CLOSS_T *restrict v, const int64_t t,
                                        const int64_t d)
{
    if (d > ROWWISE_NARROW) return v[t];
    CLOSS_T r = 0;
    for (int64_t j = 0; j < d; ++j) {
        const CLOSS_T vj = v[j]; /* loaded whatever t is: no masked load (see multilabel_hinges) */
        r = j == t ? vj : r;
    }
    return r;
}

/* ------------------------------------------------------------ margin losses */
/* margin_ranking_loss, rows of one element: v = -y (x1 - x2) + margin in CLOSS_T,
 * L = max(v, 0) keeping NaN; dL/dx1 = -y [v >= 0] = -dL/dx2 (torch's clamp_min
 * passes the gradient at v == 0, and a NaN y gives a NaN gradient);
 * dL/dy = -(x1 - x2) [v >= 0], into c->gy when want_g is 2 (its own kernels,
 * margin_ranking_y_kernels: a test of c->gy in the loop kept it scalar). */
CLOSS_INLINE double CLOSS_FN(margin_ranking_loss_row)(const rowwise_ctx *c, int64_t i,
                                                      const int64_t d, const int v_,
                                                      const int want_g, const double s)
{
    (void)d, (void)v_;
    const CLOSS_T x1 = ((const CLOSS_T *)c->x[0])[i], x2 = ((const CLOSS_T *)c->x[1])[i];
    const CLOSS_T y = ((const CLOSS_T *)c->y)[i];
    const CLOSS_T v = -y * (x1 - x2) + (CLOSS_T)c->p[0];
    if (want_g) {
        const CLOSS_T g = (v >= 0 ? (CLOSS_T)s : (CLOSS_T)0) * -y;
        ((CLOSS_T *)c->g[0])[i] = g;
        ((CLOSS_T *)c->g[1])[i] = -g;
        if (want_g == 2) ((CLOSS_T *)c->gy)[i] = (v >= 0 ? (CLOSS_T)s : (CLOSS_T)0) * -(x1 - x2);
    }
    return v < 0 ? 0.0 : (double)v;
}

/* The hinge terms h(z_j) of a multi_margin row over classes [j0, j1), where
 * z_j = a + x_j (a = margin - x_t) and h(z) = z (sq = 0) or z^2 (sq = 1) when
 * z > 0, else 0: their sum. */
CLOSS_INLINE double CLOSS_FN(multi_margin_hinges)(const CLOSS_T *restrict x, int64_t j0,
                                                  int64_t j1, const CLOSS_T a, const int sq)
{
    double sum;
    x += j0;
#define MM_Z(j) (a + x[j])
    ROW_SUM(sum, j1 - j0, j, MM_Z(j) > 0 ? (sq ? MM_Z(j) * MM_Z(j) : MM_Z(j)) : 0);
    return sum;
}

/* Their gradients g_j = gs h'(z_j) written over [j0, j1); returns their sum. A
 * separate pass from the value's (over the same row, in L1). */
CLOSS_INLINE double CLOSS_FN(multi_margin_slopes)(const CLOSS_T *restrict x, CLOSS_T *restrict g,
                                                  int64_t j0, int64_t j1, const CLOSS_T a,
                                                  const int sq, const CLOSS_T gs)
{
    double sum;
    x += j0, g += j0;
    ROW_SUM(sum, j1 - j0, j, g[j] = MM_Z(j) > 0 ? (sq ? 2 * gs * MM_Z(j) : gs) : 0);
#undef MM_Z
    return sum;
}

/* One wide multi_margin row for p = 1 (sq = 0) or 2 (sq = 1): classes [0, t)
 * and (t, d) on either side of the target. */
CLOSS_INLINE double CLOSS_FN(multi_margin_rowp)(const CLOSS_T *restrict x, CLOSS_T *restrict g,
                                                const int64_t d, const int64_t t, const CLOSS_T a,
                                                const int sq, const int want_g, const CLOSS_T gs)
{
    if (want_g)
        g[t] = (CLOSS_T) - (CLOSS_FN(multi_margin_slopes)(x, g, 0, t, a, sq, gs) +
                         CLOSS_FN(multi_margin_slopes)(x, g, t + 1, d, a, sq, gs));
    return CLOSS_FN(multi_margin_hinges)(x, 0, t, a, sq) +
           CLOSS_FN(multi_margin_hinges)(x, t + 1, d, a, sq);
}

/* A narrow multi_margin row: one loop with the target masked out. */
CLOSS_INLINE double CLOSS_FN(multi_margin_narrow)(const CLOSS_T *restrict x, CLOSS_T *restrict g,
                                                  const int64_t d, const int64_t t,
                                                  const CLOSS_T a, const int sq,
                                                  const int want_g, const CLOSS_T gs)
{
    double hsum;
#define MM_Z(j) (a + x[j])
#define MM_ON(j) ((MM_Z(j) > 0) & ((j) != t))
    ROW_SUM(hsum, d, j, MM_ON(j) ? (sq ? MM_Z(j) * MM_Z(j) : MM_Z(j)) : 0);
    if (want_g) {
        double gsum;
        ROW_SUM(gsum, d, j, g[j] = MM_ON(j) ? (sq ? 2 * gs * MM_Z(j) : gs) : 0);
        g[t] = (CLOSS_T)-gsum;
    }
#undef MM_ON
#undef MM_Z
    return hsum;
}

/* multi_margin_loss, a row of d classes with target t (validated):
 * L = w_t / d sum_{j != t} h(margin - x_t + x_j), h(z) = z (p = 1) or z^2
 * (p = 2: v & 1) when z > 0, else 0, w_t = 1 without weights (v & 2 says
 * there are); dL/dx_j = w_t / d h'(.) for j != t and dL/dx_t = -(their sum).
 * A wide row is taken as classes [0, t) and (t, d) on either side of the
 * target (each a vectorised sum; one loop with j != t masked measured 10x
 * slower at 1000 classes); a narrow row (d <= ROWWISE_NARROW, a constant in
 * the narrow kernels) as one loop with the target masked out, straight code
 * once unrolled. p as a constant of each copy (a runtime sq left the gradient
 * loop scalar). p[1] is the margin. */
CLOSS_INLINE double CLOSS_FN(multi_margin_loss_row)(const rowwise_ctx *c, int64_t i,
                                                    const int64_t d, const int v,
                                                    const int want_g, const double s)
{
    const int64_t t = c->idx[i];
    const CLOSS_T *x = (const CLOSS_T *)c->x[0] + i * d;
    CLOSS_T *g = want_g ? (CLOSS_T *)c->g[0] + i * d : NULL;
    const double wt = v & 2 ? (double)CLOSS_FN(row_pick)((const CLOSS_T *)c->w, t, d) : 1.0;
    const CLOSS_T a = (CLOSS_T)c->p[1] - CLOSS_FN(row_pick)(x, t, d);
    const CLOSS_T gs = (CLOSS_T)(s * wt / (double)d);
    double hsum;
    if (d <= ROWWISE_NARROW)
        hsum = v & 1 ? CLOSS_FN(multi_margin_narrow)(x, g, d, t, a, 1, want_g, gs)
                     : CLOSS_FN(multi_margin_narrow)(x, g, d, t, a, 0, want_g, gs);
    else
        hsum = v & 1 ? CLOSS_FN(multi_margin_rowp)(x, g, d, t, a, 1, want_g, gs)
                     : CLOSS_FN(multi_margin_rowp)(x, g, d, t, a, 0, want_g, gs);
    return hsum * wt / (double)d;
}

/* sum over j in [0, len) of the hinge max(0, a + x_j) where listed[j] is 0.
 * (The flags have x's width, so that the loop vectorises.) ML_ON loads both
 * operands unconditionally (`&`, not `&&`): GCC 12 at -O3 with AVX2 turns the
 * short-circuit load of listed[j] into masked loads and gives every 4-lane
 * group of the 16-accumulator loop the first group's mask (a wrong sum for
 * rows of 16+ classes with several targets; tests/test_class_counts.py). */
CLOSS_INLINE double CLOSS_FN(multilabel_hinges)(const CLOSS_T *restrict x,
                                                const CLOSS_T *restrict listed,
                                                const int64_t len, const CLOSS_T a)
{
    double sum;
#define ML_ON(j) ((a + x[j] > 0) & (listed[j] == 0))
    ROW_SUM(sum, len, j, ML_ON(j) ? a + x[j] : 0);
    return sum;
}

/* Adds gs to g_j for each j of [0, len) whose hinge above is active; returns
 * how many are (a separate pass from the value's). */
CLOSS_INLINE double CLOSS_FN(multilabel_slopes)(const CLOSS_T *restrict x, CLOSS_T *restrict g,
                                                const CLOSS_T *restrict listed,
                                                const int64_t len, const CLOSS_T a,
                                                const CLOSS_T gs)
{
    double count;
    ROW_SUM(count, len, j, (g[j] += ML_ON(j) ? gs : 0, ML_ON(j)));
    return count;
}

/* A multilabel row of d <= ROWWISE_NARROW classes (the row below): the same
 * sums, in the same order, with the list's end, the "is a target" flags and
 * the targets' scores as selects over the row (no loop that stops at the -1,
 * no store at a target), and the gradient gathered in registers first. Every
 * loop is unrolled (ROW_UNROLL): GCC does not peel the nest by itself, and
 * the loop across rows then does not vectorise. */
CLOSS_INLINE double CLOSS_FN(multilabel_narrow)(const CLOSS_T *restrict x,
                                                const int64_t *restrict t, CLOSS_T *restrict g,
                                                const int64_t d, const int want_g,
                                                const CLOSS_T gs)
{
    /* the row and its list first, unconditionally (else GCC sinks loads under
     * the selects: masked loads); the list in int (GCC's unsigned range tests
     * of int64 do not vectorise). A chain of selects on one index (r = t == j ?
     * x_j : r) becomes a switch here, whose PHI GCC cannot if-convert: the
     * flags and scores are sums of terms instead (one of them nonzero). */
    CLOSS_T xr[ROWWISE_NARROW] = {0}, listed[ROWWISE_NARROW] = {0}, gl[ROWWISE_NARROW] = {0};
    CLOSS_T xt[ROWWISE_NARROW] = {0};
    int kept[ROWWISE_NARROW] = {0}, te[ROWWISE_NARROW] = {0}, on = 1;
    ROW_UNROLL
    for (int64_t e = 0; e < d; ++e) {
        xr[e] = x[e], te[e] = (int)t[e];
        kept[e] = on = on & (te[e] >= 0);
    }
    ROW_UNROLL
    for (int64_t e = 0; e < d; ++e) /* sums of independent terms, not chains of selects */
        ROW_UNROLL
        for (int64_t j = 0; j < d; ++j) {
            listed[j] += (CLOSS_T)(kept[e] & (te[e] == j));
            xt[e] += te[e] == j ? xr[j] : 0;
        }
    double sum = 0.0;
    ROW_UNROLL
    for (int64_t e = 0; e < d; ++e) {
        const CLOSS_T a = (CLOSS_T)1 - xt[e];
        double h = 0.0, count = 0.0;
        ROW_UNROLL
        for (int64_t j = 0; j < d; ++j) {
            const int on_j = (a + xr[j] > 0) & (listed[j] == 0);
            h += on_j ? a + xr[j] : 0;
            if (want_g) {
                gl[j] += kept[e] & on_j ? gs : 0;
                count += kept[e] & on_j;
            }
        }
        sum += kept[e] ? h : 0.0;
        if (want_g)
            ROW_UNROLL
            for (int64_t j = 0; j < d; ++j)
                gl[j] -= kept[e] & (te[e] == j) ? gs * (CLOSS_T)count : 0;
    }
    if (want_g)
        for (int64_t j = 0; j < d; ++j) g[j] = gl[j];
    return sum;
}
#undef ML_ON

/* multilabel_margin_loss, a row of d classes whose targets t_0 .. t_{k-1} end
 * at the first negative entry (validated: all in [-1, d)):
 * L = 1/d sum_e sum_{j not a target} max(0, 1 - x_{t_e} + x_j), a duplicate
 * target counting twice; each active pair adds 1/d to dL/dx_j and takes it
 * from dL/dx_{t_e}. The classes are taken ML_CHUNK at a time, with a flag per
 * class of the chunk telling the targets, so that the loops over classes
 * vectorise and no memory is allocated. */
CLOSS_INLINE double CLOSS_FN(multilabel_margin_loss_row)(const rowwise_ctx *c, int64_t i,
                                                         const int64_t d, const int v,
                                                         const int want_g, const double s)
{
    (void)v;
    const int64_t *t = c->idx + i * d;
    const CLOSS_T *x = (const CLOSS_T *)c->x[0] + i * d;
    CLOSS_T *g = want_g ? (CLOSS_T *)c->g[0] + i * d : NULL;
    const CLOSS_T gs = (CLOSS_T)(s / (double)d);
    if (d <= ROWWISE_NARROW)
        return CLOSS_FN(multilabel_narrow)(x, t, g, d, want_g, gs) / (double)d;
    int64_t k = 0;
    while (k < d && t[k] >= 0) ++k;
    if (want_g)
        for (int64_t j = 0; j < d; ++j) g[j] = 0;
    double sum = 0.0;
    CLOSS_T listed[ML_CHUNK];
    for (int64_t c0 = 0; c0 < d; c0 += ML_CHUNK) {
        const int64_t len = d - c0 < ML_CHUNK ? d - c0 : ML_CHUNK;
        for (int64_t j = 0; j < len; ++j) listed[j] = 0;
        for (int64_t e = 0; e < k; ++e)
            if (t[e] >= c0 && t[e] < c0 + len) listed[t[e] - c0] = 1;
        for (int64_t e = 0; e < k; ++e) {
            const CLOSS_T a = (CLOSS_T)1 - x[t[e]];
            sum += CLOSS_FN(multilabel_hinges)(x + c0, listed, len, a);
            if (want_g)
                g[t[e]] -= gs * (CLOSS_T)CLOSS_FN(multilabel_slopes)(x + c0, g + c0, listed, len,
                                                                     a, gs);
        }
    }
    return sum / (double)d;
}

/* ------------------------------------------------------------ embedding losses */

/* x.y of one row in double lanes. The three sums of a cosine take three passes
 * (the second and third from L1): one pass with three sets of lanes does not
 * vectorise (measured: twice the time of the three passes). */
CLOSS_INLINE double CLOSS_FN(dot)(const CLOSS_T *restrict x, const CLOSS_T *restrict y,
                                  const int64_t d)
{
    double sum;
    ROW_SUM(sum, d, j, (double)x[j] * (double)y[j]);
    return sum;
}

/* cosine_embedding_loss, rows of d features:
 *   cos = x1.x2 / sqrt((|x1|^2 + eps) (|x2|^2 + eps)),  eps = COSINE_EPS,
 *   L = 1 - cos (y == 1), max(0, cos - margin) (y == -1), 0 (any other y);
 *   dcos/dx1 = x2 / denom - cos x1 / (|x1|^2 + eps), and symmetrically for x2.
 * The max passes its gradient at cos == margin (torch's clamp_min) and keeps NaN. */
CLOSS_INLINE double CLOSS_FN(cosine_embedding_loss_row)(const rowwise_ctx *c, int64_t i,
                                                        const int64_t d, const int v_,
                                                        const int want_g, const double s)
{
    (void)v_;
    const CLOSS_T *restrict x1 = (const CLOSS_T *)c->x[0] + i * d;
    const CLOSS_T *restrict x2 = (const CLOSS_T *)c->x[1] + i * d;
    const double x12 = CLOSS_FN(dot)(x1, x2, d); /* first: both rows from memory at once */
    const double m1 = CLOSS_FN(dot)(x1, x1, d) + COSINE_EPS;
    const double m2 = CLOSS_FN(dot)(x2, x2, d) + COSINE_EPS;
    const double denom = sqrt(m1 * m2), cos = x12 / denom;
    const CLOSS_T y = ((const CLOSS_T *)c->y)[i];
    const double h = cos - c->p[0];
    const double v = y == 1 ? 1 - cos : y == -1 ? (h < 0 ? 0.0 : h) : 0.0;
    if (want_g) {
        const double dv = y == 1 ? -1.0 : y == -1 ? (double)(h >= 0) : 0.0;
        CLOSS_T *restrict g1 = (CLOSS_T *)c->g[0] + i * d;
        CLOSS_T *restrict g2 = (CLOSS_T *)c->g[1] + i * d;
        const double f = s * dv;
        const CLOSS_T a = (CLOSS_T)(f / denom), b1 = (CLOSS_T)(f * cos / m1);
        const CLOSS_T b2 = (CLOSS_T)(f * cos / m2);
        for (int64_t j = 0; j < d; ++j) {
            g1[j] = a * x2[j] - b1 * x1[j];
            g2[j] = a * x1[j] - b2 * x2[j];
        }
    }
    return v;
}

/* The largest |x_j - y_j + eps| of one row (the max norm), NaN kept: the
 * largest bit pattern of |v| as a signed integer of its width, which orders
 * non-negative floats as their values and puts NaN above inf; an integer max
 * reduction vectorises (a max of floats under OpenMP may drop a NaN). */
#if CLOSS_IS_F64
#define ROW_BITS int64_t
#else
#define ROW_BITS int32_t
#endif
CLOSS_INLINE double CLOSS_FN(dist_max)(const CLOSS_T *restrict x, const CLOSS_T *restrict y,
                                       const int64_t d, const CLOSS_T eps)
{
    ROW_BITS m = 0;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < d; ++j) {
        const CLOSS_T v = (CLOSS_T)fabs(x[j] - y[j] + eps);
        ROW_BITS u;
        memcpy(&u, &v, sizeof u);
        m = u > m ? u : m;
    }
    CLOSS_T r;
    memcpy(&r, &m, sizeof r);
    return (double)r;
}
#undef ROW_BITS

/* ||x - y + eps||_p of one row (torch's pairwise_distance), the sum in double
 * lanes; for p = inf the largest |v|, NaN kept. */
CLOSS_INLINE double CLOSS_FN(distance)(const CLOSS_T *restrict x, const CLOSS_T *restrict y,
                                       const int64_t d, const CLOSS_T eps, const int kind,
                                       const double p)
{
    double sum;
#define DIST_V(j) (x[j] - y[j] + eps)
    switch (kind) {
    case DIST_L1: ROW_SUM(sum, d, j, fabs(DIST_V(j))); return sum;
    case DIST_L2:
        ROW_SUM(sum, d, j, (double)DIST_V(j) * (double)DIST_V(j));
        return sqrt(sum);
    case DIST_LP:
        ROW_SUM(sum, d, j, pow(fabs((double)DIST_V(j)), p));
        return pow(sum, 1.0 / p);
    default: return CLOSS_FN(dist_max)(x, y, d, eps);
    }
#undef DIST_V
}

/* The factor f of a distance's gradient, for the gradient coef * d dist / dv
 * that dist_unit computes; for p = inf coef is shared by the elements where
 * |v| reaches the maximum (or is NaN), as torch shares it. A zero distance
 * has gradient 0 (torch's subgradient). */
CLOSS_INLINE double CLOSS_FN(dist_factor)(const CLOSS_T *restrict x, const CLOSS_T *restrict y,
                                          const int64_t d, const CLOSS_T eps, const int kind,
                                          const double dist, const double coef)
{
    switch (kind) {
    case DIST_L1: return coef;
    case DIST_L2:
    case DIST_LP: return dist == 0 ? 0.0 : kind == DIST_L2 ? coef / dist : coef;
    default: {
        const CLOSS_T top = (CLOSS_T)dist;
        double ties;
        ROW_SUM(ties, d, j, ((CLOSS_T)fabs(x[j] - y[j] + eps) == top) |
                                (x[j] - y[j] + eps != x[j] - y[j] + eps));
        return ties ? coef / ties : 0.0;
    }
    }
}

/* coef * d||v||_p / dv_j at v_j = v, from the distance's factor f (above) and
 * the distance (top: in CLOSS_T, exact for the max norm):
 *   p = 1: sgn(v) f;  p = 2: v f (f = coef / dist);  p = inf: sgn(v) f where
 *   |v| is the maximum, else 0;  other p: sgn(v) f (|v| / dist)^(p-1), 0 at v = 0. */
CLOSS_INLINE CLOSS_T CLOSS_FN(dist_unit)(const CLOSS_T v, const int kind, const CLOSS_T f,
                                      const CLOSS_T top, const double dist, const double p)
{
    switch (kind) {
    case DIST_L1: return EMB_SIGN(CLOSS_T, v) * f;
    case DIST_L2: return v * f;
    case DIST_LINF: return ((CLOSS_T)fabs(v) == top) | (v != v) ? EMB_SIGN(CLOSS_T, v) * f : 0;
    default:
        return v == 0 ? (CLOSS_T)0
                      : EMB_SIGN(CLOSS_T, v) *
                            (CLOSS_T)((double)f * pow((double)fabs(v) / dist, p - 1));
    }
}

/* One triplet row's gradients, from the distances' factors f and values (top:
 * in CLOSS_T, exact for the max norm), with swap's terms (us) or not: a
 * single loop over the row (in L1 since its distances), each element's three
 * differences and units computed once. The swap terms have their own copy of
 * the loop, not a factor 0: an inf in p or n would give 0 inf = NaN. (A
 * function of restrict parameters, so that GCC knows the six rows apart.) */
CLOSS_INLINE void CLOSS_FN(triplet_grads)(const CLOSS_T *restrict a, const CLOSS_T *restrict p,
                                          const CLOSS_T *restrict n, CLOSS_T *restrict ga,
                                          CLOSS_T *restrict gp, CLOSS_T *restrict gn,
                                          const int64_t d, const CLOSS_T eps, const int kind,
                                          const int swap, const CLOSS_T f[3], const double dist[3],
                                          const double pn)
{
    const CLOSS_T tp = (CLOSS_T)dist[0], tn = (CLOSS_T)dist[1], ts = (CLOSS_T)dist[2];
    const CLOSS_T fp = f[0], fn = f[1], fs = f[2];
    const double dp = dist[0], dn = dist[1], ds = dist[2];
#define TRIPLET_GRADS(US)                                                                  \
    for (int64_t j = 0; j < d; ++j) {                                                      \
        const CLOSS_T up = CLOSS_FN(dist_unit)(a[j] - p[j] + eps, kind, fp, tp, dp, pn);   \
        const CLOSS_T un = CLOSS_FN(dist_unit)(a[j] - n[j] + eps, kind, fn, tn, dn, pn);   \
        const CLOSS_T us = US;                                                             \
        ga[j] = up - un;                                                                   \
        gp[j] = -up - us;                                                                  \
        gn[j] = un + us;                                                                   \
    }
    if (swap)
        TRIPLET_GRADS(CLOSS_FN(dist_unit)(p[j] - n[j] + eps, kind, fs, ts, ds, pn))
    else
        TRIPLET_GRADS((CLOSS_T)0)
#undef TRIPLET_GRADS
}

/* triplet_margin_loss, rows of d features, for one kind of p-norm:
 *   L = max(0, margin + d(a, p) - d(a, n)),  d(x, y) = ||x - y + eps||_p,
 * with swap: d(a, n) replaced by min(d(a, n), d(p, n)). Like torch, the max
 * passes its gradient at 0 and keeps NaN, and the min splits a tie in halves.
 * Parameters: p[0] margin, p[1] p, p[2] eps, p[3] swap. */
CLOSS_INLINE double CLOSS_FN(triplet_rows)(const rowwise_ctx *c, int64_t i, const int64_t d,
                                           const int want_g, const double s, const int kind)
{
    const CLOSS_T *restrict a = (const CLOSS_T *)c->x[0] + i * d;
    const CLOSS_T *restrict p = (const CLOSS_T *)c->x[1] + i * d;
    const CLOSS_T *restrict n = (const CLOSS_T *)c->x[2] + i * d;
    const CLOSS_T eps = (CLOSS_T)c->p[2];
    const double pn = c->p[1];
    const int swap = c->p[3] != 0;
    const double dap = CLOSS_FN(distance)(a, p, d, eps, kind, pn);
    const double dan = CLOSS_FN(distance)(a, n, d, eps, kind, pn);
    const double dpn = swap ? CLOSS_FN(distance)(p, n, d, eps, kind, pn) : 0.0;
    const double dneg = !swap || dan <= dpn || dan != dan ? dan : dpn;
    const double pre = (double)(CLOSS_T)c->p[0] + dap - dneg;
    if (want_g) {
        CLOSS_T *restrict ga = (CLOSS_T *)c->g[0] + i * d;
        CLOSS_T *restrict gp = (CLOSS_T *)c->g[1] + i * d;
        CLOSS_T *restrict gn = (CLOSS_T *)c->g[2] + i * d;
        const double k = pre >= 0 ? s : 0.0;
        const double tie = dan == dpn ? 0.5 : 1.0;
        const double k_an = swap && dan > dpn ? 0.0 : swap ? k * tie : k;
        const double k_pn = swap && !(dan < dpn) ? k * tie : 0.0;
        const CLOSS_T f[3] = {
            (CLOSS_T)CLOSS_FN(dist_factor)(a, p, d, eps, kind, dap, k),
            (CLOSS_T)CLOSS_FN(dist_factor)(a, n, d, eps, kind, dan, k_an),
            swap ? (CLOSS_T)CLOSS_FN(dist_factor)(p, n, d, eps, kind, dpn, k_pn) : (CLOSS_T)0};
        const double dist[3] = {dap, dan, dpn};
        CLOSS_FN(triplet_grads)(a, p, n, ga, gp, gn, d, eps, kind, swap, f, dist, pn);
    }
    return pre < 0 ? 0.0 : pre;
}

/* The row for the call's norm (v: a constant in the narrow kernels, where the
 * switch folds away; one copy of the row per norm, so that its loops carry no
 * switch). */
CLOSS_INLINE double CLOSS_FN(triplet_margin_loss_row)(const rowwise_ctx *c, int64_t i,
                                                      const int64_t d, const int v,
                                                      const int want_g, const double s)
{
    switch (v) {
    case DIST_L2: return CLOSS_FN(triplet_rows)(c, i, d, want_g, s, DIST_L2);
    case DIST_L1: return CLOSS_FN(triplet_rows)(c, i, d, want_g, s, DIST_L1);
    case DIST_LINF: return CLOSS_FN(triplet_rows)(c, i, d, want_g, s, DIST_LINF);
    default: return CLOSS_FN(triplet_rows)(c, i, d, want_g, s, DIST_LP);
    }
}

/* ------------------------------------------------------------ block kernels */

/* The row function of loss `kind` (a constant: the switch folds away). */
CLOSS_INLINE double CLOSS_FN(rowwise_row)(const int kind, const rowwise_ctx *c, int64_t i,
                                          const int64_t d, const int v, const int want_g,
                                          const double s)
{
    switch (kind) {
#define ROWWISE_ROW_CASE(name, layout, nx, needs_y, one_element, narrow) \
    case ROWWISE_KIND(name): return CLOSS_FN(name##_row)(c, i, d, v, want_g, s);
        CLOSS_ROWWISE_LOSSES(ROWWISE_ROW_CASE)
#undef ROWWISE_ROW_CASE
    }
    return 0.0;
}

/* Rows [b, e) of loss `kind`, d elements each, variant v: values stored
 * (store_v) or added to acc (sum_v), gradients written (want_g) times go[i]
 * (go_vec) or c->gscale. Across rows (ROWS_ONE_ELEMENT, ROWS_NARROW: d and v
 * then constants), CLOSS_LANES rows at a time with an accumulator each: the
 * loop vectorises across rows like an element-wise loss (the narrow rows'
 * loop kept a loop, ROW_KEEP_LOOP); else a row at a time into acc[0]. */
CLOSS_INLINE void CLOSS_FN(rowwise_rows)(const int kind, const int across, const rowwise_ctx *c,
                                         int64_t b, int64_t e, const int64_t d, const int v,
                                         double *acc, const int store_v, const int sum_v,
                                         const int want_g, const int go_vec)
{
    const CLOSS_T *restrict go = (const CLOSS_T *)c->go;
    CLOSS_T *restrict out = (CLOSS_T *)c->out;
    (void)go, (void)out;
#define ROWWISE_STEP(i, a)                                                              \
    do {                                                                                \
        const double v_ = CLOSS_FN(rowwise_row)(kind, c, i, d, v, want_g,               \
                                                go_vec ? (double)go[i] : c->gscale);    \
        if (store_v) out[i] = (CLOSS_T)v_;                                              \
        if (sum_v) a += v_;                                                             \
    } while (0)
    int64_t i = b;
    if (across == ROWS_NARROW)
        for (; i + CLOSS_LANES <= e; i += CLOSS_LANES)
            ROW_KEEP_LOOP
            for (int k = 0; k < CLOSS_LANES; ++k) ROWWISE_STEP(i + k, acc[k]);
    else if (across == ROWS_ONE_ELEMENT)
        for (; i + CLOSS_LANES <= e; i += CLOSS_LANES)
            for (int k = 0; k < CLOSS_LANES; ++k) ROWWISE_STEP(i + k, acc[k]);
    for (; i < e; ++i) ROWWISE_STEP(i, acc[0]);
#undef ROWWISE_STEP
}

/* Rows [b, e) of loss `kind` (rowwise_rows; sums[0] their summed values). Rows
 * of one element (one_element), and in the forward kernels the narrow rows of
 * the variants below `narrow` (ROWWISE_NARROW_LENGTHS), run across rows with d
 * and v constants. */
CLOSS_INLINE void CLOSS_FN(rowwise_body)(const int kind, const int one_element, const int narrow,
                                         const void *ctx, int64_t b, int64_t e, double *sums,
                                         const int store_v, const int sum_v, const int want_g,
                                         const int go_vec)
{
    const rowwise_ctx *c = (const rowwise_ctx *)ctx;
    const int v = rowwise_variant(kind, c);
    double acc[CLOSS_LANES] = {0};
#define ROWWISE_RUN(across, d, v) \
    CLOSS_FN(rowwise_rows)(kind, across, c, b, e, d, v, acc, store_v, sum_v, want_g, go_vec)
#define ROWWISE_NARROW_CASE(D)                               \
    case D:                                                  \
        if (v == 0) ROWWISE_RUN(ROWS_NARROW, D, 0);                    \
        else if (narrow > 1 && v == 1) ROWWISE_RUN(ROWS_NARROW, D, 1); \
        else if (narrow > 2 && v == 2) ROWWISE_RUN(ROWS_NARROW, D, 2); \
        else if (narrow > 3 && v == 3) ROWWISE_RUN(ROWS_NARROW, D, 3); \
        break;
    if (one_element)
        ROWWISE_RUN(ROWS_ONE_ELEMENT, 1, 0);
    else if (!want_g && v < narrow && c->d >= ROWWISE_NARROW_MIN && c->d <= ROWWISE_NARROW)
        switch (c->d) { ROWWISE_NARROW_LENGTHS(ROWWISE_NARROW_CASE) }
    else
        ROWWISE_RUN(ROWS_ONE_BY_ONE, c->d, v);
#undef ROWWISE_NARROW_CASE
#undef ROWWISE_RUN
    sums[0] = closs_lanes_sum(acc);
}

/* The block kernels of each loss: (store_v, sum_v, want_g, go_vec). */
#define ROWWISE_KERNEL(name, one_element, narrow, part, ...)                          \
    CLOSS_SUMS_KERNEL(CLOSS_FN(name##_##part),                                        \
        CLOSS_FN(rowwise_body)(ROWWISE_KIND(name), one_element, narrow, c, b, e, s,  \
                               __VA_ARGS__);)
#define ROWWISE_KERNELS(name, layout, nx, needs_y, one_element, narrow) \
    ROWWISE_KERNEL(name, one_element, narrow, value, 1, 0, 0, 0)        \
    ROWWISE_KERNEL(name, one_element, narrow, sum, 0, 1, 0, 0)          \
    ROWWISE_KERNEL(name, one_element, narrow, grad, 0, 0, 1, 0)         \
    ROWWISE_KERNEL(name, one_element, narrow, grad_go, 0, 0, 1, 1)      \
    ROWWISE_KERNEL(name, one_element, narrow, fused, 1, 0, 1, 0)        \
    ROWWISE_KERNEL(name, one_element, narrow, fused_sum, 0, 1, 1, 0)
CLOSS_ROWWISE_LOSSES(ROWWISE_KERNELS)
#undef ROWWISE_KERNELS
/* margin_ranking_loss's gradient kernels that also write y's (want_g 2). */
ROWWISE_KERNEL(margin_ranking_loss, 1, 0, grad_y, 0, 0, 2, 0)
ROWWISE_KERNEL(margin_ranking_loss, 1, 0, grad_go_y, 0, 0, 2, 1)
ROWWISE_KERNEL(margin_ranking_loss, 1, 0, fused_y, 1, 0, 2, 0)
ROWWISE_KERNEL(margin_ranking_loss, 1, 0, fused_sum_y, 0, 1, 2, 0)
#undef ROWWISE_KERNEL
static const rowwise_kernels CLOSS_FN(margin_ranking_y_kernels) = {
    NULL, NULL, CLOSS_FN(margin_ranking_loss_grad_y), CLOSS_FN(margin_ranking_loss_grad_go_y),
    CLOSS_FN(margin_ranking_loss_fused_y), CLOSS_FN(margin_ranking_loss_fused_sum_y)};

#define ROWWISE_KERNELS_ENTRY(name, layout, nx, needs_y, one_element, narrow)    \
    {CLOSS_FN(name##_value), CLOSS_FN(name##_sum), CLOSS_FN(name##_grad),        \
     CLOSS_FN(name##_grad_go), CLOSS_FN(name##_fused), CLOSS_FN(name##_fused_sum)},
static const rowwise_kernels CLOSS_FN(rowwise_kernels)[] = {
    CLOSS_ROWWISE_LOSSES(ROWWISE_KERNELS_ENTRY)};
#undef ROWWISE_KERNELS_ENTRY
