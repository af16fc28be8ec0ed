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


def run_main(*args, tmp_path):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "closs", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)


def test_main_help_prints_usage_and_runs_nothing(tmp_path):
    r = run_main("--help", tmp_path=tmp_path)
    assert r.returncode == 0
    assert r.stdout.startswith("usage: python -m closs") and "--quick" in r.stdout
    assert "self-check" not in r.stdout.splitlines()[-1]


def test_main_quick_json_threads(tmp_path):
    import json

    r = run_main("--quick", "--threads", "1", "--json", "out.json", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["threads"] == 1 and report["self_check"]["failures"] == []
    assert report["self_check"]["cases"] > 100 and "timing" not in report
    assert report["simd_level"] in ("baseline", "avx2", "avx512")
    assert f"SIMD level: {report['simd_level']}" in r.stdout


@pytest.mark.parametrize("args", [["--threads", "0"], ["--bogus"]])
def test_main_rejects_bad_arguments(args, tmp_path):
    r = run_main(*args, tmp_path=tmp_path)
    assert r.returncode == 2 and "usage:" in r.stderr
