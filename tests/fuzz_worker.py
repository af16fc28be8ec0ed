"""The property fuzz of one registry entry, run in a subprocess by tests/test_fuzz.py
(so that a crash fails that test with this output instead of killing pytest):

    python tests/fuzz_worker.py KEY [EXAMPLES]

Each example starts from valid arguments of the entry (its registry make_args at a
random shape, dtype and grid option), applies up to three mutations (layouts, byte
orders, misaligned and broadcast views, dtypes, NaN/inf, bad class indices, hostile
option scalars, wrong shapes, reductions, out= buffers) and calls every entry point:
the functional, its preparer's value_and_grad and partial pair, the Module's forward,
backward and value_and_grad (with out= buffers). It asserts that

(b) every exception is one of torch's categories as closs raises them (closs._errors,
    or exactly ValueError / IndexError / RuntimeError / TypeError with a message of
    closs's own, not a raw Python or NumPy one);
(c) no argument is modified (out= aliased with an input excepted: the caller asked);
(d) every accepted call is independent of the layout (a C-contiguous, aligned,
    native-order copy of the same values gives the same outcome, bit for bit where
    the same kernel runs) and equals the NumPy reference, value and gradients.
"""

import inspect
import sys
import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import note as _note
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import closs
from closs import _errors
from closs._registry import LOSSES, materialise

# ---------------------------------------------------------------- exceptions


def note(message):
    """hypothesis's note inside the property; nothing in the deterministic sweep."""
    try:
        _note(message)
    except InvalidArgument:
        pass

ALLOWED = (ValueError, IndexError, RuntimeError, TypeError)
# Messages of Python's and NumPy's own errors: raised from inside closs, they tell the
# user nothing about which argument is wrong.
RAW_MESSAGES = (
    "not supported between instances", "float() argument", "int() argument",
    "truth value of an array", "only 0-dimensional", "only length-1", "invalid literal",
    "cannot convert float", "could not convert", "object of type", "unsupported operand",
    "not subscriptable", "not iterable", "has no attribute", "did not contain a loop",
    "Cannot cast", "cannot be interpreted as an integer", "unhashable",
    "too large to convert", "must be real number",
)


def check_exception(e, where):
    """(b): e is a category torch raises, as closs raises it."""
    t = type(e)
    if t.__module__ == _errors.__name__:
        return
    assert t in ALLOWED, f"{where}: raw {t.__module__}.{t.__qualname__} escaped: {e!r}"
    raw = [m for m in RAW_MESSAGES if m in str(e)]
    assert not raw, f"{where}: raw Python/NumPy message in {t.__name__}: {e!r}"


