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
                opt = ",".join(f"{k}={getattr(v, '__name__', v)}" for k, v in options.items())
                yield pytest.param(loss, options, reduction,
                                   id=f"{loss.name}-{opt or 'default'}-{reduction}")


def grads(g):
    """A loss's gradient(s) as a tuple, in the order of its grad_args."""
    return g if isinstance(g, tuple) else (g,)


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
    assert np.asarray(value).dtype == dtype and np.shape(value) == np.shape(ref_value)
    assert_close(value, ref_value, dtype)
    assert len(grads(grad)) == len(grads(ref_grad)) == len(loss.grad_args)
    for g, ref, i in zip(grads(grad), grads(ref_grad), loss.grad_args):
        assert g.dtype == dtype and g.shape == args[i].shape
        assert_close(g, ref, dtype)


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
    for f, g in zip(grads(fused_grad), grads(grad)):
        np.testing.assert_allclose(f, g, rtol=1e-14, atol=0)
    # out= receives the same numbers, in place
    out = tuple(np.empty_like(args[i]) for i in loss.grad_args)
    result = module.backward(out=out if len(out) > 1 else out[0])
    assert all(r is o for r, o in zip(grads(result), out))
    for o, g in zip(out, grads(grad)):
        np.testing.assert_allclose(o, g, rtol=1e-14, atol=0)


@pytest.mark.parametrize("loss,options,reduction", cases())
def test_finite_differences(loss, options, reduction):
    """5-point central differences of sum(grad_output * loss) in float64, for every
    differentiable argument."""
    args, opts = make(loss, options, np.float64, shape=(3, 4), seed=2)
    rng = np.random.default_rng(3)
    call = loss.prepare(*args, reduction=reduction, **opts)
    go = rng.uniform(0.5, 1.5, call.out_shape if reduction == "none" else ())
    for grad, a in zip(grads(call.grad(go)), loss.grad_args):

        def f(xv):
            moved = args[:a] + (xv,) + args[a + 1:]
            return float(np.sum(go * loss.prepare(*moved, reduction=reduction, **opts).value()))

        x, h = args[a], 1e-4
        numeric = np.empty_like(x)
        for i in np.ndindex(x.shape):
            xs = [x.copy() for _ in range(4)]
            for xk, step in zip(xs, (-2, -1, 1, 2)):
                xk[i] += step * h
            fm2, fm1, fp1, fp2 = map(f, xs)
            numeric[i] = (fm2 - 8 * fm1 + 8 * fp1 - fp2) / (12 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9,
                                   err_msg=f"gradient of argument {a}")
