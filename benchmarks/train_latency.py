"""The window while the Train pane trains: the longest GUI stall, and explorer slider steps.

    python benchmarks/train_latency.py [--repeats 10] [--watch 5]

Starts the Train pane's default run (LeNet on the built-in shapes), then prints:

- watch: the longest stall of the GUI thread (a 1 ms timer's largest gap, less 1 ms) while
  the Train pane is in front painting its curves, filters and maps for ``--watch`` seconds,
  and how many views it painted (goal: stall <= 50 ms, views >= 2 a second);
- explorer: one stride step in the explorer -> full result painted, p50 / max over
  ``--repeats`` steps, and the longest stall during them (goal: stall <= 50 ms), first with
  nothing training (the baseline, same machine, same run), then while training. Training
  takes turns with the explorer under the heavy-work lock, so a step waits for at most the
  batch under way;
- stop: Stop clicked -> the training thread ended (the batch under way finishes first).

Never part of the test suite; the figures depend on the machine (say its load).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

from ui_latency import StallMeter  # noqa: E402


def pump(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def until(app, ready, timeout: float = 120.0) -> float:
    t0 = time.perf_counter()
    while not ready():
        if time.perf_counter() - t0 > timeout:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.0005)
    return time.perf_counter() - t0


def explorer_steps(app, win, repeats: int) -> tuple[list[float], float]:
    """``repeats`` stride steps (4 <-> 3), each until its full result is painted: the step
    times in ms and the longest stall during them."""
    stride = win.explorer.controls.sliders["stride"]
    meter, times = StallMeter(), []
    meter.start()
    for _ in range(repeats):
        done = []
        win.explorer.resultReady.connect(done.append)
        stride.setValue(3 if stride.value() == 4 else 4)
        times.append(until(app, lambda: bool(done) and win.explorer.settled()) * 1e3)
        win.explorer.resultReady.disconnect(done.append)
    return times, meter.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--watch", type=float, default=5.0)
    args = p.parse_args()
    from convlab.ui.app import make_app
    from convlab.ui.main_window import MainWindow

    app = make_app()
    win = MainWindow()
    win.resize(1280, 800)
    win.show()
    until(app, win.explorer.settled)
    steps_ms, stall = explorer_steps(app, win, args.repeats)
    print(f"explorer, nothing training: step p50 {statistics.median(steps_ms):.0f} ms, max "
          f"{max(steps_ms):.0f} ms over {len(steps_ms)} steps; longest stall {stall:.1f} ms")
    pane = win.train
    win.show_pane(pane)
    until(app, lambda: pane.data is not None)
    views = []
    steps = []
    pane.start_button.click()
    pane.stepDone.connect(steps.append)
    until(app, lambda: len(steps) >= 2)
    pane.thread.viewsReady.connect(lambda v: views.append(time.perf_counter()))
    meter = StallMeter()
    meter.start()
    pump(app, args.watch)
    stall = meter.stop()
    print(f"watch: longest stall {stall:.1f} ms over {args.watch:g} s; {len(views)} views "
          f"painted ({len(views) / args.watch:.1f}/s); {len(steps)} steps so far")
    win.show_pane(win.explorer)
    steps_ms, stall = explorer_steps(app, win, args.repeats)
    print(f"explorer while training: step p50 {statistics.median(steps_ms):.0f} ms, max "
          f"{max(steps_ms):.0f} ms over {len(steps_ms)} steps; longest stall {stall:.1f} ms")
    win.show_pane(pane)
    t0 = time.perf_counter()
    pane.stop_button.click()
    until(app, lambda: not pane.training())
    print(f"stop: click -> thread ended {1e3 * (time.perf_counter() - t0):.0f} ms "
          f"(at iteration {pane.run.iteration}); load {os.getloadavg()[0]:.1f}")
    win.close()


if __name__ == "__main__":
    main()
