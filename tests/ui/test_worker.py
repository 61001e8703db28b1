"""LatestWorker: newest request wins, stale results never arrive, failures become one line."""

from __future__ import annotations

import threading
import time


def test_result_carries_its_request_id(qtbot, worker):
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        rid = worker.submit(lambda job: 41 + 1)
    assert blocker.args == [rid, 42]


def test_ten_quick_requests_give_one_result_the_last(qtbot, worker):
    gate = threading.Event()
    results = []
    worker.finished.connect(lambda rid, value: results.append((rid, value)))

    def slow(value):
        def run(job):
            gate.wait(5)
            return value
        return run

    ids = [worker.submit(slow(i)) for i in range(10)]
    gate.set()
    qtbot.waitUntil(lambda: not worker.busy(), timeout=5000)
    qtbot.wait(50)  # let any queued signal arrive
    assert results == [(ids[-1], 9)]


def test_running_request_sees_should_stop_when_a_newer_one_arrives(qtbot, worker):
    started, seen = threading.Event(), []

    def long_job(job):
        started.set()
        deadline = time.monotonic() + 5
        while not job.should_stop() and time.monotonic() < deadline:
            time.sleep(0.005)
        seen.append(job.should_stop())
        return "old"

    worker.submit(long_job)
    assert started.wait(5)
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        rid = worker.submit(lambda job: "new")
    assert blocker.args == [rid, "new"]
    assert seen == [True]


def test_preview_comes_before_the_result(qtbot, worker):
    order = []
    worker.preview.connect(lambda rid, p: order.append(("preview", p)))
    worker.finished.connect(lambda rid, r: order.append(("final", r)))

    def job(j):
        j.preview("small")
        return "full"

    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.submit(job)
    assert order == [("preview", "small"), ("final", "full")]


def test_value_error_becomes_failed_with_its_sentence(qtbot, worker):
    def bad(job):
        raise ValueError("the kernel does not fit.")

    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        rid = worker.submit(bad)
    assert blocker.args == [rid, "the kernel does not fit."]


def test_a_bug_is_reported_and_the_thread_lives_on(qtbot, worker, capsys):
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.submit(lambda job: 1 / 0)
    assert blocker.args[1].startswith("ZeroDivisionError")
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.submit(lambda job: "alive")


def test_cancel_drops_the_result(qtbot, worker):
    gate = threading.Event()
    got = []
    worker.finished.connect(lambda rid, r: got.append(r))
    worker.submit(lambda job: gate.wait(5) and "late")
    worker.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not worker.busy(), timeout=5000)
    qtbot.wait(50)
    assert got == []


def test_shutdown_twice_is_harmless(worker):
    worker.shutdown()
    worker.shutdown()
    assert worker.stopping


def test_wait_for_newer_wakes_when_a_request_arrives(qtbot, worker):
    woke = []

    def waiting(job):
        woke.append(job.wait_for_newer(60.0))

    worker.submit(waiting)
    qtbot.waitUntil(lambda: worker.busy(), timeout=5000)
    time.sleep(0.05)
    # the newer request's result can only arrive once the waiting job has woken: had it slept
    # its full 60 s, this wait would fail
    with qtbot.waitSignal(worker.finished, timeout=20_000):
        worker.submit(lambda job: "next")
    assert woke == [True]


def test_heavy_workers_take_turns_and_a_waiting_job_can_be_dropped(qtbot):
    """Two panes' computations never run at once (two heavy stages resident together made
    the soak's memory peak); a job still waiting its turn is dropped by a newer request."""
    from convlab.ui.worker import LatestWorker

    a, b = LatestWorker("heavy-a", heavy=True), LatestWorker("heavy-b", heavy=True)
    try:
        release, running, order = threading.Event(), threading.Event(), []

        def first(job):
            running.set()
            release.wait(5)
            order.append("a")
            return "a"

        a.submit(first)
        assert running.wait(5)
        b.submit(lambda job: order.append("dropped"))  # waits for a's turn ...
        time.sleep(0.1)
        assert order == []
        with qtbot.waitSignal(b.finished, timeout=5000) as blocker:
            rid = b.submit(lambda job: order.append("b") or "b")  # ... and is replaced
            release.set()
        assert blocker.args == [rid, "b"] and order == ["a", "b"]
    finally:
        a.shutdown()
        b.shutdown()
