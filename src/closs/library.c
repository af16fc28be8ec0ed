/*
 * library.c - what the library says about itself: its version, the status
 * strings and the build information. Threads and the block driver:
 * parallel.c.
 */
#include "closs_internal.h"

int closs_has_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

const char *closs_version_string(void) { return CLOSS_VERSION_STRING; }

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

/* The SIMD level (closs_internal.h): the best the CPU has among the copies
 * built, capped by CLOSS_SIMD. closs_simd_state_ holds the level in bits 0-1
 * and how CLOSS_SIMD was taken in bits 2-3 (CLOSS_CAP_*); a thread that races
 * the first choice computes the same value. */
#define CLOSS_CAP_NONE 0    /* unset or empty, or not below the CPU's level */
#define CLOSS_CAP_APPLIED 1 /* below the CPU's level: the kernels run the cap */
#define CLOSS_CAP_UNKNOWN 2 /* not baseline, avx2 or avx512: ignored */
#ifdef CLOSS_DISPATCHING
#include <stdlib.h>
#include <string.h>

int closs_simd_state_ = -1;

static int closs_cpu_level(void)
{
    __builtin_cpu_init();
#if defined(CLOSS_SIMD_ISA_LEVELS)
    if (__builtin_cpu_supports("x86-64-v4")) return CLOSS_SIMD_AVX512;
    if (__builtin_cpu_supports("x86-64-v3")) return CLOSS_SIMD_AVX2;
#else
    if (__builtin_cpu_supports("avx2")) return CLOSS_SIMD_AVX2;
#endif
    return CLOSS_SIMD_BASELINE;
}

int closs_simd_choose(void)
{
    int level = closs_cpu_level(), cap = CLOSS_CAP_NONE;
    const char *want = getenv("CLOSS_SIMD");
    if (want && *want) {
        int capped = -1;
        if (!strcmp(want, "baseline")) capped = CLOSS_SIMD_BASELINE;
        if (!strcmp(want, "avx2")) capped = CLOSS_SIMD_AVX2;
        if (!strcmp(want, "avx512")) capped = CLOSS_SIMD_AVX512;
        if (capped < 0)
            cap = CLOSS_CAP_UNKNOWN;
        else if (capped < level)
            level = capped, cap = CLOSS_CAP_APPLIED;
    }
    const int state = level | cap << 2;
    __atomic_store_n(&closs_simd_state_, state, __ATOMIC_RELAXED);
    return state;
}

static int closs_simd_cap(void)
{
    (void)closs_simd();
    return __atomic_load_n(&closs_simd_state_, __ATOMIC_RELAXED) >> 2;
}
#else
static int closs_simd(void) { return CLOSS_SIMD_BASELINE; }
static int closs_simd_cap(void) { return CLOSS_CAP_NONE; }
#endif

const char *closs_simd_level(void)
{
    static const char *const names[] = {"baseline", "avx2", "avx512"};
    return names[closs_simd()];
}

#ifdef CLOSS_DISPATCHING
#if defined(CLOSS_SIMD_ISA_LEVELS)
#define CLOSS_DISPATCH ", SIMD: dispatch avx512/avx2/baseline (x86-64-v4/v3 copies of the compute kernels, avx2 of the streaming ones), running "
#define CLOSS_RUNNING_AVX512 "avx512 (x86-64-v4)"
#define CLOSS_RUNNING_AVX2 "avx2 (x86-64-v3)"
#else
#define CLOSS_DISPATCH ", SIMD: dispatch avx2/baseline, running "
#define CLOSS_RUNNING_AVX512 "avx512"
#define CLOSS_RUNNING_AVX2 "avx2"
#endif
#define CLOSS_INFO(running, cap) CLOSS_COMPILER ", " CLOSS_OMP CLOSS_DISPATCH running cap
#define CLOSS_INFOS(running)                                          \
    {CLOSS_INFO(running, ""), CLOSS_INFO(running, ", capped by CLOSS_SIMD"), \
     CLOSS_INFO(running, ", CLOSS_SIMD not baseline|avx2|avx512: ignored")}
#endif

const char *closs_build_info(void)
{
#ifdef CLOSS_DISPATCHING
    static const char *const infos[3][3] = {
        CLOSS_INFOS("baseline"), CLOSS_INFOS(CLOSS_RUNNING_AVX2), CLOSS_INFOS(CLOSS_RUNNING_AVX512)};
    return infos[closs_simd()][closs_simd_cap()];
#else
    (void)closs_simd_cap;
    return CLOSS_COMPILER ", " CLOSS_OMP ", SIMD: baseline only (no runtime dispatch)";
#endif
}

const char *closs_status_string(closs_status status)
{
    switch (status) {
    case CLOSS_OK: return "CLOSS_OK: success";
    case CLOSS_ERR_NULL_POINTER: return "CLOSS_ERR_NULL_POINTER: a required array is NULL";
    case CLOSS_ERR_INVALID_SIZE: return "CLOSS_ERR_INVALID_SIZE: a size is negative, inconsistent or above CLOSS_MAX_ELEMENTS";
    case CLOSS_ERR_INVALID_REDUCTION: return "CLOSS_ERR_INVALID_REDUCTION: unknown reduction";
    case CLOSS_ERR_INVALID_ARGUMENT: return "CLOSS_ERR_INVALID_ARGUMENT: a parameter is outside its domain";
    case CLOSS_ERR_INDEX_OUT_OF_RANGE: return "CLOSS_ERR_INDEX_OUT_OF_RANGE: a class index is out of range";
    case CLOSS_ERR_OUT_OF_MEMORY: return "CLOSS_ERR_OUT_OF_MEMORY: allocation failed";
    case CLOSS_ERR_DOMAIN: return "CLOSS_ERR_DOMAIN: an input element is outside the loss's domain";
    case CLOSS_ERR_UNSUPPORTED: return "CLOSS_ERR_UNSUPPORTED: not in this build (linear_cross_entropy needs a BLAS)";
    }
    return "CLOSS_ERR_UNKNOWN: unknown status code";
}
