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
