"""The package's type hints as a user's type checker sees them: mypy --strict on
tests/typing_sample.py (skipped when mypy is not installed), and the sample runs."""

import os
import pathlib
import runpy
import subprocess
import sys

import pytest

SAMPLE = pathlib.Path(__file__).with_name("typing_sample.py")
DASK_SAMPLE = pathlib.Path(__file__).with_name("typing_sample_dask.py")  # the optional extra


def mypy_env():
    """mypy finds an installed closs (a wheel) in site-packages by itself; an editable
    build's closs is its source folder, named by MYPYPATH (mypy refuses
    site-packages there)."""
    import sysconfig

    import closs

    root = pathlib.Path(closs.__file__).resolve().parent.parent
    site = {pathlib.Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    return dict(os.environ) if root in site else dict(os.environ, MYPYPATH=str(root))


def test_the_sample_runs():
    runpy.run_path(str(SAMPLE))


def test_the_dask_sample_runs():
    pytest.importorskip("dask.array")
    runpy.run_path(str(DASK_SAMPLE))


def run_mypy(path, tmp_path):
    """mypy --strict on one file. Errors inside closs are not the user's and are not
    shown (follow_imports = silent); its hints are used all the same."""
    pytest.importorskip("mypy")
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n\n[mypy-closs.*]\nfollow_imports = silent\n")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--no-incremental",
         "--cache-dir", os.devnull, str(path)],
        capture_output=True, text=True, cwd=tmp_path, env=mypy_env(),
    )


def test_mypy_strict_accepts_the_sample(tmp_path):
    run = run_mypy(SAMPLE, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success" in run.stdout


def test_mypy_strict_accepts_the_dask_sample(tmp_path):
    pytest.importorskip("dask.array")
    run = run_mypy(DASK_SAMPLE, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success" in run.stdout


def test_closs_dask_declares_every_function_for_type_checkers():
    """closs.dask makes its functions at import; its TYPE_CHECKING block names them
    for type checkers: the same names."""
    import ast

    import closs

    source = (pathlib.Path(closs.__file__).resolve().parent / "dask.py").read_text()
    block = next(node for node in ast.parse(source).body if isinstance(node, ast.If)
                 and getattr(node.test, "id", None) == "TYPE_CHECKING")
    declared = {node.target.id for node in block.body if isinstance(node, ast.AnnAssign)}
    from closs import _shard

    assert declared == set(_shard.PREPARERS)


def test_mypy_strict_rejects_a_wrong_type(tmp_path):
    """The check can fail: a reduced loss is not an array."""
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nfrom numpy.typing import NDArray\nimport closs.functional as F\n"
                   "a: NDArray[np.float64] = F.mse_loss(np.zeros(3), np.ones(3))\n")
    run = run_mypy(bad, tmp_path)
    assert run.returncode == 1 and "Incompatible types in assignment" in run.stdout, run.stdout