def outcome(fn, where):
    """('ok', result) or ('raise', exception type name), checking (b)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return "ok", fn()
    except Exception as e:  # noqa: BLE001 - the point of the fuzz
        if isinstance(e, AssertionError):
            raise
        check_exception(e, where)
        note(f"{where}: {type(e).__name__}: {e}")
        return "raise", type(e).__name__


# ---------------------------------------------------------------- comparisons


def grads(g):
    return g if isinstance(g, tuple) else (g,)


def tol(dtype):
    """As tests/test_losses.py: a few hundred ulps of the result dtype."""
    dtype = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(np.float64)
    return float(np.finfo(dtype).eps) * (300 if dtype == np.float32 else 1e4)


def close(actual, expected, dtype, what):
    actual = np.asarray(actual)
    with np.errstate(all="ignore"):  # the reference's float64, rounded as closs's result is
        expected = np.asarray(expected).astype(np.asarray(actual).dtype if actual.dtype.kind == "f" else np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    with np.errstate(all="ignore"):
        scale = max(1.0, float(np.nanmax(np.abs(np.where(np.isinf(expected), 0, expected)),
                                         initial=0.0)))
    t = tol(dtype)
    np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64),
                               rtol=t, atol=t * 1e-2 * scale, equal_nan=True, err_msg=what)


def same(a, b, what):
    """Bit-for-bit equal results (NaN equal to NaN)."""
    for x, y in zip(grads(a), grads(b)):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype, f"{what}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}"
        assert np.array_equal(x, y, equal_nan=True), f"{what}: {x!r} != {y!r}"


def describe(a):
    if not isinstance(a, np.ndarray):
        return repr(a)[:120]
    flags = "".join(c for c, f in (("C", a.flags.c_contiguous), ("A", a.flags.aligned),
                                   ("W", a.flags.writeable)) if f)
    body = np.array2string(a.ravel()[:8], precision=4, threshold=8) if a.dtype.kind != "V" else ""
    return f"array(shape={a.shape}, dtype={a.dtype.str}, strides={a.strides}, flags={flags}) {body}"


def snapshot(a):
    return (a.dtype.str, a.shape, a.tobytes() if a.dtype != object else a.tolist()) \
        if isinstance(a, np.ndarray) else None


# ---------------------------------------------------------------- array mutations


def noncontiguous(a):
    return np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a


def negative_strides(a):
    return np.flip(np.flip(a).copy())


def big_endian(a):
    return a.astype(a.dtype.newbyteorder(">")) if a.dtype.kind in "fiuc" else a


def misaligned(a):
    buf = np.zeros(a.nbytes + 1, np.uint8)
    m = np.ndarray(a.shape, a.dtype, buffer=buf, offset=1)
    m[...] = a
    return m


def broadcast_rows(a):
    """A stride-0 view repeating a's first slice along axis 0 (changes the values)."""
    return np.broadcast_to(a[:1], a.shape) if a.ndim and a.shape[0] else a


LAYOUTS = {
    "noncontiguous": noncontiguous,
    "negative_strides": negative_strides,
    "fortran": lambda a: np.asfortranarray(a) if a.ndim > 1 else a,
    "big_endian": big_endian,
    "misaligned": misaligned,
    "big_endian_misaligned": lambda a: misaligned(big_endian(a)),
    "broadcast_rows": broadcast_rows,
    "list": lambda a: a.tolist(),
}

