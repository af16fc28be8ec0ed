"""closs.dask - every closs.functional loss on Dask arrays, lazily, with exact means.

    import closs.dask
    loss = closs.dask.cross_entropy(logits, labels, weight=w)     # a 0-d Dask array
    loss.compute()                                                # any scheduler
    value, grad = closs.dask.value_and_grad("mse_loss", x, y)     # grad chunked like x

Each function takes closs.functional's arguments (same names, order and defaults);
any array argument may be a Dask array or a NumPy array (or anything np.asarray
takes). 'mean', 'sum' and 'batchmean' give a 0-d Dask array of the result dtype,
'none' a Dask array chunked like the input.

How: every chunk gives its partial pair (S, D) in float64 (the C core's partial
reduction: the sum of its loss terms and its share of the 'mean' denominator: the
element count, the weight sum of the kept targets, the rows ...); the pairs combine
in one fixed tree over the chunk grid (closs._shard: full binary trees over the
chunks in C order), and the value is S / D of the whole array. For a given
chunking the result is bit-identical whatever the scheduler (threads, processes,
distributed) or the number of workers, and equals closs.functional's in-memory
value within float64 rounding of the combine: chunks of different sizes, class
weights and ignore_index included, where averaging the chunks' means would not be.

Layouts: element-wise losses (l1, mse, bce, kl_div ...) broadcast their array
arguments to one shape and split along every axis. Row losses (cross_entropy,
nll_loss, the margin and embedding losses, multilabel_soft_margin_loss, ctc_loss)
split along the batch only (axis 0; axis 1 of ctc_loss's (T, N, C) log_probs): a
class or feature axis split across chunks is rechunked whole, with a
PerformanceWarning. Unbatched inputs are one chunk. ctc_loss's concatenated
targets are padded (their lengths are read: computed, when they are Dask arrays).
linear_cross_entropy splits input and target along the batch (axis 0) and passes
linear_weight, linear_bias and the class weight whole to every chunk; its 'none'
output is (N, d1, ..., dK) for a linear_weight (C, d1, ..., dK, in_features).

``value_and_grad(name, *args, **kwargs)`` gives the lazy value and gradient(s) for
'mean', 'sum' and 'batchmean': every chunk's gradient of the whole loss (its
'sum' gradient over the combined denominator D), chunked like its input; several
gradients as a tuple in closs.nn's order. For float32 the chunks' scale 1 / D is
a float32 grad_output, so gradients agree with the in-memory ones to float32
rounding (float64: to float64 rounding). An argument passed whole to every
chunk (linear_cross_entropy's linear_weight and linear_bias) gets one gradient
of its own shape: the sum of the chunks' gradients, added in the same fixed tree
over the chunks as the pairs (in the gradient's dtype), so it too is
bit-identical whatever the scheduler for a given chunking.
"""

from __future__ import annotations

import inspect
import string
import warnings
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

try:
    import dask
    import dask.array as da
    from dask.array.core import PerformanceWarning
except ImportError as e:  # pragma: no cover - the optional extra
    raise ImportError("closs.dask needs Dask: pip install 'closs[dask]'") from e

from closs import _api, _core, _shard

__all__ = list(_shard.PREPARERS) + ["value_and_grad"]

