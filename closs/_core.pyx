# Cython wrappers of the C core: ndarrays in, one nogil call, one status check.
#
# Each loss family has one function that takes its arrays as flat-able ndarrays
# (C-contiguous, of the kernel's dtype), checks every length (so no C call can
# read or write past an array), takes the data pointers through NumPy's C API,
# releases the GIL and calls the family's one C entry (closs_internal.h) with
# (dtype, loss kind, operation) and an arguments struct built here. The dtype is
# the first float array's: float32 or float64; the others must match it
# (closs/_api.py converts them).
#
# Op PARTIAL (closs_internal.h's CLOSS_OP_PARTIAL) is a reduced forward whose out
# is two float64 values: the sum and the mean's denominator (closs.h's partials).
#
# The `*_value` functions are the same calls' lane for the common forward call:
# arguments already in the kernel's form (exact ndarrays, contiguous, of one
# float dtype, int64 indices, one of the three plain reductions) go straight to
# C; anything else, and any failing status, returns None and the caller takes
# the general path, which normalises arguments and makes every error message.
from libc.stdint cimport int64_t
cimport numpy as cnp

from closs._closs cimport *
from closs._errors import DomainError, DTypeError, ParameterError, ShapeError

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void *data, cnp.dtype descr, object base)

# Operations and loss kinds, C constants here and Python ints for closs/_api.py.
cpdef enum Op:
    FORWARD = 0
    BACKWARD = 1
    FUSED = 2
    PARTIAL = 3  # a reduced FORWARD whose out is float64 (sum, mean's denominator)
    GRAD_HESS = 4  # a FUSED of reduction 'sum', out optional (one value), that also fills hx

# The reductions: closs.h's closs_reduction, the one enum of every layer above it
# (BATCHMEAN is the C library's reserved code: kl_div's is a scaled SUM).
cpdef enum Reduction:
    NONE = CLOSS_REDUCTION_NONE
    MEAN = CLOSS_REDUCTION_MEAN
    SUM = CLOSS_REDUCTION_SUM
    BATCHMEAN = CLOSS_REDUCTION_BATCHMEAN

# Element-wise loss kinds by name: the kind of closs_elementwise_call.
POINTWISE = {closs_elementwise_names[k].decode(): k for k in range(closs_elementwise_count)}
# Row-wise loss kinds by name: the kind of closs_rowwise_call.
ROWWISE = {closs_rowwise_names[k].decode(): k for k in range(closs_rowwise_count)}

# Classification loss kinds by name (cross_entropy_prob: probability targets).
CLASSIFICATION = {closs_classification_names[k].decode(): k
                  for k in range(CLOSS_CLASSIFICATION_COUNT)}
cdef int CE_PROB = CLASSIFICATION["cross_entropy_prob"]

_EXCEPTIONS = {
    CLOSS_ERR_NULL_POINTER: ValueError,
    CLOSS_ERR_INVALID_SIZE: ShapeError,
    CLOSS_ERR_INVALID_REDUCTION: ValueError,
    CLOSS_ERR_INVALID_ARGUMENT: ParameterError,
    CLOSS_ERR_DOMAIN: DomainError,
    CLOSS_ERR_INDEX_OUT_OF_RANGE: IndexError,
    CLOSS_ERR_OUT_OF_MEMORY: MemoryError,
    CLOSS_ERR_UNSUPPORTED: NotImplementedError,
}

cdef enum:
    F32 = cnp.NPY_FLOAT32
    F64 = cnp.NPY_FLOAT64
    I64 = cnp.NPY_INT64


cdef int check(closs_status st) except -1:
    """Raises the Python exception of a C status (the one path for every call)."""
    if st != CLOSS_OK:
        raise _EXCEPTIONS.get(st, RuntimeError)(closs_status_string(st).decode())
    return 0


# ------------------------------------------------------------------ arrays


