"""python -m closs: the build, a self-check against the NumPy references, a timing table.

    python -m closs                 # build, self-check, timing table (~15 s)
    python -m closs --quick         # build and self-check only
    python -m closs --json out.json --threads 2
"""

import argparse
import json
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
    """Prints closs's, NumPy's (and torch's) forward times; returns them per loss key."""
    try:
        import torch
        import torch.nn.functional as TF
    except ImportError:
        torch = None
    print(f"\nforward, reduction='mean', float32, {n:.0e} elements, median ms "
          f"(benchmarks/bench.py has the full suite)")
    header = f"{'loss':<34}{'closs':>9}{'numpy':>9}" + (f"{'torch':>9}" if torch else "")
    print(header)
    timings = {}
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
        timings[loss.key] = dict(zip(("closs", "numpy", "torch"), row))
        print(f"{loss.key:<34}" + "".join(f"{t * 1e3:9.3f}" for t in row))
    return {"elements": n, "seconds": timings}


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m closs",
        description="Prints closs's build (version, OpenMP, threads, SIMD level), checks every "
        "loss against its NumPy reference and times the forward calls against NumPy (and torch "
        "when installed).",
        epilog="CLOSS_SIMD=baseline|avx2|avx512 caps the SIMD level the kernels dispatch to "
        "(read once, when closs loads); OMP_NUM_THREADS sets the default thread count.",
    )
    p.add_argument("--quick", action="store_true",
                   help="build information and the self-check only, no timing table")
    p.add_argument("--json", metavar="FILE",
                   help="also write the build, the self-check and the timings to FILE as JSON")
    p.add_argument("--threads", metavar="N", type=int,
                   help="threads for the kernels (closs.set_num_threads), N >= 1")
    opts = p.parse_args(argv)
    if opts.threads is not None and opts.threads < 1:
        p.error(f"--threads must be >= 1, got {opts.threads}")
    return opts


def main(argv=None):
    opts = parse_args(argv)
    warnings.simplefilter("ignore", UserWarning)  # kl_div's 'mean' warning, as torch's
    if opts.threads is not None:
        closs.set_num_threads(opts.threads)
    print(f"closs {closs.__version__}  ({closs.build_info()})")
    print(f"SIMD level: {closs.simd_level()}")
    print(f"threads: {closs.get_num_threads()}")
    rng = np.random.default_rng(0)
    checks, failures = self_check(rng)
    report = {
        "version": closs.__version__,
        "build_info": closs.build_info(),
        "simd_level": closs.simd_level(),
        "threads": closs.get_num_threads(),
        "self_check": {"cases": checks, "failures": failures},
    }
    if failures:
        print(f"self-check: {len(failures)} of {checks} FAILED:")
        for f in failures:
            print("  " + f)
    else:
        print(f"self-check: {checks} cases match the NumPy references")
        if not opts.quick:
            report["timing"] = timing_table(rng)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
