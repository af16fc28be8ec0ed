"""The lanes of closs._core (*_value): the common forward calls of nll_loss,
cross_entropy, multi_margin_loss and multilabel_margin_loss go straight to C
when their arguments are already in the kernel's form. Whatever the lane takes
must give exactly the general path's value (bits, dtype, type and shape); what
it does not take (other dtypes, layouts, options, bad input) must reach the
general path and its messages. Also the Cython layer's own buffer checks."""

import warnings

import numpy as np
import pytest

import closs.functional as F
from closs import _api, _core
from closs._errors import DTypeError, ShapeError

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
REDUCTIONS = pytest.mark.parametrize("reduction", ["none", "mean", "sum"])


def rows(dtype, n=7, c=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c)).astype(dtype)
    t = rng.integers(0, c, n).astype(np.int64)
    w = rng.uniform(0.5, 2.0, c).astype(dtype)
    return x, t, w


def general(name, *args, **kwargs):
    """The value through the general path (the *_call preparer)."""
    return getattr(F, f"_{name}_call")(*args, **kwargs).value()


def assert_same(lane, ref):
    assert type(lane) is type(ref)
    assert np.asarray(lane).dtype == np.asarray(ref).dtype
    assert np.shape(lane) == np.shape(ref)
    np.testing.assert_array_equal(lane, ref)


CLASSIFICATION_OPTIONS = [
    {},
    {"weight": True},
    {"ignore_index": 2},
    {"weight": True, "ignore_index": 2},
    {"ignore_index": -1},
]


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("opts", CLASSIFICATION_OPTIONS, ids=str)
@pytest.mark.parametrize("name", ["nll", "cross_entropy"])
def test_classification_lane_is_the_general_path(name, opts, reduction, dtype):
    x, t, w = rows(dtype)
    kw = dict(opts, reduction=reduction)
    if kw.pop("weight", False):
        kw["weight"] = w
    fn = F.nll_loss if name == "nll" else F.cross_entropy
    assert _core.classification_value(
        _core.CLASSIFICATION["nll_loss" if name == "nll" else "cross_entropy"], x, t,
        kw.get("weight"), kw.get("ignore_index", -100), 0.0, reduction) is not None
    assert_same(fn(x, t, **kw), general(name, x, t, **kw))


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("eps", [0.0, 0.1, 1.0])
def test_label_smoothing_lane(eps, reduction, dtype):
    x, t, w = rows(dtype)
    for kw in ({}, {"weight": w}, {"weight": w, "ignore_index": 3}):
        assert_same(F.cross_entropy(x, t, label_smoothing=eps, reduction=reduction, **kw),
                    general("cross_entropy", x, t, label_smoothing=eps, reduction=reduction, **kw))


@DTYPES
def test_all_ignored_mean_is_nan_in_the_lane(dtype):
    x, _, _ = rows(dtype)
    t = np.full(x.shape[0], -100, np.int64)
    v = F.nll_loss(x, t)
    assert np.isnan(v) and type(v) is np.dtype(dtype).type
    assert F.cross_entropy(x, t, reduction="sum") == 0


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_lane_is_the_general_path(p, reduction, dtype):
    x, t, w = rows(dtype)
    for kw in ({}, {"weight": w}, {"margin": 0.5}, {"margin": 2}):
        assert_same(F.multi_margin_loss(x, t, p=p, reduction=reduction, **kw),
                    general("multi_margin", x, t, p=p, reduction=reduction, **kw))


@DTYPES
@REDUCTIONS
def test_multilabel_margin_lane_is_the_general_path(reduction, dtype):
    x, _, _ = rows(dtype)
    rng = np.random.default_rng(1)
    t = rng.integers(-1, x.shape[1], x.shape).astype(np.int64)
    t[0] = [3, 3, 1, -1, 0]  # a repeated target, then the end
    assert_same(F.multilabel_margin_loss(x, t, reduction=reduction),
                general("multilabel_margin", x, t, reduction=reduction))


