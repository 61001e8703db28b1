"""Where one explorer slider step goes: per-phase milliseconds, worker and GUI thread.

    python benchmarks/slider_step_profile.py [--repeats 24] [--size 1280x800] [--cprofile N]
                                            [--explain STAGE:C,I,J] [--tab maps|diagram]

Opens the real window offscreen on the sample at the defaults, warms up, then alternates the
kernel slider (10, 11, 12, 11, ...) and waits for ``resultReady`` each time. Methods are wrapped
with ``perf_counter`` timers (at class level, before the window is built, so signal connections
go through them) and the medians per step are printed:

- worker: ``explorer_job`` (engine run + montage + kernel strip), and its compute/display split
- GUI, on the slider change: ``ExplorerPane.refresh`` and its parts (readout, diagram state,
  input view / BN note, code tabs)
- GUI, on the result: ``_on_finished`` and its parts (montage, kernel strip, diagram maps,
  explain panel)
- GUI, painting: the window's repaint (``UpdateRequest`` on the top-level window: every widget
  painted, Qt's own included) and the Python ``paintEvent`` overrides inside it
- GUI total per step: the sum of the above on the GUI thread; and the GUI thread's CPU time
  over the whole step (``time.thread_time``: what other processes on the machine do barely
  moves it, unlike wall time), likewise the worker's CPU time in ``explorer_job``

``--cprofile N`` prints the N heaviest GUI-thread functions (cumulative) over the timed steps.
Never part of the test suite; the figures depend on the machine (give ``uptime`` with them).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SPENT: dict[str, float] = collections.defaultdict(float)  # phase -> seconds in this step


def timed(owner, name: str, label: str) -> None:
    """Replace ``owner.name`` (a class attribute) with a wrapper adding its time to ``label``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            SPENT[label] += time.perf_counter() - t0
            if label.startswith("worker"):  # CPU time of the worker thread: load-insensitive
                SPENT[label + " (thread CPU)"] += time.thread_time() - c0

    setattr(owner, name, wrapper)


WRAPPED = (  # (module, class or "", attribute, label); absent ones are skipped (older trees)
    ("convlab.ui.panes.explorer_results", "", "explorer_job", "worker: explorer_job"),
    ("convlab.ui.panes.explorer", "", "explorer_job", "worker: explorer_job"),
    ("convlab.ui.panes.explorer", "ExplorerPane", "refresh", "gui: refresh (slider change)"),
    ("convlab.ui.panes.explorer", "", "readout_html", "gui:   readout_html"),
    ("convlab.ui.widgets.diagram_panel", "DiagramPanel", "set_state", "gui:   diagram.set_state"),
    ("convlab.ui.panes.explorer_explain", "ExplainSide", "settings_changed",
     "gui:   explain.settings_changed"),
    ("convlab.ui.panes.explorer", "ExplorerPane", "_show_code", "gui:   code tabs"),
    ("convlab.ui.panes.explorer_results", "WorkerTraffic", "_on_finished",
     "gui: _on_finished (result)"),
    ("convlab.ui.panes.explorer", "ExplorerPane", "_on_finished", "gui: _on_finished (result)"),
    ("convlab.ui.panes.explorer_results", "WorkerTraffic", "_on_preview",
     "gui: _on_preview (preview)"),
    ("convlab.ui.panes.explorer", "ExplorerPane", "_on_preview", "gui: _on_preview (preview)"),
    ("convlab.ui.widgets.feature_view", "FeatureView", "show_montage", "gui:   view.show_montage"),
    ("convlab.ui.widgets.feature_view", "KernelStrip", "show_strip", "gui:   kernels.show_strip"),
    ("convlab.ui.widgets.diagram_panel", "DiagramPanel", "set_maps", "gui:   diagram.set_maps"),
    ("convlab.ui.panes.explorer_explain", "ExplainSide", "result_shown",
     "gui:   explain.result_shown"),
    ("convlab.ui.widgets.canvas", "ImageCanvas", "paintEvent", "gui:   paintEvent ImageCanvas"),
    ("convlab.ui.widgets.colour_bar", "ColourBar", "paintEvent", "gui:   paintEvent ColourBar"),
    ("convlab.ui.widgets.diagram_canvas", "DiagramCanvas", "paintEvent",
     "gui:   paintEvent DiagramCanvas"),
    # the layout before convlab/ui/panes (cb79c5d, the baseline before the issue 9 views)
    ("convlab.ui.explorer", "ExplorerPane", "refresh", "gui: refresh (slider change)"),
    ("convlab.ui.explorer", "ExplorerPane", "_on_finished", "gui: _on_finished (result)"),
    ("convlab.ui.explorer", "ExplorerPane", "_on_preview", "gui: _on_preview (preview)"),
    ("convlab.ui.canvas", "ImageCanvas", "paintEvent", "gui:   paintEvent ImageCanvas"),
)


def instrument() -> None:
    import importlib

    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QMainWindow

    from convlab.ui import main_window

    for module_name, class_name, attribute, label in WRAPPED:
        try:
            owner = importlib.import_module(module_name)
        except ImportError:
            continue
        owner = getattr(owner, class_name, None) if class_name else owner
        if owner is not None and attribute in vars(owner):
            timed(owner, attribute, label)

    def event(self, e, _base=QMainWindow.event):
        if e.type() != QEvent.Type.UpdateRequest:
            return _base(self, e)
        t0 = time.perf_counter()
        try:
            return _base(self, e)
        finally:
            SPENT["gui: window repaint (all widgets)"] += time.perf_counter() - t0

    main_window.MainWindow.event = event


