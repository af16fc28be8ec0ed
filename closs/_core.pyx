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
from closs._errors import DomainError, ParameterError, ShapeError

# Operations and loss kinds, C constants here and Python ints for closs/_api.py.
cpdef enum Op:
    FORWARD = 0
    BACKWARD = 1
    FUSED = 2

# Element-wise loss kinds by name: the index into _dispatch.h's tables.
POINTWISE = {closs_py_pointwise_names[k].decode(): k for k in range(CLOSS_PY_POINTWISE_COUNT)}
# Row-wise loss kinds by name.
ROWWISE = {closs_py_rowwise_names[k].decode(): k for k in range(CLOSS_PY_ROWWISE_COUNT)}

# Classification loss kinds by name (cross_entropy_prob: probability targets).
CLASSIFICATION = {closs_py_classification_names[k].decode(): k
                  for k in range(CLOSS_PY_CLASSIFICATION_COUNT)}

_EXCEPTIONS = {
    CLOSS_ERR_NULL_POINTER: ValueError,
    CLOSS_ERR_INVALID_SIZE: ShapeError,
    CLOSS_ERR_INVALID_REDUCTION: ValueError,
    CLOSS_ERR_INVALID_ARGUMENT: ParameterError,
    CLOSS_ERR_DOMAIN: DomainError,
    CLOSS_ERR_INDEX_OUT_OF_RANGE: IndexError,
    CLOSS_ERR_OUT_OF_MEMORY: MemoryError,
}


cdef int check(closs_status st) except -1:
    """Raises the Python exception of a C status (the one path for every call)."""
    if st != CLOSS_OK:
        raise _EXCEPTIONS.get(st, RuntimeError)(closs_status_string(st).decode())
    return 0


