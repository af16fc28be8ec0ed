"""grad_hess: the gradient and the Hessian diagonal of a loss's 'sum' (closs_<loss>_grad_hess).

Against torch 2.13: the gradient of reduction='sum' by autograd and the Hessian's
diagonal by double backward (torch.autograd.functional.hessian, small inputs), at every option of every loss that
has one; the kinks' convention; NaN and infinities; central differences of the
gradient; the value and gradient equal to forward / backward with 'sum'; dtypes,
out=, broadcasting, streamed (chunked) calls and bad input."""

import warnings

import numpy as np
import pytest

from closs import nn

from conftest import TF, num_threads, requires_torch, torch

RNG = np.random.default_rng(16)
SHAPE = (3, 4)


def uniform(lo, hi, shape=SHAPE):
    return RNG.uniform(lo, hi, shape)


def labels(shape=SHAPE):
    return np.where(RNG.random(shape) < 0.5, -1.0, 1.0)


def counts(shape=SHAPE):
    return RNG.integers(0, 6, shape).astype(np.float64)


# (id, closs Module, torch loss of (x, *rest) with reduction 'sum', arrays (x, *rest),
#  closs keyword arrays by name): rest are torch's positional args after the input.
def cases():
    x, y, w = uniform(-2, 2), uniform(-2, 2), uniform(0.2, 2)
    p, t01 = uniform(0.05, 0.95), uniform(0, 1)
    row_w, pw = uniform(0.5, 2, (4,)), uniform(0.2, 3, (4,))
    c = []

    def add(id_, module, torch_fn, args, kwargs=None):
        c.append(pytest.param(module, torch_fn, args, kwargs or {}, id=id_))

    for wt in (None, w):
        tag = "-weight" if wt is not None else ""
        kw = {} if wt is None else {"weight": wt}
        tw = {} if wt is None else {"weight": torch.tensor(wt)} if torch else {}
        add("l1" + tag, nn.L1Loss(), lambda a, b, tw=tw: TF.l1_loss(a, b, reduction="sum", **tw),
            (x, y), kw)
        add("mse" + tag, nn.MSELoss(), lambda a, b, tw=tw: TF.mse_loss(a, b, reduction="sum", **tw),
            (x, y), kw)
        add("huber" + tag, nn.HuberLoss(delta=0.7),
            lambda a, b, tw=tw: TF.huber_loss(a, b, reduction="sum", delta=0.7, **tw), (x, y), kw)
    for beta in (0.5, 0.0):
        add(f"smooth_l1-beta{beta}", nn.SmoothL1Loss(beta=beta),
            lambda a, b, beta=beta: TF.smooth_l1_loss(a, b, reduction="sum", beta=beta), (x, y))
    add("bce", nn.BCELoss(), lambda a, b: TF.binary_cross_entropy(a, b, reduction="sum"), (p, t01))
    add("bce-weight", nn.BCELoss(weight=row_w),
        lambda a, b: TF.binary_cross_entropy(a, b, torch.tensor(row_w), reduction="sum"), (p, t01))
    add("bce_logits", nn.BCEWithLogitsLoss(),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="sum"), (x, t01))
    add("bce_logits-weight-pos_weight", nn.BCEWithLogitsLoss(weight=row_w, pos_weight=pw),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, torch.tensor(row_w), reduction="sum", pos_weight=torch.tensor(pw)), (x, t01))
    add("soft_margin", nn.SoftMarginLoss(),
        lambda a, b: TF.soft_margin_loss(a, b, reduction="sum"), (x, labels()))
    add("multilabel_soft_margin-weight", nn.MultiLabelSoftMarginLoss(weight=row_w),
        lambda a, b: TF.multilabel_soft_margin_loss(a, b, torch.tensor(row_w), reduction="sum"),
        (x, (t01 > 0.5).astype(np.float64)))
    add("hinge_embedding", nn.HingeEmbeddingLoss(margin=0.5),
        lambda a, b: TF.hinge_embedding_loss(a, b, margin=0.5, reduction="sum"), (x, labels()))
    for log_input in (True, False):
        for full in (False, True):
            xi = x if log_input else uniform(0.1, 3)
            add(f"poisson-log_input={log_input}-full={full}",
                nn.PoissonNLLLoss(log_input=log_input, full=full),
                lambda a, b, li=log_input, f=full: TF.poisson_nll_loss(
                    a, b, log_input=li, full=f, reduction="sum"), (xi, counts()))
    lq = np.log(uniform(0.05, 1))
    add("kl_div", nn.KLDivLoss(), lambda a, b: TF.kl_div(a, b, reduction="sum"), (lq, t01))
    add("kl_div-log_target", nn.KLDivLoss(log_target=True),
        lambda a, b: TF.kl_div(a, b, reduction="sum", log_target=True), (lq, np.log(t01 + 0.01)))
    var = uniform(0.0, 2)
    var[0, 0] = 1e-9  # below eps: clamped
    for full in (False, True):
        add(f"gaussian_nll-full={full}", nn.GaussianNLLLoss(full=full),
            lambda a, b, v, f=full: TF.gaussian_nll_loss(a, b, v, full=f, reduction="sum"),
            (x, y, var))
    # classification: (N, C) and (N, C, d)
    z, zd = uniform(-3, 3, (4, 5)), uniform(-3, 3, (2, 5, 3))
    t, td = np.array([0, 4, 2, 1]), np.array([[0, 4, 2], [1, -100, 3]])
    cw = uniform(0.5, 2, (5,))
    add("nll", nn.NLLLoss(), lambda a, b: TF.nll_loss(a, b, reduction="sum"),
        (np.log(uniform(0.05, 1, (4, 5))), t))
    add("nll-weight-ignore", nn.NLLLoss(weight=cw, ignore_index=2),
        lambda a, b: TF.nll_loss(a, b, torch.tensor(cw), ignore_index=2, reduction="sum"),
        (np.log(uniform(0.05, 1, (4, 5))), t))
    for ls in (0.0, 0.3):
        for wt in (None, cw):
            tag = f"-ls{ls}" + ("-weight" if wt is not None else "")
            tw = None if wt is None or torch is None else torch.tensor(wt)
            add("cross_entropy" + tag, nn.CrossEntropyLoss(weight=wt, label_smoothing=ls),
                lambda a, b, tw=tw, ls=ls: TF.cross_entropy(a, b, tw, reduction="sum",
                                                            label_smoothing=ls), (z, t))
            add("cross_entropy-ignore-d" + tag,
                nn.CrossEntropyLoss(weight=wt, label_smoothing=ls, ignore_index=-100),
                lambda a, b, tw=tw, ls=ls: TF.cross_entropy(a, b, tw, reduction="sum",
                                                            label_smoothing=ls), (zd, td))
            prob = uniform(0, 1, (4, 5))
            prob /= prob.sum(axis=1, keepdims=True)
            add("cross_entropy-prob" + tag, nn.CrossEntropyLoss(weight=wt, label_smoothing=ls),
                lambda a, b, tw=tw, ls=ls: TF.cross_entropy(a, b, tw, reduction="sum",
                                                            label_smoothing=ls), (z, prob))
    # rows of 17 and 32 classes take the vectorised kernel (from 16 classes)
    for width in (17, 32):
        zw, cww = uniform(-3, 3, (3, width)), uniform(0.5, 2, (width,))
        tw = None if torch is None else torch.tensor(cww)
        add(f"cross_entropy-wide{width}-weight-ls", nn.CrossEntropyLoss(weight=cww,
                                                                       label_smoothing=0.2),
            lambda a, b, tw=tw: TF.cross_entropy(a, b, tw, reduction="sum", label_smoothing=0.2),
            (zw, np.array([0, width - 1, -100])))
        prob = uniform(0, 1, (3, width))
        add(f"cross_entropy-wide{width}-prob-weight", nn.CrossEntropyLoss(weight=cww),
            lambda a, b, tw=tw: TF.cross_entropy(a, b, tw, reduction="sum"),
            (zw, prob / prob.sum(axis=1, keepdims=True)))
    return c


