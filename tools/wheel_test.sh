#!/usr/bin/env bash
# Tests an installed closs (a wheel, not the source tree) with the current python:
#   bash tools/wheel_test.sh PROJECT_DIR
# Copies PROJECT_DIR's tests/ (and pyproject.toml, for pytest's settings) to a
# temporary folder and runs from there, so that nothing of the source tree is on
# sys.path; checks that closs is imported from site-packages, runs
# `python -m closs --quick` and the parity and package tests. Used by .ci/run
# (tools/wheel_check.sh) and by cibuildwheel's test-command (pyproject.toml).
set -euo pipefail
project=$(cd "${1:?usage: wheel_test.sh PROJECT_DIR}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$project/tests" "$project/pyproject.toml" "$work/"
rm -rf "$work/tests/c"
cd "$work"

python - <<'PY'
import pathlib, sysconfig
import closs, closs._core
where = pathlib.Path(closs.__file__).resolve().parent
site = pathlib.Path(sysconfig.get_paths()["platlib"]).resolve()
assert where.parent == site, f"closs imported from {where}, not from {site}"
assert (where / "py.typed").is_file(), "py.typed is missing from the wheel"
print(f"closs {closs.__version__} from {where}")
PY
python -m closs --quick

# The parity tests (every loss against torch 2.13 where torch is installed, and
# against the NumPy references) and the package's own checks. test_header.py
# needs the source tree (the header, meson), test_fuzz.py is long: not here.
python -m pytest -q -p no:cacheprovider \
    tests/test_package.py tests/test_losses.py tests/test_elementwise.py \
    tests/test_classification.py tests/test_ctc.py tests/test_rowwise.py \
    tests/test_sizes_parity.py tests/test_array_forms.py tests/test_simd.py \
    tests/test_typing.py tests/test_grad_hess.py tests/test_gbdt.py
