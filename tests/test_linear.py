"""linear_cross_entropy and LinearCrossEntropyLoss: torch 2.13's reference path
(options=None: linear, then cross_entropy) for every option, finite differences,
results identical for any chunking and thread count, torch's exception categories,
the Module's parameters, and the peak memory of the fused call."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import closs
from closs import _core
from closs import _reference as R
from closs.functional import _linear_cross_entropy_call, linear_cross_entropy
from closs.nn import LinearCrossEntropyLoss, LinearCrossEntropyOptions
from conftest import RTOL, grads, num_threads, requires_torch, torch

DTYPES = [np.float32, np.float64]
IN = 6


def make(rng, dtype, n=5, c=7, out_features=(), probabilities=False, bias=False,
         weighted=False, ignore=None, unbatched=False):
    """input, linear_weight, target and the keyword options of one call."""
    x = rng.standard_normal(IN if unbatched else (n, IN)).astype(dtype)
    lw = (rng.standard_normal((c, *out_features, IN)) / 2).astype(dtype)
    logits_shape = (() if unbatched else (n,)) + (c, *out_features)
    if probabilities:
        t = rng.uniform(0.01, 1, logits_shape)
        t = (t / t.sum(axis=0 if unbatched else 1, keepdims=True)).astype(dtype)
    else:
        t = rng.integers(0, c, logits_shape[:0 if unbatched else 1] + tuple(out_features))
        if ignore is not None and t.ndim:
            t.reshape(-1)[::3] = -100 if ignore == "default" else ignore
    kw = {}
    if bias:
        kw["linear_bias"] = rng.standard_normal((c, *out_features)).astype(dtype)
    if weighted:
        kw["weight"] = rng.uniform(0.2, 2, c).astype(dtype)
    if ignore not in (None, "default"):
        kw["ignore_index"] = ignore
    return x, lw, t, kw


def reference(x, lw, t, kw, reduction, grad_output=None):
    """closs._reference.linear_cross_entropy (NumPy, float64) with a call's options."""
    return R.linear_cross_entropy(x, lw, t, reduction=reduction, grad_output=grad_output, **kw)


def torch_reference(x, lw, t, kw, reduction, grad_output=None):
    """torch 2.13's reference path (options=None): value and gradients."""
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(lw, requires_grad=True)
    targs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    wrt = [tx, tw]
    if "linear_bias" in kw:
        targs["linear_bias"].requires_grad_(True)
        wrt.append(targs["linear_bias"])
    value = torch.nn.functional.linear_cross_entropy(tx, tw, torch.tensor(t),
                                                     reduction=reduction, **targs)
    go = torch.ones_like(value) if grad_output is None else torch.tensor(grad_output)
    return value.detach().numpy(), tuple(g.numpy() for g in torch.autograd.grad(value, wrt, go))


VARIANTS = {
    "plain": {},
    "bias": {"bias": True},
    "weight": {"weighted": True},
    "ignore_default": {"ignore": "default"},
    "ignore_2": {"ignore": 2, "weighted": True},
    "smoothing": {"smoothing": 0.2, "weighted": True, "ignore": "default"},
    "kdim": {"out_features": (2, 3), "bias": True, "weighted": True},
    "kdim_smoothing": {"out_features": (3,), "smoothing": 0.1, "ignore": "default"},
    "unbatched": {"unbatched": True, "bias": True},
    "empty": {"n": 0, "bias": True},
    "prob": {"probabilities": True},
    "prob_weight_bias": {"probabilities": True, "weighted": True, "bias": True},
    "prob_smoothing": {"probabilities": True, "smoothing": 0.3},
    "prob_kdim": {"probabilities": True, "out_features": (2,), "bias": True},
    "prob_unbatched": {"probabilities": True, "unbatched": True, "weighted": True},
}


def variant_args(name, dtype, seed=0):
    spec = dict(VARIANTS[name])
    smoothing = spec.pop("smoothing", 0.0)
    x, lw, t, kw = make(np.random.default_rng(seed), dtype, **spec)
    if smoothing:
        kw["label_smoothing"] = smoothing
    return x, lw, t, kw


