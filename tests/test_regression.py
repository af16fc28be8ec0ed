"""The regression losses against PyTorch 2.13 (when importable) and their edge cases:
every option, broadcasting, NaN/inf, empty arrays, views, lists and tensors,
bad input, thread-count determinism and float32 accuracy."""

import warnings

import numpy as np
import pytest

import closs
import closs.functional as F
from closs import nn

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # parity tests skip; the rest run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

RTOL = {np.float32: 1e-5, np.float64: 1e-12}

# (name, Module, options) - every option torch has, beta = 0 included.
OPTIONS = [
    ("l1_loss", nn.L1Loss, {}),
    ("l1_loss", nn.L1Loss, {"weight": True}),
    ("mse_loss", nn.MSELoss, {}),
    ("mse_loss", nn.MSELoss, {"weight": True}),
    ("smooth_l1_loss", nn.SmoothL1Loss, {}),
    ("smooth_l1_loss", nn.SmoothL1Loss, {"beta": 0.0}),
    ("smooth_l1_loss", nn.SmoothL1Loss, {"beta": 0.25}),
    ("smooth_l1_loss", nn.SmoothL1Loss, {"beta": 3.0}),
    ("huber_loss", nn.HuberLoss, {}),
    ("huber_loss", nn.HuberLoss, {"delta": 0.1}),
    ("huber_loss", nn.HuberLoss, {"delta": 4.0, "weight": True}),
]
REDUCTIONS = ["none", "mean", "sum"]
# (input shape, target shape): equal, target broadcast, input broadcast, both.
SHAPES = [((5, 7), (5, 7)), ((4, 6), (1, 6)), ((6,), (3, 6)), ((3, 1), (1, 4)), ((), ())]


def opt_id(o):
    return ",".join(f"{k}={v}" for k, v in o.items()) or "default"


def option_params():
    return [pytest.param(n, m, o, id=f"{n}-{opt_id(o)}") for n, m, o in OPTIONS]


def torch_value_and_grad(name, x, y, reduction, options, grad_output=None):
    """torch's value and d/d input, in float64 NumPy arrays."""
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.tensor(y)
    opts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = getattr(TF, name)(tx, ty, reduction=reduction, **opts)
    go = torch.ones_like(value) if grad_output is None else torch.tensor(grad_output)
    (grad,) = torch.autograd.grad(value, tx, go)
    return value.detach().numpy(), grad.numpy()


def closs_value_and_grad(module_cls, x, y, reduction, options, grad_output=None):
    ctor = {k: v for k, v in options.items() if k != "weight"}
    fwd = {k: v for k, v in options.items() if k == "weight"}
    m = module_cls(reduction=reduction, **ctor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = m(x, y, **fwd)
    return value, m.backward(grad_output)


def with_arrays(options, shape, dtype, rng):
    return {k: rng.uniform(0.1, 2.0, shape).astype(dtype) if v is True else v
            for k, v in options.items()}


def assert_parity(actual, expected, dtype):
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-2)


# --------------------------------------------------------------------------- parity


@needs_torch
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: f"{s[0]}vs{s[1]}")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,module,options", option_params())
def test_torch_parity(name, module, options, dtype, reduction, shapes):
    rng = np.random.default_rng(0)
    xs, ys = shapes
    x = (rng.standard_normal(xs) * 2).astype(dtype)
    y = (rng.standard_normal(ys) * 2).astype(dtype)
    opts = with_arrays(options, xs, dtype, rng)
    value, grad = closs_value_and_grad(module, x, y, reduction, opts)
    t_value, t_grad = torch_value_and_grad(name, x, y, reduction, opts)
    assert np.shape(value) == t_value.shape and grad.shape == t_grad.shape
    assert np.asarray(value).dtype == t_value.dtype and grad.dtype == t_grad.dtype
    assert_parity(value, t_value, dtype)
    assert_parity(grad, t_grad, dtype)
    # functional == Module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.array_equal(getattr(F, name)(x, y, reduction=reduction, **opts), value)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,module,options", option_params())
