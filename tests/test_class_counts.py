"""Every row-wise and classification loss at class counts around the vector widths
and the kernels' chunk sizes, with many labels per row: value and gradient (fused,
and backward with a grad_output) against the NumPy references of closs._reference
and against torch 2.13.

The counts: around the 16 accumulator lanes and the AVX2 / AVX-512 vector widths
(CLOSS_LANES, CL_L: 15, 16, 17, 31 ...), and one above each chunk size of the
kernels:
  CL_RUN = 512         classification.h, elements a float lane adds before the double lanes
  CL_CHUNK_MIN = 1024  classification.h, a row's online log-sum-exp chunk (several chunks above)
  ML_CHUNK = 1024      rowwise.h, classes per pass of a multilabel_margin row
  CL_GROUP_ELEMS       classification.h, 4096: above it a group holds one row
  64 CL_CHUNK_MIN      classification.h, 65536: above it the chunks grow past CL_CHUNK_MIN
  CTC_WHOLE_ROW        ctc.h, 128 (float64) / 256 (float32) classes prefetched whole
K-dimensional cross_entropy and nll_loss input (N, C, d) runs the 'tiles' kernels
with d one above a whole tile of positions (CL_TILE_ELEMS / C, between 16 and 256).

GCC 12 at -O3 miscompiled a masked load of a 16-lane loop in an AVX2 clone
(rowwise.h: a wrong multilabel_margin_loss for 16+ classes with several targets).
These tests are the guard; .ci/run also runs them at CLOSS_SIMD=avx2 and baseline (the
copies an AVX-512 machine would not otherwise run), and meson test's masked_loads finds
any masked load left in the copies themselves.
"""

import numpy as np
import pytest

from closs._registry import LOSSES, materialise

from conftest import TF, grads, tol, torch, torch_value_and_grad

COUNTS = (1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 129, 257, 513, 1025)
DTYPES = {"float32": np.float32, "float64": np.float64}
REDUCTIONS = ("none", "mean", "sum")


