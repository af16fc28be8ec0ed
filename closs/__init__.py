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


__version__ = _core.version_string()  # meson.build's project version, the one place it is written


def get_num_threads():
    """Threads the kernels use (OMP_NUM_THREADS, else all cores, unless set)."""
    return _core.get_num_threads()


def set_num_threads(n):
    """Sets the threads the kernels use; n >= 1."""
    if int(n) != n or n < 1:
        raise ValueError(f"set_num_threads expects an integer >= 1, got {n!r}")
    _core.set_num_threads(int(n))


def build_info():
    """One line: compiler, OpenMP, SIMD level."""
    return _core.build_info()


from closs import functional, nn, stream  # noqa: E402  (closs.dask: import it, with Dask)

__all__ = [
    "functional",
    "nn",
    "stream",
    "get_num_threads",
    "set_num_threads",
    "build_info",
    "ShapeError",
    "DTypeError",
    "ParameterError",
    "__version__",
]