cdef inline const floating *cptr(const floating[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline floating *mptr(floating[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef inline const int64_t *iptr(const int64_t[::1] a) noexcept:
    return NULL if a is None or a.shape[0] == 0 else &a[0]


cdef int check_len(object a, Py_ssize_t have, Py_ssize_t want, str what) except -1:
    if a is not None and have != want:
        raise ShapeError(f"{what} has {have} elements, expected {want}")
    return 0


cdef int check_view(const floating[::1] a, Py_ssize_t want, str what) except -1:
    """A float array argument (None: absent) holds want values."""
    if a is not None and a.shape[0] != want:
        raise ShapeError(f"{what} has {a.shape[0]} elements, expected {want}")
    return 0


cdef int check_outputs(int op, object out, object grad) except -1:
    """The buffers an operation writes are there: out for the value, grad for the gradient."""
    if (op != BACKWARD and out is None) or (op != FORWARD and grad is None):
        raise ValueError("missing output buffer")
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


def pointwise(int kind, int op, const floating[::1] x not None, const floating[::1] y not None,
               const floating[::1] w, const floating[::1] aux, double p0, double p1,
               double p2, int reduction,
               floating[::1] out, const floating[::1] go, floating[::1] gx,
               floating[::1] gaux=None):
    """One element-wise loss call: op FORWARD fills out, BACKWARD fills gx from go,
    FUSED fills out and gx. Arrays are flat; out and go hold n values for
    reduction 'none' (0), one otherwise."""
    if not 0 <= kind < CLOSS_PY_POINTWISE_COUNT:
        raise ValueError(f"unknown element-wise loss kind {kind}")
    cdef int64_t n = x.shape[0]
    cdef Py_ssize_t nout = n if reduction == CLOSS_REDUCTION_NONE else 1
    check_view(y, n, "target")
    check_view(w, n, "weight")
    check_view(aux, n, "aux")
    check_view(out, nout, "out")
    check_view(go, nout, "grad_output")
    check_view(gx, n, "grad_input")
    check_view(gaux, n, "grad of aux")
    check_outputs(op, out, gx)
    cdef closs_status st
    cdef const floating *px = cptr(x)
    cdef const floating *py = cptr(y)
    cdef const floating *pw = cptr(w)
    cdef const floating *pa = cptr(aux)
    cdef const floating *pgo = cptr(go)
    cdef floating *pout = mptr(out)
    cdef floating *pgx = mptr(gx)
    cdef floating *pga = mptr(gaux)
    with nogil:
        if floating is float:
            st = closs_py_pointwise_f32_table[kind](op, n, px, py, pw, pa, p0, p1, p2,
                                                    <closs_reduction>reduction, pout, pgo, pgx, pga)
        else:
            st = closs_py_pointwise_f64_table[kind](op, n, px, py, pw, pa, p0, p1, p2,
                                                    <closs_reduction>reduction, pout, pgo, pgx, pga)
    check(st)


def rowwise(int kind, int op, int64_t n, int64_t d,
            const floating[::1] x0, const floating[::1] x1, const floating[::1] x2,
            const floating[::1] y, const int64_t[::1] idx, const floating[::1] w,
            double p0, double p1, double p2, double p3, int reduction,
            floating[::1] out, const floating[::1] go,
            floating[::1] g0, floating[::1] g1, floating[::1] g2):
    """One row-wise loss call on n rows of d elements: op FORWARD fills out,
    BACKWARD fills the gradients g0.. from go, FUSED fills out and the gradients.
    Arrays are flat: inputs x0.. and gradients n * d values, targets y n values,
    class indices idx one per row or n * d (as the loss's layout says), weights
    w d values; out and go hold n values for reduction 'none' (0), one otherwise.
    Arrays a loss does not take may be None."""
    if not 0 <= kind < CLOSS_PY_ROWWISE_COUNT:
        raise ValueError(f"unknown row-wise loss kind {kind}")
    if n < 0 or d < 0 or (d > 0 and n > (<int64_t>1 << 62) // d):
        raise ShapeError(f"invalid row-wise shape: {n} rows of {d} elements")
    cdef Py_ssize_t nd = n * d
    cdef Py_ssize_t nout = n if reduction == CLOSS_REDUCTION_NONE else 1
    cdef Py_ssize_t nidx = n if closs_py_rowwise_layouts[kind] == 1 else nd
    check_view(x0, nd, "input")
    check_view(x1, nd, "input")
    check_view(x2, nd, "input")
    check_view(y, n, "target")
    check_len(idx, 0 if idx is None else idx.shape[0], nidx, "target")
    check_view(w, d, "weight")
    check_view(out, nout, "out")
    check_view(go, nout, "grad_output")
    check_view(g0, nd, "gradient")
    check_view(g1, nd, "gradient")
    check_view(g2, nd, "gradient")
    check_outputs(op, out, g0)
    cdef closs_status st
    cdef const floating *px0 = cptr(x0)
    cdef const floating *px1 = cptr(x1)
    cdef const floating *px2 = cptr(x2)
    cdef const floating *py = cptr(y)
    cdef const int64_t *pidx = iptr(idx)
    cdef const floating *pw = cptr(w)
    cdef const floating *pgo = cptr(go)
    cdef floating *pout = mptr(out)
    cdef floating *pg0 = mptr(g0)
    cdef floating *pg1 = mptr(g1)
    cdef floating *pg2 = mptr(g2)
    with nogil:
        if floating is float:
            st = closs_py_rowwise_f32_table[kind](op, n, d, px0, px1, px2, py, pidx, pw,
                                                  p0, p1, p2, p3, <closs_reduction>reduction,
                                                  pout, pgo, pg0, pg1, pg2)
        else:
            st = closs_py_rowwise_f64_table[kind](op, n, d, px0, px1, px2, py, pidx, pw,
                                                  p0, p1, p2, p3, <closs_reduction>reduction,
                                                  pout, pgo, pg0, pg1, pg2)
    check(st)


def ctc(int op, int64_t t, int64_t n, int64_t c, const floating[::1] log_probs not None,
        const int64_t[::1] targets not None, int64_t s, bint concatenated,
        const int64_t[::1] input_lengths not None, const int64_t[::1] target_lengths not None,
        int64_t blank, bint zero_infinity, int reduction,
        floating[::1] out, const floating[::1] go, floating[::1] grad):
    """One ctc_loss call: op FORWARD fills out, BACKWARD fills grad from go, FUSED
    fills out and grad. log_probs and grad hold t * n * c values (frames, batch,
    classes); targets n * s (padded) or s (concatenated); the lengths n each;
    out and go n values for reduction 'none' (0), one otherwise. The C core
    checks the lengths' and labels' values."""
    if t < 0 or n < 0 or c < 0 or s < 0:
        raise ShapeError(f"invalid ctc_loss shape: ({t}, {n}, {c}), targets {s}")
    if n > 0 and (t > (<int64_t>1 << 62) // n or (t > 0 and c > (<int64_t>1 << 62) // (t * n))
                  or s > (<int64_t>1 << 62) // n):
        raise ShapeError(f"ctc_loss shape ({t}, {n}, {c}) is too large")
    cdef Py_ssize_t nout = n if reduction == CLOSS_REDUCTION_NONE else 1
    check_view(log_probs, t * n * c, "log_probs")
    check_len(targets, targets.shape[0], s if concatenated else n * s, "targets")
    check_len(input_lengths, input_lengths.shape[0], n, "input_lengths")
    check_len(target_lengths, target_lengths.shape[0], n, "target_lengths")
    check_view(out, nout, "out")
    check_view(go, nout, "grad_output")
    check_view(grad, t * n * c, "gradient")
    check_outputs(op, out, grad)
    cdef closs_status st
    cdef const floating *plp = cptr(log_probs)
    cdef const int64_t *ptg = iptr(targets)
    cdef const int64_t *pil = iptr(input_lengths)
    cdef const int64_t *ptl = iptr(target_lengths)
    cdef const floating *pgo = cptr(go)
    cdef floating *pout = mptr(out)
    cdef floating *pg = mptr(grad)
    with nogil:
        if floating is float:
            st = closs_py_ctc_f32(op, t, n, c, plp, ptg, s, concatenated, pil, ptl, blank,
                                  zero_infinity, <closs_reduction>reduction, pout, pgo, pg)
        else:
            st = closs_py_ctc_f64(op, t, n, c, plp, ptg, s, concatenated, pil, ptl, blank,
                                  zero_infinity, <closs_reduction>reduction, pout, pgo, pg)
    check(st)


def classification(int kind, int op, int64_t n, int64_t c, int64_t s,
                   const floating[::1] x not None, const int64_t[::1] t,
                   const floating[::1] tp, const floating[::1] w,
                   int64_t ignore_index, double label_smoothing, int reduction,
                   floating[::1] out, const floating[::1] go, floating[::1] gx):
    """One classification loss call on input of shape (n, c, s), flat: op FORWARD
    fills out, BACKWARD fills gx from go, FUSED fills out and gx. Class indices t
    (nll_loss, cross_entropy) hold n*s values, probabilities tp (cross_entropy_prob)
    n*c*s; out and go hold n*s values for reduction 'none' (0), one otherwise."""
    if not 0 <= kind < CLOSS_PY_CLASSIFICATION_COUNT:
        raise ValueError(f"unknown classification loss kind {kind}")
    if n < 0 or c < 0 or s < 0:
        raise ShapeError(f"negative size ({n}, {c}, {s})")
    cdef Py_ssize_t npos = n * s
    cdef Py_ssize_t nel = npos * c
    cdef Py_ssize_t nout = npos if reduction == CLOSS_REDUCTION_NONE else 1
    check_view(x, nel, "input")
    if kind == CLASSIFICATION["cross_entropy_prob"]:
        if tp is None:
            raise ValueError("missing probability target")
        check_view(tp, nel, "target")
    else:
        if t is None:
            raise ValueError("missing class-index target")
        check_len(t, t.shape[0], npos, "target")
    check_view(w, c, "weight")
    check_view(out, nout, "out")
    check_view(go, nout, "grad_output")
    check_view(gx, nel, "grad_input")
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
        if floating is float:
            st = closs_py_classification_f32_table[kind](
                op, n, c, s, px, pt, ptp, pw, ignore_index, label_smoothing,
                <closs_reduction>reduction, pout, pgo, pgx)
        else:
            st = closs_py_classification_f64_table[kind](
                op, n, c, s, px, pt, ptp, pw, ignore_index, label_smoothing,
                <closs_reduction>reduction, pout, pgo, pgx)
    check(st)
