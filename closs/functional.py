"""closs.functional - torch.nn.functional's losses on NumPy arrays (PyTorch 2.13 signatures).

Each function returns the loss value: a NumPy scalar of the result dtype for
'mean'/'sum', an ndarray for 'none'. Gradients come from ``closs.nn`` Modules or
from the ``*_call`` preparers in ``closs._api``.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, Literal, overload

import numpy as np

from closs import _api
from closs._typing import Array, ArrayLike, Reduced, Scalar, Value
from closs._errors import DomainError, DTypeError, ParameterError, ShapeError


# The element-wise lane: a call whose arrays are already in the kernel's form (exact
# C-contiguous native ndarrays of one float dtype and one shape, no broadcasting),
# with plain parameters and reduction, goes straight to C (closs._core.pointwise_lane);
# anything else, or any status but OK, takes the general path (the _*_call
# preparers), which normalises the arguments and makes every error message. Each
# loss's _*_lane gives the lane's arguments: (kind, input, target, weight, aux, p0,
# p1, p2); its Module uses it too.
_EW = _api._core.POINTWISE


def _lane_value(spec, reduction, size_average=None, reduce=None):
    """The lane's value of spec (a _*_lane's tuple), or None: the general path."""
    if size_average is not None or reduce is not None:
        return None
    return _api.lane_pointwise(*spec, reduction)


def _l1_lane(input, target, weight=None):
    return _EW["l1_loss"], input, target, weight, None, 0.0, 0.0, 0.0


def _mse_lane(input, target, weight=None):
    return _EW["mse_loss"], input, target, weight, None, 0.0, 0.0, 0.0


def _smooth_l1_lane(input, target, beta=1.0):
    return _EW["smooth_l1_loss"], input, target, None, None, beta, 0.0, 0.0


def _huber_lane(input, target, delta=1.0, weight=None):
    return _EW["huber_loss"], input, target, weight, None, delta, 0.0, 0.0


def _bce_lane(input, target, weight=None):
    return _EW["binary_cross_entropy"], input, target, weight, None, 0.0, 0.0, 0.0


def _bce_logits_lane(input, target, weight=None, pos_weight=None):
    return (_EW["binary_cross_entropy_with_logits"], input, target, weight, pos_weight,
            0.0, 0.0, 0.0)


def _soft_margin_lane(input, target):
    return _EW["soft_margin_loss"], input, target, None, None, 0.0, 0.0, 0.0


def _hinge_embedding_lane(input, target, margin=1.0):
    return _EW["hinge_embedding_loss"], input, target, None, None, margin, 0.0, 0.0


def _lane_flag(value):
    """A bool option as the kernel's float parameter; None (the general path, which
    raises or converts) for anything but a bool."""
    return float(value) if type(value) is bool else None


def _poisson_nll_lane(input, target, log_input=True, full=False, eps=1e-8):
    return (_EW["poisson_nll_loss"], input, target, None, None, eps, _lane_flag(full),
            _lane_flag(log_input))


def _kl_div_lane(input, target, log_target=False):
    """(Not for reduction='mean': that warns, on the general path.)"""
    return _EW["kl_div"], input, target, None, None, _lane_flag(log_target), 0.0, 0.0


def _l1_call(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise("l1_loss", input, target, r, weight, mean_by="weight_sum")


def _mse_call(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise("mse_loss", input, target, r, weight, mean_by="weight_sum")


def _smooth_l1_call(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    r = _api.reduction_code(reduction, size_average, reduce)
    beta = _api.real(beta, "beta")
    if beta < 0:
        raise ParameterError("smooth_l1_loss does not support negative values for beta.")
    return _api.pointwise("smooth_l1_loss", input, target, r, None, (beta,))


def _huber_call(input, target, reduction="mean", delta=1.0, weight=None):
    r = _api.reduction_code(reduction)
    delta = _api.real(delta, "delta")
    if not delta > 0:
        raise ParameterError("huber_loss does not support non-positive values for delta.")
    return _api.pointwise("huber_loss", input, target, r, weight, (delta,))


@overload
def l1_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None,
    reduction: Reduced = "mean", weight: ArrayLike | None = None,
) -> Scalar: ...
@overload
def l1_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None, *,
    reduction: Literal["none"], weight: ArrayLike | None = None,
) -> Array: ...
@overload
def l1_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", weight: ArrayLike | None = None,
) -> Value: ...
def l1_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", weight: ArrayLike | None = None,
) -> Value:
    """Mean absolute error |input - target|, optionally weighted element-wise.

    A weighted 'mean' divides by the sum of the weights (as torch does).
    """
    v = _lane_value(_l1_lane(input, target, weight), reduction, size_average, reduce)
    if v is not None:
        return v
    return _l1_call(input, target, size_average, reduce, reduction, weight).value()


@overload
def mse_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None,
    reduction: Reduced = "mean", weight: ArrayLike | None = None,
) -> Scalar: ...
@overload
def mse_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None, *,
    reduction: Literal["none"], weight: ArrayLike | None = None,
) -> Array: ...
@overload
def mse_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", weight: ArrayLike | None = None,
) -> Value: ...
def mse_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", weight: ArrayLike | None = None,
) -> Value:
    """Mean squared error (input - target)^2, optionally weighted element-wise.

    A weighted 'mean' divides by the sum of the weights (as torch does).
    """
    v = _lane_value(_mse_lane(input, target, weight), reduction, size_average, reduce)
    if v is not None:
        return v
    return _mse_call(input, target, size_average, reduce, reduction, weight).value()


@overload
def smooth_l1_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None,
    reduction: Reduced = "mean", beta: float = 1.0,
) -> Scalar: ...
@overload
def smooth_l1_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None, *,
    reduction: Literal["none"], beta: float = 1.0,
) -> Array: ...
@overload
def smooth_l1_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0,
) -> Value: ...
def smooth_l1_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0,
) -> Value:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target; beta=0 is L1)."""
    v = _lane_value(_smooth_l1_lane(input, target, beta), reduction, size_average, reduce)
    if v is not None:
        return v
    return _smooth_l1_call(input, target, size_average, reduce, reduction, beta).value()


