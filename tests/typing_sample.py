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
import closs.stream

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
# wrt=: one name gives an array, several or "all" a tuple
gy: Array = closs.nn.MSELoss().value_and_grad(x, y, wrt="target")[1]
gx_all, gy_all = closs.nn.MSELoss().value_and_grad(x, y, wrt="all")[1]
mse_crit = closs.nn.MSELoss()
mse_crit(x, y)
gy2, gx2 = mse_crit.backward(wrt=["target", "input"])
gy = mse_crit.backward(1.0, out=gy, wrt="target")
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

# linear_cross_entropy: the same overloads; its Module's gradients are a tuple
# (input, linear.weight[, linear.bias]).
head = np.ones((3, 3), np.float32) / 3
lce: np.floating[Any] = F.linear_cross_entropy(x, head, labels, label_smoothing=0.1)
lce_rows: Array = F.linear_cross_entropy(x, head, labels, reduction="none", ignore_index=0)
lce_either: np.floating[Any] | Array = F.linear_cross_entropy(x, head, labels, reduction=chosen)
lce_options = closs.nn.LinearCrossEntropyOptions(batch_chunk_size=4)
lce_crit = closs.nn.LinearCrossEntropyLoss(3, 3, bias=True, dtype=np.float32, options=lce_options)
lce_crit.linear.weight = head
if lce_crit.linear.bias is not None:
    bias: Array = lce_crit.linear.bias
lce_value = lce_crit(x, labels)
lce_input, lce_weight, lce_bias = lce_crit.value_and_grad(x, labels)[1]
lce_grads: tuple[Array, ...] = lce_crit.backward(1.0)
k_dim = closs.nn.LinearCrossEntropyLoss(3, 2, out_features=(4,), weight=np.ones(2))

# closs.stream: a loss over batches, exact at the end.
acc = closs.stream.Mean("cross_entropy", label_smoothing=0.1)
for start in (0, 3):
    acc = acc.update(x[start:start + 5], labels[start:start + 5])
n_batches: int = acc.batches
stream_value: np.floating[Any] = acc.value()
pair: NDArray[np.float64] = acc.pair()
share = acc.grad(x[:3], labels[:3])
share_array: Array = share if not isinstance(share, tuple) else share[0]
heads = closs.stream.Loss("linear_cross_entropy", reduction="sum", linear_weight=head)
heads.update(x, target=labels)
acc.reset()

threads: int = closs.get_num_threads()
closs.set_num_threads(threads)
info: str = closs.build_info()
level: str = closs.simd_level()
version: str = closs.__version__
