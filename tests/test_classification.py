"""nll_loss and cross_entropy against PyTorch 2.13 (when importable) and their edge cases:
every option (weight, ignore_index, label_smoothing with class indices and with
probabilities), unbatched, batched and K-dimensional input, integer target dtypes,
NaN/inf, empty input, finite differences, entry points agreeing, thread-count
determinism and bad input."""

import warnings

import numpy as np
import pytest

import closs
import closs.functional as F
from closs import _reference as R
from closs import nn

from conftest import RTOL, TF, num_threads, torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
REDUCTIONS = ["none", "mean", "sum"]

# (function, target kind, options): every option torch has; weight=True is a class weight.
OPTIONS = [
    ("nll_loss", "indices", {}),
    ("nll_loss", "indices", {"weight": True}),
    ("nll_loss", "indices", {"ignore_index": 1}),
    ("nll_loss", "indices", {"weight": True, "ignore_index": 1}),
    ("cross_entropy", "indices", {}),
    ("cross_entropy", "indices", {"weight": True}),
    ("cross_entropy", "indices", {"ignore_index": 1}),
    ("cross_entropy", "indices", {"label_smoothing": 0.1}),
    ("cross_entropy", "indices", {"label_smoothing": 1.0}),
    ("cross_entropy", "indices", {"weight": True, "label_smoothing": 0.25}),
    ("cross_entropy", "indices", {"weight": True, "ignore_index": 1, "label_smoothing": 0.25}),
    ("cross_entropy", "probabilities", {}),
    ("cross_entropy", "probabilities", {"weight": True}),
    ("cross_entropy", "probabilities", {"label_smoothing": 0.3}),
    ("cross_entropy", "probabilities", {"label_smoothing": 1.0}),
    ("cross_entropy", "probabilities", {"weight": True, "label_smoothing": 0.3}),
]
# unbatched, batched (C below one SIMD chunk, several chunks, large), K-dimensional
# with s = 5, 20, 40 (whole tiles and a tail) and K = 3.
SHAPES = [(7,), (6, 5), (5, 300), (2, 1000), (4, 3, 5), (2, 3, 4, 5), (2, 4, 40), (2, 3, 2, 2, 2)]
MODULES = {"nll_loss": nn.NLLLoss, "cross_entropy": nn.CrossEntropyLoss}
PREPARE = {"nll_loss": F._nll_call, "cross_entropy": F._cross_entropy_call}


def opt_id(o):
    return ",".join(f"{k}={v}" for k, v in o.items()) or "default"


def option_params():
    return [pytest.param(n, k, o, id=f"{n}-{k}-{opt_id(o)}") for n, k, o in OPTIONS]


def classes(shape):
    return shape[1] if len(shape) > 1 else shape[0]


def make(name, kind, shape, dtype, rng, options=None):
    """Input (log-probabilities for nll_loss, logits otherwise), target and options."""
    axis = 1 if len(shape) > 1 else 0
    x = rng.standard_normal(shape) * 2
    if name == "nll_loss":
        x = x - np.log(np.exp(x).sum(axis=axis, keepdims=True))
    c = classes(shape)
    if kind == "probabilities":
        p = np.exp(rng.standard_normal(shape))
        t = (p / p.sum(axis=axis, keepdims=True)).astype(dtype)
    else:
        t = rng.integers(0, max(c, 1), () if len(shape) == 1 else (shape[0],) + shape[2:])
    opts = {k: rng.uniform(0.2, 2.0, c).astype(dtype) if v is True else v
            for k, v in (options or {}).items()}
    return x.astype(dtype), t, opts


def torch_value_and_grad(name, x, t, reduction, options, grad_output=None, dtype=None):
    """torch's value and d/d input as NumPy arrays, computed in `dtype` (default: x's)."""
    dtype = dtype or x.dtype
    tx = torch.tensor(x.astype(dtype), requires_grad=True)
    tt = torch.tensor(t.astype(dtype) if t.dtype.kind == "f" else t.astype(np.int64))
    opts = {k: torch.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
            for k, v in options.items()}
    value = getattr(TF, name)(tx, tt, reduction=reduction, **opts)
    go = torch.ones_like(value) if grad_output is None else torch.tensor(grad_output, dtype=value.dtype)
    (grad,) = torch.autograd.grad(value, tx, go)
    return value.detach().numpy(), grad.numpy()


