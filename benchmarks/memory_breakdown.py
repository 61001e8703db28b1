"""Where the window's resident memory goes: VmRSS and tracemalloc after each kind of change.

    python benchmarks/memory_breakdown.py [--top 6] [--max-side 512] [--trim]

Opens the real window offscreen (no QSettings), shows the Network pane (AlexBN loaded), then
makes one change of each kind that the soak (``benchmarks/soak.py``) makes, the heaviest within
the window's default range: a 256-filter 1x1 stride-1 explorer stage, then 15x15 (the deepest
blocks), a stage switch, another
sample, a new AlexBN seed, hand-made conv1, a larger network input. After each it prints the
resident memory (``VmRSS``, ``VmHWM``), what Python and NumPy hold (``tracemalloc``: current
and peak during the change) and the allocation sites holding the most, by file and line.
NumPy reports its array buffers to tracemalloc; Qt's own (QImage, pixmaps) are in VmRSS only.

Never part of the test suite; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

from soak import Waiter, memory_mb, pump  # noqa: E402


TRIM = False  # --trim: also give the heap's free pages back after each change (glibc)


def report(label: str, top: int) -> None:
    rss, peak = memory_mb()
    current, traced_peak = tracemalloc.get_traced_memory()
    print(f"\n== {label}: VmRSS {rss:.0f} MB (VmHWM {peak:.0f}); traced now {current / 2**20:.0f} MB,"
          f" peak during the change {traced_peak / 2**20:.0f} MB")
    stats = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]).statistics("lineno")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        where = f"{os.path.relpath(frame.filename, os.getcwd())}:{frame.lineno}"
        print(f"   {stat.size / 2**20:8.1f} MB in {stat.count:6d} blocks  {where}")
    tracemalloc.reset_peak()
    if TRIM:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        print(f"   after malloc_trim(0): VmRSS {memory_mb()[0]:.0f} MB")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=6)
    parser.add_argument("--max-side", type=int, default=512)
    parser.add_argument("--trim", action="store_true",
                        help="call glibc's malloc_trim(0) after each change and print VmRSS again")
    args = parser.parse_args(argv)
    global TRIM
    TRIM = args.trim
    from PySide6.QtWidgets import QApplication, QWidget

    from convlab.ui.app import limit_heap_growth
    from convlab.ui.main_window import MainWindow

    limit_heap_growth()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    tracemalloc.start(1)
    win = MainWindow()
    win.resize(1280, 800)
    win.show()
    explorer, network = win.explorer, win.network
    waits = {"explorer": Waiter(explorer), "network": Waiter(network)}

    def do(label, pane, action, seconds=120):
        since = waits[pane].mark()
        action()
        waits[pane].wait(since, seconds)
        pump(300)
        report(label, args.top)

    waits["explorer"].wait(0, 60)
    report("window with its first explorer result", args.top)
    do("Network pane shown (AlexBN built, run at 227)", "network", lambda: win.show_pane(network))
    find = lambda name: win.findChild(QWidget, name)  # noqa: E731
    heavy = (("longestSide", args.max_side), ("poolSize", 1), ("stride", 1), ("kernelSize", 1),
             ("padding", 10), ("filters", 256), ("kernelSize", 15))
    for name, value in heavy:
        do(f"explorer {name} = {value}", "explorer", lambda n=name, v=value: find(n).setValue(v))
    do("explorer stage switched to conv", "explorer", lambda: explorer.show_stage("conv")
       if hasattr(explorer, "show_stage") else None, 30)
    from convlab.pipelines.samples import list_samples
    samples = list(list_samples())
    do("another sample photo", "explorer", lambda: win.open_image(samples[-1]))
    do("AlexBN seed 1 (a rebuild)", "network", lambda: find("netSeed").setValue(1))
    do("hand-made conv1 (a rebuild)", "network", lambda: find("handmadeConv1").setChecked(True))
    do("network input 512", "network", lambda: find("inputSize").setValue(512))
    do("explorer back to filters 96", "explorer", lambda: find("filters").setValue(96))
    win.close()
    pump(200)
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
