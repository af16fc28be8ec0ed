"""The row-wise margin and embedding losses against PyTorch 2.13 (when importable)
and their edge cases: margin_ranking_loss, cosine_embedding_loss,
multi_margin_loss, multilabel_margin_loss, triplet_margin_loss and
triplet_margin_with_distance_loss. Every option, broadcasting, unbatched
inputs, several gradients, NaN/inf, empty arrays, hand-computed values, bad
input and thread-count determinism. (References and finite differences for
every registry entry are in test_losses.py.)"""

import inspect
import warnings

import numpy as np
import pytest

import closs
import closs.functional as F
from closs import _api, _core, nn

from conftest import RTOL, TF, assert_parity, grads, num_threads, torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


# --------------------------------------------------------------------------- arguments


def ranking(shapes):
    def make(rng, dtype):
        s1, s2, sy = shapes
        return (rng.standard_normal(s1).astype(dtype), rng.standard_normal(s2).astype(dtype),
                rng.choice(np.array([-1.0, 1.0], dtype), sy))
    return make


def cosine(shapes):
    """Labels 1 and -1, and 0 and 2 where there is room (they give 0)."""
    def make(rng, dtype):
        s1, s2, sy = shapes
        y = rng.choice(np.array([-1.0, 1.0], dtype), sy)
        if y.size >= 4:
            y.reshape(-1)[:2] = [0, 2]
        return (rng.standard_normal(s1).astype(dtype), rng.standard_normal(s2).astype(dtype), y)
    return make


def classes(shapes):
    def make(rng, dtype):
        sx, st = shapes
        c = sx[-1] if sx else 1
        return rng.standard_normal(sx).astype(dtype), rng.integers(0, c, st)
    return make


def labels(shapes):
    """Targets with 0 to 3 labels, a duplicate, then -1 and arbitrary entries of [-1, C)."""
    def make(rng, dtype):
        sx, st = shapes
        c = sx[-1] if sx else 1
        t = rng.integers(-1, c, st).reshape(-1, c)
        for i, row in enumerate(t):
            k = i % 4
            row[:k] = rng.integers(0, c, k)
            if k == 3:
                row[2] = row[0]  # a duplicate counts twice
            if k < c:
                row[k] = -1
        return rng.standard_normal(sx).astype(dtype), t.reshape(st)
    return make


def triplets(shapes):
    def make(rng, dtype):
        return tuple(rng.standard_normal(s).astype(dtype) for s in shapes)
    return make


def l1_distance(x1, x2):
    return np.abs(x1 - x2).sum(-1)


def l1_distance_grad(x1, x2, grad):
    g = np.expand_dims(grad, -1) * np.sign(x1 - x2)
    return g, -g


def torch_l1_distance(x1, x2):
    return (x1 - x2).abs().sum(-1)


# (id, functional name, Module, options, argument maker, differentiable positions)
CASES = []


def case(id, name, module, options, make, diff):
    CASES.append(pytest.param(name, module, options, make, diff, id=id))


for shapes in [((5, 7), (5, 7), (5, 7)), ((4, 6), (1, 6), (4, 1)), ((6,), (6,), (6,)),
               ((), (), ()), ((2, 3, 4), (2, 3, 4), (1, 1, 4))]:
    for margin in (0.0, 0.5, -0.2):
        case(f"margin_ranking-{shapes}-margin={margin}", "margin_ranking_loss",
             nn.MarginRankingLoss, {"margin": margin}, ranking(shapes), (0, 1))
for shapes in [((5, 7), (5, 7), (5,)), ((1, 7), (5, 7), (5,)), ((5, 7), (5, 7), (1,)),
               ((7,), (7,), ())]:
    for margin in (0.0, 0.3, -0.4):
        case(f"cosine_embedding-{shapes}-margin={margin}", "cosine_embedding_loss",
             nn.CosineEmbeddingLoss, {"margin": margin}, cosine(shapes), (0, 1))
for shapes in [((5, 7), (5,)), ((7,), ()), ((7,), (1,)), ((1, 7), ()), ((), ())]:
    for p in (1, 2):
        for margin in (1.0, 0.3):
            for weighted in (False, True):
                opts = {"p": p, "margin": margin}
                if weighted:
                    c = shapes[0][-1] if shapes[0] else 1
                    opts["weight"] = np.linspace(0.5, 2.0, c)
                case(f"multi_margin-{shapes}-p={p}-margin={margin}-weight={weighted}",
                     "multi_margin_loss", nn.MultiMarginLoss, opts, classes(shapes), (0,))
for shapes in [((5, 7), (5, 7)), ((7,), (7,)), ((1, 7), (1, 7)), ((), ())]:
    case(f"multilabel_margin-{shapes}", "multilabel_margin_loss", nn.MultiLabelMarginLoss, {},
         labels(shapes), (0,))
for p in (1, 2, 3, 0.5, 1.5, float("inf")):
    for swap in (False, True):
        case(f"triplet-p={p}-swap={swap}", "triplet_margin_loss", nn.TripletMarginLoss,
             {"p": p, "swap": swap}, triplets(((6, 9),) * 3), (0, 1, 2))
for shapes in [((4, 7), (1, 7), (4, 1)), ((7,),) * 3, ((2, 3, 5),) * 3, ((),) * 3]:
    case(f"triplet-{shapes}", "triplet_margin_loss", nn.TripletMarginLoss, {"swap": True},
         triplets(shapes), (0, 1, 2))
for opts in [{"margin": 0.4, "eps": 0.0}, {"eps": 0.1, "p": 1}, {"margin": 3.0, "p": 3}]:
    case(f"triplet-{opts}", "triplet_margin_loss", nn.TripletMarginLoss, opts,
         triplets(((6, 9),) * 3), (0, 1, 2))
