"""The package as installed: the compiled extension, threads, build information."""

import pathlib

import numpy as np
import pytest

import closs
from closs import _core


def test_the_compiled_extension_is_imported():
    """Fails loudly when the source folder (without the extension) shadows the build."""
    path = pathlib.Path(_core.__file__)
    assert path.suffix in (".so", ".pyd"), f"closs._core is not compiled: {path}"


def test_threads_round_trip():
    before = closs.get_num_threads()
    try:
        closs.set_num_threads(1)
        assert closs.get_num_threads() == 1
        closs.set_num_threads(3)
        assert closs.get_num_threads() == 3
    finally:
        closs.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2"])
def test_set_num_threads_rejects(bad):
    with pytest.raises((ValueError, TypeError)):
        closs.set_num_threads(bad)


def test_build_info_names_compiler_openmp_and_simd():
    info = closs.build_info()
    assert "SIMD" in info and ("OpenMP" in info)
    assert _core.has_openmp() == ("no OpenMP" not in info)


def test_main_self_check_passes():
    from closs.__main__ import self_check

    checks, failures = self_check(np.random.default_rng(0))
    assert checks > 0 and failures == []
