"""The settings as code, ready to copy: a read-only text box with a Copy button."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QWidget


class CodeView(QWidget):
    """``box`` holds the code (object name ``name``); the button copies it to the clipboard."""

    def __init__(self, name: str, what: str, parent=None):
        super().__init__(parent)
        self.box = QPlainTextEdit(objectName=name, readOnly=True)
        self.box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.box.setAcceptDrops(False)  # a dropped photo goes to the window, not into the code
        copy = QPushButton(f"Copy {what} code", objectName=f"{name}Copy")
        copy.clicked.connect(self.copy)
        layout = QHBoxLayout(self)
        layout.addWidget(self.box, 1)
        layout.addWidget(copy, 0, Qt.AlignmentFlag.AlignTop)

    def set_code(self, text: str) -> None:
        if text != self.box.toPlainText():
            self.box.setPlainText(text)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.box.toPlainText())