for opts in [{}, {"swap": True, "margin": 2.0}]:
    case(f"triplet_with_distance-{opts}", "triplet_margin_with_distance_loss",
         nn.TripletMarginWithDistanceLoss, opts, triplets(((6, 9),) * 3), (0, 1, 2))
    case(f"triplet_with_distance-l1-{opts}", "triplet_margin_with_distance_loss",
         nn.TripletMarginWithDistanceLoss,
         dict(opts, distance_function=l1_distance, distance_grad=l1_distance_grad),
         triplets(((6, 9),) * 3), (0, 1, 2))


def torch_value_and_grads(name, args, diff, reduction, options, grad_output=None):
    """torch's value and gradients of the differentiable arguments, as NumPy arrays."""
    targs = [torch.tensor(a) for a in args]
    for i in diff:
        targs[i].requires_grad_()
    opts = {k: torch.tensor(v, dtype=targs[0].dtype) if isinstance(v, np.ndarray) else v
            for k, v in options.items() if k != "distance_grad"}
    if opts.get("distance_function") is l1_distance:
        opts["distance_function"] = torch_l1_distance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = getattr(TF, name)(*targs, reduction=reduction, **opts)
    go = torch.ones_like(value) if grad_output is None else torch.tensor(grad_output,
                                                                         dtype=value.dtype)
    gs = torch.autograd.grad(value, [targs[i] for i in diff], go) if diff else ()
    return value.detach().numpy(), [g.numpy() for g in gs]


def closs_value_and_grads(module, args, reduction, options, grad_output=None):
    m = module(reduction=reduction, **options)
    value = m(*args)
    return value, grads(m.backward(grad_output))


# --------------------------------------------------------------------------- parity


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@DTYPES
@pytest.mark.parametrize("name,module,options,make,diff", CASES)
def test_torch_parity(name, module, options, make, diff, dtype, reduction):
    args = make(np.random.default_rng(0), dtype)
    options = {k: v.astype(dtype) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    value, gs = closs_value_and_grads(module, args, reduction, options)
    t_value, t_gs = torch_value_and_grads(name, args, diff, reduction, options)
    assert np.shape(value) == t_value.shape and np.asarray(value).dtype == t_value.dtype
    # A triplet value is margin + d(a, p) - d(a, n): torch's float32 distances are rounded
    # at their own size (~1), closs's are summed in double, so a value that cancels to near
    # 0 differs by up to an ulp of the distances (closs's is the closer to float64's).
    cancels = name.startswith("triplet") and dtype == np.float32
    assert_parity(value, t_value, dtype, scale=1.0 if cancels else 1e-2)
    assert len(gs) == len(t_gs)
    for g, tg in zip(gs, t_gs):
        assert g.shape == tg.shape and g.dtype == tg.dtype
        assert_parity(g, tg, dtype, scale=1e-2)
    # functional == Module
    fn = getattr(F, name)
    np.testing.assert_array_equal(fn(*args, reduction=reduction, **options), value)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,module,options,make,diff", CASES)
def test_torch_parity_grad_output(name, module, options, make, diff, reduction):
    """The vector-Jacobian product with a per-sample (or scalar) grad_output."""
    rng = np.random.default_rng(1)
    args = make(rng, np.float64)
    value = getattr(F, name)(*args, reduction=reduction, **options)
    go = rng.standard_normal(np.shape(value))
    _, gs = closs_value_and_grads(module, args, reduction, options, go)
    _, t_gs = torch_value_and_grads(name, args, diff, reduction, options, go)
    for g, tg in zip(gs, t_gs):
        assert_parity(g, tg, np.float64, scale=1.0)


SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0, -2.0])


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_nan_inf(reduction):
    """Every triple of special values: NaN and inf propagate as torch propagates them."""
    x1, x2, y = (a.reshape(-1) for a in np.meshgrid(SPECIALS, SPECIALS, np.array([1.0, -1.0, np.nan])))
    with np.errstate(invalid="ignore"):
        value, gs = closs_value_and_grads(nn.MarginRankingLoss, (x1, x2, y), reduction, {})
    t_value, t_gs = torch_value_and_grads("margin_ranking_loss", (x1, x2, y), (0, 1), reduction, {})
    np.testing.assert_allclose(value, t_value, rtol=1e-12)
    for g, tg in zip(gs, t_gs):
        np.testing.assert_allclose(g, tg, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("name,module,options,make", [
    ("multi_margin_loss", nn.MultiMarginLoss, {"p": 2}, classes(((6, 6), (6,)))),
    ("multilabel_margin_loss", nn.MultiLabelMarginLoss, {}, labels(((6, 6), (6, 6)))),
    ("triplet_margin_loss", nn.TripletMarginLoss, {}, triplets(((6, 6),) * 3)),
    ("triplet_margin_loss", nn.TripletMarginLoss, {"p": float("inf"), "swap": True},
     triplets(((6, 6),) * 3)),
    ("cosine_embedding_loss", nn.CosineEmbeddingLoss, {}, cosine(((6, 6), (6, 6), (6,)))),
], ids=["multi_margin", "multilabel_margin", "triplet", "triplet-inf-swap", "cosine"])
def test_nan_inf_values(name, module, options, make):
    """Special values in the rows: the values are torch's, NaN where torch has NaN."""
    args = list(make(np.random.default_rng(4), np.float64))
    args[0][np.diag_indices(6)] = SPECIALS
    with np.errstate(invalid="ignore"):
        value = getattr(F, name)(*args, reduction="none", **options)
    t_value, _ = torch_value_and_grads(name, args, (), "none", options)
    np.testing.assert_array_equal(np.isnan(value), np.isnan(t_value))
    np.testing.assert_allclose(value, t_value, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,args", [
    ("margin_ranking_loss", (np.empty((0, 3)),) * 3),
    ("cosine_embedding_loss", (np.empty((0, 3)), np.empty((0, 3)), np.empty(0))),
    ("triplet_margin_loss", (np.empty((0, 4)),) * 3),
    ("triplet_margin_loss", (np.empty((3, 0)),) * 3),
], ids=["margin_ranking", "cosine_embedding", "triplet-no-rows", "triplet-no-features"])
def test_empty_like_torch(name, args, reduction):
    value = getattr(F, name)(*args, reduction=reduction)
    t_value, _ = torch_value_and_grads(name, args, (), reduction, {})
    np.testing.assert_array_equal(value, t_value)  # NaN for 'mean', 0 for 'sum'


