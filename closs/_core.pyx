# Cython wrappers of the C core: typed memoryviews in, one nogil call, one status check.
#
# Each loss family has one fused-type function per dtype pair (float/double) that
# checks buffer lengths (so no C call can read or write past an array), takes the
# pointers, releases the GIL and dispatches on (loss kind, operation). The Python
# layer (closs/_api.py) picks the specialisation once per call with
# family["float"] / family["double"], avoiding Cython's fused dispatch cost.
from libc.stdint cimport int64_t
from cython cimport floating

from closs._closs cimport *
from closs._errors import ShapeError

# Operations and loss kinds, C constants here and Python ints for closs/_api.py.
cpdef enum Op:
    FORWARD = 0
    BACKWARD = 1
    FUSED = 2

cpdef enum Regression:
    L1 = 0
    MSE = 1
    SMOOTH_L1 = 2
    HUBER = 3

cpdef enum Classification:
    NLL = 0
    CROSS_ENTROPY = 1       # class-index targets
    CROSS_ENTROPY_PROB = 2  # probability targets

_EXCEPTIONS = {
    CLOSS_ERR_NULL_POINTER: ValueError,
    CLOSS_ERR_INVALID_SIZE: ShapeError,
    CLOSS_ERR_INVALID_REDUCTION: ValueError,
    CLOSS_ERR_INVALID_ARGUMENT: ValueError,
    CLOSS_ERR_INDEX_OUT_OF_RANGE: IndexError,
    CLOSS_ERR_OUT_OF_MEMORY: MemoryError,
}


cdef int check(closs_status st) except -1:
    """Raises the Python exception of a C status (the one path for every call)."""
    if st != CLOSS_OK:
        raise _EXCEPTIONS.get(st, RuntimeError)(closs_status_string(st).decode())
    return 0


