"""wrt=: the gradients of every differentiable argument (targets, weights, var,
both inputs ...) for every loss of the registry, through value_and_grad, backward
with a grad_output and out= buffers: against torch.autograd.grad in float32 and
float64, and against finite differences in float64 (also where torch does not
differentiate an argument and closs does: soft_margin_loss's target,
binary_cross_entropy's weight)."""

import inspect
import warnings

import numpy as np
import pytest

import closs
from closs import _reference as R
from closs._registry import LOSSES, materialise
from conftest import RTOL, TF, torch

DTYPES = [np.float32, np.float64]
# (loss, argument): torch refuses to differentiate it ("not differentiable"); closs does
NOT_IN_TORCH = {("soft_margin_loss", "target"), ("binary_cross_entropy", "weight"),
                ("binary_cross_entropy_with_logits", "weight"),
                ("multilabel_soft_margin_loss", "pos_weight")}
# labels that only select terms (compared with +-1): gradient 0, no finite difference
SELECTORS = {("hinge_embedding_loss", "target"), ("cosine_embedding_loss", "target")}


def cases():
    return [pytest.param(loss, options, reduction, id=f"{loss.key}-{i}-{reduction}")
            for loss in LOSSES.values() for i, options in enumerate(loss.grid)
            for reduction in loss.reductions]


def make(loss, options, dtype, shape=(5, 6), seed=0):
    rng = np.random.default_rng(seed)
    args = list(loss.make_args(rng, shape, dtype))
    return args, materialise(loss, options, rng, shape, dtype)


def prepare(loss, args, opts, reduction):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return loss.prepare(*args, reduction=reduction, **opts)


def locate(loss, args, opts, name):
    """Where argument `name` lives: ("arg", position) or ("opt", key)."""
    positional = list(inspect.signature(loss.prepare).parameters)[:len(args)]
    return ("arg", positional.index(name)) if name in positional else ("opt", name)