@pytest.mark.parametrize("name,args", [
    ("multi_margin_loss", (np.empty((0, 3)), np.empty(0, np.int64))),
    ("multilabel_margin_loss", (np.empty((0, 3)), np.empty((0, 3), np.int64))),
], ids=["multi_margin", "multilabel_margin"])
def test_empty_batch_of_class_losses(name, args):
    """torch leaves these uninitialised; closs gives the mean NaN, the sum 0, 'none' (0,)."""
    assert np.isnan(getattr(F, name)(*args))
    assert getattr(F, name)(*args, reduction="sum") == 0
    assert getattr(F, name)(*args, reduction="none").shape == (0,)
    _, g = getattr(nn, {"multi_margin_loss": "MultiMarginLoss",
                        "multilabel_margin_loss": "MultiLabelMarginLoss"}[name])().value_and_grad(*args)
    assert g.shape == (0, 3)


@needs_torch
@pytest.mark.parametrize("cls", ["MarginRankingLoss", "CosineEmbeddingLoss", "MultiMarginLoss",
                                 "MultiLabelMarginLoss", "TripletMarginLoss",
                                 "TripletMarginWithDistanceLoss"])
def test_module_signatures_are_torchs(cls):
    """Constructor parameters: torch's, in torch's order with torch's defaults (closs adds
    distance_grad at the end of TripletMarginWithDistanceLoss)."""
    ours = inspect.signature(getattr(nn, cls)).parameters
    theirs = inspect.signature(getattr(torch.nn, cls)).parameters
    assert [p for p in ours if p != "distance_grad"] == list(theirs)
    for name, p in theirs.items():
        assert ours[name].default == p.default and ours[name].kind == p.kind


# --------------------------------------------------------------------------- semantics


def test_margin_ranking_by_hand():
    x1, x2, y = np.array([1.0, 2.0, 0.5]), np.array([2.0, 1.0, 0.5]), np.array([1.0, 1.0, -1.0])
    # -y (x1 - x2) + 0.5 = 1.5, -0.5, 0.5
    value, (g1, g2) = nn.MarginRankingLoss(margin=0.5, reduction="sum").value_and_grad(x1, x2, y)
    assert value == 2.0
    np.testing.assert_array_equal(g1, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g2, [1.0, 0.0, -1.0])
    assert F.margin_ranking_loss(x1, x2, y, margin=0.5) == pytest.approx(2.0 / 3, rel=1e-15)


def test_cosine_by_hand_labels_and_eps():
    x1 = np.array([[1.0, 0.0], [1.0, 1.0], [3.0, 4.0], [0.0, 0.0]])
    x2 = np.array([[0.0, 2.0], [1.0, 1.0], [3.0, 4.0], [0.0, 0.0]])
    y = np.array([1, -1, 0, 1])  # integer labels; 0 gives 0
    loss, (g1, g2) = nn.CosineEmbeddingLoss(margin=0.5, reduction="none").value_and_grad(x1, x2, y)
    # cos = 0, ~1, ~1, and 0 for zero vectors (the 1e-12 in the norms)
    np.testing.assert_allclose(loss, [1.0, 0.5, 0.0, 1.0], rtol=1e-11)
    assert not g1[2].any() and not g2[2].any()  # other labels: no gradient
    np.testing.assert_allclose(g1[0], [0.0, -1.0], rtol=1e-11)  # -x2 / (|x1| |x2|)


def test_cosine_labels_count_only_when_exactly_one_in_their_own_dtype():
    """A float64 label that float32 rounds to +-1 is neither 1 nor -1 (torch compares
    in the target's dtype); labels of the loss's dtype and integer labels go to the
    kernel as they are, which gives every other label 0."""
    rng = np.random.default_rng(12)
    x1, x2 = (rng.standard_normal((6, 3)).astype(np.float32) for _ in range(2))
    y64 = np.array([1 + 1e-12, -1 - 1e-12, 1.0, -1.0, 2.0, np.nan])
    value = F.cosine_embedding_loss(x1, x2, y64, margin=-1.0, reduction="none")
    assert value[0] == 0 and value[1] == 0 and value[4] == 0 and value[5] == 0
    assert value[2] > 0 and value[3] > 0
    y32 = np.array([1, -1, 1, -1, 2, 0], np.float32)
    expected = F.cosine_embedding_loss(x1, x2, y32, margin=-1.0, reduction="none")
    np.testing.assert_array_equal(expected[[2, 3, 4, 5]], value[[2, 3, 4, 5]])
    np.testing.assert_array_equal(
        F.cosine_embedding_loss(x1, x2, y32.astype(np.int8), margin=-1.0, reduction="none"),
        expected)
    if torch is not None:
        t_value, _ = torch_value_and_grads("cosine_embedding_loss", (x1, x2, y64), (), "none",
                                           {"margin": -1.0})
        np.testing.assert_allclose(value, t_value, rtol=1e-6)