# byte order and alignment drawn more often: the layouts a kernel could read as raw bytes
LAYOUT_DRAWS = sorted(LAYOUTS) + ["big_endian"] * 4 + ["misaligned"] * 2
SAME_VALUE_DTYPES = ["float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                     "uint16", "uint32", "uint64", ">i8", ">i4", ">f4", ">f8", "bool"]
UNSUPPORTED_DTYPES = ["float16", "complex64", "complex128", "object", "U8", "S8",
                      "datetime64[s]", "longdouble"]


def retype(a, dtype):
    """a as dtype when that keeps every value (None otherwise)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            b = a.astype(dtype)
            return b if np.array_equal(b.astype(np.float64), a.astype(np.float64)) else None
        except (TypeError, ValueError, OverflowError):
            return None


HOSTILE_SCALARS = [10**400, 2**63, -(2**63) - 1, float("nan"), float("inf"), -float("inf"),
                   -1, -1e300, 1e300, 0, 0.5, 2, True, False, np.float32(0.5), np.int64(3),
                   np.float64("nan"), np.uint64(2**64 - 1), "1.0", None, 1 + 2j, [1.0],
                   np.array([1.0, 2.0]), np.array(0.25)]
BAD_INDICES = [-2, -1, -100, 10**9, 2**31, np.iinfo(np.int64).max, np.iinfo(np.int64).min]


def scalar_options(loss):
    """The functional's options with a number or bool default: the hostile-scalar targets."""
    sig = inspect.signature(getattr(closs.functional, loss.name))
    return sorted(n for n, p in sig.parameters.items()
                  if isinstance(p.default, (int, float)) and n not in ("size_average", "reduce"))


# ---------------------------------------------------------------- the property


def entry_points(loss, args, opts, reduction, out_maker):
    """name -> thunk for each entry point of the loss on these arguments."""
    fn = getattr(closs.functional, loss.name)
    module_opts = {k: opts[k] for k in loss.module_options if k in opts}
    fwd = {k: opts[k] for k in loss.forward_options if k in opts}

    def module():
        return loss.module(reduction=reduction, **module_opts)

    def forward_backward():
        m = module()
        v = m(*args, **fwd)
        return v, m.backward()

    def backward_scaled():
        m = module()
        v = m(*args, **fwd)
        go = 2.0 if reduction != "none" else np.full(np.shape(v), 2.0, np.asarray(v).dtype)
        return v, m.backward(go)

    def fused_out():
        out = out_maker()
        v, g = module().value_and_grad(*args, out=out, **fwd)
        return v, g, out

    def partial():  # the pair (S, D) of the whole batch, as the value it stands for
        call = loss.prepare(*args, reduction=reduction, **opts)
        s, d = call.partial()
        with np.errstate(all="ignore"):
            return np.asarray(s if reduction == "sum" else s / d, call.dtype)

    return {
        "functional": lambda: fn(*args, reduction=reduction, **opts),
        "prepare.partial": partial,
        "prepare.value_and_grad": lambda: loss.prepare(*args, reduction=reduction,
                                                       **opts).value_and_grad(),
        "Module.forward+backward": forward_backward,
        "Module.backward(2)": backward_scaled,
        "Module.value_and_grad(out=)": fused_out,  # last: an aliased out= overwrites an input
    }


def run(loss, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), "dtype")
    ndim = data.draw(st.sampled_from([0, 1, 2, 2, 2, 3, 4]), "ndim")  # 2-D: every loss's lanes
    large = data.draw(st.integers(0, 9), "large") == 0
    dims = st.integers(1, 300 if large and ndim <= 2 else 5) | st.just(0)
    shape = tuple(data.draw(st.lists(dims, min_size=ndim, max_size=ndim), "shape"))
    seed = data.draw(st.integers(0, 2**16), "seed")
    grid = data.draw(st.sampled_from(loss.grid), "options")
    reduction = data.draw(st.sampled_from(loss.reductions), "reduction")
    rng = np.random.default_rng(seed)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            args = list(loss.make_args(rng, shape, dtype))
            opts = materialise(loss, grid, rng, shape, dtype)
    except Exception:  # noqa: BLE001 - a shape the registry cannot make arguments for
        data.draw(st.just("shape rejected by make_args"))
        return
    array_slots = [("arg", i) for i in range(len(args))] + [
        ("opt", k) for k, v in opts.items() if isinstance(v, np.ndarray)]

    def get(slot):
        return args[slot[1]] if slot[0] == "arg" else opts[slot[1]]

    def put(slot, value):
        if slot[0] == "arg":
            args[slot[1]] = value
        else:
            opts[slot[1]] = value

    mutations = data.draw(st.integers(0, 3), "how many mutations")
    out_kind, nonfinite = "none", False
    for _ in range(mutations):
        kind = data.draw(st.sampled_from(
            ["layout", "layout", "layout", "dtype", "unsupported_dtype", "nan_inf", "bad_index",
             "hostile_scalar", "wrong_shape", "reduction", "out", "out"]), "mutation")
        if kind == "out":
            out_kind = data.draw(st.sampled_from(OUT_KINDS), "out kind")
            continue
        if kind == "reduction":
            reduction = data.draw(st.sampled_from(
                ["none", "mean", "sum", "batchmean", "elementwise_mean", "MEAN", None, 1]),
                "reduction")
            continue
        if kind == "hostile_scalar":
            names = scalar_options(loss)
            if names:
                name = data.draw(st.sampled_from(names), "option")
                opts[name] = data.draw(st.sampled_from(HOSTILE_SCALARS), f"{name} =")
            continue
        slot = data.draw(st.sampled_from(array_slots), "array")
        a = get(slot)
        if not isinstance(a, np.ndarray):
            continue
        if kind == "layout":
            put(slot, LAYOUTS[data.draw(st.sampled_from(LAYOUT_DRAWS), "layout")](a))
        elif kind == "dtype":
            b = retype(a, data.draw(st.sampled_from(SAME_VALUE_DTYPES), "dtype"))
            if b is not None:
                put(slot, b)
        elif kind == "unsupported_dtype":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    put(slot, a.astype(data.draw(st.sampled_from(UNSUPPORTED_DTYPES), "dtype")))
                except (TypeError, ValueError):
                    pass
        elif kind == "nan_inf" and a.dtype.kind == "f" and a.size:
            b, nonfinite = np.array(a), True
            b.flat[data.draw(st.integers(0, a.size - 1), "at")] = data.draw(
                st.sampled_from([np.nan, np.inf, -np.inf]), "value")
            put(slot, b)
        elif kind == "bad_index" and a.dtype.kind in "iu" and a.size:
            b = np.array(a, np.int64)
            b.flat[data.draw(st.integers(0, a.size - 1), "at")] = data.draw(
                st.sampled_from(BAD_INDICES), "index")
            put(slot, b)
        elif kind == "wrong_shape":
            how = data.draw(st.sampled_from(["drop_last", "add_axis", "scalar", "empty"]), "how")
            put(slot, {"drop_last": lambda: a[..., :-1] if a.ndim else a[None],
                       "add_axis": lambda: a[None],
                       "scalar": lambda: a.reshape(-1)[0] if a.size else a.reshape(()) if a.size == 1 else a,
                       "empty": lambda: a[:0] if a.ndim else a}[how]())
    check(loss, args, opts, reduction, out_kind, nonfinite=nonfinite)