# ----------------------------------------------------------------- what the lanes leave


def test_lanes_take_only_the_kernel_form():
    x, t, w = rows(np.float32)
    ce = _core.CLASSIFICATION["cross_entropy"]
    assert _core.classification_value(ce, x, t, None, -100, 0.0, "mean") is not None
    refused = [
        (x.tolist(), t, None, -100, 0.0, "mean"),                  # a list
        (x[:, ::2], t[:4], None, -100, 0.0, "mean"),              # not contiguous
        (x, t.astype(np.int32), None, -100, 0.0, "mean"),         # other index dtype
        (x.astype(np.float16), t, None, -100, 0.0, "mean"),       # other float dtype
        (x, t, w.astype(np.float64), -100, 0.0, "mean"),          # weight of another dtype
        (x, t, w[:3], -100, 0.0, "mean"),                          # weight of another length
        (x, t[:3], None, -100, 0.0, "mean"),                       # target of another length
        (x[0], t[0:1], None, -100, 0.0, "mean"),                   # unbatched
        (x[:0], t[:0], None, -100, 0.0, "mean"),                   # empty
        (x, t, None, 1.5, 0.0, "mean"),                            # ignore_index not an int
        (x, t, None, -100, 1.5, "mean"),                           # label_smoothing > 1
        (x, t, None, -100, float("nan"), "mean"),                  # NaN label_smoothing
        (x, t, None, -100, 0.0, "batchmean"),                      # not a plain reduction
        (x, t + 5, None, -100, 0.0, "mean"),                       # the kernel refuses
        (x.view(np.matrix), t, None, -100, 0.0, "mean"),           # a subclass
    ]
    for args in refused:
        assert _core.classification_value(ce, *args) is None, args
    mm = _core.ROWWISE["multi_margin_loss"]
    assert _core.rowwise_value(mm, x, t, None, 1, 1.0, "mean") is not None
    assert _core.rowwise_value(mm, x, t, None, True, 1.0, "mean") is None
    assert _core.rowwise_value(mm, x, t + 5, None, 1, 1.0, "mean") is None
    assert _core.rowwise_value(mm, x, t[:, None], None, 1, 1.0, "mean") is None
    ml = _core.ROWWISE["multilabel_margin_loss"]
    assert _core.rowwise_value(ml, x, t, None, 0, 0, "mean") is None  # needs (n, c) targets
    with pytest.raises(ValueError, match="unknown row-wise loss kind"):
        _core.rowwise_value(-1, x, t, None, 0, 0, "mean")
    with pytest.raises(ValueError, match="no class-index lane"):
        _core.classification_value(_core.CLASSIFICATION["cross_entropy_prob"], x, t, None, -100,
                                   0.0, "mean")


