"""Tests every loss in the registry the same way: NumPy references, finite
differences, every entry point agreeing with every other."""

import numpy as np
import pytest

import closs
from closs._registry import LOSSES, materialise

DTYPES = [np.float32, np.float64]


def cases():
    for loss in LOSSES.values():
        for options in loss.grid:
            for reduction in loss.reductions:
                opt = ",".join(f"{k}={v}" for k, v in options.items()) or "default"
                yield pytest.param(loss, options, reduction, id=f"{loss.key}-{opt}-{reduction}")


def tol(dtype):
    """rtol from the dtype's epsilon: a few hundred ulps of accumulated rounding."""
    return float(np.finfo(dtype).eps) * (300 if dtype == np.float32 else 1e4)


def make(loss, options, dtype, shape=(6, 7), seed=0):
    rng = np.random.default_rng(seed)
    args = loss.make_args(rng, shape, dtype)
    return args, materialise(loss, options, rng, shape, dtype)


def assert_close(actual, expected, dtype):
    np.testing.assert_allclose(actual, expected, rtol=tol(dtype), atol=tol(dtype) * 1e-3)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("loss,options,reduction", cases())
def test_matches_reference(loss, options, reduction, dtype):
    args, opts = make(loss, options, dtype)
    value, grad = loss.prepare(*args, reduction=reduction, **opts).value_and_grad()
    ref_value, ref_grad = loss.reference(*args, reduction=reduction, **opts)
    assert np.asarray(value).dtype == dtype and grad.dtype == dtype
    assert np.shape(value) == np.shape(ref_value) and grad.shape == args[0].shape
    assert_close(value, ref_value, dtype)
    assert_close(grad, ref_grad, dtype)


@pytest.mark.parametrize("loss,options,reduction", cases())
def test_entry_points_agree(loss, options, reduction):
    """functional == Module forward == fused value; Module.backward == fused gradient."""
    args, opts = make(loss, options, np.float64, seed=1)
    fn = getattr(closs.functional, loss.name)
    module = loss.module(reduction=reduction, **{k: opts[k] for k in loss.module_options if k in opts})
    fwd = {k: opts[k] for k in loss.forward_options if k in opts}
    value = fn(*args, reduction=reduction, **opts)
    assert np.array_equal(module(*args, **fwd), value)
    grad = module.backward()
    fused_value, fused_grad = module.value_and_grad(*args, **fwd)
    assert np.array_equal(fused_value, value)
    np.testing.assert_allclose(fused_grad, grad, rtol=1e-14, atol=0)
    # out= receives the same numbers, in place
    out = np.empty_like(args[0])
    assert module.backward(out=out) is out
    np.testing.assert_allclose(out, grad, rtol=1e-14, atol=0)


@pytest.mark.parametrize("loss,options,reduction", cases())
def test_finite_differences(loss, options, reduction):
    """5-point central differences of sum(grad_output * loss) in float64."""
    args, opts = make(loss, options, np.float64, shape=(3, 4), seed=2)
    rng = np.random.default_rng(3)
    x = args[0]
    call = loss.prepare(*args, reduction=reduction, **opts)
    go = rng.uniform(0.5, 1.5, call.out_shape if reduction == "none" else ())
    grad = call.grad(go)

    def f(xv):
        v = loss.prepare(xv, *args[1:], reduction=reduction, **opts).value()
        return float(np.sum(go * v))

    h = 1e-4
    numeric = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xs = [x.copy() for _ in range(4)]
        for xk, step in zip(xs, (-2, -1, 1, 2)):
            xk[i] += step * h
        fm2, fm1, fp1, fp2 = map(f, xs)
        numeric[i] = (fm2 - 8 * fm1 + 8 * fp1 - fp2) / (12 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)
