"""closs.dask on a real engine: every registry loss on unevenly chunked Dask arrays
against the in-memory closs call (and torch), lazy results and their chunks,
gradients, rechunking, and bit-identical results whatever the scheduler or the
number of workers (a dask.distributed LocalCluster of 2 worker processes)."""

import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

import closs  # noqa: E402
import closs.dask as cd  # noqa: E402
import closs.stream  # noqa: E402
from closs import _shard  # noqa: E402
from closs._registry import LOSSES, materialise  # noqa: E402
from conftest import TF, grads, requires_torch, torch  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, started and closed here."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster:
        with distributed.Client(cluster, set_as_default=False) as c:
            yield c


def uneven(n):
    """Uneven chunk sizes along an axis of n: 1, then 7s, then the rest."""
    sizes = [1] + [7] * ((n - 1) // 7)
    rest = n - sum(sizes)
    return tuple(sizes + ([rest] if rest else []))


def split(a, axis):
    """a as a Dask array chunked unevenly along axis (whole along the others)."""
    chunks = tuple(uneven(n) if d == axis else (n,) for d, n in enumerate(a.shape))
    return da.from_array(a, chunks=chunks)


def dask_args(loss, args):
    """The registry's arguments with every array split along its batch axis; the
    element-wise losses' inputs along their last axis too."""
    out = []
    for k, a in enumerate(args):
        if not isinstance(a, np.ndarray) or a.ndim == 0:
            out.append(a)
            continue
        axis = 1 if loss.name == "ctc_loss" and k == 0 else 0
        d = split(a, axis)
        if loss.name in cd._ELEMENTWISE and a.ndim == 2:
            d = d.rechunk({1: (2, a.shape[1] - 2)})
        out.append(d)
    return out


def registry_args(loss, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    shape = (12, 23, 6) if loss.name == "ctc_loss" else (23, 5)
    return rng, loss.make_args(rng, shape, dtype)


CASES = [pytest.param(key, i, id=f"{key}-{i}") for key, loss in LOSSES.items()
         for i in range(len(loss.grid))]


def test_every_functional_loss_is_offered():
    assert set(_shard.PREPARERS) == set(closs.functional.__all__)
    assert {loss.name for loss in LOSSES.values()} == set(_shard.PREPARERS)
    for name in _shard.PREPARERS:
        assert callable(getattr(cd, name)) and name in cd.__all__


def passed_whole(loss, position):
    """Whether the argument at `position` goes whole to every chunk (not split with the batch)."""
    import inspect

    param = list(inspect.signature(getattr(closs.functional, loss.name)).parameters)[position]
    return loss.name in cd._ROWS and param not in cd._ROWS[loss.name].batch


@pytest.mark.parametrize("key, i", CASES)
def test_every_loss_against_the_in_memory_call(key, i):
    loss = LOSSES[key]
    rng, args = registry_args(loss)
    options = materialise(loss, loss.grid[i], rng, np.shape(args[0]), np.float64)
    dargs = dask_args(loss, args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for reduction in loss.reductions:
            lazy = getattr(cd, loss.name)(*dargs, **options, reduction=reduction)
            assert isinstance(lazy, da.Array)
            full = getattr(closs.functional, loss.name)(*args, **options, reduction=reduction)
            got = lazy.compute(scheduler="threads")
            assert got.dtype == np.asarray(full).dtype and got.shape == np.shape(full)
            if reduction == "none":
                # an element in a vector loop or in its remainder: libmvec's exp/log
                # (within 4 ulp, FMA in the x86-64-v4 copies) or libm's scalar ones,
                # a few ulp apart (9e-16 seen at 4.7e-16)
                np.testing.assert_allclose(got, full, rtol=2e-15, atol=1e-300)
                assert lazy.chunks[0] == (dargs[0].chunks[1] if loss.name == "ctc_loss"
                                          else dargs[0].chunks[0])
            else:
                np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-15)


GRAD_CASES = [pytest.param(key, id=key) for key, loss in LOSSES.items()
              if loss.grid[0].get("distance_function") is None]


@pytest.mark.parametrize("key", GRAD_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_value_and_grad_against_the_in_memory_call(key, reduction):
    loss = LOSSES[key]
    rng, args = registry_args(loss, seed=1)
    options = materialise(loss, loss.grid[-1], rng, np.shape(args[0]), np.float64)
    if options.get("distance_function") is not None and options.get("distance_grad") is None:
        options = loss.grid[0]
    dargs = dask_args(loss, args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        value, g = cd.value_and_grad(loss.name, *dargs, **options, reduction=reduction)
        ref_value, ref_g = loss.prepare(*args, **options, reduction=reduction).value_and_grad()
    got_value, got_g = dask.compute(value, g, scheduler="threads")
    np.testing.assert_allclose(got_value, ref_value, rtol=1e-12)
    for k, (lazy, got, ref) in enumerate(zip(grads(g), grads(got_g), grads(ref_g))):
        assert got.shape == ref.shape and got.dtype == ref.dtype
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-14 * np.abs(ref).max())
        source = dargs[loss.grad_args[k]]
        if passed_whole(loss, loss.grad_args[k]):  # one chunk: the chunks' gradients summed
            assert lazy.chunks == tuple((n,) for n in source.shape)
        else:
            assert lazy.chunks == source.chunks  # chunked like its input


def test_float32_batchmean_and_broadcast_gradients():
    rng = np.random.default_rng(5)
    x = np.log(rng.uniform(0.05, 1, (40, 6))).astype(np.float32)
    y = rng.uniform(size=(40, 6)).astype(np.float32)
    v, g = cd.value_and_grad("kl_div", split(x, 0), split(y, 0), reduction="batchmean")
    rv, rg = closs.nn.KLDivLoss(reduction="batchmean").value_and_grad(x, y)
    assert v.compute().dtype == np.float32
    np.testing.assert_allclose(v.compute(), rv, rtol=2e-7)
    np.testing.assert_allclose(g.compute(), rg, rtol=2e-7)
    # gaussian_nll_loss with one variance per row: var's gradient summed back to (40,)
    var = rng.uniform(0.5, 2, 40)
    v, (gx, gv) = cd.value_and_grad("gaussian_nll_loss", split(x.astype(np.float64), 0), y,
                                    split(var, 0))
    rv, (rgx, rgv) = closs.nn.GaussianNLLLoss().value_and_grad(x.astype(np.float64), y, var)
    assert gv.shape == (40,) and gv.chunks == split(var, 0).chunks
    np.testing.assert_allclose(v.compute(), rv, rtol=1e-12)
    np.testing.assert_allclose(gv.compute(), rgv, rtol=1e-12)
    np.testing.assert_allclose(gx.compute(), rgx, rtol=1e-12)


def classification_batch(dtype=np.float64, n=1001, c=9, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c)).astype(dtype)
    t = rng.integers(0, c, n)
    t[rng.uniform(size=n) < 0.15] = -1
    w = rng.uniform(0.1, 3.0, c).astype(dtype)
    return x, t, w


@requires_torch
def test_class_weights_and_ignore_index_against_torch(client):
    """On the cluster: uneven chunks, class weights, ignored targets, label smoothing."""
    x, t, w = classification_batch()
    chunks = (1, 300, 7, 500, 193)
    dx, dt = da.from_array(x, chunks=(chunks, 9)), da.from_array(t, chunks=((500, 501),))
    value, g = cd.value_and_grad("cross_entropy", dx, dt, weight=w, ignore_index=-1,
                                 label_smoothing=0.1)
    nll = cd.nll_loss(dx, dt, weight=da.from_array(w, chunks=4), ignore_index=-1)
    got_value, got_g, got_nll = client.compute([value, g, nll], sync=True)
    tx = torch.tensor(x, requires_grad=True)
    ref = TF.cross_entropy(tx, torch.tensor(t), torch.tensor(w), ignore_index=-1,
                           label_smoothing=0.1)
    (ref_g,) = torch.autograd.grad(ref, [tx])
    np.testing.assert_allclose(got_value, ref.item(), rtol=1e-12)
    np.testing.assert_allclose(got_g, ref_g.numpy(), rtol=1e-10, atol=1e-16)
    ref_nll = TF.nll_loss(torch.tensor(x), torch.tensor(t), torch.tensor(w), ignore_index=-1)
    np.testing.assert_allclose(got_nll, ref_nll.item(), rtol=1e-12)
    # the same as closs's in-memory call
    np.testing.assert_allclose(got_value, closs.functional.cross_entropy(
        x, t, w, ignore_index=-1, label_smoothing=0.1), rtol=1e-13)


@requires_torch
def test_weighted_mse_mean_against_torch(client):
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((300, 4)), rng.standard_normal((300, 4))
    w = rng.uniform(0, 2, (300, 4))
    lazy = cd.mse_loss(da.from_array(x, chunks=((1, 2, 297), (3, 1))), y, weight=w)
    ref = TF.mse_loss(torch.tensor(x), torch.tensor(y), weight=torch.tensor(w))
    np.testing.assert_allclose(client.compute(lazy, sync=True), ref.item(), rtol=1e-12)


def determinism_graphs():
    """float32 losses over many uneven chunks: where the order of the combine shows."""
    x, t, w = classification_batch(np.float32, n=20000, c=5, seed=9)
    cuts = np.sort(np.random.default_rng(1).choice(np.arange(1, 20000), 59, replace=False))
    chunks = tuple(int(v) for v in np.diff(np.concatenate([[0], cuts, [20000]])))
    dx, dt = da.from_array(x, chunks=(chunks, 5)), da.from_array(t, chunks=(chunks,))
    value, g = cd.value_and_grad("cross_entropy", dx, dt, weight=w, ignore_index=-1)
    y = np.random.default_rng(2).standard_normal((20000, 5)).astype(np.float32)
    mse = cd.mse_loss(da.from_array(x, chunks=(chunks, (2, 3))), y)
    return [value, g, mse]


def bits(results):
    return [np.asarray(r).tobytes() for r in results]


def test_bit_identical_for_any_scheduler_and_worker_count(client):
    graphs = determinism_graphs()
    reference = bits(dask.compute(*graphs, scheduler="sync"))
    assert bits(dask.compute(*graphs, scheduler="threads", num_workers=4)) == reference
    assert bits(dask.compute(*graphs, scheduler="processes", num_workers=2)) == reference
    two = client.compute(graphs, sync=True)
    one = client.compute(graphs, workers=[next(iter(client.scheduler_info()["workers"]))],
                         allow_other_workers=False, sync=True)
    assert bits(two) == reference and bits(one) == reference
    # and within float64 rounding of the in-memory value
    x, t, w = classification_batch(np.float32, n=20000, c=5, seed=9)
    np.testing.assert_allclose(two[0], closs.functional.cross_entropy(
        x, t, w, ignore_index=-1), rtol=2e-7)


def test_a_stream_over_the_chunks_gives_the_same_bits():
    x, t, w = classification_batch(np.float32, n=3000, seed=10)
    chunks = (1, 999, 17, 1000, 983)
    lazy = cd.cross_entropy(da.from_array(x, chunks=(chunks, 9)), t, w, ignore_index=-1)
    acc = closs.stream.Mean("cross_entropy", weight=w, ignore_index=-1)
    start = 0
    for n in chunks:
        acc.update(x[start:start + n], t[start:start + n])
        start += n
    assert lazy.compute(scheduler="sync").tobytes() == np.asarray(acc.value()).tobytes()


def test_rechunks_a_split_class_axis_with_a_warning():
    x, t, w = classification_batch(n=50)
    dx = da.from_array(x, chunks=(10, 4))  # classes split
    with pytest.warns(da.core.PerformanceWarning, match="batch only"):
        lazy = cd.cross_entropy(dx, t, w, ignore_index=-1, reduction="none")
    assert lazy.chunks == ((10,) * 5,)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), closs.functional.cross_entropy(
        x, t, w, ignore_index=-1, reduction="none"))