def torch_grads(loss, args, opts, reduction, names, go=None):
    """torch.autograd.grad of the loss for each of `names` (zeros where torch's graph
    does not use the argument), as NumPy arrays."""
    targs = [torch.tensor(a) for a in args]
    topts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in opts.items()
             if k != "distance_grad"}
    wanted = []
    for name in names:
        where, k = locate(loss, args, opts, name)
        t = targs[k] if where == "arg" else topts[k]
        wanted.append(t.requires_grad_(True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        value = getattr(TF, loss.name)(*targs, reduction=reduction, **topts)
    g = torch.ones_like(value) if go is None else torch.tensor(go)
    out = torch.autograd.grad(value, wanted, g, allow_unused=True, materialize_grads=True)
    return [o.numpy() for o in out]


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("loss,options,reduction", cases())
def test_torch_parity(loss, options, reduction, dtype):
    if loss.logit_grad:
        pytest.skip("ctc_loss: log_probs only, torch's logit convention (tests/test_losses.py)")
    args, opts = make(loss, options, dtype, seed=4)
    call = prepare(loss, args, opts, reduction)
    names = [g.name for g in call.grads if (loss.name, g.name) not in NOT_IN_TORCH]
    rtol = RTOL[dtype]
    value, got = call.value_and_grad(wrt=names)
    assert isinstance(got, tuple) and len(got) == len(names)
    expected = torch_grads(loss, args, opts, reduction, names)
    for name, g, e in zip(names, got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype, name
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * 1e-2, err_msg=name)
    # backward with a grad_output, into out= buffers, in another order
    go = np.random.default_rng(5).uniform(0.5, 2, np.shape(value)).astype(dtype)
    order = names[::-1]
    bufs = tuple(np.full_like(e, np.nan) for e in expected[::-1])
    got = call.grad(go, out=bufs, wrt=order)
    expected = torch_grads(loss, args, opts, reduction, order, go)
    for name, g, b, e in zip(order, got, bufs, expected):
        assert g is b, name
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * 1e-2, err_msg=name)


@pytest.mark.parametrize("loss,options,reduction", cases())
def test_finite_differences(loss, options, reduction):
    """5-point central differences of sum(grad_output * loss) in float64 for every
    differentiable argument but the input (tests/test_losses.py has the input's)."""
    if loss.logit_grad:
        pytest.skip("ctc_loss: log_probs only")
    args, opts = make(loss, options, np.float64, shape=(3, 4), seed=2)
    if loss.name == "poisson_nll_loss":  # counts: off full's Stirling jump at target 1
        args[1] = args[1] + 0.25
    call = prepare(loss, args, opts, reduction)
    go = np.random.default_rng(3).uniform(0.5, 1.5, call.out_shape if reduction == "none" else ())
    specs = [g for g in call.grads if g.name != "input" and (loss.name, g.name) not in SELECTORS]
    if not specs:
        pytest.skip("no other differentiable argument")
    got = call.grad(go, wrt=[g.name for g in specs])
    for spec, grad in zip(specs, got):
        where, k = locate(loss, args, opts, spec.name)

        def f(v, where=where, k=k):
            a2, o2 = list(args), dict(opts)
            if where == "arg":
                a2[k] = v
            else:
                o2[k] = v
            return float(np.sum(go * prepare(loss, a2, o2, reduction).value()))

        base = args[k] if where == "arg" else opts[k]
        finite = np.isfinite(grad)  # torch's NaN (0 / 0 of poisson's Stirling term, kl's 0 log 0)
        numeric = R.numeric_gradient(f, np.array(base, np.float64))
        np.testing.assert_allclose(grad[finite], numeric[finite], rtol=1e-6, atol=1e-8,
                                   err_msg=spec.name)


def mse_call():
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal((3, 3, 4))
    return closs.nn.MSELoss(), x, y, np.abs(w)


def test_result_forms():
    m, x, y, w = mse_call()
    v0, g0 = m.value_and_grad(x, y, weight=w)
    v1, g1 = m.value_and_grad(x, y, weight=w, wrt="input")
    assert isinstance(g0, np.ndarray) and np.array_equal(g0, g1) and v0 == v1
    _, all_ = m.value_and_grad(x, y, weight=w, wrt="all")
    _, (gt, gx) = m.value_and_grad(x, y, weight=w, wrt=["target", "input"])
    assert len(all_) == 3 and np.array_equal(all_[0], gx) and np.array_equal(all_[1], gt)
    np.testing.assert_array_equal(gt, -gx)
    _, (only,) = m.value_and_grad(x, y, weight=w, wrt=("weight",))
    np.testing.assert_array_equal(only, all_[2])
    # the default result of a two-input Module is unchanged
    g = closs.nn.MarginRankingLoss().value_and_grad(x[0], y[0], np.sign(w[0] - 1))[1]
    assert isinstance(g, tuple) and len(g) == 2


def test_target_gradient_broadcast_and_integer_targets():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _, gy = closs.nn.L1Loss(reduction="sum").value_and_grad(x, y, wrt="target")
    np.testing.assert_array_equal(gy, -np.sign(x - y).sum(axis=0))
    labels = rng.integers(0, 2, (4, 5))
    with pytest.raises(ValueError, match="Integer and bool"):
        closs.nn.BCEWithLogitsLoss().value_and_grad(x, labels, wrt="target")
    _, grads = closs.nn.BCEWithLogitsLoss().value_and_grad(x, labels, wrt="all")
    assert len(grads) == 1  # the input's alone


def test_bad_wrt():
    m, x, y, w = mse_call()
    with pytest.raises(ValueError, match="'target', 'weight'"):
        m.value_and_grad(x, y, weight=w, wrt="var")
    with pytest.raises(ValueError, match="once"):
        m.value_and_grad(x, y, wrt=["input", "input"])
    with pytest.raises(ValueError, match="once"):
        m.value_and_grad(x, y, wrt=[])
    with pytest.raises(ValueError, match="tuple of 2"):
        m.value_and_grad(x, y, wrt="all", out=np.empty((2, 3, 4)))
    m.forward(x, y)
    with pytest.raises(ValueError, match="pos_weight"):
        closs.nn.BCEWithLogitsLoss(pos_weight=np.ones(4)).value_and_grad(x, y, wrt="pos_weight")


def test_out_aliasing_the_target():
    """out= that is the target itself still gets the right answer (a temporary)."""
    m, x, y, w = mse_call()
    expected = m.value_and_grad(x, y, wrt="target")[1]
    y2 = y.copy()
    got = m.value_and_grad(x, y2, wrt="target", out=y2)[1]
    assert got is y2
    np.testing.assert_array_equal(got, expected)


def test_weighted_mean_weight_gradient_over_a_broadcast_target():
    """l1_loss's weighted mean divides by sum(weight) as given: with a target that
    broadcasts the loss larger than the input, each weight has several terms."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 4)), rng.uniform(0.5, 2, (1, 4))
    y = rng.standard_normal((3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        m = closs.nn.L1Loss()
        v, gw = m.value_and_grad(x, y, weight=w, wrt="weight")
        go = np.float64(1.7)
        gw_b = m.backward(go, wrt="weight")
    terms = np.abs(x - y)
    expected = (terms.sum(axis=0, keepdims=True) - v) / w.sum()
    np.testing.assert_allclose(gw, expected, rtol=1e-12)
    np.testing.assert_allclose(gw_b, go * expected, rtol=1e-12)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_special_values_as_torch(dtype):
    """The targets' gradients at the edges torch defines by its formulas: kl_div's
    0 log 0 (NaN, both target forms), poisson_nll_loss's full Stirling term at
    targets <= 1 (NaN at 0), binary_cross_entropy at inputs 0 and 1 (+-inf),
    binary_cross_entropy_with_logits at +-inf logits, with and without pos_weight."""
    inf, nan = np.inf, np.nan
    rows = [
        ("kl_div", [0.5, 0.5, -1.0, 2.0], [0.0, 0.5, 1.0, 0.0], {}),
        ("kl_div", [0.5, 0.5, -1.0, 2.0], [0.0, -inf, 1.0, 0.0], {"log_target": True}),
        ("poisson_nll_loss", [0.5] * 6, [0.0, 0.5, 1.0, 2.0, -1.0, nan], {"full": True}),
        ("poisson_nll_loss", [0.5] * 6, [0.0, 0.5, 1.0, 2.0, 3.0, nan],
         {"full": True, "log_input": False}),
        ("binary_cross_entropy", [0.0, 1e-30, 0.3, 1.0], [0.5, 0.2, 0.7, 0.5], {}),
        ("binary_cross_entropy_with_logits", [-inf, -100.0, 0.0, 3.0, inf], [0.5] * 5, {}),
        ("binary_cross_entropy_with_logits", [-inf, -100.0, 0.0, 3.0, inf], [0.5] * 5,
         {"pos_weight": np.full(5, 2.0)}),
        ("huber_loss", [0.0, 1.0, 2.0, -3.0], [1.0, 1.0, 0.0, 0.0], {"delta": 1.0}),
        ("smooth_l1_loss", [0.0, 1.0, 2.0, -3.0], [1.0, 1.0, 0.0, 0.0], {"beta": 1.0}),
    ]
    for name, x, y, opts in rows:
        x, y = np.array(x, dtype), np.array(y, dtype)
        opts = {k: v.astype(dtype) if isinstance(v, np.ndarray) else v for k, v in opts.items()}
        for reduction in ("none", "sum"):
            call = getattr(closs.functional, "PREPARERS")[name](x, y, reduction=reduction, **opts)
            with np.errstate(all="ignore"):
                _, (gx, gy) = call.value_and_grad(wrt="all")
            tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
            topts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in opts.items()}
            value = getattr(TF, name)(tx, ty, reduction=reduction, **topts)
            ex, ey = torch.autograd.grad(value, (tx, ty), torch.ones_like(value))
            r = RTOL[dtype]
            np.testing.assert_allclose(gx, ex.numpy(), rtol=r, atol=r * 1e-2, err_msg=name)
            np.testing.assert_allclose(gy, ey.numpy(), rtol=r, atol=r * 1e-2, err_msg=name)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_streamed_calls(reduction):
    """Calls above the chunk size whose operands are not in kernel form stream in
    chunks (closs._api.CHUNK): every gradient equals the in-memory call's, through
    value_and_grad and backward with a grad_output."""
    from closs import _api

    rng = np.random.default_rng(7)
    n = _api.CHUNK * 2 + 3
    strided = rng.standard_normal((n, 2))[:, 0]  # not kernel_ready: streamed
    x, y, w = np.ascontiguousarray(strided), rng.standard_normal(n), rng.uniform(0.5, 2, n)
    for module in (closs.nn.MSELoss(reduction=reduction), closs.nn.HuberLoss(reduction=reduction)):
        v, got = module.value_and_grad(strided, y, weight=w, wrt="all")
        go = rng.uniform(0.5, 2, np.shape(v))
        got_b = module.backward(go, wrt="all")
        ev, expected = module.value_and_grad(x, y, weight=w, wrt="all")
        expected_b = module.backward(go, wrt="all")
        np.testing.assert_allclose(v, ev, rtol=1e-12)
        for g, e in zip(got + got_b, expected + expected_b):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-15)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("var_shape", [(4, 5), (4, 1), (4,)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gaussian_nll_var_array(var_shape, reduction, dtype):
    """gaussian_nll_loss with a var array (the registry's var is a float): input,
    target and var, the homoscedastic and broadcast forms of var included."""
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((2, 4, 5)).astype(dtype)
    var = rng.uniform(0.3, 2.0, var_shape).astype(dtype)
    m = closs.nn.GaussianNLLLoss(full=True, reduction=reduction)
    value, got = m.value_and_grad(x, y, var, wrt="all")
    go = rng.uniform(0.5, 2, np.shape(value)).astype(dtype)
    got_b = m.backward(go, wrt=("var", "target"))
    t = [torch.tensor(a, requires_grad=True) for a in (x, y, var)]
    tv = TF.gaussian_nll_loss(*t, full=True, reduction=reduction)
    expected = torch.autograd.grad(tv, t, torch.ones_like(tv))
    expected_b = torch.autograd.grad(TF.gaussian_nll_loss(*t, full=True, reduction=reduction),
                                     (t[2], t[1]), torch.tensor(go))
    r = RTOL[dtype]
    for g, e in zip(got + got_b, expected + expected_b):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e.numpy(), rtol=r, atol=r * 1e-2)
