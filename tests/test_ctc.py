"""ctc_loss against PyTorch 2.13 (when importable) and its edge cases: padded and
concatenated targets, blank anywhere (also among the targets), zero_infinity,
impossible alignments, empty targets, input lengths below T, unbatched inputs,
every reduction, length arrays of any integer dtype and lists, finite
differences through log_softmax, bad input, fused == forward + backward and
thread-count determinism. (The registry's reference, entry-point and generic
torch tests are in test_losses.py.)"""

import numpy as np
import pytest

import closs
import closs.functional as F
from closs import _reference as R
from closs import nn
from closs._errors import DTypeError, ParameterError, ShapeError

from conftest import TF, num_threads, torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


def log_softmax(z, axis=-1):
    m = z.max(axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis, keepdims=True))


def batch(rng, t, n, c, s, dtype, blank=0, impossible=False, labels=None):
    """log_probs (t, n, c), padded targets (n, s) (labels from `labels`, default
    every class but the blank), input lengths in [t - 3, t], target lengths in [0, s];
    with impossible, sample 0 gets a target longer than its input allows."""
    lp = log_softmax(rng.standard_normal((t, n, c)) * 2).astype(dtype)
    if labels is None:
        labels = [k for k in range(c) if k != blank]
    tg = rng.choice(np.array(labels), (n, s))
    il = rng.integers(max(0, t - 3), t + 1, n)
    tl = rng.integers(0, s + 1, n)
    if impossible:
        tl[0], il[0] = s, min(t, s - 1)
    return lp, tg, il, tl


def concatenate(tg, tl):
    return np.concatenate([tg[b, :tl[b]] for b in range(len(tl))]).astype(tg.dtype)


def torch_ctc(lp, tg, il, tl, grad_output=None, **kw):
    """torch's value and d/dlog_probs (autograd.grad of ctc_loss)."""
    x = torch.tensor(lp, requires_grad=True)
    v = TF.ctc_loss(x, torch.tensor(tg), torch.as_tensor(il), torch.as_tensor(tl), **kw)
    go = torch.ones_like(v) if grad_output is None else torch.tensor(grad_output)
    (g,) = torch.autograd.grad(v, x, go)
    return v.detach().numpy(), g.numpy()


def _bound(actual, torch_value, reference, budget, dtype):
    """The elementwise rule of assert_parity: NaN and inf exactly where torch has
    them; elsewhere |actual - reference| <= 2 |torch - reference| + 4 eps budget
    (float32) or |actual - torch| <= 1e-12 |torch| + 4 eps budget (float64)."""
    actual, torch_value, reference = (np.asarray(a, np.float64) for a in
                                      (actual, torch_value, reference))
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(torch_value))
    special = ~np.isfinite(torch_value)
    np.testing.assert_array_equal(actual[special & ~np.isnan(torch_value)],
                                  torch_value[special & ~np.isnan(torch_value)])
    eps = float(np.finfo(dtype).eps)
    with np.errstate(invalid="ignore"):  # inf - inf where both are inf: checked above
        if dtype == np.float32:
            err, allowed = np.abs(actual - reference), 2 * np.abs(torch_value - reference)
        else:
            err, allowed = np.abs(actual - torch_value), 1e-12 * np.abs(torch_value)
    allowed = allowed + 4 * eps * budget
    bad = np.isfinite(torch_value) & ~(err <= allowed)
    assert not bad.any(), (f"{bad.sum()} of {bad.size} beyond the parity rule, worst "
                           f"{np.max((err - allowed)[bad]):.3g} over; at {np.argwhere(bad)[:5].tolist()}")


