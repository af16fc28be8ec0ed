"""Partial reductions (LossCall.partial, the C core's closs_<loss>_partial) and
closs.stream: for every loss of the registry, any split of a batch combines into the
whole batch's value; the combine tree; a stream's value and gradients."""

import math
import warnings

import numpy as np
import pytest

import closs
import closs.stream
from closs import _shard
from closs._registry import LOSSES, materialise
from conftest import grads

# the splits of a batch of 13 rows: uneven, one of a single row
SPLITS = [(0, 1), (1, 6), (6, 13)]


def batch_axes(loss, args):
    """The batch axis of each argument (None: passed whole to every part)."""
    if loss.name == "ctc_loss":
        return (1, 0, 0, 0)
    if loss.name == "linear_cross_entropy":  # (input, linear_weight, target)
        return (0, None, 0)
    return tuple(0 if isinstance(a, np.ndarray) and a.ndim >= 1 else None for a in args)


def part(args, axes, lo, hi):
    return [a if ax is None else np.take(a, np.arange(lo, hi), axis=ax)
            for a, ax in zip(args, axes)]


def loss_args(loss, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    shape = (12, 13, 6) if loss.name == "ctc_loss" else (13, 5)
    return rng, loss.make_args(rng, shape, dtype)


def option_cases():
    for key, loss in LOSSES.items():
        for i, options in enumerate(loss.grid):
            for reduction in loss.reductions:
                if reduction != "none":
                    yield pytest.param(key, i, reduction, id=f"{key}-{i}-{reduction}")


def whole_and_parts(loss, options, args, reduction):
    """(the in-memory value, the parts' pairs) for the options; per-element weights
    are split with the batch."""
    axes = batch_axes(loss, args)
    full = loss.prepare(*args, **options, reduction=reduction).value()
    pairs = []
    for lo, hi in SPLITS:
        opts = {k: (v[lo:hi] if isinstance(v, np.ndarray) and v.shape == np.shape(args[0]) else v)
                for k, v in options.items()}
        pairs.append(loss.prepare(*part(args, axes, lo, hi), **opts, reduction=reduction).partial())
    return full, pairs


@pytest.mark.parametrize("key, i, reduction", list(option_cases()))
def test_parts_combine_into_the_whole_batch(key, i, reduction):
    loss = LOSSES[key]
    rng, args = loss_args(loss)
    options = materialise(loss, loss.grid[i], rng, np.shape(args[0]), np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        full, pairs = whole_and_parts(loss, options, args, reduction)
    s, d = np.sum(pairs, axis=0)
    value = s if reduction == "sum" else s / d
    np.testing.assert_allclose(value, full, rtol=1e-12, atol=1e-14)
    assert all(p.dtype == np.float64 and p.shape == (2,) for p in pairs)
    if reduction == "sum":
        assert all(p[1] == 1.0 for p in pairs)


def test_denominators():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4))
    t = np.array([0, 3, -1, 2, -1, 1])
    w = np.array([0.5, 1.0, 2.0, 4.0])
    # cross_entropy: D is the summed class weight of the kept targets
    pair = closs.functional._cross_entropy_call(x, t, w, ignore_index=-1).partial()
    assert pair[1] == 0.5 + 4.0 + 2.0 + 1.0
    # weighted mse: the element-wise weight's sum; huber: the element count
    ew = rng.uniform(size=(6, 4))
    assert closs.functional._mse_call(x, x + 1, weight=ew).partial()[1] == pytest.approx(ew.sum())
    assert closs.functional._huber_call(x, x + 1, weight=ew).partial()[1] == 24
    # kl_div 'batchmean': the batch size; multilabel_soft_margin: the rows
    assert closs.functional._kl_div_call(x, abs(x), reduction="batchmean").partial()[1] == 6
    assert closs.functional._multilabel_soft_margin_call(x, x > 0).partial()[1] == 6
    # ctc_loss 'mean': S sums loss / max(target length, 1), D is the batch
    rng2, args = loss_args(LOSSES["ctc_loss"])
    lp, targets, il, tl = args
    losses = closs.functional.ctc_loss(lp, targets, il, tl, reduction="none")
    pair = closs.functional._ctc_call(lp, targets, il, tl).partial()
    assert pair[1] == lp.shape[1]
    assert pair[0] == pytest.approx(np.sum(losses / np.maximum(tl, 1)), rel=1e-13)


