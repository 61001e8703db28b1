"""The histogram of one map, drawn in the map's own colours: how its values are spread.

Counted from the map's colour indices (``uint8``, 0..255 over ``lo..hi``, the montage already
holds them), grouped into :data:`BINS` bars, each bar painted with the table's colour at its
middle, so the histogram doubles as a colour bar. A dashed line marks the mean, a solid one
zero (when it lies inside the range).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from convlab.ui.widgets.colour_bar import format_value

BINS = 64  # bars; 256 colour indices / 4
TOOLTIP = ("Histogram of this map's values, coloured as the map is. A tall bar at the left "
           "edge after a ReLU is the share of zeros: the outputs the ReLU switched off. Dashed: "
           "the mean; white: zero.")


def index_histogram(indices: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Counts of uint8 colour indices in ``bins`` equal groups of the 256 levels: ``(bins,)``."""
    counts = np.bincount(np.asarray(indices, np.uint8).ravel(), minlength=256)  # (256,)
    return counts.reshape(bins, 256 // bins).sum(axis=1)


class Histogram(QWidget):
    """See the module docstring. ``set_data(indices, lo, hi, mean, lut)``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("mapHistogram")
        self.setToolTip(TOOLTIP)
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.counts = np.zeros(BINS, np.int64)
        self.lo = self.hi = self.mean = 0.0
        self._colours: list[QColor] = []

    def set_data(self, indices: np.ndarray, lo: float, hi: float, mean: float, lut) -> None:
        self.counts = index_histogram(indices)
        self.lo, self.hi, self.mean = float(lo), float(hi), float(mean)
        step = 256 // BINS
        table = np.asarray(lut)
        self._colours = [QColor(*map(int, table[b * step + step // 2][:3])) for b in range(BINS)]
        self.update()

    def _x(self, value: float, plot: QRectF) -> float | None:
        if not self.hi > self.lo or not self.lo <= value <= self.hi:
            return None
        return plot.left() + (value - self.lo) / (self.hi - self.lo) * plot.width()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        text_h = self.fontMetrics().height()
        plot = QRectF(2, 2, self.width() - 4, self.height() - text_h - 6)
        painter.fillRect(plot, QColor(27, 29, 33))
        top = max(int(self.counts.max()), 1)
        width = plot.width() / BINS
        for b, count in enumerate(self.counts):
            if count and b < len(self._colours):
                h = max(1.0, plot.height() * count / top)
                painter.fillRect(QRectF(plot.left() + b * width, plot.bottom() - h, width, h),
                                 self._colours[b])
        for value, pen in ((0.0, QPen(QColor(255, 255, 255, 200), 1)),
                           (self.mean, QPen(QColor(255, 200, 80), 1, Qt.PenStyle.DashLine))):
            x = self._x(value, plot)
            if x is not None:
                painter.setPen(pen)
                painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        painter.setPen(self.palette().text().color())
        below = QRectF(plot.left(), plot.bottom() + 2, plot.width(), text_h + 2)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft, format_value(self.lo))
        painter.drawText(below, Qt.AlignmentFlag.AlignRight, format_value(self.hi))
        painter.end()