GUI_TOTAL = ("gui: refresh (slider change)", "gui: _on_finished (result)",
             "gui: _on_preview (preview)", "gui: window repaint (all widgets)")


class PaintCounter:
    """An application-wide event filter counting Paint events per widget while ``active``."""

    def __init__(self, app):
        from PySide6.QtCore import QEvent, QObject

        counter = self
        self.active = False
        self.seen: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])

        class Filter(QObject):
            def eventFilter(self, obj, event):
                if counter.active and event.type() == QEvent.Type.Paint:
                    name = f"{type(obj).__name__}#{obj.objectName()}"
                    if name.startswith("QWidget#") and obj.parent() is not None:
                        parent = obj.parent()  # a viewport: name it by its owner
                        owner = parent.parent()
                        name = (f"{type(parent).__name__}#{parent.objectName()}.viewport"
                                f" in {type(owner).__name__}")
                    rect = event.rect()
                    counter.seen[name][0] += 1
                    counter.seen[name][1] += rect.width() * rect.height()
                return False

        self.filter = Filter()
        app.installEventFilter(self.filter)

    def report(self, steps: int) -> None:
        print(f"paint events per step ({steps} steps), widget: paints, kilopixels painted")
        for name, (n, area) in sorted(self.seen.items(), key=lambda kv: -kv[1][1]):
            print(f"  {name:60} {n / steps:5.1f}  {area / steps / 1e3:8.1f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=24)
    p.add_argument("--size", default="1280x800")
    p.add_argument("--cprofile", type=int, default=0, metavar="N")
    p.add_argument("--sort", default="cumulative", help="cProfile order: cumulative or tottime")
    p.add_argument("--explain", metavar="STAGE:C,I,J")
    p.add_argument("--tab", choices=("maps", "diagram"), default="maps")
    p.add_argument("--paints", action="store_true",
                   help="count the widgets painted per step (class#objectName: paints, area)")
    args = p.parse_args(argv)
    instrument()
    from ui_latency import is_latest, settle, wait_for

    from convlab.ui.app import make_app
    from convlab.ui.main_window import MainWindow

    app = make_app()  # noqa: F841 - kept alive for the whole run
    win = MainWindow()
    win.resize(*(int(v) for v in args.size.lower().split("x")))
    win.show()
    settle(win)
    if args.explain:
        from convlab.cli.snapshot import parse_explain

        win.explorer.pin(*parse_explain(args.explain))
        settle(win)
    if args.tab == "diagram":
        win.explorer.map_tabs.setCurrentIndex(1)
    painted = PaintCounter(app) if args.paints else None
    slider = win.explorer.controls.sliders["kernel"]
    values = [10, 11, 12, 11]
    rows: list[dict[str, float]] = []
    steps, extra = [], {"compute": [], "display": []}
    profiler = cProfile.Profile(time.thread_time) if args.cprofile else None  # CPU, not waits
    for i in range(8 + args.repeats):
        settle(win)
        SPENT.clear()
        timing = i >= 8
        if timing and profiler:
            profiler.enable()
        if painted is not None:
            painted.active = timing
        t0, c0 = time.perf_counter(), time.thread_time()
        slider.setValue(values[i % 4])
        t1 = wait_for(win.explorer.resultReady, is_latest(win))
        SPENT["gui: thread CPU, whole step"] = time.thread_time() - c0
        if timing and profiler:
            profiler.disable()
        if timing:
            steps.append((t1 - t0) * 1e3)
            rows.append({k: v * 1e3 for k, v in SPENT.items()})
            extra["compute"].append(win.explorer.output.compute_ms)
            extra["display"].append(win.explorer.output.display_ms)
    win.close()
    report(rows, steps, extra, args)
    if painted is not None:
        painted.report(len(steps))
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.cprofile)
    return 0


def report(rows, steps, extra, args) -> None:
    labels = sorted({k for r in rows for k in r}, key=lambda k: (not k.startswith("worker"), k))
    print(f"load: {os.getloadavg()[0]:.2f} (1 min); {len(steps)} kernel steps at the defaults; "
          f"pinned {args.explain or 'nothing'}; tab {args.tab}")
    print(f"step -> resultReady      p50 {statistics.median(steps):6.1f} ms  "
          f"p95 {sorted(steps)[round(0.95 * (len(steps) - 1))]:6.1f}  max {max(steps):6.1f}")
    print(f"worker   compute (engine)   median {statistics.median(extra['compute']):6.1f} ms")
    print(f"worker   montage + strip    median {statistics.median(extra['display']):6.1f} ms")
    for label in labels:
        values = [r.get(label, 0.0) for r in rows]
        print(f"{label:42} median {statistics.median(values):6.1f} ms  "
              f"max {max(values):6.1f}")
    gui = [sum(r.get(k, 0.0) for k in GUI_TOTAL) for r in rows]
    print(f"{'GUI thread total per step':42} median {statistics.median(gui):6.1f} ms  "
          f"max {max(gui):6.1f}")


if __name__ == "__main__":
    sys.exit(main())
