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


def _elementwise_weight(rng, shape, dtype):
    return rng.uniform(0.1, 2.0, shape).astype(dtype)


def _class_weight(rng, shape, dtype):
    """A weight per class: the classes are dimension 1 of (N, C, ...), 0 of (C,)."""
    return rng.uniform(0.1, 2.0, shape[1] if len(shape) > 1 else shape[0]).astype(dtype)


@dataclass(frozen=True)
class Loss:
    name: str  # closs.functional's and torch.nn.functional's name
    prepare: object  # functional preparer: (*args, **options) -> LossCall
    module: type  # closs.nn class
    reference: object  # NumPy reference: (*args, **options) -> (value, grad)
    make_args: object  # (rng, shape, dtype) -> positional arguments; shape: the input's
    grid: tuple  # option dicts (besides reduction) to test
    numpy_forward: object  # idiomatic NumPy value for 'mean', the benchmark's baseline
    module_options: tuple = ()  # option names the Module's constructor takes
    reductions: tuple = ("none", "mean", "sum")
    forward_options: tuple = field(default=())  # option names Module.forward takes
    variant: str = ""  # tells entries of one function apart (kinds of target ...)
    # makers of the array options a grid gives as True: name -> (rng, shape, dtype) -> array
    option_arrays: dict = field(default_factory=lambda: {"weight": _elementwise_weight})
    # the input shape of about n elements (benchmarks, python -m closs)
    shape_of_size: object = lambda n: (n,)

    @property
    def key(self):
        """The entry's key in LOSSES and in test ids: the name, and the variant if any."""
        return f"{self.name}-{self.variant}" if self.variant else self.name


def _pair(rng, shape, dtype):
    return (rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype))


def _class_indices(rng, shape):
    """Class indices for input of `shape`, every class as evenly as the positions allow
    (so ignore_index=0 never ignores every position)."""
    c = shape[1] if len(shape) > 1 else shape[0]
    target_shape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
    size = int(np.prod(target_shape, dtype=np.int64))
    return rng.permutation(np.arange(size) % c).reshape(target_shape)


def _logits_indices(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype), _class_indices(rng, shape)


def _log_probabilities_indices(rng, shape, dtype):
    """nll_loss's input: log-probabilities (so that its values never cancel)."""
    x = rng.standard_normal(shape)
    axis = 1 if len(shape) > 1 else 0
    x = x - np.log(np.exp(x).sum(axis=axis, keepdims=True))
    return x.astype(dtype), _class_indices(rng, shape)


def _logits_probabilities(rng, shape, dtype):
    axis = 1 if len(shape) > 1 else 0
    p = np.exp(2 * rng.standard_normal(shape))
    return rng.standard_normal(shape).astype(dtype), (p / p.sum(axis=axis, keepdims=True)).astype(dtype)


def _numpy_cross_entropy(x, t):
    z = x - x.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    if t.shape == x.shape:
        return -(t * log_p).sum(axis=1).mean()
    return -np.take_along_axis(log_p, t[:, None], axis=1).mean()


_CLASSES = dict(option_arrays={"weight": _class_weight}, shape_of_size=lambda n: (max(n // 100, 1), 100))


def _weighted(*grid):
    return tuple(grid) + tuple(dict(g, weight=True) for g in grid)


LOSSES = {
    loss.key: loss
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
            "nll_loss", F._nll_call, nn.NLLLoss, R.nll_loss, _log_probabilities_indices,
            ({}, {"weight": True}, {"ignore_index": 0}, {"weight": True, "ignore_index": 0}),
            lambda x, t: -np.take_along_axis(x, t[:, None], axis=1).mean(),
            module_options=("weight", "ignore_index"), **_CLASSES,
        ),
        Loss(
            "cross_entropy", F._cross_entropy_call, nn.CrossEntropyLoss, R.cross_entropy,
            _logits_indices,
            ({}, {"weight": True}, {"ignore_index": 0}, {"label_smoothing": 0.2},
             {"weight": True, "label_smoothing": 0.2},
             {"weight": True, "ignore_index": 0, "label_smoothing": 0.2}),
            _numpy_cross_entropy,
            module_options=("weight", "ignore_index", "label_smoothing"), **_CLASSES,
        ),
        Loss(
            "cross_entropy", F._cross_entropy_call, nn.CrossEntropyLoss, R.cross_entropy,
            _logits_probabilities,
            ({}, {"weight": True}, {"label_smoothing": 0.2},
             {"weight": True, "label_smoothing": 0.2}),
            _numpy_cross_entropy, variant="probabilities",
            module_options=("weight", "label_smoothing"), **_CLASSES,
        ),
    ]
}


def _numpy_smooth(d, beta):
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


def materialise(loss, options, rng, shape, dtype):
    """Options with array placeholders (weight=True) replaced by the loss's arrays for
    input of `shape` (loss.option_arrays)."""
    out = dict(options)
    for name, value in options.items():
        if value is True and name in loss.option_arrays:
            out[name] = loss.option_arrays[name](rng, shape, dtype)
    return out
