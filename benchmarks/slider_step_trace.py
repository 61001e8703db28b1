"""Which ConvLab modules one slider step visits, and how often it plans the explorer.

    QT_QPA_PLATFORM=offscreen python benchmarks/slider_step_trace.py

Opens the window on the bundled sample, waits for its first result, then moves the stride
control by one (through the widget named ``stride``, the UI contract) and records every
``convlab.*`` function called, on the GUI thread and in the worker, until ``resultReady`` says
the new result is painted. Prints the modules visited, and the calls of ``plan_explorer`` and
of the settings getter. A figure to compare layouts by, not a test.
"""

from __future__ import annotations

import collections
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    from PySide6.QtWidgets import QWidget

    from convlab.ui.app import make_app
    from convlab.ui.main_window import MainWindow

    modules: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    active = [False]

    def profile(frame, event, arg):
        if active[0] and event == "call":
            name = frame.f_globals.get("__name__", "")
            if name.startswith("convlab"):
                modules[name] += 1
                calls[f"{name}.{frame.f_code.co_name}"] += 1

    app = make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    done: list[int] = []
    window.explorer.resultReady.connect(done.append)
    _wait(app, lambda: done)
    for worker in _workers(window):  # QThreads do not inherit threading.setprofile
        worker.submit(lambda job: sys.setprofile(profile))
    _wait(app, lambda: not any(w.busy() for w in _workers(window)))
    done.clear()
    control = window.findChild(QWidget, "stride")
    sys.setprofile(profile)
    active[0] = True
    control.setValue(control.value() + 1)
    _wait(app, lambda: done)
    active[0] = False
    sys.setprofile(None)
    print(f"modules visited by one slider step: {len(modules)}")
    for name, n in sorted(modules.items()):
        print(f"  {name:45} {n:6} calls")
    if "-v" in sys.argv:
        for name, n in sorted(calls.items()):
            print(f"    {name:60} {n:6}")
    plans = sum(n for k, n in calls.items() if k.endswith(".plan_explorer"))
    getters = sum(n for k, n in calls.items() if k.endswith(".settings"))
    print(f"plan_explorer calls: {plans}; settings() calls: {getters}")
    window.close()
    return 0


def _workers(window):
    from convlab.ui.worker import LatestWorker

    return window.findChildren(LatestWorker)


def _wait(app, ready, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)


if __name__ == "__main__":
    sys.exit(main())
