"""The worker thread keeps nothing of a finished job: its result lives only where it is shown."""

from __future__ import annotations

import gc
import weakref


class Result:
    """Stands for a heavy result (AlexBN's outputs, an explorer stage)."""


def test_a_finished_jobs_result_is_released_while_the_worker_waits(qtbot, worker):
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.submit(lambda job: Result())
    result = weakref.ref(blocker.args[1])
    del blocker
    qtbot.waitUntil(lambda: not worker.busy(), timeout=5000)
    gc.collect()
    assert result() is None, "the worker thread still holds its last result"


def test_a_replaced_result_is_released_after_the_next_one(qtbot, worker):
    shown = {}
    worker.finished.connect(lambda rid, value: shown.update(value=value))
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.submit(lambda job: Result())
    old = weakref.ref(shown["value"])
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.submit(lambda job: Result())
    gc.collect()
    assert old() is None and shown["value"] is not None


def _resident_mb() -> float:
    import os

    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_a_heavy_job_gives_its_freed_small_blocks_back(qtbot, monkeypatch):
    """Blocks under the mmap threshold come from glibc's arenas and stayed resident once freed
    (31-46 MB of a 10,000-change soak's peak). A heavy worker trims the arenas after each job:
    40 MB of 512 KB blocks, freed below one block that stays alive, are given back."""
    import ctypes
    import sys

    import numpy as np
    import pytest

    from convlab.ui import worker as worker_module
    from convlab.ui.app import limit_heap_growth

    if not sys.platform.startswith("linux") or not limit_heap_growth():
        pytest.skip("malloc_trim is glibc's")
    monkeypatch.setitem(worker_module.TRIM, "calls", 0)
    kept = []

    def job(j):
        blocks = [np.ones(128 * 1024, np.float32) for _ in range(80)]  # 80 x 512 KB, touched
        kept.append(np.ones(1024, np.float32))  # above them in the arena: no trim from the top
        del blocks
        return "done"

    heavy = worker_module.LatestWorker("heavy-trim", heavy=True)
    try:
        ctypes.CDLL(None).malloc_trim(0)
        before = _resident_mb()
        with qtbot.waitSignal(heavy.finished, timeout=10_000):
            heavy.submit(job)
        qtbot.waitUntil(lambda: worker_module.TRIM["calls"] >= 1, timeout=10_000)
        grown = _resident_mb() - before
        assert grown < 20, f"{grown:.0f} MB of freed blocks stayed resident after the job"
    finally:
        heavy.shutdown()
