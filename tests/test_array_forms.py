"""Any array NumPy can describe gives the same numbers (issue 11, defects 2, 3, 5).

- Byte order and alignment: big-endian, misaligned and strided copies of every
  array argument of every loss (floats, class indices, weights, lengths) give
  the native array's value and gradients, through the functional (and so its
  lane, where there is one) and the Module.
- out= that overlaps what the call reads (the input itself, the target,
  grad_output) still receives the right gradient, as with NumPy's ufuncs.
- Broadcast operands of the element-wise losses are never materialised at the
  loss's size (tracemalloc), and the chunked path agrees with the direct one.
"""

import tracemalloc

import numpy as np
import pytest

import closs.functional as F
from closs import _api
from closs._registry import LOSSES, materialise
from conftest import grads

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


def big_endian(a):
    return a.astype(a.dtype.newbyteorder(">"))


def misaligned(a):
    """A copy of a whose data starts one byte past an aligned address."""
    buf = np.empty(a.nbytes + 1, np.uint8)
    m = np.ndarray(a.shape, a.dtype, buffer=buf.data, offset=1)
    m[...] = a
    assert a.dtype.itemsize == 1 or not m.flags.aligned
    return m


def strided(a):
    """A non-contiguous view holding a's values (every other element of a bigger array)."""
    if a.ndim == 0:
        return a
    s = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)[..., ::2]
    s[...] = a
    return s


FORMS = {"big_endian": big_endian, "misaligned": misaligned, "strided": strided}


def setup(loss, options, dtype, seed=0, shape=(5, 8)):
    rng = np.random.default_rng(seed)
    args = loss.make_args(rng, shape, dtype)
    return list(args), materialise(loss, options, rng, shape, dtype)


def run(loss, args, opts, reduction):
    """(functional value, fused value, fused gradients, backward gradients)."""
    fn = getattr(F, loss.name)
    module = loss.module(reduction=reduction,
                         **{k: opts[k] for k in loss.module_options if k in opts})
    fwd = {k: opts[k] for k in loss.forward_options if k in opts}
    value = fn(*args, reduction=reduction, **opts)
    fused_value, fused = module.value_and_grad(*args, **fwd)
    module(*args, **fwd)
    return value, fused_value, grads(fused), grads(module.backward())


def assert_same_run(a, b):
    for x, y in zip(a[:2], b[:2]):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)
    for gs, hs in zip(a[2:], b[2:]):
        for g, h in zip(gs, hs):
            assert g.dtype == h.dtype and g.shape == h.shape
            np.testing.assert_array_equal(g, h)


