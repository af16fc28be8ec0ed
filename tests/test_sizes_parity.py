"""Element-wise losses at the sizes where the kernels change their loop: the 16
accumulator lanes, the 64-element block rounding, the 4096-element minimum block,
the 2^16 and 2^20 parallel thresholds and the 2^20 chunks of the streamed path,
against torch 2.13 (value, gradient and a grad_output's VJP) on 1 and 2 threads.
(tests/test_class_counts.py does the same across class counts for the row losses.)"""

import numpy as np
import pytest

from closs._registry import LOSSES, materialise
from conftest import RTOL, torch_value_and_grad

pytest.importorskip("torch")

SIZES = (1, 15, 16, 17, 63, 65, 4095, 4097, 65535, 65537, (1 << 20) + 3)


def elementwise():
    """Registry entries whose arguments are element-wise arrays of one shape."""
    for loss in LOSSES.values():
        if loss.bench_shape is None and loss.name not in (
                "multilabel_soft_margin_loss", "gaussian_nll_loss"):
            yield loss


def cases():
    for loss in elementwise():
        for size in SIZES:
            for options in loss.grid if size < 1 << 16 else loss.grid[:1]:
                yield pytest.param(loss, options, size,
                                   id=f"{loss.key}-{size}-{options}")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("loss,options,size", cases())
def test_sizes_against_torch(loss, options, size, reduction, dtype, threads):
    rng = np.random.default_rng(size)
    args = loss.make_args(rng, (size,), dtype)
    opts = materialise(loss, options, rng, (size,), dtype)
    call = loss.prepare(*args, reduction=reduction, **opts)
    go = rng.uniform(0.5, 2, call.out_shape if reduction == "none" else ()).astype(dtype)
    value = call.value()
    grad = call.grad(go)
    grad = grad if isinstance(grad, tuple) else (grad,)
    t_value, t_grads = torch_value_and_grad(loss, args, opts, reduction, go)
    rtol = RTOL[dtype]
    # a sum of n terms is as exact as n roundings of its largest terms
    scale = float(np.max(np.abs(t_value), initial=1.0))
    atol = rtol * (scale if reduction == "none" else scale * 1e-3 + np.sqrt(size) * 1e-2)
    np.testing.assert_allclose(value, t_value, rtol=rtol, atol=atol)
    for g, tg in zip(grad, t_grads):  # a gradient that cancels (bce's (1 + (pw - 1) y) s - pw y)
        np.testing.assert_allclose(g, tg, rtol=rtol, atol=rtol * 0.1 * float(
            np.max(np.abs(tg), initial=1.0)))
