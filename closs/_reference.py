"""Independent NumPy reference implementations of closs's losses.

Written from the formulas in PyTorch's documentation, in float64, with no code
shared with the C core: the tests and ``python -m closs`` check the compiled
kernels against these. Each reference returns ``(value, grad)``: the loss as
closs returns it and d(sum of grad_output * loss)/d input for grad_output = ones.
"""

import numpy as np


def _reduce(loss, dloss, reduction, denominator):
    """Applies a reduction to per-element losses and their derivatives."""
    if reduction == "none":
        return loss, dloss
    if reduction == "sum":
        return loss.sum(), dloss
    with np.errstate(invalid="ignore", divide="ignore"):
        return loss.sum() / denominator, dloss / denominator


def _sign(d):
    """torch's sgn: -1, 0 or 1, and 0 at NaN."""
    return np.where(d > 0, 1.0, np.where(d < 0, -1.0, 0.0))


def _pointwise(point, input, target, reduction, weight, mean_by_weight_sum):
    x = np.asarray(input, np.float64)
    y = np.asarray(target, np.float64)
    x, y = np.broadcast_arrays(x, y)
    with np.errstate(invalid="ignore", over="ignore"):
        loss, dloss = point(x - y)
        if weight is not None:
            w = np.broadcast_to(np.asarray(weight, np.float64), x.shape)
            loss, dloss = loss * w, dloss * w
    denominator = x.size
    if weight is not None and mean_by_weight_sum:
        denominator = np.asarray(weight, np.float64).sum()
    return _reduce(loss, dloss, reduction, denominator)


def l1_loss(input, target, reduction="mean", weight=None):
    return _pointwise(lambda d: (np.abs(d), _sign(d)), input, target, reduction, weight, True)


def mse_loss(input, target, reduction="mean", weight=None):
    return _pointwise(lambda d: (d * d, 2 * d), input, target, reduction, weight, True)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    if beta == 0:
        return l1_loss(input, target, reduction)

    def point(d):
        quad = np.abs(d) < beta
        loss = np.where(quad, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)
        return loss, np.clip(d / beta, -1.0, 1.0)

    return _pointwise(point, input, target, reduction, None, False)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    def point(d):
        quad = np.abs(d) < delta
        loss = np.where(quad, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))
        return loss, np.clip(d, -delta, delta)

    return _pointwise(point, input, target, reduction, weight, False)
