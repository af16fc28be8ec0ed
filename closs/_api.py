"""The one argument-normalisation path of closs, and the prepared loss call.

Every functional loss and every Module goes through here:

1. ``as_array`` turns lists, NumPy arrays and CPU torch tensors into ndarrays;
2. ``float_dtype`` picks float32 or float64 as NumPy promotes (integer and bool
   arrays count as float64);
3. ``reduction_code`` parses the reduction (and the deprecated size_average /
   reduce pair, with torch's DeprecationWarning);
4. a ``LossCall`` subclass holds flat, contiguous arrays of that dtype and knows
   how to call its Cython kernel for the value, the gradient or both;
5. ``LossCall`` allocates outputs, checks ``grad_output`` and ``out`` buffers and
   sums broadcast gradients back to the input's shape.

A new loss family adds a LossCall subclass (its ``_run`` method) and a prepare
function; nothing else here changes.
"""

import functools
import math
import numbers
import operator
import sys
import warnings

import numpy as np

from closs import _core
from closs._errors import DomainError, DTypeError, ParameterError, ShapeError

FORWARD, BACKWARD, FUSED, PARTIAL, GRAD_HESS = (int(op) for op in _core.Op)
Reduction = _core.Reduction  # closs.h's codes; every layer compares with these names
NONE, MEAN, SUM, BATCHMEAN = Reduction.NONE, Reduction.MEAN, Reduction.SUM, Reduction.BATCHMEAN
REDUCTIONS = {"none": NONE, "mean": MEAN, "sum": SUM, "batchmean": BATCHMEAN}
REDUCTION_NAMES = {code: name for name, code in REDUCTIONS.items()}
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # what the C core computes in


# --------------------------------------------------------------------------- arguments


def user_stacklevel():
    """The stacklevel that points a warning at the first frame outside closs."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("closs"):
        frame, level = frame.f_back, level + 1
    return level


def as_array(x, name="input"):
    """An ndarray view of x: ndarrays as they are, CPU torch tensors without a copy."""
    if isinstance(x, np.ndarray):
        return x
    if type(x).__module__.startswith("torch"):
        x = x.detach()
        if x.device.type != "cpu":
            raise ValueError(f"{name} is a torch tensor on {x.device}; closs runs on the CPU")
        return x.numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as e:
        raise DTypeError(f"{name} cannot be converted to an array: {e}") from None


# The arguments that are weights: checked, but their dtype never sets the result's.
WEIGHTS = frozenset({"weight", "pos_weight"})


def float_dtype(**arrays):
    """The result dtype of a call on the named arrays (None: absent), torch's rule:
    float64 when a float array is float64, else float32; integer and bool arrays
    (class indices, 0/1 or +-1 labels) take the float arrays' dtype, float64 when
    none is a float; WEIGHTS are checked but never change it. Any other dtype
    (float16, complex, object ...) is a DTypeError naming its argument."""
    result = None
    for name, a in arrays.items():
        if a is None:
            continue
        kind, size = a.dtype.kind, a.dtype.itemsize
        if not (kind in "iub" or (kind == "f" and size in (4, 8))):
            raise DTypeError(f"{name} has dtype {a.dtype}; closs computes in float32 or "
                             "float64 and takes float32, float64, integer or bool arrays")
        if kind == "f" and name not in WEIGHTS and result != np.float64:
            result = np.float64 if size == 8 else np.float32
    return np.dtype(np.float64 if result is None else result)


def reduction_code(reduction, size_average=None, reduce=None, allowed=("none", "mean", "sum"),
                   invalid="{} is not a valid value for reduction"):
    """The one reduction parser: the Reduction of a name, the deprecated
    size_average/reduce pair mapped as torch does; `invalid` is torch's message for
    a name outside `allowed` (gaussian_nll_loss has its own words)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            DeprecationWarning,
            stacklevel=user_stacklevel(),
        )
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(invalid.format(reduction))
    return REDUCTIONS[reduction]


def real(value, name):
    """A float option (margin, beta, eps ...) as a Python float: DTypeError (torch's
    TypeError) for what is not a real number, ParameterError for an int beyond float."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        value = value[()]
    if not isinstance(value, (numbers.Real, np.bool_)):
        raise DTypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ParameterError(f"{name} = {value} is too large for a float") from None


def integer(value, name):
    """An integer option (ignore_index, blank) as a Python int in int64's range:
    DTypeError (torch's TypeError) for a bool or a non-integer, ParameterError beyond int64."""
    try:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        raise DTypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}") from None
    if not -(2**63) <= value < 2**63:
        raise ParameterError(f"{name} = {value} is outside the int64 range")
    return value


def flag(value, name):
    """A bool option (full, log_target, swap ...): DTypeError for what has no truth value."""
    try:
        return bool(value)
    except (TypeError, ValueError):
        raise DTypeError(f"{name} must be a bool, got {type(value).__name__}: {value!r}") from None


def broadcast_shape(*shapes):
    """np.broadcast_shapes with torch's message on failure (for the first pair of
    shapes, taken left to right, that does not broadcast)."""
    result = tuple(shapes[0])
    for shape in shapes[1:]:
        if shape == result:
            continue
        try:
            result = np.broadcast_shapes(result, shape)
        except ValueError:
            a, b = result, tuple(shape)
            nd = max(len(a), len(b))
            a, b = (1,) * (nd - len(a)) + a, (1,) * (nd - len(b)) + b
            d = next(d for d in range(nd) if a[d] != b[d] and 1 not in (a[d], b[d]))
            raise ShapeError(
                f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) "
                f"at non-singleton dimension {d}"
            ) from None
    return result


def index_array(t, name="target"):
    """Class indices of any integer dtype as a flat C-contiguous int64 array."""
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{name} must hold integer class indices, got dtype {t.dtype}")
    return flat(t, t.shape, np.dtype(np.int64))


def grad_dtype(x, dtype):
    """The dtype of the gradient of x: its own when float32/float64 (in native byte
    order: a '>f4' input has a float32 gradient), else the result's."""
    native = x.dtype.newbyteorder("=")
    return native if native in _KERNEL_DTYPES else dtype


def kernel_ready(a, dtype):
    """a is what a kernel reads as it is: of dtype (native byte order: '>f8' is not
    float64), C-contiguous and aligned (NumPy's ISBEHAVED rules)."""
    return a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned


def contiguous(a, dtype):
    """a as a kernel reads it: itself when kernel_ready, else a converted copy."""
    return a if kernel_ready(a, dtype) else np.array(a, dtype=dtype, order="C")


