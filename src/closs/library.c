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

const char *closs_build_info(void)
{
#if defined(CLOSS_SIMD_DISPATCH) && defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
    __builtin_cpu_init();
#if defined(CLOSS_SIMD_ISA_LEVELS)
#define CLOSS_DISPATCH ", SIMD: avx2/baseline dispatch (compute kernels x86-64-v4/v3/baseline), running "
    if (__builtin_cpu_supports("x86-64-v4")) return CLOSS_COMPILER ", " CLOSS_OMP CLOSS_DISPATCH "avx2 (x86-64-v4)";
    if (__builtin_cpu_supports("x86-64-v3")) return CLOSS_COMPILER ", " CLOSS_OMP CLOSS_DISPATCH "avx2 (x86-64-v3)";
    if (__builtin_cpu_supports("avx2")) return CLOSS_COMPILER ", " CLOSS_OMP CLOSS_DISPATCH "avx2 (baseline)";
    return CLOSS_COMPILER ", " CLOSS_OMP CLOSS_DISPATCH "baseline";
#undef CLOSS_DISPATCH
#else
    if (__builtin_cpu_supports("avx2"))
        return CLOSS_COMPILER ", " CLOSS_OMP ", SIMD: avx2/baseline dispatch, running avx2";
    return CLOSS_COMPILER ", " CLOSS_OMP ", SIMD: avx2/baseline dispatch, running baseline";
#endif
#else
    return CLOSS_COMPILER ", " CLOSS_OMP ", SIMD: baseline only";
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
    }
    return "CLOSS_ERR_UNKNOWN: unknown status code";
}
