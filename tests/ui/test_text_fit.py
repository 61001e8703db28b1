"""Every text of both panes fits its widget, at 1280x800 and at the window's minimum size, on
every tab page (issue 24: clipping was found by eye, from screenshots)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QTabWidget

from tests.ui.helpers import RESULT_MS
from tests.ui.text_fit import text_problems

NET_MS = max(RESULT_MS, 60_000)


def settle(qtbot, win, pane):
    qtbot.wait(50)  # layouts and the relayout timers
    qtbot.waitUntil(pane.settled, timeout=NET_MS)
    QApplication.processEvents()


def pages(pane):
    """Every tab page inside ``pane``, made current one after the other."""
    for tabs in pane.findChildren(QTabWidget):
        if not tabs.isVisible():
            continue
        for index in range(tabs.count()):
            tabs.setCurrentIndex(index)
            yield f"{tabs.objectName() or 'tabs'}:{tabs.tabText(index)}"
        tabs.setCurrentIndex(0)


@pytest.mark.parametrize("size", ["1280x800", "minimum"])
@pytest.mark.parametrize("which", ["explorer", "network"])
def test_every_text_fits_on_every_page(qtbot, window, which, size):
    pane = getattr(window, which)
    window.show_pane(pane)
    if size == "minimum":
        hint = window.minimumSizeHint().expandedTo(window.minimumSize())
        window.resize(hint)
    else:
        window.resize(1280, 800)
    settle(qtbot, window, pane)
    problems = []
    for page in pages(pane):
        settle(qtbot, window, pane)
        problems += [f"{page}: {p}" for p in text_problems(window, scrolling=size == "minimum")]
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_diagram_with_the_bottom_right_corner_fits(qtbot, window):
    window.resize(1280, 800)
    explorer = window.explorer
    explorer.map_tabs.setCurrentWidget(explorer.diagram)
    panel = explorer.diagram
    panel.corner.setCurrentIndex(panel.corner.findData("bottom-right"))
    settle(qtbot, window, explorer)
    panel.canvas.grab()
    rects = [rect for _, rect in panel.canvas.titles]
    assert all(r.top() >= 0 and r.right() <= panel.canvas.width() for r in rects)
    assert not any(a.intersects(b) for n, a in enumerate(rects) for b in rects[n + 1:])
    assert not text_problems(window)