def flat(a, shape, dtype):
    """a broadcast to shape, as a flat kernel_ready array of dtype (a view when possible)."""
    if a.shape != shape:
        a = np.broadcast_to(a, shape)
    return contiguous(a, dtype).reshape(-1)


def warn_target_size(input_shape, target_shape):
    warnings.warn(
        f"Using a target size ({torch_size(target_shape)}) that is different to the input size "
        f"({torch_size(input_shape)}). This will likely lead to incorrect results due to broadcasting. "
        "Please ensure they have the same size.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def torch_size(shape):
    """A shape as torch prints it in messages: torch.Size([2, 3])."""
    return f"torch.Size([{', '.join(map(str, shape))}])"


def shape_list(shape):
    """A shape as torch prints a tensor's sizes: [2, 3]."""
    return f"[{', '.join(map(str, shape))}]"


def _unbroadcast(g, shape):
    """Sums g over the axes along which an array of `shape` was broadcast."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + d for d, s in enumerate(shape) if s == 1 and g.shape[lead + d] != 1
    )
    return g.sum(axis=axes).reshape(shape)


# --------------------------------------------------------------------------- lanes

# The common forward calls whose arguments are already in the kernel's form (exact
# C-contiguous native ndarrays of one float dtype, int64 indices, a plain
# reduction) go straight to C through these, each a family's *_value call bound to
# its loss kind; None sends the caller to its general path (a *_call preparer),
# which normalises the arguments and makes every error message.
lane_nll = functools.partial(_core.classification_value, _core.CLASSIFICATION["nll_loss"])
lane_cross_entropy = functools.partial(_core.classification_value,
                                       _core.CLASSIFICATION["cross_entropy"])
lane_multi_margin = functools.partial(_core.rowwise_value, _core.ROWWISE["multi_margin_loss"])
lane_multilabel_margin = functools.partial(_core.rowwise_value,
                                           _core.ROWWISE["multilabel_margin_loss"])
lane_ctc = _core.ctc_value
lane_pointwise = _core.pointwise_lane


# --------------------------------------------------------------------------- calls


# An element-wise call of more than CHUNK elements whose operands are not all
# kernel_ready at the loss's shape (a broadcast target, weight or pos_weight, a
# strided, byte-swapped or integer array) streams them through NumPy's buffered
# iterator CHUNK elements at a time instead of materialising them: memory stays at
# the inputs plus the outputs. 2^20 is the element-wise kernels' parallel threshold,
# so every chunk still runs on the thread team. (Chunks of 2^16 elements, which stay
# in L2, measured 10% faster on a strided float32 column of 1e6 elements, 1 thread,
# but move the kernels' block tails, whose exp and log are libm's scalar ones: a
# streamed call would no longer give the materialised call's bits.)
CHUNK = 1 << 20


def chunked(shape, dtype, arrays):
    """Whether a call on `shape` streams its arrays (None for absent) in chunks."""
    return math.prod(shape) > CHUNK and not all(
        a is None or (a.shape == shape and kernel_ready(a, dtype)) for a in arrays)


def operand(a, shape, dtype, streamed):
    """An array argument of a call on `shape` as its kernel takes it: a view of that
    shape when the call streams chunks (nothing is copied at the loss's size), else
    a flat kernel_ready array; None (absent) stays None."""
    if a is None:
        return None
    return np.broadcast_to(a, shape) if streamed else flat(a, shape, dtype)


def memory_order(x, others):
    """The axis permutation that makes x and every array of others (None: absent)
    C-contiguous, when x is not already and they all have x's shape: operands that
    share a layout (Fortran order, a transposed view) are then read in memory
    order, as one flat array each, not copied into C order. None otherwise."""
    if x.ndim < 2 or x.flags.c_contiguous or 0 in x.shape:
        return None
    perm = tuple(int(i) for i in np.argsort([-abs(s) for s in x.strides], kind="stable"))
    for a in (x, *others):
        if a is not None and (a.shape != x.shape or not a.transpose(perm).flags.c_contiguous):
            return None
    return perm


class GradSpec:
    """A differentiable argument: its name (torch's), the shape the kernel computes,
    the user's shape and dtype, and the shape that broadcast to the computed one (the
    user's, unless the argument was reshaped first, like gaussian_nll_loss's var).
    default: returned by backward / value_and_grad without wrt; zero: its gradient is
    0 (an argument that torch's graph takes but does not differentiate through)."""

    __slots__ = ("computed", "shape", "dtype", "broadcast", "name", "default", "zero")

    def __init__(self, computed, shape, dtype, broadcast=None, name="input", default=True,
                 zero=False):
        self.computed, self.shape, self.dtype = computed, shape, dtype
        self.broadcast = shape if broadcast is None else broadcast
        self.name, self.default, self.zero = name, default, zero


def grad_spec(name, a, computed, dtype, default=False):
    """The GradSpec of argument `name` (array a, broadcast to `computed`), or None
    when a is absent or holds integers or bools (labels, class indices: not
    differentiable)."""
    if a is None or a.dtype.kind not in "f":
        return None
    return GradSpec(computed, a.shape, grad_dtype(a, dtype), name=name, default=default)


def specs(*items):
    """The GradSpecs given, without the Nones."""
    return tuple(g for g in items if g is not None)


class LossCall:
    """A loss call whose arguments are normalised; runs the value, gradient or both.

    Subclasses set ``dtype``, ``reduction``, ``out_shape`` (the shape of the
    'none' output), ``grads`` (the GradSpecs of every differentiable argument, in
    argument order) and implement ``_run(op, out, grad_output, grads)`` on flat
    arrays, grads a dict {argument name: flat buffer} of the gradients wanted
    (zero GradSpecs left out), in which the family's first input's may be missing
    (the family then computes it into a scratch buffer if its kernel needs one);
    op PARTIAL fills out (two float64) with the partial pair of ``partial()``; op
    GRAD_HESS (the families with ``second_order``) fills grads = {"input":
    gradient, "hess": Hessian diagonal} of the first input for reduction 'sum', and
    out (one value) unless it is None.
    """

    __slots__ = ("dtype", "reduction", "out_shape", "grads", "kernel")
    chunked = False  # the families that stream chunks have it as a slot
    second_order = False  # the family's kernel has GRAD_HESS
    # The families that read operands in memory order (memory_order) have it as a
    # slot: the call then computes on the arrays transposed by perm, and its
    # 'none' value, grad_output and gradients are transposed back at the user's side.
    perm = None

    def _user(self, a):
        """An array of the call's (permuted) shape as the user's view of it."""
        return a if self.perm is None else a.transpose(np.argsort(self.perm))

    def _user_shape(self, shape):
        return shape if self.perm is None else tuple(shape[i] for i in np.argsort(self.perm))

    def _internal(self, a):
        """A user's array of the loss's shape as the call's view of it."""
        if self.perm is None or not isinstance(a, np.ndarray) or a.ndim != len(self.perm):
            return a
        return a.transpose(self.perm)

    def _user_results(self, results, out):
        """Results the user gets: their own out= arrays, else the user's views."""
        if isinstance(results, tuple):
            outs = tuple(out) if isinstance(out, (tuple, list)) else (None,) * len(results)
            return tuple(o if o is not None else self._user(r) for r, o in zip(results, outs))
        return out if out is not None else self._user(results)

    def _internal_out(self, out):
        if self.perm is None or out is None:
            return out
        return tuple(map(self._internal, out)) if isinstance(out, (tuple, list)) else self._internal(out)

    def _run(self, op, out, grad_output, grads):
        raise NotImplementedError

    def _wanted(self, wrt):
        """The GradSpecs that wrt names, and whether the result is one array: None,
        the default ones (today's result: one array, or a tuple for several); "all",
        every differentiable argument (a tuple); a name, its gradient (an array); a
        sequence of names, theirs (a tuple, in the order asked)."""
        if wrt is None:
            wanted = [g for g in self.grads if g.default]
            return wanted, len(wanted) == 1
        if isinstance(wrt, str) and wrt == "all":
            return list(self.grads), False
        names = [wrt] if isinstance(wrt, str) else list(wrt)
        by_name = {g.name: g for g in self.grads}
        for name in names:
            if name not in by_name:
                valid = ", ".join(repr(g.name) for g in self.grads)
                raise ValueError(
                    f"wrt={name!r}: not a differentiable argument of this call; it has "
                    f"{valid} (or 'all'). Integer and bool arrays (labels, class indices) "
                    "are not differentiable")
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"wrt must name each argument once, got {wrt!r}")
        return [by_name[n] for n in names], isinstance(wrt, str)

    def _kernel_grads(self, wanted, buffers):
        """The dict of _run: each wanted gradient's flat buffer; zero GradSpecs'
        buffers are filled with 0 here instead."""
        grads = {}
        for spec, buf in zip(wanted, buffers):
            if spec.zero:
                buf[...] = 0
            else:
                grads[spec.name] = buf.reshape(-1)
        return grads

    # chunks ---------------------------------------------------------------
    # A call whose operands are to be streamed (chunked()) holds them as views of
    # out_shape and runs _run_chunks; its family gives the operands (_chunk_reads)
    # and the kernel call on one chunk of each (_chunk_kernel); sum_scale is the
    # factor of a reduced loss's 'sum' (1 / n for 'mean'), denominator what it
    # divides by (n), for the partial pair.

    def _chunk_reads(self):
        raise NotImplementedError

    def _chunk_kernel(self, op, reduction, out, grad_output, grads, reads):
        raise NotImplementedError

    def _run_chunks(self, op, out, grad_output, grads):
        """_run over chunks of NumPy's buffered iterator: a reduced loss as the sum of
        the chunks' 'sum's (added in double, in the iterator's fixed order) times
        sum_scale, its gradient with grad_output * sum_scale."""
        shape, grad_hess = self.out_shape, op == GRAD_HESS
        reduced = grad_hess or self.reduction != NONE  # GRAD_HESS: the 'sum', unscaled
        scale = 1.0 if self.sum_scale is None or grad_hess else float(self.sum_scale)
        arrays = self._chunk_reads()
        reads = arrays + ([grad_output.reshape(shape)] if grad_output is not None and not reduced
                          else [])
        writes = [out.reshape(shape)] if op != BACKWARD and not reduced else []
        names = list(grads or ())
        writes += [grads[k].reshape(shape) for k in names]
        it = np.nditer(reads + writes, ["external_loop", "buffered", "grow_inner", "zerosize_ok"],
                       [["readonly", "contig", "aligned", "nbo"]] * len(reads)
                       + [["writeonly", "contig", "aligned", "nbo"]] * len(writes),
                       op_dtypes=[self.dtype] * (len(reads) + len(writes)), order="C",
                       casting="unsafe", buffersize=CHUNK)
        go = part = None
        if reduced and op == BACKWARD:
            go = np.array([scale * (1.0 if grad_output is None else float(grad_output[0]))],
                          self.dtype)
        total = 0.0
        if reduced and op != BACKWARD and not (grad_hess and out is None):
            # PARTIAL: the chunks' partial 'sum's, in double
            part = np.empty(2, np.float64) if op == PARTIAL else np.empty(1, self.dtype)
        with it:
            for ops in it:
                rest = list(ops[len(arrays):])
                if not reduced and grad_output is not None:
                    go = rest.pop(0)
                value = part if reduced else (rest.pop(0) if op != BACKWARD else None)
                rest = dict(zip(names, rest))
                self._chunk_kernel(op, SUM if reduced else NONE, value, go, rest, ops[:len(arrays)])
                if part is not None:
                    total += float(part[0])
                    if op == FUSED and scale != 1.0:
                        for g in rest.values():
                            g *= scale
        if op == PARTIAL:
            out[0], out[1] = total, (1.0 if self.reduction == SUM else self.denominator)
        elif part is not None:
            out[0] = total * scale

    # value ----------------------------------------------------------------
    def _value_buffer(self):
        if self.reduction == NONE:
            return np.empty(self.out_shape, self.dtype)
        return np.empty(1, self.dtype)

    def _wrap_value(self, out):
        return self._user(out) if self.reduction == NONE else out[0]

    def value(self):
        out = self._value_buffer()
        self._run(FORWARD, out.reshape(-1), None, None)
        return self._wrap_value(out)

    def partial(self):
        """The partial reduction (closs.h's closs_<loss>_partial): float64 [S, D], the
        sum of the loss terms and the denominator of 'mean' (the batch size for
        'batchmean', 1 for 'sum'), so that any split of a batch combines into the
        whole batch's value sum(S) / sum(D) (sum(S) for 'sum'). S is the 'sum' value,
        but for ctc_loss's 'mean': the sum of loss / max(target length, 1)."""
        if self.reduction == NONE:
            raise ValueError("a partial reduction needs reduction 'mean', 'sum' or 'batchmean'")
        out = np.empty(2, np.float64)
        self._run(PARTIAL, out, None, None)
        return out

    # gradient -------------------------------------------------------------
    def _grad_output(self, grad_output):
        if grad_output is None:
            return None
        g = as_array(grad_output, "grad_output")
        if self.reduction == NONE:
            if g.shape != self._user_shape(self.out_shape):
                raise ShapeError(f"grad_output has shape {g.shape}, expected the loss's shape "
                                 f"{self._user_shape(self.out_shape)}")
            return contiguous(self._internal(g), self.dtype).reshape(-1)
        if g.size != 1:
            raise ShapeError(f"grad_output of a reduced loss must be a scalar, got shape {g.shape}")
        return contiguous(g, self.dtype).reshape(1)

    def _reads(self):
        """The arrays the kernel reads (every ndarray the call holds), for overlap checks."""
        for cls in type(self).__mro__:
            for name in getattr(cls, "__slots__", ()):
                v = getattr(self, name, None)
                for a in v if isinstance(v, tuple) else (v,):
                    if isinstance(a, np.ndarray):
                        yield a

    def _grad_buffers(self, out, grad_output, specs, single):
        """Buffers for the kernel, and the user's arrays they end up in (of the
        GradSpecs specs; out is one array when single, else a tuple). A
        user's out= array is written directly when the kernel can (kernel_ready, no
        overlap with anything the call reads); else the kernel writes a temporary
        that is copied into it, so an out= that aliases an input (out=x) still gets
        the right answer, as with NumPy's ufuncs."""
        if out is None:
            outs = (None,) * len(specs)
        elif single:
            outs = (out,)
        else:
            if not isinstance(out, (tuple, list)):
                raise ValueError(f"out must be a tuple of {len(specs)} arrays")
            outs = tuple(out)
            if len(outs) != len(specs):
                raise ValueError(f"out must be a tuple of {len(specs)} arrays")
        buffers, results = [], []
        reads = None
        for k, (spec, o) in enumerate(zip(specs, outs)):
            direct = spec.computed == spec.shape and spec.dtype == self.dtype
            if o is not None:
                if (not isinstance(o, np.ndarray) or o.shape != spec.shape
                        or o.dtype.newbyteorder("=") != spec.dtype):
                    raise ShapeError(f"out must be an ndarray of shape "
                                     f"{self._user_shape(spec.shape)} and dtype {spec.dtype}")
                if not o.flags.writeable:
                    raise ValueError("out is read-only")
                if any(np.may_share_memory(o, other) for other in outs[:k] if other is not None):
                    raise ValueError("the out= arrays overlap each other")
                if direct and kernel_ready(o, self.dtype):
                    if reads is None:
                        reads = list(self._reads())
                        if grad_output is not None:
                            reads.append(grad_output)
                    direct = not any(np.may_share_memory(o, a) for a in reads)
            if direct and o is not None and kernel_ready(o, self.dtype):
                buf = o
            elif direct and o is None:
                buf = o = np.empty(spec.shape, self.dtype)
            else:
                buf = np.empty(spec.computed, self.dtype)
            buffers.append(buf)
            results.append(o)
        return buffers, results

    def _finish(self, buffers, results, specs, single):
        final = []
        for spec, buf, o in zip(specs, buffers, results):
            if buf is not o:
                g = _unbroadcast(buf, spec.broadcast).reshape(spec.shape)
                if o is None:
                    o = g.astype(spec.dtype, copy=False)
                else:
                    np.copyto(o, g, casting="unsafe")
            final.append(o)
        return final[0] if single else tuple(final)

    def grad(self, grad_output=None, out=None, wrt=None):
        """The gradients (vector-Jacobian products with grad_output) that wrt names
        (see _wanted), into out when given."""
        wanted, single = self._wanted(wrt)
        go = self._grad_output(grad_output)
        buffers, results = self._grad_buffers(self._internal_out(out), go, wanted, single)
        self._run(BACKWARD, None, go, self._kernel_grads(wanted, buffers))
        return self._user_results(self._finish(buffers, results, wanted, single), out)

    def value_and_grad(self, out=None, wrt=None):
        wanted, single = self._wanted(wrt)
        value = self._value_buffer()
        buffers, results = self._grad_buffers(self._internal_out(out), None, wanted, single)
        self._run(FUSED, value.reshape(-1), None, self._kernel_grads(wanted, buffers))
        return (self._wrap_value(value),
                self._user_results(self._finish(buffers, results, wanted, single), out))

    def grad_hess(self, out=None, value=False):
        """(gradient, Hessian diagonal) of the loss's 'sum' with respect to the first
        input, whatever the call's reduction; (sum, gradient, Hessian diagonal) with
        value. out: None or a pair of arrays of the input's shape and dtype."""
        if not self.second_order:
            raise NotImplementedError("grad_hess: this loss has no Hessian diagonal in closs")
        if out is not None and not isinstance(out, tuple):
            raise ValueError("out must be a tuple of 2 arrays (gradient, Hessian diagonal)")
        specs = self.grads[:1] * 2  # the gradient's and the Hessian's: the input's
        buffers, results = self._grad_buffers(self._internal_out(out), None, specs, False)
        v = np.empty(1, self.dtype) if value else None
        self._run(GRAD_HESS, v, None, {"input": buffers[0].reshape(-1),
                                       "hess": buffers[1].reshape(-1)})
        g, h = self._user_results(self._finish(buffers, results, specs, False), out)
        return (v[0], g, h) if value else (g, h)


# --------------------------------------------------------------------------- families


class PointwiseCall(LossCall):
    """An element-wise loss L(x, y) * w on the broadcast shape of input and target.

    sum_scale: when not None, a reduced loss runs as the kernel's 'sum' times
    this factor (a weighted mean over a broadcast input, kl_div's 'batchmean',
    the mean of a chunked call): 1 / denominator, the partial pair's D.
    domain_error: when not None, makes the exception for a CLOSS_ERR_DOMAIN.
    chunked: x, y, w, aux are views of the loss's shape, read in chunks (see CHUNK);
    else they are flat kernel_ready arrays.
    """

    __slots__ = ("kind", "x", "y", "w", "aux", "params", "sum_scale", "denominator",
                 "domain_error", "chunked", "aux_name", "weighted_mean", "perm")
    second_order = True

    def _kernel(self, op, reduction, out, grad_output, grads, arrays=None):
        x, y, w, aux = arrays or (self.x, self.y, self.w, self.aux)
        grads = grads or {}
        gx, gaux = grads.get("input"), grads.get(self.aux_name)
        if gx is None and op in (BACKWARD, FUSED):  # the kernel always writes it
            gx = np.empty(x.size, self.dtype)
        if gaux is None and self.aux_name == "var" and "target" in grads:  # C needs it then
            gaux = np.empty(x.size, self.dtype)
        try:
            self.kernel(self.kind, op, x, y, w, aux, *self.params,
                        reduction, out, grad_output, gx, gaux,
                        grads.get("hess"), grads.get("target"), grads.get("weight"))
        except DomainError:
            if self.domain_error is None:
                raise
            raise self.domain_error() from None

    def _chunk_reads(self):
        return [a for a in (self.x, self.y, self.w, self.aux) if a is not None]

    def _chunk_kernel(self, op, reduction, out, grad_output, grads, reads):
        reads = iter(reads)
        self._kernel(op, reduction, out, grad_output, grads,
                     [None if a is None else next(reads) for a in (self.x, self.y, self.w, self.aux)])

    def _run(self, op, out, grad_output, grads):
        scale, grads = self.sum_scale, grads or {}
        if self.chunked:
            self._run_chunks(op, out, grad_output, grads)
        elif op == GRAD_HESS:
            self._kernel(GRAD_HESS, SUM, out, None, grads)
        elif op == PARTIAL and scale is not None:  # a mean by a denominator of its own
            self._kernel(PARTIAL, SUM, out, None, None)
            out[1] = self.denominator
        elif scale is None or self.reduction == NONE:
            self._kernel(op, self.reduction, out, grad_output, grads)
        elif op == BACKWARD:
            go = np.array([scale if grad_output is None else grad_output[0] * scale], self.dtype)
            self._kernel(op, SUM, None, go, grads)
        else:
            self._kernel(op, SUM, out, None, grads)
            out *= scale
            for g in grads.values():
                g *= scale
        if (op in (BACKWARD, FUSED) and "weight" in grads and self.weighted_mean
                and (self.chunked or scale is not None)):
            self._shift_weight_grad(op, out, grad_output, grads["weight"])

    def _shift_weight_grad(self, op, out, grad_output, gw):
        """A weighted mean that the kernel ran as a scaled 'sum': d/dw_i of
        sum(w L) / sum(w) is (L_i - mean) / sum(w); the kernel gave L_i / sum(w).
        weighted_mean: how many copies of each weight the loss's shape holds (0: no
        weighted mean)."""
        mean = out[0] if op == FUSED else self.value()
        go = 1.0 if grad_output is None else float(grad_output[0])
        # each of the user's weights has weighted_mean copies in the loss's shape
        gw -= self.dtype.type(mean * self.sum_scale * go / self.weighted_mean)


class RowMeanCall(PointwiseCall):
    """An element-wise loss averaged over the last axis (multilabel_soft_margin_loss):
    'none' gives one value per row; 'mean' and 'sum' are the element-wise loss's
    mean and sum / C (row_scale: 1 / C). The partial pair is (the sum of the row
    means, the row count)."""

    __slots__ = ("row", "row_scale")

    def _run(self, op, out, grad_output, grads):
        if op == GRAD_HESS:  # the sum of row means: the elements' derivatives over C
            self._kernel(GRAD_HESS, SUM, out, None, grads)
            for a in [*grads.values(), *([] if out is None else [out])]:
                a *= self.row_scale
            return None
        if op == PARTIAL:
            self._kernel(PARTIAL, SUM, out, None, None)
            out[0] *= self.row_scale
            out[1] = math.prod(self.out_shape) if self.reduction == MEAN else 1.0
            return None
        if self.reduction != NONE:
            return super()._run(op, out, grad_output, grads)
        if op != FORWARD:  # d/dx of row means: the element gradient over C, times go[row]
            go = np.full(self.x.size, np.float64(1.0) / self.row, self.dtype)
            if grad_output is not None:
                go.reshape(-1, self.row)[:] *= grad_output.reshape(-1, 1)
            self._kernel(BACKWARD, NONE, None, go, grads)
        if op != BACKWARD:
            values = np.empty(self.x.size, self.dtype)
            self._kernel(FORWARD, NONE, values, None, None)
            np.divide(values.reshape(-1, self.row).sum(axis=1), self.row, out=out)


def _params(params):
    """The kernel's three float parameters (p0, p1, p2), zeros where absent."""
    if not params:
        return 0.0, 0.0, 0.0
    p = tuple(float(v) for v in params)
    return p + (0.0,) * (3 - len(p))


def pointwise(name, input, target, reduction, weight=None, params=(), *, aux=None,
              aux_name="pos_weight", target_rule="warn", weight_rule="input", mean_by="count", row_mean=False,
              domain_error=None):
    """Prepares the element-wise loss `name` (its C core name, e.g. "mse_loss").

    params: up to three floats (p0, p1, p2 of the C point function); aux: an array
    broadcast to the loss's shape, the argument aux_name (pos_weight, or
    gaussian_nll_loss's var, whose dtype counts in the result's).
    target_rule: "warn" broadcasts input and target with torch's UserWarning when
        their shapes differ (the regression losses); "broadcast" does so silently;
        "input" broadcasts the target to the input's shape only.
    weight_rule: "input": the weight must have the input's shape (torch's
        "Weights and input must have the same size."); "broadcast": it broadcasts
        to the loss's shape.
    mean_by: the denominator of 'mean': "count" of elements, or "weight_sum" (the
        sum of the weight array as given: torch's l1_loss and mse_loss). The
        'batchmean' reduction (code 3, kl_div) divides the sum by the first dimension.
    row_mean: average over the last axis first (multilabel_soft_margin_loss).
    """
    x, y = as_array(input, "input"), as_array(target, "target")
    w = None if weight is None else as_array(weight, "weight")
    a = None if aux is None else as_array(aux, aux_name)
    dtype = float_dtype(input=x, target=y, weight=w, **{aux_name: a})
    # operands of one layout in memory order: the loss of the transposed arrays
    # (not with an aux array, whose gradient spec gaussian_nll_loss reshapes)
    perm = None if row_mean or a is not None else memory_order(x, (y, w))
    if perm is not None:
        x, y, w = (None if v is None else v.transpose(perm) for v in (x, y, w))
    shape = x.shape
    if y.shape != shape:
        if target_rule == "warn":
            warn_target_size(x.shape, y.shape)
        shape = broadcast_shape(x.shape, y.shape)
    if target_rule == "input" and shape != x.shape:
        raise ShapeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape "
                         f"{list(shape)}")
    if w is not None:
        if weight_rule == "input" and w.shape != x.shape:
            raise ValueError("Weights and input must have the same size.")
        broadcast_shape(shape, w.shape)
    if a is not None:
        broadcast_shape(shape, a.shape)
    c = RowMeanCall() if row_mean else PointwiseCall()
    c.perm = perm
    c.kind, c.dtype, c.reduction = _core.POINTWISE[name], dtype, reduction
    c.params = _params(params)
    c.kernel = _core.pointwise
    c.out_shape = shape
    arrays = (x, y, w, a)
    c.chunked = not row_mean and chunked(shape, dtype, arrays)
    c.x, c.y, c.w, c.aux = (operand(v, shape, dtype, c.chunked) for v in arrays)
    c.sum_scale, c.denominator, c.domain_error = None, None, domain_error
    weighted_mean = mean_by == "weight_sum" and w is not None and reduction == MEAN
    c.weighted_mean = math.prod(shape) // max(w.size, 1) if weighted_mean else 0
    c.aux_name = aux_name
    if weighted_mean and (shape != x.shape or c.chunked):
        c.denominator = w.sum(dtype=np.float64)
    elif reduction == BATCHMEAN:
        c.denominator = np.float64(shape[0] if shape else 1)
    elif reduction == MEAN and c.chunked:
        c.denominator = np.float64(math.prod(shape))
    if c.denominator is not None:
        with np.errstate(divide="ignore"):
            c.sum_scale = np.float64(1.0) / c.denominator
    if row_mean:
        c.row = shape[-1] if shape else 1
        c.out_shape = shape[:-1]
        # torch sums row sums / C: NaN rows when C = 0, unless there is no row at all
        c.row_scale = np.float64(1.0) / c.row if c.row else np.float64(
            np.nan if math.prod(c.out_shape) else 0.0)
        if reduction == SUM:
            c.sum_scale = c.row_scale
    c.grads = specs(GradSpec(shape, x.shape, grad_dtype(x, dtype)),
                    grad_spec("target", y, shape, dtype), grad_spec("weight", w, shape, dtype))
    return c


class RowwiseCall(LossCall):
    """A row-wise loss on n rows of d elements: differentiable inputs xs (flat,
    n * d each), per-row target values y or class indices idx, class weights w
    and up to four parameters. Returns one gradient per input (a tuple when
    there are several). Rows of one element (margin_ranking_loss) may be chunked:
    then xs and y are views of out_shape."""

    __slots__ = ("kind", "n", "d", "xs", "y", "idx", "w", "params", "user_target", "index_low",
                 "chunked", "sum_scale", "denominator", "names")

    def _kernel(self, op, reduction, out, grad_output, grads, n, xs, y):
        x0, x1, x2 = (*xs, None, None)[:3]
        g0, g1, g2 = None, None, None
        if op in (BACKWARD, FUSED):  # the kernel writes every input's gradient
            grads = grads or {}
            g0, g1, g2 = (None if x is None else grads.get(name, None) for x, name in
                          zip((x0, x1, x2), (*self.names, None, None)))
            g0, g1, g2 = (g if g is not None or x is None else np.empty(x.size, self.dtype)
                          for g, x in zip((g0, g1, g2), (x0, x1, x2)))
        try:
            self.kernel(self.kind, op, n, self.d, x0, x1, x2, y, self.idx, self.w,
                        *self.params, reduction, out, grad_output, g0, g1, g2,
                        (grads or {}).get("target"))
        except IndexError:
            raise index_out_of_bounds(self.user_target, self.index_low, self.d) from None

    def _chunk_reads(self):
        return [x for x in self.xs if x is not None] + [self.y]

    def _chunk_kernel(self, op, reduction, out, grad_output, grads, reads):
        self._kernel(op, reduction, out, grad_output, grads, len(reads[0]), reads[:-1], reads[-1])

    def _run(self, op, out, grad_output, grads):
        if self.chunked:
            return self._run_chunks(op, out, grad_output, grads)
        self._kernel(op, self.reduction, out, grad_output, grads, self.n, self.xs, self.y)


def index_out_of_bounds(target, low, high):
    """torch's IndexError for class indices, naming the first outside [low, high)."""
    t = np.asarray(target).reshape(-1)
    bad = (t < low) | (t >= high)
    return IndexError(f"Target {t[np.argmax(bad)]} is out of bounds.")


def rowwise(name, dtype, reduction, n, d, shape, out_shape, inputs, y=None, target=None,
            weight=None, params=(), index_low=0, names=("input",), target_grad=None):
    """Prepares the row-wise loss `name` (a C core name) on n rows of d elements:
    the arrays `inputs` are broadcast to `shape` (of n * d elements) and are
    differentiated; out_shape is the shape of the 'none' output. y: per-row
    target values, an array that broadcasts to out_shape; target: class indices
    (one per row, or n * d), which the kernel checks against [index_low, d);
    weight: d class weights; params: up to four floats. names: the inputs' argument
    names; target_grad: the user's y when its gradient is computed (margin_ranking_loss)
    or is 0 (cosine_embedding_loss's labels: zero=True), as (array, zero)."""
    c = RowwiseCall()
    c.kind, c.dtype, c.reduction = _core.ROWWISE[name], dtype, reduction
    c.kernel = _core.rowwise
    c.n, c.d, c.out_shape = n, d, out_shape
    # rows of one element whose loss has the inputs' shape (margin_ranking_loss) stream
    # like an element-wise loss; a loss that reduces a feature axis does not
    c.chunked = shape == out_shape and target is None and weight is None and chunked(
        shape, dtype, tuple(inputs) + (y,))
    c.sum_scale = np.float64(1.0) / n if c.chunked and reduction == MEAN else None
    c.denominator = np.float64(n)
    c.xs = tuple([operand(x, shape, dtype, c.chunked) for x in inputs]
                 + [None] * (3 - len(inputs)))
    c.y = operand(y, out_shape, dtype, c.chunked)
    c.user_target = target
    c.idx = None if target is None else index_array(target)
    c.index_low = index_low
    c.w = None if weight is None else flat(weight, weight.shape, dtype)
    c.params = tuple([float(p) for p in params] + [0.0] * (4 - len(params)))
    c.names = tuple(names)
    c.grads = tuple([GradSpec(shape, x.shape, grad_dtype(x, dtype), name=nm)
                     for x, nm in zip(inputs, names)])
    if target_grad is not None:
        ty, zero = target_grad
        spec = grad_spec("target", ty, out_shape, dtype)
        if spec is not None:
            spec.zero = zero
            c.grads += (spec,)
    return c


class CtcCall(LossCall):
    """ctc_loss on log_probs (T, N, C), flat: targets padded (N * S) or
    concatenated (S), int64 lengths, the blank and zero_infinity. The gradient is
    torch's, of log_probs' shape (see closs.functional.ctc_loss)."""

    __slots__ = ("shape", "lp", "targets", "s", "concatenated", "il", "tl", "blank",
                 "zero_infinity", "length_error")

    def _run(self, op, out, grad_output, grads):
        t, n, c = self.shape
        try:
            self.kernel(op, t, n, c, self.lp, self.targets, self.s, self.concatenated, self.il,
                        self.tl, self.blank, self.zero_infinity, self.reduction, out,
                        grad_output, (grads or {}).get("log_probs"))
        except IndexError:
            raise self._bad_label() from None
        except ShapeError as e:
            raise (self.length_error() or e) from None

    def _bad_label(self):
        """torch's IndexError naming the first used target outside [0, C)."""
        if self.concatenated:
            used = self.targets[: int(self.tl.sum())]
        else:
            rows = self.targets.reshape(self.shape[1], self.s)
            used = rows[np.arange(self.s) < self.tl[:, None]]
        return index_out_of_bounds(used, 0, self.shape[2])


def ctc(dtype, reduction, log_probs, shape, targets, s, concatenated, input_lengths,
        target_lengths, blank, zero_infinity, out_shape, length_error):
    """Prepares ctc_loss: log_probs (an array of T * N * C elements, flattened as
    (T, N, C)), shape = (T, N, C), int64 targets (N * S padded or S concatenated)
    and lengths, whose values the kernel checks; length_error() makes the
    exception for lengths it refuses (None: its own)."""
    c = CtcCall()
    c.dtype, c.reduction = dtype, reduction
    c.kernel = _core.ctc
    c.shape, c.out_shape = shape, out_shape
    c.lp = flat(log_probs, log_probs.shape, dtype)
    c.targets = index_array(targets, "targets")
    c.s, c.concatenated = s, bool(concatenated)
    c.il = index_array(input_lengths, "input_lengths")
    c.tl = index_array(target_lengths, "target_lengths")
    c.blank, c.zero_infinity = int(blank), bool(zero_infinity)
    c.length_error = length_error
    c.grads = (GradSpec(log_probs.shape, log_probs.shape, grad_dtype(log_probs, dtype),
                        name="log_probs"),)
    return c


TRIPLET_NAMES = ("anchor", "positive", "negative")


class DistanceTripletCall(LossCall):
    """triplet_margin_with_distance_loss with a Python distance function, in NumPy.

    The distances d(a, p), d(a, n) (and d(p, n) with swap) are computed once,
    when the call is prepared. Gradients need ``distance_grad(x1, x2, grad)``,
    the vector-Jacobian product of the distance function: given the arrays the
    distance function received and ``grad``, an array of the shape of
    ``distance_function(x1, x2)``, it returns ``(grad_x1, grad_x2)``, the
    gradients of ``sum(grad * distance_function(x1, x2))``, each of its
    argument's shape (or of a shape that sums back to it over broadcast axes).
    closs has no autograd: without distance_grad there is no gradient.
    """

    __slots__ = ("inputs", "distance_grad", "swap", "distances", "pre")

    def _run(self, op, out, grad_output, grads):
        if op != FORWARD and self.distance_grad is None:
            raise ValueError(
                "triplet_margin_with_distance_loss: the gradient with a custom distance_function "
                "needs distance_grad(x1, x2, grad) -> (grad_x1, grad_x2), the vector-Jacobian "
                "product of the distance function (closs has no autograd)"
            )
        if op == PARTIAL:
            out[0] = np.where(self.pre < 0, 0.0, self.pre).sum()
            out[1] = self.pre.size if self.reduction == MEAN else 1.0
            return
        if op != BACKWARD:
            loss = np.where(self.pre < 0, 0.0, self.pre)
            if self.reduction == NONE:
                out[:] = loss.reshape(-1)
            else:
                out[0] = loss.sum() if self.reduction == SUM else loss.mean()
        if op != FORWARD:
            self._grad(grad_output, [grads[name] if name in grads else np.empty(x.size, self.dtype)
                                     for name, x in zip(TRIPLET_NAMES, self.inputs)])

    def _grad(self, grad_output, grad_inputs):
        if grad_output is None:
            go = 1.0
        elif self.reduction == NONE:
            go = grad_output.reshape(self.out_shape).astype(np.float64)
        else:
            go = float(grad_output[0])
        if self.reduction == MEAN:
            go = go / max(self.pre.size, 1)  # no element, no gradient to scale
        k = np.where(self.pre >= 0, go, 0.0)
        dp, dn, ds = self.distances
        a, p, n = self.inputs
        terms = [(0, 1, a, p, k)]  # (gradient index of x1, of x2, x1, x2, d loss / d distance)
        if self.swap:  # torch.minimum: the smaller distance takes the gradient, a tie halves it
            tie = np.where(dn == ds, 0.5, 1.0)
            terms += [(0, 2, a, n, np.where(dn > ds, 0.0, -k * tie)),
                      (1, 2, p, n, np.where(dn < ds, 0.0, -k * tie))]
        else:
            terms.append((0, 2, a, n, -k))
        for g in grad_inputs:
            g[...] = 0
        for i, j, x1, x2, coef in terms:
            g1, g2 = self.distance_grad(x1, x2, coef)
            grad_inputs[i] += _unbroadcast(np.asarray(g1), x1.shape).reshape(-1)
            grad_inputs[j] += _unbroadcast(np.asarray(g2), x2.shape).reshape(-1)


def distance_triplet(anchor, positive, negative, distance_function, distance_grad, margin, swap,
                     reduction):
    """Prepares triplet_margin_with_distance_loss with a Python distance function,
    which receives the three arrays in the result dtype (see DistanceTripletCall)."""
    originals = [as_array(x, name) for x, name in
                 ((anchor, "anchor"), (positive, "positive"), (negative, "negative"))]
    dtype = float_dtype(anchor=originals[0], positive=originals[1], negative=originals[2])
    a, p, n = (np.asarray(x, dtype) for x in originals)
    dist = lambda x1, x2: np.asarray(distance_function(x1, x2), np.float64)  # noqa: E731
    dp, dn = dist(a, p), dist(a, n)
    ds = dist(p, n) if swap else None
    c = DistanceTripletCall()
    c.dtype, c.reduction = dtype, reduction
    c.inputs, c.distance_grad, c.swap, c.distances = (a, p, n), distance_grad, bool(swap), (dp, dn, ds)
    c.pre = margin + dp - (np.minimum(dn, ds) if swap else dn)
    c.out_shape = c.pre.shape
    c.grads = tuple(GradSpec(x.shape, x.shape, grad_dtype(x, dtype), name=nm)
                    for x, nm in zip(originals, TRIPLET_NAMES))
    return c


class ClassificationCall(LossCall):
    """nll_loss or cross_entropy on input of shape (n, c, s), flat; target is
    class indices (int64, n*s) or probabilities (n*c*s)."""

    __slots__ = ("kind", "n", "c", "s", "x", "t", "tp", "w", "ignore_index",
                 "label_smoothing", "user_target")
    second_order = True

    def _run(self, op, out, grad_output, grads):
        grads = grads or {}
        gx = grads.get("input")
        if gx is None and op in (BACKWARD, FUSED):  # the kernel always writes it
            gx = np.empty(self.x.size, self.dtype)
        try:
            self.kernel(self.kind, op, self.n, self.c, self.s, self.x, self.t, self.tp, self.w,
                        self.ignore_index, self.label_smoothing,
                        SUM if op == GRAD_HESS else self.reduction, out, grad_output, gx,
                        grads.get("hess"), grads.get("target"), grads.get("weight"))
        except IndexError:
            raise target_out_of_bounds(self.user_target, self.c, self.ignore_index) from None


def target_out_of_bounds(target, c, ignore_index):
    """torch's IndexError, naming the first class index outside [0, c) that is not ignored."""
    flat_target = target.reshape(-1)
    bad = (flat_target != ignore_index) & ((flat_target < 0) | (flat_target >= c))
    return IndexError(f"Target {flat_target[np.argmax(bad)]} is out of bounds.")


def classification(name, x, t, w, reduction, out_shape, ignore_index=-100,
                   label_smoothing=0.0):
    """Prepares nll_loss, cross_entropy or cross_entropy_prob (a C core name) on
    input x of shape (C,), (N, C) or (N, C, d1, ..., dK), checked by the caller
    (closs.functional has torch's rules): class indices t of any integer dtype or
    probabilities of x's shape, class weights w (C,) or None; out_shape is the
    shape of the 'none' output."""
    probabilities = name == "cross_entropy_prob"
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    dtype = float_dtype(input=x, weight=w, target=t if probabilities else None)
    call = ClassificationCall()
    call.kind, call.dtype, call.reduction = _core.CLASSIFICATION[name], dtype, reduction
    call.kernel = _core.classification
    call.n = 1 if x.ndim == 1 else x.shape[0]
    call.c = c
    call.s = int(np.prod(x.shape[2:], dtype=np.int64)) if x.ndim > 2 else 1
    call.out_shape = out_shape
    call.x = contiguous(x, dtype).reshape(-1)
    _class_targets(call, probabilities, t, w, ignore_index, label_smoothing)
    call.grads = (GradSpec(x.shape, x.shape, grad_dtype(x, dtype)),)
    if probabilities:  # class indices and nll_loss's weight are not differentiable (torch)
        call.grads += specs(grad_spec("target", t, x.shape, dtype),
                            grad_spec("weight", w, w.shape if w is not None else None, dtype))
    return call


def _class_targets(call, probabilities, t, w, ignore_index, label_smoothing):
    """The target (int64 class indices t or probabilities tp, flat), class weight and
    options of a classification or linear call, in the call's dtype."""
    call.t = None if probabilities else contiguous(t, np.dtype(np.int64)).reshape(-1)
    call.tp = contiguous(t, call.dtype).reshape(-1) if probabilities else None
    call.w = None if w is None else contiguous(w, call.dtype)
    call.ignore_index = int(ignore_index)
    call.label_smoothing = label_smoothing
    call.user_target = t


LINEAR_NAMES = ("input", "linear_weight", "linear_bias")


class LinearCall(LossCall):
    """linear_cross_entropy: cross entropy of the logits x W^T + b, (n, c, s), which the
    C core computes and consumes a block of rows at a time; x (n, in_features), W
    (c*s, in_features), b (c*s,) or None, flat. Gradients: input, linear_weight and,
    with a bias, linear_bias."""

    __slots__ = ("kind", "n", "in_features", "c", "s", "x", "lw", "lb", "t", "tp", "w",
                 "ignore_index", "label_smoothing", "user_target")

    def _run(self, op, out, grad_output, grads):
        grads = grads or {}
        gx, gw, gb = (grads.get(k) for k in LINEAR_NAMES)
        try:
            _core.linear(self.kind, op, self.n, self.in_features, self.c, self.s, self.x,
                         self.lw, self.lb, self.t, self.tp, self.w, self.ignore_index,
                         self.label_smoothing, self.reduction, out, grad_output, gx, gw, gb)
        except IndexError:
            raise target_out_of_bounds(self.user_target, self.c, self.ignore_index) from None


def linear(name, x, lw, lb, t, w, reduction, out_shape, ignore_index=-100, label_smoothing=0.0):
    """Prepares linear_cross_entropy (name: cross_entropy or cross_entropy_prob, as
    torch decides from the target) on input x (in_features,) or (N, in_features),
    linear_weight lw (C, d1, ..., dK, in_features), linear_bias lb (C, d1, ..., dK)
    or None, checked by the caller (closs.functional has torch's rules); out_shape
    is the shape of the 'none' output."""
    probabilities = name == "cross_entropy_prob"
    dtype = float_dtype(input=x, linear_weight=lw, linear_bias=lb, weight=w,
                        target=t if probabilities else None)
    call = LinearCall()
    call.kind, call.dtype, call.reduction = _core.CLASSIFICATION[name], dtype, reduction
    call.n = 1 if x.ndim == 1 else x.shape[0]
    call.in_features = x.shape[-1]
    call.c = lw.shape[0]
    call.s = math.prod(lw.shape[1:-1])
    call.out_shape = out_shape
    call.x = contiguous(x, dtype).reshape(-1)
    call.lw = contiguous(lw, dtype).reshape(-1)
    call.lb = None if lb is None else contiguous(lb, dtype).reshape(-1)
    _class_targets(call, probabilities, t, w, ignore_index, label_smoothing)
    call.grads = tuple(GradSpec(a.shape, a.shape, grad_dtype(a, dtype), name=nm)
                       for a, nm in zip((x, lw, lb), LINEAR_NAMES) if a is not None)
    return call
