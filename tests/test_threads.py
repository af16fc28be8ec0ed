"""8 Python threads calling mixed losses at once (forward, backward, value_and_grad;
small calls and calls of more than 2^20 elements, where the OpenMP team runs) give
bit for bit the results computed serially first: no shared state between calls,
the GIL released around kernels that do not race."""

import threading

import numpy as np
import pytest

from closs._registry import LOSSES, materialise

THREADS, ROUNDS = 8, 3
LARGE = 1 << 21  # elements, above every parallel threshold
LARGE_KEYS = ("mse_loss", "binary_cross_entropy_with_logits", "kl_div", "cross_entropy",
              "nll_loss", "multi_margin_loss", "triplet_margin_loss", "ctc_loss")


def jobs():
    """(name, thunk) for every registry entry at a small shape and the LARGE_KEYS
    entries at about LARGE elements, each as forward, backward and value_and_grad."""
    out = []
    specs = [(key, (6, 7), np.float64) for key in LOSSES]
    specs += [(key, LOSSES[key].shape_for(LARGE), np.float32) for key in LARGE_KEYS]
    for seed, (key, shape, dtype) in enumerate(specs):
        loss = LOSSES[key]
        rng = np.random.default_rng(seed)
        args = loss.make_args(rng, shape, dtype)
        opts = materialise(loss, loss.grid[-1], rng, shape, dtype)
        mopts = {k: opts[k] for k in loss.module_options if k in opts}
        fwd = {k: opts[k] for k in loss.forward_options if k in opts}
        reduction = loss.reductions[seed % len(loss.reductions)]

        def forward(loss=loss, args=args, mopts=mopts, fwd=fwd, reduction=reduction):
            return (loss.module(reduction=reduction, **mopts)(*args, **fwd),)

        def backward(loss=loss, args=args, mopts=mopts, fwd=fwd, reduction=reduction):
            m = loss.module(reduction=reduction, **mopts)
            v = m(*args, **fwd)
            g = m.backward()
            return (v,) + (g if isinstance(g, tuple) else (g,))

        def fused(loss=loss, args=args, mopts=mopts, fwd=fwd, reduction=reduction):
            v, g = loss.module(reduction=reduction, **mopts).value_and_grad(*args, **fwd)
            return (v,) + (g if isinstance(g, tuple) else (g,))

        for op, fn in (("forward", forward), ("backward", backward), ("fused", fused)):
            out.append((f"{key}{list(shape)}-{op}", fn))
    return out


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_threads_match_serial():
    work = jobs()
    expected = [fn() for _, fn in work]
    barrier = threading.Barrier(THREADS)
    mismatches, errors = [], []

    def worker(k):
        try:
            barrier.wait()
            order = np.random.default_rng(k).permutation(len(work))  # each thread its own mix
            for _ in range(ROUNDS):
                for i in order:
                    name, fn = work[i]
                    got = fn()
                    for a, b in zip(got, expected[i]):
                        a, b = np.asarray(a), np.asarray(b)
                        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
                            mismatches.append(f"thread {k}: {name}")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"thread {k}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert not mismatches, sorted(set(mismatches))[:20]
    assert any(np.asarray(e[0]).size * 0 == 0 for e in expected)  # the jobs ran
    big = [name for name, _ in work if any(str(d) in name for d in (LARGE,))]
    assert len(work) == 3 * (len(LOSSES) + len(LARGE_KEYS)), big