def test_k_dimensional_unbatched_and_mixed_inputs():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((9, 4, 3, 2))
    t = rng.integers(0, 4, (9, 3, 2))
    lazy = cd.cross_entropy(da.from_array(x, chunks=(2, 4, 3, 2)), t, reduction="none")
    assert lazy.chunks == ((2, 2, 2, 2, 1), (3,), (2,))
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"),
                                  closs.functional.cross_entropy(x, t, reduction="none"))
    # unbatched: one chunk, the in-memory value
    u = cd.cross_entropy(da.from_array(x[0, :, 0, 0]), np.int64(2))
    np.testing.assert_allclose(u.compute(scheduler="sync"),
                               closs.functional.cross_entropy(x[0, :, 0, 0], np.int64(2)))
    # all-NumPy arguments are one chunk, still lazy
    lazy = cd.l1_loss(x, x + 1, reduction="sum")
    assert isinstance(lazy, da.Array) and lazy.compute(scheduler="sync") == x.size


def test_errors():
    x = da.ones((4, 3), chunks=2)
    with pytest.raises(ValueError, match="mean"):
        cd.value_and_grad("mse_loss", x, x, reduction="none")
    with pytest.raises(ValueError, match="unknown loss"):
        cd.value_and_grad("no_such_loss", x, x)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        cd.mse_loss(x, x, reduction="avg")
    with pytest.raises(NotImplementedError, match="broadcasts the input"):
        cd.mse_loss(da.ones((1, 3)), x, weight=np.ones((1, 3)))
    # bad values surface when computed, as closs's own exceptions
    lazy = cd.cross_entropy(x.rechunk((2, 3)), np.array([0, 1, 7, 2]))
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        lazy.compute(scheduler="sync")


