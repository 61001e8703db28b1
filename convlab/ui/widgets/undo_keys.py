"""Undo and redo keys that reach the window's undo actions from inside a number box."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox


class UndoKeysToTheStack(QObject):
    """Lets Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y) reach the window's undo actions from a spin box
    whose value is committed: its QLineEdit would take them for its own text undo (a
    ShortcutOverride it accepts), so the edit just made could not be undone from the keyboard.
    Text typed but not yet committed is still undone by the box itself."""

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        if not any(event.matches(key) for key in (QKeySequence.StandardKey.Undo,
                                                  QKeySequence.StandardKey.Redo)):
            return False
        spin = watched if isinstance(watched, QAbstractSpinBox) else watched.parentWidget()
        committed = not isinstance(spin, QAbstractSpinBox) or spin.text() == \
            spin.textFromValue(spin.value()) or spin.text() == spin.specialValueText()
        return committed  # True: not accepted, so the shortcut goes to the undo stack

    def watch(self, spin: QAbstractSpinBox) -> None:
        """The box (the focus widget, which hands keys to its line edit) and its line edit."""
        spin.installEventFilter(self)
        spin.lineEdit().installEventFilter(self)