def test_multi_margin_by_hand():
    x = np.array([[0.1, 0.2, 0.4, 0.8], [1.0, 0.0, 0.0, 0.0]])
    t = np.array([3, 0], dtype=np.int8)  # any integer dtype
    w = np.array([1.0, 1.0, 1.0, 2.0])
    # row 0: terms 1 - 0.8 + x_j = 0.3, 0.4, 0.6 times w[3] = 2, / 4 -> 0.65
    # row 1: 1 - 1 + 0 = 0 three times: no terms (z > 0 only) -> 0
    value = F.multi_margin_loss(x, t, weight=w, reduction="none")
    np.testing.assert_allclose(value, [0.65, 0.0], rtol=1e-14)
    assert F.multi_margin_loss(x, t, weight=w) == pytest.approx(0.325, rel=1e-14)  # / N
    # p = 2: (0.09 + 0.16 + 0.36) / 4
    assert F.multi_margin_loss(x[:1], t[:1], p=2) == pytest.approx(0.61 / 4, rel=1e-14)
    g = nn.MultiMarginLoss(weight=w, reduction="sum").value_and_grad(x, t)[1]
    np.testing.assert_allclose(g[0], [0.5, 0.5, 0.5, -1.5], rtol=1e-14)


def test_multilabel_by_hand_stops_at_minus_one_and_counts_duplicates():
    x = np.array([0.5, 0.0, 1.0, -0.5])
    # targets 2, 2 (twice), then -1 ends the list; the 0 after it does not count
    t = np.array([2, 2, -1, 0])
    # non-targets j = 0, 1, 3: 1 - 1 + x_j = 0.5, 0, -0.5 -> 0.5, twice -> 1.0 / 4
    value, g = nn.MultiLabelMarginLoss(reduction="sum").value_and_grad(x, t)
    assert value == pytest.approx(0.25, rel=1e-15) and np.shape(value) == ()
    np.testing.assert_allclose(g, [0.5, 0.0, -0.5, 0.0], rtol=1e-15)
    # a row without targets gives 0
    assert F.multilabel_margin_loss(x, np.array([-1, 3, 3, 3])) == 0


def test_triplet_eps_is_added_to_the_difference():
    a = p = np.zeros((1, 4))
    n = np.ones((1, 4))
    # |a - p + eps| = 2 eps (4 elements, p = 2); |a - n + eps| = 2 (1 - eps)
    eps = 0.01
    value = F.triplet_margin_loss(a, p, n, margin=3.0, eps=eps, reduction="none")
    np.testing.assert_allclose(value, [3.0 + 2 * eps - 2 * (1 - eps)], rtol=1e-14)
    # p = inf: max |v|
    value = F.triplet_margin_loss(a, p, 3 * n, margin=4.0, p=float("inf"), eps=eps)
    assert value == pytest.approx(4.0 + eps - (3 - eps), rel=1e-14)


@pytest.mark.parametrize("name,args,shape", [
    ("multi_margin_loss", (np.ones(3), np.array(1)), ()),
    ("multi_margin_loss", (np.ones(3), np.array([1])), (1,)),
    ("multi_margin_loss", (np.ones((1, 3)), np.array(1)), ()),
    ("multilabel_margin_loss", (np.ones(3), np.array([1, -1, 0])), ()),
    ("multilabel_margin_loss", (np.ones((2, 3)), np.zeros((2, 3), np.int64)), (2,)),
    ("cosine_embedding_loss", (np.ones(3), np.ones(3), np.array(1.0)), ()),
    ("triplet_margin_loss", (np.ones(3),) * 3, ()),
    ("triplet_margin_loss", (np.ones((2, 4, 3)),) * 3, (2, 4)),
    ("margin_ranking_loss", (np.ones((2, 1)), np.ones((1, 3)), np.ones((1, 1))), (2, 3)),
], ids=lambda v: v if isinstance(v, str) else None)
def test_unreduced_shapes(name, args, shape):
    """'none' has torch's shape: unbatched class losses give a scalar, unless
    multi_margin's target is 1-D."""
    assert getattr(F, name)(*args, reduction="none").shape == shape


def test_dtypes():
    rng = np.random.default_rng(5)
    a32 = rng.standard_normal((3, 4)).astype(np.float32)
    value, gs = nn.TripletMarginLoss().value_and_grad(a32, a32[::-1], a32 * 2)
    assert type(value) is np.float32 and all(g.dtype == np.float32 for g in gs)
    # mixed: the value promotes, each gradient keeps its input's dtype
    value, gs = nn.TripletMarginLoss().value_and_grad(a32, a32.astype(np.float64), a32)
    assert type(value) is np.float64
    assert [g.dtype for g in gs] == [np.float32, np.float64, np.float32]
    # integer labels take the float inputs' dtype (torch's rule)
    assert type(F.margin_ranking_loss(a32, a32, np.ones((3, 4), np.int64))) is np.float32
    # cosine labels and class indices do not promote
    assert type(F.cosine_embedding_loss(a32, a32, np.ones(3, np.int64))) is np.float32
    for itype in (np.int8, np.uint16, np.int32, np.int64):
        assert type(F.multi_margin_loss(a32, np.arange(3).astype(itype))) is np.float32


def test_views_lists_and_tensors():
    rng = np.random.default_rng(6)
    base = rng.standard_normal((8, 10))
    a, p, n = base[::2, ::2], base[1::2, ::2], base[::2, 1::2].T.T  # strided views
    expected = F.triplet_margin_loss(*(np.ascontiguousarray(x) for x in (a, p, n)))
    assert F.triplet_margin_loss(a, p, n) == expected
    assert F.triplet_margin_loss(a.tolist(), p.tolist(), n.tolist()) == expected
    if torch is not None:
        assert F.triplet_margin_loss(*(torch.tensor(x) for x in (a, p, n))) == expected


