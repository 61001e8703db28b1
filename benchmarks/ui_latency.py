"""Explorer latency through the real window, offscreen: what a learner feels on a slider.

    python benchmarks/ui_latency.py [--repeats 40] [--size 1280x800] [--no-launch | --launch-only]
                                    [--explain STAGE:C,I,J] [--open-map]

Prints, from the window's own signals (``resultReady`` fires after the full result is painted,
``previewReady`` after a reduced-size preview is painted):

- launch: process start -> window painted, and -> first full result painted (median of
  --launch-runs, 3 by default)
- step: one slider step at the defaults (sample photo, kernel 11, stride 4, 96 filters,
  pool 3/2) -> repainted maps, p50 / p95 / max; targets p95 <= 50 ms, aim 33 ms
- stall: the longest the GUI thread did not turn its event loop (a 1 ms timer's largest gap,
  less 1 ms) during the steps, during a 60 Hz drag, and during heavy work; target <= 50 ms,
  aim 16 ms
- drag: a slider swept at 60 Hz with the button held; results and previews painted during
  the sweep, release -> full result, longest stall (at the defaults, and at heavy settings)
- heavy: the heaviest setting (kernel 15, stride 1, padding 10, 256 filters, pool 2/1): one
  slider step -> first preview painted (target 150 ms) and -> full result painted

Never part of the test suite; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class StallMeter:
    """A 1 ms timer on the GUI thread; the largest gap between its ticks is the longest stall."""

    def __init__(self):
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer(interval=1, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.worst = 0.0

    def _tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.worst = max(self.worst, now - self.last - 0.001)
        self.last = now

    def start(self):
        self.last, self.worst = None, 0.0
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.worst * 1e3


def wait_for(signal, accept=lambda *a: True, timeout_ms=60_000) -> float | None:
    """Run the event loop until ``signal`` fires with accepted arguments; the time it fired."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, fired = QEventLoop(), []

    def on(*args):
        if accept(*args):
            fired.append(time.perf_counter())
            loop.quit()

    signal.connect(on)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(on)
    return fired[0] if fired else None


def settle(win) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    while not win.explorer.settled():
        loop = QEventLoop()
        QTimer.singleShot(5, loop.quit)
        loop.exec()


def is_latest(win):
    return lambda rid: rid == win.explorer.worker.latest_id


def step_latencies(win, repeats: int, meter: StallMeter) -> tuple[list[float], float]:
    """Alternate the kernel slider around 11 (10, 11, 12, 11, ...); ms per step to repaint."""
    slider = win.explorer.controls.sliders["kernel"]
    values = [10, 11, 12, 11]
    times = []
    meter.start()
    for i in range(repeats):
        t0 = time.perf_counter()
        slider.setValue(values[i % 4])
        t1 = wait_for(win.explorer.resultReady, is_latest(win))
        times.append((t1 - t0) * 1e3)
    return times, meter.stop()


def drag(win, meter: StallMeter, name: str = "kernel", path=None) -> dict:
    """Sweep a slider at 60 Hz with the mouse button held, as a drag does."""
    from PySide6.QtCore import Qt, QTimer

    slider = win.explorer.controls.sliders[name]
    path = path or list(range(11, 2, -1)) + list(range(3, 16)) + list(range(15, 10, -1))
    shown = []
    view = win.explorer.view
    show_montage = view.show_montage

    def counted(montage):  # every picture put on screen, previews and full results alike
        shown.append(("preview" if montage.preview else "full", time.perf_counter()))
        show_montage(montage)

    view.show_montage = counted
    timer = QTimer(interval=16, timerType=Qt.TimerType.PreciseTimer)
    state = {"i": 0, "end": None}

    def next_value():
        if state["i"] < len(path):
            slider.setValue(path[state["i"]])
            state["i"] += 1
        else:
            timer.stop()
            slider.setSliderDown(False)  # the mouse button goes up
            state["end"] = time.perf_counter()

    meter.start()
    slider.setSliderDown(True)
    t_start = time.perf_counter()
    timer.timeout.connect(next_value)
    timer.start()
    done = wait_for(win.explorer.resultReady,
                    lambda rid: state["end"] is not None and rid == win.explorer.worker.latest_id)
    stall = meter.stop()
    view.show_montage = show_montage
    during = [kind for kind, t in shown if t <= state["end"]]
    return {"steps": len(path), "seconds": state["end"] - t_start,
            "previews": during.count("preview"), "fulls": during.count("full"),
            "final_ms": (done - state["end"]) * 1e3, "stall_ms": stall}


def heavy(win, meter: StallMeter) -> dict:
    from convlab.engine.explorer import ExplorerSettings

    heavy_settings = ExplorerSettings(kernel=15, stride=1, padding=10, filters=255, pool=2,
                                      pool_stride=1)
    win.explorer.set_settings(heavy_settings)
    settle(win)
    full_before = win.explorer.output.compute_ms
    slider = win.explorer.controls.sliders["filters"]
    meter.start()
    t0 = time.perf_counter()
    slider.setValue(256)
    t_preview = wait_for(win.explorer.previewReady, is_latest(win))
    t_full = wait_for(win.explorer.resultReady, is_latest(win))
    stall = meter.stop()
    out = win.explorer.output
    return {"preview_ms": (t_preview - t0) * 1e3 if t_preview else float("nan"),
            "full_ms": (t_full - t0) * 1e3, "compute_ms": out.compute_ms,
            "previous_compute_ms": full_before, "stall_ms": stall,
            "shape": out.result.maps[out.stage].shape}


