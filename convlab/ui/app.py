"""The QApplication: Fusion with a dark palette, pyqtgraph options, and the window's main loop."""

from __future__ import annotations

import sys

from PySide6.QtCore import QSettings, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

DARK = {
    QPalette.ColorRole.Window: "#2a2d33", QPalette.ColorRole.WindowText: "#e3e6ea",
    QPalette.ColorRole.Base: "#1f2227", QPalette.ColorRole.AlternateBase: "#252a31",
    QPalette.ColorRole.ToolTipBase: "#30343b", QPalette.ColorRole.ToolTipText: "#e3e6ea",
    QPalette.ColorRole.Text: "#e3e6ea", QPalette.ColorRole.Button: "#343840",
    QPalette.ColorRole.ButtonText: "#e3e6ea", QPalette.ColorRole.BrightText: "#ff7b72",
    QPalette.ColorRole.Highlight: "#3d7fd6", QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#7cc4ff", QPalette.ColorRole.PlaceholderText: "#8b95a3",
}


def apply_theme(app: QApplication) -> None:
    """Fusion with a dark palette: maps and photos read better on a dark surround."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6d747e"))
    app.setPalette(palette)


# Qt plugin notes that are no fault of the user's and say nothing actionable (the offscreen
# plugin prints the first on every window shown); every other Qt message still goes to stderr
QUIET_QT_MESSAGES = ("does not support propagateSizeHints",)


def _qt_message(kind, _context, text: str) -> None:
    if kind == QtMsgType.QtDebugMsg or any(quiet in text for quiet in QUIET_QT_MESSAGES):
        return
    print(text, file=sys.stderr)


def limit_heap_growth() -> bool:
    """On glibc, keep freed large arrays from staying resident; True when applied.

    glibc raises its mmap threshold (up to 32 MB) each time a large block is freed, after which
    maps of a few MB come from the heap, fragment it and are never given back: a long session
    grew to about 1 GB. A fixed threshold (1 MB: every map array is its own mapping, returned
    to the system when freed) and a trim limit keep resident memory near what is in use. Two
    malloc arenas instead of one per thread (the workers' freed blocks under 1 MB stay in their
    arenas): 12-16 MB less at the peak of ``benchmarks/memory_breakdown.py``. And heavy workers
    call ``malloc_trim`` after each job (``worker.release_free_memory``): the arenas' free
    pages, 31-46 MB at the peaks of a 10,000-change soak, go back to the system.
    """
    import ctypes
    import ctypes.util

    from convlab.pipelines import heap

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        M_ARENA_MAX = -8
        applied = bool(heap.set_thresholds(*heap.WINDOW) and
                       libc.mallopt(M_ARENA_MAX, 2) and hasattr(libc, "malloc_trim"))
    except (OSError, AttributeError):  # musl or another libc: nothing to tune
        return False
    from convlab.ui import worker

    worker.TRIM["fn"] = libc.malloc_trim if applied else None  # heavy workers, after each job
    return applied


def make_app(argv: list[str] | None = None, *, theme: bool = True) -> QApplication:
    """The process's QApplication (created once), named for QSettings, themed."""
    app = QApplication.instance()
    if app is None:
        qInstallMessageHandler(_qt_message)
        limit_heap_growth()
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName("ConvLab")
    app.setApplicationName("ConvLab")
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=False, useOpenGL=False)
    if theme:
        apply_theme(app)
    return app


def run_app(image_path: str | None = None) -> int:
    """``convlab [IMAGE]``: open the window and run until it is closed; returns the exit code."""
    app = make_app()
    from convlab.ui.main_window import MainWindow
    from convlab.ui.worker import finish

    window = MainWindow(image_path, settings=QSettings())
    window.show()
    return finish(int(app.exec()))  # ends the process even over a job that will not stop
