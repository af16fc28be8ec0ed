/*
 * parallel.c - threads, the fork guard and the block driver (the library's
 * version, statuses and build information: library.c).
 */
#include "closs_internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Fork safety. GNU libgomp's thread pool does not survive fork(): a child
 * whose forking thread had run a team before waits forever at its next
 * parallel region for workers that were not copied. A pthread_atfork prepare
 * handler releases the forking thread's pool (omp_pause_resource_all, OpenMP
 * 5.0; GCC's libgomp has it since GCC 9 while still defining _OPENMP 201511,
 * so meson checks that it links: CLOSS_HAVE_OMP_PAUSE) and the child starts a
 * fresh team. Where the release is unavailable or refused (the forking thread
 * is inside a parallel region), the child and its own children run every
 * kernel serially. Other threads' pools need nothing: their threads are not
 * in the child. */
#if defined(_OPENMP) && !defined(CLOSS_NO_FORK_GUARD) && \
    (defined(__unix__) || defined(__unix) || defined(__APPLE__))
#include <unistd.h>
#if defined(_POSIX_THREADS) && _POSIX_THREADS > 0
#include <pthread.h>
#define CLOSS_FORK_GUARD 1
#endif
#endif

#if defined(_MSC_VER)
#define CLOSS_THREAD_LOCAL __declspec(thread)
#else
#define CLOSS_THREAD_LOCAL __thread
#endif

/* 0 means "not set": follow OMP_NUM_THREADS, else the number of cores. */
static int closs_threads = 0;

/* Set in a forked child whose parent could not release its pool: serial. */
static volatile int closs_serial_after_fork = 0;

#ifdef CLOSS_FORK_GUARD
/* The prepare handler's outcome, read by the child handler of the same fork:
 * per thread, as two threads may fork at once. */
static CLOSS_THREAD_LOCAL int closs_pool_released = 0;

static void closs_atfork_prepare(void)
{
#if defined(CLOSS_HAVE_OMP_PAUSE) || _OPENMP >= 201811
    closs_pool_released = omp_pause_resource_all(omp_pause_soft) == 0;
#else
    closs_pool_released = 0;
#endif
}

static void closs_atfork_child(void)
{
    if (!closs_pool_released) closs_serial_after_fork = 1;
}

static pthread_once_t closs_fork_once = PTHREAD_ONCE_INIT;

static void closs_install_fork_handlers(void)
{
    /* On failure (ENOMEM) the guard is off; nothing better can be done. */
    (void)pthread_atfork(closs_atfork_prepare, NULL, closs_atfork_child);
}

/* Installs the handlers once: when the library loads where the compiler has
 * constructors (a pool the host's own OpenMP code made is released too), else
 * before closs's first team. */
static void closs_fork_guard(void) { (void)pthread_once(&closs_fork_once, closs_install_fork_handlers); }

#if defined(__GNUC__)
__attribute__((constructor)) static void closs_fork_guard_at_load(void) { closs_fork_guard(); }
#endif
#endif /* CLOSS_FORK_GUARD */

closs_status closs_set_num_threads(int n)
{
    CLOSS_REQUIRE(n >= 1, CLOSS_ERR_INVALID_ARGUMENT);
    closs_threads = n;
    return CLOSS_OK;
}

