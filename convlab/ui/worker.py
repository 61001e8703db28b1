"""Compute off the GUI thread: one thread, the newest request wins (Qt's Mandelbrot pattern).

``submit(fn)`` returns a request id at once. The thread runs only the newest waiting request:
older waiting ones are dropped, and a running one sees ``job.should_stop()`` turn true so it
can give up between stages. ``fn(job)`` returns the result; ``job.preview(payload)`` may send
partial results first. Signals carry the request id, and a result is emitted only while its
request is still the newest, so a stale result never reaches the screen::

    worker = LatestWorker("explorer")
    worker.finished.connect(lambda rid, result: ...)   # GUI thread, queued
    rid = worker.submit(lambda job: heavy(job.should_stop))
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

_LIVE: set["LatestWorker"] = set()  # workers whose thread may still run; stopped at quit
# workers whose thread was still inside a job when told to stop: kept referenced so Qt never
# destroys a running QThread (its abort, exit 134); ``finish`` ends the process over them
_STRANDED: list["LatestWorker"] = []
STOP_WAIT_MS = 1000  # how long quitting waits for a job to notice its stop flag
# held by a heavy worker's job while it runs: the panes' computations take turns, so two
# stages of hundreds of MB are never made at once (BLAS already uses every core for one)
HEAVY = threading.Lock()
HEAVY_POLL_S = 0.02  # a job waiting its turn checks its stop flag this often
SWITCH_INTERVAL_S = 0.001  # hand the GIL to the GUI thread within 1 ms, not CPython's 5 ms


class Job:
    """What a request's callable sees: its id, a stop test and a way to send a preview."""

    def __init__(self, worker: "LatestWorker", request_id: int):
        self._worker = worker
        self.request_id = request_id

    def should_stop(self) -> bool:
        """True once a newer request waits (or the worker is shutting down)."""
        return not self._worker.is_current(self.request_id) or self._worker.stopping

    def wait_for_newer(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` unless a newer request arrives; True if one did.

        Lets a job hold back expensive work while requests keep coming (a slider drag).
        """
        with self._worker._cond:
            self._worker._cond.wait_for(self.should_stop, timeout=seconds)
        return self.should_stop()

    def preview(self, payload: Any) -> None:
        """Send a partial result to the GUI thread (dropped if this request is already stale)."""
        if not self.should_stop():
            self._worker.preview.emit(self.request_id, payload)


class _Thread(QThread):
    def __init__(self, worker: "LatestWorker"):
        super().__init__()
        self._worker = worker

    def run(self) -> None:
        self._worker._loop()


class LatestWorker(QObject):
    """A worker thread that runs the newest submitted callable; see the module docstring."""

    preview = Signal(int, object)  # request id, partial payload
    finished = Signal(int, object)  # request id, result (never emitted for a stale request)
    failed = Signal(int, str)  # request id, one-line reason
    idle = Signal()  # the thread has nothing left to do

    def __init__(self, name: str = "worker", parent: QObject | None = None, *,
                 heavy: bool = False):
        super().__init__(parent)
        self.setObjectName(name)
        self.heavy = heavy  # jobs take turns with other heavy workers' (``HEAVY``)
        self._cond = threading.Condition()
        self._pending: tuple[int, Callable] | None = None
        self._latest = 0
        self._running = 0  # id of the request being run, 0 when idle
        self.stopping = False
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)  # measured: shorter GUI stalls while busy
        self._thread = _Thread(self)
        self._thread.setObjectName(f"{name}-thread")
        _LIVE.add(self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._thread.start()

    # -- GUI side ----------------------------------------------------------------------------
    def submit(self, fn: Callable[[Job], Any]) -> int:
        """Queue ``fn`` as the newest request, dropping any request still waiting; return its id."""
        with self._cond:
            self._latest += 1
            self._pending = (self._latest, fn)
            self._cond.notify()
            return self._latest

    @property
    def latest_id(self) -> int:
        return self._latest

    def is_current(self, request_id: int) -> bool:
        return request_id == self._latest

    def busy(self) -> bool:
        with self._cond:
            return self._pending is not None or self._running != 0

    def cancel(self) -> None:
        """Drop the waiting request and make the running one stale."""
        with self._cond:
            self._latest += 1
            self._pending = None

    def request_stop(self) -> None:
        """Tell the thread to stop after its current stage, without waiting."""
        with self._cond:
            self.stopping = True
            self._pending = None
            self._cond.notify()

    def shutdown(self, timeout_ms: int = STOP_WAIT_MS) -> None:
        """Stop the thread, waiting up to ``timeout_ms`` for its job to notice; safe to call twice.

        A job that does not notice in time (a stage with no stop check, a blocked read) leaves
        its thread running: the worker is then kept in ``_STRANDED``, never destroyed while it
        runs, and :func:`finish` ends the process over it.
        """
        self.request_stop()
        if self in _STRANDED:
            return
        if self._thread.isRunning() and not self._thread.wait(timeout_ms):
            _STRANDED.append(self)
        _LIVE.discard(self)

    def running(self) -> bool:
        """True while the worker's thread has not ended."""
        return self._thread.isRunning()

    # -- worker thread -----------------------------------------------------------------------
    def _next(self) -> tuple[int, Callable] | None:
        with self._cond:
            self._running = 0
            while self._pending is None and not self.stopping:
                self.idle.emit()
                self._cond.wait()
            if self.stopping:
                return None
            request, self._pending = self._pending, None
            self._running = request[0]
            return request

    def _loop(self) -> None:
        while (request := self._next()) is not None:
            ran = self._run(*request)
            del request  # nothing of a finished job stays referenced while the thread waits
            if ran and self.heavy:
                release_free_memory()

    def _run(self, request_id: int, fn: Callable[[Job], Any]) -> bool:
        """Run one request (False: dropped before it ran); its callable, its result and its
        locals are released on return (a result held here would stay resident beside the next
        one: AlexBN's is 250 MB)."""
        job = Job(self, request_id)
        if self.heavy and not _take_turn(job):
            return False  # a newer request, or quitting, came while another pane computed
        try:
            result = fn(job)
        except ValueError as exc:  # an explained refusal: say it in one line
            if not job.should_stop():
                self.failed.emit(request_id, str(exc))
        except Exception as exc:  # a bug: keep the thread alive and say what happened
            traceback.print_exc(file=sys.stderr)
            if not job.should_stop():
                self.failed.emit(request_id, f"{type(exc).__name__}: {exc}")
        else:
            if result is not None and not job.should_stop():
                self.finished.emit(request_id, result)
        finally:
            if self.heavy:
                HEAVY.release()
        return True


# ``fn``: glibc's malloc_trim, set by ui.app.limit_heap_growth (None: nothing to trim)
TRIM = {"fn": None, "calls": 0, "seconds": 0.0}


def release_free_memory() -> None:
    """Give the free pages inside glibc's malloc arenas back to the system (``malloc_trim``).

    Blocks under the mmap threshold (1 MB, ``ui.app.limit_heap_growth``) come from the arenas;
    what a job freed there stays resident until reused: 31-46 MB in a 10,000-change soak, on
    top of which the next job's working set then peaked. Called by heavy workers after each
    job, off the GUI thread; a no-op unless ``limit_heap_growth`` applied (glibc)."""
    trim = TRIM["fn"]
    if trim is None:
        return
    t0 = time.perf_counter()
    trim(0)
    TRIM["calls"] += 1
    TRIM["seconds"] += time.perf_counter() - t0


def _take_turn(job: Job) -> bool:
    """Wait for ``HEAVY`` while ``job`` is still wanted; True once it is held."""
    while not HEAVY.acquire(timeout=HEAVY_POLL_S):
        if job.should_stop():
            return False
    if job.should_stop():  # replaced while it waited: never run a stale job
        HEAVY.release()
        return False
    return True


def stop_workers(workers, timeout_ms: int = STOP_WAIT_MS) -> None:
    """Stop ``workers``, all told at once, waiting ``timeout_ms`` in all (not per worker)."""
    workers = list(workers)
    for worker in workers:
        worker.request_stop()
    deadline = time.monotonic() + timeout_ms / 1000
    for worker in workers:
        worker.shutdown(max(1, int((deadline - time.monotonic()) * 1000)))


def shutdown_all(timeout_ms: int = STOP_WAIT_MS) -> None:
    """Stop every worker thread (the app calls this before it exits)."""
    stop_workers(_LIVE, timeout_ms)


def finish(code: int) -> int:
    """Stop every worker and return ``code``; if a thread is still inside a job, end the process.

    A Python thread cannot be killed and Qt aborts when a running QThread is destroyed, so
    when a job ignores its stop flag past ``STOP_WAIT_MS`` the process leaves with
    ``os._exit(code)`` after flushing its output (nothing is left to save: the window has
    already stored its settings, and exports write through temporary names).
    """
    shutdown_all()
    if any(worker.running() for worker in _STRANDED):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


atexit.register(shutdown_all)
