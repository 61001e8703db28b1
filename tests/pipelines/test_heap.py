"""glibc's heap while a network trains (``pipelines/heap.py``): large blocks from the heap, so a
freed one serves the next step instead of being unmapped and faulted in again. Checked where the
block lives: inside the ``[heap]`` mapping with the training policy, a mapping of its own
without it. Each case in its own interpreter (the policy is process-wide)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = r"""
import sys
import numpy as np
from convlab.pipelines import heap
applied = heap.reuse_freed_blocks() if sys.argv[1] == "training" else None
first = np.ones(80 << 18, np.float32)          # 80 MB, touched
where = first.ctypes.data
heap_ranges = [tuple(int(v, 16) for v in line.split()[0].split("-"))
               for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]")]
del first
again = np.ones(80 << 18, np.float32)
print(applied, any(lo <= where < hi for lo, hi in heap_ranges), again.ctypes.data == where)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
@pytest.mark.parametrize("policy, expect", [("training", "True True True"),
                                            ("default", "None False")])
def test_training_policy_serves_large_arrays_from_the_heap_and_reuses_them(policy, expect):
    out = subprocess.run([sys.executable, "-c", PROBE, policy], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    assert " ".join(out[:len(expect.split())]) == expect


def test_thresholds_refused_off_glibc_say_false(monkeypatch):
    from convlab.pipelines import heap

    monkeypatch.setattr(heap, "_libc", lambda: None)
    assert heap.reuse_freed_blocks() is False
    assert heap.set_thresholds(*heap.WINDOW) is False