def tile_positions(c):
    """Positions d of (N, C, d) input: one above classification.h's tile of C classes."""
    return min(256, max(16, 8192 // c // 16 * 16)) + 1


# --------------------------------------------------------------- argument makers


def label_rows(rng, c, dtype):
    """multilabel_margin_loss rows of 0, 1, 2, several, many and all labels, and one
    with duplicates; each list ends at its first -1 (then anything in [-1, c))."""
    counts = sorted({0, min(1, c), min(2, c), min(5, c), max(c // 2, min(c, 9)), c})
    t = np.full((len(counts) + 1, c), -1, np.int64)
    for row, k in enumerate(counts):
        t[row, :k] = rng.permutation(c)[:k]
        if k + 1 < c:
            t[row, k + 1:] = rng.integers(-1, c, c - k - 1)  # past the end: ignored
    k = min(c, 8)  # duplicates: each of a few classes listed twice
    t[-1, :k] = rng.integers(0, max(1, c // 3), k)
    x = rng.standard_normal(t.shape) * 0.5  # |x_i - x_j| < 1: most hinges active
    return x.astype(dtype), t


def margin_rows(rng, c, dtype):
    """multi_margin_loss rows with the target first, last, in the middle and random:
    the lanes run over [0, t) and (t, c) apart."""
    t = np.array([0, c - 1, c // 2, rng.integers(0, c)], np.int64)
    return (rng.standard_normal((4, c)) * 0.5).astype(dtype), t


def ctc_args(rng, c, dtype):
    """log_probs (T, N, C) and targets of labels in [1, C) (none for C = 1)."""
    t_len, n, s = 7, 3, 3
    z = rng.standard_normal((t_len, n, c)) * 2
    lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    tl = np.array([0, min(s, 1), s]) if c > 1 else np.zeros(n, np.int64)
    targets = rng.integers(1, c, (n, s)) if c > 1 else np.zeros((n, s), np.int64)
    il = np.array([t_len, t_len - 1, t_len])
    return lp.astype(dtype), targets, il, tl


def registry_args(shape):
    """The registry's own argument maker at the shape shape(c)."""
    return lambda loss, rng, c, dtype: loss.make_args(rng, shape(c), dtype)


def own_args(make):
    return lambda loss, rng, c, dtype: make(rng, c, dtype)


# ------------------------------------------------------------------- the cases

ROWS = registry_args(lambda c: (3, c))
TILES = registry_args(lambda c: (2, c, tile_positions(c)))
LARGE = (4097, 65537)  # one above CL_GROUP_ELEMS and 64 CL_CHUNK_MIN

# (registry key, options, argument maker, id, extra class counts)
CASES = [
    ("cross_entropy", {}, ROWS, "rows", LARGE),
    ("cross_entropy", {"weight": "class", "ignore_index": 1}, ROWS, "rows", ()),
    ("cross_entropy", {"label_smoothing": 0.3}, ROWS, "rows", LARGE),
    ("cross_entropy", {"weight": "class", "ignore_index": 1, "label_smoothing": 0.2}, ROWS,
     "rows", (4097,)),
    ("cross_entropy-probabilities", {}, ROWS, "rows", LARGE),
    ("cross_entropy-probabilities", {"label_smoothing": 0.3}, ROWS, "rows", ()),
    ("cross_entropy-probabilities", {"weight": "class"}, ROWS, "rows", ()),
    ("cross_entropy-probabilities", {"weight": "class", "label_smoothing": 0.2}, ROWS, "rows",
     (4097,)),
    ("cross_entropy", {}, TILES, "tiles", (4097,)),
    ("cross_entropy", {"weight": "class", "ignore_index": 1, "label_smoothing": 0.2}, TILES,
     "tiles", ()),
    ("cross_entropy", {"label_smoothing": 0.3}, TILES, "tiles", ()),
    ("cross_entropy-probabilities", {}, TILES, "tiles", ()),
    ("cross_entropy-probabilities", {"weight": "class", "label_smoothing": 0.2}, TILES,
     "tiles", ()),
    ("nll_loss", {}, ROWS, "rows", (4097,)),
    ("nll_loss", {"weight": "class", "ignore_index": 1}, ROWS, "rows", ()),
    ("nll_loss", {"weight": "class", "ignore_index": 1}, TILES, "tiles", ()),
    ("multi_margin_loss", {}, own_args(margin_rows), "rows", ()),
    ("multi_margin_loss", {"p": 2}, own_args(margin_rows), "rows", ()),
    ("multi_margin_loss", {"margin": 0.4, "weight": "class"}, own_args(margin_rows), "rows", ()),
    ("multi_margin_loss", {"p": 2, "margin": 2.5, "weight": "class"}, own_args(margin_rows),
     "rows", ()),
    ("multilabel_margin_loss", {}, own_args(label_rows), "labels", (2049,)),
    ("multilabel_soft_margin_loss", {}, ROWS, "rows", ()),
    ("multilabel_soft_margin_loss", {"weight": "class"}, ROWS, "rows", ()),
    ("cosine_embedding_loss", {"margin": 0.2}, ROWS, "rows", ()),
    ("triplet_margin_loss", {}, ROWS, "rows", ()),
    ("triplet_margin_loss", {"p": 1, "swap": True}, ROWS, "rows", ()),
    ("ctc_loss", {}, own_args(ctc_args), "frames", ()),
    ("ctc_loss", {"blank": "last", "zero_infinity": True}, own_args(ctc_args), "frames", ()),
]


def option_id(options):
    return ",".join(f"{k}={v}" for k, v in options.items()) or "default"


def params():
    return [pytest.param(key, options, make, c, dtype,
                         id=f"{key}-{kind}-{option_id(options)}-C{c}-{name}")
            for key, options, make, kind, extra in CASES
            for c in COUNTS + extra
            for name, dtype in DTYPES.items()]


def make_case(key, options, make, c, dtype):
    loss = LOSSES[key]
    rng = np.random.default_rng(c)
    args = make(loss, rng, c, dtype)
    opts = materialise(loss, options, rng, np.shape(args[0]), dtype)
    if opts.get("blank") == "last":  # ctc_loss: the last class is the blank
        opts["blank"] = c - 1
        lp, targets, il, tl = args
        args = (lp, np.where(targets == c - 1, 0, targets) if c > 1 else targets, il, tl)
    return loss, args, opts


def assert_close(actual, expected, dtype, what, floor=1e-2):
    """rtol from the dtype's epsilon (tests/test_losses.py); atol relative to the
    largest expected magnitude, so a gradient element far below the row's largest
    (softmax of many classes) is held to the row's rounding, not its own, and to at
    least 1e-2 (a value or gradient that cancels to about 0, as the softmax gradient
    of one class, is only as exact as its terms of about 1; torch's own rounding of
    them adds as much again: floor)."""
    expected = np.asarray(expected, np.float64)
    rtol = tol(dtype)
    scale = float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * max(scale, floor),
                               err_msg=what)


def grad_output(call, reduction, dtype):
    shape = call.out_shape if reduction == "none" else ()
    return np.random.default_rng(7).uniform(0.5, 2.0, shape).astype(dtype)


@pytest.mark.parametrize("key,options,make,c,dtype", params())
def test_class_count(key, options, make, c, dtype):
    loss, args, opts = make_case(key, options, make, c, dtype)
    for reduction in REDUCTIONS:
        call = loss.prepare(*args, reduction=reduction, **opts)
        value, grad = call.value_and_grad()
        ref_value, ref_grad = loss.reference(*args, reduction=reduction, **opts)
        assert np.asarray(value).dtype == dtype and np.shape(value) == np.shape(ref_value)
        assert_close(value, ref_value, dtype, f"{reduction}: value_and_grad's value")
        assert_close(call.value(), ref_value, dtype, f"{reduction}: value")
        for g, ref in zip(grads(grad), grads(ref_grad)):
            assert g.dtype == dtype
            assert_close(g, ref, dtype, f"{reduction}: value_and_grad's gradient")
        go = grad_output(call, reduction, dtype)
        with_go = grads(call.grad(go))
        if reduction != "none":  # the reference's gradient is for grad_output 1
            for g, ref in zip(with_go, grads(ref_grad)):
                assert_close(g, go * np.asarray(ref), dtype, f"{reduction}: grad(grad_output)")
        if torch is None:
            continue
        t_value, t_grad = torch_value_and_grad(loss, args, opts, reduction, go)
        assert_close(value, t_value, dtype, f"{reduction}: value against torch", 0.1)
        for g, tg in zip(with_go, t_grad):
            assert_close(g, tg, dtype, f"{reduction}: grad(grad_output) against torch", 0.1)