def test_refused_calls_reach_the_general_path():
    x, t, w = rows(np.float32)
    with pytest.raises(IndexError, match="Target 9 is out of bounds"):
        F.nll_loss(x, np.where(t == t[0], 9, t))
    with pytest.raises(IndexError, match="out of bounds"):
        F.multi_margin_loss(x, t + 5)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, t, p=3)
    with pytest.raises(ValueError):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(ValueError):
        F.nll_loss(x, t, reduction="avg")
    # other dtypes still work, through the general path
    assert_same(F.cross_entropy(x, t.astype(np.int32)), F.cross_entropy(x, t))
    assert_same(F.nll_loss(x.tolist(), t), general("nll", x.tolist(), t))
    np.testing.assert_allclose(F.nll_loss(x, t, weight=w.astype(np.float64)),
                               general("nll", x, t, weight=w.astype(np.float64)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F.cross_entropy(x, t, size_average=False)
    assert caught and "deprecated" in str(caught[0].message)


# ----------------------------------------------------------------- the Cython checks


def test_core_checks_buffers():
    x = np.ones(6, np.float32)
    out = np.empty(1, np.float32)
    kind = _core.POINTWISE["mse_loss"]
    _core.pointwise(kind, _api.FORWARD, x, x, None, None, 0, 0, 0, 1, out, None, None)
    assert out[0] == 0
    with pytest.raises(DTypeError, match="input has dtype int64"):
        _core.pointwise(kind, _api.FORWARD, x.astype(np.int64), x, None, None, 0, 0, 0, 1, out,
                        None, None)
    with pytest.raises(DTypeError, match="target has dtype float64, expected float32"):
        _core.pointwise(kind, _api.FORWARD, x, x.astype(np.float64), None, None, 0, 0, 0, 1, out,
                        None, None)
    with pytest.raises(ValueError, match="target must be C-contiguous"):
        _core.pointwise(kind, _api.FORWARD, x, np.ones(12, np.float32)[::2], None, None,
                        0, 0, 0, 1, out, None, None)
    with pytest.raises(ValueError, match="target must be an ndarray"):
        _core.pointwise(kind, _api.FORWARD, x, [1.0] * 6, None, None, 0, 0, 0, 1, out, None,
                        None)
    with pytest.raises(ShapeError, match="target has 5 elements, expected 6"):
        _core.pointwise(kind, _api.FORWARD, x, x[:5], None, None, 0, 0, 0, 1, out, None, None)
    ro = np.empty(1, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        _core.pointwise(kind, _api.FORWARD, x, x, None, None, 0, 0, 0, 1, ro, None, None)
    with pytest.raises(ValueError, match="missing output buffer"):
        _core.pointwise(kind, _api.FORWARD, x, x, None, None, 0, 0, 0, 1, None, None, None)
    with pytest.raises(ValueError, match="unknown element-wise loss kind"):
        _core.pointwise(-1, _api.FORWARD, x, x, None, None, 0, 0, 0, 1, out, None, None)


def ctc_args(dtype, t=12, n=4, c=6, s=4, seed=2):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((t, n, c))
    lp = (z - np.log(np.exp(z).sum(-1, keepdims=True))).astype(dtype)
    targets = rng.integers(1, c, (n, s)).astype(np.int64)
    il = np.array([t, t - 1, t - 3, 2][:n], np.int64)     # the last cannot align: inf
    tl = np.array([s, 0, 2, s][:n], np.int64)
    return lp, targets, il, tl


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("opts", [{}, {"blank": 3}, {"zero_infinity": True}], ids=str)
def test_ctc_lane_is_the_general_path(opts, reduction, dtype):
    lp, targets, il, tl = ctc_args(dtype)
    kw = dict(opts, reduction=reduction)
    assert _core.ctc_value(lp, targets, il, tl, kw.get("blank", 0), reduction,
                           kw.get("zero_infinity", False)) is not None
    assert_same(F.ctc_loss(lp, targets, il, tl, **kw), general("ctc", lp, targets, il, tl, **kw))


def test_ctc_lane_leaves_the_rest():
    lp, targets, il, tl = ctc_args(np.float32)
    refused = [
        (lp[:, 0], targets[0], il[:1], tl[:1], 0, "mean", False),         # unbatched
        (lp, targets.ravel(), il, tl, 0, "mean", False),                  # concatenated
        (lp, targets.astype(np.int32), il, tl, 0, "mean", False),         # other index dtype
        (lp, targets, il.tolist(), tl, 0, "mean", False),                 # lengths as a list
        (lp, targets, il, tl[:2], 0, "mean", False),                      # lengths of another n
        (lp, targets, il, tl, 6, "mean", False),                          # blank out of range
        (lp, targets, il, tl, 0, "mean", 1),                              # not a bool
        (lp, targets, il + 1, tl, 0, "mean", False),                      # the kernel refuses
        (lp, targets + 5, il, tl, 0, "mean", False),                      # a label >= C
        (lp[:0], targets, il, tl, 0, "mean", False),                      # empty
    ]
    for args in refused:
        assert _core.ctc_value(*args) is None
    with pytest.raises(IndexError, match="out of bounds"):
        F.ctc_loss(lp, targets + 5, il, tl)
    assert_same(F.ctc_loss(lp, targets, il.tolist(), tl), F.ctc_loss(lp, targets, il, tl))


# ----------------------------------------------------------------- element-wise lane

EW_CASES = [  # (functional name, Module, general preparer, positional options, kwargs)
    ("l1_loss", "L1Loss", {}, {}),
    ("l1_loss", "L1Loss", {"weight": True}, {}),
    ("mse_loss", "MSELoss", {}, {}),
    ("mse_loss", "MSELoss", {"weight": True}, {}),
    ("smooth_l1_loss", "SmoothL1Loss", {"beta": 0.5}, {"beta": 0.5}),
    ("smooth_l1_loss", "SmoothL1Loss", {"beta": 0.0}, {"beta": 0.0}),
    ("huber_loss", "HuberLoss", {"delta": 0.7, "weight": True}, {"delta": 0.7}),
    ("binary_cross_entropy", "BCELoss", {"weight": True}, {"weight": True}),
    ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss",
     {"weight": True, "pos_weight": True}, {"weight": True, "pos_weight": True}),
    ("soft_margin_loss", "SoftMarginLoss", {}, {}),
    ("hinge_embedding_loss", "HingeEmbeddingLoss", {"margin": 0.3}, {"margin": 0.3}),
    ("poisson_nll_loss", "PoissonNLLLoss", {}, {}),
    ("poisson_nll_loss", "PoissonNLLLoss", {"full": True}, {"full": True}),
    ("poisson_nll_loss", "PoissonNLLLoss", {"log_input": False, "eps": 1e-3},
     {"log_input": False, "eps": 1e-3}),
    ("kl_div", "KLDivLoss", {}, {}),
    ("kl_div", "KLDivLoss", {"log_target": True}, {"log_target": True}),
]


def ew_args(name, dtype, shape=(4, 6), seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    if name == "binary_cross_entropy":
        x = rng.uniform(0.05, 0.95, shape).astype(dtype)
    y = rng.uniform(0, 1, shape).astype(dtype)
    if name in ("soft_margin_loss", "hinge_embedding_loss"):
        y = np.where(rng.standard_normal(shape) > 0, 1.0, -1.0).astype(dtype)
    if name == "poisson_nll_loss":  # rates or log-rates (both positive here), counts
        x = rng.uniform(0.1, 3, shape).astype(dtype)
        y = rng.poisson(2.0, shape).astype(dtype)
    w = rng.uniform(0.5, 2, shape).astype(dtype)
    return x, y, w


def ew_options(opts, w):
    """opts with the weight arrays (weight / pos_weight: True) made."""
    return {k: (w if v is True and k in ("weight", "pos_weight") else v) for k, v in opts.items()}


@DTYPES
@REDUCTIONS
@pytest.mark.parametrize("name,module,fopts,mopts", EW_CASES, ids=lambda v: str(v))
def test_elementwise_lane_is_the_general_path(name, module, fopts, mopts, reduction, dtype):
    """Functional value, Module forward and value_and_grad (with and without out=) in
    the lane give the general path's bits; backward after a lane forward is the
    general call's gradient, with the options of forward time."""
    import closs.nn as nn
    x, y, w = ew_args(name, dtype)
    fkw = ew_options(fopts, w)
    lane = _api.lane_pointwise(*getattr(F, "_" + {"binary_cross_entropy": "bce",
                                                   "binary_cross_entropy_with_logits": "bce_logits",
                                                   }.get(name, name.replace("_loss", ""))
                                        + "_lane")(x, y, **fkw), reduction)
    assert lane is not None
    call = getattr(F, "_" + {"binary_cross_entropy": "bce",
                             "binary_cross_entropy_with_logits": "bce_logits"}.get(
                                 name, name.replace("_loss", "")) + "_call")
    ref = call(x, y, reduction=reduction, **fkw)
    assert_same(getattr(F, name)(x, y, reduction=reduction, **fkw), ref.value())
    mkw = ew_options(mopts, w)
    fwd = {"weight": w} if "weight" in fopts and "weight" not in mopts else {}
    m = getattr(nn, module)(reduction=reduction, **mkw)
    ref_v, ref_g = ref.value_and_grad()
    v, g = m.value_and_grad(x, y, **fwd)
    assert_same(v, ref_v)
    assert_same(g, ref_g)
    buf = np.full_like(x, np.nan)
    v, g = m.value_and_grad(x, y, out=buf, **fwd)
    assert g is buf
    assert_same(v, ref_v)
    assert_same(g, ref_g)
    assert_same(m(x, y, **fwd), ref.value())
    m.reduction = "sum"  # after forward: backward keeps forward's options
    assert_same(m.backward(), ref.grad())
    if reduction == "none":
        go = np.random.default_rng(1).uniform(0.5, 2, x.shape).astype(dtype)
        m.reduction = reduction
        m(x, y, **fwd)
        assert_same(m.backward(go), ref.grad(go))


def test_elementwise_lane_takes_only_the_kernel_form():
    """Other dtypes, layouts, shapes, broadcasting, parameter types, reductions and
    bad values leave the lane (None) and reach the general path and its errors."""
    x, y, w = ew_args("mse_loss", np.float32)
    K = _core.POINTWISE["mse_loss"]
    lane = _api.lane_pointwise
    assert lane(K, x, y, None, None, 0.0, 0.0, 0.0, "mean") is not None
    for bad in (x.astype(np.float64), np.asfortranarray(x), x[:, ::2], x.reshape(-1),
                x[None], x.tolist(), x.astype(">f4"), x[:0]):
        assert lane(K, bad, y, None, None, 0.0, 0.0, 0.0, "mean") is None
        assert lane(K, x, bad, None, None, 0.0, 0.0, 0.0, "mean") is None
        assert lane(K, x, y, bad, None, 0.0, 0.0, 0.0, "mean") is None
    assert lane(K, x, y[:1], None, None, 0.0, 0.0, 0.0, "mean") is None  # broadcast
    assert lane(K, x, y, None, None, np.float64(0.0), 0.0, 0.0, "mean") is None
    assert lane(K, x, y, None, None, 0.0, 0.0, 0.0, "batchmean") is None
    assert lane(K, x, None, None, None, 0.0, 0.0, 0.0, "mean") is None
    H = _core.POINTWISE["huber_loss"]
    assert lane(H, x, y, None, None, -1.0, 0.0, 0.0, "mean") is None  # C refuses
    with pytest.raises(Exception, match="non-positive"):
        F.huber_loss(x, y, delta=-1.0)
    B = _core.POINTWISE["binary_cross_entropy"]
    assert lane(B, x + 2, y, None, None, 0.0, 0.0, 0.0, "mean") is None  # outside [0, 1]
    with pytest.raises(Exception, match="between 0 and 1"):
        F.binary_cross_entropy(x + 2, y)
    # out= that overlaps an input, is read-only or of another form: the general path
    for out in (x, y, np.empty_like(x, dtype=np.float64), np.empty((4, 6), np.float32, "F")):
        assert lane(K, x, y, None, None, 0.0, 0.0, 0.0, "mean", True, out) is None
    ro = np.empty_like(x)
    ro.flags.writeable = False
    assert lane(K, x, y, None, None, 0.0, 0.0, 0.0, "mean", True, ro) is None
    import closs.nn as nn
    m = nn.MSELoss()
    xx = x.copy()
    v, g = m.value_and_grad(xx, y, out=xx)  # aliasing: the general path's right answer
    np.testing.assert_allclose(g, 2 * (x - y) / x.size, rtol=1e-6)
