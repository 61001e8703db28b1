"""What a new user hit (issue 24), pressed through Qt as a person presses it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget

from tests.ui.clicks import click_map
from tests.ui.helpers import RESULT_MS, change_and_wait


def explained_at(qtbot, win, stage, c, i, j):
    side = win.explorer.explain

    def ready():
        e = side.panel.explanation
        return e is not None and (e.stage, e.channel, e.i, e.j) == (stage, c, i, j)

    qtbot.waitUntil(ready, timeout=RESULT_MS)
    return side.panel.explanation


def test_clicking_unpin_releases_the_pinned_value(qtbot, window):
    explorer = window.explorer
    click_map(qtbot, explorer.view, 3, 5, 6)
    side = explorer.explain
    assert side.pinned is not None and side.pinned[:2] == (explorer.output.stage, 3)
    explained_at(qtbot, window, *side.pinned)
    assert side.panel.unpin_button.isEnabled()
    qtbot.mouseClick(side.panel.unpin_button, Qt.MouseButton.LeftButton)
    assert side.pinned is None
    assert not side.panel.pinned and not side.panel.unpin_button.isEnabled()
    assert not side.view.pin_mark.isVisible()


def test_escape_unpins(qtbot, window):
    explorer = window.explorer
    click_map(qtbot, explorer.view, 2, 4, 4)
    assert explorer.explain.pinned is not None
    qtbot.keyClick(explorer.view.canvas, Qt.Key.Key_Escape)
    assert explorer.explain.pinned is None
