"""The README's benchmark tables from a bench.py results file.

    python benchmarks/markdown.py [benchmarks/results.json]

Prints two Markdown tables of torch/closs speed-ups (above 1: closs faster),
"1 thread / 2 threads" per cell: the element-count sizes (1e2, 1e5, 1e7, with
the 1-thread bandwidth fraction at 1e7), then the issues' shapes; and the list
of cells where closs was not faster.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import fmt_size  # noqa: E402


def key(size):
    return tuple(size) if isinstance(size, list) else size


def main(path):
    report = json.loads(Path(path).read_text())
    cells = defaultdict(dict)  # (loss, op) -> {(size, threads): record}
    for rec in report["cells"]:
        cells[rec["loss"], rec["op"]][key(rec["size"]), rec["threads"]] = rec
    counts = sorted({k for recs in cells.values() for k, _ in recs if not isinstance(k, tuple)})
    threads = sorted({t for recs in cells.values() for _, t in recs})

    def ratio(rec):
        return "-" if rec is None or rec["speedup"] is None else f"{rec['speedup']:.2f}"

    def pair(recs, size):
        return " / ".join(ratio(recs.get((size, t))) for t in threads)

    head = " / ".join(f"{t}t" for t in threads)
    print("| loss | op | " + " | ".join(f"{fmt_size(s)} ({head})" for s in counts)
          + " | bw at 1e7 (1 thread) |")
    print("|---" * (len(counts) + 3) + "|")
    for (loss, op), recs in cells.items():
        bw = recs.get((10**7, threads[0]), {}).get("bw_fraction")
        print(f"| {loss} | {op} | " + " | ".join(pair(recs, s) for s in counts)
              + f" | {'' if bw is None else f'{bw:.0%}'} |")
    print(f"\n| loss | shape | op | {head} |\n|---|---|---|---|")
    for (loss, op), recs in cells.items():
        for size in dict.fromkeys(s for s, _ in recs if isinstance(s, tuple)):
            print(f"| {loss} | {fmt_size(size)} | {op} | {pair(recs, size)} |")
    compared = [r for r in report["cells"] if r["speedup"] is not None]
    lost = [r for r in compared if r["speedup"] <= 1]
    print(f"\ncloss faster than torch in {len(compared) - len(lost)} of {len(compared)} cells")
    for r in lost:
        print(f"- {r['loss']} {r['op']} {fmt_size(key(r['size']))}, {r['threads']} thread(s): "
              f"{r['speedup']:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("results.json"))