def test_torch_parity_grad_output(name, module, options, reduction):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    opts = with_arrays(options, x.shape, np.float64, rng)
    go = rng.standard_normal(x.shape if reduction == "none" else ())
    _, grad = closs_value_and_grad(module, x, y, reduction, opts, go)
    _, t_grad = torch_value_and_grad(name, x, y, reduction, opts, go)
    assert_parity(grad, t_grad, np.float64)


SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0, -2.0, 0.5, 3.0])


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,module,options", option_params())
def test_torch_parity_nan_inf(name, module, options, reduction):
    """Every pair of special values: NaN and inf propagate as torch propagates them."""
    x, y = np.meshgrid(SPECIALS, SPECIALS)
    rng = np.random.default_rng(2)
    opts = with_arrays(options, x.shape, np.float64, rng)
    with np.errstate(invalid="ignore"):
        value, grad = closs_value_and_grad(module, x, y, reduction, opts)
    t_value, t_grad = torch_value_and_grad(name, x, y, reduction, opts)
    np.testing.assert_array_equal(np.isnan(value), np.isnan(t_value))
    np.testing.assert_allclose(value, t_value, rtol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,module,options", option_params())
def test_torch_parity_empty(name, module, options, reduction):
    x, y = np.empty((0, 3)), np.empty((0, 3))
    opts = with_arrays(options, x.shape, np.float64, np.random.default_rng(0))
    value, grad = closs_value_and_grad(module, x, y, reduction, opts)
    t_value, t_grad = torch_value_and_grad(name, x, y, reduction, opts)
    np.testing.assert_array_equal(value, t_value)  # NaN for 'mean', 0 for 'sum'
    assert grad.shape == t_grad.shape == (0, 3)


@needs_torch
@pytest.mark.parametrize("name,module,options", option_params())
def test_inputs_of_every_kind(name, module, options):
    """Non-contiguous views, lists, torch tensors and mixed dtypes give torch's results."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal((8, 10))
    x = base[::2, 1::3]  # strided view
    y = rng.standard_normal((3, 4)).astype(np.float32).T  # transposed float32
    opts = with_arrays(options, x.shape, np.float64, rng)
    t_value, t_grad = torch_value_and_grad(name, np.ascontiguousarray(x), y.astype(np.float64),
                                           "mean", opts)
    for xi, yi in [(x, y), (x.tolist(), y.tolist()), (torch.tensor(x), torch.tensor(y))]:
        value, grad = closs_value_and_grad(module, xi, yi, "mean", opts)
        assert_parity(value, t_value, np.float32)
        assert_parity(grad, t_grad, np.float32)
        assert grad.shape == x.shape


# --------------------------------------------------------------------------- semantics


def test_mixed_dtypes_promote_and_grad_keeps_the_input_dtype():
    x = np.linspace(-1, 1, 6, dtype=np.float32)
    y = np.zeros(6)
    value, grad = nn.MSELoss().value_and_grad(x, y)
    assert type(value) is np.float64 and grad.dtype == np.float32
    value, grad = nn.MSELoss().value_and_grad(np.arange(6), y)  # integers become float64
    assert type(value) is np.float64 and grad.dtype == np.float64
    assert value == np.mean(np.arange(6.0) ** 2)


def test_broadcast_warning_is_torchs():
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[1, 3\]\)\) that "
                      r"is different to the input size \(torch.Size\(\[2, 3\]\)\)"):
        F.l1_loss(np.ones((2, 3)), np.ones((1, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.l1_loss(np.ones((2, 3)), np.ones((2, 3)))


def test_weighted_mean_denominators():
    """l1/mse divide a weighted mean by the weight sum, huber by the element count."""
    x, y, w = np.array([1.0, 2.0, 4.0]), np.zeros(3), np.array([0.5, 1.0, 2.5])
    assert F.l1_loss(x, y, weight=w) == pytest.approx((0.5 + 2 + 10) / 4.0, rel=1e-15)
    assert F.mse_loss(x, y, weight=w) == pytest.approx((0.5 + 4 + 40) / 4.0, rel=1e-15)
    assert F.huber_loss(x, y, weight=w, delta=10) == pytest.approx((0.25 + 2 + 20) / 3, rel=1e-15)


@pytest.mark.parametrize("size_average,reduce,reduction", [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, True, "sum"),
    (True, False, "none"),
])
def test_deprecated_size_average_and_reduce(size_average, reduce, reduction):
    x, y = np.array([1.0, -2.0, 3.0]), np.zeros(3)
    with pytest.warns(DeprecationWarning, match=f"reduction='{reduction}'"):
        legacy = F.mse_loss(x, y, size_average=size_average, reduce=reduce)
    np.testing.assert_array_equal(legacy, F.mse_loss(x, y, reduction=reduction))
    with pytest.warns(DeprecationWarning):
        assert nn.SmoothL1Loss(size_average, reduce).reduction == reduction


def test_determinism_across_threads():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(3_000_000).astype(np.float32)
    y = rng.standard_normal(3_000_000).astype(np.float32)
    before = closs.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            closs.set_num_threads(threads)
            value, grad = nn.HuberLoss().value_and_grad(x, y)
            results.append((value, F.mse_loss(x, y, reduction="sum"), grad))
    finally:
        closs.set_num_threads(before)
    (v1, s1, g1), (v2, s2, g2) = results
    assert v1.tobytes() == v2.tobytes() and s1.tobytes() == s2.tobytes()
    assert g1.tobytes() == g2.tobytes()


def test_float32_sum_accuracy():
    """float32 sums accumulate in double: 1e7 elements within 1e-6 of a float64 sum."""
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, 10_000_000).astype(np.float32)
    y = np.zeros_like(x)
    exact = np.sum(x.astype(np.float64) ** 2)
    assert abs(float(F.mse_loss(x, y, reduction="sum")) - exact) <= 1e-6 * exact


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"])
def test_unbroadcastable_shapes(name):
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of "
                       r"tensor b \(4\) at non-singleton dimension 1"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(F, name)(np.ones((3, 2)), np.ones((3, 4)))


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss"])
def test_weight_of_the_wrong_shape(name):
    with pytest.raises(ValueError, match="Weights and input must have the same size."):
        getattr(F, name)(np.ones((3, 2)), np.ones((3, 2)), weight=np.ones(2))


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"])
def test_unknown_reduction(name):
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        getattr(F, name)(np.ones(3), np.ones(3), reduction="bad")
    with pytest.raises(ValueError, match="batchmean is not a valid value for reduction"):
        getattr(F, name)(np.ones(3), np.ones(3), reduction="batchmean")


def test_parameters_outside_their_domain():
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta."):
        F.smooth_l1_loss(np.ones(3), np.ones(3), beta=-0.5)
    for delta in (0.0, -1.0, float("nan")):
        with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values"):
            F.huber_loss(np.ones(3), np.ones(3), delta=delta)


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.array([1 + 2j, 3j]), [object(), None]],
                         ids=["str", "complex", "object"])
def test_unsupported_dtypes(bad):
    with pytest.raises(TypeError):
        F.mse_loss(bad, np.ones(2))


def test_backward_errors():
    m = nn.MSELoss(reduction="none")
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        m.backward()
    m(np.ones((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="grad_output has shape"):
        m.backward(np.ones(3))
    with pytest.raises(ValueError, match="out must be an ndarray of shape"):
        m.backward(out=np.empty((3, 2)))
    with pytest.raises(ValueError, match="out must be an ndarray of shape"):
        m.backward(out=np.empty((2, 3), np.float32))
    ro = np.empty((2, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        m.backward(out=ro)
    m = nn.MSELoss()
    m(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="must be a scalar"):
        m.backward(np.ones(3))


def test_out_buffer_of_a_broadcast_input():
    """out= works when the gradient is summed back to a broadcast input's shape."""
    x, y = np.array([1.0, 2.0]), np.zeros((3, 2))
    out = np.full(2, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grad = nn.MSELoss(reduction="sum").value_and_grad(x, y, out=out)
    assert grad is out
    np.testing.assert_array_equal(out, [6.0, 12.0])
    assert value == 15.0
