"""The Train pane's loop, Qt-free: batches until done, paused or stopped, views at most 5 times a second.

``train(run, control, report)`` runs the training loop's Trainer
(:mod:`convlab.pipelines.training`) of a :class:`~convlab.pipelines.trainrun.TrainRun` with its
callbacks. Between two batches (never inside one) it asks ``control``: a stop ends the run
there; a pause waits there until resumed or stopped. After each batch it tells ``report.step(iteration, loss,
accuracy)``; at most every ``VIEW_INTERVAL_S`` it sends ``report.views(Views)``, copies made in
this thread (the points logged since the last views, conv1's filters as one RGB picture, the
chosen test image's maps at the chosen layer), so the GUI thread only paints. After each epoch
it evaluates the test split and sends ``report.epoch(EpochReport)``.

``turn`` (``acquire(should_stop) -> bool`` / ``release()``) is taken for each batch, training
or test: the window passes one that takes the heavy-work lock (``convlab.ui.worker.HEAVY``) and
gives up when stopped while waiting for it, so the explorer's and the
Network pane's computations take turns with training instead of running beside it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from convlab.render import kernels as kernel_pictures
from convlab.render import tiles

VIEW_INTERVAL_S = 0.2  # views (curves' new points, filters, maps) at most this often
GAP_RGB = (32, 34, 38)  # between the filters: the window's dark background


class Control:
    """Pause, resume and stop, asked between batches (thread-safe). ``maps_at`` is the test image
    and layer whose maps the views show (set from any thread)."""

    def __init__(self):
        self._cond = threading.Condition()
        self.paused = False
        self.stopped = False
        self.maps_at: tuple[int, str] = (0, "conv1")
        self.stop_at = 0  # > 0: stop once this many iterations are done (snapshots)
        self.waiting = False  # True while the run waits, paused, between two batches

    def pause(self) -> None:
        with self._cond:
            self.paused = True

    def resume(self) -> None:
        with self._cond:
            self.paused = False
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self._cond.notify_all()

    def should_stop(self) -> bool:
        return self.stopped

    def gate(self, on_pause=lambda: None) -> bool:
        """Wait while paused (``on_pause()`` first, outside the lock); True when the run must stop."""
        with self._cond:
            paused = self.paused and not self.stopped
        if paused:
            on_pause()
            with self._cond:
                self.waiting = True
                self._cond.wait_for(lambda: not self.paused or self.stopped)
                self.waiting = False
        return self.stopped


@dataclass
class Views:
    """What the pane paints: new curve points ``(iteration, loss, accuracy)`` rows, the epoch and
    iteration, images per second, seconds left, conv1's filter picture and the maps picture."""

    points: np.ndarray
    epoch: int
    iteration: int
    total: int
    images_per_s: float
    seconds_left: float | None
    filters: np.ndarray | None = None  # (h, w, 3) uint8
    maps: np.ndarray | None = None     # (h, w, 3) uint8
    maps_title: str = ""
    extra: dict = field(default_factory=dict)