def test_the_readme_example_runs():
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    import textwrap

    section = readme[readme.index("## More than one machine"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    namespace = {"print": lambda *a: None}
    for code in blocks:  # in order, one namespace; the second is a list item's, indented
        exec(compile(textwrap.dedent(code), "README.md", "exec"), namespace)
    g_hidden, g_head = dask.compute(namespace["g_hidden"], namespace["g_head"],
                                    scheduler="threads")
    assert g_hidden.shape == (100_000, 64) and g_head.shape == (100, 64)
    assert np.isfinite(namespace["value"].compute(scheduler="threads"))
    loss, acc = namespace["loss"], namespace["acc"]
    value = loss.compute(scheduler="threads")
    assert value.tobytes() == np.asarray(acc.value()).tobytes()
    assert namespace["grad"].chunks == namespace["logits"].chunks


def test_result_dtypes_follow_the_in_memory_call():
    rng = np.random.default_rng(12)
    x32 = rng.standard_normal((8, 4)).astype(np.float32)
    probs = rng.dirichlet(np.ones(4), 8)  # float64 probabilities promote
    labels = rng.integers(0, 2, (8, 4))  # integer labels of an element-wise loss: float64
    cases = [("cross_entropy", (x32, probs)), ("cross_entropy", (x32, rng.integers(0, 4, 8))),
             ("multilabel_soft_margin_loss", (x32, labels)), ("mse_loss", (x32, labels))]
    for name, args in cases:
        full = getattr(closs.functional, name)(*args)
        lazy = getattr(cd, name)(da.from_array(args[0], chunks=(3, -1)), *args[1:])
        assert lazy.dtype == full.dtype, name
        assert lazy.compute(scheduler="sync").dtype == full.dtype, name
        none = getattr(cd, name)(da.from_array(args[0], chunks=(3, -1)), *args[1:], reduction="none")
        assert none.dtype == none.compute(scheduler="sync").dtype, name
    # unbatched 'none': a 0-d array
    u = cd.cross_entropy(x32[0], np.int64(1), reduction="none")
    assert u.shape == () and u.compute(scheduler="sync") == closs.functional.cross_entropy(
        x32[0], np.int64(1), reduction="none")


# ----------------------------------------------------------------- linear_cross_entropy


def linear_batch(dtype=np.float64, n=61, features=6, classes=5, out_features=(), seed=13,
                 probabilities=False):
    """input (n, features), linear_weight (classes, *out_features, features), bias,
    class weights and targets (indices with some -1, or probabilities)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(dtype)
    lw = (rng.standard_normal((classes, *out_features, features)) / 2).astype(dtype)
    lb = rng.standard_normal((classes, *out_features)).astype(dtype)
    w = rng.uniform(0.2, 2.0, classes).astype(dtype)
    if probabilities:
        p = rng.dirichlet(np.ones(classes), (n, *out_features))  # (n, *out, classes)
        t = np.moveaxis(p, -1, 1).astype(dtype)
    else:
        t = rng.integers(0, classes, (n, *out_features))
        t[rng.uniform(size=t.shape) < 0.2] = -1
    return x, lw, lb, w, t


LINEAR_CHUNKS = (1, 20, 7, 33)


@pytest.mark.parametrize("probabilities", [False, True], ids=["indices", "probabilities"])
@pytest.mark.parametrize("out_features", [(), (3,), (2, 3)], ids=["1d", "k1", "k2"])
def test_linear_cross_entropy_k_dimensional_with_bias(out_features, probabilities):
    x, lw, lb, w, t = linear_batch(out_features=out_features, probabilities=probabilities)
    options = dict(linear_bias=lb, weight=w, label_smoothing=0.1)
    if not probabilities:
        options["ignore_index"] = -1
    dx = da.from_array(x, chunks=(LINEAR_CHUNKS, 6))
    dt = da.from_array(t, chunks=(LINEAR_CHUNKS,) + t.shape[1:])
    none = cd.linear_cross_entropy(dx, lw, dt, **options, reduction="none")
    assert none.shape == (61, *out_features)
    assert none.chunks == (LINEAR_CHUNKS,) + tuple((d,) for d in out_features)
    full = closs.functional.linear_cross_entropy(x, lw, t, **options, reduction="none")
    np.testing.assert_allclose(none.compute(scheduler="threads"), full, rtol=1e-14, atol=1e-15)
    for reduction in ("mean", "sum"):
        value, (gx, gw, gb) = cd.value_and_grad("linear_cross_entropy", dx, lw, dt, **options,
                                                reduction=reduction)
        ref_value, (rgx, rgw, rgb) = closs.functional._linear_cross_entropy_call(
            x, lw, t, **options, reduction=reduction).value_and_grad()
        got = dask.compute(value, gx, gw, gb, scheduler="threads")
        np.testing.assert_allclose(got[0], ref_value, rtol=1e-13)
        for g, ref in zip(got[1:], (rgx, rgw, rgb)):
            assert g.shape == ref.shape and g.dtype == ref.dtype
            np.testing.assert_allclose(g, ref, rtol=1e-11, atol=1e-14 * np.abs(ref).max())
        assert gx.chunks == dx.chunks
        assert gw.chunks == tuple((d,) for d in lw.shape)  # whole: one chunk
        assert gb.chunks == tuple((d,) for d in lb.shape)


def linear_graphs():
    """float32 linear_cross_entropy over many uneven chunks, with a bias."""
    x, lw, lb, w, t = linear_batch(np.float32, n=3000, features=16, classes=40, seed=14)
    cuts = np.sort(np.random.default_rng(3).choice(np.arange(1, 3000), 40, replace=False))
    chunks = tuple(int(v) for v in np.diff(np.concatenate([[0], cuts, [3000]])))
    dx, dt = da.from_array(x, chunks=(chunks, 16)), da.from_array(t, chunks=(chunks,))
    value, grads = cd.value_and_grad("linear_cross_entropy", dx, lw, dt, linear_bias=lb,
                                     weight=w, ignore_index=-1)
    return (x, lw, lb, w, t, chunks), [value, *grads]


def test_linear_weight_gradients_are_the_fixed_tree_on_every_scheduler(client):
    """linear_weight's and linear_bias's gradients: the chunks' gradients added in
    closs._shard's tree, the same bits on the threaded scheduler and a 2-process
    LocalCluster (and within float32 rounding of the in-memory gradients)."""
    (x, lw, lb, w, t, chunks), graphs = linear_graphs()
    threads = dask.compute(*graphs, scheduler="threads", num_workers=4)
    cluster = client.compute(graphs, sync=True)
    assert bits(cluster) == bits(threads)
    # the tree, computed here: each chunk's 'sum' gradient times the float32 scale 1 / D
    value, gx, gw, gb = threads
    d = closs.functional._linear_cross_entropy_call(x, lw, t, linear_bias=lb, weight=w,
                                                    ignore_index=-1).partial()[1]
    parts, start = [], 0
    for n in chunks:
        call = closs.functional._linear_cross_entropy_call(
            x[start:start + n], lw, t[start:start + n], linear_bias=lb, weight=w,
            ignore_index=-1, reduction="sum")
        parts.append(call.grad(np.float64(1.0) / d))
        start += n
    assert gw.tobytes() == _shard.tree([p[1] for p in parts], np.add).tobytes()
    assert gb.tobytes() == _shard.tree([p[2] for p in parts], np.add).tobytes()
    assert gx.tobytes() == np.concatenate([p[0] for p in parts]).tobytes()
    ref_value, (rgx, rgw, rgb) = closs.functional._linear_cross_entropy_call(
        x, lw, t, linear_bias=lb, weight=w, ignore_index=-1).value_and_grad()
    eps = np.finfo(np.float32).eps
    np.testing.assert_allclose(value, ref_value, rtol=4 * eps)
    for g, ref in ((gx, rgx), (gw, rgw), (gb, rgb)):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, ref, rtol=0, atol=64 * eps * np.abs(ref).max())
