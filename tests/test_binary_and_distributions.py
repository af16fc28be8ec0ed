"""Edge cases of the binary-target and distribution losses against torch 2.13:
domains, clamps, extreme logits, label values, zero targets, shapes, bad input."""

import warnings

import numpy as np
import pytest

import closs.functional as F
from closs import nn

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


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