def sweep(loss):
    """Deterministic cases before the random ones: every layout of every array argument
    and every kind of out= buffer, on valid (6, 7) arguments of the last grid option."""
    failures = []
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(1)
        base = list(loss.make_args(rng, (6, 7), dtype))
        opts = materialise(loss, loss.grid[-1], rng, (6, 7), dtype)
        cases = [(i, layout, "none") for i in range(len(base)) for layout in LAYOUTS]
        cases += [(None, None, out) for out in OUT_KINDS]
        for i, layout, out in cases:
            args = list(base)
            if i is not None:
                args[i] = LAYOUTS[layout](args[i])
            try:
                check(loss, args, dict(opts), "mean", out)
            except AssertionError as e:
                lines = [x for x in str(e).strip().splitlines() if x.strip()]
                failures.append(f"{np.dtype(dtype)} arg {i} {layout} out={out}: "
                                + " | ".join(lines[:3] + lines[-2:]))
    return failures


OUT_KINDS = ["empty", "noncontiguous", "fortran", "misaligned", "big_endian", "wrong_shape",
             "wrong_dtype", "read_only", "aliased", "list"]


def canonical(a):
    """The same values, C-contiguous, aligned, native byte order, writeable."""
    if isinstance(a, np.ndarray):
        return np.array(a, dtype=a.dtype.newbyteorder("="), order="C")
    return a