def assert_parity(lp, tg, il, tl, value, grad, grad_output=None, **opts):
    """closs's value and gradient of ctc_loss(lp, tg, il, tl, **opts) (times
    grad_output) against torch's.

    closs's recursions use closs_internal.h's vectorised exp and log (1-2 ulp), not
    glibc's scalar ones as torch does, and add the terms of a class's gradient in
    linear rather than log space, so the results agree to rounding, not to the
    bit. The rule, per element, with `torch` torch's result in the input's dtype
    and `reference` torch's in float64 on the same (upcast) input:
      float32: |closs - reference| <= 2 |torch - reference| + 4 eps B
               (closs at most twice as far from the float64 answer as torch is)
      float64: |closs - torch| <= 1e-12 |torch| + 4 eps B
    and NaN and inf exactly where torch has them. B, the rounding budget:
      values:    |reference|;
      gradients: the sample's largest |reference| entry times max(1, its nll).
    Why nll: alpha and beta are log-probabilities of magnitude up to a sample's
    -log p = nll, so their rounding errors are absolute errors of about eps nll
    in log space, that is relative errors of every occupancy e^(alpha + beta - ...)
    of the sample; a gradient entry (a probability minus occupancies, times the
    sample's grad_output) is exact only to that, relative to the sample's largest
    entry. (docs/architecture.md, ctc_loss, states the rule too.)"""
    dtype = lp.dtype.type
    t_value, t_grad = torch_ctc(lp, tg, il, tl, grad_output, **opts)
    go64 = None if grad_output is None else np.asarray(grad_output, np.float64)
    r_value, r_grad = torch_ctc(lp.astype(np.float64), tg, il, tl, go64, **opts)
    nll, _ = torch_ctc(lp.astype(np.float64), tg, il, tl,
                       **dict(opts, reduction="none"))
    _bound(value, t_value, r_value, np.abs(r_value), dtype)
    # the sample axis of the gradient: 1 of (T, N, C); none when unbatched
    g = r_grad if lp.ndim == 3 else r_grad[:, None]
    nll = np.reshape(nll, -1)
    largest = np.max(np.where(np.isfinite(g), np.abs(g), 0), axis=(0, 2), initial=0)
    weight = np.where(np.isfinite(nll), np.maximum(1, np.abs(nll)), 1)
    budget = np.broadcast_to((largest * weight)[None, :, None], g.shape).reshape(r_grad.shape)
    _bound(grad, t_grad, r_grad, budget, dtype)


# --------------------------------------------------------------------------- torch parity

CASES = {
    "padded": dict(),
    "concatenated": dict(concat=True),
    "blank-last": dict(blank=4),
    "blank-middle": dict(blank=2, concat=True),
    "blank-in-targets": dict(labels=[0, 1, 2]),
    "zero-infinity": dict(impossible=True, zero_infinity=True),
    "impossible": dict(impossible=True),
    "long": dict(shape=(40, 3, 6, 12)),
}


@needs_torch
@DTYPES
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_torch_parity(case, reduction, dtype):
    kw = dict(CASES[case])
    t, n, c, s = kw.pop("shape", (9, 4, 5, 3))
    blank, concat = kw.pop("blank", 0), kw.pop("concat", False)
    zero_infinity = kw.pop("zero_infinity", False)
    rng = np.random.default_rng(len(case))
    lp, tg, il, tl = batch(rng, t, n, c, s, dtype, blank, **kw)
    if concat:
        tg = concatenate(tg, tl)
    opts = dict(blank=blank, reduction=reduction, zero_infinity=zero_infinity)
    t_value, _ = torch_ctc(lp, tg, il, tl, **opts)
    crit = nn.CTCLoss(blank=blank, reduction=reduction, zero_infinity=zero_infinity)
    value, grad = crit.value_and_grad(lp, tg, il, tl)
    assert np.asarray(value).dtype == dtype and np.shape(value) == t_value.shape
    assert grad.dtype == dtype and grad.shape == lp.shape
    # NaN where torch's is NaN (impossible, no zero_infinity)
    assert_parity(lp, tg, il, tl, value, grad, **opts)
    # a random grad_output's VJP
    go = np.random.default_rng(1).uniform(0.5, 2, t_value.shape).astype(dtype)
    assert_parity(lp, tg, il, tl, crit(lp, tg, il, tl), crit.backward(go), go, **opts)
    if dtype == np.float64:  # the reference agrees too (float32 carries torch's rounding)
        ref_value, ref_grad = R.ctc_loss(lp, tg, il, tl, **opts)
        np.testing.assert_allclose(value, ref_value, rtol=1e-11)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-11, atol=1e-13)


