"""A one-line label that ends in "…" where its text does not fit, with the whole text as its
tooltip: hover lines and status texts whose width the layout, not the text, decides."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    """``text()`` is the whole text; what is painted is elided to the width (plain text only).
    Where it is elided the tooltip is the whole text, else the tooltip given."""

    def __init__(self, text: str = "", parent=None, *, ignored: bool = False, **kwargs):
        super().__init__(text, parent, **kwargs)
        self.setTextFormat(Qt.TextFormat.PlainText)
        if ignored:  # its text never widens its parent's size hint either
            self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(1)
        self._saved_tip: str | None = None  # the tooltip given, while the whole text replaces it

    def shown_text(self) -> str:
        """The text as painted: elided to the contents' width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())

    def minimumSizeHint(self) -> QSize:
        return QSize(1, super().minimumSizeHint().height())

    def paintEvent(self, event) -> None:
        shown = self.shown_text()
        if shown != self.text() and self.toolTip() != self.text():
            if self._saved_tip is None:
                self._saved_tip = self.toolTip()
            self.setToolTip(self.text())
        elif shown == self.text() and self._saved_tip is not None:
            self.setToolTip(self._saved_tip)
            self._saved_tip = None
        painter = QPainter(self)
        align = self.alignment()
        if not align & Qt.AlignmentFlag.AlignVertical_Mask:
            align |= Qt.AlignmentFlag.AlignVCenter
        self.style().drawItemText(painter, self.contentsRect(), int(align), self.palette(),
                                  self.isEnabled(), shown, self.foregroundRole())