def check(loss, args, opts, reduction, out_kind, nonfinite=False):
    for i, a in enumerate(args):
        note(f"arg {i}: {describe(a)}")
    for k, v in opts.items():
        note(f"option {k}: {describe(v)}")
    note(f"reduction={reduction!r} out={out_kind}")
    before = [snapshot(a) for a in list(args) + list(opts.values())]
    c_args = [canonical(a) for a in args]
    c_opts = {k: canonical(v) for k, v in opts.items()}
    r_args = [canonical(a) for a in args]  # the reference's (an aliased out= overwrites c_args)
    r_opts = {k: canonical(v) for k, v in opts.items()}

    def out_maker_for(arg_list):
        def make():
            specs = [np.asarray(arg_list[i]) for i in loss.grad_args]
            if out_kind == "none":
                return None
            outs = []
            for i, s in zip(loss.grad_args, specs):
                sd = s.dtype.newbyteorder("=")  # a '>f8' input has a float64 gradient
                d = sd if sd in (np.float32, np.float64) else np.dtype(
                    np.float64 if s.dtype.kind in "iub" else np.float32)
                if out_kind == "aliased" and isinstance(arg_list[i], np.ndarray):
                    o = arg_list[i]
                else:
                    o = np.zeros(s.shape, d)
                    o = {"noncontiguous": noncontiguous, "fortran": np.asfortranarray,
                         "misaligned": misaligned, "big_endian": big_endian,
                         "wrong_shape": lambda o: o[..., :-1] if o.ndim else o[None],
                         "wrong_dtype": lambda o: o.astype(np.float16),
                         "read_only": lambda o: np.broadcast_to(o, o.shape),
                         "list": lambda o: o.tolist()}.get(out_kind, lambda o: o)(o)
                outs.append(o)
            return outs[0] if len(outs) == 1 else tuple(outs)
        return make

    mutated = entry_points(loss, args, opts, reduction, out_maker_for(args))
    plain = entry_points(loss, c_args, c_opts, reduction, out_maker_for(c_args))
    results = {name: outcome(thunk, name) for name, thunk in mutated.items()}

    # (c) nothing the caller passed was modified (an aliased out= excepted)
    after = [snapshot(a) for a in list(args) + list(opts.values())]
    for i, (b, a) in enumerate(zip(before, after)):
        aliased = out_kind == "aliased" and i in loss.grad_args
        assert aliased or b == a, f"argument {i} was modified"

    # (d) the layout does not matter: a plain copy of the same values, same outcome
    for name, (status, res) in results.items():
        p_status, p_res = outcome(plain[name], "plain " + name)
        if out_kind in ("aliased",) and name == "Module.value_and_grad(out=)":
            continue  # compared against the reference below (the input is overwritten)
        assert status == p_status, (
            f"{name}: {status} {res if status == 'raise' else ''} but the C-contiguous "
            f"native copy gives {p_status} {p_res if p_status == 'raise' else ''}")
        if status == "ok":
            n = 2 if name in ("Module.value_and_grad(out=)",) else len(res) if isinstance(res, tuple) else 1
            for k, (x, y) in enumerate(zip(grads(res)[:n] if n > 1 else (res,), grads(p_res)[:n] if n > 1 else (p_res,))):
                close_or_same(x, y, f"{name} [{k}] vs the contiguous copy")

    # (d) accepted calls equal the NumPy reference
    if nonfinite or not any(s == "ok" for s, _ in results.values()):
        return  # NaN/inf inputs: torch's propagation, which the reference does not model
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ref_value, ref_grad = loss.reference(*r_args, reduction=reduction, **r_opts)
    except Exception as e:  # noqa: BLE001 - the reference is only for valid calls
        note(f"reference refused: {type(e).__name__}: {e}")
        return
    for name, (status, res) in results.items():
        if status != "ok":
            continue
        if name in ("functional", "prepare.partial"):
            value, grad = res, None
        else:
            value, grad = res[0], res[1]
        rdtype = np.asarray(value).dtype
        close(value, ref_value, rdtype, f"{name}: value")
        if grad is None or not np.all(np.isfinite(ref_value)):
            continue  # the gradient of an infinite or NaN loss is a convention
        ref_shapes = [np.shape(r) for r in grads(ref_grad)]
        if ref_shapes != [np.shape(args[i]) for i in loss.grad_args]:
            note(f"reference gradient shapes {ref_shapes}: it does not sum broadcasts back")
            continue
        scale = 2.0 if name == "Module.backward(2)" else 1.0
        for k, (g, r) in enumerate(zip(grads(grad), grads(ref_grad))):
            close(g, np.asarray(r) * scale, rdtype, f"{name}: gradient {k}")
        if name == "Module.value_and_grad(out=)" and res[2] is not None:
            for k, (o, g) in enumerate(zip(grads(res[2]), grads(grad))):
                assert o is g, f"{name}: the gradient {k} is not the out= array"


def close_or_same(x, y, what):
    for a, b in zip(grads(x), grads(y)):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, f"{what}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        if a.dtype.kind == "f":
            close(a, b, a.dtype, what)


def main(key, examples):
    loss = LOSSES[key]

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False,
              report_multiple_bugs=True)
    @given(st.data())
    def fuzz(data):
        run(loss, data)

    failures = sweep(loss)
    assert not failures, f"{key}: the layout / out= sweep failed:\n" + "\n".join(failures)
    fuzz()
    print(f"{key}: {examples} examples passed")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100)
