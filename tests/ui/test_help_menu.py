"""The Help menu: shortcuts, "What am I looking at?" and About, non-modal (issue 24)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QPushButton

from convlab import __version__


def help_actions(window) -> dict[str, QAction]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return {a.objectName(): a for a in menu.actions()}


def test_help_is_the_last_menu_with_three_pages(window):
    assert window.menuBar().actions()[-1].text() == "&Help"
    assert set(help_actions(window)) == {"actionShortcuts", "actionWhatIsThis", "actionAbout"}


def test_the_shortcuts_page_lists_the_real_keys_and_leaves_the_window_usable(qtbot, window):
    help_actions(window)["actionShortcuts"].trigger()
    page = window.help_menu.windows["helpShortcuts"]
    assert page.isVisible() and not page.isModal()
    text = page.text()
    for key, what in (("Ctrl+E", "Current map as PNG"), ("Ctrl+Shift+R", "Reset to defaults"),
                      ("Ctrl+Z", "Undo"), ("F1", "Keyboard shortcuts")):
        assert key in text and what in text, (key, what)
    assert "Ctrl+Z\nUndo\n" in text  # Edit > Undo owns the key: it acts on the pane in front
    assert "Escape" in text and "Space" in text
    button = window.findChild(QPushButton, "resetDefaults")  # the window still takes clicks
    with qtbot.waitSignal(window.explorer.controls.resetRequested, timeout=2000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_what_am_i_looking_at_starts_with_the_pane_in_front(qtbot, window):
    help_actions(window)["actionWhatIsThis"].trigger()
    text = window.help_menu.windows["helpGuide"].text()
    assert text.index("The Explorer") < text.index("The Network pane")
    assert "⌊(in + 2p − d(k − 1) − 1) / s⌋ + 1" in text and "max(x, 0)" in text
    window.show_pane(window.network)
    help_actions(window)["actionWhatIsThis"].trigger()
    text = window.help_menu.windows["helpGuide"].text()
    assert text.index("The Network pane") < text.index("The Explorer")
    assert "jump" in text and "receptive field" in text


def test_about_names_the_version_licences_and_backend(window):
    from convlab.engine.backend import get_backend

    help_actions(window)["actionAbout"].trigger()
    page = window.help_menu.windows["helpAbout"]
    assert not page.isModal() and page.isVisible()
    text = page.text()
    assert f"ConvLab {__version__}" in text and "MIT" in text and "LGPL" in text
    assert get_backend().description in text