def test_broadcast_gradients_sum_back():
    """A broadcast input's gradient is the sum over the rows it was repeated in."""
    rng = np.random.default_rng(7)
    a, n = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    p = rng.standard_normal((1, 4))
    _, gs = nn.TripletMarginLoss(reduction="sum").value_and_grad(a, p, n)
    _, full = nn.TripletMarginLoss(reduction="sum").value_and_grad(a, np.repeat(p, 5, 0), n)
    np.testing.assert_allclose(gs[1], full[1].sum(0, keepdims=True), rtol=1e-14)
    out = (np.empty((5, 4)), np.empty((1, 4)), np.empty((5, 4)))
    res = nn.TripletMarginLoss(reduction="sum").value_and_grad(a, p, n, out=out)[1]
    assert all(r is o for r, o in zip(res, out))
    np.testing.assert_allclose(out[1], gs[1], rtol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", ["margin_ranking_loss", "cosine_embedding_loss",
                                  "multi_margin_loss", "multilabel_margin_loss",
                                  "triplet_margin_loss"])
def test_fused_is_forward_plus_backward(loss, reduction):
    """value_and_grad == (forward, backward with grad_output = ones), bit for bit."""
    from closs._registry import LOSSES

    entry = LOSSES[loss]
    args = entry.make_args(np.random.default_rng(8), (40, 300), np.float32)
    call = entry.prepare(*args, reduction=reduction)
    value, fused = call.value_and_grad()
    assert np.array_equal(call.value(), value)
    ones = None if reduction != "none" else np.ones(call.out_shape, np.float32)
    for f, b in zip(grads(fused), grads(call.grad(ones))):
        assert np.array_equal(f, b)


def test_determinism_across_threads():
    """Rows split into blocks by the data size alone: 1 and 2 threads agree bit for bit."""
    rng = np.random.default_rng(9)
    a, p, n = (rng.standard_normal((3000, 64)).astype(np.float32) for _ in range(3))
    x, t = rng.standard_normal((3000, 64)), rng.integers(0, 64, 3000)
    results = []
    for threads in (1, 2):
        with num_threads(threads):
            value, gs = nn.TripletMarginLoss(swap=True).value_and_grad(a, p, n)
            results.append((value.tobytes(), [g.tobytes() for g in gs],
                             F.multi_margin_loss(x, t, reduction="sum").tobytes(),
                             F.cosine_embedding_loss(a, p, np.sign(x[:, 0])).tobytes()))
    assert results[0] == results[1]


def test_float32_rows_accumulate_in_double():
    """A long float32 row: the distance is exact to float rounding of the result."""
    d = 1_000_000
    a = np.full((1, d), 0.1, np.float32)
    z = np.zeros((1, d), np.float32)
    value = F.triplet_margin_loss(z, z, a, margin=2000.0, eps=0.0, reduction="sum")
    exact = 2000.0 - np.sqrt(d * np.float64(np.float32(0.1)) ** 2)
    assert abs(float(value) - exact) <= 2e-4  # one float32 ulp of 1900


# --------------------------------------------------------------------------- distance functions


def test_distance_function_without_distance_grad():
    rng = np.random.default_rng(10)
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))
    m = nn.TripletMarginWithDistanceLoss(distance_function=l1_distance)
    value = m(a, p, n)  # the value needs no gradient
    expected = np.maximum(1 + l1_distance(a, p) - l1_distance(a, n), 0).mean()
    assert value == pytest.approx(expected, rel=1e-15)
    with pytest.raises(ValueError, match="needs distance_grad"):
        m.backward()
    with pytest.raises(ValueError, match="needs distance_grad"):
        m.value_and_grad(a, p, n)
    with pytest.raises(ValueError, match="distance_grad goes with a distance_function"):
        F.triplet_margin_with_distance_loss(a, p, n, distance_grad=l1_distance_grad)


def test_distance_function_receives_arrays_of_the_result_dtype():
    seen = []

    def dist(x1, x2):
        seen.append((type(x1), x1.dtype, x2.dtype))
        return np.abs(x1 - x2).sum(-1)

    a = np.ones((2, 3), np.float32)
    value = F.triplet_margin_with_distance_loss(a, a.tolist(), a, distance_function=dist)
    assert seen == [(np.ndarray, np.float64, np.float64)] * 2 and type(value) is np.float64


# --------------------------------------------------------------------------- bad input


def test_margin_ranking_bad_shapes():
    with pytest.raises(RuntimeError, match=r"margin_ranking_loss : All input tensors should have "
                       r"same dimension but got sizes: input1: torch.Size\(\[3, 4\]\), input2: "
                       r"torch.Size\(\[4\]\), target: torch.Size\(\[3, 1\]\)"):
        F.margin_ranking_loss(np.ones((3, 4)), np.ones(4), np.ones((3, 1)))
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(4\) must match the size of "
                       r"tensor b \(5\) at non-singleton dimension 1"):
        F.margin_ranking_loss(np.ones((3, 4)), np.ones((3, 1)), np.ones((3, 5)))


@pytest.mark.parametrize("x1,x2,y,match", [
    (np.ones((4, 5)), np.ones((4, 5)), np.ones((4, 1)), "0D or 1D target tensor expected"),
    (np.ones(5), np.ones(5), np.ones(1), r"1D target tensor expects 2D input tensors, but found "
     r"inputs with sizes \[5\] and \[5\]."),
    (np.ones((4, 5)), np.ones((4, 5)), np.ones(()), "0D target tensor expects 1D input tensors"),
    (np.ones((4, 5)), np.ones((4, 3)), np.ones(4), "same number of dimensions and of features"),
    (np.ones((4, 5)), np.ones((4, 1)), np.ones(4), "same number of dimensions and of features"),
    (np.ones((4, 5)), np.ones(5), np.ones(4), "same number of dimensions and of features"),
    (np.ones((4, 5)), np.ones((3, 5)), np.ones(4), r"The size of tensor a \(4\) must match"),
], ids=["2d-target", "1d-target-1d-input", "0d-target-2d-input", "features", "feature-bcast",
        "ndim", "rows"])