@overload
def huber_loss(
    input: ArrayLike, target: ArrayLike, reduction: Reduced = "mean", delta: float = 1.0,
    weight: ArrayLike | None = None,
) -> Scalar: ...
@overload
def huber_loss(
    input: ArrayLike, target: ArrayLike, *, reduction: Literal["none"], delta: float = 1.0,
    weight: ArrayLike | None = None,
) -> Array: ...
@overload
def huber_loss(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", delta: float = 1.0,
    weight: ArrayLike | None = None,
) -> Value: ...
def huber_loss(
    input: ArrayLike, target: ArrayLike, reduction: str = "mean", delta: float = 1.0,
    weight: ArrayLike | None = None,
) -> Value:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), optionally weighted.

    A weighted 'mean' divides by the element count (as torch does).
    """
    v = _lane_value(_huber_lane(input, target, delta, weight), reduction)
    if v is not None:
        return v
    return _huber_call(input, target, reduction, delta, weight).value()


def _nll_call(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
              reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _classification_call("nll_loss", input, target, r, weight, ignore_index)


def _cross_entropy_call(input, target, weight=None, size_average=None, ignore_index=-100,
                        reduce=None, reduction="mean", label_smoothing=0.0):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _classification_call("cross_entropy", input, target, r, weight, ignore_index,
                                label_smoothing)


def _class_weight(w, c, name):
    if w is not None and (w.ndim != 1 or w.shape[0] != c):
        raise ShapeError(
            f"{name}weight tensor should be defined either for all {c} classes or no classes "
            f"but got weight tensor of shape: {_api.shape_list(w.shape)}"
        )


def _index_target_shape(x, t):
    """torch's rules for class-index targets; returns the shape of the 'none' output."""
    if x.ndim == 1:
        if t.ndim == 1 and t.shape[0] != 1:
            raise ShapeError(
                f"For 1D input, 1D target must have size 1, but got target size: {t.shape[0]}"
            )
        if t.ndim > 1:
            raise ShapeError("0D or 1D target tensor expected, multi-target not supported")
        return ()
    if t.ndim == 0 or t.shape[0] != x.shape[0]:
        raise ShapeError(
            f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
            f"({t.shape[0] if t.ndim else 0})."
        )
    out_shape = (x.shape[0],) + x.shape[2:]
    if x.ndim == 2 and t.ndim != 1:
        raise ShapeError("0D or 1D target tensor expected, multi-target not supported")
    if t.shape != out_shape:
        raise ShapeError(
            f"Expected target size {_api.shape_list(out_shape)}, got {_api.shape_list(t.shape)}"
        )
    return out_shape


def _classification_call(name, input, target, reduction, weight=None, ignore_index=-100,
                         label_smoothing=0.0):
    """nll_loss or cross_entropy with torch's shape, dtype and option rules (probability
    targets when the target has the input's shape, as torch decides). Input (C,),
    (N, C) or (N, C, d1, ..., dK)."""
    x, t = _api.as_array(input, "input"), _api.as_array(target, "target")
    w = None if weight is None else _api.as_array(weight, "weight")
    name, out_shape, ignore_index, label_smoothing = _classification_rules(
        name, x, t, w, ignore_index, label_smoothing)
    return _api.classification(name, x, t, w, reduction, out_shape, ignore_index,
                               label_smoothing)


def _classification_rules(name, x, t, w, ignore_index, label_smoothing):
    """torch's rules for nll_loss or cross_entropy on input x (only its shape is read),
    target t and weight w (arrays); returns the C core's name (cross_entropy_prob for
    probability targets), the 'none' output's shape and the options."""
    if x.ndim == 0:
        raise ShapeError("Expected 1 or more dimensions (got 0)")
    cross_entropy = name == "cross_entropy"
    label_smoothing = _api.real(label_smoothing, "label_smoothing") if cross_entropy else 0.0
    ignore_index = _api.integer(ignore_index, "ignore_index")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ParameterError(
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
        )
    probabilities = cross_entropy and t.shape == x.shape
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    if probabilities:
        if t.dtype.kind != "f":
            raise DTypeError(
                f"Expected floating point type for target with class probabilities, got {t.dtype}"
            )
        if ignore_index >= 0:
            raise ParameterError("ignore_index is not supported for floating point target")
        _class_weight(w, c, "cross_entropy: ")
        out_shape = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
        name = "cross_entropy_prob"
    else:
        out_shape = _index_target_shape(x, t)
        if t.dtype.kind not in "iu":
            raise DTypeError(f"expected an integer class-index target, got dtype {t.dtype}")
        _class_weight(w, c, "")
        if t.dtype == np.uint64 and t.size and t.max() > np.iinfo(np.int64).max:
            raise _api.target_out_of_bounds(t, c, ignore_index)
    return name, out_shape, ignore_index, label_smoothing


@overload
def nll_loss(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, ignore_index: int = -100, reduce: None = None,
    reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def nll_loss(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, ignore_index: int = -100, reduce: None = None, *,
    reduction: Literal["none"],
) -> Array: ...
@overload
def nll_loss(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, ignore_index: int = -100, reduce: bool | None = None,
    reduction: str = "mean",
) -> Value: ...
def nll_loss(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, ignore_index: int = -100, reduce: bool | None = None,
    reduction: str = "mean",
) -> Value:
    """Negative log likelihood -weight[t] * input[t] of log-probabilities input.

    input: (C,), (N, C) or (N, C, d1, ..., dK); target: class indices of any integer
    dtype, shape (), (N,) or (N, d1, ..., dK). Targets equal to ignore_index count
    nothing; 'mean' divides by the summed weight of the other targets (NaN if none).
    """
    if size_average is None and reduce is None:
        v = _api.lane_nll(input, target, weight, ignore_index, 0.0, reduction)
        if v is not None:
            return v
    return _nll_call(input, target, weight, size_average, ignore_index, reduce,
                     reduction).value()


@overload
def cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, ignore_index: int = -100, reduce: None = None,
    reduction: Reduced = "mean", label_smoothing: float = 0.0,
) -> Scalar: ...
@overload
def cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, ignore_index: int = -100, reduce: None = None, *,
    reduction: Literal["none"], label_smoothing: float = 0.0,
) -> Array: ...
@overload
def cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, ignore_index: int = -100, reduce: bool | None = None,
    reduction: str = "mean", label_smoothing: float = 0.0,
) -> Value: ...
def cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, ignore_index: int = -100, reduce: bool | None = None,
    reduction: str = "mean", label_smoothing: float = 0.0,
) -> Value:
    """Cross entropy of log_softmax(input) over the class dimension (1, or 0 for (C,)).

    target: class indices (any integer dtype, shape of input without the class
    dimension) or class probabilities (a float array of the input's shape).
    label_smoothing in [0, 1] mixes the target with the uniform distribution. With
    indices, 'mean' divides by the summed weight of the targets that are not
    ignore_index; with probabilities, by the number of positions (N * d1 ... dK).
    """
    if size_average is None and reduce is None:
        v = _api.lane_cross_entropy(input, target, weight, ignore_index, label_smoothing,
                                    reduction)
        if v is not None:
            return v
    return _cross_entropy_call(input, target, weight, size_average, ignore_index, reduce,
                               reduction, label_smoothing).value()


