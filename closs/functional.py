"""closs.functional - torch.nn.functional's losses on NumPy arrays (PyTorch 2.13 signatures).

Each function returns the loss value: a NumPy scalar of the result dtype for
'mean'/'sum', an ndarray for 'none'. Gradients come from ``closs.nn`` Modules or
from the ``*_call`` preparers in ``closs._api``.
"""

from closs import _api, _core
from closs._errors import ParameterError

L1, MSE, SMOOTH_L1, HUBER = (int(kind) for kind in _core.Regression)
NLL, CROSS_ENTROPY, _ = (int(kind) for kind in _core.Classification)

__all__ = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy"]


def _l1_call(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise(L1, input, target, r, weight, weighted_mean_by_sum=True)


def _mse_call(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.pointwise(MSE, input, target, r, weight, weighted_mean_by_sum=True)


def _smooth_l1_call(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    r = _api.reduction_code(reduction, size_average, reduce)
    if beta < 0:
        raise ParameterError("smooth_l1_loss does not support negative values for beta.")
    return _api.pointwise(SMOOTH_L1, input, target, r, None, float(beta))


def _huber_call(input, target, reduction="mean", delta=1.0, weight=None):
    r = _api.reduction_code(reduction)
    if not delta > 0:
        raise ParameterError("huber_loss does not support non-positive values for delta.")
    return _api.pointwise(HUBER, input, target, r, weight, float(delta))


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


def _nll_call(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
              reduction="mean"):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.classification(NLL, input, target, r, weight, ignore_index)


def _cross_entropy_call(input, target, weight=None, size_average=None, ignore_index=-100,
                        reduce=None, reduction="mean", label_smoothing=0.0):
    r = _api.reduction_code(reduction, size_average, reduce)
    return _api.classification(CROSS_ENTROPY, input, target, r, weight, ignore_index,
                               label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood -weight[t] * input[t] of log-probabilities input.

    input: (C,), (N, C) or (N, C, d1, ..., dK); target: class indices of any integer
    dtype, shape (), (N,) or (N, d1, ..., dK). Targets equal to ignore_index count
    nothing; 'mean' divides by the summed weight of the other targets (NaN if none).
    """
    return _nll_call(input, target, weight, size_average, ignore_index, reduce,
                     reduction).value()


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross entropy of log_softmax(input) over the class dimension (1, or 0 for (C,)).

    target: class indices (any integer dtype, shape of input without the class
    dimension) or class probabilities (a float array of the input's shape).
    label_smoothing in [0, 1] mixes the target with the uniform distribution. With
    indices, 'mean' divides by the summed weight of the targets that are not
    ignore_index; with probabilities, by the number of positions (N * d1 ... dK).
    """
    return _cross_entropy_call(input, target, weight, size_average, ignore_index, reduce,
                               reduction, label_smoothing).value()