def test_cosine_bad_shapes(x1, x2, y, match):
    with pytest.raises(RuntimeError, match=match):
        F.cosine_embedding_loss(x1, x2, y)


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"p": 3}, ValueError, "only p == 1 and p == 2 supported"),
    ({"p": 0}, ValueError, "only p == 1 and p == 2 supported"),
    ({"weight": np.ones((2, 3))}, ValueError, "weight must be one-dimensional"),
    ({"weight": np.ones(4)}, RuntimeError, r"inconsistent weight size, expected 3 but got \[4\]"),
    ({"target": np.array([1, 7])}, IndexError, r"^Target 7 is out of bounds.$"),
    ({"target": np.array([-1, 1])}, IndexError, r"^Target -1 is out of bounds.$"),
    ({"target": np.array([1.0, 2.0])}, TypeError, "integer class indices"),
    ({"target": np.array([1, 2, 0])}, RuntimeError, r"Expected target size \[2\], but got \[3\]"),
    ({"target": np.array([[1, 2]])}, RuntimeError, "target tensor should be 1-D"),
    ({"input": np.ones((2, 3, 4))}, RuntimeError, r"non-empty vector or matrix .* \[2, 3, 4\]"),
    ({"input": np.ones((2, 0))}, RuntimeError, "non-empty vector or matrix"),
    ({"reduction": "batchmean"}, ValueError, "batchmean is not a valid value for reduction"),
], ids=["p3", "p0", "weight-2d", "weight-size", "index-high", "index-negative", "float-target",
        "target-size", "target-2d", "input-3d", "no-classes", "reduction"])
def test_multi_margin_bad_input(kwargs, exc, match):
    args = dict(input=np.ones((2, 3)), target=np.array([1, 2]))
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        F.multi_margin_loss(**args)


@pytest.mark.parametrize("target,exc,match", [
    (np.array([[1, 7, -1]]), IndexError, r"^Target 7 is out of bounds.$"),
    (np.array([[1, -2, 0]]), IndexError, r"^Target -2 is out of bounds.$"),
    (np.array([[1, -1, 9]]), IndexError, r"^Target 9 is out of bounds.$"),  # after the -1 too
    (np.array([1, -1, 0]), RuntimeError, r"inconsistent target size: \[3\] for input of size: "
     r"\[1, 3\]"),
    (np.array([[1.0, -1.0, 0.0]]), TypeError, "integer class indices"),
], ids=["high", "below-minus-one", "after-the-end", "shape", "float"])
def test_multilabel_bad_input(target, exc, match):
    with pytest.raises(exc, match=match):
        F.multilabel_margin_loss(np.ones((1, 3)), target)


def test_out_of_range_index_reported_from_backward_and_fused_too():
    x, t = np.ones((2, 3)), np.array([0, 3])
    m = nn.MultiMarginLoss()
    for run in (lambda: m(x, t), lambda: m.value_and_grad(x, t)):
        with pytest.raises(IndexError, match="Target 3 is out of bounds."):
            run()


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"margin": 0.0}, ValueError, "margin must be greater than 0, got 0.0"),
    ({"margin": -1.0}, ValueError, "margin must be greater than 0, got -1.0"),
    ({"margin": float("nan")}, ValueError, "margin must be greater than 0"),
    ({"p": 0}, ValueError, "p must be positive"),
    ({"p": -1.0}, ValueError, "p must be positive"),
    ({"negative": np.ones(4)}, RuntimeError, "same number of dimensions, but got: anchor 2D, "
     "positive 2D, and negative 1D inputs"),
    ({"negative": np.ones((3, 5))}, RuntimeError, r"The size of tensor a \(4\) must match"),
    ({"reduction": "batchmean"}, ValueError, "batchmean is not a valid value for reduction"),
], ids=["margin-0", "margin-negative", "margin-nan", "p-0", "p-negative", "ndim", "broadcast",
        "reduction"])
def test_triplet_bad_input(kwargs, exc, match):
    args = dict(anchor=np.ones((3, 4)), positive=np.ones((3, 4)), negative=np.ones((3, 4)))
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        F.triplet_margin_loss(**args)