int closs_get_num_threads(void)
{
    if (closs_serial_after_fork) return 1;
    if (closs_threads > 0) return closs_threads;
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* The calling thread's number in the team of the closs_blocks_sums it runs
 * blocks for: set by the driver, not omp_get_thread_num(), which outside a
 * team of closs's would give the number in a caller's own OpenMP team. */
static CLOSS_THREAD_LOCAL int closs_team_index = 0;

int closs_thread_index(void) { return closs_team_index; }

/* Block size in units: at most CLOSS_MAX_BLOCKS blocks of at least
 * CLOSS_BLOCK_MIN elements; single elements come in whole cache lines (and a
 * multiple of the lanes). n >= 1 and unit >= 1 may be any int64_t (a kernel's
 * cost estimate as the unit): no step overflows. */
static int64_t block_units(int64_t n, int64_t unit)
{
    int64_t bs = closs_ceil_div(n, CLOSS_MAX_BLOCKS);
    const int64_t min_units = closs_ceil_div(CLOSS_BLOCK_MIN, unit);
    if (bs < min_units) bs = min_units;
    if (unit == 1) bs = (bs + 63) & ~(int64_t)63; /* bs <= 2^53 here */
    return bs;
}

void closs_blocks_sums(int64_t n, int64_t unit, int64_t parallel_min, closs_sums_fn fn,
                       const void *ctx, int nsums, double *sums)
{
    for (int k = 0; k < nsums; ++k) sums[k] = 0.0;
    if (n <= 0) return;
    if (unit < 1) unit = 1;
    const int64_t bs = block_units(n, unit);
    const int64_t nb = closs_ceil_div(n, bs);
    if (nb == 1) {
        closs_team_index = 0;
        fn(ctx, 0, n, sums);
        return;
    }
    double part[CLOSS_MAX_BLOCKS][CLOSS_MAX_SUMS];
#define CLOSS_RUN_BLOCK(b) fn(ctx, (b) * bs, bs < n - (b) * bs ? (b) * bs + bs : n, part[b])
    int nt = n >= closs_ceil_div(parallel_min, unit) ? closs_get_num_threads() : 1;
    if (nt > nb) nt = (int)nb;
#ifdef _OPENMP
    if (nt > 1) {
#ifdef CLOSS_FORK_GUARD
        closs_fork_guard();
#endif
        /* dynamic: a thread descheduled by a busy neighbour does not hold the others */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t b = 0; b < nb; ++b) {
            closs_team_index = omp_get_thread_num();
            CLOSS_RUN_BLOCK(b);
        }
    } else
#endif
    {
        closs_team_index = 0;
        for (int64_t b = 0; b < nb; ++b) CLOSS_RUN_BLOCK(b);
    }
#undef CLOSS_RUN_BLOCK
    for (int64_t b = 0; b < nb; ++b)
        for (int k = 0; k < nsums; ++k) sums[k] += part[b][k];
}

/* closs_blocks through closs_blocks_sums: one indirect call more per block. */
typedef struct single_sum {
    closs_block_fn fn;
    const void *ctx;
} single_sum;

static void single_sum_block(const void *ctx, int64_t b, int64_t e, double *sums)
{
    const single_sum *s = (const single_sum *)ctx;
    sums[0] = s->fn(s->ctx, b, e);
}

double closs_blocks(int64_t n, int64_t parallel_min, closs_block_fn fn, const void *ctx)
{
    const single_sum s = {fn, ctx};
    double sum;
    closs_blocks_sums(n, 1, parallel_min, single_sum_block, &s, 1, &sum);
    return sum;
}

/* Sum of an array, in the blocked order above: used for weight sums. */
#define CLOSS_DEFINE_SUM(T, SFX)                                                   \
    CLOSS_INLINE double closs_sum_body_##SFX(const void *ctx, int64_t b, int64_t e) \
    {                                                                              \
        const T *a = (const T *)ctx;                                               \
        double acc[CLOSS_LANES] = {0};                                             \
        int64_t i = b;                                                             \
        for (; i + CLOSS_LANES <= e; i += CLOSS_LANES)                             \
            for (int k = 0; k < CLOSS_LANES; ++k) acc[k] += (double)a[i + k];      \
        for (; i < e; ++i) acc[0] += (double)a[i];                                 \
        return closs_lanes_sum(acc);                                               \
    }                                                                              \
    CLOSS_BLOCK_KERNEL(closs_sum_block_##SFX, return closs_sum_body_##SFX(c, b, e);) \
    double closs_sum_##SFX(int64_t n, const T *a)                                  \
    {                                                                              \
        return closs_blocks(n, CLOSS_STREAM_PARALLEL_MIN, closs_sum_block_##SFX, a); \
    }
CLOSS_DEFINE_SUM(float, f32)
CLOSS_DEFINE_SUM(double, f64)