if TYPE_CHECKING:  # the functions made below, for type checkers (tests/test_typing.py)
    l1_loss: Callable[..., da.Array]
    mse_loss: Callable[..., da.Array]
    smooth_l1_loss: Callable[..., da.Array]
    huber_loss: Callable[..., da.Array]
    binary_cross_entropy: Callable[..., da.Array]
    binary_cross_entropy_with_logits: Callable[..., da.Array]
    soft_margin_loss: Callable[..., da.Array]
    multilabel_soft_margin_loss: Callable[..., da.Array]
    hinge_embedding_loss: Callable[..., da.Array]
    poisson_nll_loss: Callable[..., da.Array]
    kl_div: Callable[..., da.Array]
    gaussian_nll_loss: Callable[..., da.Array]
    margin_ranking_loss: Callable[..., da.Array]
    cosine_embedding_loss: Callable[..., da.Array]
    multi_margin_loss: Callable[..., da.Array]
    multilabel_margin_loss: Callable[..., da.Array]
    triplet_margin_loss: Callable[..., da.Array]
    triplet_margin_with_distance_loss: Callable[..., da.Array]
    ctc_loss: Callable[..., da.Array]
    nll_loss: Callable[..., da.Array]
    cross_entropy: Callable[..., da.Array]
    linear_cross_entropy: Callable[..., da.Array]

# Element-wise losses (the C core's, and margin_ranking_loss): their array
# parameters, broadcast to one shape and split along every axis (a var of one
# dimension fewer takes a last axis of 1 first); (input, target) unless listed.
_ELEMENTWISE = {
    "l1_loss": ("input", "target", "weight"),
    "mse_loss": ("input", "target", "weight"),
    "huber_loss": ("input", "target", "weight"),
    "binary_cross_entropy": ("input", "target", "weight"),
    "binary_cross_entropy_with_logits": ("input", "target", "weight", "pos_weight"),
    "gaussian_nll_loss": ("input", "target", "var"),
    "margin_ranking_loss": ("input1", "input2", "target"),
}
_ELEMENTWISE.update({name: ("input", "target") for name in _core.POINTWISE
                     if name not in _ELEMENTWISE})


class _Rows:
    """A row loss's layout: batch, the batch axis of each parameter split with the
    batch (the others are passed whole to every chunk); broadcast, the parameters
    first broadcast to the first one's shape; tail(shapes), the 'none' output's shape
    after the batch axis, from the parameters' shapes (a dict); floats, the
    parameters whose arrays set the result dtype (closs._api.float_dtype's rule:
    integer class indices and weights do not)."""

    __slots__ = ("batch", "broadcast", "tail", "floats")

    def __init__(self, batch, floats, tail=lambda shapes: (), broadcast=()):
        self.batch, self.floats, self.tail, self.broadcast = batch, floats, tail, broadcast


_TRIPLET = _Rows({"anchor": 0, "positive": 0, "negative": 0},
                 ("anchor", "positive", "negative"), lambda s: s["anchor"][1:-1],
                 ("anchor", "positive", "negative"))
_CLASSIFICATION = _Rows({"input": 0, "target": 0}, ("input", "weight", "target"),
                        lambda s: s["input"][2:])
_ROWS = {
    "cross_entropy": _CLASSIFICATION,
    "nll_loss": _CLASSIFICATION,
    "multilabel_soft_margin_loss": _Rows({"input": 0, "target": 0, "weight": 0},
                                         ("input", "target", "weight"), lambda s: s["input"][1:-1],
                                         ("input", "target", "weight")),
    "multi_margin_loss": _Rows({"input": 0, "target": 0}, ("input", "weight")),
    "multilabel_margin_loss": _Rows({"input": 0, "target": 0}, ("input",)),
    "cosine_embedding_loss": _Rows({"input1": 0, "input2": 0, "target": 0},
                                   ("input1", "input2"), broadcast=("input1", "input2")),
    "triplet_margin_loss": _TRIPLET,
    "triplet_margin_with_distance_loss": _TRIPLET,
    "ctc_loss": _Rows({"log_probs": 1, "targets": 0, "input_lengths": 0, "target_lengths": 0},
                      ("log_probs",)),
    # the linear layer's parameters (and the class weight) whole in every chunk; the
    # 'none' output (N, d1, ..., dK) of linear_weight (C, d1, ..., dK, in_features)
    "linear_cross_entropy": _Rows({"input": 0, "target": 0},
                                  ("input", "linear_weight", "linear_bias", "weight", "target"),
                                  lambda s: s["linear_weight"][1:-1]),
}
# the differentiable parameters, in closs.nn's gradient order
_DIFFERENTIABLE = {
    "margin_ranking_loss": ("input1", "input2"),
    "cosine_embedding_loss": ("input1", "input2"),
    "triplet_margin_loss": ("anchor", "positive", "negative"),
    "triplet_margin_with_distance_loss": ("anchor", "positive", "negative"),
    "ctc_loss": ("log_probs",),
    "gaussian_nll_loss": ("input", "var"),
    "linear_cross_entropy": ("input", "linear_weight", "linear_bias"),
}
# index letters of blockwise (p: the pair axis, k: the gradients' axis)
_LETTERS = [c for c in string.ascii_letters if c not in "pk"]


