"""The runtime SIMD dispatch: CLOSS_SIMD caps the level the kernels run, the level is
reported, and every level this CPU has computes the same losses.

Each level runs in a fresh interpreter (the C library reads CLOSS_SIMD once). The
parity tests against torch and the NumPy references run at each level in .ci/run
(CLOSS_SIMD=baseline / avx2 pytest ...); here every loss of the registry is compared
across levels, values and gradients, float32 and float64.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import closs
from closs._registry import LOSSES, materialise
from conftest import tol

LEVELS = ("baseline", "avx2", "avx512")


def run(level, code):
    env = dict(os.environ, CLOSS_SIMD=level)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)


def reported(level):
    r = run(level, "import closs; print(closs.simd_level()); print(closs.build_info())")
    assert r.returncode == 0, r.stderr
    got, info = r.stdout.splitlines()
    return got, info, r.stderr


@pytest.fixture(scope="module")
def best():
    """The best level of this CPU and build (asking for the highest one)."""
    return reported("avx512")[0]


def available(best):
    return LEVELS[: LEVELS.index(best) + 1]


@pytest.mark.parametrize("level", LEVELS)
def test_the_cap_is_the_level_reported(level, best):
    got, info, _ = reported(level)
    expected = LEVELS[min(LEVELS.index(level), LEVELS.index(best))]
    assert got == expected
    assert f"running {expected}" in info
    assert ("capped by CLOSS_SIMD" in info) == (LEVELS.index(level) < LEVELS.index(best))


def test_this_process_runs_the_level_of_its_environment(best):
    want = os.environ.get("CLOSS_SIMD") or best
    assert closs.simd_level() == LEVELS[min(LEVELS.index(want), LEVELS.index(best))]


def test_an_unknown_value_is_ignored_with_a_warning(best):
    got, info, stderr = reported("avx1024")
    assert got == best
    assert "CLOSS_SIMD not baseline|avx2|avx512: ignored" in info
    assert "RuntimeWarning: CLOSS_SIMD='avx1024' is not baseline, avx2 or avx512" in stderr


SHAPE = (37, 129)  # rows of classes / features; 4773 elements: vector loops and their tails


def losses_at_this_level():
    """{(loss, dtype, reduction): (value, [gradients])} for every loss of the registry."""
    out = {}
    for loss in LOSSES.values():
        for dtype in (np.float32, np.float64):
            for reduction in ("none", "sum"):
                if reduction not in loss.reductions:
                    continue
                rng = np.random.default_rng(1)
                args = loss.make_args(rng, SHAPE, dtype)
                opts = materialise(loss, loss.grid[0], rng, SHAPE, dtype)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    value, grad = loss.prepare(*args, reduction=reduction, **opts).value_and_grad()
                grads = list(grad) if isinstance(grad, tuple) else [grad]
                out[loss.key, np.dtype(dtype).name, reduction] = (np.asarray(value), grads)
    return out


def flat(results):
    return {"|".join(key) + "|" + str(i): a
            for key, (value, grads) in results.items() for i, a in enumerate([value] + grads)}


def save_losses(path):
    np.savez(path, **flat(losses_at_this_level()))


def test_every_level_computes_the_same_losses(best, tmp_path):
    here = losses_at_this_level()
    for level in available(best):
        if level == closs.simd_level():
            continue
        path = tmp_path / f"{level}.npz"
        r = run(level, f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
                       f"import closs, test_simd; assert closs.simd_level() == {level!r}; "
                       f"test_simd.save_losses({str(path)!r})")
        assert r.returncode == 0, r.stderr[-3000:]
        there = np.load(path)
        mine = flat(here)
        assert set(there.files) == set(mine) and len(mine) > 100
        differ = sum(not np.array_equal(there[name], a, equal_nan=True) for name, a in mine.items())
        if "baseline" in (level, closs.simd_level()):
            # the capped level really runs other code: no FMA, no vector exp / log
            assert differ > 0, f"{level} gave the same bits as {closs.simd_level()} everywhere"
        for name, a in mine.items():
            # the levels round differently (FMA, vector exp/log): within a few hundred
            # ulps, relative to the array's scale where terms cancel (exp(x) - y)
            rtol = tol(np.dtype(name.split("|")[1]).type)
            scale = float(np.max(np.abs(a), initial=0, where=np.isfinite(a)))
            np.testing.assert_allclose(there[name], a, rtol=rtol, atol=rtol * scale,
                                       err_msg=f"{name} at {level}")
