"""closs's benchmark suite: closs against PyTorch (CPU) and NumPy, side by side.

    python benchmarks/bench.py                 # the full table (a few minutes)
    python benchmarks/bench.py --quick         # CI smoke run, well under a minute
    python benchmarks/bench.py --busy          # 2-thread cells with a busy neighbour
    python benchmarks/bench.py --threshold     # where a second thread starts to pay
    python benchmarks/bench.py --linear        # linear_cross_entropy at LM-head shapes (minutes)
    python benchmarks/bench.py --gbdt          # grad_hess and an XGBoost objective's share
    python benchmarks/bench.py --wrt           # every gradient (wrt="all") vs the input's
    python benchmarks/bench.py --rowwise-corners  # issue 19's row-wise cells (1 thread)
    python benchmarks/bench.py --corners       # the slow corners of issue 19 (few classes)

What is timed, for every loss of closs._registry.LOSSES, float32, reduction='mean':

- forward:  closs.functional.<loss>(x, y), the public call with its Python
  argument handling (what users pay); torch.nn.functional.<loss>(tx, ty) under
  torch.no_grad(); NumPy: the registry's idiomatic ``numpy_forward``.
- backward: a closs Module's ``backward(out=buf)`` after one forward, into a
  preallocated buffer; torch.autograd.grad(loss, tx, retain_graph=True) on a
  graph built once; NumPy: the registry's float64 ``reference`` (value and grad).
  Not the same work for softmax losses: torch's backward reuses the
  log_softmax its forward saved (one exponential and one write per element),
  while closs's backward recomputes the softmax from the input (the C API keeps
  no state between calls), so its gradient kernel must be as cheap: one
  exponential per element, stored and rescaled (see classification.h).
- fused:    ``Module.value_and_grad(x, y, out=buf)``; torch builds the graph and
  calls autograd.grad; NumPy: the same float64 ``reference``.

Methodology. All contenders of a cell run in one process, on the same arrays
(torch tensors share the NumPy memory), after a warm-up call. Timing is
interleaved: each round times one sample of every contender, in an order that
rotates from round to round, so that noise from a busy machine (frequency,
neighbours, the other core) falls on all of them alike. A sample is one call,
or for calls shorter than SAMPLE_S a loop of k calls divided by k (k fixed per
contender, so timer cost vanishes). Rounds go on until every contender has spent
its ``--budget`` seconds and has at least MIN_REPS samples; the table shows
medians of time.perf_counter_ns samples, garbage collection off. Large cells
(>= BW_MIN_SIZE elements) start every sample from cold caches: first, untimed,
each of t threads reads EVICT_BYTES, else the L3 (32 MB here, and the two cores
may not share one) would still hold part of an 80 MB working set from the
previous sample and "bandwidth" would pass 100%.

Threads: closs.set_num_threads(t) and torch.set_num_threads(t) for every cell;
NumPy is single-threaded whatever t says. closs runs serially below the C
constant CLOSS_STREAM_PARALLEL_MIN whatever the thread count (see --threshold).

Memory bandwidth: the streaming read bandwidth of this machine, measured as the
fastest of 25 np.maximum.reduce over a float32 array far larger than the last
level cache (SIMD, not compute-bound: in cache it runs twice as fast), on one
thread, and on t threads as t Python threads reducing one part each (NumPy
releases the GIL). For large cells (>= BW_MIN_SIZE elements) the table gives
    bw = (bytes read + bytes written) / time / read bandwidth(t)
with bytes read = all array arguments, bytes written = the gradient(s) for
backward and fused (each counted once, though a cached write also reads its
line first). Up to ~10% over 100% is normal: the probe is one read stream per
thread, and a kernel reading two arrays while writing a third draws a little
more from DRAM on this machine (about 34 GB/s counted this way at 5e7 elements).
"""

import argparse
import contextlib
import functools
import gc
import inspect
import json
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import closs
from closs._registry import LOSSES, materialise

SIZES = (10**2, 10**5, 10**7)
THREADS = (1, 2)
OPS = ("forward", "backward", "fused")
CONTENDERS = ("closs", "torch", "numpy")
DTYPE = np.float32
SAMPLE_S = 50e-6  # calls shorter than this are timed in loops of k calls
MIN_REPS = 7
MAX_REPS = 100_000
BW_MIN_SIZE = 10**7  # cells this large run from cold caches and report bandwidth
EVICT_BYTES = 64 * 2**20  # read per thread before each sample of a large cell: 2x an L3
BW_BYTES = 256 * 2**20  # the bandwidth probe's array, 8x this machine's L3
BW_REPS = 25
THRESHOLD_SIZES = tuple(2**p for p in range(12, 23))
GBDT_SIZES = (10**6, 10**7)
OVERHEAD_TARGET_S = 2e-6
# --corners: (registry key, ops, sizes) of cells that were slow corners once, measured at 1
# thread against torch, each cell's closs time also as a multiple of the reference cell's
# (mse_loss fused at 1e7: the same bytes streamed as a memory-bound loss). Add rows here.
CORNERS = (
    ("cross_entropy", ("forward", "fused"), ((5_000_000, 2), (3_333_334, 3), (1_000_000, 10))),
    ("nll_loss", ("forward", "fused"), ((5_000_000, 2), (3_333_334, 3), (1_000_000, 10))),
)
CORNERS_REFERENCE = ("mse_loss", "fused", 10**7)
CORNERS_MIN_REPS = 21

def shapes_for(loss, size):
    """The argument shape of `loss` at about `size` elements (the registry's bench_shape),
    or `size` itself when it is a shape (a registry entry's bench_shapes)."""
    return tuple(size) if isinstance(size, tuple) else loss.shape_for(size)


def elements(size):
    return int(np.prod(size)) if isinstance(size, tuple) else size


# ----------------------------------------------------------------------- timing