def _is_array(v):
    """An array argument (Dask, NumPy, a CPU torch tensor, a list): split or passed
    whole as a chunk; scalars (0-d included) and callables are options."""
    if isinstance(v, da.Array) or hasattr(v, "__array__"):
        return np.ndim(v) > 0
    return isinstance(v, (list, tuple)) and len(v) > 0 and not callable(v[0])


def _as_dask(v):
    return v if isinstance(v, da.Array) else da.from_array(_api.as_array(v))


class _Plan:
    """One call's graph plan: the split arrays with their blockwise indices, the
    whole arguments, and what the outputs look like."""

    def __init__(self, name, arguments):
        self.name, self.reduction = name, arguments["reduction"]
        self.static = {}
        self.split = {}  # parameter -> (dask array, index string)
        self.batch_index = ""  # the letters of the chunk grid
        self.none_index, self.none_chunks, self.new_axes = "", (), {}
        self.broadcast_from = {}  # parameter -> (the shape broadcast, the user's), where broadcast
        self.float_params = _ELEMENTWISE.get(name) or _ROWS[name].floats
        arrays = {k: v for k, v in arguments.items() if k != "reduction" and _is_array(v)}
        self.static = {k: v for k, v in arguments.items() if k not in arrays}
        if name in _ELEMENTWISE:
            self._elementwise(arrays)
        else:
            self._rows(_ROWS[name], arrays)
        dtypes = {k: np.empty(0, self._dtype_of(v)) for k, v in arrays.items()
                  if k in self.float_params}
        self.dtype = _api.float_dtype(**dtypes)
        self.differentiable = tuple(k for k in _DIFFERENTIABLE.get(name, ("input",))
                                    if k in self.split)

    @staticmethod
    def _dtype_of(v):
        return v.dtype if hasattr(v, "dtype") else np.asarray(v).dtype

    # layouts -------------------------------------------------------------
    def _elementwise(self, arrays):
        # the chunks follow the first Dask array among the arguments (else one chunk)
        lead = next((k for k, v in arrays.items() if isinstance(v, da.Array)), None)
        arrays = {k: _as_dask(v) for k, v in arrays.items()}
        x = arrays[_ELEMENTWISE[self.name][0]]
        if self.name == "gaussian_nll_loss" and "var" in arrays:
            v = arrays["var"]
            if v.shape != x.shape and v.shape == x.shape[:-1]:
                self.broadcast_from["var"] = (v.shape + (1,), v.shape)
                arrays["var"] = v[..., None]
        shape = _api.broadcast_shape(*(a.shape for a in arrays.values()))
        if (self.name in ("l1_loss", "mse_loss") and "weight" in arrays
                and self.reduction == "mean" and shape != x.shape):
            raise NotImplementedError(
                f"closs.dask.{self.name}: a weighted 'mean' whose target broadcasts the input "
                "to a larger shape (torch divides by the weight's own sum)")
        first = arrays[lead] if lead else x
        reference = da.broadcast_to(first, shape, chunks=self._broadcast_chunks(first, shape))
        index = "".join(_LETTERS[:len(shape)])
        for k, a in arrays.items():
            if a.shape != shape:
                self.broadcast_from.setdefault(k, (a.shape, a.shape))
                a = da.broadcast_to(a, shape)
            self.split[k] = (a.rechunk(reference.chunks), index)
        self.batch_index = index
        self.none_index, self.none_chunks = index, reference.chunks
        self.shape = shape

    @staticmethod
    def _broadcast_chunks(x, shape):
        """x's chunks on its own axes, one chunk along the axes broadcasting adds or widens."""
        lead = len(shape) - x.ndim
        chunks = [(n,) for n in shape[:lead]]
        for axis, n in enumerate(shape[lead:]):
            chunks.append(x.chunks[axis] if x.shape[axis] == n else (n,))
        return tuple(chunks)

    def _rows(self, layout, arrays):
        if self.name == "ctc_loss":
            arrays = _ctc_padded(arrays, self.static)
        arrays = {k: _as_dask(v) for k, v in arrays.items()}
        first = arrays[next(iter(layout.batch))]
        if layout.broadcast:
            present = [k for k in layout.broadcast if k in arrays]
            shape = _api.broadcast_shape(*(arrays[k].shape for k in present))
            for k in present:
                if arrays[k].shape != shape:
                    self.broadcast_from[k] = (arrays[k].shape, arrays[k].shape)
                    arrays[k] = da.broadcast_to(arrays[k], shape)
            first = arrays[present[0]]
        batched = first.ndim >= (3 if self.name == "ctc_loss" else 2)
        letters = iter(_LETTERS[1:])
        batch_chunks = first.chunks[layout.batch[next(iter(layout.batch))]] if batched else None
        rechunked = False
        for k, a in arrays.items():
            axis = layout.batch.get(k) if batched else None
            want = tuple(batch_chunks if d == axis else (n,) for d, n in enumerate(a.shape))
            if a.chunks != want:
                rechunked |= axis is not None and any(
                    len(c) > 1 for d, c in enumerate(a.chunks) if d != axis)
                a = a.rechunk(want)
            index = "".join(_LETTERS[0] if d == axis else next(letters) for d in range(a.ndim))
            self.split[k] = (a, index)
        if rechunked:
            warnings.warn(
                f"closs.dask.{self.name}: a row loss splits along the batch only; arrays split "
                "along other axes were rechunked whole along those axes",
                PerformanceWarning, stacklevel=_api.user_stacklevel())
        self.batch_index = _LETTERS[0] if batched else ""
        tail = layout.tail({k: a.shape for k, (a, _) in self.split.items()}) if batched else ()
        tail_letters = "".join(next(letters) for _ in tail)
        self.none_index = self.batch_index + tail_letters
        self.new_axes = dict(zip(tail_letters, tail))
        self.none_chunks = ((batch_chunks,) if batched else ()) + tuple((n,) for n in tail)

    # graphs ----------------------------------------------------------------
    def _blockwise(self, what, out_index, dtype, extra=(), **kw):
        args = []
        for k, (a, index) in self.split.items():
            args += [a, index]
        args += list(extra)
        return da.blockwise(
            _block, out_index, *args, name_=self.name, names=tuple(self.split),
            static=self.static, what=what, grid=len(self.batch_index), dtype=dtype, **kw)

    def pairs(self, reduction):
        """Every chunk's pair: an array of the chunk grid's shape and 2, one block per chunk."""
        grid = self.batch_index
        return self._blockwise(("pair", reduction), grid + "p", np.float64,
                               new_axes={"p": 2}, adjust_chunks={c: 1 for c in grid},
                               meta=np.empty((0,) * (len(grid) + 1), np.float64))

    def total(self, reduction):
        """The combined pair of every chunk, a lazy (2,) float64 array (closs._shard's tree
        over the chunks in C order)."""
        blocks = self.pairs(reduction).to_delayed().reshape(-1)
        pair = _shard.tree(list(blocks), dask.delayed(_shard.add, pure=True))
        return da.from_delayed(dask.delayed(np.reshape, pure=True)(pair, 2), (2,), np.float64)

    def value(self):
        if self.reduction == "none":
            return self._blockwise(("none", None), self.none_index, self.dtype,
                                   new_axes=self.new_axes,
                                   meta=np.empty((0,) * len(self.none_index), self.dtype))
        return self._finish(self.total(self._pair_reduction()))

    def _pair_reduction(self):
        # 'batchmean' divides by the batch size, whatever the chunks along the batch: 'sum'
        return "sum" if self.reduction == "batchmean" else self.reduction

    def _denominator(self, pair):
        if self.reduction == "batchmean":
            return np.float64(self.shape[0] if self.shape else 1)
        return pair[1]

    def _finish(self, pair):
        if self.reduction == "batchmean":
            pair = da.stack([pair[0], da.from_array(np.float64(self._denominator(None)))])
        return pair.map_blocks(_finish_block, reduction=self.reduction, dtype_=self.dtype,
                               drop_axis=0, dtype=self.dtype, meta=np.empty((), self.dtype))

    def value_and_grad(self):
        if self.reduction == "none":
            raise ValueError("value_and_grad needs reduction 'mean', 'sum' or 'batchmean'")
        pair = self.total(self._pair_reduction())
        if self.reduction == "sum":
            scale = da.from_array(np.float64(1.0))
        elif self.reduction == "batchmean":
            scale = da.from_array(np.float64(1.0) / self._denominator(None))
        else:
            scale = 1.0 / pair[1]
        # every chunk's gradients (a tuple, closs.nn's order) in one task per chunk
        k = len(self.differentiable)
        grid = self.batch_index
        chunks = self._blockwise(("grad", k), grid, object, extra=(scale, ""),
                                 adjust_chunks={c: 1 for c in grid},
                                 meta=np.empty((0,) * len(grid), object)).to_delayed()
        grads = []
        for i, param in enumerate(self.differentiable):
            a, index = self.split[param]
            dtype = _api.grad_dtype(a, self.dtype)
            if all(c in index for c in grid):  # split with the chunks: chunked like a
                g = self._assemble([part[i] for part in chunks.reshape(-1)], a, index, dtype)
            else:  # passed whole to every chunk: the sum of the chunks' gradients
                g = self._sum([part[i] for part in chunks.reshape(-1)], a.shape, dtype)
            if param in self.broadcast_from:
                broadcast, user = self.broadcast_from[param]
                g = _unbroadcast(g, broadcast).reshape(user)
            grads.append(g)
        return self._finish(pair), grads[0] if len(grads) == 1 else tuple(grads)

    def _assemble(self, parts, a, index, dtype):
        """The chunks' gradients of a split parameter a (parts: one per chunk of the
        grid, in C order) as one Dask array chunked like a."""
        grid = self.batch_index
        numblocks = tuple(len(c) for c in a.chunks)
        grid_shape = tuple(numblocks[index.index(c)] for c in grid)
        meta = np.empty((0,) * a.ndim, dtype)

        def nest(block):
            if len(block) == a.ndim:
                at = np.ravel_multi_index(tuple(block[index.index(c)] for c in grid), grid_shape)
                shape = tuple(a.chunks[d][b] for d, b in enumerate(block))
                return da.from_delayed(parts[at], shape, dtype, meta=meta)
            return [nest(block + (b,)) for b in range(numblocks[len(block)])]

        return da.block(nest(()))

    @staticmethod
    def _sum(parts, shape, dtype):
        """The sum of the chunks' gradients of a parameter passed whole to every chunk,
        in closs._shard's fixed tree over the chunks in C order (never dask's own sum,
        whose tree may change), so its bits are the same on any scheduler."""
        total = _shard.tree(parts, dask.delayed(np.add, pure=True))
        return da.from_delayed(total, shape, dtype, meta=np.empty((0,) * len(shape), dtype))


