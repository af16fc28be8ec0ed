"""A loss over arrays larger than one call wants, read from .npy memmaps in chunks.

    python benchmarks/bench_dask.py                  # 2e8 float32 predictions (3.2 GB of files)
    python benchmarks/bench_dask.py --elements 2e7   # smaller
    python benchmarks/bench_dask.py --quick          # a smoke run (2e6, one repeat)

For mse_loss (input and target of N float32) and cross_entropy ((N / 100, 100)
float32 logits, int64 labels), reduction 'mean', three ways:

- closs.dask: ``closs.dask.<loss>`` on ``da.from_array(np.load(path,
  mmap_mode="r"), chunks=...)``, computed by Dask's threaded scheduler with
  --workers threads (closs's own threads set to 1: the workers are the threads);
- dask expressions: the same mean written with dask.array / NumPy expressions,
  what a user writes today (mse: ``((x - y) ** 2).mean()``; cross_entropy: a
  max-shifted log-sum-exp minus the label's logit, picked with a one-hot mask);
- in-memory closs: one ``closs.functional.<loss>`` call on the whole memmaps
  (closs's threads: --workers), reading the page cache directly.

Each contender runs in a fresh process (the files stay in the page cache: the
first, untimed run reads them in). Time: the best of --repeats. Memory: the peak
of the memory the process allocated (tracemalloc, which NumPy reports to; file
pages of the memmaps are not counted: they are the page cache's), in a separate
run, over all of the process's worker threads, so "per worker" is this figure
over --workers.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CLASSES = 100


def make_files(folder, n, seed=0):
    """The .npy files of the benchmark (written once per size, then reused)."""
    rng = np.random.default_rng(seed)
    rows = n // CLASSES
    files = {"x": (n,), "y": (n,), "logits": (rows, CLASSES)}
    paths = {}
    for name, shape in files.items():
        path = Path(folder) / f"{name}_{n}.npy"
        if not path.exists():
            a = np.lib.format.open_memmap(path, "w+", np.float32, shape)
            step = 1 << 22
            flat = a.reshape(-1)
            for start in range(0, flat.size, step):
                stop = min(flat.size, start + step)
                flat[start:stop] = rng.standard_normal(stop - start, np.float32)
            a.flush()
            del a
        paths[name] = str(path)
    labels = Path(folder) / f"labels_{n}.npy"
    if not labels.exists():
        np.save(labels, rng.integers(0, CLASSES, rows))
    paths["labels"] = str(labels)
    return paths


# ------------------------------------------------------------------ contenders
# each runs in a child: python bench_dask.py --child LOSS WAY JSON


def _dask_arrays(paths, loss, chunk):
    import dask.array as da

    if loss == "mse_loss":
        return (da.from_array(np.load(paths["x"], mmap_mode="r"), chunks=chunk),
                da.from_array(np.load(paths["y"], mmap_mode="r"), chunks=chunk))
    rows = chunk // CLASSES
    return (da.from_array(np.load(paths["logits"], mmap_mode="r"), chunks=(rows, CLASSES)),
            da.from_array(np.load(paths["labels"], mmap_mode="r"), chunks=rows))


def _dask_expression(loss, a, b):
    import dask.array as da

    if loss == "mse_loss":
        return ((a - b) ** 2).mean()
    m = a.max(axis=1, keepdims=True)
    lse = da.log(da.exp(a - m).sum(axis=1)) + m[:, 0]
    picked = da.where(b[:, None] == da.arange(CLASSES), a, 0).sum(axis=1)
    return (lse - picked).mean()


def build(loss, way, paths, chunk, workers):
    """A function that computes the loss once, the way asked."""
    import closs

    if way == "in-memory closs":
        closs.set_num_threads(workers)
        if loss == "mse_loss":
            x, y = np.load(paths["x"], mmap_mode="r"), np.load(paths["y"], mmap_mode="r")
            return lambda: closs.functional.mse_loss(x, y)
        x = np.load(paths["logits"], mmap_mode="r")
        t = np.load(paths["labels"], mmap_mode="r")
        return lambda: closs.functional.cross_entropy(x, t)
    import dask

    closs.set_num_threads(1)
    a, b = _dask_arrays(paths, loss, chunk)
    if way == "closs.dask":
        import closs.dask

        graph = getattr(closs.dask, loss)(a, b)
    else:
        graph = _dask_expression(loss, a, b)
    return lambda: dask.compute(graph, scheduler="threads", num_workers=workers)[0]


def child(loss, way, spec):
    spec = json.loads(spec)
    fn = build(loss, way, spec["paths"], spec["chunk"], spec["workers"])
    value = float(fn())  # warm-up: the page cache, dask's imports
    times = []
    for _ in range(spec["repeats"]):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    import tracemalloc

    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"value": value, "time": min(times), "peak": peak}))


def run(loss, way, spec):
    out = subprocess.run([sys.executable, __file__, "--child", loss, way, json.dumps(spec)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--elements", type=lambda v: int(float(v)), default=int(2e8))
    p.add_argument("--chunk", type=lambda v: int(float(v)), default=1 << 22,
                   help="elements per chunk (default 2^22: 16 MB of float32)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dir", default=None, help="where the .npy files go (default: a temp dir)")
    p.add_argument("--quick", action="store_true", help="2e6 elements, one repeat")
    p.add_argument("--json", default=None, help="write the results here too")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(*args.child)
    if args.quick:
        args.elements, args.repeats, args.chunk = int(2e6), 1, 1 << 18
    folder = args.dir or os.path.join(tempfile.gettempdir(), "closs-bench-dask")
    os.makedirs(folder, exist_ok=True)
    paths = make_files(folder, args.elements)
    spec = {"paths": paths, "chunk": args.chunk, "workers": args.workers,
            "repeats": args.repeats}
    print(f"{args.elements:.3g} float32 predictions from .npy memmaps, chunks of "
          f"{args.chunk} elements, {args.workers} workers, best of {args.repeats}")
    print(f"{'loss':<14} {'way':<17} {'time':>9} {'peak alloc':>11}  value")
    results = []
    for loss in ("mse_loss", "cross_entropy"):
        for way in ("closs.dask", "dask expressions", "in-memory closs"):
            r = run(loss, way, spec)
            results.append(dict(r, loss=loss, way=way))
            print(f"{loss:<14} {way:<17} {r['time']:>8.3f}s {r['peak'] / 2**20:>9.1f} MB  "
                  f"{r['value']:.7g}")
    if args.json:
        Path(args.json).write_text(json.dumps({"spec": spec, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
