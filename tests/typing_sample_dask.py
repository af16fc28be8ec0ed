"""closs.dask as a user's code uses it, checked with `mypy --strict` by
tests/test_typing.py when Dask is installed (closs.dask is an optional extra).
Dask's own functions (from_array, compute) have no hints: calls to them are allowed
here, closs.dask's hints are what is checked."""

# mypy: allow-untyped-calls

from __future__ import annotations

from typing import Any

import dask.array as da
from dask.base import compute
import numpy as np
from numpy.typing import NDArray

import closs.dask

rng = np.random.default_rng(0)
x = da.from_array(rng.standard_normal((40, 3)), chunks=(15, 3))
labels = rng.integers(0, 3, 40)
head = np.eye(3)

lazy: da.Array = closs.dask.cross_entropy(x, labels, label_smoothing=0.1)
rows: da.Array = closs.dask.mse_loss(x, x + 1, reduction="none")
lce: da.Array = closs.dask.linear_cross_entropy(x, head, labels)
value, grad = closs.dask.value_and_grad("cross_entropy", x, labels)
lce_value, (g_x, g_head) = closs.dask.value_and_grad("linear_cross_entropy", x, head, labels)
computed: tuple[Any, ...] = compute(lazy, value, grad, g_head, scheduler="sync")
mean: NDArray[Any] = np.asarray(lce.compute(scheduler="sync"))
chunks: tuple[tuple[int, ...], ...] = g_x.chunks