def closs_value_and_grad(name, x, t, reduction, options, grad_output=None):
    m = MODULES[name](reduction=reduction, **options)
    value = m(x, t)
    return value, m.backward(grad_output)


def assert_parity(actual, expected, dtype):
    """rtol of the dtype, and an absolute tolerance at that scale of the largest entry
    (gradients k softmax - u cancel to tiny entries)."""
    scale = np.nanmax(np.abs(expected), initial=0.0) if np.size(expected) else 0.0
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)


def go_for(rng, call_shape, reduction):
    return rng.uniform(0.5, 1.5, call_shape if reduction == "none" else ())


# --------------------------------------------------------------------------- parity


@needs_torch
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@DTYPES
@pytest.mark.parametrize("name,kind,options", option_params())
def test_torch_parity(name, kind, options, dtype, reduction, shape):
    """Value and vector-Jacobian product against torch in the same dtype, and against
    torch in float64 on the same numbers (closs's float32 accumulates in double)."""
    rng = np.random.default_rng(0)
    x, t, opts = make(name, kind, shape, dtype, rng, options)
    out_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    go = go_for(rng, out_shape, reduction)
    value, grad = closs_value_and_grad(name, x, t, reduction, opts, go)
    t_value, t_grad = torch_value_and_grad(name, x, t, reduction, opts, go)
    assert np.shape(value) == t_value.shape and grad.shape == t_grad.shape == shape
    assert np.asarray(value).dtype == t_value.dtype and grad.dtype == t_grad.dtype
    assert_parity(value, t_value, dtype)
    assert_parity(grad, t_grad, dtype)
    e_value, e_grad = torch_value_and_grad(name, x, t, reduction, opts, go, np.float64)
    assert_parity(value, e_value, dtype)
    assert_parity(grad, e_grad, dtype)
    # functional == Module
    assert np.array_equal(getattr(F, name)(x, t, reduction=reduction, **opts), value,
                          equal_nan=True)


@needs_torch
@pytest.mark.parametrize("tdtype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint64"])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_integer_target_dtypes(name, tdtype):
    """Class indices of any integer dtype give int64's results (torch takes int64)."""
    rng = np.random.default_rng(1)
    x, t, _ = make(name, "indices", (9, 6, 2), np.float32, rng)
    signed = np.dtype(tdtype).kind == "i"
    if signed:
        t[0, 0] = t[3, 1] = -100
    small = t.astype(tdtype)
    for reduction in REDUCTIONS:
        value, grad = closs_value_and_grad(name, x, small, reduction, {"label_smoothing": 0.1}
                                           if name == "cross_entropy" else {})
        v64, g64 = closs_value_and_grad(name, x, t, reduction, {"label_smoothing": 0.1}
                                        if name == "cross_entropy" else {})
        assert np.array_equal(value, v64) and np.array_equal(grad, g64)
        t_value, t_grad = torch_value_and_grad(name, x, t, reduction, {"label_smoothing": 0.1}
                                               if name == "cross_entropy" else {})
        assert_parity(value, t_value, np.float32)
        assert_parity(grad, t_grad, np.float32)


@needs_torch
@pytest.mark.parametrize("ignore_index", [-100, 0, 2, -1])
@pytest.mark.parametrize("name,kind,options", [p for p in option_params()
                                               if p.values[1] == "indices"])