def assert_close(actual, expected, dtype, scale=1.0):
    r = RTOL[dtype] * (10 if dtype == np.float32 else 1)  # GEMMs: sums in other orders
    np.testing.assert_allclose(actual, expected, rtol=r, atol=r * scale)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_matches_reference(variant, reduction, dtype):
    """value_and_grad and a random grad_output's VJP against the NumPy reference."""
    x, lw, t, kw = variant_args(variant, dtype)
    call = _linear_cross_entropy_call(x, lw, t, reduction=reduction, **kw)
    value, g = call.value_and_grad()
    ref_value, ref_g = reference(x, lw, t, kw, reduction)
    assert np.asarray(value).dtype == dtype and np.shape(value) == np.shape(ref_value)
    assert_close(value, ref_value, dtype)
    assert len(g) == len(ref_g) == (3 if "linear_bias" in kw else 2)
    for a, b, arg in zip(g, ref_g, (x, lw, kw.get("linear_bias"))):
        assert a.dtype == dtype and a.shape == arg.shape
        assert_close(a, b, dtype)
    go = np.random.default_rng(1).uniform(0.5, 2, call.out_shape if reduction == "none" else ())
    go = go.astype(dtype)
    for a, b in zip(call.grad(go), reference(x, lw, t, kw, reduction, go)[1]):
        assert_close(a, b, dtype)
    assert np.array_equal(call.value(), value, equal_nan=True)


@requires_torch
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_torch_parity(variant, reduction, dtype):
    """Value, three gradients and a VJP against torch's reference path."""
    x, lw, t, kw = variant_args(variant, dtype, seed=2)
    call = _linear_cross_entropy_call(x, lw, t, reduction=reduction, **kw)
    value, g = call.value_and_grad()
    t_value, t_g = torch_reference(x, lw, t, kw, reduction)
    assert np.shape(value) == t_value.shape and np.asarray(value).dtype == t_value.dtype
    np.testing.assert_allclose(value, t_value, rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-2)
    assert len(g) == len(t_g)
    for a, b in zip(g, t_g):
        assert_close(a, b, dtype, scale=1e-2)
    go = np.random.default_rng(3).uniform(0.5, 2, call.out_shape if reduction == "none" else ())
    go = go.astype(dtype)
    for a, b in zip(call.grad(go), torch_reference(x, lw, t, kw, reduction, go)[1]):
        assert_close(a, b, dtype, scale=1e-2)


@pytest.mark.parametrize("variant", ["bias", "smoothing", "kdim", "prob_weight_bias",
                                     "unbatched"])
def test_finite_differences(variant):
    """5-point central differences of sum(grad_output * loss), every argument."""
    x, lw, t, kw = variant_args(variant, np.float64, seed=4)
    call = _linear_cross_entropy_call(x, lw, t, reduction="none", **kw)
    go = np.random.default_rng(5).uniform(0.5, 1.5, call.out_shape)
    args = {"input": x, "linear_weight": lw, "linear_bias": kw.get("linear_bias")}
    for g, name in zip(call.grad(go), args):
        def f(v, name=name):
            a = dict(args, **{name: v})
            opts = dict(kw, linear_bias=a["linear_bias"])
            return float(np.sum(go * linear_cross_entropy(a["input"], a["linear_weight"], t,
                                                          reduction="none", **opts)))
        np.testing.assert_allclose(g, R.numeric_gradient(f, args[name]), rtol=1e-7, atol=1e-9,
                                   err_msg=name)


def test_entry_points_and_out_buffers():
    """functional == Module forward == fused value; backward == fused gradients; out=
    tuples are written in place; a grad_output scales every gradient."""
    rng = np.random.default_rng(6)
    crit = LinearCrossEntropyLoss(IN, 7, out_features=(2,), bias=True, dtype=np.float64,
                                  weight=rng.uniform(0.5, 1.5, 7), label_smoothing=0.1)
    x, t = rng.standard_normal((5, IN)), rng.integers(0, 7, (5, 2))
    value = crit(x, t)
    lw = crit.linear.weight.reshape(7, 2, IN)
    assert value == linear_cross_entropy(x, lw, t, linear_bias=crit.linear.bias.reshape(7, 2),
                                         weight=crit.weight, label_smoothing=0.1)
    g = crit.backward()
    fused_value, fused_g = crit.value_and_grad(x, t)
    assert fused_value == value
    assert [a.shape for a in g] == [x.shape, crit.linear.weight.shape, crit.linear.bias.shape]
    for a, b in zip(g, fused_g):
        assert np.array_equal(a, b)
    out = tuple(np.empty_like(a) for a in g)
    result = crit.backward(2.0, out=out)
    assert all(r is o for r, o in zip(result, out))
    for o, a in zip(out, g):
        np.testing.assert_allclose(o, 2 * a, rtol=1e-15)
    value2, result = crit.value_and_grad(x, t, out=out)
    assert value2 == value and all(r is o for r, o in zip(result, out))
    # an out= that aliases an input still gets the right numbers
    xc = x.copy()
    _, (gx, _, _) = crit.value_and_grad(xc, t, out=(xc, np.empty_like(out[1]),
                                                     np.empty_like(out[2])))
    assert gx is xc and np.array_equal(gx, g[0])
    with pytest.raises(ValueError):
        crit.backward(out=out[:2])


