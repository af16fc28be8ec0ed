"""The benchmark's contenders (benchmarks/bench.py) on small arrays, for every
registry loss: closs's backward and fused calls return what the Module returns by
default, and torch's differentiate the same arguments (a cell that raises here
would stop the benchmark run)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from closs._registry import LOSSES

from conftest import torch

_spec = importlib.util.spec_from_file_location(
    "closs_bench", Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


class _Opts:
    no_numpy = False


@pytest.mark.parametrize("key", sorted(LOSSES))
@pytest.mark.parametrize("op", ["forward", "backward", "fused"])
def test_contenders(key, op):
    loss = LOSSES[key]
    b = bench.Bench(_Opts(), torch)
    args, options = b.args(loss, 100)
    fns = b.contenders(loss, op, (args, options))
    got = fns["closs"]()
    fns["numpy"]()
    if op == "forward":
        return
    value_and_grad = loss.module(**{k: v for k, v in options.items()
                                    if k in loss.module_options}).value_and_grad
    want = value_and_grad(*args, **{k: v for k, v in options.items()
                                    if k in loss.forward_options})
    grads = got[1] if op == "fused" else got
    want_grads = want[1]
    if isinstance(want_grads, tuple):
        assert len(grads) == len(want_grads)
    else:
        grads, want_grads = (grads,), (want_grads,)
    for g, w in zip(grads, want_grads):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)
    if torch is not None:
        with b.grad_mode(op):
            t = fns["torch"]()
        assert len(t) == len(want_grads)
        for g, w in zip(t, want_grads):
            np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-4, atol=1e-6)