# --------------------------------------------------------------------------- binary targets


def _bce_domain_error(call):
    """torch's message for a binary_cross_entropy input outside [0, 1]."""

    def error():
        x = call.x
        which = "input" if not np.all((x >= 0) & (x <= 1)) else "target"
        return DomainError(f"all elements of {which} should be between 0 and 1")

    return error


def _bce_call(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    x, y = _api.as_array(input, "input"), _api.as_array(target, "target")
    if x.shape != y.shape:
        raise ValueError(
            f"Using a target size ({_api.torch_size(y.shape)}) that is different to the input size "
            f"({_api.torch_size(x.shape)}) is deprecated. Please ensure they have the same size."
        )
    call = _api.pointwise("binary_cross_entropy", x, y, r, weight, target_rule="input",
                          weight_rule="broadcast")
    call.domain_error = _bce_domain_error(call)
    return call


def _bce_logits_call(input, target, weight=None, size_average=None, reduce=None,
                     reduction="mean", pos_weight=None):
    r = _api.reduction_code(reduction, size_average, reduce)
    x, y = _api.as_array(input, "input"), _api.as_array(target, "target")
    if x.shape != y.shape:
        raise ValueError(f"Target size ({_api.torch_size(y.shape)}) must be the same as input size "
                         f"({_api.torch_size(x.shape)})")
    return _api.pointwise("binary_cross_entropy_with_logits", x, y, r, weight,
                          aux=pos_weight, target_rule="input", weight_rule="broadcast")


def _soft_margin_call(input, target, size_average=None, reduce=None, reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise("soft_margin_loss", input, target, r, target_rule="input")


def _multilabel_soft_margin_call(input, target, weight=None, size_average=None, reduce=None,
                                 reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise("binary_cross_entropy_with_logits", input, target, r, weight,
                          target_rule="broadcast", weight_rule="broadcast", row_mean=True)


def _hinge_embedding_call(input, target, margin=1.0, size_average=None, reduce=None,
                          reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise("hinge_embedding_loss", input, target, r, None,
                          (_api.real(margin, "margin"),),
                          target_rule="broadcast")


@overload
def binary_cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, reduce: None = None, reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def binary_cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, reduce: None = None, *, reduction: Literal["none"],
) -> Array: ...
@overload
def binary_cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Value: ...
def binary_cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Value:
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x, y in [0, 1]; logs clamped at -100."""
    v = _lane_value(_bce_lane(input, target, weight), reduction, size_average, reduce)
    if v is not None:
        return v
    return _bce_call(input, target, weight, size_average, reduce, reduction).value()


@overload
def binary_cross_entropy_with_logits(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, reduce: None = None, reduction: Reduced = "mean",
    pos_weight: ArrayLike | None = None,
) -> Scalar: ...
@overload
def binary_cross_entropy_with_logits(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, reduce: None = None, *, reduction: Literal["none"],
    pos_weight: ArrayLike | None = None,
) -> Array: ...
@overload
def binary_cross_entropy_with_logits(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
    pos_weight: ArrayLike | None = None,
) -> Value: ...
def binary_cross_entropy_with_logits(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
    pos_weight: ArrayLike | None = None,
) -> Value:
    """-w (p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), stable for any logit x;
    pos_weight p broadcasts along the last (class) dimension."""
    v = _lane_value(_bce_logits_lane(input, target, weight, pos_weight), reduction, size_average,
                    reduce)
    if v is not None:
        return v
    return _bce_logits_call(input, target, weight, size_average, reduce, reduction,
                            pos_weight).value()


@overload
def soft_margin_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None,
    reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def soft_margin_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None, *,
    reduction: Literal["none"],
) -> Array: ...
@overload
def soft_margin_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Value: ...
def soft_margin_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Value:
    """log(1 + exp(-y x)) for labels y = +-1."""
    v = _lane_value(_soft_margin_lane(input, target), reduction, size_average, reduce)
    if v is not None:
        return v
    return _soft_margin_call(input, target, size_average, reduce, reduction).value()


@overload
def multilabel_soft_margin_loss(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, reduce: None = None, reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def multilabel_soft_margin_loss(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: None = None, reduce: None = None, *, reduction: Literal["none"],
) -> Array: ...
@overload
def multilabel_soft_margin_loss(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Value: ...
def multilabel_soft_margin_loss(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Value:
    """Binary cross-entropy of logits per class, weighted per class, averaged over classes."""
    return _multilabel_soft_margin_call(input, target, weight, size_average, reduce,
                                        reduction).value()


@overload
def hinge_embedding_loss(
    input: ArrayLike, target: ArrayLike, margin: float = 1.0, size_average: None = None,
    reduce: None = None, reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def hinge_embedding_loss(
    input: ArrayLike, target: ArrayLike, margin: float = 1.0, size_average: None = None,
    reduce: None = None, *, reduction: Literal["none"],
) -> Array: ...
@overload
def hinge_embedding_loss(
    input: ArrayLike, target: ArrayLike, margin: float = 1.0, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Value: ...
def hinge_embedding_loss(
    input: ArrayLike, target: ArrayLike, margin: float = 1.0, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Value:
    """x where y = 1, max(0, margin - x) where y = -1 (labels of other values get both)."""
    v = _lane_value(_hinge_embedding_lane(input, target, margin), reduction, size_average, reduce)
    if v is not None:
        return v
    return _hinge_embedding_call(input, target, margin, size_average, reduce, reduction).value()


# --------------------------------------------------------------------------- distributions


def _poisson_nll_call(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                      reduce=None, reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise("poisson_nll_loss", input, target, r, None,
                          (_api.real(eps, "eps"), _api.flag(full, "full"),
                           _api.flag(log_input, "log_input")), target_rule="broadcast")


def _kl_div_call(input, target, size_average=None, reduce=None, reduction="mean",
                 log_target=False):
    r = _api.reduction_code(reduction, size_average, reduce,
                            allowed=("none", "mean", "sum", "batchmean"))
    if r == _api.MEAN:
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            UserWarning,
            stacklevel=_api.user_stacklevel(),
        )
    return _api.pointwise("kl_div", input, target, r, None, (_api.flag(log_target, "log_target"),),
                          target_rule="broadcast")


@overload
def poisson_nll_loss(
    input: ArrayLike, target: ArrayLike, log_input: bool = True, full: bool = False,
    size_average: None = None, eps: float = 1e-08, reduce: None = None,
    reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def poisson_nll_loss(
    input: ArrayLike, target: ArrayLike, log_input: bool = True, full: bool = False,
    size_average: None = None, eps: float = 1e-08, reduce: None = None, *,
    reduction: Literal["none"],
) -> Array: ...
@overload
def poisson_nll_loss(
    input: ArrayLike, target: ArrayLike, log_input: bool = True, full: bool = False,
    size_average: bool | None = None, eps: float = 1e-08, reduce: bool | None = None,
    reduction: str = "mean",
) -> Value: ...
def poisson_nll_loss(
    input: ArrayLike, target: ArrayLike, log_input: bool = True, full: bool = False,
    size_average: bool | None = None, eps: float = 1e-08, reduce: bool | None = None,
    reduction: str = "mean",
) -> Value:
    """exp(x) - y x (log_input) or x - y log(x + eps); full adds Stirling's term where y > 1."""
    v = _lane_value(_poisson_nll_lane(input, target, log_input, full, eps), reduction,
                    size_average, reduce)
    if v is not None:
        return v
    return _poisson_nll_call(input, target, log_input, full, size_average, eps, reduce,
                             reduction).value()


@overload
def kl_div(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None,
    reduction: Literal["mean", "sum", "batchmean"] = "mean", log_target: bool = False,
) -> Scalar: ...
@overload
def kl_div(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None, *,
    reduction: Literal["none"], log_target: bool = False,
) -> Array: ...
@overload
def kl_div(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", log_target: bool = False,
) -> Value: ...
def kl_div(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean", log_target: bool = False,
) -> Value:
    """y (log y - x) for log-probabilities x (y log-probabilities too with log_target);
    'batchmean' divides the sum by the batch size."""
    if reduction != "mean":
        v = _lane_value(_kl_div_lane(input, target, log_target), reduction, size_average, reduce)
        if v is not None:
            return v
    return _kl_div_call(input, target, size_average, reduce, reduction, log_target).value()


def _gaussian_nll_call(input, target, var, full=False, eps=1e-6, reduction="mean"):
    x, y = _api.as_array(input, "input"), _api.as_array(target, "target")
    scalar_var = isinstance(var, (float, int)) and not isinstance(var, bool)
    if scalar_var:
        if var < 0:
            raise ValueError("var has negative entry/entries")
        v = np.asarray(_api.real(var, "var"), _api.float_dtype(input=x, target=y))  # a float takes the arrays dtype
    else:
        v = _api.as_array(var, "var")
        if v.dtype.kind not in "biuf":
            raise DTypeError(f"var must be a float array or a float, got dtype {v.dtype}")
        if np.any(v < 0):
            raise ValueError("var has negative entry/entries")
    var_shape = v.shape
    if not scalar_var and v.shape != x.shape:
        if x.shape[:-1] == v.shape:  # homoscedastic: one variance per row
            v = v[..., None]
        elif not (x.ndim == v.ndim
                  and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1):
            raise ValueError("var is of incorrect size")
    r = _api.reduction_code(reduction, invalid="{} is not valid")
    call = _api.pointwise("gaussian_nll_loss", x, y, r, None,
                          (_api.real(eps, "eps"), _api.flag(full, "full")), aux=v, aux_name="var",
                          target_rule="broadcast")
    if not scalar_var:
        dtype = v.dtype if v.dtype in (np.float32, np.float64) else call.dtype
        call.grads += (_api.GradSpec(call.out_shape, var_shape, np.dtype(dtype), v.shape,
                                     name="var"),)
    return call


@overload
def gaussian_nll_loss(
    input: ArrayLike, target: ArrayLike, var: ArrayLike, full: bool = False, eps: float = 1e-06,
    reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def gaussian_nll_loss(
    input: ArrayLike, target: ArrayLike, var: ArrayLike, full: bool = False, eps: float = 1e-06, *,
    reduction: Literal["none"],
) -> Array: ...
@overload
def gaussian_nll_loss(
    input: ArrayLike, target: ArrayLike, var: ArrayLike, full: bool = False, eps: float = 1e-06,
    reduction: str = "mean",
) -> Value: ...
def gaussian_nll_loss(
    input: ArrayLike, target: ArrayLike, var: ArrayLike, full: bool = False, eps: float = 1e-06,
    reduction: str = "mean",
) -> Value:
    """0.5 (log v + (x - y)^2 / v) with v = max(var, eps) (+ 0.5 log(2 pi) when full);
    var has the input's shape, one dimension of size 1 or one dimension fewer, or is a float."""
    return _gaussian_nll_call(input, target, var, full, eps, reduction).value()


# --------------------------------------------------------------------------- margins and embeddings


def _margin_ranking_call(input1, input2, target, margin=0, size_average=None, reduce=None,
                         reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    x1, x2 = _api.as_array(input1, "input1"), _api.as_array(input2, "input2")
    y = _api.as_array(target, "target")
    if not x1.ndim == x2.ndim == y.ndim:
        raise ShapeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {_api.torch_size(x1.shape)}, input2: {_api.torch_size(x2.shape)}, "
            f"target: {_api.torch_size(y.shape)} "
        )
    shape = _api.broadcast_shape(x1.shape, x2.shape, y.shape)
    dtype = _api.float_dtype(input1=x1, input2=x2, target=y)
    n = math.prod(shape)
    return _api.rowwise("margin_ranking_loss", dtype, r, n, 1, shape, shape, (x1, x2),
                        y=y, params=(_api.real(margin, "margin"),), names=("input1", "input2"),
                        target_grad=(y, False))


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
    dtype = _api.float_dtype(input1=x1, input2=x2)
    # only 1 and -1 count, exactly: the kernel gives any other label 0, so only a label
    # that its conversion to the loss's dtype could round to +-1 (float64 for float32) is
    # mapped first (an integer near 1 converts exactly)
    exact = t.dtype == dtype or t.dtype.kind in "biu"
    labels = t if exact else np.where(t == 1, 1, np.where(t == -1, -1, 0))
    n = math.prod(rows)
    # torch's graph takes float labels but does not differentiate them: 0
    return _api.rowwise("cosine_embedding_loss", dtype, r, n, d, rows + (d,), rows, (x1, x2),
                        y=labels, params=(_api.real(margin, "margin"),),
                        names=("input1", "input2"), target_grad=(t, True))


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
    p, margin = _api.real(p, "p"), _api.real(margin, "margin")
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
    dtype = _api.float_dtype(input=x, weight=w)
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
    return _api.rowwise("multilabel_margin_loss", _api.float_dtype(input=x), r, n, c, x.shape,
                        out_shape, (x,), target=t, index_low=-1)


def _check_triplet(anchor, positive, negative, margin):
    """torch's triplet checks (margin first, then dimensions); returns the arrays."""
    if not _api.real(margin, "margin") > 0:
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
    margin, p, eps = _api.real(margin, "margin"), _api.real(p, "p"), _api.real(eps, "eps")
    if not p > 0:
        raise ParameterError(f"triplet_margin_loss: p must be positive (a p-norm), got {p}")
    shape = _api.broadcast_shape(*(x.shape for x in arrays))
    if len({x.shape[-1:] for x in arrays}) > 1:
        # torch broadcasts each pair on its own: with a feature axis of 1 against
        # one of D, d(a, n) sums 1 term where the kernel's common shape would sum D
        distance, grad = _pairwise_distance(p, eps)
        return _api.distance_triplet(*arrays, distance, grad, margin, _api.flag(swap, "swap"), r)
    rows, d = shape[:-1], (shape[-1] if shape else 1)
    n = math.prod(rows)
    dtype = _api.float_dtype(**dict(zip(("anchor", "positive", "negative"), arrays)))
    return _api.rowwise("triplet_margin_loss", dtype, r, n, d, shape, rows,
                        arrays, params=(margin, p, eps, _api.flag(swap, "swap")),
                        names=_api.TRIPLET_NAMES)


def _pairwise_distance(p, eps):
    """torch's pairwise_distance ||x1 - x2 + eps||_p over the last axis (0 over an
    empty one), in float64, and its vector-Jacobian product: for a finite p,
    sign(u) (|u| / d)^(p - 1); for p = inf, sign(u) shared by the entries that
    reach the max; 0 where d = 0."""
    def norm(u):
        a = np.abs(u)
        if a.shape[-1] == 0:
            if p == np.inf:  # torch's words: a max over nothing has no identity
                raise ShapeError("linalg.vector_norm cannot compute the inf norm on an empty "
                                 "dimension")
            return np.zeros(a.shape[:-1])
        return a.max(-1) if p == np.inf else (a ** p).sum(-1) ** (1 / p)

    def distance(x1, x2):
        return norm(np.asarray(x1, np.float64) - x2 + eps)

    def grad(x1, x2, g):
        u = np.asarray(x1, np.float64) - x2 + eps
        a, d = np.abs(u), norm(u)[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == np.inf:
                hit = a == d
                coef = np.sign(u) * hit / np.maximum(hit.sum(-1, keepdims=True), 1)
            else:
                coef = np.sign(u) * (a / d) ** (p - 1)
        gu = np.asarray(g, np.float64)[..., None] * np.where(d > 0, coef, 0.0)
        return gu, -gu

    return distance, grad


def _triplet_with_distance_call(anchor, positive, negative, *, distance_function=None,
                                margin=1.0, swap=False, reduction="mean", distance_grad=None):
    r = _api.reduction_code(reduction)
    arrays = _check_triplet(anchor, positive, negative, margin)
    if distance_function is None:
        if distance_grad is not None:
            raise ValueError("distance_grad goes with a distance_function")
        return _triplet_call(*arrays, margin=margin, swap=swap, reduction=reduction)
    return _api.distance_triplet(*arrays, distance_function, distance_grad,
                                 _api.real(margin, "margin"), _api.flag(swap, "swap"), r)


@overload
def margin_ranking_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0,
    size_average: None = None, reduce: None = None, reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def margin_ranking_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0,
    size_average: None = None, reduce: None = None, *, reduction: Literal["none"],
) -> Array: ...
@overload
def margin_ranking_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Value: ...
def margin_ranking_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Value:
    """max(0, -target (input1 - input2) + margin), element-wise on the broadcast shape
    (the three arrays need the same number of dimensions, as in torch)."""
    return _margin_ranking_call(input1, input2, target, margin, size_average, reduce,
                                reduction).value()


@overload
def cosine_embedding_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0,
    size_average: None = None, reduce: None = None, reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def cosine_embedding_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0,
    size_average: None = None, reduce: None = None, *, reduction: Literal["none"],
) -> Array: ...
@overload
def cosine_embedding_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Value: ...
def cosine_embedding_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0,
    size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
) -> Value:
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1,
    0 for other targets; rows (N, D) with target (N,), or (D,) with a scalar target.
    The squared norms get torch's 1e-12; input1 and input2 must have the same number of
    features (torch's broadcast of a feature dimension of 1 is refused)."""
    return _cosine_embedding_call(input1, input2, target, margin, size_average, reduce,
                                  reduction).value()


@overload
def multi_margin_loss(
    input: ArrayLike, target: ArrayLike, p: float = 1, margin: float = 1.0,
    weight: ArrayLike | None = None, size_average: None = None, reduce: None = None,
    reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def multi_margin_loss(
    input: ArrayLike, target: ArrayLike, p: float = 1, margin: float = 1.0,
    weight: ArrayLike | None = None, size_average: None = None, reduce: None = None, *,
    reduction: Literal["none"],
) -> Array: ...
@overload
def multi_margin_loss(
    input: ArrayLike, target: ArrayLike, p: float = 1, margin: float = 1.0,
    weight: ArrayLike | None = None, size_average: bool | None = None, reduce: bool | None = None,
    reduction: str = "mean",
) -> Value: ...
def multi_margin_loss(
    input: ArrayLike, target: ArrayLike, p: float = 1, margin: float = 1.0,
    weight: ArrayLike | None = None, size_average: bool | None = None, reduce: bool | None = None,
    reduction: str = "mean",
) -> Value:
    """weight[y] / C sum_{j != y} max(0, margin - x[y] + x[j])^p per row of (N, C) or (C,)
    input, class indices y of any integer dtype; p is 1 or 2. An index outside [0, C)
    raises IndexError naming it."""
    p, margin = _api.real(p, "p"), _api.real(margin, "margin")  # the lane takes C doubles
    if size_average is None and reduce is None and (p == 1 or p == 2):
        v = _api.lane_multi_margin(input, target, weight, p, margin, reduction)
        if v is not None:
            return v
    return _multi_margin_call(input, target, p, margin, weight, size_average, reduce,
                              reduction).value()


@overload
def multilabel_margin_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None,
    reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def multilabel_margin_loss(
    input: ArrayLike, target: ArrayLike, size_average: None = None, reduce: None = None, *,
    reduction: Literal["none"],
) -> Array: ...
@overload
def multilabel_margin_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Value: ...
def multilabel_margin_loss(
    input: ArrayLike, target: ArrayLike, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Value:
    """1/C sum over targets t and non-targets j of max(0, 1 - x[t] + x[j]) per row; each
    target row (the input's shape, integer) lists class indices up to its first -1 (a
    repeated index counts twice). An index outside [-1, C) raises IndexError naming it."""
    if size_average is None and reduce is None:
        v = _api.lane_multilabel_margin(input, target, None, 0, 0, reduction)
        if v is not None:
            return v
    return _multilabel_margin_call(input, target, size_average, reduce, reduction).value()


@overload
def triplet_margin_loss(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, margin: float = 1.0, p: float = 2,
    eps: float = 1e-06, swap: bool = False, size_average: None = None, reduce: None = None,
    reduction: Reduced = "mean",
) -> Scalar: ...
@overload
def triplet_margin_loss(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, margin: float = 1.0, p: float = 2,
    eps: float = 1e-06, swap: bool = False, size_average: None = None, reduce: None = None, *,
    reduction: Literal["none"],
) -> Array: ...
@overload
def triplet_margin_loss(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, margin: float = 1.0, p: float = 2,
    eps: float = 1e-06, swap: bool = False, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Value: ...
def triplet_margin_loss(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, margin: float = 1.0, p: float = 2,
    eps: float = 1e-06, swap: bool = False, size_average: bool | None = None,
    reduce: bool | None = None, reduction: str = "mean",
) -> Value:
    """max(0, margin + d(a, p) - d(a, n)) with d(x, y) = ||x - y + eps||_p over the last
    dimension (torch's pairwise_distance), any p > 0 including inf; swap uses
    min(d(a, n), d(p, n))."""
    return _triplet_call(anchor, positive, negative, margin, p, eps, swap, size_average, reduce,
                         reduction).value()


@overload
def triplet_margin_with_distance_loss(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *,
    distance_function: Callable[[Array, Array], ArrayLike] | None = None, margin: float = 1.0,
    swap: bool = False, reduction: Reduced = "mean",
    distance_grad: Callable[[Array, Array, Array], tuple[ArrayLike, ArrayLike]] | None = None,
) -> Scalar: ...
@overload
def triplet_margin_with_distance_loss(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *,
    distance_function: Callable[[Array, Array], ArrayLike] | None = None, margin: float = 1.0,
    swap: bool = False, reduction: Literal["none"],
    distance_grad: Callable[[Array, Array, Array], tuple[ArrayLike, ArrayLike]] | None = None,
) -> Array: ...
@overload
def triplet_margin_with_distance_loss(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *,
    distance_function: Callable[[Array, Array], ArrayLike] | None = None, margin: float = 1.0,
    swap: bool = False, reduction: str = "mean",
    distance_grad: Callable[[Array, Array, Array], tuple[ArrayLike, ArrayLike]] | None = None,
) -> Value: ...
def triplet_margin_with_distance_loss(
    anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, *,
    distance_function: Callable[[Array, Array], ArrayLike] | None = None, margin: float = 1.0,
    swap: bool = False, reduction: str = "mean",
    distance_grad: Callable[[Array, Array, Array], tuple[ArrayLike, ArrayLike]] | None = None,
) -> Value:
    """triplet_margin_loss with any distance: distance_function(x1, x2) on NumPy arrays
    (None: pairwise_distance, computed natively). For gradients with a distance_function,
    pass distance_grad(x1, x2, grad) -> (grad_x1, grad_x2), its vector-Jacobian product
    (see closs._api.DistanceTripletCall); closs has no autograd."""
    return _triplet_with_distance_call(
        anchor, positive, negative, distance_function=distance_function, margin=margin,
        swap=swap, reduction=reduction, distance_grad=distance_grad,
    ).value()


def _lengths(x, name, n, batched):
    """input_lengths / target_lengths: integers (an array, list or tuple of any
    integer dtype; a scalar or one value when unbatched) as a 1-D array of n."""
    a = _api.as_array(x, name)
    if a.dtype.kind not in "iu":
        raise DTypeError(f"{name} must hold integers, got dtype {a.dtype}")
    if (a.ndim != 1 or a.size != n) if batched else a.size != 1:
        raise ShapeError(f"{name} must be of size batch_size")
    return a.reshape(-1)


def _ctc_length_error(t, il, tl, targets, concatenated):
    """torch's exception for lengths the C core refused (CLOSS_ERR_INVALID_SIZE),
    checked in torch's order only then, so a good call pays for no extra pass."""
    for name, values, high in (("input_lengths", il, t), ("target_lengths", tl, None)):
        if values.size and values.min() < 0:
            return ShapeError(f"Expected {name} to have value at least 0, but got value "
                              f"{values.min()}")
        if high is not None and values.size and values.max() > high:
            return ShapeError(f"Expected {name} to have value at most {high}, but got value "
                              f"{values.max()}")
    if concatenated and tl.sum() != targets.size:
        return ShapeError(f"Expected tensor to have size {tl.sum()} at dimension 0, but got "
                          f"size {targets.size} for argument #2 'targets'")
    if not concatenated and tl.max() > targets.shape[-1]:
        return ShapeError(f"Expected tensor to have size at least {tl.max()} at dimension "
                          f"{targets.ndim - 1}, but got size {targets.shape[-1]} for argument "
                          "#2 'targets'")
    return None


def _ctc_call(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
              zero_infinity=False):
    r = _api.reduction_code(reduction)
    blank = _api.integer(blank, "blank")
    lp, tg = _api.as_array(log_probs, "log_probs"), _api.as_array(targets, "targets")
    if lp.ndim not in (2, 3):
        raise ShapeError(f"log_probs must be (T, N, C) or unbatched (T, C), got shape "
                         f"{_api.shape_list(lp.shape)}")
    if tg.dtype.kind not in "iu":
        raise DTypeError(f"targets must hold integer class indices, got dtype {tg.dtype}")
    dtype = _api.float_dtype(log_probs=lp)
    batched = lp.ndim == 3
    t, n, c = lp.shape if batched else (lp.shape[0], 1, lp.shape[1])
    if lp.size == 0:
        raise ShapeError("log_probs tensor must not be empty")
    il = _lengths(input_lengths, "input_lengths", n, batched)
    tl = _lengths(target_lengths, "target_lengths", n, batched)
    if not 0 <= blank < c:
        raise ParameterError("blank must be in label range")
    concatenated = batched and tg.ndim == 1
    if not concatenated and (tg.ndim != (2 if batched else 1) or (batched and tg.shape[0] != n)):
        raise ShapeError(f"targets must be (N, S) padded or 1-D concatenated for log_probs "
                         f"of shape {_api.shape_list(lp.shape)}, got shape "
                         f"{_api.shape_list(tg.shape)}")
    s = tg.size if concatenated else tg.shape[-1]
    return _api.ctc(dtype, r, lp, (t, n, c), tg, s, concatenated, il, tl, int(blank),
                    _api.flag(zero_infinity, "zero_infinity"), (n,) if batched else (),
                    lambda: _ctc_length_error(t, il, tl, tg, concatenated))


@overload
def ctc_loss(
    log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike, target_lengths: ArrayLike,
    blank: int = 0, reduction: Reduced = "mean", zero_infinity: bool = False,
) -> Scalar: ...
@overload
def ctc_loss(
    log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike, target_lengths: ArrayLike,
    blank: int = 0, *, reduction: Literal["none"], zero_infinity: bool = False,
) -> Array: ...
@overload
def ctc_loss(
    log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike, target_lengths: ArrayLike,
    blank: int = 0, reduction: str = "mean", zero_infinity: bool = False,
) -> Value: ...
def ctc_loss(
    log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike, target_lengths: ArrayLike,
    blank: int = 0, reduction: str = "mean", zero_infinity: bool = False,
) -> Value:
    """The connectionist temporal classification loss (Graves et al., 2006), as
    torch.nn.functional.ctc_loss on the CPU.

    log_probs: (T, N, C) log-probabilities (log_softmax over C), or unbatched
    (T, C); targets: padded (N, S) or concatenated 1-D (the target_lengths add
    up to its size), any integer dtype, unbatched (S,); input_lengths and
    target_lengths: N integers each (arrays, lists or tuples; scalars when
    unbatched). A sample whose target cannot be aligned in its input length
    has loss inf (0 with zero_infinity). 'mean' divides each loss by its target
    length (at least 1), then averages over the batch.

    The gradient (closs.nn.CTCLoss.backward) is torch's: per frame t below the
    sample's input length and class k,
        (exp(log_probs[t, k]) - sum over the positions s of the extended target
         that are k of alpha_t(s) beta_t(s) / (p exp(log_probs[t, k]))) * grad_output,
    and 0 for frames past the input length. That is not d loss / d log_probs: it
    is the gradient with respect to the logits z of log_probs = log_softmax(z)
    (the true derivative plus exp(log_probs) times its frame's sum, which
    log_softmax's Jacobian removes again), so chaining it through log_softmax
    gives the true gradient with respect to z unchanged. Samples with an infinite
    loss get NaN gradients, or 0 with zero_infinity, as in torch. A blank among
    the targets is computed as torch computes it; where a target ends with the
    blank, torch's (and closs's) gradient at the last frame keeps only one of the
    two final positions' terms, so it is not the logits' gradient there.

    closs is stricter than torch: a used target label outside [0, C) raises
    IndexError ("Target 7 is out of bounds."), and float targets or lengths raise
    TypeError. Alpha and beta are computed in the input's precision, as torch's
    CPU kernel does; batch sums accumulate in double.
    """
    v = _api.lane_ctc(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                      zero_infinity)
    if v is not None:
        return v
    return _ctc_call(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                     zero_infinity).value()


# ----------------------------------------------------------------- linear_cross_entropy


def _linear_cross_entropy_call(input, linear_weight, target, *, linear_bias=None, weight=None,
                               reduction="mean", ignore_index=None, label_smoothing=0.0,
                               options=None, _param_shapes=None):
    """torch's rules for linear_cross_entropy, then the prepared call. _param_shapes:
    the shapes the gradients of linear_weight and linear_bias come back in (the
    Module's flat Linear parameters), when not theirs."""
    x, lw, t = (_api.as_array(a, name) for a, name in
                ((input, "input"), (linear_weight, "linear_weight"), (target, "target")))
    lb = None if linear_bias is None else _api.as_array(linear_bias, "linear_bias")
    w = None if weight is None else _api.as_array(weight, "weight")
    r = _api.reduction_code(reduction)
    if options is not None and not hasattr(options, "batch_chunk_size"):
        raise TypeError(f"options must be a LinearCrossEntropyOptions or None, got {options!r}")
    if not 1 <= x.ndim <= 2:
        raise ShapeError(f"expected input with dimensionality 1 or 2, got {x.ndim}")
    if lw.ndim < 2:
        raise ShapeError(
            f"expected linear_weight with dimensionality at least 2, got {lw.ndim}")
    if x.shape[-1] != lw.shape[-1]:
        raise ShapeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {x.shape[-1]} and {lw.shape[-1]}, respectively")
    num_classes, out_features = lw.shape[0], lw.shape[1:-1]
    if lb is not None and lb.shape != (num_classes, *out_features):
        raise ShapeError(
            f"expected linear_bias shape {(num_classes, *out_features)}, got {lb.shape}")
    if out_features and x.ndim == 1:
        raise ShapeError(
            f"K-dimensional loss defined by linear_weight shape {lw.shape} requires batched "
            f"input, (N, {x.shape[-1]}), got unbatched input with shape {x.shape}")
    logits_shape = (*x.shape[:-1], num_classes, *out_features)
    if t.shape == logits_shape and ignore_index is not None:
        raise ParameterError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    # torch's cross_entropy rules on the logits' shape, never allocated: a broadcast scalar
    logits = np.broadcast_to(np.zeros((), _api.float_dtype(input=x, linear_weight=lw)), logits_shape)
    name, out_shape, ignore_index, label_smoothing = _classification_rules(
        "cross_entropy", logits, t, w, ignore_index, label_smoothing)
    call = _api.linear(name, x, lw, lb, t, w, r, out_shape, ignore_index, label_smoothing)
    if _param_shapes is not None:
        call.grads = call.grads[:1] + tuple(
            _api.GradSpec(shape, shape, spec.dtype, name=spec.name)
            for shape, spec in zip(_param_shapes, call.grads[1:]))
    return call


@overload
def linear_cross_entropy(
    input: ArrayLike, linear_weight: ArrayLike, target: ArrayLike, *,
    linear_bias: ArrayLike | None = None, weight: ArrayLike | None = None,
    reduction: Reduced = "mean", ignore_index: int | None = None, label_smoothing: float = 0.0,
    options: object = None,
) -> Scalar: ...
@overload
def linear_cross_entropy(
    input: ArrayLike, linear_weight: ArrayLike, target: ArrayLike, *,
    linear_bias: ArrayLike | None = None, weight: ArrayLike | None = None,
    reduction: Literal["none"], ignore_index: int | None = None, label_smoothing: float = 0.0,
    options: object = None,
) -> Array: ...
@overload
def linear_cross_entropy(
    input: ArrayLike, linear_weight: ArrayLike, target: ArrayLike, *,
    linear_bias: ArrayLike | None = None, weight: ArrayLike | None = None,
    reduction: str = "mean", ignore_index: int | None = None, label_smoothing: float = 0.0,
    options: object = None,
) -> Value: ...
def linear_cross_entropy(
    input: ArrayLike, linear_weight: ArrayLike, target: ArrayLike, *,
    linear_bias: ArrayLike | None = None, weight: ArrayLike | None = None,
    reduction: str = "mean", ignore_index: int | None = None, label_smoothing: float = 0.0,
    options: object = None,
) -> Value:
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...) without the logits.

    input (in_features,) or (N, in_features); linear_weight (C, in_features) or
    (C, d1, ..., dK, in_features) for K-dimensional logits (N, C, d1, ..., dK);
    linear_bias (C, d1, ..., dK) or None; target and the options as cross_entropy's
    on those logits, except that ignore_index=None means -100 for class indices (and
    must stay None for probabilities). The logits are computed and consumed a block
    of rows at a time in C (BLAS GEMMs, closs's cross_entropy kernels), so they never
    exist whole. `options` (torch's LinearCrossEntropyOptions, or closs.nn's) is
    accepted and checked; closs always takes its blocked path, whose blocks depend on
    the number of classes alone, so its results are the same for any
    batch_chunk_size (options: object, as any LinearCrossEntropyOptions-like object
    with a batch_chunk_size is taken, torch's included).
    """
    return _linear_cross_entropy_call(
        input, linear_weight, target, linear_bias=linear_bias, weight=weight,
        reduction=reduction, ignore_index=ignore_index, label_smoothing=label_smoothing,
        options=options).value()


# Each loss's preparer (its function's signature; returns the prepared LossCall),
# which closs.stream and closs.dask call on the parts of a batch; also __all__.
PREPARERS = {
    "l1_loss": _l1_call,
    "mse_loss": _mse_call,
    "smooth_l1_loss": _smooth_l1_call,
    "huber_loss": _huber_call,
    "binary_cross_entropy": _bce_call,
    "binary_cross_entropy_with_logits": _bce_logits_call,
    "soft_margin_loss": _soft_margin_call,
    "multilabel_soft_margin_loss": _multilabel_soft_margin_call,
    "hinge_embedding_loss": _hinge_embedding_call,
    "poisson_nll_loss": _poisson_nll_call,
    "kl_div": _kl_div_call,
    "gaussian_nll_loss": _gaussian_nll_call,
    "margin_ranking_loss": _margin_ranking_call,
    "cosine_embedding_loss": _cosine_embedding_call,
    "multi_margin_loss": _multi_margin_call,
    "multilabel_margin_loss": _multilabel_margin_call,
    "triplet_margin_loss": _triplet_call,
    "triplet_margin_with_distance_loss": _triplet_with_distance_call,
    "ctc_loss": _ctc_call,
    "nll_loss": _nll_call,
    "cross_entropy": _cross_entropy_call,
    "linear_cross_entropy": _linear_cross_entropy_call,
}
__all__ = list(PREPARERS)