cdef int float_type(object x, str what) except -1:
    """The kernel dtype of a call, F32 or F64: that of its first float array x."""
    if not cnp.PyArray_Check(x):
        raise ValueError(f"{what} must be an ndarray, got {type(x).__name__}")
    cdef int ty = cnp.PyArray_TYPE(<cnp.ndarray>x)
    if ty != F32 and ty != F64:
        raise DTypeError(f"{what} has dtype {x.dtype}, expected float32 or float64")
    return ty


cdef void *data(object a, int ty, Py_ssize_t want, str what, bint write=False) except? NULL:
    """The data of an array argument of `want` elements and type ty, or NULL when it
    is None (absent) or empty. It must be a C-contiguous, aligned ndarray of that
    type in native byte order (of any shape: the kernels see it flat); a written one
    must be writeable. (The type number alone does not tell '>f8' from '<f8'.)"""
    if a is None:
        return NULL
    if not cnp.PyArray_Check(a):
        raise ValueError(f"{what} must be an ndarray, got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_TYPE(arr) != ty:
        raise DTypeError(f"{what} has dtype {arr.dtype}, expected {cnp.PyArray_DescrFromType(ty)}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{what} must be C-contiguous")
    if not cnp.PyArray_ISBEHAVED_RO(arr):
        raise ValueError(f"{what} must be aligned and in native byte order")
    if cnp.PyArray_SIZE(arr) != want:
        raise ShapeError(f"{what} has {cnp.PyArray_SIZE(arr)} elements, expected {want}")
    if write and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{what} is read-only")
    return NULL if want == 0 else cnp.PyArray_DATA(arr)


cdef void *out_data(object out, int op, int ty, Py_ssize_t nout) except? NULL:
    """The value buffer of an operation: nout values of type ty, or PARTIAL's two
    float64 values (the sum and the mean's denominator)."""
    if op == PARTIAL:
        return data(out, cnp.NPY_FLOAT64, 2, "out", True)
    return data(out, ty, nout, "out", True)


cdef int check_outputs(int op, object out, object grad, object hess=None) except -1:
    """The buffers an operation writes are there: out for the value, grad for the
    gradient (GRAD_HESS: grad and hess; its out is optional)."""
    if op == GRAD_HESS:
        if grad is None or hess is None:
            raise ValueError("missing output buffer")
        return 0
    if (op != BACKWARD and out is None) or ((op == BACKWARD or op == FUSED) and grad is None):
        raise ValueError("missing output buffer")
    return 0


cdef inline bint kernel_array(object a, int ty, int ndim) noexcept:
    """a is an exact ndarray of type ty and ndim dimensions, C-contiguous, aligned and
    in native byte order (the lanes)."""
    return (cnp.PyArray_CheckExact(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == ty
            and cnp.PyArray_NDIM(<cnp.ndarray>a) == ndim
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a)
            and cnp.PyArray_ISBEHAVED_RO(<cnp.ndarray>a))


cdef int plain_reduction(object reduction) noexcept:
    """The code of 'none', 'mean' or 'sum'; -1 for anything else (the general path)."""
    if reduction == "mean":
        return CLOSS_REDUCTION_MEAN
    if reduction == "sum":
        return CLOSS_REDUCTION_SUM
    if reduction == "none":
        return CLOSS_REDUCTION_NONE
    return -1


cdef inline bint is_real(object v) noexcept:
    return type(v) is float or type(v) is int


cdef inline object lane_result(int ty, int reduction, object out):
    """A lane's value: the 'none' array, or out's one element as a NumPy scalar."""
    if reduction == CLOSS_REDUCTION_NONE:
        return out
    return PyArray_Scalar(pointer(out), cnp.PyArray_DescrFromType(ty), None)


cdef inline object lane_buffer(int ty, int reduction, cnp.npy_intp n):
    cdef cnp.npy_intp size = n if reduction == CLOSS_REDUCTION_NONE else 1
    return cnp.PyArray_EMPTY(1, &size, ty, 0)


cdef int lane_type(object x, object t, bint per_row, object w) noexcept:
    """The kernel type of a lane call: input x (n, d), n and d > 0, of float32 or
    float64; int64 class indices t, (n,) per row or else (n, d); weight w (d,) or
    None, of x's type. -1 when any of them is not in that form."""
    if not cnp.PyArray_Check(x):
        return -1
    cdef int ty = cnp.PyArray_TYPE(<cnp.ndarray>x)
    if not ((ty == F32 or ty == F64) and kernel_array(x, ty, 2)
            and kernel_array(t, I64, 1 if per_row else 2)):
        return -1
    cdef cnp.npy_intp n = cnp.PyArray_DIM(<cnp.ndarray>x, 0), d = cnp.PyArray_DIM(<cnp.ndarray>x, 1)
    if n == 0 or d == 0 or cnp.PyArray_DIM(<cnp.ndarray>t, 0) != n or (
            not per_row and cnp.PyArray_DIM(<cnp.ndarray>t, 1) != d):
        return -1
    if w is not None and not (kernel_array(w, ty, 1) and cnp.PyArray_DIM(<cnp.ndarray>w, 0) == d):
        return -1
    return ty


cdef inline void *pointer(object a) noexcept:
    """The data of an ndarray a lane has checked; NULL for None."""
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline closs_dtype kernel_dtype(int ty) noexcept nogil:
    """The C dtype of a float type (F32 or F64: float_type's or the lanes' checks)."""
    return CLOSS_F64 if ty == F64 else CLOSS_F32


# ------------------------------------------------------------------ library


def version_number():
    return closs_version_number()


def version_string():
    return closs_version_string().decode()


def build_info():
    return closs_build_info().decode()


def simd_level():
    return closs_simd_level().decode()


def has_openmp():
    return bool(closs_has_openmp())


def set_num_threads(int n):
    check(closs_set_num_threads(n))


def get_num_threads():
    return closs_get_num_threads()


# ------------------------------------------------------------------ element-wise


def pointwise(int kind, int op, x, y, w, aux, double p0, double p1, double p2, int reduction,
              out, go, gx, gaux=None, hx=None, gy=None, gw=None):
    """One element-wise loss call: op FORWARD fills out, BACKWARD fills gx (and gaux,
    the gradient of a differentiable aux, gy the target's, gw the weight's, each when
    given) from go, FUSED fills out and gx (gaux, gy, gw), GRAD_HESS (reduction
    'sum') gx and hx, and out when given. Arrays hold n values (x's size), out and
    go n for reduction 'none' (0), one otherwise."""
    if not 0 <= kind < closs_elementwise_count:
        raise ValueError(f"unknown element-wise loss kind {kind}")
    cdef int ty = float_type(x, "input")
    cdef closs_elementwise_args a
    a.n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    cdef Py_ssize_t nout = a.n if reduction == CLOSS_REDUCTION_NONE else 1
    a.input = data(x, ty, a.n, "input")
    a.target = data(y, ty, a.n, "target")
    a.weight = data(w, ty, a.n, "weight")
    a.aux = data(aux, ty, a.n, "aux")
    a.out = out_data(out, op, ty, nout)
    a.grad_output = data(go, ty, nout, "grad_output")
    a.grad_input = data(gx, ty, a.n, "grad_input", True)
    a.grad_aux = data(gaux, ty, a.n, "grad of aux", True)
    a.hess = data(hx, ty, a.n, "hess", True)
    a.grad_target = data(gy, ty, a.n, "grad of target", True)
    a.grad_weight = data(gw, ty, a.n, "grad of weight", True)
    a.p0, a.p1, a.p2 = p0, p1, p2
    a.reduction = <closs_reduction>reduction
    check_outputs(op, out, gx, hx)
    cdef closs_status st
    with nogil:
        st = closs_elementwise_call(kernel_dtype(ty), kind, <closs_op>op, &a)
    check(st)


cdef inline bint same_array(object a, object x, int ty) noexcept:
    """a is None, or a kernel array of x's type and shape (the element-wise lane)."""
    if a is None:
        return True
    cdef int nd = cnp.PyArray_NDIM(<cnp.ndarray>x)
    if not kernel_array(a, ty, nd):
        return False
    cdef int k
    for k in range(nd):
        if cnp.PyArray_DIM(<cnp.ndarray>a, k) != cnp.PyArray_DIM(<cnp.ndarray>x, k):
            return False
    return True


cdef inline bint overlaps(object a, object b) noexcept:
    """Two C-contiguous arrays (b may be None) share memory."""
    if b is None:
        return False
    cdef char *pa = <char *>cnp.PyArray_DATA(<cnp.ndarray>a)
    cdef char *pb = <char *>cnp.PyArray_DATA(<cnp.ndarray>b)
    return (pa < pb + cnp.PyArray_NBYTES(<cnp.ndarray>b)
            and pb < pa + cnp.PyArray_NBYTES(<cnp.ndarray>a))


def pointwise_lane(int kind, x, y, w, aux, p0, p1, p2, reduction, bint fused=False, out=None):
    """The lane of an element-wise loss's value (fused: value and input gradient, into
    out when given) when x, y, w and aux (None: absent) are kernel arrays of one
    float type and one shape with elements, the parameters plain numbers and the
    reduction plain: the value, or (value, gradient); None otherwise, or when the
    kernel refuses the call (its general path then raises the error)."""
    cdef int r = plain_reduction(reduction)
    if r < 0 or not cnp.PyArray_CheckExact(x) or not (is_real(p0) and is_real(p1) and is_real(p2)):
        return None
    cdef int ty = cnp.PyArray_TYPE(<cnp.ndarray>x)
    cdef int nd = cnp.PyArray_NDIM(<cnp.ndarray>x)
    if not ((ty == F32 or ty == F64) and kernel_array(x, ty, nd) and same_array(y, x, ty)
            and y is not None and same_array(w, x, ty) and same_array(aux, x, ty)):
        return None
    cdef closs_elementwise_args a
    a.n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    if a.n == 0 or not 0 <= kind < closs_elementwise_count:
        return None
    if out is not None and not (same_array(out, x, ty) and not overlaps(out, x)
                                and not overlaps(out, y) and not overlaps(out, w)
                                and not overlaps(out, aux)
                                and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out)):
        return None
    if r == CLOSS_REDUCTION_NONE:
        value = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(<cnp.ndarray>x), ty, 0)
    else:
        value = lane_buffer(ty, r, a.n)
    g = None
    if fused:
        g = out if out is not None else cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(<cnp.ndarray>x), ty, 0)
    a.input, a.target, a.weight, a.aux = pointer(x), pointer(y), pointer(w), pointer(aux)
    a.out, a.grad_output, a.grad_input = pointer(value), NULL, pointer(g)
    a.grad_aux, a.hess, a.grad_target, a.grad_weight = NULL, NULL, NULL, NULL
    a.p0, a.p1, a.p2 = p0, p1, p2
    a.reduction = <closs_reduction>r
    cdef closs_status st
    cdef closs_op op = CLOSS_OP_FUSED if fused else CLOSS_OP_FORWARD
    with nogil:
        st = closs_elementwise_call(kernel_dtype(ty), kind, op, &a)
    if st != CLOSS_OK:
        return None
    v = lane_result(ty, r, value)
    return (v, g) if fused else v


