"""Digests of closs's outputs for every registry case: a refactoring that must not
change a bit (issue 12) records them before and compares after.

    python tools/outputs_digest.py > before.json   # ... refactor, rebuild ...
    python tools/outputs_digest.py --compare before.json

Each case (loss, options, reduction, dtype, threads) runs forward, backward with a
grad_output and the fused call on the tests' arguments; the digest is a SHA-256 of
the result bytes, so any changed bit shows.
"""

import argparse
import hashlib
import json
import sys
import warnings

import numpy as np

import closs
from closs._registry import LOSSES, materialise

SHAPES = ((6, 7), (33, 17))


def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        for x in a if isinstance(a, tuple) else (a,):
            x = np.asarray(x)
            h.update(str((x.dtype.str, x.shape)).encode())
            h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()[:24]


def cases():
    for loss in LOSSES.values():
        for k, options in enumerate(loss.grid):
            for reduction in loss.reductions:
                for dtype in (np.float32, np.float64):
                    for shape in SHAPES:
                        yield loss, k, options, reduction, dtype, shape


def run(loss, options, reduction, dtype, shape):
    rng = np.random.default_rng(0)
    args = loss.make_args(rng, shape, dtype)
    opts = materialise(loss, options, rng, shape, dtype)
    call = loss.prepare(*args, reduction=reduction, **opts)
    value = call.value()
    go = np.random.default_rng(1).uniform(0.5, 2, call.out_shape if reduction == "none" else ())
    grad = call.grad(go.astype(dtype))
    fused = call.value_and_grad()
    return digest(value), digest(grad), digest(*fused)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", metavar="JSON", help="compare with a recorded run")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    result = {}
    for threads in (1, 2):
        closs.set_num_threads(threads)
        for loss, k, options, reduction, dtype, shape in cases():
            key = f"{loss.key}/{k}/{reduction}/{np.dtype(dtype).name}/{shape}/{threads}"
            result[key] = list(run(loss, options, reduction, dtype, shape))
    if not args.compare:
        json.dump(result, sys.stdout, indent=0, sort_keys=True)
        return 0
    with open(args.compare) as f:
        before = json.load(f)
    changed = [k for k in sorted(before) if result.get(k) != before[k] and k in result]
    missing = sorted(set(before) - set(result))
    for k in changed:
        print("changed:", k, before[k], "->", result[k])
    for k in missing:
        print("missing:", k)
    print(f"{len(before)} cases recorded, {len(changed)} changed, {len(missing)} missing")
    return 1 if changed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
