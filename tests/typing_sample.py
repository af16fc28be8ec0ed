"""A user's code, checked with `mypy --strict` by tests/test_typing.py (not run as a test).

reveal_type-free: each assignment states the type closs's hints must give, so
a hint that became Any or too wide fails the check (--strict: no implicit Any).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

import closs
import closs.functional as F

Array = NDArray[np.floating[Any]]

x: NDArray[np.float32] = np.zeros((8, 3), np.float32)
y = np.ones((8, 3), np.float32)
labels = np.array([0, 2, 1, 0, 1, 2, 2, 0])

# A reduced loss is a NumPy scalar, reduction='none' an array: overloads tell them apart.
mean: np.floating[Any] = F.mse_loss(x, y)
total: np.floating[Any] = F.cross_entropy(x, labels, reduction="sum", label_smoothing=0.1)
batch: np.floating[Any] = F.kl_div(x, y, reduction="batchmean")
each: Array = F.huber_loss(x, y, reduction="none", delta=0.5)
rows: Array = F.cross_entropy(x, labels, reduction="none")
as_float: float = float(F.l1_loss([1.0, 2.0], [0.0, 0.0]))  # lists are array-like
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    legacy: np.floating[Any] | Array = F.mse_loss(x, y, size_average=False)  # either
chosen: str = "mean"
either: np.floating[Any] | Array = F.mse_loss(x, y, reduction=chosen)  # not a literal: either
ctc: np.floating[Any] = F.ctc_loss(np.zeros((5, 2, 4)), [[1, 2], [3, 1]], [5, 5], [2, 2])

# Modules: the gradient's type follows the loss (one array, or a tuple in argument order).
crit = closs.nn.CrossEntropyLoss(label_smoothing=0.1)
value = crit(x, labels)
g: Array = crit.backward()
g = crit.backward(2.0, out=g)
loss, g = crit.value_and_grad(x, labels, out=g)
g1, g2 = closs.nn.MarginRankingLoss(margin=0.5).value_and_grad(x, y, np.ones_like(x))[1]
ga, gp, gn = closs.nn.TripletMarginLoss().value_and_grad(x, y, x)[1]
gauss = closs.nn.GaussianNLLLoss().value_and_grad(x, y, np.ones_like(x))[1]
if isinstance(gauss, tuple):
    g_input, g_var = gauss
else:
    g_input = gauss
text: str = repr(closs.nn.HuberLoss(delta=2.0))
# Second order: (gradient, Hessian diagonal) arrays, and the 'sum' value first.
gh: Array
gh, hess = closs.nn.HuberLoss(delta=2.0).grad_hess(x, y)
summed: np.floating[Any]
summed, gh, hess = crit.value_grad_hess(x, labels, out=(gh, hess))

threads: int = closs.get_num_threads()
closs.set_num_threads(threads)
info: str = closs.build_info()
level: str = closs.simd_level()
version: str = closs.__version__