def test_any_chunking_and_thread_count_give_the_same_bits():
    """Several blocks (600 rows of 40000 logits: 416 rows a block); options'
    batch_chunk_size changes nothing; 1 and 2 threads agree to the bit, and with the
    float64 reference."""
    rng = np.random.default_rng(7)
    c, n = 40000, 600
    assert _core.linear_block_rows(c) < n
    x = rng.standard_normal((n, 8)).astype(np.float32)
    lw = (rng.standard_normal((c, 8)) / 3).astype(np.float32)
    lb = rng.standard_normal(c).astype(np.float32)
    t = rng.integers(0, c, n)
    t[::5] = -100
    results = []
    for threads, options in [(1, None), (2, None), (2, LinearCrossEntropyOptions(batch_chunk_size=7)),
                             (1, LinearCrossEntropyOptions(batch_chunk_size=n))]:
        with num_threads(threads):
            call = _linear_cross_entropy_call(x, lw, t, linear_bias=lb, label_smoothing=0.05,
                                              options=options)
            results.append(call.value_and_grad())
    v0, g0 = results[0]
    for v, g in results[1:]:
        assert v.tobytes() == v0.tobytes()
        assert all(a.tobytes() == b.tobytes() for a, b in zip(g, g0))
    ref_v, ref_g = reference(x, lw, t, {"linear_bias": lb, "label_smoothing": 0.05}, "mean")
    np.testing.assert_allclose(v0, ref_v, rtol=1e-5)
    for a, b in zip(g0, ref_g):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-7)


# torch's exception categories: each case against torch itself where it runs
ERROR_CASES = {
    "input_3d": (lambda: (np.zeros((2, 3, 4)), np.zeros((5, 4)), np.zeros(2, int)), {}),
    "input_0d": (lambda: (np.zeros(()), np.zeros((5, 1)), np.zeros((), int)), {}),
    "weight_1d": (lambda: (np.zeros((2, 4)), np.zeros(4), np.zeros(2, int)), {}),
    "in_features": (lambda: (np.zeros((2, 3)), np.zeros((5, 4)), np.zeros(2, int)), {}),
    "bias_shape": (lambda: (np.zeros((2, 4)), np.zeros((5, 4)), np.zeros(2, int)),
                   {"linear_bias": np.zeros(4)}),
    "kdim_unbatched": (lambda: (np.zeros(4), np.zeros((5, 2, 4)), np.zeros((2,), int)), {}),
    "ignore_with_prob": (lambda: (np.zeros((2, 4)), np.zeros((5, 4)), np.full((2, 5), 0.2)),
                         {"ignore_index": -100}),
    "target_batch": (lambda: (np.zeros((2, 4)), np.zeros((5, 4)), np.zeros(3, int)), {}),
    "target_range": (lambda: (np.zeros((2, 4)), np.zeros((5, 4)), np.array([1, 5])), {}),
    "target_negative": (lambda: (np.zeros((2, 4)), np.zeros((5, 4)), np.array([-2, 1])), {}),
    "weight_shape": (lambda: (np.zeros((2, 4)), np.zeros((5, 4)), np.zeros(2, int)),
                     {"weight": np.ones(4)}),
    "reduction": (lambda: (np.zeros((2, 4)), np.zeros((5, 4)), np.zeros(2, int)),
                  {"reduction": "batchmean"}),
    "float_target": (lambda: (np.zeros((2, 4)), np.zeros((5, 4)), np.zeros(2)), {}),
}
EXPECTED = {"target_range": IndexError, "target_negative": IndexError, "reduction": ValueError,
            "float_target": RuntimeError}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors(case):
    make_args, kw = ERROR_CASES[case]
    with pytest.raises(EXPECTED.get(case, RuntimeError)) as info:
        linear_cross_entropy(*make_args(), **kw)
    if torch is not None:
        targs = [torch.tensor(a) for a in make_args()]
        tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        with pytest.raises(Exception) as t_info:
            torch.nn.functional.linear_cross_entropy(*targs, **tkw)
        assert isinstance(info.value, type(t_info.value)), (info.value, t_info.value)
    if case == "target_range":
        assert str(info.value) == "Target 5 is out of bounds."