@needs_torch
@DTYPES
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched(reduction, dtype):
    rng = np.random.default_rng(3)
    lp, tg, il, tl = batch(rng, 8, 1, 5, 3, dtype)
    tl[0] = 3
    il0, tl0 = torch.tensor(il[0]), torch.tensor(tl[0])
    t_value, _ = torch_ctc(lp[:, 0], tg[0], il0, tl0, reduction=reduction)
    for lengths in ((int(il[0]), int(tl[0])), (il[:1], tl[:1]), (np.int32(il[0]), np.int8(tl[0]))):
        value, grad = nn.CTCLoss(reduction=reduction).value_and_grad(lp[:, 0], tg[0], *lengths)
        assert np.shape(value) == t_value.shape == () and grad.shape == lp[:, 0].shape
        assert_parity(lp[:, 0], tg[0], il0, tl0, value, grad, reduction=reduction)


@needs_torch
@pytest.mark.parametrize("kind", ["int32", "int64", "uint8", "list", "tuple"])
def test_length_types(kind):
    rng = np.random.default_rng(4)
    lp, tg, il, tl = batch(rng, 7, 3, 4, 2, np.float64)
    convert = {"list": list, "tuple": tuple}.get(kind, lambda a: a.astype(kind))
    cil, ctl = convert(il), convert(tl)
    if kind in ("list", "tuple"):
        cil, ctl = [int(v) for v in cil], tuple(int(v) for v in ctl)
    value, grad = nn.CTCLoss().value_and_grad(lp, tg.astype(np.int32), cil, ctl)
    assert_parity(lp, tg, il, tl, value, grad)


@needs_torch
def test_edge_lengths():
    """Zero input lengths, zero target lengths, input lengths below T: torch's values
    (0 for an empty input and target, inf for an empty input with a target), and a
    zero gradient past each input length."""
    rng = np.random.default_rng(5)
    lp = log_softmax(rng.standard_normal((6, 4, 3)))
    tg = np.array([[1, 2], [1, 1], [2, 0], [1, 0]])
    il, tl = np.array([0, 0, 3, 6]), np.array([0, 2, 1, 0])
    for zi in (False, True):
        value, grad = nn.CTCLoss(reduction="none", zero_infinity=zi).value_and_grad(lp, tg, il, tl)
        assert_parity(lp, tg, il, tl, value, grad, reduction="none", zero_infinity=zi)
        np.testing.assert_array_equal(value[:2], [0.0, 0.0 if zi else np.inf])
        assert (grad[3:, 2] == 0).all() and (grad[:, :2] == 0).all()


