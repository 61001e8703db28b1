"""The Train pane's own thread: one training run, stoppable and pausable between batches.

Not the explorer's :class:`~convlab.ui.worker.LatestWorker` (a run is not a request a newer one
replaces): ``TrainWorker(prepare, control)`` runs ``prepare()`` (opens the data, builds or
reuses the :class:`~convlab.pipelines.trainrun.TrainRun`) and then
:func:`convlab.pipelines.trainloop.train` in a QThread. Each batch and each evaluation takes
the heavy-work lock (:data:`convlab.ui.worker.HEAVY`), so the explorer and the Network pane
take turns with training and stay usable. Signals cross to the GUI thread queued: ``stepped``
after every batch, ``viewsReady`` at most 5 times a second, ``epochReady`` after each epoch,
and ``ended(how, message, weights_path)`` once (how: "finished", "stopped" or "failed"). At the
end the weights are written to ``weights_path`` (Chainer's ``.npz``) in this thread, for the
Network pane to load.
"""

from __future__ import annotations

import os
import sys
import traceback

from PySide6.QtCore import QObject, QThread, Signal

from convlab.pipelines import heap, trainloop
from convlab.ui import worker as workers


class _Report(QObject):
    stepped = Signal(int)
    viewsReady = Signal(object)
    epochReady = Signal(object)

    def step(self, iteration: int) -> None:
        self.stepped.emit(iteration)

    def views(self, views) -> None:
        self.viewsReady.emit(views)

    def epoch(self, report) -> None:
        self.epochReady.emit(report)


class TrainWorker(QThread):
    """See the module docstring."""

    stepped = Signal(int)
    viewsReady = Signal(object)
    epochReady = Signal(object)
    ended = Signal(str, str, str)  # how, one-sentence message, weights file ("" if none)
    prepared = Signal(object)  # the TrainRun, once built (before the first batch)

    def __init__(self, prepare, control: trainloop.Control, weights_path: str, parent=None):
        super().__init__(parent)
        self.setObjectName("train-thread")
        self.prepare, self.control, self.weights_path = prepare, control, weights_path
        self.report = _Report()
        self.report.stepped.connect(self.stepped)
        self.report.viewsReady.connect(self.viewsReady)
        self.report.epochReady.connect(self.epochReady)

    def run(self) -> None:
        # freed blocks kept for the next batch while it trains, where the window limits its
        # heap (glibc); the window's policy and a trim once the run ends (pipelines/heap.py)
        if workers.TRIM["fn"] is None:    # the window did not set its policy: none to swap
            self._run()
            return
        with heap.training(after=heap.WINDOW):
            self._run()

    def _run(self) -> None:
        try:
            run = self.prepare(self.control.should_stop)
            if run is None:
                self.ended.emit("stopped", "", "")
                return
            self.prepared.emit(run)
            how = trainloop.train(run, self.control, self.report, turn=self._HeavyTurn())
            path = self.weights_path
            run.net.save_npz(path)
            labels = os.path.join(os.path.dirname(path), "labels.txt")  # the classes, beside
            with open(labels, "w", encoding="utf-8") as fh:  # (for a Network pane that reads them)
                fh.write("\n".join(run.dataset.classes) + "\n")
        except ValueError as exc:  # data or a network that cannot train: one sentence
            self.ended.emit("failed", str(exc), "")
            return
        except Exception as exc:  # a bug: say it, keep the window
            traceback.print_exc(file=sys.stderr)
            self.ended.emit("failed", f"{type(exc).__name__}: {exc}", "")
            return
        self.ended.emit(how, "", path)

    class _HeavyTurn:
        """Each batch holds ``HEAVY``; waiting for it gives up when the run is stopped."""

        def acquire(self, should_stop) -> bool:
            while not workers.HEAVY.acquire(timeout=workers.HEAVY_POLL_S):
                if should_stop():
                    return False
            return True

        def release(self) -> None:
            workers.HEAVY.release()

    def shutdown(self, timeout_ms: int = workers.STOP_WAIT_MS) -> None:
        """Stop the run between batches and wait for the thread; a thread that does not end in
        time is kept referenced (never destroyed running) and ``worker.finish`` ends the process."""
        self.control.stop()
        if self.isRunning() and not self.wait(timeout_ms):
            workers._STRANDED.append(self)

    def running(self) -> bool:
        return self.isRunning()
