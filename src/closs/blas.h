/*
 * blas.h - the CBLAS routines closs calls (linear.c: linear_cross_entropy's
 * GEMMs), declared here so that any CBLAS links: OpenBLAS, the scipy-openblas32
 * wheel's OpenBLAS (its symbols carry the prefix scipy_), a system libcblas.
 * meson.build finds the library and defines
 *   CLOSS_BLAS_PREFIX   the symbols' prefix (scipy_), when they have one;
 *   CLOSS_BLAS_OPENBLAS when it is OpenBLAS (openblas_set_num_threads exists);
 *   CLOSS_BLAS_ILP64    when its integers are 64-bit (default: int);
 *   CLOSS_BLAS_NONE     in a build without a BLAS (-Dblas=none, e.g. a cross
 *                       build): linear_cross_entropy returns CLOSS_ERR_UNSUPPORTED
 *                       before any GEMM, and the GEMMs below are never-called
 *                       local functions, so that nothing is left undefined.
 * The enumerations' values are the CBLAS standard's (cblas.h of every
 * implementation has them); they are passed as int, the type of a C enum's
 * values.
 *
 * Threads: closs runs the GEMMs in tiles on its own OpenMP team (linear.c),
 * each tile one BLAS call on one thread, so that BLAS's threads and closs's
 * are never both busy (and never spin against each other on a small machine).
 * OpenBLAS is told to use one thread (openblas_set_num_threads(1)) at every
 * linear_cross_entropy call; another CBLAS must be sequential or set to one
 * thread by its user (MKL_NUM_THREADS=1, BLIS_NUM_THREADS=1).
 */
#ifndef CLOSS_BLAS_H
#define CLOSS_BLAS_H

#include <stdint.h>

#include "closs_internal.h"

#ifdef CLOSS_BLAS_PREFIX
#define CLOSS_BLAS(name) CLOSS_CAT(CLOSS_BLAS_PREFIX, name)
#else
#define CLOSS_BLAS(name) name
#endif

#ifdef CLOSS_BLAS_ILP64
typedef int64_t closs_blas_int;
#define CLOSS_BLAS_INT_MAX INT64_MAX
#else
typedef int closs_blas_int;
#define CLOSS_BLAS_INT_MAX 2147483647
#endif

enum { CLOSS_CBLAS_ROW_MAJOR = 101, CLOSS_CBLAS_NO_TRANS = 111, CLOSS_CBLAS_TRANS = 112 };

#ifdef CLOSS_BLAS_NONE
#define CLOSS_BLAS_FOUND 0
#define CLOSS_BLAS_GEMM_NONE(name, T)                                                            \
    static inline void name(int order, int ta, int tb, closs_blas_int m, closs_blas_int n,     \
                            closs_blas_int k, T alpha, const T *a, closs_blas_int lda,         \
                            const T *b, closs_blas_int ldb, T beta, T *c, closs_blas_int ldc)  \
    {                                                                                            \
        (void)order, (void)ta, (void)tb, (void)m, (void)n, (void)k, (void)alpha, (void)a;       \
        (void)lda, (void)b, (void)ldb, (void)beta, (void)c, (void)ldc;                           \
    }
CLOSS_BLAS_GEMM_NONE(cblas_sgemm, float)
CLOSS_BLAS_GEMM_NONE(cblas_dgemm, double)
#else
#define CLOSS_BLAS_FOUND 1
void CLOSS_BLAS(cblas_sgemm)(int order, int trans_a, int trans_b, closs_blas_int m,
                             closs_blas_int n, closs_blas_int k, float alpha, const float *a,
                             closs_blas_int lda, const float *b, closs_blas_int ldb, float beta,
                             float *c, closs_blas_int ldc);
void CLOSS_BLAS(cblas_dgemm)(int order, int trans_a, int trans_b, closs_blas_int m,
                             closs_blas_int n, closs_blas_int k, double alpha, const double *a,
                             closs_blas_int lda, const double *b, closs_blas_int ldb,
                             double beta, double *c, closs_blas_int ldc);
#endif

#ifdef CLOSS_BLAS_OPENBLAS
void CLOSS_BLAS(openblas_set_num_threads)(int num_threads);
#define CLOSS_BLAS_ONE_THREAD() CLOSS_BLAS(openblas_set_num_threads)(1)
#else
#define CLOSS_BLAS_ONE_THREAD() ((void)0)
#endif

#endif /* CLOSS_BLAS_H */
