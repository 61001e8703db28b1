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
first = np.ones(24 << 18, np.float32)          # 24 MB, touched (older glibcs: at most 32)
where = first.ctypes.data
heap_ranges = [tuple(int(v, 16) for v in line.split()[0].split("-"))
               for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]")]
del first
again = np.ones(24 << 18, np.float32)
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


def test_training_block_restores_the_given_thresholds_and_trims_even_after_an_error(monkeypatch):
    from convlab.pipelines import heap

    calls = []
    monkeypatch.setattr(heap, "set_thresholds", lambda *values: calls.append(values) or True)
    monkeypatch.setattr(heap, "trim", lambda: calls.append("trim"))
    with pytest.raises(KeyboardInterrupt):
        with heap.training(after=heap.WINDOW) as applied:
            assert applied and calls == [heap.TRAINING]
            raise KeyboardInterrupt
    assert calls == [heap.TRAINING, heap.WINDOW, "trim"]
    calls.clear()
    with heap.training():
        pass
    assert calls == [heap.TRAINING, heap.GLIBC_DEFAULTS, "trim"]


def test_convlab_train_in_process_leaves_glibcs_thresholds_as_it_found_them(monkeypatch, tmp_path):
    """A test runner (or any caller) that runs ``convlab train``'s main goes on with glibc's
    own thresholds, not the training ones."""
    from convlab.cli import main
    from convlab.pipelines import heap

    calls = []
    real = heap.set_thresholds
    monkeypatch.setattr(heap, "set_thresholds", lambda *v: calls.append(v) or real(*v))
    status = main(["train", "--net", "lenet", "--epochs", "1", "--limit", "64", "--quiet",
                   "--out", str(tmp_path / "run")])
    assert status == 0
    assert calls[0] == heap.TRAINING and calls[-1] == heap.GLIBC_DEFAULTS