def test_triplet_with_distance_bad_input():
    a = np.ones((3, 4))
    with pytest.raises(ValueError, match="batchmean is not a valid value for reduction"):
        F.triplet_margin_with_distance_loss(a, a, a, reduction="batchmean")
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        F.triplet_margin_with_distance_loss(a, a, a, margin=0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D"):
        F.triplet_margin_with_distance_loss(a, a, a[0])
    with pytest.raises(TypeError):  # no size_average / reduce, as in torch
        F.triplet_margin_with_distance_loss(a, a, a, size_average=True)


def test_module_constructor_errors():
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected weight to be None or 1D tensor, got 2D"):
        nn.MultiMarginLoss(weight=np.ones((2, 2)))
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(ValueError, match="TripletMarginWithDistanceLoss: expected margin"):
        nn.TripletMarginWithDistanceLoss(margin=-1)


def test_backward_errors():
    m = nn.TripletMarginLoss(reduction="none")
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        m.backward()
    a = np.ones((2, 3))
    m(a, a, a)
    with pytest.raises(ValueError, match="grad_output has shape"):
        m.backward(np.ones(3))
    with pytest.raises(ValueError, match="out must be a tuple of 3 arrays"):
        m.backward(out=(np.empty((2, 3)),) * 2)
    with pytest.raises(ValueError, match="out must be an ndarray of shape"):
        m.backward(out=(np.empty((2, 3)), np.empty((3, 2)), np.empty((2, 3))))


@pytest.mark.parametrize("dtype", ["float", "double"])
def test_kernel_rejects_buffers_of_the_wrong_length(dtype):
    """The Cython layer checks every length against (n, d) before calling C."""
    kernel = _core.rowwise
    ft = np.float32 if dtype == "float" else np.float64
    x, out = np.ones(12, ft), np.empty(1, ft)
    kind = _core.ROWWISE["triplet_margin_loss"]
    kernel(kind, _api.FORWARD, 3, 4, x, x, x, None, None, None, 1, 2, 0, 0, 1, out, None,
           None, None, None)
    with pytest.raises(ValueError, match="input has 12 elements, expected 15"):
        kernel(kind, _api.FORWARD, 3, 5, x, x, x, None, None, None, 1, 2, 0, 0, 1, out, None,
               None, None, None)
    with pytest.raises(ValueError, match="out has 1 elements, expected 3"):
        kernel(kind, _api.FORWARD, 3, 4, x, x, x, None, None, None, 1, 2, 0, 0, 0, out, None,
               None, None, None)
    with pytest.raises(ValueError, match="NULL"):  # a missing input: the C status
        kernel(kind, _api.FORWARD, 3, 4, x, x, None, None, None, None, 1, 2, 0, 0, 1, out, None,
               None, None, None)
    idx = np.zeros(2, np.int64)
    with pytest.raises(ValueError, match="target has 2 elements, expected 3"):
        kernel(_core.ROWWISE["multi_margin_loss"], _api.FORWARD, 3, 4, x, None, None, None, idx,
               None, 1, 1, 0, 0, 1, out, None, None, None, None)
    with pytest.raises(ValueError, match="invalid row-wise shape"):
        kernel(kind, _api.FORWARD, 1 << 40, 1 << 40, x, x, x, None, None, None, 1, 2, 0, 0, 1,
               out, None, None, None, None)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("p", [1, 1.5, 2, 3, np.inf])
@pytest.mark.parametrize("shapes", [((3, 1), (3, 4), (3, 1)), ((3, 4), (3, 1), (3, 4)),
                                    ((1,), (0,), (1,)), ((2, 3, 1), (2, 3, 5), (1, 3, 5)),
                                    ((3, 4), (3, 4), (3, 1))], ids=str)
def test_triplet_broadcasts_each_pair_as_torch(shapes, p, swap, reduction):
    """A feature axis of 1 against one of D: torch broadcasts (anchor, positive) and
    (anchor, negative) each on its own, so d(a, n) sums 1 term, not D (issue 11's
    fuzz: closs once broadcast all three together, a silently different value)."""
    if p == np.inf and 0 in sum(shapes, ()):
        pytest.skip("torch: no inf norm over an empty dimension")
    rng = np.random.default_rng(len(str(shapes)))
    args = [rng.standard_normal(s) for s in shapes]
    value, gs = nn.TripletMarginLoss(p=p, swap=swap, reduction=reduction).value_and_grad(*args)
    targs = [torch.tensor(a, requires_grad=True) for a in args]
    t_value = TF.triplet_margin_loss(*targs, p=p, swap=swap, reduction=reduction)
    t_grads = torch.autograd.grad(t_value.sum(), targs, allow_unused=True)
    assert_parity(value, t_value.detach().numpy(), np.float64)
    for g, tg, a in zip(gs, t_grads, args):
        assert g.shape == a.shape
        assert_parity(g, np.zeros_like(a) if tg is None else tg.numpy(), np.float64)


# --------------------------------------------------------------------------- narrow rows

# Rows of 2 to 4 elements are taken 16 rows at a time by the forward kernels (rowwise.h,
# ROWWISE_NARROW_LENGTHS); the lengths around that cut-off, 53 rows (three groups of 16
# and a tail), and one length past the 16-lane row sums.
NARROW_D = (1, 2, 3, 4, 5, 6, 40)
NARROW_CASES = (
    [("multi_margin_loss", {"p": p, "margin": m}, w) for p in (1, 2) for m in (1.0, 0.3)
     for w in (False, True)]
    + [("multilabel_margin_loss", {}, False)]
    + [("cosine_embedding_loss", {"margin": m}, False) for m in (0.0, 0.3)]
    + [("triplet_margin_loss", {"p": p, "swap": s}, False)
       for p in (1, 2, float("inf"), 3) for s in (False, True)]
)
NARROW_MODULES = {"multi_margin_loss": nn.MultiMarginLoss,
                  "multilabel_margin_loss": nn.MultiLabelMarginLoss,
                  "cosine_embedding_loss": nn.CosineEmbeddingLoss,
                  "triplet_margin_loss": nn.TripletMarginLoss}
NARROW_DIFF = {"multi_margin_loss": (0,), "multilabel_margin_loss": (0,),
               "cosine_embedding_loss": (0, 1), "triplet_margin_loss": (0, 1, 2)}


def narrow_args(name, n, d, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if name == "multi_margin_loss":
        return classes(((n, d), (n,)))(rng, dtype)
    if name == "multilabel_margin_loss":  # 0 to d labels, a duplicate, then -1 and any
        t = rng.integers(-1, d, (n, d))
        for i, row in enumerate(t):
            k = i % (d + 1)
            row[:k] = rng.integers(0, d, k)
            if k >= 2 and i % 3 == 0:
                row[k - 1] = row[0]
            if k < d:
                row[k] = -1
        return rng.standard_normal((n, d)).astype(dtype), t
    if name == "cosine_embedding_loss":
        return cosine(((n, d), (n, d), (n,)))(rng, dtype)
    return triplets(((n, d),) * 3)(rng, dtype)


def narrow_options(name, options, weighted, d, dtype):
    return dict(options, weight=np.linspace(0.5, 2.0, d).astype(dtype)) if weighted else options


@pytest.mark.parametrize("reduction", REDUCTIONS)
@DTYPES
@pytest.mark.parametrize("d", NARROW_D)
@pytest.mark.parametrize("name,options,weighted", NARROW_CASES,
                         ids=[f"{n}-{o}-w={w}" for n, o, w in NARROW_CASES])
def test_narrow_rows_against_reference_and_torch(name, options, weighted, d, dtype, reduction):
    """Values (the forward kernels' narrow loops) and gradients of narrow rows: the
    NumPy reference, and torch where importable."""
    from closs import _reference as R

    args = narrow_args(name, 53, d, dtype)
    opts = narrow_options(name, options, weighted, d, dtype)
    value = getattr(F, name)(*args, reduction=reduction, **opts)
    _, gs = closs_value_and_grads(NARROW_MODULES[name], args, reduction, opts)
    r_value, r_gs = getattr(R, name)(*args, reduction=reduction, **opts)
    rtol = 2e-5 if dtype == np.float32 else 1e-12
    # Terms that cancel, of the size of the data (~1): a triplet value margin + d(a, p) -
    # d(a, n); a cosine gradient x2 / den - cos x1 / m1 (all of it for rows of one
    # element); a gradient of the p = 3 norm in float32 (torch's, rounded in float32)
    scale = 10.0 if name == "triplet_margin_loss" else 1.0
    if name == "cosine_embedding_loss" and d == 1:  # terms ~ 1 / |x|: noise around 0
        scale = 1.0 / np.min(np.abs(np.concatenate(args[:2])))
    np.testing.assert_allclose(value, r_value, rtol=rtol, atol=rtol * scale)
    for g, rg in zip(gs, grads(r_gs)):
        np.testing.assert_allclose(g, rg, rtol=rtol, atol=rtol * scale)
    if torch is not None:
        t_value, t_gs = torch_value_and_grads(name, args, NARROW_DIFF[name], reduction, opts)
        assert_parity(value, t_value, dtype, scale=scale)
        for g, tg in zip(gs, t_gs):
            assert_parity(g, tg, dtype, scale=scale)


@pytest.mark.parametrize("d", (2, 3, 4, 5))
@pytest.mark.parametrize("name,options,weighted", NARROW_CASES,
                         ids=[f"{n}-{o}-w={w}" for n, o, w in NARROW_CASES])
def test_narrow_rows_sum_is_the_sum_of_the_rows(name, options, weighted, d):
    """'sum' (the rows added in 16 lanes) against the rows' values added in float64."""
    args = narrow_args(name, 1001, d, np.float64, seed=3)
    opts = narrow_options(name, options, weighted, d, np.float64)
    rows = getattr(F, name)(*args, reduction="none", **opts)
    total = getattr(F, name)(*args, reduction="sum", **opts)
    np.testing.assert_allclose(total, np.sum(rows), rtol=1e-13)
    np.testing.assert_allclose(getattr(F, name)(*args, **opts), np.mean(rows), rtol=1e-13)


@needs_torch
@pytest.mark.parametrize("d", (2, 4))
@pytest.mark.parametrize("name,options", [
    ("multi_margin_loss", {"p": 1}), ("multi_margin_loss", {"p": 2}),
    ("multilabel_margin_loss", {}), ("cosine_embedding_loss", {}),
    ("triplet_margin_loss", {"p": 2}), ("triplet_margin_loss", {"p": 1, "swap": True}),
    ("triplet_margin_loss", {"p": float("inf")}),
    ("triplet_margin_loss", {"p": float("inf"), "swap": True}),
    ("triplet_margin_loss", {"p": 3, "swap": True}),
])
def test_narrow_rows_nan_inf(name, options, d):
    """Special values in narrow rows, every row of a 16-row group different: NaN where
    torch has NaN, torch's values elsewhere."""
    n = 48
    args = list(narrow_args(name, n, d, np.float64, seed=5))
    specials = np.resize(SPECIALS, n)
    args[0][np.arange(n), np.arange(n) % d] = specials
    if name != "multi_margin_loss" and name != "multilabel_margin_loss":
        args[1][np.arange(n), (np.arange(n) + 1) % d] = np.roll(specials, 3)
    with np.errstate(invalid="ignore"):
        for reduction in ("none", "sum"):
            value = getattr(F, name)(*args, reduction=reduction, **options)
            t_value, _ = torch_value_and_grads(name, args, (), reduction, options)
            np.testing.assert_array_equal(np.isnan(value), np.isnan(t_value))
            np.testing.assert_allclose(value, t_value, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("swap", (False, True))
@pytest.mark.parametrize("d", (2, 4, 20))
def test_triplet_max_norm_ties_and_nan(d, swap):
    """The max norm's largest |v| (an integer max of the bit patterns: NaN above inf)
    and its gradient shared by the tied elements, as torch shares it."""
    n = 32
    a = np.zeros((n, d))
    a[:, 0], a[:, 1] = 1.0, -1.0  # |v| ties at 1
    p = np.zeros((n, d))
    neg = np.full((n, d), 0.25)
    neg[1::4, 0] = np.nan
    neg[2::4, 1] = np.inf
    p[3::4, -1] = -np.inf
    args = (a, p, neg)
    opts = {"p": float("inf"), "eps": 0.0, "swap": swap, "margin": 2.0}
    with np.errstate(invalid="ignore"):
        value, gs = closs_value_and_grads(nn.TripletMarginLoss, args, "none", opts)
    t_value, t_gs = torch_value_and_grads("triplet_margin_loss", args, (0, 1, 2), "none", opts)
    np.testing.assert_array_equal(np.isnan(value), np.isnan(t_value))
    np.testing.assert_allclose(value, t_value, rtol=1e-12)
    for g, tg in zip(gs, t_gs):
        np.testing.assert_allclose(g, tg, rtol=1e-12)


def test_narrow_rows_determinism_across_threads():
    """Narrow rows past the parallel threshold: 1 and 2 threads agree bit for bit."""
    n, d = (1 << 19) + 37, 2
    results = []
    for threads in (1, 2):
        with num_threads(threads):
            results.append(tuple(
                getattr(F, name)(*narrow_args(name, n, d, np.float32, seed=6), **opts).tobytes()
                for name, opts in [("multi_margin_loss", {"p": 2}), ("multilabel_margin_loss", {}),
                                   ("cosine_embedding_loss", {}),
                                   ("triplet_margin_loss", {"swap": True})]))
    assert results[0] == results[1]
