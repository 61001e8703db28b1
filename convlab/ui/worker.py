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
import sys
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

_LIVE: set["LatestWorker"] = set()  # workers whose thread may still run; stopped at quit
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

    def __init__(self, name: str = "worker", parent: QObject | None = None):
        super().__init__(parent)
        self.setObjectName(name)
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

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop the thread after its current stage; safe to call twice."""
        with self._cond:
            self.stopping = True
            self._pending = None
            self._cond.notify()
        if self._thread.isRunning():
            self._thread.wait(timeout_ms)
        _LIVE.discard(self)

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
            request_id, fn = request
            job = Job(self, request_id)
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


def shutdown_all() -> None:
    """Stop every worker thread (the app calls this before it exits)."""
    for worker in list(_LIVE):
        worker.shutdown()


atexit.register(shutdown_all)
