"""Tests every loss in the registry the same way: NumPy references, finite
differences, every entry point agreeing with every other."""

import numpy as np
import pytest

import closs
from closs import _reference as R
from closs._registry import LOSSES, materialise
from conftest import RTOL, TF, grads, tol, torch, torch_value_and_grad

DTYPES = [np.float32, np.float64]


def cases():
    return [
        pytest.param(loss, options, reduction, id=f"{loss.key}-{option_id(options)}-{reduction}")
        for loss in LOSSES.values()
        for options in loss.grid
        for reduction in loss.reductions
    ]


def option_id(options):
    return ",".join(f"{k}={getattr(v, '__name__', v)}" for k, v in options.items()) or "default"


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


def log_softmax(z):
    """log_softmax over the last axis, in float64."""
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def log_softmax_vjp(z, g):
    """g times the Jacobian of log_softmax at z: g - softmax(z) sum(g) over the last axis."""
    return g - np.exp(log_softmax(z)) * g.sum(-1, keepdims=True)


@pytest.mark.parametrize("loss,options,reduction", cases())
def test_finite_differences(loss, options, reduction):
    """5-point central differences of sum(grad_output * loss) in float64, for every
    differentiable argument (of loss(log_softmax(z)) with respect to z for a loss
    whose gradient is torch's logit gradient, ctc_loss)."""
    args, opts = make(loss, options, np.float64, shape=(3, 4), seed=2)
    rng = np.random.default_rng(3)
    call = loss.prepare(*args, reduction=reduction, **opts)
    go = rng.uniform(0.5, 1.5, call.out_shape if reduction == "none" else ())
    for grad, a in zip(grads(call.grad(go)), loss.grad_args):
        to_arg = log_softmax if loss.logit_grad else (lambda z: z)

        def f(xv):
            moved = args[:a] + (to_arg(xv),) + args[a + 1:]
            return float(np.sum(go * loss.prepare(*moved, reduction=reduction, **opts).value()))

        if loss.logit_grad:  # through log_softmax's Jacobian, at z = the log-probabilities
            grad = log_softmax_vjp(args[a], grad)

        numeric = R.numeric_gradient(f, args[a])
        np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9,
                                   err_msg=f"gradient of argument {a}")


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("loss,options,reduction", cases())
def test_torch_parity(loss, options, reduction, dtype):
    """Value, gradient and a random grad_output's VJP against torch 2.13."""
    args, opts = make(loss, options, dtype, shape=(5, 8), seed=4)
    call = loss.prepare(*args, reduction=reduction, **opts)
    value, grad = call.value_and_grad()
    t_value, t_grad = torch_value_and_grad(loss, args, opts, reduction)
    rtol = RTOL[dtype]
    assert np.shape(value) == t_value.shape and np.asarray(value).dtype == t_value.dtype
    np.testing.assert_allclose(value, t_value, rtol=rtol, atol=rtol * loss.parity_scale)
    assert len(grads(grad)) == len(t_grad)
    for g, tg in zip(grads(grad), t_grad):
        np.testing.assert_allclose(g, tg, rtol=rtol, atol=rtol * 1e-2)
    go_shape = call.out_shape if reduction == "none" else ()
    go = np.random.default_rng(5).uniform(0.5, 2, go_shape).astype(dtype)
    _, t_vjp = torch_value_and_grad(loss, args, opts, reduction, go)
    for g, tg in zip(grads(call.grad(go)), t_vjp):
        np.testing.assert_allclose(g, tg, rtol=rtol, atol=rtol * 1e-2)