def test_partial_needs_a_reduction():
    call = closs.functional._mse_call(np.ones(3), np.zeros(3), reduction="none")
    with pytest.raises(ValueError, match="partial"):
        call.partial()


def test_partial_of_a_streamed_call():
    """A call too large for one kernel pass over non-contiguous operands (chunked
    internally) gives the pair of its chunks, its D the element count."""
    n = (1 << 20) + 3
    x = np.linspace(-1, 1, n)
    y = np.zeros(2 * n)[::2]  # strided: the call streams
    pair = closs.functional._mse_call(x, y).partial()
    assert pair[1] == n
    assert pair[0] == pytest.approx(np.sum(x * x), rel=1e-12)


# ------------------------------------------------------------------ the combine tree


def test_the_stream_tree_is_the_graph_tree():
    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 5, 8, 13, 64, 100):
        pairs = [rng.standard_normal(2) * 10.0 ** rng.integers(-8, 8) for _ in range(n)]
        c = _shard.Combiner()
        for p in pairs:
            c.push(p)
        assert c.count == n
        assert len(c.stack) <= math.floor(math.log2(n)) + 1  # constant memory: the bits of n
        assert c.total().tobytes() == _shard.tree(pairs, _shard.add).tobytes()


def test_the_tree_is_pairwise():
    # ((a + b) + (c + d)) + e, not (((a + b) + c) + d) + e: the two differ here
    pairs = [np.array([v, 0.0]) for v in (1e16, 1.0, 1.0, -1e16, 1.0)]
    assert _shard.tree(pairs, _shard.add)[0] == ((1e16 + 1.0) + (1.0 - 1e16)) + 1.0


# ------------------------------------------------------------------ streams