def test_ignore_index_anywhere(name, kind, options, ignore_index):
    """ignore_index may be any integer, a class or not; ignored targets count nothing."""
    rng = np.random.default_rng(2)
    x, t, opts = make(name, kind, (12, 4), np.float64, rng, options)
    t[::3] = ignore_index if ignore_index != -1 else -1
    opts["ignore_index"] = ignore_index
    for reduction in REDUCTIONS:
        value, grad = closs_value_and_grad(name, x, t, reduction, opts)
        t_value, t_grad = torch_value_and_grad(name, x, t, reduction, opts)
        assert_parity(value, t_value, np.float64)
        assert_parity(grad, t_grad, np.float64)
        if reduction == "none":
            assert np.all(value[::3] == 0) and np.all(grad[::3] == 0)


@needs_torch
@pytest.mark.parametrize("name,kind,options", [p for p in option_params()
                                               if p.values[1] == "indices"])
def test_every_target_ignored(name, kind, options):
    """'mean' of no kept target is 0/0 = NaN, as torch; 'sum' 0; gradients 0."""
    rng = np.random.default_rng(3)
    x, t, opts = make(name, kind, (4, 3, 2), np.float64, rng, options)
    ignore = opts.get("ignore_index", -100)
    t[...] = ignore
    for reduction in REDUCTIONS:
        value, grad = closs_value_and_grad(name, x, t, reduction, opts)
        t_value, t_grad = torch_value_and_grad(name, x, t, reduction, opts)
        np.testing.assert_array_equal(value, t_value)
        np.testing.assert_array_equal(grad, t_grad)
        assert np.all(grad == 0)
    assert np.isnan(getattr(F, name)(x, t, **opts))


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kind,options", option_params())
def test_torch_parity_nan_inf(name, kind, options, reduction):
    """Masked logits (-inf), a NaN row, an all -inf row and +inf, with a target ignored."""
    rng = np.random.default_rng(4)
    x, t, opts = make(name, kind, (6, 4), np.float64, rng, options)
    x[0, 1] = x[0, 3] = -np.inf
    x[1, 2] = np.nan
    x[2, :] = -np.inf
    x[3, 0] = np.inf
    if kind == "indices":
        t[0] = 0
        t[4] = opts.get("ignore_index", -100)
        x[4, 1] = np.nan
    with np.errstate(invalid="ignore"):
        value, grad = closs_value_and_grad(name, x, t, reduction, opts)
        t_value, t_grad = torch_value_and_grad(name, x, t, reduction, opts)
    np.testing.assert_array_equal(np.isnan(value), np.isnan(t_value))
    np.testing.assert_array_equal(np.isnan(grad), np.isnan(t_grad))
    np.testing.assert_allclose(value, t_value, rtol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-15)


