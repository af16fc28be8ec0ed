"""The element-wise family against PyTorch 2.13 (when importable) and its edge cases.

Regression losses: every option, broadcasting, NaN/inf, empty arrays, views, lists
and tensors, bad input, thread-count determinism and float32 accuracy. Binary-target
and distribution losses: domains, clamps, extreme logits, label values, zero
targets, shapes, bad input. (tests/test_losses.py walks the registry for all.)"""

import warnings

import numpy as np
import pytest

import closs
import closs.functional as F
from closs import nn
from closs._registry import LOSSES

from conftest import RTOL, TF, assert_parity, num_threads, torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# (name, Module, options): the registry's grids of the regression losses (every
# option torch has, beta = 0 included).
OPTIONS = [(name, LOSSES[name].module, options)
           for name in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss")
           for options in LOSSES[name].grid]
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
    results = []
    for threads in (1, 2):
        with num_threads(threads):
            value, grad = nn.HuberLoss().value_and_grad(x, y)
            results.append((value, F.mse_loss(x, y, reduction="sum"), grad))
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


# =========================================================================== binary targets, distributions


def both(name, module, args, reduction="sum", **options):
    """closs's (value, grad) through the Module and torch's, for args[0]."""
    m = module(reduction=reduction, **{k: v for k, v in options.items()})
    value, grad = m.value_and_grad(*args)
    targs = [torch.tensor(np.asarray(a)) for a in args]
    targs[0].requires_grad_(True)
    topts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    t_value = getattr(TF, name)(*targs, reduction=reduction, **topts)
    (t_grad,) = torch.autograd.grad(t_value.sum(), targs[0])
    return (value, grad), (t_value.detach().numpy(), t_grad.numpy())


def assert_same(ours, theirs, rtol=1e-12):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


