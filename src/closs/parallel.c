/*
 * parallel.c - threads, the block driver, status strings and the version.
 */
#include "closs_internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* 0 means "not set": follow OMP_NUM_THREADS, else the number of cores. */
static int closs_threads = 0;

closs_status closs_set_num_threads(int n)
{
    CLOSS_REQUIRE(n >= 1, CLOSS_ERR_INVALID_ARGUMENT);
    closs_threads = n;
    return CLOSS_OK;
}

int closs_get_num_threads(void)
{
    if (closs_threads > 0) return closs_threads;
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int closs_has_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int closs_version_number(void) { return CLOSS_VERSION_NUMBER; }

#define CLOSS_STR_(x) #x
#define CLOSS_STR(x) CLOSS_STR_(x)
#if defined(__clang__)
#define CLOSS_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define CLOSS_COMPILER "gcc " CLOSS_STR(__GNUC__) "." CLOSS_STR(__GNUC_MINOR__) "." CLOSS_STR(__GNUC_PATCHLEVEL__)
#else
#define CLOSS_COMPILER "unknown compiler"
#endif
#ifdef _OPENMP
#define CLOSS_OMP "OpenMP " CLOSS_STR(_OPENMP)
#else
#define CLOSS_OMP "no OpenMP"
#endif

const char *closs_build_info(void)
{
#if defined(CLOSS_SIMD_DISPATCH) && defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        return CLOSS_COMPILER ", " CLOSS_OMP ", SIMD: avx2/baseline dispatch, running avx2";
    return CLOSS_COMPILER ", " CLOSS_OMP ", SIMD: avx2/baseline dispatch, running baseline";
#else
    return CLOSS_COMPILER ", " CLOSS_OMP ", SIMD: baseline only";
#endif
}

const char *closs_status_string(closs_status status)
{
    switch (status) {
    case CLOSS_OK: return "CLOSS_OK: success";
    case CLOSS_ERR_NULL_POINTER: return "CLOSS_ERR_NULL_POINTER: a required array is NULL";
    case CLOSS_ERR_INVALID_SIZE: return "CLOSS_ERR_INVALID_SIZE: a size is negative or inconsistent";
    case CLOSS_ERR_INVALID_REDUCTION: return "CLOSS_ERR_INVALID_REDUCTION: unknown reduction";
    case CLOSS_ERR_INVALID_ARGUMENT: return "CLOSS_ERR_INVALID_ARGUMENT: a parameter is outside its domain";
    case CLOSS_ERR_INDEX_OUT_OF_RANGE: return "CLOSS_ERR_INDEX_OUT_OF_RANGE: a class index is out of range";
    case CLOSS_ERR_OUT_OF_MEMORY: return "CLOSS_ERR_OUT_OF_MEMORY: allocation failed";
    case CLOSS_ERR_DOMAIN: return "CLOSS_ERR_DOMAIN: an input element is outside the loss's domain";
    }
    return "CLOSS_ERR_UNKNOWN: unknown status code";
}

double closs_blocks(int64_t n, int64_t parallel_min, closs_block_fn fn, const void *ctx)
{
    if (n <= 0) return 0.0;
    int64_t bs = (n + CLOSS_MAX_BLOCKS - 1) / CLOSS_MAX_BLOCKS;
    if (bs < CLOSS_BLOCK_MIN) bs = CLOSS_BLOCK_MIN;
    bs = (bs + 63) & ~(int64_t)63; /* whole cache lines, and a multiple of the lanes */
    const int64_t nb = (n + bs - 1) / bs;
    if (nb == 1) return fn(ctx, 0, n);

    double part[CLOSS_MAX_BLOCKS];
#define CLOSS_RUN_BLOCK(b) part[b] = fn(ctx, (b) * bs, (b) * bs + bs < n ? (b) * bs + bs : n)
    int nt = n >= parallel_min ? closs_get_num_threads() : 1;
    if (nt > nb) nt = (int)nb;
#ifdef _OPENMP
    if (nt > 1) {
        /* dynamic: a thread descheduled by a busy neighbour does not hold the others */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t b = 0; b < nb; ++b) CLOSS_RUN_BLOCK(b);
    } else
#endif
    {
        for (int64_t b = 0; b < nb; ++b) CLOSS_RUN_BLOCK(b);
    }
#undef CLOSS_RUN_BLOCK
    double s = 0.0;
    for (int64_t b = 0; b < nb; ++b) s += part[b];
    return s;
}

/* Sum of an array, in the blocked order above: used for weight sums. */
#define CLOSS_DEFINE_SUM(T, SFX)                                                   \
    static CLOSS_KERNEL double closs_sum_block_##SFX(const void *ctx, int64_t b,   \
                                                     int64_t e)                    \
    {                                                                              \
        const T *a = (const T *)ctx;                                               \
        double acc[CLOSS_LANES] = {0};                                             \
        int64_t i = b;                                                             \
        for (; i + CLOSS_LANES <= e; i += CLOSS_LANES)                             \
            for (int k = 0; k < CLOSS_LANES; ++k) acc[k] += (double)a[i + k];      \
        for (; i < e; ++i) acc[0] += (double)a[i];                                 \
        return closs_lanes_sum(acc);                                               \
    }                                                                              \
    double closs_sum_##SFX(int64_t n, const T *a)                                  \
    {                                                                              \
        return closs_blocks(n, CLOSS_STREAM_PARALLEL_MIN, closs_sum_block_##SFX, a); \
    }
CLOSS_DEFINE_SUM(float, f32)
CLOSS_DEFINE_SUM(double, f64)
