"""closs.functional - torch.nn.functional's losses on NumPy arrays (PyTorch 2.13 signatures).

Each function returns the loss value: a NumPy scalar of the result dtype for
'mean'/'sum', an ndarray for 'none'. Gradients come from ``closs.nn`` Modules or
from the ``*_call`` preparers in ``closs._api``.
"""

from closs import _api
from closs._errors import ParameterError

__all__ = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"]


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
