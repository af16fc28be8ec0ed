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

    ctypedef enum closs_reduction:
        CLOSS_REDUCTION_NONE
        CLOSS_REDUCTION_MEAN
        CLOSS_REDUCTION_SUM
        CLOSS_REDUCTION_BATCHMEAN

    int CLOSS_VERSION_NUMBER
    const char *closs_status_string(closs_status status)
    int closs_version_number()
    int closs_has_openmp()
    const char *closs_build_info()
    closs_status closs_set_num_threads(int n)
    int closs_get_num_threads()

    # Regression losses: (n, input, target, weight[, param], reduction, ...)
    closs_status closs_l1_loss_f32(int64_t, const float *, const float *, const float *, closs_reduction, float *)
    closs_status closs_l1_loss_backward_f32(int64_t, const float *, const float *, const float *, closs_reduction, const float *, float *)
    closs_status closs_l1_loss_fused_f32(int64_t, const float *, const float *, const float *, closs_reduction, float *, float *)
    closs_status closs_l1_loss_f64(int64_t, const double *, const double *, const double *, closs_reduction, double *)
    closs_status closs_l1_loss_backward_f64(int64_t, const double *, const double *, const double *, closs_reduction, const double *, double *)
    closs_status closs_l1_loss_fused_f64(int64_t, const double *, const double *, const double *, closs_reduction, double *, double *)
    closs_status closs_mse_loss_f32(int64_t, const float *, const float *, const float *, closs_reduction, float *)
    closs_status closs_mse_loss_backward_f32(int64_t, const float *, const float *, const float *, closs_reduction, const float *, float *)
    closs_status closs_mse_loss_fused_f32(int64_t, const float *, const float *, const float *, closs_reduction, float *, float *)
    closs_status closs_mse_loss_f64(int64_t, const double *, const double *, const double *, closs_reduction, double *)
    closs_status closs_mse_loss_backward_f64(int64_t, const double *, const double *, const double *, closs_reduction, const double *, double *)
    closs_status closs_mse_loss_fused_f64(int64_t, const double *, const double *, const double *, closs_reduction, double *, double *)
    closs_status closs_smooth_l1_loss_f32(int64_t, const float *, const float *, const float *, double, closs_reduction, float *)
    closs_status closs_smooth_l1_loss_backward_f32(int64_t, const float *, const float *, const float *, double, closs_reduction, const float *, float *)
    closs_status closs_smooth_l1_loss_fused_f32(int64_t, const float *, const float *, const float *, double, closs_reduction, float *, float *)
    closs_status closs_smooth_l1_loss_f64(int64_t, const double *, const double *, const double *, double, closs_reduction, double *)
    closs_status closs_smooth_l1_loss_backward_f64(int64_t, const double *, const double *, const double *, double, closs_reduction, const double *, double *)
    closs_status closs_smooth_l1_loss_fused_f64(int64_t, const double *, const double *, const double *, double, closs_reduction, double *, double *)
    closs_status closs_huber_loss_f32(int64_t, const float *, const float *, const float *, double, closs_reduction, float *)
    closs_status closs_huber_loss_backward_f32(int64_t, const float *, const float *, const float *, double, closs_reduction, const float *, float *)
    closs_status closs_huber_loss_fused_f32(int64_t, const float *, const float *, const float *, double, closs_reduction, float *, float *)
    closs_status closs_huber_loss_f64(int64_t, const double *, const double *, const double *, double, closs_reduction, double *)
    closs_status closs_huber_loss_backward_f64(int64_t, const double *, const double *, const double *, double, closs_reduction, const double *, double *)
    closs_status closs_huber_loss_fused_f64(int64_t, const double *, const double *, const double *, double, closs_reduction, double *, double *)

    # Classification losses: (n, c, s, input, target, weight, [ignore_index,]
    # [label_smoothing,] reduction, ...)
    closs_status closs_nll_loss_f32(int64_t, int64_t, int64_t, const float *, const int64_t *, const float *, int64_t, closs_reduction, float *)
    closs_status closs_nll_loss_backward_f32(int64_t, int64_t, int64_t, const float *, const int64_t *, const float *, int64_t, closs_reduction, const float *, float *)
    closs_status closs_nll_loss_fused_f32(int64_t, int64_t, int64_t, const float *, const int64_t *, const float *, int64_t, closs_reduction, float *, float *)
    closs_status closs_nll_loss_f64(int64_t, int64_t, int64_t, const double *, const int64_t *, const double *, int64_t, closs_reduction, double *)
    closs_status closs_nll_loss_backward_f64(int64_t, int64_t, int64_t, const double *, const int64_t *, const double *, int64_t, closs_reduction, const double *, double *)
    closs_status closs_nll_loss_fused_f64(int64_t, int64_t, int64_t, const double *, const int64_t *, const double *, int64_t, closs_reduction, double *, double *)
    closs_status closs_cross_entropy_f32(int64_t, int64_t, int64_t, const float *, const int64_t *, const float *, int64_t, double, closs_reduction, float *)
    closs_status closs_cross_entropy_backward_f32(int64_t, int64_t, int64_t, const float *, const int64_t *, const float *, int64_t, double, closs_reduction, const float *, float *)
    closs_status closs_cross_entropy_fused_f32(int64_t, int64_t, int64_t, const float *, const int64_t *, const float *, int64_t, double, closs_reduction, float *, float *)
    closs_status closs_cross_entropy_f64(int64_t, int64_t, int64_t, const double *, const int64_t *, const double *, int64_t, double, closs_reduction, double *)
    closs_status closs_cross_entropy_backward_f64(int64_t, int64_t, int64_t, const double *, const int64_t *, const double *, int64_t, double, closs_reduction, const double *, double *)
    closs_status closs_cross_entropy_fused_f64(int64_t, int64_t, int64_t, const double *, const int64_t *, const double *, int64_t, double, closs_reduction, double *, double *)
    closs_status closs_cross_entropy_prob_f32(int64_t, int64_t, int64_t, const float *, const float *, const float *, double, closs_reduction, float *)
    closs_status closs_cross_entropy_prob_backward_f32(int64_t, int64_t, int64_t, const float *, const float *, const float *, double, closs_reduction, const float *, float *)
    closs_status closs_cross_entropy_prob_fused_f32(int64_t, int64_t, int64_t, const float *, const float *, const float *, double, closs_reduction, float *, float *)
    closs_status closs_cross_entropy_prob_f64(int64_t, int64_t, int64_t, const double *, const double *, const double *, double, closs_reduction, double *)
    closs_status closs_cross_entropy_prob_backward_f64(int64_t, int64_t, int64_t, const double *, const double *, const double *, double, closs_reduction, const double *, double *)
    closs_status closs_cross_entropy_prob_fused_f64(int64_t, int64_t, int64_t, const double *, const double *, const double *, double, closs_reduction, double *, double *)
