"""The crash-safe property fuzz of every functional and Module entry point: one
subprocess per registry entry runs tests/fuzz_worker.py (hypothesis, derandomized),
so a segfault or abort fails that entry's test with its output and the falsifying
example instead of taking pytest down. What is asserted: see fuzz_worker.py."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from closs._registry import LOSSES

pytest.importorskip("hypothesis")

WORKER = Path(__file__).with_name("fuzz_worker.py")
# ~22 entries x EXAMPLES examples in about 2 minutes on 2 cores; CLOSS_FUZZ_EXAMPLES
# runs a longer fuzz locally.
EXAMPLES = int(os.environ.get("CLOSS_FUZZ_EXAMPLES", "100"))
TIMEOUT_S = 240


@pytest.mark.parametrize("key", sorted(LOSSES))
def test_fuzz(key):
    try:
        proc = subprocess.run([sys.executable, str(WORKER), key, str(EXAMPLES)],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the fuzz of {key} ran past {TIMEOUT_S} s:\n{e.stdout}\n{e.stderr}")
    output = f"{proc.stdout}\n{proc.stderr}"
    if proc.returncode < 0:
        pytest.fail(f"the fuzz of {key} crashed with signal {-proc.returncode}:\n{output}")
    assert proc.returncode == 0, f"the fuzz of {key} failed:\n{output}"
    assert f"{key}: {EXAMPLES} examples passed" in proc.stdout, output
