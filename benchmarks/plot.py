"""A picture of a bench.py results file: torch's time over closs's per loss.

    python benchmarks/plot.py [RESULTS.json] [-o docs/benchmarks.png] [--threads 1]

One panel per op (forward, backward, fused), one bar per loss and element-count
size, on a log scale; right of the line at 1, closs is faster. Needs matplotlib
(not a dependency of closs: `pip install matplotlib`).
"""

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import fmt_size  # noqa: E402


def speedups(report, threads):
    """{op: {loss: {size: torch/closs}}} of the element-count cells on `threads` threads."""
    table = defaultdict(lambda: defaultdict(dict))
    for rec in report["cells"]:
        if rec["threads"] == threads and rec["speedup"] is not None \
                and not isinstance(rec["size"], list):
            table[rec["op"]][rec["loss"]][rec["size"]] = rec["speedup"]
    return table


def plot(report, threads, out):
    try:
        import matplotlib
    except ImportError:
        sys.exit("matplotlib is not installed (pip install matplotlib): no plot made")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = speedups(report, threads)
    if not table:
        sys.exit(f"no cells with a torch time on {threads} thread(s) in the results")
    ops = [op for op in ("forward", "backward", "fused") if op in table]
    losses = list(dict.fromkeys(loss for op in ops for loss in table[op]))
    sizes = sorted({s for op in ops for loss in table[op] for s in table[op][loss]})
    fig, axes = plt.subplots(1, len(ops), figsize=(4.2 * len(ops), 0.32 * len(losses) + 1.6),
                             sharey=True, squeeze=False)
    height = 0.8 / len(sizes)
    for ax, op in zip(axes[0], ops):
        for k, size in enumerate(sizes):
            ys = [i + (k - (len(sizes) - 1) / 2) * height for i in range(len(losses))]
            xs = [table[op][loss].get(size, float("nan")) for loss in losses]
            ax.barh(ys, xs, height=height, label=f"{fmt_size(size)} elements")
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_title(op)
        ax.set_xlabel("torch time / closs time")
        ax.grid(axis="x", which="both", alpha=0.3)
    axes[0][0].set_yticks(range(len(losses)), losses)
    axes[0][0].invert_yaxis()
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(sizes), fontsize="small")
    m = report.get("machine", {})
    fig.suptitle(f"closs {m.get('closs', '?')} vs torch {m.get('torch', '?')}, float32, "
                 f"{threads} thread(s); right of 1: closs faster", fontsize="medium")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="?", default=str(Path(__file__).with_name("results.json")))
    p.add_argument("-o", "--output", default="benchmarks.png", help="the PNG to write")
    p.add_argument("--threads", type=int, default=1, help="which thread count to show")
    opts = p.parse_args(argv)
    plot(json.loads(Path(opts.results).read_text()), opts.threads, opts.output)


if __name__ == "__main__":
    main()