def _block(*blocks, name_, names, static, what, grid):
    """One chunk's work (blockwise's function): what = ("pair", reduction), ("none", _)
    or ("grad", k) with the scale as the last block: the chunk's first k gradients,
    a tuple (the block of an object array, taken apart by value_and_grad)."""
    kind, detail = what
    blocks = [_single(b) for b in blocks]
    arguments = dict(static)
    arguments.update(zip(names, blocks))
    if kind == "pair":
        return _shard.partial(name_, arguments, detail).reshape((1,) * grid + (2,))
    if kind == "none":
        return np.asarray(_shard.function(name_)(**dict(arguments, reduction="none")))
    scale = blocks[len(names)]
    g = _shard.grad(name_, arguments, float(scale))
    return (g if isinstance(g, tuple) else (g,))[:detail]


def _single(block):
    """The one block of an axis the chunk's task does not split (blockwise passes the
    blocks of such an axis as a list: one, as every such axis is one chunk; taken as
    it is, where concatenate=True would copy it)."""
    while isinstance(block, list):
        (block,) = block
    return block


def _finish_block(pair, reduction, dtype_):
    return np.asarray(_shard.finish(reduction, pair, dtype_))


def _unbroadcast(g, shape):
    """g summed back to `shape` over the axes broadcasting added or widened (in the
    gradient's dtype, in dask's fixed tree for these chunks)."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + d for d, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + d] != 1)
    return g.sum(axis=axes, dtype=g.dtype).reshape(shape)


def _ctc_padded(arrays, static):
    """ctc_loss's arrays with concatenated targets padded to (N, max length)."""
    lp = arrays["log_probs"]
    targets = arrays["targets"]
    if np.ndim(lp) != 3 or np.ndim(targets) != 1:
        return arrays
    lengths = np.asarray(dask.compute(arrays["target_lengths"])[0]).reshape(-1)
    flat = np.asarray(dask.compute(targets)[0]).reshape(-1)
    if lengths.dtype.kind not in "iu" or flat.dtype.kind not in "iu" or lengths.sum() != flat.size:
        return arrays  # the in-memory call's checks make the error
    padded = np.zeros((lengths.size, int(lengths.max(initial=0))), flat.dtype)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    for i, (s, n) in enumerate(zip(starts, lengths)):
        padded[i, :n] = flat[s:s + n]
    return dict(arrays, targets=padded, target_lengths=lengths)


