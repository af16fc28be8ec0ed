"""Before/after timing of the classification kernels a change touches: the median
of many reps (one thread, so a shared machine's second core does not decide),
cross_entropy forward and value_and_grad at a few shapes.
Usage: python benchmarks/class_counts_timing.py [reps]"""

import sys
import time

import numpy as np

import closs
import closs.functional as F
from closs.functional import _cross_entropy_call

CASES = [  # (label, x shape, options)
    ("(4096, 1000)", (4096, 1000), {}),
    ("(4096, 10)", (4096, 10), {}),
    ("(4096, 10) smooth", (4096, 10), {"label_smoothing": 0.1}),
    ("(4096, 1000) prob", (4096, 1000), {"probabilities": True}),
    ("(16, 21, 64, 64)", (16, 21, 64, 64), {}),
    ("(16, 21, 64, 64) none", (16, 21, 64, 64), {"reduction": "none"}),
]


def median_us(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e6 * float(np.median(times))


def main(reps):
    closs.set_num_threads(1)
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for label, shape, opts in CASES:
            opts = dict(opts)
            x = rng.standard_normal(shape).astype(dtype)
            tshape = (shape[0],) + shape[2:]
            if opts.pop("probabilities", False):
                p = rng.uniform(0, 1, shape)
                t = (p / p.sum(1, keepdims=True)).astype(dtype)
            else:
                t = rng.integers(0, shape[1], tshape)
            fwd = median_us(lambda: F.cross_entropy(x, t, **opts), reps)
            call = _cross_entropy_call(x, t, **opts)
            vg = median_us(call.value_and_grad, reps)
            print(f"{np.dtype(dtype).name:8} {label:24} forward {fwd:9.1f} us"
                  f"   value_and_grad {vg:9.1f} us", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 101)