# ------------------------------------------------------------------ row-wise


def rowwise(int kind, int op, int64_t n, int64_t d, x0, x1, x2, y, idx, w,
            double p0, double p1, double p2, double p3, int reduction, out, go, g0, g1, g2,
            gy=None):
    """One row-wise loss call on n rows of d elements: op FORWARD fills out,
    BACKWARD fills the gradients g0.. from go, FUSED fills out and the gradients.
    Inputs x0.. and gradients hold n * d values, targets y n values, class
    indices idx (int64) one per row or n * d (as the loss's layout says),
    weights w d values; out and go n values for reduction 'none' (0), one
    otherwise. Arrays a loss does not take may be None."""
    if not 0 <= kind < closs_rowwise_count:
        raise ValueError(f"unknown row-wise loss kind {kind}")
    if not FORWARD <= op <= PARTIAL:
        raise ValueError(f"unknown operation {op}")
    if n < 0 or d < 0 or (d > 0 and n > (<int64_t>1 << 62) // d):
        raise ShapeError(f"invalid row-wise shape: {n} rows of {d} elements")
    cdef int ty = float_type(x0, "input")
    cdef Py_ssize_t nd = n * d
    cdef Py_ssize_t nout = n if reduction == CLOSS_REDUCTION_NONE else 1
    cdef Py_ssize_t nidx = n if closs_rowwise_layouts[kind] == CLOSS_ROWWISE_ROW_INDEX else nd
    cdef closs_rowwise_args a
    a.n, a.d = n, d
    a.x0 = data(x0, ty, nd, "input")
    a.x1 = data(x1, ty, nd, "input")
    a.x2 = data(x2, ty, nd, "input")
    a.y = data(y, ty, n, "target")
    a.idx = <const int64_t *>data(idx, I64, nidx, "target")
    a.w = data(w, ty, d, "weight")
    a.p0, a.p1, a.p2, a.p3 = p0, p1, p2, p3
    a.reduction = <closs_reduction>reduction
    a.out = out_data(out, op, ty, nout)
    a.grad_output = data(go, ty, nout, "grad_output")
    a.g0 = data(g0, ty, nd, "gradient", True)
    a.g1 = data(g1, ty, nd, "gradient", True)
    a.g2 = data(g2, ty, nd, "gradient", True)
    a.gy = data(gy, ty, n, "grad of target", True)
    check_outputs(op, out, g0)
    cdef closs_status st
    with nogil:
        st = closs_rowwise_call(kernel_dtype(ty), kind, <closs_op>op, &a)
    check(st)


def rowwise_value(int kind, x, idx, w, p0, p1, reduction):
    """The lane of a class-index row-wise loss's value (multi_margin_loss,
    multilabel_margin_loss) on input x (n, d), int64 indices idx of the loss's
    layout, optional weight w (d,), parameters p0, p1: None when the arguments
    are not in the kernel's form or the kernel refuses them."""
    if not 0 <= kind < closs_rowwise_count:
        raise ValueError(f"unknown row-wise loss kind {kind}")
    cdef int r = plain_reduction(reduction)
    cdef int ty = lane_type(x, idx, closs_rowwise_layouts[kind] == CLOSS_ROWWISE_ROW_INDEX, w)
    if r < 0 or ty < 0 or not (is_real(p0) and is_real(p1)):
        return None
    cdef closs_rowwise_args a
    a.n, a.d = cnp.PyArray_DIM(<cnp.ndarray>x, 0), cnp.PyArray_DIM(<cnp.ndarray>x, 1)
    out = lane_buffer(ty, r, a.n)
    a.x0, a.x1, a.x2, a.y = pointer(x), NULL, NULL, NULL
    a.idx = <const int64_t *>pointer(idx)
    a.w = pointer(w)
    a.p0, a.p1, a.p2, a.p3 = p0, p1, 0, 0
    a.reduction = <closs_reduction>r
    a.out, a.grad_output = pointer(out), NULL
    a.g0, a.g1, a.g2, a.gy = NULL, NULL, NULL, NULL
    cdef closs_status st
    with nogil:
        st = closs_rowwise_call(kernel_dtype(ty), kind, CLOSS_OP_FORWARD, &a)
    return lane_result(ty, r, out) if st == CLOSS_OK else None


# ------------------------------------------------------------------ ctc


def ctc(int op, int64_t t, int64_t n, int64_t c, log_probs, targets, int64_t s,
        bint concatenated, input_lengths, target_lengths, int64_t blank, bint zero_infinity,
        int reduction, out, go, grad):
    """One ctc_loss call: op FORWARD fills out, BACKWARD fills grad from go, FUSED
    fills out and grad. log_probs and grad hold t * n * c values (frames, batch,
    classes); int64 targets n * s (padded) or s (concatenated), the int64
    lengths n each; out and go n values for reduction 'none' (0), one otherwise.
    The C core checks the lengths' and labels' values."""
    if t < 0 or n < 0 or c < 0 or s < 0:
        raise ShapeError(f"invalid ctc_loss shape: ({t}, {n}, {c}), targets {s}")
    if n > 0 and (t > (<int64_t>1 << 62) // n or (t > 0 and c > (<int64_t>1 << 62) // (t * n))
                  or s > (<int64_t>1 << 62) // n):
        raise ShapeError(f"ctc_loss shape ({t}, {n}, {c}) is too large")
    if log_probs is None or targets is None or input_lengths is None or target_lengths is None:
        raise ValueError("ctc_loss: missing log_probs, targets or lengths")
    cdef int ty = float_type(log_probs, "log_probs")
    cdef Py_ssize_t nout = n if reduction == CLOSS_REDUCTION_NONE else 1
    cdef const void *plp = data(log_probs, ty, t * n * c, "log_probs")
    cdef const int64_t *ptg = <const int64_t *>data(targets, I64, s if concatenated else n * s,
                                                    "targets")
    cdef const int64_t *pil = <const int64_t *>data(input_lengths, I64, n, "input_lengths")
    cdef const int64_t *ptl = <const int64_t *>data(target_lengths, I64, n, "target_lengths")
    cdef void *pout = out_data(out, op, ty, nout)
    cdef const void *pgo = data(go, ty, nout, "grad_output")
    cdef void *pg = data(grad, ty, t * n * c, "gradient", True)
    check_outputs(op, out, grad)
    cdef closs_ctc_args a = closs_ctc_args(
        t, n, c, plp, ptg, s, concatenated, pil, ptl, blank, zero_infinity,
        <closs_reduction>reduction, pout, pgo, pg)
    cdef closs_status st
    with nogil:
        st = closs_ctc_call(kernel_dtype(ty), <closs_op>op, &a)
    check(st)


def ctc_value(log_probs, targets, input_lengths, target_lengths, blank, reduction,
              zero_infinity):
    """The lane of ctc_loss's value: log_probs (T, N, C) of float32 or float64,
    padded int64 targets (N, S), int64 lengths (N,): None when the arguments are
    not in the kernel's form or the kernel refuses them."""
    cdef int r = plain_reduction(reduction)
    if r < 0 or type(blank) is not int or type(zero_infinity) is not bool:
        return None
    if not cnp.PyArray_Check(log_probs):
        return None
    cdef int ty = cnp.PyArray_TYPE(<cnp.ndarray>log_probs)
    if not ((ty == F32 or ty == F64) and kernel_array(log_probs, ty, 3)
            and kernel_array(targets, I64, 2) and kernel_array(input_lengths, I64, 1)
            and kernel_array(target_lengths, I64, 1)):
        return None
    cdef int64_t t = cnp.PyArray_DIM(<cnp.ndarray>log_probs, 0)
    cdef int64_t n = cnp.PyArray_DIM(<cnp.ndarray>log_probs, 1)
    cdef int64_t c = cnp.PyArray_DIM(<cnp.ndarray>log_probs, 2)
    cdef int64_t s = cnp.PyArray_DIM(<cnp.ndarray>targets, 1)
    if (t == 0 or n == 0 or c == 0 or not 0 <= blank < c
            or cnp.PyArray_DIM(<cnp.ndarray>targets, 0) != n
            or cnp.PyArray_DIM(<cnp.ndarray>input_lengths, 0) != n
            or cnp.PyArray_DIM(<cnp.ndarray>target_lengths, 0) != n):
        return None
    out = lane_buffer(ty, r, n)
    cdef closs_ctc_args a = closs_ctc_args(
        t, n, c, pointer(log_probs), <const int64_t *>pointer(targets), s, False,
        <const int64_t *>pointer(input_lengths), <const int64_t *>pointer(target_lengths),
        blank, zero_infinity, <closs_reduction>r, pointer(out), NULL, NULL)
    cdef closs_status st
    with nogil:
        st = closs_ctc_call(kernel_dtype(ty), CLOSS_OP_FORWARD, &a)
    return lane_result(ty, r, out) if st == CLOSS_OK else None


# ------------------------------------------------------------------ classification


def classification(int kind, int op, int64_t n, int64_t c, int64_t s, x, t, tp, w,
                   int64_t ignore_index, double label_smoothing, int reduction, out, go, gx,
                   hx=None, gt=None, gw=None):
    """One classification loss call on input of shape (n, c, s), flat: op FORWARD
    fills out, BACKWARD fills gx from go, FUSED fills out and gx, GRAD_HESS
    (reduction 'sum') gx and hx, and out when given. Class indices t
    (int64; nll_loss, cross_entropy) hold n*s values, probabilities tp
    (cross_entropy_prob) n*c*s; out and go n*s values for reduction 'none' (0),
    one otherwise."""
    if not 0 <= kind < CLOSS_CLASSIFICATION_COUNT:
        raise ValueError(f"unknown classification loss kind {kind}")
    if n < 0 or c < 0 or s < 0:
        raise ShapeError(f"negative size ({n}, {c}, {s})")
    cdef int ty = float_type(x, "input")
    cdef Py_ssize_t npos = n * s
    cdef Py_ssize_t nel = npos * c
    cdef Py_ssize_t nout = npos if reduction == CLOSS_REDUCTION_NONE else 1
    if (tp if kind == CE_PROB else t) is None:
        raise ValueError("missing probability target" if kind == CE_PROB else
                         "missing class-index target")
    cdef const void *px = data(x, ty, nel, "input")
    cdef const int64_t *pt = <const int64_t *>data(t, I64, npos, "target")
    cdef const void *ptp = data(tp, ty, nel, "target")
    cdef const void *pw = data(w, ty, c, "weight")
    cdef void *pout = out_data(out, op, ty, nout)
    cdef const void *pgo = data(go, ty, nout, "grad_output")
    cdef void *pgx = data(gx, ty, nel, "grad_input", True)
    cdef void *phx = data(hx, ty, nel, "hess", True)
    cdef void *pgt = data(gt, ty, nel, "grad of target", True)
    cdef void *pgw = data(gw, ty, c, "grad of weight", True)
    check_outputs(op, out, gx, hx)
    cdef closs_classification_args a = closs_classification_args(
        n, c, s, px, pt, ptp, pw, ignore_index, label_smoothing, <closs_reduction>reduction,
        pout, pgo, pgx, phx, pgt, pgw)
    cdef closs_status st
    with nogil:
        st = closs_classification_call(kernel_dtype(ty), kind, <closs_op>op, &a)
    check(st)


def classification_value(int kind, x, t, w, ignore_index, label_smoothing, reduction):
    """The lane of nll_loss's and cross_entropy's value with class indices: input
    x (n, c), int64 targets t (n,), optional weight w (c,): None when the
    arguments are not in the kernel's form or the kernel refuses them."""
    if not 0 <= kind < CLOSS_CLASSIFICATION_COUNT or kind == CE_PROB:
        raise ValueError(f"no class-index lane for classification loss kind {kind}")
    cdef int r = plain_reduction(reduction)
    cdef int ty = lane_type(x, t, True, w)
    if r < 0 or ty < 0 or type(ignore_index) is not int or not is_real(label_smoothing):
        return None
    if not (0.0 <= label_smoothing <= 1.0 and -(1 << 62) < ignore_index < (1 << 62)):
        return None
    cdef int64_t n = cnp.PyArray_DIM(<cnp.ndarray>x, 0), c = cnp.PyArray_DIM(<cnp.ndarray>x, 1)
    out = lane_buffer(ty, r, n)
    cdef closs_classification_args a = closs_classification_args(
        n, c, 1, pointer(x), <const int64_t *>pointer(t), NULL, pointer(w), ignore_index,
        label_smoothing, <closs_reduction>r, pointer(out), NULL, NULL, NULL, NULL, NULL)
    cdef closs_status st
    with nogil:
        st = closs_classification_call(kernel_dtype(ty), kind, CLOSS_OP_FORWARD, &a)
    return lane_result(ty, r, out) if st == CLOSS_OK else None


# ------------------------------------------------------------------ linear_cross_entropy


def linear(int kind, int op, int64_t n, int64_t in_features, int64_t c, int64_t s, x, weight,
           bias, t, tp, w, int64_t ignore_index, double label_smoothing, int reduction, out, go,
           gx, gweight, gbias):
    """One linear_cross_entropy call: cross entropy (kind cross_entropy, class indices
    t of n*s int64; cross_entropy_prob, probabilities tp of n*c*s) of the logits
    x weight^T + bias, x (n, in_features), weight (c*s, in_features), bias (c*s,) or
    None, flat. FORWARD fills out; BACKWARD the gradients given (gx, gweight, gbias,
    each None when not wanted) from go; FUSED both; PARTIAL out (two float64) with the
    partial pair. out and go hold n*s values for
    reduction 'none' (0), one otherwise."""
    if kind != CLASSIFICATION["cross_entropy"] and kind != CE_PROB:
        raise ValueError(f"no linear_cross_entropy of classification loss kind {kind}")
    if n < 0 or in_features < 0 or c < 0 or s < 0:
        raise ShapeError(f"negative size ({n}, {in_features}, {c}, {s})")
    cdef int ty = float_type(x, "input")
    cdef Py_ssize_t v = c * s
    cdef Py_ssize_t nout = n * s if reduction == CLOSS_REDUCTION_NONE else 1
    if (tp if kind == CE_PROB else t) is None:
        raise ValueError("missing probability target" if kind == CE_PROB else
                         "missing class-index target")
    if op != BACKWARD and out is None:
        raise ValueError("missing output buffer")
    cdef closs_linear_args a
    a.n, a.in_features, a.c, a.s = n, in_features, c, s
    a.input = data(x, ty, n * in_features, "input")
    a.linear_weight = data(weight, ty, v * in_features, "linear_weight")
    a.linear_bias = data(bias, ty, v, "linear_bias")
    a.t = <const int64_t *>data(t, I64, n * s, "target")
    a.tp = data(tp, ty, n * v, "target")
    a.w = data(w, ty, c, "weight")
    a.ignore_index, a.label_smoothing = ignore_index, label_smoothing
    a.reduction = <closs_reduction>reduction
    a.out = out_data(out, op, ty, nout)
    a.grad_output = data(go, ty, nout, "grad_output")
    a.grad_input = data(gx, ty, n * in_features, "grad_input", True)
    a.grad_weight = data(gweight, ty, v * in_features, "grad_linear_weight", True)
    a.grad_bias = data(gbias, ty, v, "grad_linear_bias", True)
    cdef closs_status st
    with nogil:
        st = closs_linear_call(kernel_dtype(ty), kind, <closs_op>op, &a)
    check(st)


def linear_block_rows(int64_t v):
    """The rows of linear_cross_entropy's blocks for v logits a row (closs.h)."""
    return closs_linear_block_rows(v)