# ------------------------------------------------------------------------ API


def _call(name, args, kwargs):
    return _Plan(name, _shard.bind(name, args, kwargs))


def value_and_grad(name: str, *args: Any, **kwargs: Any) -> tuple[da.Array, Any]:
    """(lazy value, lazy gradient(s)) of closs.functional.<name>(*args, **kwargs) on Dask
    arrays, for reduction 'mean', 'sum' or 'batchmean': each chunk's gradient of the
    whole loss, chunked like its input; a tuple of Dask arrays where the loss has
    several differentiable inputs (closs.nn's order). The gradient of an argument
    passed whole to every chunk (linear_cross_entropy's linear_weight and
    linear_bias) is one chunk: the sum of the chunks' gradients in closs._shard's
    fixed tree."""
    return _call(name, args, kwargs).value_and_grad()


def _make(name):
    function = _shard.function(name)

    def loss(*args, **kwargs):
        return _call(name, args, kwargs).value()

    loss.__name__ = loss.__qualname__ = name
    loss.__doc__ = (f"closs.functional.{name} on Dask arrays: a lazy 0-d array for "
                    f"'mean'/'sum'/'batchmean', a lazy array for 'none'.\n\n{function.__doc__}")
    loss.__signature__ = inspect.signature(function)
    return loss


for _name in _shard.PREPARERS:
    globals()[_name] = _make(_name)
del _name