def _sample(fn, k):
    """Seconds per call of fn, over a loop of k calls."""
    t0 = time.perf_counter_ns()
    for _ in range(k):
        fn()
    return (time.perf_counter_ns() - t0) * 1e-9 / k


def measure(contenders, budget, min_reps, setups=None):
    """Median seconds per call of each contender ({name: fn}), timed side by side.

    setups: {name: fn} run (untimed) before each of that contender's samples.
    Returns {name: {"median", "q1", "q3", "min", "reps", "loop"}}.
    """
    setups = setups or {}
    noop = lambda: None  # noqa: E731
    names, loop, samples = list(contenders), {}, {}
    for name in names:
        setups.get(name, noop)()
        contenders[name]()  # warm-up: first touch, lazy initialisation
        t = _sample(contenders[name], 1)
        loop[name] = max(1, int(SAMPLE_S / max(t, 1e-9)))
        samples[name] = []
    spent = dict.fromkeys(names, 0.0)
    gc.collect()
    gc.disable()
    try:
        for rnd in range(MAX_REPS):
            active = [n for n in names if len(samples[n]) < min_reps or spent[n] < budget]
            if not active:
                break
            shift = rnd % len(active)
            for name in active[shift:] + active[:shift]:
                setups.get(name, noop)()
                t = _sample(contenders[name], loop[name])
                samples[name].append(t)
                spent[name] += t * loop[name]
    finally:
        gc.enable()
    result = {}
    for name in names:
        q1, med, q3 = np.percentile(samples[name], [25, 50, 75])
        result[name] = dict(median=med, q1=q1, q3=q3, min=min(samples[name]),
                            reps=len(samples[name]), loop=loop[name])
    return result


