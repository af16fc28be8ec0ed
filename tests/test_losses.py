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


try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = None


def torch_value_and_grad(name, args, options, reduction, grad_output=None):
    """torch's value and d/d input of the first argument, as NumPy arrays."""
    targs = [torch.tensor(a) for a in args]
    targs[0].requires_grad_(True)
    topts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    value = getattr(TF, name)(*targs, reduction=reduction, **topts)
    go = torch.ones_like(value) if grad_output is None else torch.tensor(grad_output)
    (grad,) = torch.autograd.grad(value, targs[0], go)
    return value.detach().numpy(), grad.numpy()


PARITY_RTOL = {np.float32: 1e-5, np.float64: 1e-12}


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("loss,options,reduction", cases())
def test_torch_parity(loss, options, reduction, dtype):
    """Value, gradient and a random grad_output's VJP against torch 2.13."""
    args, opts = make(loss, options, dtype, shape=(5, 8), seed=4)
    call = loss.prepare(*args, reduction=reduction, **opts)
    value, grad = call.value_and_grad()
    t_value, t_grad = torch_value_and_grad(loss.name, args, opts, reduction)
    rtol = PARITY_RTOL[dtype]
    assert np.shape(value) == t_value.shape and np.asarray(value).dtype == t_value.dtype
    np.testing.assert_allclose(value, t_value, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(grad, t_grad, rtol=rtol, atol=rtol * 1e-2)
    go_shape = call.out_shape if reduction == "none" else ()
    go = np.random.default_rng(5).uniform(0.5, 2, go_shape).astype(dtype)
    _, t_vjp = torch_value_and_grad(loss.name, args, opts, reduction, go)
    np.testing.assert_allclose(call.grad(go), t_vjp, rtol=rtol, atol=rtol * 1e-2)
