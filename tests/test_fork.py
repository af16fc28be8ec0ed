"""Fork safety: a process started after closs ran its OpenMP team computes, promptly,
what the parent computes, bit for bit (GNU libgomp's thread pool does not survive
fork; closs releases it in a pthread_atfork handler, see src/closs/parallel.c).

Every scenario runs as a script in a fresh interpreter, so that whether the parent
used a team is known and a hang is a failure: the script's process group is killed
at the timeout, its children with it.
"""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

import closs

HAS_OPENMP = "no OpenMP" not in closs.build_info()

if not hasattr(os, "fork"):
    pytest.skip("no fork on this platform", allow_module_level=True)

TIMEOUT = 45  # a whole script; each takes one to a few seconds

# The script's shared part: data of 2^22 elements (the team is used from 2^20),
# a few losses and one gradient, summarised as the bytes of each result.
PRELUDE = """
import hashlib, multiprocessing as mp, sys
import numpy as np
import closs, closs.functional as F

N = 1 << 22

def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=N).astype(np.float32)
    y = rng.normal(size=N).astype(np.float32)
    return x, y, (y > 0).astype(np.float32)

LOSSES = {
    "mse": lambda x, y, t: F.mse_loss(x, y),
    "l1_sum": lambda x, y, t: F.l1_loss(x, y, reduction="sum"),
    "huber": lambda x, y, t: F.huber_loss(x, y, delta=0.5),
    "bce_logits": lambda x, y, t: F.binary_cross_entropy_with_logits(x, t),
    "mse_grad": lambda x, y, t: closs.nn.MSELoss().value_and_grad(x, y)[1],
}

def bits(v):
    return hashlib.sha256(np.asarray(v).tobytes()).hexdigest()

def one(name, arrays=None):
    return bits(LOSSES[name](*(arrays or data())))

def all_losses():
    arrays = data()
    return {name: one(name, arrays) for name in LOSSES}

def child(queue):
    queue.put((closs.get_num_threads(), all_losses()))

def in_child(method):
    ctx = mp.get_context(method)
    queue = ctx.Queue()
    p = ctx.Process(target=child, args=(queue,), daemon=True)
    p.start()
    try:
        threads, got = queue.get(timeout=20)
        p.join(20)
    finally:
        p.kill()  # a hung child must not hold the script at exit
    assert p.exitcode == 0, (method, p.exitcode)
    return threads, got
"""


def run_script(tmp_path, body, timeout=TIMEOUT, env=None):
    """Runs PRELUDE + body as __main__ of a file (spawn children re-import it);
    returns its stdout, failing with its output if it fails or hangs."""
    script = tmp_path / "scenario.py"
    script.write_text(PRELUDE + "\nif __name__ == '__main__':\n" + textwrap.indent(
        textwrap.dedent(body), "    "))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"hung for {timeout} s\nstdout:\n{out}\nstderr:\n{err}")
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{out}\nstderr:\n{err}"
    return out


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_child_after_parent_used_its_team(tmp_path, method):
    out = run_script(tmp_path, f"""
        closs.set_num_threads(2)
        parent = all_losses()          # the parent's team now exists
        threads, got = in_child({method!r})
        assert got == parent, (got, parent)
        assert all_losses() == parent  # and the parent's team works after the fork
        print("child threads", threads)
    """)
    # A forked child keeps the parent's setting; a fresh interpreter has the default.
    if method == "fork" and HAS_OPENMP:
        assert "child threads 2" in out


def test_fork_when_the_parent_never_used_a_team(tmp_path):
    run_script(tmp_path, """
        closs.set_num_threads(2)
        arrays = data()
        small = [a[:1000] for a in arrays]
        parent_small = {name: one(name, small) for name in LOSSES}  # serial sizes only
        threads, got = in_child("fork")
        assert got == all_losses()
        ctx = mp.get_context("fork")
        with ctx.Pool(1) as pool:
            assert pool.apply_async(one, ("mse", small)).get(20) == parent_small["mse"]
    """)


def test_process_pool_executor_map(tmp_path):
    run_script(tmp_path, """
        from concurrent.futures import ProcessPoolExecutor
        closs.set_num_threads(2)
        parent = all_losses()
        names = list(LOSSES) * 2
        with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
            got = list(ex.map(one, names, timeout=20))
        assert got == [parent[n] for n in names]
    """)


def test_fork_while_another_thread_is_inside_a_kernel(tmp_path):
    run_script(tmp_path, """
        import threading
        closs.set_num_threads(2)
        arrays = data()
        parent = one("mse", arrays)    # the main thread's team exists too
        stop = threading.Event()
        seen = []
        def background():
            while not stop.is_set():
                seen.append(one("bce_logits", arrays))
        t = threading.Thread(target=background)
        t.start()
        try:
            ctx = mp.get_context("fork")
            for _ in range(4):
                with ctx.Pool(1) as pool:
                    assert pool.apply_async(one, ("mse",)).get(20) == parent
        finally:
            stop.set()
            t.join()
        assert len(set(seen)) == 1 and seen[0] == one("bce_logits", arrays)
    """)


def test_fork_with_torch_loaded_and_used(tmp_path):
    """torch ships its own libgomp copy; with torch's pool and closs's both used
    in the parent, a forked child runs closs."""
    pytest.importorskip("torch")
    run_script(tmp_path, """
        import torch
        torch.set_num_threads(2)
        x, y, t = data()
        expected = float(torch.nn.functional.mse_loss(torch.from_numpy(x), torch.from_numpy(y)))
        closs.set_num_threads(2)
        parent = all_losses()
        threads, got = in_child("fork")
        assert got == parent
        assert abs(float(F.mse_loss(x, y)) - expected) <= 1e-5 * expected
    """)


def test_fork_under_threadpool_limits(tmp_path):
    """threadpoolctl sets libgomp's thread count, which closs follows while
    set_num_threads was not called; forked children keep working."""
    pytest.importorskip("threadpoolctl")
    if not HAS_OPENMP:
        pytest.skip("no OpenMP in this build")
    run_script(tmp_path, """
        from threadpoolctl import threadpool_info, threadpool_limits
        assert any(i["user_api"] == "openmp" for i in threadpool_info())
        with threadpool_limits(limits=2, user_api="openmp"):
            assert closs.get_num_threads() == 2
            parent = all_losses()
            threads, got = in_child("fork")
            assert threads == 2 and got == parent
        with threadpool_limits(limits=1, user_api="openmp"):
            assert closs.get_num_threads() == 1
            threads, got = in_child("fork")
            assert threads == 1 and got == parent
    """)