class Reader:
    """Streams through `threads` float32 arrays of part_bytes, one Python thread each
    (np.maximum.reduce: SIMD, and it releases the GIL). The bandwidth probe, and the
    cache eviction of large cells."""

    def __init__(self, threads, part_bytes):
        self.parts = [np.ones(part_bytes // 4, np.float32) for _ in range(threads)]
        self.nbytes = sum(p.nbytes for p in self.parts)
        self.pool = ThreadPoolExecutor(threads)

    def __call__(self):
        list(self.pool.map(np.maximum.reduce, self.parts))


@functools.lru_cache(maxsize=None)
def evictor(threads):
    """A call that replaces the contents of the caches `threads` threads use."""
    return Reader(threads, EVICT_BYTES)


def set_threads(t, torch):
    closs.set_num_threads(t)
    if torch is not None:
        torch.set_num_threads(t)


# -------------------------------------------------------------------- contenders


def default_grads(call):
    """The gradients a call returns by default (wrt=None): the input's, and var's or
    both inputs' where the loss has them; wrt="all" is --wrt's table."""
    return [g for g in call.grads if g.default]


def closs_fn(loss, op, args, options):
    """closs's call for op: functional forward, Module backward / fused into a buffer."""
    if op == "forward":
        return functools.partial(getattr(closs.functional, loss.name), *args, **options)
    call = loss.prepare(*args, reduction="mean", **options)
    bufs = tuple(np.empty(g.shape, g.dtype) for g in default_grads(call))
    out = bufs[0] if len(bufs) == 1 else bufs
    module = loss.module(**{k: v for k, v in options.items() if k in loss.module_options})
    fwd = {k: v for k, v in options.items() if k in loss.forward_options}
    if op == "backward":
        module(*args, **fwd)
        return functools.partial(module.backward, out=out)
    return functools.partial(module.value_and_grad, *args, out=out, **fwd)


def grad_positions(loss, args, options):
    """The arguments torch differentiates: a registry entry may say (grad_args);
    by default, the first as many as closs returns gradients for."""
    call = loss.prepare(*args, reduction="mean", **options)
    return getattr(loss, "grad_args", tuple(range(len(default_grads(call)))))


def torch_fn(torch, loss, op, args, options):
    """torch's call for op on tensors sharing args' memory."""
    tensor = lambda a: torch.from_numpy(a) if isinstance(a, np.ndarray) else a  # noqa: E731
    fn = functools.partial(getattr(torch.nn.functional, loss.name),
                           **{k: tensor(v) for k, v in options.items()})
    targs = [tensor(a) for a in args]
    if op == "forward":
        return functools.partial(fn, *targs)
    diff = [targs[i].requires_grad_() for i in grad_positions(loss, args, options)]
    if op == "backward":
        return functools.partial(torch.autograd.grad, fn(*targs), diff, retain_graph=True)
    return lambda: torch.autograd.grad(fn(*targs), diff)


def numpy_fn(loss, op, args, options):
    """The NumPy baseline: numpy_forward for forward, the float64 reference otherwise."""
    if op == "forward":
        return functools.partial(loss.numpy_forward, *args)
    return functools.partial(loss.reference, *args, reduction="mean", **options)


def bytes_moved(loss, op, args, options):
    """Array bytes read (every array argument) plus written (the gradients)."""
    moved = sum(a.nbytes for a in args if isinstance(a, np.ndarray))
    if op != "forward":
        call = loss.prepare(*args, reduction="mean", **options)
        moved += sum(int(np.prod(g.shape)) * g.dtype.itemsize for g in default_grads(call))
    return moved


# -------------------------------------------------------------------- bandwidth


def stream_bandwidth(threads, nbytes, reps):
    """Streaming read bandwidth in bytes/s of `threads` threads reading nbytes in all:
    the fastest of `reps` reads, what the machine can do when nothing disturbs it."""
    read = Reader(threads, nbytes // threads)
    t = measure({"read": read}, budget=0, min_reps=reps)["read"]["min"]
    read.pool.shutdown()
    return read.nbytes / t


# ---------------------------------------------------------------------- output


def fmt_time(t):
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.2f} us"
    return f"{t * 1e3:.2f} ms"


def fmt_size(n):
    if isinstance(n, tuple):
        return "x".join(map(str, n))
    return f"1e{len(str(n)) - 1}" if n == 10 ** (len(str(n)) - 1) else str(n)


def print_row(widths, cells):
    print("".join(f"{c:>{w}}" if i else f"{c:<{w}}" for i, (w, c) in enumerate(zip(widths, cells))))
    sys.stdout.flush()


LOSS_WIDTH = max(map(len, LOSSES)) + 1
MAIN_COLUMNS = (("loss", LOSS_WIDTH), ("op", 9), ("size", 14), ("thr", 4), ("closs", 11),
                ("torch", 11), ("numpy", 11), ("torch/closs", 12), ("bw", 6))


def print_header(columns, note=""):
    if note:
        print(note)
    print_row([w for _, w in columns], [c for c, _ in columns])


# ----------------------------------------------------------------------- cells


class Bench:
    """The contenders of one run and the arrays they share."""

    def __init__(self, opts, torch, bandwidth=None):
        self.opts, self.torch, self.bandwidth = opts, torch, bandwidth
        self._args = {}

    def args(self, loss, size):
        """(positional arguments, options) of the loss at this size, cached."""
        key = (loss.key, size)
        if key not in self._args:
            self._args.clear()  # one size of one loss at a time: 1e7 arrays are large
            rng = np.random.default_rng(0)
            shape = shapes_for(loss, size)
            args = loss.make_args(rng, shape, DTYPE)
            # the registry's first option set (gaussian_nll_loss needs its var)
            self._args[key] = args, materialise(loss, loss.grid[0], rng, shape, DTYPE)
        return self._args[key]

    def contenders(self, loss, op, args, names=CONTENDERS):
        """{name: the call to time} for those of `names` available."""
        make = {"closs": closs_fn}
        if not self.opts.no_numpy:
            make["numpy"] = numpy_fn
        if self.torch is not None:
            make["torch"] = functools.partial(torch_fn, self.torch)
        args, options = args
        return {n: make[n](loss, op, args, options) for n in names if n in make}

    def grad_mode(self, op):
        """torch.no_grad() for a forward, else a context that does nothing."""
        return self.torch.no_grad() if self.torch and op == "forward" else contextlib.nullcontext()

    def cell(self, loss, op, size, threads, names=CONTENDERS):
        """Measures one (loss, op, size, threads) cell; returns its JSON record."""
        args = self.args(loss, size)
        set_threads(threads, self.torch)
        fns = self.contenders(loss, op, args, names)
        large = elements(size) >= BW_MIN_SIZE
        setups = dict.fromkeys(fns, evictor(threads)) if large else None
        with self.grad_mode(op):
            res = measure(fns, self.opts.budget, self.opts.min_reps, setups)
        rec = dict(loss=loss.key, op=op, size=size, shape=list(np.shape(args[0][0])),
                   threads=threads, results=res, speedup=None, bw_fraction=None)
        if "torch" in res:
            rec["speedup"] = res["torch"]["median"] / res["closs"]["median"]
        if large and self.bandwidth:
            bw = self.bandwidth[threads]
            rec["bw_fraction"] = bytes_moved(loss, op, *args) / res["closs"]["median"] / bw
        return rec


def row_cells(rec):
    med = {n: r["median"] for n, r in rec["results"].items()}
    return [rec["loss"], rec["op"], fmt_size(rec["size"]), str(rec["threads"]),
            fmt_time(med.get("closs")), fmt_time(med.get("torch")), fmt_time(med.get("numpy")),
            "-" if rec["speedup"] is None else f"{rec['speedup']:.2f}x",
            "" if rec["bw_fraction"] is None else f"{rec['bw_fraction']:.0%}"]


def run_cells(bench, cells, names=CONTENDERS):
    """Measures and prints each (loss, op, size, threads) cell; returns the records."""
    records = []
    for loss, op, size, threads in cells:
        rec = bench.cell(loss, op, size, threads, names)
        records.append(rec)
        print_row([w for _, w in MAIN_COLUMNS], row_cells(rec))
    return records


def summarise(records):
    compared = [r for r in records if r["speedup"] is not None]
    lost = [r for r in compared if r["speedup"] <= 1]
    print(f"\ncloss faster than torch in {len(compared) - len(lost)} of {len(compared)} cells")
    for r in lost:
        print(f"  slower: {r['loss']} {r['op']} size={fmt_size(r['size'])} threads={r['threads']}"
              f" ({r['speedup']:.2f}x)")


def main_table(bench, losses, opts):
    print_header(MAIN_COLUMNS, "\nmedian time per call, float32, reduction='mean'; "
                 "torch/closs > 1: closs faster;\nnumpy = numpy_forward (forward), float64 "
                 "reference (backward, fused); bw = (read + written bytes) / time / read bandwidth")
    cells = [(loss, op, size, t) for loss in losses
             for size in list(opts.sizes) + ([] if opts.quick else list(loss.bench_shapes))
             for op in opts.ops for t in opts.threads]
    records = run_cells(bench, cells)
    summarise(records)
    return records


def overhead_table(bench, losses, opts):
    """closs at 1e2 elements, 1 thread: the functional call split into argument
    normalisation (loss.prepare) and the kernel call (call.value())."""
    columns = (("loss", LOSS_WIDTH), ("functional", 12), ("prepare", 12), ("call.value", 12),
               ("< 2 us", 8))
    print_header(columns, "\ncall overhead at 1e2 elements, 1 thread: functional = prepare "
                 "(argument normalisation) + call.value() (kernel call)")
    closs.set_num_threads(1)
    records = []
    for loss in losses:
        args, options = bench.args(loss, 100)
        call = loss.prepare(*args, reduction="mean", **options)
        fns = {"functional": functools.partial(getattr(closs.functional, loss.name), *args,
                                               **options),
               "prepare": functools.partial(loss.prepare, *args, reduction="mean", **options),
               "call.value": call.value}
        res = measure(fns, opts.budget, opts.min_reps)
        med = {n: r["median"] for n, r in res.items()}
        ok = med["call.value"] < OVERHEAD_TARGET_S
        print_row([w for _, w in columns], [loss.key] + [fmt_time(t) for t in med.values()]
                  + ["yes" if ok else "NO"])
        records.append(dict(loss=loss.key, results=res))
    return records


def _spin(cpu):
    """The busy neighbour: a Python loop spinning on one core."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    while True:
        pass


@contextlib.contextmanager
def busy_neighbour():
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    proc = multiprocessing.Process(target=_spin, args=(cpus[-1] if cpus else None,), daemon=True)
    proc.start()
    time.sleep(0.2)  # let it start spinning
    try:
        yield
    finally:
        proc.terminate()
        proc.join()


def busy_table(bench, losses, opts):
    """2-thread cells at 1e5 elements, quiet and with a neighbour spinning on a core."""
    cells = [(loss, op, 10**5, 2) for loss in losses for op in opts.ops]
    names = ("closs", "torch")
    print_header(MAIN_COLUMNS, "\nquiet: 2 threads, 1e5 elements")
    quiet = run_cells(bench, cells, names)
    print_header(MAIN_COLUMNS, "\nbusy: the same cells, a Python process spinning on the last core")
    with busy_neighbour():
        busy = run_cells(bench, cells, names)
    summarise(busy)
    return dict(quiet=quiet, busy=busy)


def threshold_table(bench, losses, opts):
    """1 vs 2 threads for closs and torch at 2^12..2^22 elements (forward and fused)."""
    columns = (("loss", LOSS_WIDTH), ("op", 9), ("size", 9), ("closs 1t", 11), ("closs 2t", 11),
               ("1t/2t", 7), ("torch 1t", 11), ("torch 2t", 11), ("1t/2t", 7))
    print_header(columns, "\n1 vs 2 threads; 1t/2t > 1: the second thread pays. closs runs "
                 "serially below CLOSS_STREAM_PARALLEL_MIN")
    records = []
    for loss in losses:
        for size in THRESHOLD_SIZES:
            args = bench.args(loss, size)
            for op in [o for o in opts.ops if o in ("forward", "fused")]:
                fns, setups = {}, {}
                for t in THREADS:
                    for name in ("closs", "torch"):
                        fn = bench.contenders(loss, op, args, (name,)).get(name)
                        if fn is not None:
                            fns[f"{name} {t}t"] = fn
                            setups[f"{name} {t}t"] = functools.partial(set_threads, t, bench.torch)
                with bench.grad_mode(op):
                    res = measure(fns, opts.budget, opts.min_reps, setups)
                med = {n: r["median"] for n, r in res.items()}
                cells = [loss.key, op, str(size)]
                for name in ("closs", "torch"):
                    one, two = med.get(f"{name} 1t"), med.get(f"{name} 2t")
                    cells += [fmt_time(one), fmt_time(two), f"{one / two:.2f}" if one else "-"]
                print_row([w for _, w in columns], cells)
                records.append(dict(loss=loss.key, op=op, size=size, results=res))
    return records


# ------------------------------------------------------------ row-wise corners

# issue 19's row-wise cells: the embedding losses' fused call at (65536, 256), where
# the gradient pass should cost about the forward's memory traffic, and the forward
# of narrow rows (N * D = 1e7 elements, D = 2 and 4), where a row is a few elements.
ROWWISE_WIDE = ((65536, 256), ("triplet_margin_loss", "cosine_embedding_loss"),
                ("forward", "fused"))
ROWWISE_NARROW = (10**7, (2, 4), ("multi_margin_loss", "multilabel_margin_loss",
                                  "triplet_margin_loss", "cosine_embedding_loss"))


def rowwise_corners_table(bench, opts):
    """closs against torch, 1 thread, on the row-wise cells of issue 19 (medians);
    fused/fwd: closs's fused time over its forward time at the same shape."""
    shape, wide_losses, wide_ops = ROWWISE_WIDE
    size, widths, narrow_losses = ROWWISE_NARROW
    if opts.quick:
        shape, size = (4096, 256), 10**5
    cells = [(LOSSES[name], op, shape, 1) for name in wide_losses for op in wide_ops]
    cells += [(LOSSES[name], "forward", (size // d, d), 1) for d in widths
              for name in narrow_losses]
    print_header(MAIN_COLUMNS, "\nrow-wise corners (issue 19): median time per call, float32, "
                 "reduction='mean', 1 thread; torch/closs > 1: closs faster")
    records = run_cells(bench, cells, ("closs", "torch"))
    fwd = {(r["loss"], tuple(r["size"])): r["results"]["closs"]["median"]
           for r in records if r["op"] == "forward"}
    for r in records:
        if r["op"] == "fused" and (r["loss"], tuple(r["size"])) in fwd:
            ratio = r["results"]["closs"]["median"] / fwd[(r["loss"], tuple(r["size"]))]
            print(f"  {r['loss']} {fmt_size(tuple(r['size']))}: closs fused / forward = "
                  f"{ratio:.2f}")
    summarise(records)
    return records


def corners_table(bench, opts):
    """The CORNERS cells, closs against torch at 1 thread, and each closs time over the
    reference cell's closs time (the first row)."""
    ref_loss, ref_op, ref_size = CORNERS_REFERENCE
    cells = [(LOSSES[ref_loss], ref_op, ref_size, 1)]
    cells += [(LOSSES[key], op, size, 1) for key, ops, sizes in CORNERS
              for size in sizes for op in ops]
    columns = MAIN_COLUMNS[:6] + (("torch/closs", 12), ("/ref", 7))
    print_header(columns, f"\nslow corners, float32, reduction='mean', 1 thread; /ref = closs "
                 f"time / closs {ref_loss} {ref_op} at {fmt_size(ref_size)}")
    records, ref = [], None
    for loss, op, size, threads in cells:
        rec = bench.cell(loss, op, size, threads, ("closs", "torch"))
        records.append(rec)
        t = rec["results"]["closs"]["median"]
        ref = ref or t
        cells_ = row_cells(rec)
        print_row([w for _, w in columns], cells_[:6] + [cells_[7], f"{t / ref:.2f}x"])
    return records


# ------------------------------------------------------------ linear_cross_entropy

# (N, in_features, C): language-model heads, the logits (N, C) 131-524 MB of float32
LINEAR_SHAPES = ((2048, 256, 16000), (4096, 768, 32000), (512, 4096, 32000))
LINEAR_QUICK_SHAPES = ((256, 64, 2000),)
LINEAR_REPS = 3


def linear_problem(n, d, c, seed=0):
    """float32 input, linear weight and bias, class indices (a tenth ignored)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d), dtype=np.float32)
    w = rng.standard_normal((c, d), dtype=np.float32) * np.float32(d ** -0.5)
    b = rng.standard_normal(c, dtype=np.float32) * np.float32(0.1)
    t = rng.integers(0, c, n)
    t[::10] = -100
    return x, w, b, t


def linear_contenders(torch, x, w, b, t):
    """Fused value + the three gradients (input, weight, bias), each from scratch as a
    training step takes them: closs's value_and_grad (fresh gradient arrays), torch's
    reference path (options=None: linear, then cross_entropy) and its chunked path
    (options=LinearCrossEntropyOptions()), both through autograd; and closs into
    gradient buffers reused from call to call (out=), as a training loop would."""
    from closs.functional import _linear_cross_entropy_call

    out = tuple(np.zeros_like(a) for a in (x, w, b))
    fns = {"closs": lambda: _linear_cross_entropy_call(x, w, t, linear_bias=b).value_and_grad(),
           "closs out=": lambda: _linear_cross_entropy_call(
               x, w, t, linear_bias=b).value_and_grad(out=out)}
    if torch is not None:
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        tt = torch.tensor(t)

        def step(options):
            v = torch.nn.functional.linear_cross_entropy(tx, tw, tt, linear_bias=tb,
                                                         options=options)
            return torch.autograd.grad(v, (tx, tw, tb))

        fns["torch ref"] = lambda: step(None)
        fns["torch chunked"] = lambda: step(torch.nn.LinearCrossEntropyOptions())
    return fns


def gemm_floor(x, w, threads):
    """The three GEMMs of a fused call at full size (x W^T, G W, G^T x for a random G)
    into preallocated outputs, by the OpenBLAS closs links (scipy-openblas32's, called
    through ctypes) with its own threading on `threads` threads: the BLAS time any
    implementation of the three products pays, without closs's tiling."""
    import ctypes

    import scipy_openblas32

    lib = ctypes.CDLL(os.path.join(scipy_openblas32.get_lib_dir(),
                                   f"lib{scipy_openblas32.get_library()}.so"))
    sgemm = lib.scipy_cblas_sgemm
    sgemm.restype = None
    sgemm.argtypes = [ctypes.c_int] * 6 + [ctypes.c_float, ctypes.c_void_p, ctypes.c_int,
                                           ctypes.c_void_p, ctypes.c_int, ctypes.c_float,
                                           ctypes.c_void_p, ctypes.c_int]
    (n, d), c = x.shape, w.shape[0]
    g = np.random.default_rng(1).standard_normal((n, c), dtype=np.float32)
    logits, gx, gw = np.empty_like(g), np.empty_like(x), np.empty_like(w)
    row, no, tr = 101, 111, 112  # CblasRowMajor, CblasNoTrans, CblasTrans

    def run():
        lib.scipy_openblas_set_num_threads(threads)
        sgemm(row, no, tr, n, c, d, 1.0, x.ctypes.data, d, w.ctypes.data, d, 0.0,
              logits.ctypes.data, c)
        sgemm(row, no, no, n, d, c, 1.0, g.ctypes.data, c, w.ctypes.data, d, 0.0,
              gx.ctypes.data, d)
        sgemm(row, tr, no, c, d, n, 1.0, g.ctypes.data, c, x.ctypes.data, d, 0.0,
              gw.ctypes.data, d)
        lib.scipy_openblas_set_num_threads(1)  # as closs leaves it

    return run


def linear_peak(contender, n, d, c):
    """Peak resident memory growth (bytes) of one call of `contender`, in a fresh
    process, after the problem's arrays exist: the kernel's peak-RSS mark (VmHWM) is
    reset (/proc/self/clear_refs) before the call, so the setup's own transients do
    not hide it; C's malloc and torch's allocator are both seen."""
    import subprocess

    code = (f"import re, bench; from bench import *; torch = import_torch(False); "
            f"fns = linear_contenders(torch, *linear_problem({n}, {d}, {c})); "
            f"status = lambda k: int(re.search(k + r':\\s+(\\d+)', "
            f"open('/proc/self/status').read()).group(1)); "
            f"open('/proc/self/clear_refs', 'w').write('5'); before = status('VmRSS'); "
            f"fns[{contender!r}](); print(status('VmHWM') - before)")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, check=True,
                         capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    return int(out.stdout.split()[-1]) * 1024


def linear_table(torch, opts):
    """closs vs torch's two paths at LINEAR_SHAPES, float32, 1 and 2 threads: medians
    of LINEAR_REPS interleaved rounds (rotating order) after a warm-up call; the GEMM
    floor and its share of closs's time; peak memory growth of one call beside."""
    columns = (("N, in, C", 18), ("thr", 4), ("closs", 12), ("closs out=", 12), ("torch ref", 12),
               ("torch chunked", 14), ("speedup", 8), ("GEMMs", 12), ("GEMM share", 11),
               ("peak MB closs / ref / chunked", 30))
    print_header(columns, "\nlinear_cross_entropy, fused value + 3 gradients, float32; speedup: "
                 "torch's better path / closs;\nGEMMs: the three products by closs's OpenBLAS alone (the "
                 "floor), GEMM share: their time over closs's; closs out=: gradients into reused buffers")
    shapes = LINEAR_QUICK_SHAPES if opts.quick else LINEAR_SHAPES
    records = []
    for n, d, c in shapes:
        x, w, b, t = linear_problem(n, d, c)
        fns = linear_contenders(torch, x, w, b, t)
        peaks = {name: linear_peak(name, n, d, c) for name in fns if name != "closs out="}
        for threads in opts.threads:
            set_threads(threads, torch)
            cells = dict(fns, GEMMs=gemm_floor(x, w, threads))
            samples = {name: [] for name in cells}
            for fn in cells.values():
                fn()  # warm-up
            for rnd in range(LINEAR_REPS):
                names = list(cells)[rnd % len(cells):] + list(cells)[:rnd % len(cells)]
                for name in names:
                    t0 = time.perf_counter()
                    cells[name]()
                    samples[name].append(time.perf_counter() - t0)
            med = {name: float(np.median(v)) for name, v in samples.items()}
            torch_best = min((med[k] for k in ("torch ref", "torch chunked") if k in med),
                             default=None)
            mb = " / ".join(f"{peaks[k] / 2**20:.0f}" for k in fns if k != "closs out=")
            print_row([wd for _, wd in columns],
                      [f"{n}, {d}, {c}", str(threads), fmt_time(med["closs"]),
                       fmt_time(med["closs out="]),
                       fmt_time(med.get("torch ref")), fmt_time(med.get("torch chunked")),
                       f"{torch_best / med['closs']:.2f}" if torch_best else "-",
                       fmt_time(med["GEMMs"]), f"{med['GEMMs'] / med['closs']:.0%}", mb])
            records.append(dict(shape=(n, d, c), threads=threads, median_s=med,
                                peak_bytes=peaks))
    return records


# ------------------------------------------------------------------ gbdt


def _np_sigmoid(p):
    return 1 / (1 + np.exp(-p))


def _np_softmax(p):
    e = np.exp(p - p.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _np_onehot(y, c):
    return np.eye(c, dtype=np.float32)[y]


# (name, closs Module, the NumPy objective a user writes (pred, label) -> (grad, hess),
#  torch loss of (input, target) for double backward or None (a Hessian that is not
#  diagonal: its diagonal takes one Hessian-vector product per class), classes,
#  label maker (rng, prediction shape))
GBDT_CLASSES = 10
GBDT_OBJECTIVES = (
    ("squared", lambda: closs.nn.MSELoss(), lambda p, y: (2 * (p - y), np.full_like(p, 2)),
     lambda F: F.mse_loss, 1, lambda rng, s: rng.standard_normal(s, np.float32)),
    ("huber", lambda: closs.nn.HuberLoss(delta=1.0),
     lambda p, y: (np.clip(p - y, -1, 1), (np.abs(p - y) < 1).astype(p.dtype)),
     lambda F: F.huber_loss, 1, lambda rng, s: 2 * rng.standard_normal(s, np.float32)),
    ("logistic", lambda: closs.nn.BCEWithLogitsLoss(),
     lambda p, y: (lambda s: (s - y, s * (1 - s)))(_np_sigmoid(p)),
     lambda F: F.binary_cross_entropy_with_logits, 1,
     lambda rng, s: (rng.random(s) < 0.5).astype(np.float32)),
    ("poisson", lambda: closs.nn.PoissonNLLLoss(),
     lambda p, y: (lambda e: (e - y, e))(np.exp(p)),
     lambda F: F.poisson_nll_loss, 1, lambda rng, s: rng.poisson(1.0, s).astype(np.float32)),
    ("softmax", lambda: closs.nn.CrossEntropyLoss(),
     lambda p, y: (lambda q: (q - _np_onehot(y, p.shape[1]), q * (1 - q)))(_np_softmax(p)),
     None, GBDT_CLASSES, lambda rng, s: rng.integers(0, s[1], s[0])),
)


def torch_grad_hess(torch, loss_of, p, y):
    """torch's gradient and Hessian diagonal of an element-wise loss's 'sum' by double
    backward: the gradient with create_graph, then the gradient of its sum (the
    Hessian is diagonal, so that is its diagonal)."""
    import torch.nn.functional as F

    fn = loss_of(F)
    tp, ty = torch.from_numpy(p), torch.from_numpy(y)

    def run():
        x = tp.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(fn(x, ty, reduction="sum"), x, create_graph=True)
        (h,) = torch.autograd.grad(g.sum(), x)
        return g.detach(), h

    return run


def gbdt_table(bench, opts):
    """grad_hess against the NumPy objective and torch's double backward, then the
    share of an XGBoost training spent in its objective with closs and with NumPy."""
    torch = bench.torch
    columns = (("objective", 10), ("size", 6), ("thr", 4), ("closs", 11), ("numpy", 11),
               ("torch 2x bw", 12), ("numpy/closs", 12), ("torch/closs", 12))
    print_header(columns, "\ngrad_hess (gradient + Hessian diagonal of the 'sum', float32, "
                 "into buffers) against a NumPy objective and torch's double backward")
    sizes = [10**4, 10**5] if opts.quick else list(GBDT_SIZES)
    records = []
    for name, module, np_obj, loss_of, c, label in GBDT_OBJECTIVES:
        for size in sizes:
            rng = np.random.default_rng(0)
            shape = (size // c, c) if c > 1 else (size,)
            p = rng.standard_normal(shape, np.float32)
            y = label(rng, shape)
            m, g, h = module(), np.empty_like(p), np.empty_like(p)
            fns = {"closs": functools.partial(m.grad_hess, p, y, out=(g, h)),
                   "numpy": functools.partial(np_obj, p, y)}
            if torch is not None and loss_of is not None:
                fns["torch"] = torch_grad_hess(torch, loss_of, p, y)
            for t in opts.threads:
                set_threads(t, torch)
                res = measure(dict(fns), opts.budget, opts.min_reps)
                med = {k: r["median"] for k, r in res.items()}
                ratio = lambda k: f"{med[k] / med['closs']:.1f}x" if k in med else "-"  # noqa: E731
                print_row([w for _, w in columns],
                          [name, fmt_size(size), str(t), fmt_time(med["closs"]),
                           fmt_time(med["numpy"]), fmt_time(med.get("torch")), ratio("numpy"),
                           ratio("torch")])
                records.append(dict(objective=name, size=size, threads=t, results=res))
    return dict(grad_hess=records, xgboost=xgboost_share(opts))


def xgboost_share(opts):
    """A 100-round XGBoost training (hist, depth 6) on 1e5 x 20, objective from closs
    or from NumPy: total time and the share spent in the objective."""
    try:
        import xgboost as xgb
    except ImportError:
        print("\nxgboost is not installed: no training share")
        return None
    import closs.gbdt

    rows, rounds = (10**4, 10) if opts.quick else (10**5, 100)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 20), np.float32)
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(rows) > 0).astype(np.float32)
    dtrain = xgb.DMatrix(X, label=y)
    hand = dict((o[0], o[2]) for o in GBDT_OBJECTIVES)["logistic"]

    def numpy_objective(p, d):  # as the adapter: labels and (here absent) weights read
        g, h = hand(p, d.get_label())
        w = d.get_weight()
        return (g * w, h * w) if w.size else (g, h)

    objectives = {"closs": closs.gbdt.xgboost_objective(closs.nn.BCEWithLogitsLoss()),
                  "numpy": numpy_objective}
    columns = (("objective", 10), ("thr", 4), ("train", 11), ("in objective", 13), ("share", 7))
    print_header(columns, f"\nXGBoost, binary logistic, {rounds} rounds on {rows} x 20 "
                 "(hist, depth 6): time in the custom objective")
    records = []
    for t in opts.threads:
        closs.set_num_threads(t)
        for name, obj in objectives.items():
            spent = [0.0]

            def timed(p, d, obj=obj, spent=spent):
                t0 = time.perf_counter()
                r = obj(p, d)
                spent[0] += time.perf_counter() - t0
                return r

            params = {"tree_method": "hist", "max_depth": 6, "eta": 0.1, "nthread": t,
                      "base_score": 0.0, "disable_default_eval_metric": 1}
            t0 = time.perf_counter()
            xgb.train(params, dtrain, num_boost_round=rounds, obj=timed)
            total = time.perf_counter() - t0
            print_row([w for _, w in columns], [name, str(t), fmt_time(total),
                                                fmt_time(spent[0]), f"{spent[0] / total:.0%}"])
            records.append(dict(objective=name, threads=t, train_s=total, objective_s=spent[0]))
    return records


# ------------------------------------------------------------------ wrt


# The losses of the wrt table: every loss with a float target, with the arguments
# of its registry entry (labels as floats where the loss takes them).
WRT_LOSSES = ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
              "binary_cross_entropy_with_logits", "soft_margin_loss", "kl_div",
              "poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss")
WRT_SIZE = 10**7


def wrt_table(bench, opts):
    """The fused call with every gradient (wrt="all": the input's, the target's and
    gaussian_nll_loss's var's) against the input-only fused call, into out= buffers,
    float32, 1e7 elements, torch's forward + autograd.grad of the same arguments
    beside them; the issue's bar: wrt="all" at most 1.3x the input-only call."""
    torch = bench.torch
    size = 10**5 if opts.quick else WRT_SIZE
    columns = (("loss", 34), ("thr", 4), ("input only", 11), ('wrt="all"', 11), ("ratio", 7),
               ("torch all", 11), ("torch/closs", 12))
    print_header(columns, f"\nfused value and gradients, float32, {size:.0e} elements, "
                 'into out= buffers: wrt="all" against the input\'s gradient alone')
    records = []
    for name in WRT_LOSSES:
        loss = LOSSES[name]
        rng = np.random.default_rng(0)
        args = list(loss.make_args(rng, loss.shape_for(size), np.float32))
        if name == "gaussian_nll_loss":  # var an array: its gradient too
            args.append(rng.uniform(0.5, 2.0, args[0].shape).astype(np.float32))
        module = loss.module()
        call = loss.prepare(*args, reduction="mean")
        names = [g.name for g in call.grads]
        bufs = tuple(np.empty(g.shape, np.float32) for g in call.grads)
        default = [g for g in call.grads if g.default]
        one = bufs[0] if len(default) == 1 else bufs[:len(default)]
        fns = {"input": functools.partial(module.value_and_grad, *args, out=one),
               "all": functools.partial(module.value_and_grad, *args, out=bufs, wrt="all")}
        if torch is not None:
            targs = [torch.from_numpy(a) for a in args]
            fn = getattr(torch.nn.functional, name)
            arg_names = list(inspect.signature(loss.prepare).parameters)[:len(args)]
            positions = [i for i, a in enumerate(arg_names)  # torch: not soft_margin's target
                         if a in names and (name, a) != ("soft_margin_loss", "target")]

            def torch_all(fn=fn, targs=targs, positions=positions):
                xs = [t.detach().requires_grad_(i in positions) for i, t in enumerate(targs)]
                return torch.autograd.grad(fn(*xs), [xs[i] for i in positions])

            fns["torch"] = torch_all
        for t in opts.threads:
            set_threads(t, torch)
            res = measure(dict(fns), opts.budget, opts.min_reps)
            med = {k: r["median"] for k, r in res.items()}
            print_row([w for _, w in columns],
                      [name, str(t), fmt_time(med["input"]), fmt_time(med["all"]),
                       f"{med['all'] / med['input']:.2f}x", fmt_time(med.get("torch")),
                       f"{med['torch'] / med['all']:.1f}x" if "torch" in med else "-"])
            records.append(dict(loss=name, threads=t, size=size, wrt=names, results=res))
    return records


# ------------------------------------------------------------------------ main


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    csv = lambda conv: lambda s: [conv(v) for v in s.split(",") if v]  # noqa: E731
    p.add_argument("--losses", type=csv(str), default=None, help="comma list (default: all)")
    p.add_argument("--sizes", type=csv(lambda v: int(float(v))), default=None,
                   help="element counts, e.g. 1e2,1e5,1e7")
    p.add_argument("--threads", type=csv(int), default=list(THREADS))
    p.add_argument("--ops", type=csv(str), default=list(OPS))
    p.add_argument("--budget", type=float, default=None,
                   help="seconds per contender per cell (default 0.3; --quick 0.01)")
    p.add_argument("--quick", action="store_true", help="small budget and sizes: a CI smoke run")
    p.add_argument("--no-torch", action="store_true", help="leave torch out")
    p.add_argument("--no-numpy", action="store_true",
                   help="leave NumPy out (its float64 references take seconds a call at "
                        "ctc_loss's large shapes)")
    p.add_argument("--busy", action="store_true", help="only the busy-neighbour scenario")
    p.add_argument("--threshold", action="store_true", help="only the 1 vs 2 thread sweep")
    p.add_argument("--linear", action="store_true",
                   help="only linear_cross_entropy at language-model-head shapes")
    p.add_argument("--gbdt", action="store_true",
                   help="only grad_hess (vs NumPy and torch's double backward, 1e6 and 1e7) "
                        "and the objective's share of an XGBoost training")
    p.add_argument("--wrt", action="store_true",
                   help='only the fused call with wrt="all" against the input-only one (1e7)')
    p.add_argument("--rowwise-corners", action="store_true",
                   help="only issue 19's row-wise cells: triplet and cosine at (65536, 256), "
                        "narrow rows (D = 2, 4) at 1e7 elements; closs vs torch, 1 thread")
    p.add_argument("--corners", action="store_true",
                   help="only the slow corners (CORNERS: cross_entropy and nll_loss with few "
                        "classes at 1e7 elements) against torch and mse_loss's fused time")
    p.add_argument("--json", default=str(Path(__file__).with_name("results.json")),
                   help="where to save the results (default benchmarks/results.json)")
    opts = p.parse_args(argv)
    opts.budget = opts.budget if opts.budget is not None else 0.01 if opts.quick else 0.3
    opts.min_reps = 3 if opts.quick else CORNERS_MIN_REPS if opts.corners else MIN_REPS
    opts.sizes = opts.sizes or ([10**2, 10**4, 10**6] if opts.quick else list(SIZES))
    unknown = set(opts.ops) - set(OPS) | set(opts.losses or ()) - set(LOSSES)
    if unknown:
        p.error(f"unknown ops or losses: {', '.join(sorted(unknown))}")
    return opts


def import_torch(disabled):
    if disabled:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def main(argv=None):
    opts = parse_args(argv)
    torch = import_torch(opts.no_torch)
    losses = [LOSSES[n] for n in opts.losses] if opts.losses else list(LOSSES.values())
    if opts.threshold and not opts.losses:
        losses = [LOSSES["mse_loss"]]
    machine = dict(platform=platform.platform(), cpus=os.cpu_count(),
                   python=platform.python_version(), numpy=np.__version__,
                   closs=closs.__version__, closs_build=closs.build_info(),
                   torch=torch.__version__ if torch else None)
    print(f"closs {closs.__version__} ({closs.build_info()}); numpy {np.__version__}; "
          f"torch {machine['torch'] or 'not used'}; {machine['cpus']} cpus")
    start = time.perf_counter()
    report = dict(machine=machine, options=dict(vars(opts)))
    bandwidth = None
    if not (opts.busy or opts.threshold or opts.linear or opts.gbdt or opts.wrt
            or opts.rowwise_corners or opts.corners) and any(
            s >= BW_MIN_SIZE for s in opts.sizes):
        nbytes = BW_BYTES // 4 if opts.quick else BW_BYTES
        bandwidth = {t: stream_bandwidth(t, nbytes, BW_REPS) for t in opts.threads}
        print(f"read bandwidth (np.maximum.reduce, {nbytes >> 20} MB): " + ", ".join(
            f"{t} thread{'s' * (t > 1)} {bw / 1e9:.1f} GB/s" for t, bw in bandwidth.items()))
        report["bandwidth_bytes_per_s"] = bandwidth
    bench = Bench(opts, torch, bandwidth)
    if opts.busy:
        report["busy"] = busy_table(bench, losses, opts)
    elif opts.threshold:
        report["threshold"] = threshold_table(bench, losses, opts)
    elif opts.linear:
        report["linear"] = linear_table(torch, opts)
    elif opts.gbdt:
        report["gbdt"] = gbdt_table(bench, opts)
    elif opts.wrt:
        report["wrt"] = wrt_table(bench, opts)
    elif opts.rowwise_corners:
        report["rowwise_corners"] = rowwise_corners_table(bench, opts)
    elif opts.corners:
        report["corners"] = corners_table(bench, opts)
    else:
        report["cells"] = main_table(bench, losses, opts)
        if 100 in opts.sizes:
            report["overhead"] = overhead_table(bench, losses, opts)
    report["seconds"] = time.perf_counter() - start
    print(f"\n{report['seconds']:.0f} s; results saved to {opts.json}")
    Path(opts.json).write_text(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