def batches(x, t, bounds):
    return [(x[a:b], t[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_mean_of_cross_entropy(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 7)).astype(dtype)
    t = rng.integers(0, 7, 200)
    t[::5] = -1
    w = rng.uniform(0.2, 3.0, 7).astype(dtype)
    acc = closs.stream.Mean("cross_entropy", weight=w, ignore_index=-1, label_smoothing=0.1)
    parts = batches(x, t, [0, 3, 52, 53, 130, 200])
    for xb, tb in parts:
        acc.update(xb, tb)
    value = acc.value()
    full = closs.functional.cross_entropy(x, t, w, ignore_index=-1, label_smoothing=0.1)
    assert type(value) is np.dtype(dtype).type and acc.batches == 5
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(value, full, rtol=2 * eps if dtype == np.float32 else 1e-13)
    # the chunk means averaged: what a user would get by mapping the loss over batches
    naive = np.mean([closs.functional.cross_entropy(xb, tb, w, ignore_index=-1,
                                                    label_smoothing=0.1) for xb, tb in parts])
    assert abs(naive - full) > 100 * eps * abs(full)
    # gradients: a second pass, each batch's share of the whole mean
    g = np.concatenate([acc.grad(xb, tb) for xb, tb in parts])
    _, ref = closs.nn.CrossEntropyLoss(w, ignore_index=-1, label_smoothing=0.1).value_and_grad(x, t)
    np.testing.assert_allclose(g, ref, rtol=4 * eps, atol=4 * eps * np.abs(ref).max())
    assert g.dtype == dtype


def test_stream_reductions_and_options():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((40, 3)), rng.uniform(size=(40, 3))
    total = closs.stream.Loss("kl_div", reduction="batchmean")
    summed = closs.stream.Loss("mse_loss", reduction="sum")
    for a, b in ((0, 7), (7, 40)):
        total.update(x[a:b], y[a:b])
        summed.update(input=x[a:b], target=y[a:b])
    np.testing.assert_allclose(total.value(), closs.functional.kl_div(x, y, reduction="batchmean"),
                               rtol=1e-13)
    np.testing.assert_allclose(summed.value(), closs.functional.mse_loss(x, y, reduction="sum"),
                               rtol=1e-13)
    gs = [summed.grad(x[a:b], y[a:b]) for a, b in ((0, 7), (7, 40))]
    np.testing.assert_allclose(np.concatenate(gs), 2 * (x - y), rtol=1e-13)
    # several differentiable inputs: a tuple per batch
    trip = closs.stream.Mean("triplet_margin_loss", margin=0.5)
    a, p, n = (rng.standard_normal((9, 4)) for _ in range(3))
    trip.update(a[:4], p[:4], n[:4]).update(a[4:], p[4:], n[4:])
    ref_v, ref_g = closs.nn.TripletMarginLoss(margin=0.5).value_and_grad(a, p, n)
    np.testing.assert_allclose(trip.value(), ref_v, rtol=1e-13)
    got = [trip.grad(a[:4], p[:4], n[:4]), trip.grad(a[4:], p[4:], n[4:])]
    for k in range(3):
        np.testing.assert_allclose(np.concatenate([got[0][k], got[1][k]]), grads(ref_g)[k],
                                   rtol=1e-12, atol=1e-15)


def test_stream_ctc_mean():
    loss = LOSSES["ctc_loss"]
    _, (lp, targets, il, tl) = loss_args(loss)
    acc = closs.stream.Mean("ctc_loss", zero_infinity=True)
    for lo, hi in SPLITS:
        acc.update(lp[:, lo:hi], targets[lo:hi], il[lo:hi], tl[lo:hi])
    ref_v, ref_g = closs.nn.CTCLoss(zero_infinity=True).value_and_grad(lp, targets, il, tl)
    np.testing.assert_allclose(acc.value(), ref_v, rtol=1e-13)
    g = np.concatenate([acc.grad(lp[:, lo:hi], targets[lo:hi], il[lo:hi], tl[lo:hi])
                        for lo, hi in SPLITS], axis=1)
    np.testing.assert_array_equal(g, ref_g)  # the same per-sample scale, bit for bit


def test_stream_errors_and_empty():
    with pytest.raises(ValueError, match="unknown loss"):
        closs.stream.Mean("no_such_loss")
    with pytest.raises(ValueError, match="reduces"):
        closs.stream.Loss("mse_loss", reduction="none")
    acc = closs.stream.Mean("mse_loss")
    assert np.isnan(acc.value())  # torch's mean over nothing
    acc.update(np.ones(2), np.zeros(2))
    acc.reset()
    assert acc.batches == 0
    with pytest.raises(closs.ShapeError), pytest.warns(UserWarning, match="target size"):
        acc.update(np.ones((2, 3)), np.zeros((3, 3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_linear_cross_entropy(dtype):
    """The parameters given once; each batch's gradients: the input's rows, and its
    share of linear_weight's and linear_bias's, which add up to the whole batch's."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((90, 8)).astype(dtype)
    lw = (rng.standard_normal((6, 2, 8)) / 2).astype(dtype)  # K-dimensional out_features (2,)
    lb = rng.standard_normal((6, 2)).astype(dtype)
    w = rng.uniform(0.2, 2.0, 6).astype(dtype)
    t = rng.integers(0, 6, (90, 2))
    t[::7, 1] = -1
    options = dict(linear_bias=lb, weight=w, ignore_index=-1, label_smoothing=0.05)
    acc = closs.stream.Mean("linear_cross_entropy", linear_weight=lw, **options)
    bounds = [0, 1, 40, 41, 90]
    parts = batches(x, t, bounds)
    for xb, tb in parts:
        acc.update(xb, target=tb)
    ref_v, (rgx, rgw, rgb) = closs.functional._linear_cross_entropy_call(
        x, lw, t, **options).value_and_grad()
    eps = np.finfo(dtype).eps
    rtol = 4 * eps if dtype == np.float32 else 1e-13
    assert type(acc.value()) is np.dtype(dtype).type
    np.testing.assert_allclose(acc.value(), ref_v, rtol=rtol)
    got = [acc.grad(xb, target=tb) for xb, tb in parts]
    assert all(len(g) == 3 and g[1].shape == lw.shape and g[2].shape == lb.shape for g in got)
    gx = np.concatenate([g[0] for g in got])
    gw, gb = sum(g[1] for g in got), sum(g[2] for g in got)
    for g, ref in ((gx, rgx), (gw, rgw), (gb, rgb)):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, ref, rtol=0, atol=16 * eps * np.abs(ref).max())
    # 'sum', positional arguments
    summed = closs.stream.Loss("linear_cross_entropy", reduction="sum", ignore_index=-1)
    for xb, tb in parts:
        summed.update(xb, lw, tb, linear_bias=lb)
    np.testing.assert_allclose(summed.value(), closs.functional.linear_cross_entropy(
        x, lw, t, linear_bias=lb, ignore_index=-1, reduction="sum"), rtol=rtol)
