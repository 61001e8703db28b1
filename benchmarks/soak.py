"""Soak: N random changes through the real window, offscreen; memory, warnings and exceptions.

    python benchmarks/soak.py [--n 10000] [--seed 0] [--wait 20] [--max-side 512] [--net-share 0.15]
                              [--peaks MB [--trace]] [--smaps MB] [--fast-forward K]

Drives ``convlab.ui.main_window.MainWindow`` (offscreen, no QSettings, so nothing of the user's is
read or written) through the public UI contract only (DESIGN.md "UI contract"): the controls
named ``kernelSize``, ``stride``, ``padding``, ``dilation``, ``filters``, ``poolSize``,
``poolStride`` and ``longestSide`` get ``setValue`` (mostly a step of 1 to 3, sometimes a jump
anywhere in ``minimum()..maximum()``), the pane tabs (the window's ``QTabWidget``) are switched,
and the bundled samples are opened with ``open_image``. The Network pane runs AlexBN as a user
would: it is shown once before the first change (so AlexBN, about 250 MB of weights, is loaded
for the whole run), and while it is in front ``--net-share`` of the changes go to its own
controls (``inputSize``, ``bnMode``, ``netSeed``, ``handmadeConv1``, the selected row of
``layerTable``). After each change it waits for the resultReady (or ``failed``) of the pane
that computes, up to ``--wait`` seconds, so the result of each change is computed and painted;
a shorter ``--wait`` makes a long run quicker (the worker drops stale requests), and the waits
that ran out are counted.

Prints resident memory (``VmRSS``; peak ``VmHWM``, both from ``/proc/self/status``) at the start,
every ``N/10`` changes and at the end, the count of Qt warnings (``qInstallMessageHandler``,
warning level and above) and of Python exceptions (``sys.excepthook`` and
``threading.excepthook``, which is where exceptions in Qt slots and worker threads go), with the
first few distinct ones, and how many waits ran out. ``longestSide`` is kept to ``--max-side``
(default 512, the window's default "Explore at": the issue's figure is for the default
settings; ``--max-side 768`` tries larger photos).

Finding a peak: ``--peaks MB`` prints each rise of ``VmHWM`` after a change, with the settings
then (``--trace``: and what tracemalloc sees NumPy and Python hold). ``--smaps MB`` catches the
peak while it happens: a thread samples ``VmRSS`` every 2 ms and, at each new high above MB,
records the resident memory by mapping (``/proc/self/smaps``: heap, anonymous mappings by size,
files), glibc's arenas (``mallinfo2``: in use and free), each thread's stack and, with
``--trace``, the allocating lines that hold the most. ``--fast-forward K`` makes the first K
changes without computing anything (the same random changes, so the same state), computes that
state and goes on: a peak seen at change 6921 of a 12-minute run comes back in 30 s with
``--fast-forward 6880 --n 6930``.

Never part of the test suite; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import traceback
import tracemalloc
from collections import Counter

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CONTROLS = ("kernelSize", "stride", "padding", "dilation", "filters", "poolSize", "poolStride",
            "longestSide")
NET_CONTROLS = ("inputSize", "bnMode", "netSeed", "handmadeConv1", "layerTable")


def memory_mb() -> tuple[float, float]:
    """``(resident, peak resident)`` of this process in MB (``VmRSS``, ``VmHWM``)."""
    fields = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(rest.split()[0]) / 1024  # kB -> MB
    return fields.get("VmRSS", float("nan")), fields.get("VmHWM", float("nan"))


class Tally:
    """Counts Qt warnings and Python exceptions, keeping the first few distinct texts."""

    KEEP = 5

    def __init__(self):
        self.quiet: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        self.exceptions: Counter[str] = Counter()

    def install(self) -> None:
        from PySide6.QtCore import QtMsgType, qInstallMessageHandler

        serious = {QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg}

        try:
            from convlab.ui.app import QUIET_QT_MESSAGES  # what the app itself leaves unprinted
        except ImportError:
            QUIET_QT_MESSAGES = ()
        self.quiet = Counter()

        def on_qt_message(kind, context, message):
            text = message.splitlines()[0][:200] if message else "(empty)"
            if kind in serious and any(q in text for q in QUIET_QT_MESSAGES):
                self.quiet[text] += 1
            elif kind in serious:
                self.warnings[text] += 1

        self._handler = on_qt_message  # kept alive: Qt holds only a borrowed reference
        qInstallMessageHandler(on_qt_message)
        sys.excepthook = lambda kind, exc, tb: self.exception(kind, exc, tb)
        threading.excepthook = lambda args: self.exception(args.exc_type, args.exc_value,
                                                           args.exc_traceback)

    def exception(self, kind, exc, tb) -> None:
        where = traceback.extract_tb(tb)[-1] if tb else None
        place = f" at {os.path.basename(where.filename)}:{where.lineno}" if where else ""
        self.exceptions[f"{kind.__name__}: {str(exc)[:160]}{place}"] += 1

    def report(self) -> list[str]:
        lines = [f"Qt warnings: {sum(self.warnings.values())} (and {sum(self.quiet.values())} "
                 f"plugin notes that convlab itself does not print: {', '.join(self.quiet)})",
                 *(f"  {n} x {text}" for text, n in self.warnings.most_common(self.KEEP)),
                 f"Python exceptions: {sum(self.exceptions.values())}",
                 *(f"  {n} x {text}" for text, n in self.exceptions.most_common(self.KEEP))]
        return lines


class Waiter:
    """Runs the event loop until a pane reports a result or a failure, or time runs out."""

    def __init__(self, pane):
        from PySide6.QtCore import QEventLoop, QTimer

        self.loop, self.timer = QEventLoop(), QTimer(singleShot=True)
        self.timer.timeout.connect(self.loop.quit)
        self.events = 0
        pane.resultReady.connect(self._on_event)
        if hasattr(pane, "failed"):  # not in the contract: used where the pane has it
            pane.failed.connect(self._on_event)
        elif hasattr(pane, "message"):  # the Network pane says a refusal in the message area
            pane.message.connect(self._on_event)

    def _on_event(self, *args) -> None:
        self.events += 1
        self.loop.quit()

    def mark(self) -> int:
        return self.events

    def wait(self, since: int, seconds: float) -> bool:
        """True once an event came after ``since``; False if ``seconds`` passed without one."""
        if self.events > since:
            return True
        self.timer.start(int(seconds * 1000))
        while self.events <= since and self.timer.isActive():
            self.loop.exec()
        self.timer.stop()
        return self.events > since


class PeakSampler(threading.Thread):
    """``--smaps``: catches the peak itself, not the state after the change.

    Every 2 ms it reads ``VmRSS`` (``/proc/self/statm``); when it passes ``floor`` MB and the
    highest it has seen by 2 MB, it records what is resident then, by mapping
    (``/proc/self/smaps``: the heap, anonymous mappings by size, files) and where each Python
    thread is (``sys._current_frames``), and the soak prints it after the change."""

    def __init__(self, floor: float):
        super().__init__(daemon=True, name="peak-sampler")
        self.floor, self.best, self.found = floor, 0.0, []
        self.page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
        self._stop = threading.Event()

    def run(self) -> None:
        with open("/proc/self/statm") as fh:
            while not self._stop.wait(0.002):
                fh.seek(0)
                rss = int(fh.read().split()[1]) * self.page_mb
                if rss >= max(self.floor, self.best + 2):
                    self.best = rss
                    self.found.append((rss, self.mappings(), self.stacks() + self.traced()))

    def stop(self) -> None:
        self._stop.set()

    @staticmethod
    def mappings() -> str:
        groups: Counter = Counter()
        name = ""
        size = 0
        with open("/proc/self/smaps") as fh:
            for line in fh:
                first = line.split()
                if not first:
                    continue
                if "-" in first[0] and not first[0].endswith(":"):
                    lo, hi = (int(x, 16) for x in first[0].split("-"))
                    size = (hi - lo) / 2**20
                    path = first[5] if len(first) > 5 else ""
                    name = (path if path.startswith("[") else
                            "file " + os.path.basename(path) if path else
                            f"anon {size:.0f} MB" if size >= 1 else "anon <1 MB")
                elif first[0] == "Rss:":
                    groups[name] += int(first[1]) / 1024
        total = sum(groups.values())
        heap = PeakSampler.malloc_info()
        top = ", ".join(f"{k}: {v:.0f}" for k, v in groups.most_common(12) if v >= 1)
        files = sum(v for k, v in groups.items() if k.startswith("file "))
        return f"Rss {total:.0f} MB (files {files:.0f}){heap}; {top}"

    @staticmethod
    def malloc_info() -> str:
        """glibc's ``mallinfo2`` over every arena: in use and free, outside the big mappings."""
        import ctypes

        class Info(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallinfo2.restype = Info
            i = libc.mallinfo2()
        except (OSError, AttributeError):
            return ""
        return (f"; malloc arenas {i.arena / 2**20:.0f} MB: in use {i.uordblks / 2**20:.0f},"
                f" free {i.fordblks / 2**20:.0f}; {i.hblks} mappings {i.hblkhd / 2**20:.0f} MB")

    @staticmethod
    def traced() -> str:
        """With ``--trace``: what NumPy and Python hold now, by the line that allocated it."""
        if not tracemalloc.is_tracing():
            return ""
        stats = tracemalloc.take_snapshot().statistics("lineno")
        total = sum(s.size for s in stats) / 2**20
        top = [f"{s.size / 2**20:.1f} MB {s.traceback[0].filename.split('convlab/')[-1]}"
               f":{s.traceback[0].lineno}" for s in stats[:12] if s.size >= 2**20]
        return f"\n      traced {total:.0f} MB: " + "\n        ".join(top)

    @staticmethod
    def stacks() -> str:
        out = []
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            if names.get(ident) == "peak-sampler":
                continue
            chain = []
            while frame is not None and len(chain) < 4:
                code = frame.f_code
                chain.append(f"{os.path.basename(code.co_filename)}:{frame.f_lineno} {code.co_name}")
                frame = frame.f_back
            out.append(f"{names.get(ident, ident)}: " + " < ".join(chain))
        return "\n      ".join(out)


def pump(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def find_explorer(win, control):
    """The explorer widget: the nearest parent of the controls with ``resultReady``."""
    widget = control
    while widget is not None and not hasattr(widget, "resultReady"):
        widget = widget.parentWidget()
    if widget is None:
        raise SystemExit("no parent of kernelSize has resultReady: the UI contract changed")
    return widget


def sample_paths() -> list:
    """The bundled sample photos (``convlab.pipelines.samples``, formerly ``convlab.samples``)."""
    for module in ("convlab.pipelines.samples", "convlab.samples"):
        try:
            return list(__import__(module, fromlist=["list_samples"]).list_samples())
        except ImportError:
            continue
    from importlib.resources import files
    return sorted(p for p in (files("convlab.resources") / "samples").iterdir()
                  if p.name.lower().endswith((".jpg", ".jpeg", ".png")))


def next_value(rng, widget, max_side: int) -> int:
    """A step of 1..3 either way (70 %) or a jump anywhere in the control's range (30 %)."""
    lo, hi = widget.minimum(), widget.maximum()
    if widget.objectName() == "longestSide":
        hi = max(lo, min(hi, max_side))
    if rng.random() < 0.7:
        value = widget.value() + int(rng.choice([-3, -2, -1, 1, 2, 3]))
    else:
        value = int(rng.integers(lo, hi + 1))
    return max(lo, min(hi, value))


def change(rng, win, controls: dict, tabs, samples: list, max_side: int) -> tuple[str, bool]:
    """Make one random explorer change: ``(what it was, whether it starts a computation)``."""
    roll = rng.random()
    if roll < 0.03 and tabs is not None and tabs.count() > 1:
        tabs.setCurrentIndex(int(rng.integers(tabs.count())))
        return "pane", False
    if roll < 0.06 and samples:
        win.open_image(samples[int(rng.integers(len(samples)))])
        return "sample", True
    name = CONTROLS[int(rng.integers(len(CONTROLS)))]
    widget = controls[name]
    old = widget.value()
    widget.setValue(next_value(rng, widget, max_side))
    return name, widget.value() != old


def change_network(rng, net_controls: dict) -> tuple[str, bool]:
    """One random change of the Network pane's own controls (AlexBN stays the model).

    ``inputSize`` steps or jumps within its range, ``bnMode`` and ``handmadeConv1`` flip,
    ``netSeed`` takes one of 4 seeds (each a rebuild of AlexBN's 250 MB of weights), and a
    random row of ``layerTable`` is selected (its maps are drawn; no new forward pass)."""
    name = NET_CONTROLS[int(rng.integers(len(NET_CONTROLS)))]
    widget = net_controls[name]
    if name == "inputSize":
        old = widget.value()
        widget.setValue(next_value(rng, widget, widget.maximum()))
        return name, widget.value() != old
    if name == "bnMode":
        widget.setCurrentIndex((widget.currentIndex() + 1) % widget.count())
        return name, widget.count() > 1
    if name == "netSeed":
        old = widget.value()
        widget.setValue(int(rng.integers(4)))
        return name, widget.value() != old
    if name == "handmadeConv1":
        widget.setChecked(not widget.isChecked())
        return name, True
    model = widget.model()
    if model is not None and model.rowCount() > 0:
        widget.selectRow(int(rng.integers(model.rowCount())))
    return name, False


def describe(win, controls: dict) -> str:
    """The explorer's settings, its shown stage, the pane in front and the network's input."""
    values = " ".join(f"{name.replace('Size', '').replace('longestSide', 'side')}={w.value()}"
                      for name, w in controls.items())
    explorer, network = getattr(win, "explorer", None), getattr(win, "network", None)
    stage = getattr(explorer, "stage", None)
    front = "network" if win.current_pane() is network else "explorer"
    from PySide6.QtWidgets import QWidget

    net_in = win.findChild(QWidget, "inputSize")
    return (f"{values} stage={stage} front={front}"
            f"{f' net input={net_in.value()}' if net_in is not None else ''}")


def soak(args) -> int:
    import numpy as np
    from PySide6.QtWidgets import QApplication, QTabWidget, QWidget

    from convlab.ui.app import limit_heap_growth
    from convlab.ui.main_window import MainWindow

    if args.trace:
        tracemalloc.start(args.trace_frames)
    limit_heap_growth()  # what ``convlab`` does before its QApplication (convlab.ui.app.make_app)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    tally = Tally()
    tally.install()
    start_rss, _ = memory_mb()
    t0 = time.perf_counter()
    sampler = PeakSampler(args.smaps) if args.smaps else None
    win = MainWindow()
    win.resize(1280, 800)
    win.show()
    controls = {name: win.findChild(QWidget, name) for name in CONTROLS}
    net_controls = {name: win.findChild(QWidget, name) for name in NET_CONTROLS}
    missing = [name for name, w in {**controls, **net_controls}.items() if w is None]
    if missing:
        raise SystemExit(f"controls missing from the window: {missing}")
    explorer = find_explorer(win, controls["kernelSize"])
    network = getattr(win, "network", None)
    waiters = {"explorer": Waiter(explorer), "network": Waiter(network)}
    waiters["explorer"].wait(0, max(args.wait, 60))  # the first result at the defaults
    tabs = win.findChild(QTabWidget, "paneTabs") or win.findChild(QTabWidget)
    rss, _ = memory_mb()
    print(f"start: {start_rss:.0f} MB before the window, {rss:.0f} MB with its first result "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    win.show_pane(network)  # AlexBN loaded once, as a user looking at it would
    waiters["network"].wait(0, max(args.wait, 120))
    rss, peak = memory_mb()
    print(f"AlexBN shown: {rss:.0f} MB resident, peak {peak:.0f} MB "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    samples = sample_paths()
    if sampler is not None:
        sampler.start()
    rng = np.random.default_rng(args.seed)
    kinds, timeouts, every = Counter(), 0, max(1, args.n // 10)
    deadline = t0 + 60 * args.max_minutes if args.max_minutes else float("inf")
    done, shown_peak, first_snapshot = 0, 0.0, None
    skipping = args.fast_forward > 0
    if skipping:  # the same changes, none computed: the state of change K quickly, to replay
        from convlab.ui import worker as worker_module
        real_submit = worker_module.LatestWorker.submit
        worker_module.LatestWorker.submit = lambda self, fn: self.latest_id
    for i in range(1, args.n + 1):
        if skipping and i > args.fast_forward:
            skipping = False
            worker_module.LatestWorker.submit = real_submit
            before = {name: w.mark() for name, w in waiters.items()}
            explorer.refresh()
            network.refresh()
            for name, w in waiters.items():
                w.wait(before[name], 60)
            rss, peak = memory_mb()
            print(f"fast-forwarded {args.fast_forward} changes: {rss:.0f} MB resident, peak "
                  f"{peak:.0f} MB: {describe(win, controls)}", flush=True)
        if time.perf_counter() > deadline:
            print(f"stopped by --max-minutes {args.max_minutes:g} after {done} changes", flush=True)
            break
        done = i
        on_network = win.current_pane() is network
        pane = "network" if on_network and rng.random() < args.net_share else "explorer"
        before, computes = waiters[pane].mark(), False
        try:
            kind, computes = (change_network(rng, net_controls) if pane == "network" else
                              change(rng, win, controls, tabs, samples, args.max_side))
            kinds[kind] += 1
        except Exception:  # noqa: BLE001 - counted with the others, then the soak goes on
            tally.exception(*sys.exc_info())
        if skipping:
            continue
        if computes and not waiters[pane].wait(before, args.wait):
            timeouts += 1
        pump(1 if computes else 50)  # a pane switch or a clamped value: let the window react
        if args.peaks:
            _, peak = memory_mb()
            if peak >= max(args.peaks, shown_peak + 2):
                shown_peak = peak
                print(f"  peak {peak:.0f} MB after change {i} ({kind}): {describe(win, controls)}",
                      flush=True)
                if tracemalloc.is_tracing():
                    now, traced = tracemalloc.get_traced_memory()
                    print(f"    traced now {now / 2**20:.0f} MB, peak since the last change "
                          f"{traced / 2**20:.0f} MB; held most by:", flush=True)
                    for stat in tracemalloc.take_snapshot().statistics("lineno")[:5]:
                        frame = stat.traceback[0]
                        print(f"      {stat.size / 2**20:6.1f} MB {frame.filename.split('convlab/')[-1]}"
                              f":{frame.lineno}", flush=True)
            if tracemalloc.is_tracing():
                tracemalloc.reset_peak()
        while sampler is not None and sampler.found:
            rss, maps, stacks = sampler.found.pop(0)
            print(f"  resident {rss:.0f} MB during change {i} ({kind}): {describe(win, controls)}\n"
                  f"    {maps}\n      {stacks}", flush=True)
        if args.trace and i in (args.n // 3, args.n):  # what Python holds more at the end
            import gc
            gc.collect()
            snap = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)])
            if i == args.n and first_snapshot is not None:
                print(f"grown between change {args.n // 3} and {args.n} (tracemalloc):")
                for stat in snap.compare_to(first_snapshot, "traceback")[:8]:
                    where = " < ".join(f"{f.filename.split('site-packages/')[-1].split('convlab/')[-1]}"
                                       f":{f.lineno}" for f in list(stat.traceback)[-4:][::-1])
                    print(f"  {stat.size_diff / 2**10:+9.0f} KB {stat.count_diff:+7d} blocks  {where}")
            first_snapshot = snap
        if i % every == 0 or i == args.n or i % 500 == 0:
            rss, peak = memory_mb()
            print(f"{i:>6} changes: {rss:.0f} MB resident, peak {peak:.0f} MB, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    elapsed = time.perf_counter() - t0
    win.close()
    pump(200)
    rss, peak = memory_mb()
    print(f"\nchanges: {done} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    print(f"changes with no result or failure within {args.wait:g} s: {timeouts}")
    print(f"resident memory: start {start_rss:.0f} MB, final {rss:.0f} MB, peak {peak:.0f} MB")
    print(f"run time: {elapsed:.0f} s")
    from convlab.ui.worker import TRIM
    if TRIM["calls"]:
        print(f"malloc_trim after heavy jobs: {TRIM['calls']} calls, "
              f"{1e3 * TRIM['seconds'] / TRIM['calls']:.2f} ms each on average")
    print("\n".join(tally.report()))
    app.processEvents()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="random changes (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peaks", type=float, default=0,
                        help="print each rise of the peak above this many MB with the settings "
                             "then (0: off)")
    parser.add_argument("--trace", action="store_true",
                        help="with --peaks: also what Python and NumPy hold then (tracemalloc; "
                             "slower, and its own bookkeeping adds to the figures)")
    parser.add_argument("--fast-forward", type=int, default=0, metavar="K",
                        help="make the first K changes without computing (the same random "
                             "changes), then compute that state and go on: replays a peak")
    parser.add_argument("--smaps", type=float, default=0,
                        help="sample VmRSS every 2 ms and, at each new high above this many MB, "
                             "print the resident memory by mapping and each thread's stack then")
    parser.add_argument("--trace-frames", type=int, default=1,
                        help="with --trace: frames kept per allocation (default 1); with more, "
                             "the end of the run also prints what grew since change N/3")
    parser.add_argument("--wait", type=float, default=20.0,
                        help="seconds to wait for each change's result (default 20)")
    parser.add_argument("--max-side", type=int, default=512,
                        help="largest longestSide value tried (default 512, the window's default)")
    parser.add_argument("--max-minutes", type=float, default=0,
                        help="stop (and report) after this many minutes; 0: no limit")
    parser.add_argument("--net-share", type=float, default=0.15,
                        help="share of the changes made while the Network pane is in front that "
                             "go to its controls (default 0.15)")
    return soak(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