def array_slots(args, opts):
    """Where the call's arrays are: ('arg', i) or ('opt', key)."""
    slots = [("arg", i) for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    return slots + [("opt", k) for k, v in opts.items() if isinstance(v, np.ndarray)]


def replaced(args, opts, slot, form):
    args, opts = list(args), dict(opts)
    kind, key = slot
    if kind == "arg":
        args[key] = form(args[key])
    else:
        opts[key] = form(opts[key])
    return args, opts


def form_cases():
    for loss in LOSSES.values():
        options = loss.grid[-1]  # the richest option set: weights, pos_weight ...
        for form in FORMS:
            yield pytest.param(loss, options, form, id=f"{loss.key}-{form}")


@DTYPES
@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("loss,options,form", form_cases())
def test_every_array_in_every_form(loss, options, form, reduction, dtype):
    args, opts = setup(loss, options, dtype)
    expected = run(loss, args, opts, reduction)
    for slot in array_slots(args, opts):
        a2, o2 = replaced(args, opts, slot, FORMS[form])
        assert_same_run(run(loss, a2, o2, reduction), expected)


@pytest.mark.parametrize("dtype", [">f8", ">f4"])
def test_issue_reproducer_big_endian(dtype):
    x = np.array([[1.0, 2.0, 3.0]], dtype=dtype)
    expected = np.log(np.exp([1.0, 2.0, 3.0]).sum()) - 1.0  # 2.4076
    for t in (np.array([0]), np.array([0], dtype=">i8")):
        np.testing.assert_allclose(F.cross_entropy(x, t), expected, rtol=1e-6)
        np.testing.assert_allclose(F.nll_loss(-x, t), 1.0, rtol=1e-6)


# ----------------------------------------------------------------- out= that overlaps


def overlap_cases():
    for loss in LOSSES.values():
        yield pytest.param(loss, loss.grid[-1], id=loss.key)


@DTYPES
@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("loss,options", overlap_cases())
def test_out_aliasing_an_input(loss, options, reduction, dtype):
    """value_and_grad(..., out=the input itself) and out= views of other arguments of
    the gradient's shape: the right gradient, in the user's arrays."""
    args, opts = setup(loss, options, dtype, seed=1)
    module = loss.module(reduction=reduction,
                         **{k: opts[k] for k in loss.module_options if k in opts})
    fwd = {k: opts[k] for k in loss.forward_options if k in opts}
    value, g = module.value_and_grad(*[a.copy() if isinstance(a, np.ndarray) else a
                                       for a in args], **fwd)
    g = grads(g)
    candidates = [i for i, a in enumerate(args)
                  if isinstance(a, np.ndarray) and a.dtype == dtype
                  and any(a.shape == args[j].shape for j in loss.grad_args)]
    for i in candidates:
        own = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        outs = [own[i] if own[i].shape == own[j].shape and k == 0 else np.empty_like(own[j])
                for k, j in enumerate(loss.grad_args)]
        if not any(o is own[i] for o in outs):  # the aliased array is a later gradient's
            k = next(k for k, j in enumerate(loss.grad_args) if own[j].shape == own[i].shape)
            outs[k] = own[i]
        v2, g2 = module.value_and_grad(*own, out=tuple(outs) if len(outs) > 1 else outs[0],
                                       **fwd)
        np.testing.assert_array_equal(v2, value)
        for r, o, e in zip(grads(g2), outs, g):
            assert r is o
            np.testing.assert_allclose(r, e, rtol=1e-6 if dtype == np.float32 else 1e-13,
                                       err_msg=f"out= aliases argument {i}")


@DTYPES
def test_out_aliasing_grad_output(dtype):
    rng = np.random.default_rng(2)
    x, y = (rng.standard_normal((64, 33)).astype(dtype) for _ in range(2))
    go = rng.uniform(0.5, 2, (64, 33)).astype(dtype)
    module = LOSSES["mse_loss"].module(reduction="none")
    module(x, y)
    expected = module.backward(go.copy())
    result = module.backward(go, out=go)
    assert result is go
    np.testing.assert_array_equal(go, expected)


def test_out_arrays_overlapping_each_other():
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((2, 6, 4))
    y = np.sign(rng.standard_normal(6))
    module = LOSSES["cosine_embedding_loss"].module()
    buf = np.empty((6, 4))
    with pytest.raises(ValueError, match="overlap"):
        module.value_and_grad(x1, x2, y, out=(buf, buf))


def test_issue_reproducer_out_is_input():
    x = np.array([[1.0, 2.0, 3.0]])
    value, g = LOSSES["cross_entropy"].module().value_and_grad(x, np.array([0]), out=x)
    np.testing.assert_allclose(value, 2.4076059644443806, rtol=1e-12)
    p = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(g, [p - [1, 0, 0]], rtol=1e-12)
    assert g is x


# ----------------------------------------------------------------- broadcast operands


def chunkable(loss):
    """The loss streams chunks (the element-wise losses, margin_ranking_loss's rows
    of one element)."""
    args, opts = broadcast_forms(loss, *setup(loss, loss.grid[0], np.float64))
    chunk, _api.CHUNK = _api.CHUNK, 7
    try:
        return loss.prepare(*args, **opts).chunked
    finally:
        _api.CHUNK = chunk


def pointwise_cases():
    for loss in LOSSES.values():
        if not chunkable(loss):
            continue
        for options in loss.grid:
            for reduction in loss.reductions:
                yield pytest.param(loss, options, reduction,
                                   id=f"{loss.key}-{options}-{reduction}")


def broadcast_forms(loss, args, opts):
    """The arguments with the target (and class-shaped options) as broadcast views
    and the input as a strided one, so that every operand needs the chunked path."""
    args = list(args)
    if args[0].ndim < 2:
        return args, opts
    args[0] = strided(args[0])
    if len(args) > 1:
        row = args[1][:1]  # one row of the target, broadcast over the batch
        args[1] = np.broadcast_to(row, args[1].shape)
    return args, opts


@DTYPES
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("loss,options,reduction", pointwise_cases())
def test_chunked_path_is_the_direct_path(loss, options, reduction, dtype, monkeypatch):
    """Chunks of 7 elements (so that every call runs many, with buffered, broadcast
    and strided operands) give the one-call path's numbers."""
    args, opts = setup(loss, options, dtype, seed=4, shape=(9, 13))
    args, opts = broadcast_forms(loss, args, opts)
    call = loss.prepare(*args, reduction=reduction, **opts)
    assert not call.chunked
    expected = run(loss, args, opts, reduction)
    go = np.random.default_rng(5).uniform(0.5, 2, call.out_shape if reduction == "none" else ())
    expected_vjp = grads(call.grad(go.astype(dtype)))
    monkeypatch.setattr(_api, "CHUNK", 7)
    call = loss.prepare(*args, reduction=reduction, **opts)
    assert call.chunked
    result = run(loss, args, opts, reduction)
    # a chunk's tail takes the kernels' scalar exp/log, its body the vector ones: a few
    # ulps of the terms apart, which a cancelling value (poisson's exp(x) - y x) shows
    rtol = 1e-5 if dtype == np.float32 else 1e-13

    def close(a, b):
        atol = rtol * 0.1 * float(np.max(np.abs(b), initial=1.0))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)

    for a, b in zip(result[:2], expected[:2]):
        assert np.asarray(a).dtype == np.asarray(b).dtype and np.shape(a) == np.shape(b)
        close(a, b)
    for gs, hs in zip(result[2:] + (grads(call.grad(go.astype(dtype))),),
                      expected[2:] + (expected_vjp,)):
        for g, h in zip(gs, hs):
            assert g.dtype == h.dtype and g.shape == h.shape
            close(g, h)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name,target", [
    ("mse_loss", lambda x: np.float32(0.25)),
    ("l1_loss", lambda x: np.zeros(x.shape[-1], np.float32)),
    ("binary_cross_entropy_with_logits",  # torch wants the input's shape: a stride-0 view
     lambda x: np.broadcast_to(np.ones((x.shape[0], 1), np.float32), x.shape)),
    ("kl_div", lambda x: np.full(x.shape[-1], 1.0 / x.shape[-1], np.float32)),
    ("smooth_l1_loss", lambda x: np.zeros(x.shape, np.int64)),  # an integer target
])
def test_broadcast_target_is_not_materialised(name, target):
    """issue 11's mse_loss(x, np.float32(c)): the call allocates a few chunk buffers,
    not an array of the input's size (8 M float64 elements: 64 MiB)."""
    x = np.random.default_rng(6).standard_normal((1 << 13, 1 << 10))
    y = target(x)
    fn = getattr(F, name)
    expected = fn(x, np.broadcast_to(y, x.shape).astype(np.float64))
    tracemalloc.start()
    try:
        value = fn(x, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < x.nbytes / 4, f"peak {peak / 2**20:.1f} MiB"
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_rows_that_reduce_a_feature_axis_of_one_do_not_stream():
    """cosine_embedding_loss with D = 1 has rows of one element but a loss of the
    rows' shape, not the inputs': above CHUNK elements with operands to convert it
    takes the direct path (streaming it once broadcast the labels against (N, 1))."""
    n = _api.CHUNK + 5
    rng = np.random.default_rng(7)
    x1 = rng.standard_normal((n, 1)).astype(np.float32)
    x2 = rng.standard_normal((n, 1))
    y = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
    value = F.cosine_embedding_loss(x1, x2, y)
    a, b = x1[:, 0].astype(np.float64), x2[:, 0]
    cos = a * b / np.sqrt((a * a + 1e-12) * (b * b + 1e-12))  # torch's EPSILON on the norms
    expected = np.where(y == 1, 1 - cos, np.maximum(cos, 0)).mean()
    np.testing.assert_allclose(value, expected, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------- one shared layout


def layout_cases():
    for loss in LOSSES.values():
        args, opts = setup(loss, loss.grid[0], np.float64)
        if type(loss.prepare(*args, **opts)) is not _api.PointwiseCall:  # not row means
            continue
        for options in loss.grid:
            yield pytest.param(loss, options, id=f"{loss.key}-{options}")


@DTYPES
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("order", ["F", "T"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("loss,options", list(layout_cases()))
def test_shared_layout_is_read_in_memory_order(loss, options, reduction, order, dtype):
    """issue 19: element-wise operands that share a layout (every array argument in
    Fortran order, or a transposed 3-d view) are read in memory order, as flat
    arrays (no chunks, no copy), and give the C-order call's numbers: values and
    gradients within rounding (a reduced value adds the terms in memory order),
    'none' values and gradients in the operands' layout, out= arrays written."""
    shape = (6, 7) if order == "F" else (3, 5, 4)
    args, opts = setup(loss, options, dtype, seed=8, shape=shape)
    if any(isinstance(a, np.ndarray) and a.shape != args[0].shape
           for a in [*args, *opts.values()]):
        pytest.skip("operands of other shapes: no shared layout")

    def form(a):
        if not isinstance(a, np.ndarray):
            return a
        return np.asfortranarray(a) if order == "F" else np.ascontiguousarray(
            a.transpose(2, 0, 1)).transpose(1, 2, 0)

    fargs = [form(a) for a in args]
    fopts = {k: form(v) for k, v in opts.items()}
    call = loss.prepare(*fargs, reduction=reduction, **fopts)
    if loss.name == "gaussian_nll_loss" or "pos_weight" in opts:
        assert call.perm is None  # an aux operand: the general path (chunks)
        pytest.skip("an aux operand (var, pos_weight): not read in memory order")
    assert call.perm is not None and not call.chunked
    assert np.shares_memory(call.x, fargs[0])  # read where it is
    expected, result = run(loss, args, opts, reduction), run(loss, fargs, fopts, reduction)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    for a, b in zip(result[:2], expected[:2]):
        assert np.asarray(a).dtype == np.asarray(b).dtype and np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2)
    if reduction == "none":
        assert not result[0].flags.c_contiguous
    for gs, hs in zip(result[2:], expected[2:]):
        for g, h in zip(gs, hs):
            assert g.dtype == h.dtype and g.shape == h.shape and not g.flags.c_contiguous
            np.testing.assert_allclose(g, h, rtol=rtol, atol=rtol * 1e-2)
    fn_module = loss.module(reduction=reduction,
                            **{k: fopts[k] for k in loss.module_options if k in fopts})
    fwd = {k: fopts[k] for k in loss.forward_options if k in fopts}
    buf = np.full_like(fargs[0], np.nan)
    _, g = fn_module.value_and_grad(*fargs, out=buf, **fwd)
    assert g is buf
    np.testing.assert_allclose(buf, grads(expected[2])[0], rtol=rtol, atol=rtol * 1e-2)
    if reduction == "none":  # grad_output in the user's shape, either layout
        go = np.random.default_rng(9).uniform(0.5, 2, shape).astype(dtype)
        fn_module(*fargs, **fwd)
        g1 = grads(fn_module.backward(go))[0]
        fn_module(*args, **{k: opts[k] for k in loss.forward_options if k in opts})
        g2 = grads(fn_module.backward(go))[0]
        np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * 1e-2)


def test_fortran_order_is_not_copied():
    """mse_loss on Fortran-order operands of 8 M float64 elements allocates nothing
    of their size (issue 19: it streamed them through chunk buffers, 2.5x torch's time)."""
    rng = np.random.default_rng(10)
    x = np.asfortranarray(rng.standard_normal((1 << 13, 1 << 10)))
    y = np.asfortranarray(rng.standard_normal((1 << 13, 1 << 10)))
    expected = float(np.mean((x - y) ** 2))
    tracemalloc.start()
    try:
        value = F.mse_loss(x, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 16, f"peak {peak / 2**20:.1f} MiB"
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def fortran_misaligned(a):
    """A Fortran-order copy of a whose data starts one byte past an aligned address."""
    buf = np.empty(a.nbytes + 1, np.uint8)
    m = np.ndarray(a.shape, a.dtype, buffer=buf.data, offset=1, order="F")
    m[...] = a
    assert not m.flags.aligned and m.flags.f_contiguous
    return m


@DTYPES
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("form", ["big-endian", "misaligned", "one-big-endian"])
@pytest.mark.parametrize("loss,options", list(layout_cases()))
def test_shared_layout_in_other_byte_forms(loss, options, form, dtype):
    """Fortran-order operands that are also byte-swapped or misaligned (all of them,
    or one): the C-order native call's values and gradients, whether the layout is
    read in memory order or not."""
    args, opts = setup(loss, options, dtype, seed=11, shape=(6, 7))

    def fortran(a, first):
        if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
            return a
        if form == "misaligned":
            return fortran_misaligned(a)
        if form == "big-endian" or first:
            return np.asfortranarray(big_endian(a))
        return np.asfortranarray(a)

    fargs = [fortran(a, k == 0) for k, a in enumerate(args)]
    fopts = {k: fortran(v, False) for k, v in opts.items()}
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    for reduction in ("none", "sum"):
        expected, result = run(loss, args, opts, reduction), run(loss, fargs, fopts, reduction)
        for a, b in zip(result[:2], expected[:2]):
            assert np.shape(a) == np.shape(b)
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2)
        for gs, hs in zip(result[2:], expected[2:]):
            for g, h in zip(gs, hs):
                assert g.shape == h.shape
                np.testing.assert_allclose(g, h, rtol=rtol, atol=rtol * 1e-2)