def test_hand_computed():
    """Two frames, blank 0 and label 1, target "1": the alignments 11, 01, 10."""
    p = np.array([[0.4, 0.6], [0.7, 0.3]])
    value, grad = nn.CTCLoss(reduction="sum").value_and_grad(np.log(p)[:, None], [[1]], [2], [1])
    total = 0.6 * 0.3 + 0.4 * 0.3 + 0.6 * 0.7
    assert np.isclose(value, -np.log(total), rtol=1e-15)
    occupancy = np.array([[0.4 * 0.3, 0.6], [0.6 * 0.7, 0.3]]) / total
    np.testing.assert_allclose(grad[:, 0], p - occupancy, rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("concat", [False, True], ids=["padded", "concatenated"])
def test_finite_differences_through_log_softmax(reduction, concat):
    """Central differences of sum(go * ctc_loss(log_softmax(z))) with respect to z
    against closs's gradient chained through log_softmax's Jacobian (which, for
    torch's convention, leaves it unchanged)."""
    rng = np.random.default_rng(6)
    z = rng.standard_normal((7, 3, 4))
    tg = rng.integers(1, 4, (3, 2))
    il, tl = np.array([7, 5, 6]), np.array([2, 1, 0])
    if concat:
        tg = concatenate(tg, tl)
    call = F._ctc_call(log_softmax(z), tg, il, tl, blank=0, reduction=reduction)
    go = rng.uniform(0.5, 1.5, call.out_shape if reduction == "none" else ())
    g = call.grad(go)
    chained = g - np.exp(log_softmax(z)) * g.sum(-1, keepdims=True)
    np.testing.assert_allclose(chained, g, rtol=1e-12, atol=1e-13)

    def f(zv):
        return float(np.sum(go * F.ctc_loss(log_softmax(zv), tg, il, tl, reduction=reduction)))

    h, numeric = 1e-5, np.empty_like(z)
    for i in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[i] += h
        zm[i] -= h
        numeric[i] = (f(zp) - f(zm)) / (2 * h)
    np.testing.assert_allclose(chained, numeric, rtol=1e-6, atol=1e-8)


@DTYPES
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_fused_equals_forward_and_backward(reduction, dtype):
    rng = np.random.default_rng(7)
    lp, tg, il, tl = batch(rng, 12, 5, 6, 4, dtype, impossible=True)
    crit = nn.CTCLoss(reduction=reduction, zero_infinity=True)
    value = crit(lp, tg, il, tl)
    grad = crit.backward()
    fused_value, fused_grad = crit.value_and_grad(lp, tg, il, tl)
    np.testing.assert_array_equal(fused_value, value)
    np.testing.assert_array_equal(fused_grad, grad)
    out = np.full_like(lp, np.nan)
    assert crit.backward(out=out) is out
    np.testing.assert_array_equal(out, grad)


def test_determinism_across_threads():
    """Samples split into blocks by the data size alone: 1 and 2 threads agree bit for bit."""
    rng = np.random.default_rng(8)
    lp, tg, il, tl = batch(rng, 60, 33, 8, 20, np.float32)
    results = []
    for threads in (1, 2):
        with num_threads(threads):
            results.append(nn.CTCLoss().value_and_grad(lp, tg, il, tl))
            results.append((F.ctc_loss(lp, tg, il, tl, reduction="sum"), None))
    (v1, g1), (s1, _), (v2, g2), (s2, _) = results
    assert v1.tobytes() == v2.tobytes() and s1.tobytes() == s2.tobytes()
    assert g1.tobytes() == g2.tobytes()


def test_torch_tensors_and_float32_lengths_promotion():
    """CPU torch tensors go in without copies; integer log_probs become float64."""
    if torch is None:
        pytest.skip("torch is not installed")
    rng = np.random.default_rng(9)
    lp, tg, il, tl = batch(rng, 6, 2, 4, 2, np.float32)
    a = F.ctc_loss(torch.tensor(lp), torch.tensor(tg), torch.tensor(il), torch.tensor(tl))
    assert a == F.ctc_loss(lp, tg, il, tl) and a.dtype == np.float32


# --------------------------------------------------------------------------- bad input


def good(n=2):
    rng = np.random.default_rng(10)
    return batch(rng, 6, n, 4, 2, np.float64)


@pytest.mark.parametrize(
    "change,error,match",
    [
        (lambda lp, tg, il, tl: (lp, tg, il + 1 + (il == il), tl), ShapeError,
         "Expected input_lengths to have value at most 6"),
        (lambda lp, tg, il, tl: (lp, tg, -il - 1, tl), ShapeError,
         "input_lengths to have value at least 0"),
        (lambda lp, tg, il, tl: (lp, tg, il, tl - 5), ShapeError,
         "target_lengths to have value at least 0"),
        (lambda lp, tg, il, tl: (lp, tg, il, tl + 5), ShapeError,
         "Expected tensor to have size at least"),
        (lambda lp, tg, il, tl: (lp, np.where(tg == tg, 7, 7), il, tl * 0 + 1), IndexError,
         "Target 7 is out of bounds."),
        (lambda lp, tg, il, tl: (lp, np.where(tg == tg, -1, -1), il, tl * 0 + 2), IndexError,
         "Target -1 is out of bounds."),
        (lambda lp, tg, il, tl: (lp, tg, il[:1], tl), ShapeError,
         "input_lengths must be of size batch_size"),
        (lambda lp, tg, il, tl: (lp, tg, il, np.append(tl, 1)), ShapeError,
         "target_lengths must be of size batch_size"),
        (lambda lp, tg, il, tl: (lp, tg[:1], il, tl), ShapeError, "targets must be"),
        (lambda lp, tg, il, tl: (lp, tg.astype(np.float64), il, tl), DTypeError,
         "targets must hold integer"),
        (lambda lp, tg, il, tl: (lp, tg, il.astype(np.float32), tl), DTypeError,
         "input_lengths must hold integers"),
        (lambda lp, tg, il, tl: (lp, tg, il, [1.0, 2.0]), DTypeError,
         "target_lengths must hold integers"),
        (lambda lp, tg, il, tl: (lp[:, 0], tg, il[:1], tl[:1]), ShapeError, "targets must be"),
        (lambda lp, tg, il, tl: (lp[:, :, None], tg, il, tl), ShapeError, "log_probs must be"),
        (lambda lp, tg, il, tl: (lp[:0], tg, il * 0, tl), ShapeError, "must not be empty"),
        (lambda lp, tg, il, tl: (lp, np.concatenate([tg[0], tg[1]]), il, tl * 0 + 1), ShapeError,
         "Expected tensor to have size 2 at dimension 0, but got size 4"),
    ],
)
def test_bad_input(change, error, match):
    lp, tg, il, tl = change(*good())
    with pytest.raises(error, match=match):
        F.ctc_loss(lp, tg, il, tl)
    with pytest.raises(error, match=match):
        nn.CTCLoss(reduction="none").value_and_grad(lp, tg, il, tl)


def test_bad_blank_and_reduction():
    lp, tg, il, tl = good()
    for blank in (-1, 4):
        with pytest.raises(ParameterError, match="blank must be in label range"):
            F.ctc_loss(lp, tg, il, tl, blank=blank)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.ctc_loss(lp, tg, il, tl, reduction="batchmean")
    crit = nn.CTCLoss(reduction="none")
    with pytest.raises(RuntimeError, match="before forward"):
        crit.backward()
    crit(lp, tg, il, tl)
    with pytest.raises(ShapeError, match="grad_output"):
        crit.backward(np.ones(3))


def test_padding_past_target_lengths_is_not_checked():
    """Only the labels a sample uses are checked: padding may hold anything (-1 ...)."""
    lp, tg, il, tl = good()
    tl[:] = 1
    padded = tg.copy()
    padded[:, 1] = -1
    np.testing.assert_array_equal(F.ctc_loss(lp, padded, il, tl, reduction="none"),
                                  F.ctc_loss(lp, tg, il, tl, reduction="none"))


def test_core_checks_lengths():
    """The Cython layer refuses buffers of the wrong length before any C call."""
    from closs import _api, _core

    lp, tg, il, tl = good()
    kernel = _core.ctc
    flat = np.ascontiguousarray(lp).reshape(-1)
    out = np.empty(1)
    t64 = np.ascontiguousarray(tg, np.int64).reshape(-1)
    il64, tl64 = il.astype(np.int64), tl.astype(np.int64)
    with pytest.raises(ShapeError, match="log_probs"):
        kernel(0, 6, 2, 4, flat[:-1], t64, 2, False, il64, tl64, 0, False, 1, out, None, None)
    with pytest.raises(ShapeError, match="targets"):
        kernel(0, 6, 2, 4, flat, t64[:-1], 2, False, il64, tl64, 0, False, 1, out, None, None)
    with pytest.raises(ShapeError, match="input_lengths"):
        kernel(0, 6, 2, 4, flat, t64, 2, False, il64[:1], tl64, 0, False, 1, out, None, None)
    with pytest.raises(ShapeError, match="gradient"):
        kernel(2, 6, 2, 4, flat, t64, 2, False, il64, tl64, 0, False, 1, out, None, flat[:3].copy())
    with pytest.raises(ShapeError):  # the C core's own check: a length above T
        kernel(0, 6, 2, 4, flat, t64, 2, False, il64 + 7, tl64, 0, False, 1, out, None, None)


def test_concurrent_calls():
    """Calls from several Python threads at once (the GIL is released): each has its
    own scratch memory and gets the single-threaded result."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(11)
    lp, tg, il, tl = batch(rng, 40, 9, 6, 10, np.float64)
    want = nn.CTCLoss(reduction="none").value_and_grad(lp, tg, il, tl)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: nn.CTCLoss(reduction="none").value_and_grad(lp, tg, il, tl),
                            range(8)))
    for value, grad in got:
        assert value.tobytes() == want[0].tobytes() and grad.tobytes() == want[1].tobytes()


@needs_torch
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_propagate_as_in_torch(bad):
    rng = np.random.default_rng(12)
    lp, tg, il, tl = batch(rng, 8, 3, 4, 2, np.float64)
    lp[2, 0, 1] = bad
    lp[5, 1, 0] = bad
    value, grad = nn.CTCLoss(reduction="none").value_and_grad(lp, tg, il, tl)
    assert_parity(lp, tg, il, tl, value, grad, reduction="none")