# --------------------------------------------------------------------------- BCE


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bce_at_exactly_zero_and_one(dtype):
    """The logs clamp at -100; the gradient divides by max(x (1 - x), 1e-12) as torch does."""
    x = np.array([0, 1, 0, 1, 0.5, 1e-30], dtype)
    y = np.array([1, 0, 0, 1, 0.5, 1], dtype)
    ours, theirs = both("binary_cross_entropy", nn.BCELoss, (x, y), "none")
    assert_same(ours, theirs, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert ours[0][0] == 100


@pytest.mark.parametrize("x,y,which", [
    ([0.5, 1.5], [0.5, 0.5], "input"), ([-0.1, 0.5], [0.5, 0.5], "input"),
    ([np.nan, 0.5], [0.5, 0.5], "input"), ([0.5, 0.5], [0.5, 1.5], "target"),
    ([0.5, 0.5], [np.nan, 0.5], "target"),
])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_outside_its_domain(x, y, which, reduction):
    message = f"all elements of {which} should be between 0 and 1"
    with pytest.raises(RuntimeError, match=message):
        F.binary_cross_entropy(np.array(x), np.array(y), reduction=reduction)
    with pytest.raises(RuntimeError, match=message):
        nn.BCELoss(reduction=reduction).value_and_grad(np.array(x), np.array(y))


def test_bce_nan_weight_is_not_a_domain_error():
    value = F.binary_cross_entropy(np.array([0.5, 0.5]), np.array([0.5, 1.0]),
                                   weight=np.array([np.nan, 1.0]))
    assert np.isnan(value)


def test_bce_shape_rules():
    with pytest.raises(ValueError, match=r"Using a target size \(torch.Size\(\[1, 2\]\)\) that is "
                       r"different to the input size \(torch.Size\(\[2\]\)\) is deprecated"):
        F.binary_cross_entropy(np.full(2, 0.5), np.full((1, 2), 0.5))
    with pytest.raises(RuntimeError, match="must match the size"):
        F.binary_cross_entropy(np.full((2, 3), 0.5), np.full((2, 3), 0.5), weight=np.ones(2))
    with pytest.raises(ValueError, match=r"Target size \(torch.Size\(\[4, 2\]\)\) must be the same "
                       r"as input size \(torch.Size\(\[4, 3\]\)\)"):
        F.binary_cross_entropy_with_logits(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(RuntimeError, match="must match the size"):
        F.binary_cross_entropy_with_logits(np.zeros((4, 3)), np.zeros((4, 3)),
                                           pos_weight=np.ones(4))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bce_with_logits_is_stable_at_extreme_logits(dtype):
    x = np.array([-1e4, -100, -20, 0, 20, 100, 1e4], dtype)
    y = np.array([1, 0.3, 1, 0.5, 0, 0.7, 0], dtype)
    pw = np.array([2.5], dtype)
    for options in ({}, {"pos_weight": pw}):
        ours, theirs = both("binary_cross_entropy_with_logits", nn.BCEWithLogitsLoss, (x, y),
                            "none", **options)
        assert np.all(np.isfinite(ours[0])) and np.all(np.isfinite(ours[1]))
        assert_same(ours, theirs, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert F.binary_cross_entropy_with_logits(x[:1], y[:1]) == pytest.approx(1e4)


@needs_torch
def test_pos_weight_broadcasts_along_the_class_dimension():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3, 4)), rng.uniform(size=(2, 3, 4))
    for pw in (rng.uniform(0.5, 2, 4), rng.uniform(0.5, 2, (3, 1)), rng.uniform(0.5, 2, (1, 4))):
        ours, theirs = both("binary_cross_entropy_with_logits", nn.BCEWithLogitsLoss, (x, y),
                            "mean", pos_weight=pw, weight=rng.uniform(0.5, 2, (3, 4)))
        assert_same(ours, theirs)


# --------------------------------------------------------------------------- labels


@needs_torch
def test_soft_margin_deviates_from_torch_only_where_torch_overflows():
    x = np.array([-3.0, 0.0, 2.0, 1e3])
    y = np.array([1.0, -1.0, -1.0, -1.0])
    (value, grad), (t_value, t_grad) = both("soft_margin_loss", nn.SoftMarginLoss, (x, y), "none")
    assert_same((value[:3], grad[:3]), (t_value[:3], t_grad[:3]))
    # log(1 + exp(1000)): torch gives inf and a NaN gradient, closs the exact 1000 and 1
    assert np.isinf(t_value[3]) and value[3] == 1e3 and grad[3] == 1.0


def test_soft_margin_broadcasts_the_target_only():
    assert F.soft_margin_loss(np.zeros((4, 3)), np.ones((1, 3))) == pytest.approx(np.log(2))
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast"):
        F.soft_margin_loss(np.zeros(3), np.ones((4, 3)))


@needs_torch
def test_hinge_embedding_labels_other_than_plus_minus_one():
    x = np.array([1.0, 2.0, 0.0, 0.5, np.nan, 1.0, -1.5])
    y = np.array([-1.0, -1.0, 2.0, 0.0, -1.0, 1.0, -1.0])
    with np.errstate(invalid="ignore"):
        ours, theirs = both("hinge_embedding_loss", nn.HingeEmbeddingLoss, (x, y), "none")
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


@needs_torch
@pytest.mark.parametrize("shape", [(6,), (3, 6), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_multilabel_soft_margin_shapes(shape, reduction):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(shape), rng.integers(0, 2, shape).astype(np.float64)
    w = rng.uniform(0.5, 2, shape[-1])
    ours, theirs = both("multilabel_soft_margin_loss", nn.MultiLabelSoftMarginLoss, (x, y),
                        reduction, weight=w)
    assert np.shape(ours[0]) == theirs[0].shape
    assert_same(ours, theirs)


# --------------------------------------------------------------------------- distributions


@needs_torch
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_zero_and_negative_targets(log_target):
    x = np.array([-1.0, -2.0, -0.5, 0.0])
    y = np.array([0.0, 0.5, -0.25, 1.0])
    with np.errstate(invalid="ignore"):
        ours, theirs = both("kl_div", nn.KLDivLoss, (x, y), "none", log_target=log_target)
    np.testing.assert_array_equal(np.isnan(ours[0]), np.isnan(theirs[0]))
    assert_same(ours, theirs)


@needs_torch
@pytest.mark.parametrize("shape", [(), (5,), (3, 4)], ids=str)
def test_kl_div_batchmean_divides_by_the_first_dimension(shape):
    rng = np.random.default_rng(2)
    x, y = np.log(rng.uniform(0.1, 1, shape)), rng.uniform(0, 1, shape)
    ours, theirs = both("kl_div", nn.KLDivLoss, (x, y), "batchmean")
    assert_same(ours, theirs)


def test_kl_div_mean_warns_as_torch_does():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(np.zeros(3), np.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(np.zeros(3), np.ones(3), reduction="batchmean")


@needs_torch
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [True, False])
def test_poisson_stirling_term_only_where_target_exceeds_one(log_input, full):
    x = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    y = np.array([0.0, 1.0, 1.5, 4.0, 0.5])
    ours, theirs = both("poisson_nll_loss", nn.PoissonNLLLoss, (x, y), "none",
                        log_input=log_input, full=full, eps=1e-3)
    assert_same(ours, theirs)


@pytest.mark.parametrize("fn", [F.binary_cross_entropy_with_logits, F.soft_margin_loss,
                                F.hinge_embedding_loss, F.poisson_nll_loss,
                                F.multilabel_soft_margin_loss])
def test_batchmean_is_only_for_kl_div(fn):
    with pytest.raises(ValueError, match="batchmean is not a valid value for reduction"):
        fn(np.zeros(3), np.ones(3), reduction="batchmean")


def test_legacy_reduction_arguments():
    x, y = np.array([0.2, 0.7]), np.array([0.0, 1.0])
    with pytest.warns(DeprecationWarning, match="reduction='sum'"):
        legacy = F.binary_cross_entropy(x, y, size_average=False)
    assert legacy == F.binary_cross_entropy(x, y, reduction="sum")
    with pytest.warns(DeprecationWarning, match="reduction='none'"):
        assert nn.KLDivLoss(reduce=False).reduction == "none"


# --------------------------------------------------------------------------- gaussian_nll_loss


def torch_gaussian(x, y, var, **options):
    tx = torch.tensor(x, requires_grad=True)
    tv = torch.tensor(var, requires_grad=True)
    value = TF.gaussian_nll_loss(tx, torch.tensor(y), tv, **options)
    gx, gv = torch.autograd.grad(value.sum(), (tx, tv))
    return value.detach().numpy(), gx.numpy(), gv.numpy()


@needs_torch
@pytest.mark.parametrize("var_shape", [(4, 3, 5), (4, 3, 1), (4, 3), (4, 1, 5), (1, 3, 5)], ids=str)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_gaussian_nll_var_shapes_and_gradients(var_shape, reduction, full, dtype):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((4, 3, 5)).astype(dtype), rng.standard_normal((4, 3, 5)).astype(dtype)
    var = rng.uniform(0, 2, var_shape).astype(dtype)
    var.flat[0] = 1e-9  # clamped to eps; its gradient still flows, as torch's does
    m = nn.GaussianNLLLoss(full=full, reduction=reduction)
    value, (gx, gv) = m.value_and_grad(x, y, var)
    t_value, t_gx, t_gv = torch_gaussian(x, y, var, full=full, reduction=reduction)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert gv.shape == var.shape and gv.dtype == dtype
    for a, b in ((value, t_value), (gx, t_gx), (gv, t_gv)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3)
    bx, bv = m.backward()
    np.testing.assert_allclose(bv, gv, rtol=1e-6)


def test_gaussian_nll_float_var_gives_the_input_gradient_alone():
    x, y = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    value, grad = nn.GaussianNLLLoss(reduction="sum").value_and_grad(x, y, 2.0)
    assert isinstance(grad, np.ndarray) and grad.tolist() == [-0.5, 0.0]
    assert value == pytest.approx(np.log(2.0) + 0.25)


def test_gaussian_nll_out_buffers_are_a_tuple():
    x, y, v = np.zeros(3), np.ones(3), np.ones(3)
    outs = (np.empty(3), np.empty(3))
    _, grads = nn.GaussianNLLLoss().value_and_grad(x, y, v, out=outs)
    assert grads[0] is outs[0] and grads[1] is outs[1]
    with pytest.raises(ValueError, match="out must be a tuple of 2 arrays"):
        nn.GaussianNLLLoss().value_and_grad(x, y, v, out=np.empty(3))


@pytest.mark.parametrize("var,message", [
    (np.array([1.0, -0.1, 1.0]), "var has negative entry/entries"),
    (-1.0, "var has negative entry/entries"),
    (np.ones(2), "var is of incorrect size"),
    (np.ones((3, 2)), "var is of incorrect size"),
])
def test_gaussian_nll_bad_var(var, message):
    with pytest.raises(ValueError, match=message):
        F.gaussian_nll_loss(np.zeros(3), np.zeros(3), var)


def test_gaussian_nll_bad_reduction_message_is_torchs():
    with pytest.raises(ValueError, match="^bad is not valid$"):
        F.gaussian_nll_loss(np.zeros(3), np.zeros(3), np.ones(3), reduction="bad")


def test_gaussian_nll_nan_var_propagates():
    value = F.gaussian_nll_loss(np.zeros(2), np.zeros(2), np.array([np.nan, 1.0]))
    assert np.isnan(value)


def test_huber_delta_type_is_checked_at_construction():
    """torch.nn.HuberLoss raises TypeError for a non-real delta when constructed; its
    value is checked at forward (a negative delta constructs)."""
    with pytest.raises(TypeError, match="delta"):
        closs.nn.HuberLoss(delta=1 + 0j)
    loss = closs.nn.HuberLoss(delta=-1.0)
    with pytest.raises(closs.ParameterError, match="delta"):
        loss(np.zeros(3), np.ones(3))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kl_div_zero_and_special_targets_match_torch(dtype):
    """0 log 0 = 0 with torch's sign (+0 for a -0 target), NaN, inf, negative and
    subnormal targets; the zero targets take no slower path (benchmarks)."""
    y = np.array([0, -0.0, np.nan, -1, np.inf, 1e-45, 1e-38, 2, 0, 0], dtype)
    x = np.array([-1, -2, -1, -1, -1, -1, -1, -1, np.nan, np.inf], dtype)
    value, grad = closs.nn.KLDivLoss(reduction="none").value_and_grad(x, y)
    tx = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.kl_div(tx, torch.tensor(y), reduction="none")
    expected.sum().backward()
    rtol = 1e-6 if dtype == np.float32 else 1e-14  # a log's last bit
    for got, want in ((value, expected.detach().numpy()), (grad, tx.grad.numpy())):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
        ok = np.isnan(want) | (np.signbit(got) == np.signbit(want))
        assert ok.all(), (got, want)


def _ulps(got, ref, dtype):
    """|got - ref| in units of the last place of ref rounded to dtype."""
    r = ref.astype(dtype)
    spacing = np.spacing(np.abs(r)).astype(np.float64)
    return np.abs(got.astype(np.float64) - ref) / spacing


def test_softplus_ulp_error_float32():
    """softplus(t) = soft_margin_loss(t, -1) over every 13th float32 of magnitude below
    104 (exp(-|t|) down to 0), both signs: within 4 ulp of float64's log1p(exp(t))
    (measured 3.8: libmvec's exp, then the atanh series of ew_log1p_exp_neg; the
    log(1 + e) it replaced measured 5.0), subnormal results included; and the
    special values."""
    m = np.arange(0, np.float32(104).view(np.int32), 13, dtype=np.int32).view(np.float32)
    t = np.concatenate([-m, m])
    v = F.soft_margin_loss(t, -np.ones_like(t), reduction="none")
    ref = np.logaddexp(0.0, t.astype(np.float64))
    assert np.max(_ulps(v, ref, np.float32)) <= 4.0
    special = np.array([-np.inf, np.inf, np.nan, 0.0, -0.0], np.float32)
    sv = F.soft_margin_loss(special, -np.ones_like(special), reduction="none")
    np.testing.assert_array_equal(sv[:2], [0.0, np.inf])
    assert np.isnan(sv[2]) and sv[3] == sv[4] == np.float32(np.log(2.0))


def test_softplus_ulp_error_float64():
    """The float64 series against mpmath at 40 digits: within 4 ulp on 20000 points of
    [-750, 750] and near 0."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    rng = np.random.default_rng(11)
    t = np.concatenate([rng.uniform(-750, 750, 10000), rng.uniform(-2, 2, 10000),
                        [-745.0, -709.0, 0.0, 1e-300, -1e-300, 36.0, 37.0, 710.0]])
    v = F.soft_margin_loss(t, -np.ones_like(t), reduction="none")
    ref = np.array([float(mpmath.log1p(mpmath.exp(mpmath.mpf(float(x))))) for x in t])
    nz = ref != 0
    assert np.max(_ulps(v[nz], ref[nz], np.float64)) <= 4.0
    assert np.all(np.abs(v[~nz]) <= 5e-324)