def filters_picture(run) -> np.ndarray | None:
    """The first convolution's kernels as a square-ish RGB grid: each kernel coloured by
    :func:`render.kernels.kernel_rgb` (mid-grey 0, each to its own largest magnitude), tiled
    by :func:`render.tiles.tile_rgb` and enlarged to about 24 pixels a kernel."""
    conv = next((layer for layer in run.net.layers if layer.kind == "conv"), None)
    if conv is None:
        return None
    weights = np.asarray(conv.params["W"], dtype=np.float32)     # (F, C, kh, kw)
    if weights.shape[1] not in (1, 3):
        weights = weights[:, :1]  # show the first input channel of a deeper "first" conv
    scale = max(1, 24 // max(weights.shape[2:]))
    rgb, (rows, cols) = tiles.tile_rgb(kernel_pictures.kernel_rgb(weights), scale=scale, sep=2)
    th, tw = weights.shape[2] * scale, weights.shape[3] * scale
    gaps = np.ones(rgb.shape[:2], bool)                          # the separators: dark, not white
    for i in range(weights.shape[0]):
        r, c = divmod(i, cols)
        gaps[r * (th + 2):r * (th + 2) + th, c * (tw + 2):c * (tw + 2) + tw] = False
    rgb[gaps] = GAP_RGB
    return rgb


def maps_picture(run, index: int, layer: str) -> tuple[np.ndarray | None, str]:
    """``layer``'s maps of test image ``index`` coloured by the one renderer, and a title."""
    if layer not in run.net.layer_names or not 0 <= index < len(run.dataset.test):
        return None, ""
    maps = run.maps(index, layer)
    shape = "x".join(map(str, maps.shape))
    scale = max(1, 96 // max(maps.shape[-1], 1)) if maps.ndim == 3 else 6
    picture = tiles.picture(maps, "viridis", "map", scale=min(scale, 8))
    return picture, f"{layer} of test image {index} ({shape})"


class _Meter:
    """Images per second over the last few seconds, and the time left."""

    def __init__(self):
        self.marks: list[tuple[float, int]] = []

    def add(self, images: int) -> None:
        now = time.perf_counter()
        seen = self.marks[-1][1] + images if self.marks else images
        self.marks.append((now, seen))
        while len(self.marks) > 2 and now - self.marks[0][0] > 3.0:
            self.marks.pop(0)

    def rate(self) -> float:
        if len(self.marks) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self.marks[0], self.marks[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


class NoTurn:
    """The turn-taking of :func:`train` when nothing else computes: always granted."""

    def acquire(self, should_stop) -> bool:
        return True

    def release(self) -> None:
        pass


def train(run, control: Control, report, *, turn=None) -> str:
    """Run ``run``'s Trainer to its last epoch or until stopped; "finished" or "stopped".

    The Trainer asks ``should_stop`` before each batch (training and test): here the turn of
    the previous batch is given back, a pause waits (holding nothing), a stop or ``stop_at``
    ends the run, and the next turn is taken. ``on_batch`` logs the point and sends views;
    ``on_epoch`` adds the confusion matrix and the mistakes (still in the test split's turn).
    """
    turn, meter, points = turn or NoTurn(), _Meter(), []
    held, last = [False], [0.0]
    pause_views = lambda: _send(run, control, report, points, meter)  # noqa: E731

    def should_stop() -> bool:
        if held[0]:
            turn.release()
            held[0] = False
        if control.gate(pause_views) or (
                0 < control.stop_at <= run.iteration and run.in_training_batches):
            return True
        held[0] = turn.acquire(control.should_stop)
        return not held[0]

    def on_batch(progress) -> None:
        if progress.phase != "train":
            return
        meter.add(run.settings.batch)
        points.append((progress.iteration, progress.loss, progress.accuracy))
        report.step(progress.iteration)
        if time.perf_counter() - last[0] >= VIEW_INTERVAL_S:
            _send(run, control, report, points, meter)
            last[0] = time.perf_counter()

    def on_epoch(entry, progress) -> None:
        _send(run, control, report, points, meter)
        result = run.evaluate(entry, control.should_stop)
        if result is not None:
            report.epoch(result)

    trainer = run.trainer
    trainer.should_stop, trainer.on_batch, trainer.on_epoch = should_stop, on_batch, on_epoch
    try:
        finished = trainer.run()
    finally:
        if held[0]:
            turn.release()
        trainer.should_stop = trainer.on_batch = trainer.on_epoch = None
    _send(run, control, report, points, meter)
    return "finished" if finished else "stopped"


def _send(run, control, report, points, meter) -> None:
    rate = meter.rate()
    left = run.total_iterations - run.iteration
    seconds = left * run.settings.batch / rate if rate > 0 else None
    index, layer = control.maps_at
    maps, title = maps_picture(run, index, layer)
    report.views(Views(np.array(points, dtype=np.float64).reshape(-1, 3), run.epoch,
                       run.iteration, run.total_iterations, rate, seconds,
                       filters_picture(run), maps, title))
    points.clear()
