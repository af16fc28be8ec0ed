"""python -m closs: the build, a self-check against the NumPy references, a timing table."""

import sys
import time
import warnings

import numpy as np

import closs
from closs._registry import LOSSES, materialise


def self_check(rng):
    """Every loss, option and reduction in float64 against its NumPy reference."""
    failures, checks = [], 0
    for loss in LOSSES.values():
        for options in loss.grid:
            for reduction in loss.reductions:
                args = loss.make_args(rng, (7, 5), np.float64)
                opts = materialise(loss, options, rng, (7, 5), np.float64)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # kl_div's 'mean' warning
                    call = loss.prepare(*args, reduction=reduction, **opts)
                value, grad = call.value_and_grad()
                ref_value, ref_grad = loss.reference(*args, reduction=reduction, **opts)
                pairs = zip(grad, ref_grad) if isinstance(grad, tuple) else [(grad, ref_grad)]
                ok = np.allclose(value, ref_value, rtol=1e-12, atol=0) and all(
                    np.allclose(g, r, rtol=1e-12, atol=1e-15) for g, r in pairs
                )
                checks += 1
                if not ok:
                    failures.append(f"{loss.key} {options} reduction={reduction}")
    return checks, failures


def median_time(fn, budget=0.2):
    fn()
    times, start = [], time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget and len(times) < 1000):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def timing_table(rng, n=1_000_000):
    try:
        import torch
        import torch.nn.functional as TF
    except ImportError:
        torch = None
    print(f"\nforward, reduction='mean', float32, {n:.0e} elements, median ms "
          f"(benchmarks/bench.py has the full suite)")
    header = f"{'loss':<34}{'closs':>9}{'numpy':>9}" + (f"{'torch':>9}" if torch else "")
    print(header)
    for loss in LOSSES.values():
        shape = loss.shape_for(n)
        args = loss.make_args(rng, shape, np.float32)
        # the registry's first option set (gaussian_nll_loss needs its var)
        opts = materialise(loss, loss.grid[0], rng, shape, np.float32)
        fn = getattr(closs.functional, loss.name)
        row = [median_time(lambda: fn(*args, **opts)),
               median_time(lambda: loss.numpy_forward(*args))]
        if torch:
            tensor = lambda a: torch.from_numpy(a) if isinstance(a, np.ndarray) else a  # noqa: E731
            targs, tfn = [tensor(a) for a in args], getattr(TF, loss.name)
            topts = {k: tensor(v) for k, v in opts.items()}
            row.append(median_time(lambda: tfn(*targs, **topts)))
        print(f"{loss.key:<34}" + "".join(f"{t * 1e3:9.3f}" for t in row))


def main():
    warnings.simplefilter("ignore", UserWarning)  # kl_div's 'mean' warning, as torch's
    print(f"closs {closs.__version__}  ({closs.build_info()})")
    print(f"threads: {closs.get_num_threads()}")
    rng = np.random.default_rng(0)
    checks, failures = self_check(rng)
    if failures:
        print(f"self-check: {len(failures)} of {checks} FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print(f"self-check: {checks} cases match the NumPy references")
    timing_table(rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
