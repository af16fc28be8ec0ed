"""What the test files share: torch (None where it is not installed), the parity
tolerances, gradient tuples and a thread-count context.

Test modules import these names with ``from conftest import ...``: pytest runs
with --import-mode=importlib, which puts no test folder on sys.path, so this
file adds its own (it imports nothing from the source tree: the tests run
against the built package).
"""

import contextlib
import os
import sys

import numpy as np
import pytest

import closs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # parity tests skip; the rest run
    torch = TF = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

# torch 2.13 parity: values and gradients within these relative tolerances
RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def rtol(dtype):
    return RTOL[np.dtype(dtype).type]


def assert_parity(actual, expected, dtype, scale=1e-2):
    """Agreement with torch: the dtype's rtol, and an absolute tolerance of that
    rtol times `scale` (the size of the terms of a value that cancels to near 0)."""
    r = rtol(dtype)
    np.testing.assert_allclose(actual, expected, rtol=r, atol=r * scale)


def tol(dtype):
    """rtol against the NumPy references, from the dtype's epsilon: a few hundred
    ulps of accumulated rounding."""
    return float(np.finfo(dtype).eps) * (300 if np.dtype(dtype) == np.float32 else 1e4)


def grads(g):
    """A loss's gradient(s) as a tuple, in argument order."""
    return g if isinstance(g, tuple) else (g,)


def torch_value_and_grad(loss, args, options, reduction, grad_output=None):
    """torch's value and its gradients of a registry loss's grad_args for
    grad_output (ones when None), as NumPy arrays. Options torch does not have
    (closs's distance_grad) are left out."""
    targs = [torch.tensor(a) for a in args]
    for i in loss.grad_args:
        targs[i].requires_grad_(True)
    topts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()
             if k != "distance_grad"}
    value = getattr(TF, loss.name)(*targs, reduction=reduction, **topts)
    go = torch.ones_like(value) if grad_output is None else torch.tensor(grad_output)
    gs = torch.autograd.grad(value, [targs[i] for i in loss.grad_args], go)
    return value.detach().numpy(), tuple(g.numpy() for g in gs)


@contextlib.contextmanager
def num_threads(n):
    """closs.set_num_threads(n) for the block, restored after."""
    before = closs.get_num_threads()
    closs.set_num_threads(n)
    try:
        yield
    finally:
        closs.set_num_threads(before)


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    """Runs a test on 1 and on 2 threads."""
    with num_threads(request.param):
        yield request.param
