"""The result dtype, torch's rule, for every loss of the registry: float64 when a
float argument is float64, else float32; integer and bool labels take the float
arguments' dtype; class and element weights (weight, pos_weight) never change it;
float16, complex and object arrays are a DTypeError naming the argument."""

import inspect
import warnings

import numpy as np
import pytest

from closs import DTypeError
from closs._registry import LOSSES, materialise

SHAPE = (6, 5)
KEYS = list(LOSSES)
# float arguments that are labels, compared with 1 and -1 only: their dtype is
# never the result's (as torch: any real or complex dtype)
LABELS = {("cosine_embedding_loss", "target")}


def setup(key, options_index=0, dtype=np.float32):
    loss = LOSSES[key]
    rng = np.random.default_rng(3)
    args = list(loss.make_args(rng, SHAPE, dtype))
    options = materialise(loss, loss.grid[options_index], rng, np.shape(args[0]), dtype)
    names = list(inspect.signature(loss.prepare).parameters)[:len(args)]
    return loss, args, options, names


def value(loss, args, options, reduction="sum"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return loss.prepare(*args, **options, reduction=reduction).value()


@pytest.mark.parametrize("key", KEYS)
def test_float_arguments_promote(key):
    loss, args, options, names = setup(key)
    assert type(value(loss, args, options)) is np.float32
    for i, a in enumerate(args):
        if a.dtype.kind == "f" and (key, names[i]) not in LABELS:  # one float argument in float64 makes the result float64
            promoted = args[:i] + [a.astype(np.float64)] + args[i + 1:]
            assert type(value(loss, promoted, options)) is np.float64, names[i]


@pytest.mark.parametrize("key", KEYS)
def test_unsupported_float_dtypes_name_the_argument(key):
    loss, args, options, names = setup(key)
    for i, a in enumerate(args):
        if a.dtype.kind != "f" or (key, names[i]) in LABELS:
            continue
        for bad in (np.float16, np.complex64):
            changed = args[:i] + [a.astype(bad)] + args[i + 1:]
            with pytest.raises(DTypeError, match=names[i]):
                value(loss, changed, options)


def weighted_cases():
    for key, loss in LOSSES.items():
        for k, options in enumerate(loss.grid):
            if any(name in options for name in ("weight", "pos_weight")):
                yield pytest.param(key, k, id=f"{key}-{k}")


@pytest.mark.parametrize("key, k", list(weighted_cases()))
def test_weights_never_change_the_result_dtype(key, k):
    loss, args, options, names = setup(key, k)
    expected = value(loss, args, options)
    for name in ("weight", "pos_weight"):
        w = options.get(name)
        if not isinstance(w, np.ndarray):
            continue
        # float64 weights are cast to the float32 result: the same numbers
        v = value(loss, args, dict(options, **{name: w.astype(np.float64)}))
        assert type(v) is np.float32 and v == expected
        with pytest.raises(DTypeError, match=name):
            value(loss, args, dict(options, **{name: w.astype(np.float16)}))


# the losses whose target holds numbers an integer array can carry (labels, counts)
INTEGER_TARGETS = [key for key in KEYS if "target" in setup(key)[3]
                   and setup(key)[1][setup(key)[3].index("target")].dtype.kind == "f"
                   and key != "cross_entropy-probabilities"]


@pytest.mark.parametrize("key", INTEGER_TARGETS)
@pytest.mark.parametrize("itype", [np.int64, np.int8, np.uint16, np.bool_])
def test_integer_targets_take_the_input_dtype(key, itype):
    loss, args, options, names = setup(key)
    i = names.index("target")
    labels = np.rint(np.clip(args[i], 0 if itype in (np.uint16, np.bool_) else -1, 1))
    as_float = args[:i] + [labels.astype(np.float32)] + args[i + 1:]
    as_int = args[:i] + [labels.astype(itype)] + args[i + 1:]
    v = value(loss, as_int, options)
    assert type(v) is np.float32
    np.testing.assert_array_equal(v, value(loss, as_float, options))
    call = loss.prepare(*as_int, **options, reduction="mean")
    _, grads = call.value_and_grad()
    for g in grads if isinstance(grads, tuple) else (grads,):
        assert g.dtype == np.float32


def test_all_integer_arguments_compute_in_float64():
    from closs import functional as F
    x = np.arange(6).reshape(2, 3)
    assert type(F.mse_loss(x, x + 1)) is np.float64
    assert F.mse_loss(x, x + 1) == 1.0
