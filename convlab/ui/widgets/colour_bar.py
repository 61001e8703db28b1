"""A colour bar: the 256 colours of the view's table from ``lo`` to ``hi``, with the numbers.

The same table as the maps (:func:`convlab.render.colour.lut`): index ``rint((v - lo) / (hi -
lo) * 255)`` is the colour of value ``v``, so the bar reads the maps. ``levels()`` is the
``(lo, hi)`` shown; ``note`` says which scaling gave it ("map 5", "shared by all maps").
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from convlab.render import colour

TOOLTIP = ("Colour bar: which value each colour stands for, in the current scaling. Per map, "
           "each tile has its own range (the hovered map's is shown); shared, one range for all.")


STEP = 20  # the minimum width grows and shrinks in steps of this many pixels
MIN_BAR = 30  # the bar itself, at least


def format_value(v: float) -> str:
    """Short, but 4 significant digits (``-0.0123``, ``1.235e+04``)."""
    return f"{v:.4g}"


class ColourBar(QWidget):
    """A horizontal bar of the lookup table between ``lo`` and ``hi`` (see the module docstring)."""

    def __init__(self, parent=None, *, lut=None):
        super().__init__(parent)
        self.setObjectName("colourBar")
        self.setToolTip(TOOLTIP)
        # its minimum width is minimumSizeHint (120 px, more for long numbers): never set fixed
        self.setFixedHeight(self.fontMetrics().height() + 6)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._lo, self._hi = 0.0, 1.0
        self._valid = False
        self.note = ""
        self._image = None
        self._least = 0  # the minimum width last asked of the layout
        self.set_lut(lut)

    def set_lut(self, lut) -> None:
        """A ``(256, 3)`` uint8 table (None: viridis)."""
        lut = colour.lut("viridis") if lut is None else lut
        table = np.ascontiguousarray(np.asarray(lut, dtype=np.uint8)[None, :, :3])  # (1, 256, 3)
        self._table = table
        self._image = QImage(table.data, table.shape[1], 1, 3 * table.shape[1],
                             QImage.Format.Format_RGB888)
        self.update()

    def table(self) -> np.ndarray:
        """The ``(256, 3)`` table shown."""
        return self._table[0]

    def set_levels(self, lo: float, hi: float, note: str = "") -> None:
        """Show the range ``lo..hi``; ``note`` names the scaling that gave it."""
        self._lo, self._hi, self.note, self._valid = float(lo), float(hi), note, True
        least = -(-self.needed_width() // STEP) * STEP  # in steps: few relayouts while hovering
        if least != self._least:
            self._least = least
            self.updateGeometry()  # the layout gives the numbers their room (issue 24)
        self.update()

    def _texts(self) -> tuple[str, str]:
        lo_text = format_value(self._lo) if self._valid else ""
        hi_text = format_value(self._hi) if self._valid else ""
        note = f"  {self.note}" if self.note and self._valid else ""
        return lo_text, hi_text + note

    def needed_width(self) -> int:
        """Pixels the two numbers, the note and a short bar need."""
        metrics = self.fontMetrics()
        left, right = self._texts()
        return metrics.horizontalAdvance(left) + metrics.horizontalAdvance(right) + 12 + MIN_BAR

    def minimumSizeHint(self) -> QSize:
        return QSize(max(120, self._least), super().minimumSizeHint().height())

    def clear(self) -> None:
        self._valid = False
        self.note = ""
        self.update()

    def levels(self) -> tuple[float, float] | None:
        return (self._lo, self._hi) if self._valid else None

    def text(self) -> str:
        if not self._valid:
            return ""
        where = f" ({self.note})" if self.note else ""
        return f"{format_value(self._lo)} to {format_value(self._hi)}{where}"

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        metrics = self.fontMetrics()
        lo_text, hi_text = self._texts()
        left_w = metrics.horizontalAdvance(lo_text) + 6
        right_w = metrics.horizontalAdvance(hi_text) + 6
        bar = QRectF(left_w, 3, max(self.width() - left_w - right_w, 10), self.height() - 6)
        if self._image is not None:
            painter.drawImage(bar, self._image)
        painter.setPen(QColor(120, 124, 132))
        painter.drawRect(bar)
        painter.setPen(self.palette().text().color())
        flags = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRectF(0, 0, left_w - 4, self.height()),
                         flags | Qt.AlignmentFlag.AlignRight, lo_text)
        painter.drawText(QRectF(bar.right() + 4, 0, right_w, self.height()),
                         flags | Qt.AlignmentFlag.AlignLeft, hi_text)
        painter.end()