cdef inline const int64_t *iptr(const int64_t[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline const floating *cptr(const floating[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline floating *mptr(floating[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef int check_len(object a, Py_ssize_t have, Py_ssize_t want, str what) except -1:
    if a is not None and have != want:
        raise ShapeError(f"{what} has {have} elements, expected {want}")
    return 0


def version_number():
    return closs_version_number()


def build_info():
    return closs_build_info().decode()


def has_openmp():
    return bool(closs_has_openmp())


def set_num_threads(int n):
    check(closs_set_num_threads(n))


def get_num_threads():
    return closs_get_num_threads()


cdef closs_status regression_call(int kind, int op, int64_t n, const floating *x,
                                  const floating *y, const floating *w, double p,
                                  closs_reduction r, floating *out, const floating *go,
                                  floating *gx) noexcept nogil:
    if floating is float:
        if kind == L1:
            if op == FORWARD: return closs_l1_loss_f32(n, x, y, w, r, out)
            if op == BACKWARD: return closs_l1_loss_backward_f32(n, x, y, w, r, go, gx)
            return closs_l1_loss_fused_f32(n, x, y, w, r, out, gx)
        if kind == MSE:
            if op == FORWARD: return closs_mse_loss_f32(n, x, y, w, r, out)
            if op == BACKWARD: return closs_mse_loss_backward_f32(n, x, y, w, r, go, gx)
            return closs_mse_loss_fused_f32(n, x, y, w, r, out, gx)
        if kind == SMOOTH_L1:
            if op == FORWARD: return closs_smooth_l1_loss_f32(n, x, y, w, p, r, out)
            if op == BACKWARD: return closs_smooth_l1_loss_backward_f32(n, x, y, w, p, r, go, gx)
            return closs_smooth_l1_loss_fused_f32(n, x, y, w, p, r, out, gx)
        if op == FORWARD: return closs_huber_loss_f32(n, x, y, w, p, r, out)
        if op == BACKWARD: return closs_huber_loss_backward_f32(n, x, y, w, p, r, go, gx)
        return closs_huber_loss_fused_f32(n, x, y, w, p, r, out, gx)
    else:
        if kind == L1:
            if op == FORWARD: return closs_l1_loss_f64(n, x, y, w, r, out)
            if op == BACKWARD: return closs_l1_loss_backward_f64(n, x, y, w, r, go, gx)
            return closs_l1_loss_fused_f64(n, x, y, w, r, out, gx)
        if kind == MSE:
            if op == FORWARD: return closs_mse_loss_f64(n, x, y, w, r, out)
            if op == BACKWARD: return closs_mse_loss_backward_f64(n, x, y, w, r, go, gx)
            return closs_mse_loss_fused_f64(n, x, y, w, r, out, gx)
        if kind == SMOOTH_L1:
            if op == FORWARD: return closs_smooth_l1_loss_f64(n, x, y, w, p, r, out)
            if op == BACKWARD: return closs_smooth_l1_loss_backward_f64(n, x, y, w, p, r, go, gx)
            return closs_smooth_l1_loss_fused_f64(n, x, y, w, p, r, out, gx)
        if op == FORWARD: return closs_huber_loss_f64(n, x, y, w, p, r, out)
        if op == BACKWARD: return closs_huber_loss_backward_f64(n, x, y, w, p, r, go, gx)
        return closs_huber_loss_fused_f64(n, x, y, w, p, r, out, gx)


def regression(int kind, int op, const floating[::1] x not None, const floating[::1] y not None,
               const floating[::1] w, double param, int reduction,
               floating[::1] out, const floating[::1] go, floating[::1] gx):
    """One regression loss call: op FORWARD fills out, BACKWARD fills gx from go,
    FUSED fills out and gx. Arrays are flat; out and go hold n values for
    reduction 'none' (0), one otherwise."""
    cdef int64_t n = x.shape[0]
    cdef Py_ssize_t nout = n if reduction == CLOSS_REDUCTION_NONE else 1
    check_len(y, y.shape[0], n, "target")
    check_len(w, 0 if w is None else w.shape[0], n, "weight")
    check_len(out, 0 if out is None else out.shape[0], nout, "out")
    check_len(go, 0 if go is None else go.shape[0], nout, "grad_output")
    check_len(gx, 0 if gx is None else gx.shape[0], n, "grad_input")
    if (op != BACKWARD and out is None) or (op != FORWARD and gx is None):
        raise ValueError("missing output buffer")
    cdef closs_status st
    cdef const floating *px = cptr(x)
    cdef const floating *py = cptr(y)
    cdef const floating *pw = cptr(w)
    cdef const floating *pgo = cptr(go)
    cdef floating *pout = mptr(out)
    cdef floating *pgx = mptr(gx)
    with nogil:
        st = regression_call(kind, op, n, px, py, pw, param, <closs_reduction>reduction,
                             pout, pgo, pgx)
    check(st)


cdef closs_status classification_call(int kind, int op, int64_t n, int64_t c, int64_t s,
                                      const floating *x, const int64_t *t, const floating *tp,
                                      const floating *w, int64_t ignore, double ls,
                                      closs_reduction r, floating *out, const floating *go,
                                      floating *gx) noexcept nogil:
    if floating is float:
        if kind == NLL:
            if op == FORWARD: return closs_nll_loss_f32(n, c, s, x, t, w, ignore, r, out)
            if op == BACKWARD: return closs_nll_loss_backward_f32(n, c, s, x, t, w, ignore, r, go, gx)
            return closs_nll_loss_fused_f32(n, c, s, x, t, w, ignore, r, out, gx)
        if kind == CROSS_ENTROPY:
            if op == FORWARD: return closs_cross_entropy_f32(n, c, s, x, t, w, ignore, ls, r, out)
            if op == BACKWARD: return closs_cross_entropy_backward_f32(n, c, s, x, t, w, ignore, ls, r, go, gx)
            return closs_cross_entropy_fused_f32(n, c, s, x, t, w, ignore, ls, r, out, gx)
        if op == FORWARD: return closs_cross_entropy_prob_f32(n, c, s, x, tp, w, ls, r, out)
        if op == BACKWARD: return closs_cross_entropy_prob_backward_f32(n, c, s, x, tp, w, ls, r, go, gx)
        return closs_cross_entropy_prob_fused_f32(n, c, s, x, tp, w, ls, r, out, gx)
    else:
        if kind == NLL:
            if op == FORWARD: return closs_nll_loss_f64(n, c, s, x, t, w, ignore, r, out)
            if op == BACKWARD: return closs_nll_loss_backward_f64(n, c, s, x, t, w, ignore, r, go, gx)
            return closs_nll_loss_fused_f64(n, c, s, x, t, w, ignore, r, out, gx)
        if kind == CROSS_ENTROPY:
            if op == FORWARD: return closs_cross_entropy_f64(n, c, s, x, t, w, ignore, ls, r, out)
            if op == BACKWARD: return closs_cross_entropy_backward_f64(n, c, s, x, t, w, ignore, ls, r, go, gx)
            return closs_cross_entropy_fused_f64(n, c, s, x, t, w, ignore, ls, r, out, gx)
        if op == FORWARD: return closs_cross_entropy_prob_f64(n, c, s, x, tp, w, ls, r, out)
        if op == BACKWARD: return closs_cross_entropy_prob_backward_f64(n, c, s, x, tp, w, ls, r, go, gx)
        return closs_cross_entropy_prob_fused_f64(n, c, s, x, tp, w, ls, r, out, gx)


def classification(int kind, int op, int64_t n, int64_t c, int64_t s,
                   const floating[::1] x not None, const int64_t[::1] t,
                   const floating[::1] tp, const floating[::1] w,
                   int64_t ignore_index, double label_smoothing, int reduction,
                   floating[::1] out, const floating[::1] go, floating[::1] gx):
    """One classification loss call on input of shape (n, c, s), flat: op FORWARD
    fills out, BACKWARD fills gx from go, FUSED fills out and gx. Class indices t
    (NLL, CROSS_ENTROPY) hold n*s values, probabilities tp (CROSS_ENTROPY_PROB)
    n*c*s; out and go hold n*s values for reduction 'none' (0), one otherwise."""
    if n < 0 or c < 0 or s < 0:
        raise ShapeError(f"negative size ({n}, {c}, {s})")
    cdef Py_ssize_t npos = n * s
    cdef Py_ssize_t nel = npos * c
    cdef Py_ssize_t nout = npos if reduction == CLOSS_REDUCTION_NONE else 1
    check_len(x, x.shape[0], nel, "input")
    if kind == CROSS_ENTROPY_PROB:
        if tp is None:
            raise ValueError("missing probability target")
        check_len(tp, tp.shape[0], nel, "target")
    else:
        if t is None:
            raise ValueError("missing class-index target")
        check_len(t, t.shape[0], npos, "target")
    check_len(w, 0 if w is None else w.shape[0], c, "weight")
    check_len(out, 0 if out is None else out.shape[0], nout, "out")
    check_len(go, 0 if go is None else go.shape[0], nout, "grad_output")
    check_len(gx, 0 if gx is None else gx.shape[0], nel, "grad_input")
    if (op != BACKWARD and out is None) or (op != FORWARD and gx is None):
        raise ValueError("missing output buffer")
    cdef closs_status st
    cdef const floating *px = cptr(x)
    cdef const int64_t *pt = iptr(t)
    cdef const floating *ptp = cptr(tp)
    cdef const floating *pw = cptr(w)
    cdef const floating *pgo = cptr(go)
    cdef floating *pout = mptr(out)
    cdef floating *pgx = mptr(gx)
    with nogil:
        st = classification_call(kind, op, n, c, s, px, pt, ptp, pw, ignore_index,
                                 label_smoothing, <closs_reduction>reduction, pout, pgo, pgx)
    check(st)
