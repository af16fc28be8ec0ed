"""closs: every loss function of torch.nn, value and gradient, on NumPy arrays, on the CPU.

    import closs
    closs.functional.mse_loss(x, y)                 # torch.nn.functional's signature
    loss, grad = closs.nn.MSELoss().value_and_grad(x, y)

See docs/architecture.md for how the C core, Cython and Python layers fit.
"""

import os


def _import_core():
    """Imports the compiled core, whose loading starts libgomp.

    libgomp's threads spin 300000 rounds at each barrier by default; on a machine
    whose other cores are busy the spinning master keeps a descheduled worker off
    its core and a 20 us region takes a scheduler slice (4-10 ms, measured with
    benchmarks/bench.py --busy). A short spin (GOMP_SPINCOUNT=1000) costs nothing
    measurable on a quiet machine. libgomp reads it once, when it loads; a wait
    policy the user set (OMP_WAIT_POLICY or GOMP_SPINCOUNT) is left alone, and
    the environment is restored afterwards.
    """
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        from closs import _core
        return _core
    os.environ["GOMP_SPINCOUNT"] = "1000"
    try:
        from closs import _core
    finally:
        del os.environ["GOMP_SPINCOUNT"]
    return _core


try:
    _core = _import_core()
except ImportError as e:  # the source folder, not the built package
    raise ImportError(
        "closs's compiled extension is missing: this is the source tree, not a build. "
        "Install with `pip install --no-build-isolation -e .` (see README.md)"
    ) from e
from closs._errors import DTypeError, ParameterError, ShapeError


# meson.build's project version, the one place it is written
__version__: str = _core.version_string()


def get_num_threads() -> int:
    """Threads the kernels use (OMP_NUM_THREADS, else all cores, unless set)."""
    return int(_core.get_num_threads())


def set_num_threads(n: int) -> None:
    """Sets the threads the kernels use; n >= 1."""
    if int(n) != n or n < 1:
        raise ValueError(f"set_num_threads expects an integer >= 1, got {n!r}")
    _core.set_num_threads(int(n))


def build_info() -> str:
    """One line: compiler, OpenMP, SIMD dispatch and the level it runs."""
    return str(_core.build_info())


def simd_level() -> str:
    """The SIMD level the kernels run: 'avx512' (x86-64-v4), 'avx2' (x86-64-v3) or
    'baseline': the best the CPU has among those built, capped by the environment
    variable CLOSS_SIMD=baseline|avx2|avx512 (read when closs is imported)."""
    return str(_core.simd_level())


def _check_simd_variable() -> None:
    """Fixes the SIMD level now (the C library reads CLOSS_SIMD once) and warns
    about a value it ignores."""
    _core.simd_level()
    want = os.environ.get("CLOSS_SIMD", "")
    if want not in ("", "baseline", "avx2", "avx512"):
        import warnings

        warnings.warn(f"CLOSS_SIMD={want!r} is not baseline, avx2 or avx512: ignored "
                      f"(running {simd_level()})", RuntimeWarning, stacklevel=3)


_check_simd_variable()


from closs import functional, nn, stream  # noqa: E402  (closs.dask: import it, with Dask)

__all__ = [
    "functional",
    "nn",
    "stream",
    "get_num_threads",
    "set_num_threads",
    "build_info",
    "simd_level",
    "ShapeError",
    "DTypeError",
    "ParameterError",
    "__version__",
]