# -- launch ---------------------------------------------------------------------------------------
def launch_child(t0: float, size) -> None:
    """Runs in a fresh process: print seconds since ``t0`` at first paint and first result."""
    from PySide6.QtCore import QEvent, QObject

    from convlab.ui.app import make_app
    from convlab.ui.main_window import MainWindow

    app = make_app()
    win = MainWindow()
    win.resize(*size)
    marks = {}

    class PaintWatch(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and "painted" not in marks:
                marks["painted"] = time.time() - t0
            return False

    watch = PaintWatch()
    win.installEventFilter(watch)
    win.explorer.resultReady.connect(lambda rid: marks.setdefault("result", time.time() - t0))
    win.show()
    deadline = time.time() + 60
    while "result" not in marks and time.time() < deadline:
        app.processEvents()
        time.sleep(0.001)
    print(f"{marks.get('painted', float('nan')):.4f} {marks.get('result', float('nan')):.4f}",
          flush=True)
    win.close()


def measure_launch(size, runs: int = 3) -> tuple[float, float]:
    painted, result = [], []
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run([sys.executable, __file__, "--launch-child", repr(t0),
                              "--size", f"{size[0]}x{size[1]}"],
                             capture_output=True, text=True, timeout=120)
        a, b = (float(v) for v in out.stdout.split()[-2:])
        painted.append(a)
        result.append(b)
    return statistics.median(painted), statistics.median(result)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=40)
    p.add_argument("--size", default="1280x800")
    p.add_argument("--no-launch", action="store_true")
    p.add_argument("--launch-only", action="store_true", help="measure the launch and stop")
    p.add_argument("--launch-runs", type=int, default=3, help="launches to take the median of")
    p.add_argument("--explain", metavar="STAGE:C,I,J",
                   help="pin this value first, so every result is explained again (as "
                        "convlab snapshot --explain)")
    p.add_argument("--open-map", action="store_true",
                   help="keep the large-map window (histogram, colour bar) open on map 0")
    p.add_argument("--launch-child", type=float, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    if args.launch_child is not None:
        launch_child(args.launch_child, size)
        return 0
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from convlab.engine.backend import get_backend
    from convlab.ui.app import make_app
    from convlab.ui.main_window import MainWindow

    if not args.no_launch:
        painted, first = measure_launch(size, args.launch_runs)
        print(f"launch   window painted {painted * 1e3:6.0f} ms   first full result "
              f"{first * 1e3:6.0f} ms   (median of {args.launch_runs}; target: painted <= 1000 ms)")
        if args.launch_only:
            return 0
    app = make_app()  # noqa: F841 - kept alive for the whole run
    win = MainWindow()
    win.resize(*size)
    win.show()
    settle(win)
    if args.explain:
        from convlab.cli.snapshot import parse_explain

        win.explorer.pin(*parse_explain(args.explain))
        settle(win)
    if args.open_map:
        win.explorer.view.open_map(0)
    meter = StallMeter()
    print(f"backend  {get_backend().description}; window {size[0]}x{size[1]}; photo "
          f"{win.loaded.name} {win.loaded.image.shape[1]}x{win.loaded.image.shape[0]}; "
          f"pinned {args.explain or 'nothing'}; large map {'open' if args.open_map else 'closed'}")
    step_latencies(win, 8, meter)  # warm up BLAS and caches
    times, stall = step_latencies(win, args.repeats, meter)
    print(f"step     p50 {percentile(times, 50):5.1f} ms   p95 {percentile(times, 95):5.1f} ms   "
          f"max {max(times):5.1f} ms   over {len(times)} kernel steps at the defaults "
          f"(target p95 <= 50, aim 33)")
    print(f"stall    {stall:5.1f} ms longest GUI-thread stall during the steps "
          f"(target <= 50, aim 16)")
    d = drag(win, meter)
    print(f"drag     kernel 11->3->15->11, {d['steps']} steps in {d['seconds'] * 1e3:.0f} ms: "
          f"{d['fulls']} full results and {d['previews']} previews shown during the drag; "
          f"release -> full result {d['final_ms']:.0f} ms; longest stall {d['stall_ms']:.1f} ms")
    h = heavy(win, meter)
    print(f"heavy    {'x'.join(map(str, h['shape']))}: first preview {h['preview_ms']:.0f} ms "
          f"(target 150), full result {h['full_ms']:.0f} ms (compute {h['compute_ms']:.0f} ms); "
          f"longest stall {h['stall_ms']:.1f} ms")
    d = drag(win, meter, "filters", list(range(255, 199, -2)))
    print(f"heavy drag filters 256->200, {d['steps']} steps in {d['seconds'] * 1e3:.0f} ms: "
          f"{d['previews']} previews and {d['fulls']} full results shown during the drag; "
          f"release -> full result {d['final_ms']:.0f} ms; longest stall {d['stall_ms']:.1f} ms")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
