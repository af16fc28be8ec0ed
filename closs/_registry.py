"""The registry of closs's losses: one entry per loss drives the tests,
``python -m closs`` and the benchmarks.

An entry says how to make arguments, which options the loss takes (a grid the
parity tests walk), where its functional preparer, Module and NumPy reference
live, and how a user would write its forward pass in plain NumPy.
"""

from dataclasses import dataclass, field

import numpy as np

from closs import _reference as R
from closs import functional as F
from closs import nn


@dataclass(frozen=True)
class Loss:
    name: str  # closs.functional's and torch.nn.functional's name
    prepare: object  # functional preparer: (*args, **options) -> LossCall
    module: type  # closs.nn class
    reference: object  # NumPy reference: (*args, **options) -> (value, grad)
    make_args: object  # (rng, shape, dtype) -> positional arguments
    grid: tuple  # option dicts (besides reduction) to test
    numpy_forward: object  # idiomatic NumPy value for 'mean', the benchmark's baseline
    module_options: tuple = ()  # option names the Module's constructor takes
    reductions: tuple = ("none", "mean", "sum")
    forward_options: tuple = field(default=())  # option names Module.forward takes


def _pair(rng, shape, dtype):
    return (rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype))


def _weighted(*grid):
    return tuple(grid) + tuple(dict(g, weight=True) for g in grid)


LOSSES = {
    loss.name: loss
    for loss in [
        Loss(
            "l1_loss", F._l1_call, nn.L1Loss, R.l1_loss, _pair, _weighted({}),
            lambda x, y: np.abs(x - y).mean(), forward_options=("weight",),
        ),
        Loss(
            "mse_loss", F._mse_call, nn.MSELoss, R.mse_loss, _pair, _weighted({}),
            lambda x, y: np.square(x - y).mean(), forward_options=("weight",),
        ),
        Loss(
            "smooth_l1_loss", F._smooth_l1_call, nn.SmoothL1Loss, R.smooth_l1_loss, _pair,
            ({}, {"beta": 0.0}, {"beta": 0.5}, {"beta": 2.0}),
            lambda x, y: _numpy_smooth(x - y, 1.0).mean(), module_options=("beta",),
        ),
        Loss(
            "huber_loss", F._huber_call, nn.HuberLoss, R.huber_loss, _pair,
            _weighted({}, {"delta": 0.3}, {"delta": 2.5}),
            lambda x, y: _numpy_smooth(x - y, 1.0).mean(),
            module_options=("delta",), forward_options=("weight",),
        ),
    ]
}


def _numpy_smooth(d, beta):
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


def materialise(loss, options, rng, shape, dtype):
    """Options with array placeholders (weight=True) replaced by arrays of the input's shape."""
    out = dict(options)
    if out.get("weight") is True:
        out["weight"] = rng.uniform(0.1, 2.0, shape).astype(dtype)
    return out
