# C declarations of closs.h used by the Cython wrappers (see _core.pyx).
from libc.stdint cimport int64_t

cdef extern from "closs.h" nogil:
    ctypedef enum closs_status:
        CLOSS_OK
        CLOSS_ERR_NULL_POINTER
        CLOSS_ERR_INVALID_SIZE
        CLOSS_ERR_INVALID_REDUCTION
        CLOSS_ERR_INVALID_ARGUMENT
        CLOSS_ERR_INDEX_OUT_OF_RANGE
        CLOSS_ERR_OUT_OF_MEMORY
        CLOSS_ERR_DOMAIN
        CLOSS_ERR_UNSUPPORTED

    ctypedef enum closs_reduction:
        CLOSS_REDUCTION_NONE
        CLOSS_REDUCTION_MEAN
        CLOSS_REDUCTION_SUM
        CLOSS_REDUCTION_BATCHMEAN

    int CLOSS_VERSION_NUMBER
    const char *closs_status_string(closs_status status)
    int closs_version_number()
    const char *closs_version_string()
    int closs_has_openmp()
    const char *closs_build_info()
    const char *closs_simd_level()
    closs_status closs_set_num_threads(int n)
    int closs_get_num_threads()



# The family entries (closs_internal.h): one per family, (dtype, [kind,] op, arguments).
cdef extern from "closs_internal.h" nogil:
    ctypedef enum closs_op:
        CLOSS_OP_FORWARD
        CLOSS_OP_BACKWARD
        CLOSS_OP_FUSED
        CLOSS_OP_PARTIAL
        CLOSS_OP_GRAD_HESS

    ctypedef enum closs_dtype:
        CLOSS_F32
        CLOSS_F64

    # The element-wise family: every loss L(x, y[, aux]) * w by kind.
    ctypedef struct closs_elementwise_args:
        int64_t n
        const void *input
        const void *target
        const void *weight
        const void *aux
        const void *grad_output
        void *out
        void *grad_input
        void *grad_aux
        double p0, p1, p2
        closs_reduction reduction
        void *hess
        void *grad_target
        void *grad_weight
    const char **closs_elementwise_names
    const int closs_elementwise_count
    closs_status closs_elementwise_call(closs_dtype dtype, int kind, closs_op op,
                                        const closs_elementwise_args *a)

    # Row-wise losses: kind indexes closs_rowwise_names.
    ctypedef enum closs_rowwise_layout:
        CLOSS_ROWWISE_NO_INDICES
        CLOSS_ROWWISE_ROW_INDEX
        CLOSS_ROWWISE_ROW_INDICES

    ctypedef struct closs_rowwise_args:
        int64_t n, d
        const void *x0
        const void *x1
        const void *x2
        const void *y
        const int64_t *idx
        const void *w
        double p0, p1, p2, p3
        closs_reduction reduction
        const void *grad_output
        void *out
        void *g0
        void *g1
        void *g2
        void *gy

    closs_status closs_rowwise_call(closs_dtype dtype, int kind, closs_op op,
                                    const closs_rowwise_args *a)
    const char **closs_rowwise_names
    const int *closs_rowwise_layouts
    const int closs_rowwise_count

    # classification: kind indexes closs_classification_names
    int CLOSS_CLASSIFICATION_COUNT
    const char **closs_classification_names
    ctypedef struct closs_classification_args:
        int64_t n, c, s
        const void *x
        const int64_t *t
        const void *tp
        const void *w
        int64_t ignore_index
        double label_smoothing
        closs_reduction reduction
        void *out
        const void *grad_output
        void *grad_input
        void *hess
        void *grad_target
        void *grad_weight
    closs_status closs_classification_call(closs_dtype dtype, int kind, closs_op op,
                                           const closs_classification_args *a)

    # linear_cross_entropy: kind is cross_entropy or cross_entropy_prob
    ctypedef struct closs_linear_args:
        int64_t n, in_features, c, s
        const void *input
        const void *linear_weight
        const void *linear_bias
        const int64_t *t
        const void *tp
        const void *w
        int64_t ignore_index
        double label_smoothing
        closs_reduction reduction
        void *out
        const void *grad_output
        void *grad_input
        void *grad_weight
        void *grad_bias
    closs_status closs_linear_call(closs_dtype dtype, int kind, closs_op op,
                                   const closs_linear_args *a)
    int64_t closs_linear_block_rows(int64_t v)

    # ctc_loss
    ctypedef struct closs_ctc_args:
        int64_t t, n, c
        const void *log_probs
        const int64_t *targets
        int64_t s
        int concatenated
        const int64_t *input_lengths
        const int64_t *target_lengths
        int64_t blank
        int zero_infinity
        closs_reduction reduction
        void *out
        const void *grad_output
        void *grad_log_probs
    closs_status closs_ctc_call(closs_dtype dtype, closs_op op, const closs_ctc_args *a)