@needs_torch
@pytest.mark.parametrize("shape", [(0, 4), (0, 4, 3), (3, 4, 0), (3, 0)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_torch_parity_empty(kind, reduction, shape):
    rng = np.random.default_rng(5)
    x, t, _ = make("cross_entropy", kind, shape, np.float64, rng)
    opts = {"ignore_index": -100}
    if kind == "indices" and shape[1] == 0:
        t[...] = -100  # with no classes, only ignored targets are in range
    value, grad = closs_value_and_grad("cross_entropy", x, t, reduction, opts)
    t_value, t_grad = torch_value_and_grad("cross_entropy", x, t, reduction, opts)
    np.testing.assert_array_equal(value, t_value)  # NaN for 'mean', 0 for 'sum'
    assert np.shape(value) == t_value.shape and grad.shape == t_grad.shape == shape


@needs_torch
def test_unbatched_targets():
    """(C,) input takes a 0-d target, a (1,) target, or (C,) probabilities."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal(5)
    for t in (np.array(3), rng.uniform(0, 1, 5)):
        for name in ("cross_entropy", "nll_loss") if t.dtype.kind == "i" else ("cross_entropy",):
            value, grad = closs_value_and_grad(name, x, t, "none", {})
            t_value, t_grad = torch_value_and_grad(name, x, t, "none", {})
            assert np.shape(value) == () == t_value.shape
            assert_parity(value, t_value, np.float64)
            assert_parity(grad, t_grad, np.float64)
    # torch's forward takes a (1,) target like a 0-d one (its backward fails on it)
    for name in ("cross_entropy", "nll_loss"):
        value, grad = closs_value_and_grad(name, x, np.array([3]), "none", {})
        t_value = getattr(TF, name)(torch.tensor(x), torch.tensor([3]), reduction="none")
        assert np.shape(value) == () == tuple(t_value.shape)
        assert_parity(value, t_value.numpy(), np.float64)
        np.testing.assert_array_equal(grad, closs_value_and_grad(name, x, np.array(3), "none", {})[1])


@needs_torch
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_inputs_of_every_kind(name):
    """Non-contiguous views, lists, torch tensors and mixed dtypes give torch's results."""
    rng = np.random.default_rng(7)
    base = rng.standard_normal((12, 10))
    x = base[::2, 1::2]  # strided (6, 5) view
    t = np.array([0, 4, 2, 1, 3, 2])
    w = rng.uniform(0.5, 1.5, 5).astype(np.float32)
    t_value, t_grad = torch_value_and_grad(name, np.ascontiguousarray(x), t, "mean",
                                           {"weight": w.astype(np.float64)})
    for xi, ti, wi in [(x, t, w), (x.tolist(), t.tolist(), w.tolist()),
                       (torch.tensor(x), torch.tensor(t), torch.tensor(w))]:
        value, grad = closs_value_and_grad(name, xi, ti, "mean", {"weight": wi})
        assert_parity(value, t_value, np.float32)
        assert_parity(grad, t_grad, np.float32)
        assert grad.shape == x.shape


# --------------------------------------------------------------------------- semantics


def test_mixed_dtypes_promote_and_grad_keeps_the_input_dtype():
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    t = np.array([0, 1, 2, 1])
    # class weights never set the result dtype (torch raises for a float64 weight)
    value, grad = nn.CrossEntropyLoss(weight=np.ones(3)).value_and_grad(x, t)
    assert type(value) is np.float32 and grad.dtype == np.float32
    value, grad = nn.CrossEntropyLoss().value_and_grad(x, t.astype(np.float64)[:, None] * np.ones(3))
    assert type(value) is np.float64 and grad.dtype == np.float32
    value, grad = nn.CrossEntropyLoss().value_and_grad(x, t)
    assert type(value) is np.float32 and grad.dtype == np.float32


@pytest.mark.parametrize("shape", [(3,), (4, 5), (2, 3, 4), (2, 3, 2, 3)], ids=str)
@pytest.mark.parametrize("name,kind,options", option_params())
def test_finite_differences(name, kind, options, shape):
    """5-point central differences of sum(grad_output * loss) in float64."""
    rng = np.random.default_rng(8)
    x, t, opts = make(name, kind, shape, np.float64, rng, options)
    call = PREPARE[name]
    for reduction in REDUCTIONS:
        prepared = call(x, t, reduction=reduction, **opts)
        go = go_for(rng, prepared.out_shape, reduction)
        grad = prepared.grad(go)

        def f(xv):
            with np.errstate(invalid="ignore"):
                return float(np.nansum(go * call(xv, t, reduction=reduction, **opts).value()))

        numeric = R.numeric_gradient(f, x)
        if np.all(np.isnan(prepared.value())):  # every target ignored: no gradient
            numeric[...] = 0.0
        np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape", [(6, 5), (3, 200), (2, 3, 4, 5), (3, 7, 33)], ids=str)
@DTYPES
@pytest.mark.parametrize("name,kind,options", option_params())
def test_fused_is_forward_and_backward(name, kind, options, dtype, shape):
    rng = np.random.default_rng(9)
    x, t, opts = make(name, kind, shape, dtype, rng, options)
    for reduction in REDUCTIONS:
        m = MODULES[name](reduction=reduction, **opts)
        value = m(x, t)
        grad = m.backward()
        fused_value, fused_grad = m.value_and_grad(x, t)
        np.testing.assert_array_equal(fused_value, value)
        tol = 1e-6 if dtype == np.float32 else 1e-14
        np.testing.assert_allclose(fused_grad, grad, rtol=tol, atol=tol * np.abs(grad).max())
        out = np.empty_like(x)
        assert m.backward(out=out) is out
        np.testing.assert_array_equal(out, grad)


@pytest.mark.parametrize("name,kind,options", option_params())
def test_matches_reference_kdim(name, kind, options):
    """K-dimensional input against the NumPy reference (float64, rtol 1e-12)."""
    rng = np.random.default_rng(10)
    x, t, opts = make(name, kind, (3, 6, 5, 4), np.float64, rng, options)
    reference = getattr(R, name)
    for reduction in REDUCTIONS:
        value, grad = PREPARE[name](x, t, reduction=reduction, **opts).value_and_grad()
        ref_value, ref_grad = reference(x, t, reduction=reduction, **opts)
        np.testing.assert_allclose(value, ref_value, rtol=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", [(3000, 50), (4, 10, 3000), (20011, 3), (40009, 2)], ids=str)
def test_determinism_across_threads(shape):
    rng = np.random.default_rng(11)
    x, t, _ = make("cross_entropy", "indices", shape, np.float32, rng)
    w = rng.uniform(0.5, 2, shape[1]).astype(np.float32)
    results = []
    for threads in (1, 2, 3):
        with num_threads(threads):
            m = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)
            value, grad = m.value_and_grad(x, t)
            results.append((value, F.nll_loss(x, t, reduction="sum"), grad))
    for value, nll, grad in results[1:]:
        assert value.tobytes() == results[0][0].tobytes()
        assert nll.tobytes() == results[0][1].tobytes()
        assert grad.tobytes() == results[0][2].tobytes()


# ------------------------------------------------------------ few-class rows

# cross_entropy rows (s == 1) of c <= CL_FEW = 16 classes (classification.c) run
# CL_L = 16 rows at a time as the lanes of vectors: rows in whole groups and a short
# last group (a padded copy), c on both sides of the cut-off, and (N, C, d) input
# of as few classes (the 'tiles' kernels) alongside.
FEW_CLASSES = (2, 3, 10, 15, 16, 17)  # c = 1: tests/test_class_counts.py
FEW_SHAPES = {"5": lambda c: (5, c), "37": lambda c: (37, c), "3xd37": lambda c: (3, c, 37)}
FEW_OPTIONS = [pytest.param(o, id=opt_id(o)) for n, k, o in OPTIONS
               if n == "cross_entropy" and k == "indices"]


@needs_torch
@pytest.mark.parametrize("shape", FEW_SHAPES)
@pytest.mark.parametrize("c", FEW_CLASSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@DTYPES
@pytest.mark.parametrize("options", FEW_OPTIONS)
def test_few_classes(options, dtype, reduction, c, shape):
    """Value and gradient (backward with a grad_output, and fused) against torch in the
    same dtype and in float64, and against the NumPy reference, with a tenth of the
    targets ignored where ignore_index is set."""
    rng = np.random.default_rng(c)
    shape = FEW_SHAPES[shape](c)
    x, t, opts = make("cross_entropy", "indices", shape, dtype, rng, options)
    if "ignore_index" in opts:
        t[rng.random(t.shape) < 0.1] = opts["ignore_index"]
    go = go_for(rng, t.shape, reduction)
    value, grad = closs_value_and_grad("cross_entropy", x, t, reduction, opts, go)
    for ref_dtype in (dtype, np.float64):
        t_value, t_grad = torch_value_and_grad("cross_entropy", x, t, reduction, opts, go,
                                               ref_dtype)
        assert_parity(value, t_value, dtype)
        assert_parity(grad, t_grad, dtype)
    ref_value, ref_grad = R.cross_entropy(x.astype(np.float64), t, reduction=reduction,
                                          **{k: v.astype(np.float64) if isinstance(v, np.ndarray)
                                             else v for k, v in opts.items()})
    assert_parity(value, ref_value, dtype)
    if reduction != "none":
        assert_parity(grad, ref_grad * go, dtype)
    fused_value, fused_grad = nn.CrossEntropyLoss(reduction=reduction, **opts).value_and_grad(x, t)
    assert np.array_equal(fused_value, value)
    assert_parity(fused_grad, ref_grad, dtype)


@needs_torch
@pytest.mark.parametrize("c", [2, 3, 10, 16])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", FEW_OPTIONS)
def test_few_classes_nan_inf(options, reduction, c):
    """Masked logits (-inf), NaN rows, all -inf rows and +inf, with ignored targets
    (one on a NaN row), in a whole group of rows and in the short last group."""
    rng = np.random.default_rng(5)
    x, t, opts = make("cross_entropy", "indices", (37, c), np.float64, rng, options)
    for r in (0, 33):  # a whole group's row, the last group's
        x[r, 0] = x[r, c - 1] = -np.inf
        t[r] = 0 if c > 2 else t[r]
        x[r + 1, c // 2] = np.nan
        x[r + 2, :] = -np.inf
        x[r + 3, c - 1] = np.inf
    t[5] = opts.get("ignore_index", -100)
    x[5, 0] = np.nan
    with np.errstate(invalid="ignore"):
        value, grad = closs_value_and_grad("cross_entropy", x, t, reduction, opts)
        t_value, t_grad = torch_value_and_grad("cross_entropy", x, t, reduction, opts)
    np.testing.assert_array_equal(np.isnan(value), np.isnan(t_value))
    np.testing.assert_array_equal(np.isnan(grad), np.isnan(t_grad))
    np.testing.assert_allclose(value, t_value, rtol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-15)


def test_label_smoothing_with_indices_is_torchs_formula():
    """(1 - e) nll + (e / C) sum_c w_c (-log p_c), both over the kept targets' weight."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 4))
    t = np.array([0, 3, -100, 1, 1])
    w = np.array([0.5, 1.0, 2.0, 3.0])
    eps = 0.3
    log_p = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    kept = t != -100
    nll = -(w[t[kept]] * log_p[kept, t[kept]]).sum() / w[t[kept]].sum()
    smooth = -(log_p[kept] * w).sum() / w[t[kept]].sum()
    expected = (1 - eps) * nll + eps / 4 * smooth
    assert F.cross_entropy(x, t, weight=w, label_smoothing=eps) == pytest.approx(expected, rel=1e-14)


def test_probability_mean_divides_by_positions():
    """With probabilities, 'mean' divides by N * d1..dK whatever the weight."""
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 4, 5))
    p = rng.uniform(0, 1, (3, 4, 5))
    w = rng.uniform(0.5, 2, 4)
    total = F.cross_entropy(x, p, weight=w, reduction="sum", label_smoothing=0.2)
    mean = F.cross_entropy(x, p, weight=w, label_smoothing=0.2)
    assert mean == pytest.approx(total / 15, rel=1e-14)


@pytest.mark.parametrize("size_average,reduce,reduction", [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"),
])
def test_deprecated_size_average_and_reduce(size_average, reduce, reduction):
    x, t = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, 0.1]]), np.array([2, 0])
    for name in ("nll_loss", "cross_entropy"):
        with pytest.warns(DeprecationWarning, match=f"reduction='{reduction}'"):
            legacy = getattr(F, name)(x, t, size_average=size_average, reduce=reduce)
        np.testing.assert_array_equal(legacy, getattr(F, name)(x, t, reduction=reduction))
        with pytest.warns(DeprecationWarning):
            assert MODULES[name](size_average=size_average, reduce=reduce).reduction == reduction


def test_module_repr_and_options():
    m = nn.CrossEntropyLoss(weight=[1.0, 2.0], ignore_index=1, reduction="sum", label_smoothing=0.1)
    assert repr(m) == "CrossEntropyLoss(reduction='sum', ignore_index=1, label_smoothing=0.1)"
    assert repr(nn.NLLLoss()) == "NLLLoss(reduction='mean', ignore_index=-100)"
    x, t = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]]), np.array([0, 1, 0])
    assert m(x, t) == F.cross_entropy(x, t, weight=[1.0, 2.0], ignore_index=1, reduction="sum",
                                      label_smoothing=0.1)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("op", ["forward", "backward", "fused"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_index_out_of_range(name, reduction, op):
    x = np.zeros((4, 5, 3), np.float32)
    t = np.zeros((4, 3), np.int8)
    t[2, 1] = 7
    t[3, 0] = -3
    run = {"forward": "value", "backward": "grad", "fused": "value_and_grad"}[op]
    with pytest.raises(IndexError, match=r"^Target 7 is out of bounds\.$"):
        getattr(PREPARE[name](x, t, reduction=reduction), run)()
    t[2, 1] = 0
    with pytest.raises(IndexError, match=r"^Target -3 is out of bounds\.$"):
        getattr(PREPARE[name](x, t, reduction=reduction), run)()


@needs_torch
def test_out_of_range_names_torchs_value():
    x = np.zeros((3, 5))
    for t, ignore in (([0, 9, -4], -100), ([-100, 5, 1], -100), ([7, 1, 1], 7), ([5, 0, 0], -100)):
        t = np.array(t)
        if ignore == 7:  # ignored, however large
            F.cross_entropy(x, t, ignore_index=ignore)
            continue
        with pytest.raises(IndexError) as ours:
            F.cross_entropy(x, t, ignore_index=ignore, label_smoothing=0.1)
        with pytest.raises(IndexError) as theirs:
            TF.cross_entropy(torch.tensor(x), torch.tensor(t), ignore_index=ignore)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(IndexError, match="Target 18446744073709551615 is out of bounds."):
        F.nll_loss(x, np.array([0, 1, 2**64 - 1], np.uint64))


@pytest.mark.parametrize("x_shape,t_shape,error,message", [
    ((3, 5), (2,), ValueError, r"Expected input batch_size \(3\) to match target batch_size \(2\)."),
    ((3, 5), (), ValueError, r"Expected input batch_size \(3\) to match target batch_size \(0\)."),
    ((3, 5), (3, 2), RuntimeError, "0D or 1D target tensor expected, multi-target not supported"),
    ((5,), (2,), ValueError, "For 1D input, 1D target must have size 1, but got target size: 2"),
    ((5,), (1, 1), RuntimeError, "0D or 1D target tensor expected"),
    ((2, 5, 4), (2, 3), RuntimeError, r"Expected target size \[2, 4\], got \[2, 3\]"),
    ((2, 5, 4, 3), (2, 4), RuntimeError, r"Expected target size \[2, 4, 3\], got \[2, 4\]"),
    ((), (), RuntimeError, r"Expected 1 or more dimensions \(got 0\)"),
], ids=lambda v: str(v) if isinstance(v, tuple) else None)
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_target_shape_mismatch(name, x_shape, t_shape, error, message):
    with pytest.raises(error, match=message):
        getattr(F, name)(np.zeros(x_shape), np.zeros(t_shape, np.int64))


@pytest.mark.parametrize("weight", [np.ones(4), np.ones(6), np.ones((1, 5)), np.ones(())],
                         ids=["short", "long", "2d", "0d"])
@pytest.mark.parametrize("name,kind", [("nll_loss", "indices"), ("cross_entropy", "indices"),
                                       ("cross_entropy", "probabilities")])
def test_weight_of_the_wrong_length(name, kind, weight):
    x = np.zeros((3, 5))
    t = np.zeros((3, 5)) if kind == "probabilities" else np.array([0, 1, 2])
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 5 "
                       "classes or no classes but got weight tensor of shape"):
        getattr(F, name)(x, t, weight=weight)


def test_probability_targets_need_the_inputs_shape_and_a_float_dtype():
    x = np.zeros((2, 5, 3))
    # a float target of another shape is taken for class indices, as torch does
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 3\], got \[2, 5, 4\]"):
        F.cross_entropy(x, np.zeros((2, 5, 4)))
    with pytest.raises(TypeError, match="Expected floating point type for target with class "
                       "probabilities, got int64"):
        F.cross_entropy(x, np.zeros((2, 5, 3), np.int64))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, np.zeros((2, 5, 3)), ignore_index=0)


@pytest.mark.parametrize("target", [np.array([0.0, 1.0, 2.0]), np.array([True, False, True])],
                         ids=["float", "bool"])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_indices_must_be_integers(name, target):
    with pytest.raises(TypeError, match="expected an integer class-index target"):
        getattr(F, name)(np.zeros((3, 4)), target)


@pytest.mark.parametrize("label_smoothing", [-0.1, 1.5, float("nan")])
@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_label_smoothing_outside_0_1(kind, label_smoothing):
    """torch rejects > 1; closs also rejects < 0 and NaN, which torch silently ignores."""
    x = np.zeros((3, 4))
    t = np.zeros((3, 4)) if kind == "probabilities" else np.array([0, 1, 2])
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, t, label_smoothing=label_smoothing)
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        nn.CrossEntropyLoss(label_smoothing=label_smoothing)(x, t)


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_unknown_reduction(name):
    for reduction in ("bad", "batchmean"):
        with pytest.raises(ValueError, match=f"{reduction} is not a valid value for reduction"):
            getattr(F, name)(np.zeros((2, 3)), np.array([0, 1]), reduction=reduction)


@pytest.mark.parametrize("bad", [np.array([["a", "b"]]), np.array([[1 + 2j, 3j]])],
                         ids=["str", "complex"])
def test_unsupported_input_dtypes(bad):
    with pytest.raises(TypeError):
        F.cross_entropy(bad, np.array([0]))


def test_backward_errors():
    m = nn.CrossEntropyLoss(reduction="none")
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        m.backward()
    m(np.zeros((2, 3, 4)), np.zeros((2, 4), np.int64))
    with pytest.raises(ValueError, match="grad_output has shape"):
        m.backward(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="out must be an ndarray of shape"):
        m.backward(out=np.empty((2, 4)))
    m = nn.NLLLoss()
    m(np.zeros((2, 3)), np.array([0, 2]))
    with pytest.raises(ValueError, match="must be a scalar"):
        m.backward(np.ones(2))


@pytest.mark.parametrize("c", [2, 3, 10, 16])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_few_classes_float32_small_losses(c, label_smoothing):
    """float32 rows of few classes (the few-class kernels, which work in the input's
    dtype) whose right class is confident (by 4 to 16), losses down to about 1e-10: each value within a
    few float32 ulp of the float64 value of the same input (lse - x_t is formed
    without cancellation, log sum as log1p of the terms below the max's 1), and the
    gradient too."""
    rng = np.random.default_rng(c)
    n = 1000
    t = rng.integers(0, c, n)
    x = rng.normal(size=(n, c)).astype(np.float32)
    x[np.arange(n), t] += rng.uniform(4, 16, n).astype(np.float32)
    x64 = x.astype(np.float64)
    logp = x64 - (x64.max(1) + np.log(np.exp(x64 - x64.max(1)[:, None]).sum(1)))[:, None]
    u = np.full((n, c), label_smoothing / c)
    u[np.arange(n), t] += 1 - label_smoothing
    ref = -(u * logp).sum(1)
    ref_grad = np.exp(logp) - u
    loss = nn.CrossEntropyLoss(reduction="none", label_smoothing=label_smoothing)
    value, grad = loss.value_and_grad(x, t)
    assert value.dtype == np.float32 and grad.dtype == np.float32
    eps = np.finfo(np.float32).eps
    # e^(x_j - m) carries the rounding of x_j - m in float32: |x_j - m| eps / 2 relative
    rel = 8 * eps + eps * (x64.max(1)[:, None] - x64)
    np.testing.assert_array_less(np.abs(value - ref), rel.max(1) * np.abs(ref) + 1e-45)
    np.testing.assert_array_less(np.abs(grad - ref_grad), rel * np.abs(ref_grad) + 4 * eps * u + 1e-45)
