"""closs.functional - torch.nn.functional's losses on NumPy arrays (PyTorch 2.13 signatures).

Each function returns the loss value: a NumPy scalar of the result dtype for
'mean'/'sum', an ndarray for 'none'. Gradients come from ``closs.nn`` Modules or
from the ``*_call`` preparers in ``closs._api``.
"""

import math

import numpy as np

from closs import _api
from closs._errors import ParameterError, ShapeError

__all__ = [
    "l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss",
    "margin_ranking_loss", "cosine_embedding_loss", "multi_margin_loss",
    "multilabel_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
]


def _l1_call(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise("l1_loss", input, target, r, weight, weighted_mean_by_sum=True)


def _mse_call(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise("mse_loss", input, target, r, weight, weighted_mean_by_sum=True)


def _smooth_l1_call(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    r = _api.reduction_code(reduction, size_average, reduce)
    if beta < 0:
        raise ParameterError("smooth_l1_loss does not support negative values for beta.")
    return _api.pointwise("smooth_l1_loss", input, target, r, None, (beta,))


def _huber_call(input, target, reduction="mean", delta=1.0, weight=None):
    r = _api.reduction_code(reduction)
    if not delta > 0:
        raise ParameterError("huber_loss does not support non-positive values for delta.")
    return _api.pointwise("huber_loss", input, target, r, weight, (delta,))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |input - target|, optionally weighted element-wise.

    A weighted 'mean' divides by the sum of the weights (as torch does).
    """
    return _l1_call(input, target, size_average, reduce, reduction, weight).value()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (input - target)^2, optionally weighted element-wise.

    A weighted 'mean' divides by the sum of the weights (as torch does).
    """
    return _mse_call(input, target, size_average, reduce, reduction, weight).value()


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target; beta=0 is L1)."""
    return _smooth_l1_call(input, target, size_average, reduce, reduction, beta).value()


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), optionally weighted.

    A weighted 'mean' divides by the element count (as torch does).
    """
    return _huber_call(input, target, reduction, delta, weight).value()


# --------------------------------------------------------------------------- margins and embeddings


def _margin_ranking_call(input1, input2, target, margin=0, size_average=None, reduce=None,
                         reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    x1, x2 = _api.as_array(input1, "input1"), _api.as_array(input2, "input2")
    y = _api.as_array(target, "target")
    if not x1.ndim == x2.ndim == y.ndim:
        raise ShapeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {_api._size(x1.shape)}, input2: {_api._size(x2.shape)}, "
            f"target: {_api._size(y.shape)} "
        )
    shape = _api.broadcast_shape(x1.shape, x2.shape, y.shape)
    dtype = _api.float_dtype(x1, x2, y)
    n = math.prod(shape)
    return _api.rowwise("margin_ranking_loss", dtype, r, n, 1, shape, shape, (x1, x2),
                        y=_api.flat(y, shape, dtype), params=(margin,))


def _cosine_embedding_call(input1, input2, target, margin=0, size_average=None, reduce=None,
                           reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    x1, x2 = _api.as_array(input1, "input1"), _api.as_array(input2, "input2")
    t = _api.as_array(target, "target")
    if t.ndim > 1:
        raise ShapeError("0D or 1D target tensor expected, multi-target not supported")
    if x1.ndim != t.ndim + 1:
        raise ShapeError(
            f"{t.ndim}D target tensor expects {t.ndim + 1}D input tensors, but found inputs "
            f"with sizes {_api.shape_list(x1.shape)} and {_api.shape_list(x2.shape)}."
        )
    # torch would broadcast a feature dimension of 1 in the product but not in the norms
    if x2.ndim != x1.ndim or x2.shape[-1] != x1.shape[-1]:
        raise ShapeError(
            "cosine_embedding_loss: input1 and input2 must have the same number of dimensions "
            f"and of features, got sizes {_api.shape_list(x1.shape)} and "
            f"{_api.shape_list(x2.shape)}"
        )
    d = x1.shape[-1]
    rows = _api.broadcast_shape(x1.shape[:-1], x2.shape[:-1], t.shape)
    dtype = _api.float_dtype(x1, x2)
    labels = np.where(t == 1, 1, np.where(t == -1, -1, 0))  # only 1 and -1 count, exactly
    n = math.prod(rows)
    return _api.rowwise("cosine_embedding_loss", dtype, r, n, d, rows + (d,), rows, (x1, x2),
                        y=_api.flat(labels, rows, dtype), params=(margin,))


def _class_rows(x):
    """(rows, classes) of multi_margin / multilabel_margin input: (C,) and () are one row."""
    if not ((x.ndim == 2 and x.shape[1] != 0) or (x.ndim == 1 and x.shape[0] != 0) or x.ndim == 0):
        raise ShapeError(
            "Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
            f"{_api.shape_list(x.shape)}"
        )
    if x.ndim == 2:
        return x.shape
    return 1, (x.shape[0] if x.ndim else 1)


def _multi_margin_call(input, target, p=1, margin=1.0, weight=None, size_average=None,
                       reduce=None, reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    x, t = _api.as_array(input, "input"), _api.as_array(target, "target")
    w = None if weight is None else _api.as_array(weight, "weight")
    if w is not None and w.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    n, c = _class_rows(x)
    if t.ndim > 1 or t.size != n:
        raise ShapeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{n}], but got "
            f"{_api.shape_list(t.shape)}. Input has shape {_api.shape_list(x.shape)}."
        )
    if w is not None and w.shape[0] != c:
        raise ShapeError(f"inconsistent weight size, expected {c} but got {_api.shape_list(w.shape)}")
    dtype = _api.float_dtype(x, w)
    out_shape = (n,) if t.ndim else ()
    return _api.rowwise("multi_margin_loss", dtype, r, n, c, x.shape, out_shape, (x,), target=t,
                        weight=w, params=(p, margin))


def _multilabel_margin_call(input, target, size_average=None, reduce=None, reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    x, t = _api.as_array(input, "input"), _api.as_array(target, "target")
    n, c = _class_rows(x)
    if (t.ndim > 1 or t.size != c) if x.ndim <= 1 else t.shape != (n, c):
        raise ShapeError(
            f"inconsistent target size: {_api.shape_list(t.shape)} for input of size: "
            f"{_api.shape_list(x.shape)}"
        )
    out_shape = (n,) if t.ndim == 2 else ()
    return _api.rowwise("multilabel_margin_loss", _api.float_dtype(x), r, n, c, x.shape,
                        out_shape, (x,), target=t, index_low=-1)


def _check_triplet(anchor, positive, negative, margin):
    """torch's triplet checks (margin first, then dimensions); returns the arrays."""
    if not margin > 0:
        raise ParameterError(f"margin must be greater than 0, got {margin}")
    arrays = [_api.as_array(x, name) for x, name in
              ((anchor, "anchor"), (positive, "positive"), (negative, "negative"))]
    a, p, n = (x.ndim for x in arrays)
    if not a == p == n:
        raise ShapeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs"
        )
    return arrays


def _triplet_call(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                  size_average=None, reduce=None, reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    arrays = _check_triplet(anchor, positive, negative, margin)
    if not p > 0:
        raise ParameterError(f"triplet_margin_loss: p must be positive (a p-norm), got {p}")
    shape = _api.broadcast_shape(*(x.shape for x in arrays))
    rows, d = shape[:-1], (shape[-1] if shape else 1)
    n = math.prod(rows)
    return _api.rowwise("triplet_margin_loss", _api.float_dtype(*arrays), r, n, d, shape, rows,
                        arrays, params=(margin, p, eps, bool(swap)))


def _triplet_with_distance_call(anchor, positive, negative, *, distance_function=None,
                                margin=1.0, swap=False, reduction="mean", distance_grad=None):
    r = _api.reduction_code(reduction)
    arrays = _check_triplet(anchor, positive, negative, margin)
    if distance_function is None:
        if distance_grad is not None:
            raise ValueError("distance_grad goes with a distance_function")
        return _triplet_call(*arrays, margin=margin, swap=swap, reduction=reduction)
    return _api.distance_triplet(*arrays, distance_function, distance_grad, margin, swap, r)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target (input1 - input2) + margin), element-wise on the broadcast shape
    (the three arrays need the same number of dimensions, as in torch)."""
    return _margin_ranking_call(input1, input2, target, margin, size_average, reduce,
                                reduction).value()


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1,
    0 for other targets; rows (N, D) with target (N,), or (D,) with a scalar target.
    The squared norms get torch's 1e-12; input1 and input2 must have the same number of
    features (torch's broadcast of a feature dimension of 1 is refused)."""
    return _cosine_embedding_call(input1, input2, target, margin, size_average, reduce,
                                  reduction).value()


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """weight[y] / C sum_{j != y} max(0, margin - x[y] + x[j])^p per row of (N, C) or (C,)
    input, class indices y of any integer dtype; p is 1 or 2. An index outside [0, C)
    raises IndexError naming it."""
    return _multi_margin_call(input, target, p, margin, weight, size_average, reduce,
                              reduction).value()


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """1/C sum over targets t and non-targets j of max(0, 1 - x[t] + x[j]) per row; each
    target row (the input's shape, integer) lists class indices up to its first -1 (a
    repeated index counts twice). An index outside [-1, C) raises IndexError naming it."""
    return _multilabel_margin_call(input, target, size_average, reduce, reduction).value()


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)) with d(x, y) = ||x - y + eps||_p over the last
    dimension (torch's pairwise_distance), any p > 0 including inf; swap uses
    min(d(a, n), d(p, n))."""
    return _triplet_call(anchor, positive, negative, margin, p, eps, swap, size_average, reduce,
                         reduction).value()


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean",
                                      distance_grad=None):
    """triplet_margin_loss with any distance: distance_function(x1, x2) on NumPy arrays
    (None: pairwise_distance, computed natively). For gradients with a distance_function,
    pass distance_grad(x1, x2, grad) -> (grad_x1, grad_x2), its vector-Jacobian product
    (see closs._api.DistanceTripletCall); closs has no autograd."""
    return _triplet_with_distance_call(
        anchor, positive, negative, distance_function=distance_function, margin=margin,
        swap=swap, reduction=reduction, distance_grad=distance_grad,
    ).value()
