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
    grad_args: tuple = (0,)  # positions of the differentiable arguments, the gradients' order
    weight_shape: object = None  # args' shape -> the shape of weight=True (None: args' shape)
    bench_shape: object = None  # element count -> make_args shape (None: a flat vector)

    def shape_for(self, size):
        """The argument shape of this loss at about `size` elements (benchmarks)."""
        return (size,) if self.bench_shape is None else self.bench_shape(size)


def _pair(rng, shape, dtype):
    return (rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype))


def _weighted(*grid):
    return tuple(grid) + tuple(dict(g, weight=True) for g in grid)


def _ranking(rng, shape, dtype):
    x1, x2 = _pair(rng, shape, dtype)
    return x1, x2, rng.choice(np.array([-1.0, 1.0], dtype), shape)


def _cosine(rng, shape, dtype):
    """Rows (N, D) and labels +-1 (a flat shape is one row)."""
    x1, x2 = _pair(rng, shape, dtype)
    return x1, x2, rng.choice(np.array([-1.0, 1.0], dtype), shape[:-1])


def _classes(rng, shape, dtype):
    """Scores (N, C) and a class index per row."""
    return rng.standard_normal(shape).astype(dtype), rng.integers(0, shape[-1], shape[:-1])


def _labels(rng, shape, dtype):
    """Scores (N, C) and up to 4 class indices per row, ended by -1 (then any of [-1, C))."""
    c = shape[-1]
    t = rng.integers(0, c, shape)
    k = rng.integers(0, min(c, 4) + 1, shape[:-1])
    after = np.arange(c) >= np.expand_dims(k, -1)
    t[after] = rng.integers(-1, c, int(after.sum()))
    t[np.arange(c) == np.expand_dims(k, -1)] = -1
    return rng.standard_normal(shape).astype(dtype), t


def _triplet(rng, shape, dtype):
    return tuple(rng.standard_normal(shape).astype(dtype) for _ in range(3))


def _rows(d):
    """Benchmark shape: rows of (up to) d elements."""
    return lambda size: (max(1, size // d), min(d, size))


def _sq_distance(x1, x2):
    """A Python distance_function for the registry: squared Euclidean distance."""
    return ((x1 - x2) ** 2).sum(-1)


def _sq_distance_grad(x1, x2, grad):
    """Its vector-Jacobian product: (grad 2 (x1 - x2), -grad 2 (x1 - x2))."""
    g = 2 * np.expand_dims(grad, -1) * (x1 - x2)
    return g, -g


def _numpy_cosine(x1, x2, y):
    cos = (x1 * x2).sum(-1) / np.sqrt((x1 * x1).sum(-1) * (x2 * x2).sum(-1))
    return np.where(y == 1, 1 - cos, np.maximum(cos, 0)).mean()


def _numpy_multi_margin(x, t):
    rows = np.arange(x.shape[0])
    z = np.maximum(0, 1 - x[rows, t][:, None] + x)
    z[rows, t] = 0
    return z.mean()


def _numpy_multilabel_margin(x, t):
    n, c = x.shape
    rows = np.arange(n)
    listed = np.cumprod(t >= 0, axis=1).astype(bool)
    is_target = np.zeros((n, c + 1), bool)
    is_target[rows[:, None], np.where(listed, t, c)] = True
    total = 0.0
    for slot in range(c):
        if not listed[:, slot].any():
            break
        z = np.maximum(0, 1 - x[rows, t[:, slot]][:, None] + x)
        total += (z * (~is_target[:, :c] & listed[:, slot, None])).sum()
    return total / x.size


def _numpy_triplet(a, p, n):
    d = lambda x, y: np.sqrt(((x - y + 1e-6) ** 2).sum(-1))  # noqa: E731
    return np.maximum(0, 1 + d(a, p) - d(a, n)).mean()


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
        Loss(
            "margin_ranking_loss", F._margin_ranking_call, nn.MarginRankingLoss,
            R.margin_ranking_loss, _ranking, ({}, {"margin": 0.5}, {"margin": -0.3}),
            lambda x1, x2, y: np.maximum(0, -y * (x1 - x2)).mean(),
            module_options=("margin",), grad_args=(0, 1),
        ),
        Loss(
            "cosine_embedding_loss", F._cosine_embedding_call, nn.CosineEmbeddingLoss,
            R.cosine_embedding_loss, _cosine, ({}, {"margin": 0.2}, {"margin": -0.5}),
            _numpy_cosine, module_options=("margin",), grad_args=(0, 1), bench_shape=_rows(512),
        ),
        Loss(
            "multi_margin_loss", F._multi_margin_call, nn.MultiMarginLoss, R.multi_margin_loss,
            _classes, _weighted({}, {"p": 2}, {"margin": 0.4}, {"p": 2, "margin": 2.5}),
            _numpy_multi_margin, module_options=("p", "margin", "weight"),
            weight_shape=lambda shape: shape[-1:], bench_shape=_rows(100),
        ),
        Loss(
            "multilabel_margin_loss", F._multilabel_margin_call, nn.MultiLabelMarginLoss,
            R.multilabel_margin_loss, _labels, ({},), _numpy_multilabel_margin,
            bench_shape=_rows(100),
        ),
        Loss(
            "triplet_margin_loss", F._triplet_call, nn.TripletMarginLoss, R.triplet_margin_loss,
            _triplet,
            ({}, {"swap": True}, {"p": 1}, {"p": 3, "swap": True}, {"p": 0.5}, {"p": 1.5},
             {"p": float("inf")}, {"margin": 0.5, "eps": 0.0}),
            _numpy_triplet, module_options=("margin", "p", "eps", "swap"), grad_args=(0, 1, 2),
            bench_shape=_rows(512),
        ),
        Loss(
            "triplet_margin_with_distance_loss", F._triplet_with_distance_call,
            nn.TripletMarginWithDistanceLoss, R.triplet_margin_with_distance_loss, _triplet,
            ({}, {"swap": True, "margin": 2.0},
             {"distance_function": _sq_distance, "distance_grad": _sq_distance_grad},
             {"distance_function": _sq_distance, "distance_grad": _sq_distance_grad,
              "swap": True}),
            _numpy_triplet,
            module_options=("margin", "swap", "distance_function", "distance_grad"),
            grad_args=(0, 1, 2), bench_shape=_rows(512),
        ),
    ]
}


def _numpy_smooth(d, beta):
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


def materialise(loss, options, rng, shape, dtype):
    """Options with array placeholders (weight=True) replaced by arrays of the input's
    shape (or of the loss's weight_shape)."""
    out = dict(options)
    if out.get("weight") is True:
        wshape = shape if loss.weight_shape is None else loss.weight_shape(shape)
        out["weight"] = rng.uniform(0.1, 2.0, wshape).astype(dtype)
    return out
