"""The window's message line: errors and notices, never a modal dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class MessageArea(QWidget):
    """The non-modal message line above the status bar; ``text()`` is the current message."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel("", objectName="messageArea", wordWrap=True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(text="✕", autoRaise=True, toolTip="Dismiss")
        close.clicked.connect(self.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(close)
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_message(self, text: str, level: str = "error") -> None:
        colour = {"error": "#5c2327", "info": "#1f3a56"}.get(level, "#1f3a56")
        self.setStyleSheet(f"MessageArea {{ background: {colour}; }} QLabel {{ color: #f2f2f2; }}")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.label.setText(text)
        self.show()

    def clear(self) -> None:
        self.label.setText("")
        self.hide()