def test_options():
    """torch's checks of LinearCrossEntropyOptions' fields; closs accepts torch's too."""
    for bad in [{"acc_policy": "fast"}, {"chunking_method": "square"},
                {"chunking_method": "aspect_ratio:0"}, {"batch_chunk_size": 0},
                {"batch_chunk_size": 2.5}, {"acc_dtype": "int8"}]:
        with pytest.raises(ValueError):
            LinearCrossEntropyOptions(**bad)
    LinearCrossEntropyOptions(chunking_method="aspect_ratio:4", acc_dtype="float32")
    x, lw, t = np.ones((2, 3)), np.ones((4, 3)), np.array([0, 3])
    plain = linear_cross_entropy(x, lw, t)
    assert linear_cross_entropy(x, lw, t, options=LinearCrossEntropyOptions()) == plain
    if torch is not None:
        assert linear_cross_entropy(x, lw, t,
                                    options=torch.nn.LinearCrossEntropyOptions()) == plain
    with pytest.raises(TypeError):
        linear_cross_entropy(x, lw, t, options="chunked")


def test_module_parameters():
    """torch's Linear initialisation bounds, dtype, bias flag, settable parameters."""
    crit = LinearCrossEntropyLoss(16, 5, out_features=(3,), bias=True)
    assert crit.linear.weight.shape == (15, 16) and crit.linear.weight.dtype == np.float32
    assert crit.linear.bias.shape == (15,)
    assert np.abs(crit.linear.weight).max() <= 0.25 and np.abs(crit.linear.weight).std() > 0.05
    assert LinearCrossEntropyLoss(4, 3).linear.bias is None
    assert LinearCrossEntropyLoss(4, 3, dtype=np.float64).linear.weight.dtype == np.float64
    if torch is not None:
        assert LinearCrossEntropyLoss(4, 3, dtype=torch.float64).linear.weight.dtype == np.float64
    crit = LinearCrossEntropyLoss(2, 3, reduction="sum")
    crit.linear.weight = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    x, t = np.array([[2.0, 0.0]]), np.array([0])
    expected = np.log(np.exp(2.0) + 2.0) - 2.0
    np.testing.assert_allclose(crit(x, t), expected, rtol=1e-15)
    assert "num_classes=3" in repr(crit)
    with pytest.raises(RuntimeError):
        LinearCrossEntropyLoss(2, 3).backward()
    with pytest.raises(RuntimeError):
        LinearCrossEntropyLoss(2, 3, weight=np.ones(4))
    with pytest.raises(RuntimeError):
        LinearCrossEntropyLoss(2, 3, label_smoothing=1.5)
    with pytest.raises(ValueError):
        LinearCrossEntropyLoss(2, 3, device="cuda")


def test_dtypes_promote():
    """float32 input with a float64 weight computes in float64; gradients keep each
    argument's dtype; integer targets of any width."""
    rng = np.random.default_rng(8)
    x, lw = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((5, 4))
    t = np.array([0, 4, 2], np.int16)
    value, (gx, gw) = _linear_cross_entropy_call(x, lw, t).value_and_grad()
    assert np.asarray(value).dtype == np.float64 and gx.dtype == np.float32
    assert gw.dtype == np.float64
    np.testing.assert_allclose(value, reference(x, lw, t.astype(int), {}, "mean")[0], rtol=1e-12)


def test_fused_call_does_not_grow_memory_by_the_logits():
    """(8192, 64, 32000) float32: the logits alone would be 1 GB; the fused call's peak
    resident memory grows by its blocks (two of 512 x 32000 floats, 131 MB) and the
    gradient buffers given, measured in a fresh process (ru_maxrss sees C's malloc)."""
    script = textwrap.dedent("""
        import resource, numpy as np, closs
        from closs.functional import _linear_cross_entropy_call
        rng = np.random.default_rng(0)
        n, d, c = 8192, 64, 32000
        x = rng.standard_normal((n, d), dtype=np.float32)
        w = rng.standard_normal((c, d), dtype=np.float32) * 0.1
        t = rng.integers(0, c, n)
        out = (np.zeros_like(x), np.zeros_like(w))
        call = _linear_cross_entropy_call(x, w, t)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        value, _ = call.value_and_grad(out=out)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert np.isfinite(value)
        print((after - before) * 1024)
    """)
    grown = int(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                               text=True).stdout)
    assert grown < 256 * 2**20, f"peak memory grew by {grown / 2**20:.0f} MiB"