def torch_grad_hess(torch_fn, args):
    """torch's gradient (autograd) and Hessian diagonal (double backward) of the
    'sum' with respect to the first argument, float64."""
    x = torch.tensor(args[0])
    rest = [torch.tensor(a) for a in args[1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xg = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(torch_fn(xg, *rest), xg)
        # reverse over reverse (double backward): torch.func.hessian's forward mode
        # is missing for some losses (soft_margin_loss_backward)
        h = torch.autograd.functional.hessian(lambda a: torch_fn(a, *rest), x)
    n = x.numel()
    return g.numpy(), h.reshape(n, n).diagonal().reshape(x.shape).numpy()


@requires_torch
@pytest.mark.parametrize("module, torch_fn, args, kwargs", cases())
def test_torch_parity(module, torch_fn, args, kwargs):
    g, h = module.grad_hess(*args, **kwargs)
    tg, th = torch_grad_hess(torch_fn, args)
    assert g.shape == h.shape == args[0].shape and g.dtype == h.dtype == np.float64
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h, th, rtol=1e-10, atol=1e-13)
    # float32: the same to float32's rounding
    a32 = tuple(a.astype(np.float32) if a.dtype == np.float64 else a for a in args)
    g32, h32 = module.grad_hess(*a32, **kwargs)
    assert g32.dtype == h32.dtype == np.float32
    np.testing.assert_allclose(g32, tg, rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(h32, th, rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("module, torch_fn, args, kwargs", cases())
def test_value_and_gradient_are_the_sums(module, torch_fn, args, kwargs):
    """value_grad_hess's value is forward's with 'sum', its gradient backward's (bits)."""
    v, g, h = module.value_grad_hess(*args, **kwargs)
    g2, h2 = module.grad_hess(*args, **kwargs)
    reduction = module.reduction
    module.reduction = "sum"
    try:
        ref_v, ref_g = module.value_and_grad(*args, **kwargs)
    finally:
        module.reduction = reduction
    ref_g = ref_g[0] if isinstance(ref_g, tuple) else ref_g
    np.testing.assert_allclose(v, ref_v, rtol=1e-13)
    np.testing.assert_array_equal(g, g2)
    np.testing.assert_array_equal(h, h2)
    np.testing.assert_allclose(g, ref_g, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("module, torch_fn, args, kwargs", cases())
def test_finite_differences(module, torch_fn, args, kwargs):
    """The Hessian diagonal is the derivative of the gradient (central differences,
    away from the kinks: the gradient is piecewise smooth there)."""
    x0 = args[0]
    _, h = module.grad_hess(*args, **kwargs)
    step = 1e-6
    xp, xm = x0 + step, x0 - step
    gp, _ = module.grad_hess(xp, *args[1:], **kwargs)
    gm, _ = module.grad_hess(xm, *args[1:], **kwargs)
    if x0.ndim >= 2 and isinstance(module, (nn.CrossEntropyLoss, nn.NLLLoss)):
        # the Hessian is not diagonal: perturb one element at a time
        fd = np.empty_like(x0)
        for i in np.ndindex(x0.shape):
            e = np.zeros_like(x0)
            e[i] = step
            fd[i] = (module.grad_hess(x0 + e, *args[1:], **kwargs)[0][i]
                     - module.grad_hess(x0 - e, *args[1:], **kwargs)[0][i]) / (2 * step)
    else:
        fd = (gp - gm) / (2 * step)
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-5)


def test_kinks():
    """The convention on a kink: the Hessian of the branch the gradient does not
    take there, i.e. 0 at |d| == delta (huber), |d| == beta (smooth_l1), d == 0 (l1)."""
    y = np.zeros(5)
    x = np.array([-0.5, -0.25, 0.0, 0.5, 1.0])
    _, h = nn.HuberLoss(delta=0.5).grad_hess(x, y)
    np.testing.assert_array_equal(h, [0, 1, 1, 0, 0])
    _, h = nn.SmoothL1Loss(beta=0.5).grad_hess(x, y)
    np.testing.assert_array_equal(h, [0, 2, 2, 0, 0])
    g, h = nn.L1Loss().grad_hess(x, y)
    np.testing.assert_array_equal(g, [-1, -1, 0, 1, 1])
    np.testing.assert_array_equal(h, 0)
    _, h = nn.HingeEmbeddingLoss(margin=0.5).grad_hess(x, np.array([-1.0, -1, 1, -1, 1]))
    np.testing.assert_array_equal(h, 0)


@requires_torch
def test_kinks_match_torch_double_backward():
    y = torch.zeros(5, dtype=torch.float64)
    x = torch.tensor([-0.5, -0.25, 0.0, 0.5, 1.0], dtype=torch.float64)
    for module, fn in ((nn.HuberLoss(delta=0.5), lambda a: TF.huber_loss(a, y, delta=0.5,
                                                                         reduction="sum")),
                       (nn.SmoothL1Loss(beta=0.5), lambda a: TF.smooth_l1_loss(a, y, beta=0.5,
                                                                               reduction="sum")),
                       (nn.L1Loss(), lambda a: TF.l1_loss(a, y, reduction="sum"))):
        th = torch.autograd.functional.hessian(fn, x).diagonal().numpy()
        np.testing.assert_array_equal(module.grad_hess(x.numpy(), y.numpy())[1], th)


@requires_torch
@pytest.mark.parametrize("name", ["mse", "huber", "bce_logits", "soft_margin", "poisson",
                                  "poisson_linear", "gaussian"])
def test_nonfinite_edges(name):
    """NaN and infinities in the input: closs's gradient and Hessian against torch's
    (derivatives of the 'sum'), NaN where torch has NaN."""
    x = np.array([np.inf, -np.inf, np.nan, 0.5, 40.0, -40.0, 800.0, -800.0])
    y = np.array([0.5, 0.5, 0.5, np.nan, 1.0, 0.0, 1.0, 0.0])
    if name == "mse":
        module, fn, args = nn.MSELoss(), lambda a, b: TF.mse_loss(a, b, reduction="sum"), (x, y)
    elif name == "huber":
        module, fn, args = (nn.HuberLoss(delta=1.5),
                            lambda a, b: TF.huber_loss(a, b, delta=1.5, reduction="sum"), (x, y))
    elif name == "bce_logits":
        y = np.nan_to_num(y, nan=1.0)
        module, fn, args = (nn.BCEWithLogitsLoss(),
                            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="sum"),
                            (x, y))
    elif name == "soft_margin":  # (torch overflows to NaN at |x| = 800, closs does not)
        x, y = x[:6], np.array([1.0, -1, 1, -1, 1, -1])
        module, fn, args = (nn.SoftMarginLoss(),
                            lambda a, b: TF.soft_margin_loss(a, b, reduction="sum"), (x, y))
    elif name == "poisson":
        x = np.array([np.inf, -np.inf, np.nan, 0.5, 40.0, -40.0])
        y = np.array([1.0, 2.0, 3.0, 0.0, 1.0, 0.0])
        module, fn, args = (nn.PoissonNLLLoss(),
                            lambda a, b: TF.poisson_nll_loss(a, b, reduction="sum"), (x, y))
    elif name == "poisson_linear":
        x = np.array([np.inf, 0.0, np.nan, 0.5, 1e-300])
        y = np.array([1.0, 2.0, 3.0, 0.0, 0.0])
        module, fn, args = (nn.PoissonNLLLoss(log_input=False),
                            lambda a, b: TF.poisson_nll_loss(a, b, log_input=False,
                                                             reduction="sum"), (x, y))
    else:
        var = np.full(x.shape, 0.5)
        module, fn, args = (nn.GaussianNLLLoss(),
                            lambda a, b, v: TF.gaussian_nll_loss(a, b, v, reduction="sum"),
                            (x, np.nan_to_num(y, nan=0.0), var))
    g, h = module.grad_hess(*args)
    tg, th = torch_grad_hess(fn, args)
    # atol: sigmoid'(40) = e^-40 is 4e-18 in closs, 0 in torch (1 - sigmoid(40) rounds to 0)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-16, equal_nan=True)
    np.testing.assert_allclose(h, th, rtol=1e-12, atol=1e-16, equal_nan=True)


@requires_torch
def test_cross_entropy_nonfinite_rows():
    base = np.array([[np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0],
                     [800.0, -800, 0], [-np.inf, -np.inf, -np.inf]])
    t = np.array([0, 1, 2, 0, 1])
    for width in (3, 20):  # scalar and vectorised rows; NaN and inf in the last lanes too
        z = np.concatenate([base, np.zeros((5, width - 3))], axis=1)
        z = np.concatenate([z, z[:, ::-1]])
        tt = np.concatenate([t, width - 1 - t])
        g, h = nn.CrossEntropyLoss().grad_hess(z, tt)
        tg, th = torch_grad_hess(lambda a, b: TF.cross_entropy(a, b, reduction="sum"), (z, tt))
        np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-300, equal_nan=True)
        np.testing.assert_allclose(h, th, rtol=1e-12, atol=1e-300, equal_nan=True)


def test_ignores_the_reduction():
    x, y = uniform(-1, 1), uniform(-1, 1)
    for reduction in ("none", "mean", "sum"):
        g, h = nn.MSELoss(reduction=reduction).grad_hess(x, y)
        np.testing.assert_array_equal(g, 2 * (x - y))
        np.testing.assert_array_equal(h, np.full(x.shape, 2.0))


def test_out_and_dtypes():
    x, y = uniform(-1, 1).astype(np.float32), uniform(-1, 1).astype(np.float32)
    g, h = np.empty_like(x), np.empty_like(x)
    rg, rh = nn.PoissonNLLLoss().grad_hess(x, y, out=(g, h))
    assert rg is g and rh is h
    np.testing.assert_array_equal(g, nn.PoissonNLLLoss().grad_hess(x, y)[0])
    np.testing.assert_allclose(h, np.exp(x.astype(np.float64)), rtol=1e-6)
    with pytest.raises(ValueError, match="overlap"):
        nn.MSELoss().grad_hess(x, y, out=(g, g))
    with pytest.raises(ValueError, match="tuple of 2"):
        nn.MSELoss().grad_hess(x, y, out=g)
    with pytest.raises(ValueError):
        nn.MSELoss().grad_hess(x, y, out=(np.empty((2, 2), np.float32), h))
    # out aliasing the input: computed through a temporary
    xc = x.copy()
    nn.MSELoss().grad_hess(xc, y, out=(xc, h))
    np.testing.assert_allclose(xc, 2 * (x - y), rtol=1e-6)
    # integer input computes in float64
    g, h = nn.MSELoss().grad_hess(np.array([1, 2]), np.array([0, 0]))
    assert g.dtype == np.float64 and list(g) == [2.0, 4.0]


def test_broadcast_input_sums_the_diagonal():
    """An input broadcast against its target: each input element's second derivative
    is the sum over the elements it was broadcast to."""
    x, y = uniform(-1, 1, (1, 4)), uniform(-1, 1, (3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g, h = nn.HuberLoss(delta=0.5).grad_hess(x, y)
    d = np.broadcast_to(x, y.shape) - y
    np.testing.assert_allclose(g, np.clip(d, -0.5, 0.5).sum(axis=0, keepdims=True), rtol=1e-14)
    np.testing.assert_array_equal(h, (np.abs(d) < 0.5).sum(axis=0, keepdims=True))


def test_streamed_call_matches():
    """A call whose target is broadcast over more than CHUNK elements streams its
    operands in chunks: the same bits as the materialised call."""
    x = RNG.standard_normal((1100, 1000)).astype(np.float32)
    y = RNG.random(x.shape).astype(np.float32)
    pw = RNG.uniform(0.5, 2, 1000).astype(np.float32)
    v, g, h = nn.BCEWithLogitsLoss(pos_weight=pw).value_grad_hess(x, y)
    full = np.ascontiguousarray(np.broadcast_to(pw, x.shape))
    v2, g2, h2 = nn.BCEWithLogitsLoss(pos_weight=full).value_grad_hess(x, y)
    np.testing.assert_array_equal(g, g2)
    np.testing.assert_array_equal(h, h2)
    np.testing.assert_allclose(v, v2, rtol=1e-6)


def test_bad_input():
    # the domain is checked as forward checks it, with torch's message
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        nn.BCELoss().grad_hess(np.array([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        nn.CrossEntropyLoss().grad_hess(np.zeros((2, 3)), np.array([0, 7]))
    with pytest.raises(ValueError):
        nn.HuberLoss(delta=0.0).grad_hess(np.zeros(2), np.zeros(2))
    assert not hasattr(nn.MarginRankingLoss(), "grad_hess")
    assert not hasattr(nn.CTCLoss(), "grad_hess")
    g, h = nn.MSELoss().grad_hess(np.zeros((0, 3)), np.zeros((0, 3)))
    assert g.shape == h.shape == (0, 3)


def test_more_forms():
    """A Python-float var (gaussian_nll_loss), unbatched (C,) cross_entropy, a
    reduction='none' Module: the same derivatives as the array forms."""
    x, y = uniform(-1, 1), uniform(-1, 1)
    g, h = nn.GaussianNLLLoss().grad_hess(x, y, 0.5)
    np.testing.assert_allclose(g, (x - y) / 0.5, rtol=1e-14)
    np.testing.assert_allclose(h, np.full(x.shape, 2.0), rtol=1e-14)
    z = uniform(-2, 2, (5,))
    g1, h1 = nn.CrossEntropyLoss(reduction="none").grad_hess(z, np.array(3))
    g2, h2 = nn.CrossEntropyLoss().grad_hess(z[None], np.array([3]))
    np.testing.assert_array_equal(g1, g2[0])
    np.testing.assert_array_equal(h1, h2[0])
    p = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(h1, p * (1 - p), rtol=1e-13)
    np.testing.assert_allclose(g1, p - np.eye(5)[3], rtol=1e-13, atol=1e-15)


def test_thread_count_does_not_change_the_bits():
    """Above the parallel thresholds the kernels run on a team: the same bits on 1
    and 2 threads (the value's sum too: fixed blocks, added in order)."""
    x = RNG.standard_normal(1 << 21).astype(np.float32)
    y = (RNG.random(1 << 21) < 0.5).astype(np.float32)
    z = RNG.standard_normal((1 << 15, 20))
    t = RNG.integers(0, 20, 1 << 15)
    results = []
    for n in (1, 2):
        with num_threads(n):
            results.append(nn.BCEWithLogitsLoss().value_grad_hess(x, y)
                           + nn.MSELoss().value_grad_hess(x, y)
                           + nn.CrossEntropyLoss(label_smoothing=0.1).value_grad_hess(z, t))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
