"""The input the explorer computes on, with its padding band and the window one value read.

The photo is shown as the convolution reads it (scaled to "Explore at", grey when the input is
one channel); the zero padding around it is a hatched band ``padding`` pixels wide, in image
pixels. :meth:`InputView.show_window` draws, for one explained value, each of the k x k taps
(dilation gaps between them; taps in the padding in the band's colour), the bounding box of
the input it sees (dashed where it reaches into the padding) and, for pooling, the winner's
window. Wheel zooms, drag pans, double-click fits; :meth:`zoom_to_window` frames the taps.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QToolButton

from convlab.engine.arithmetic import pad_pairs
from convlab.ui.widgets.canvas import ImageCanvas

PAD_COLOUR = QColor(224, 150, 40)  # the padding band and taps that fall in it
TAP_COLOUR = QColor(255, 255, 255)
FIELD_COLOUR = QColor(90, 200, 255)
WINNER_COLOUR = QColor(255, 90, 90)
GREY_LUT = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)  # (256, 3)
TOOLTIP = ("The input the convolution reads: your photo at the 'Explore at' size (grey for one "
           "channel), with the zero padding as an orange band. Hover or click a map value to see "
           "the pixels it was made from: white squares are the kernel's taps (gaps are the "
           "dilation), orange ones fall in the padding; the blue box is all it sees.")


def _path(rects) -> QPainterPath:
    path = QPainterPath()
    for x, y, w, h in rects:
        path.addRect(QRectF(x, y, w, h))
    return path


class InputView(ImageCanvas):
    """See the module docstring."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("inputView")
        self.setToolTip(TOOLTIP)
        self.padding = 0
        self.hw = (0, 0)
        self.tap_rows = np.zeros(0, int)  # the taps drawn (input coordinates), for readers
        self.tap_cols = np.zeros(0, int)
        self.band_fill = self._item(QPen(Qt.PenStyle.NoPen), QBrush(QColor(224, 150, 40, 70)), 2)
        self.band = self._item(QPen(PAD_COLOUR, 0), QBrush(PAD_COLOUR, Qt.BrushStyle.BDiagPattern), 2)
        self.frame = self._item(QPen(PAD_COLOUR, 0), QBrush(Qt.BrushStyle.NoBrush), 3)
        self.taps_in = self._item(QPen(TAP_COLOUR, 0), QBrush(QColor(255, 255, 255, 110)), 12)
        self.taps_pad = self._item(QPen(PAD_COLOUR, 0), QBrush(QColor(224, 150, 40, 150)), 12)
        self.field_box = self._item(QPen(FIELD_COLOUR, 2), QBrush(Qt.BrushStyle.NoBrush), 11)
        self.field_box.pen().setCosmetic(True)
        reach = QPen(FIELD_COLOUR, 1, Qt.PenStyle.DashLine)
        self.reach_box = self._item(reach, QBrush(Qt.BrushStyle.NoBrush), 11)
        self.winner = self._item(QPen(WINNER_COLOUR, 0), QBrush(QColor(255, 90, 90, 90)), 13)
        self.follow = QToolButton(self, text="Zoom to window", checkable=True, checked=True,
                                  objectName="followWindow")
        self.follow.setToolTip("Zoom in on the window of each explained value (double-click the "
                               "input to see all of it).")
        self.follow.toggled.connect(lambda on: self.zoom_to_window() if on else self.fit())
        self.follow.move(4, 4)

    def _item(self, pen: QPen, brush: QBrush, z: int):
        pen.setCosmetic(True)
        item = pg.QtWidgets.QGraphicsPathItem()
        item.setPen(pen)
        item.setBrush(brush)
        item.setZValue(z)
        self.box.addItem(item, ignoreBounds=True)
        return item

    def show_input(self, image: np.ndarray, padding: int) -> None:
        """``image``: ``(H, W, 3)`` or ``(H, W)`` uint8 as the convolution reads it."""
        lut = GREY_LUT if image.ndim == 2 else None
        changed = tuple(image.shape[:2]) != self.hw
        self.hw = tuple(image.shape[:2])
        self.show_image(image, lut=lut)
        self.set_padding(padding, refit=changed)

    def set_padding(self, padding, *, refit: bool = True) -> None:
        """Draw the zero padding as a band around the photo: ``padding`` image pixels on every
        side, or ``((top, bottom), (left, right))``."""
        h, w = self.hw
        pads = pad_pairs(padding)
        refit = refit or pads != pad_pairs(self.padding)
        self.padding = pads
        self.band.setPath(self._outer().subtracted(_path([(0, 0, w, h)])))
        self.band_fill.setPath(self.band.path())
        self.frame.setPath(self._outer())
        if refit:
            self.fit()

    def _outer(self) -> QPainterPath:
        """The padded input's outline."""
        (top, bottom), (left, right) = pad_pairs(self.padding)
        h, w = self.hw
        return _path([(-left, -top, w + left + right, h + top + bottom)])

    def fit(self) -> None:
        self.box.setRange(self._outer().boundingRect(), padding=0.02)

    def show_window(self, rows, cols, field=None, winner=None) -> None:
        """Draw taps at ``rows`` x ``cols`` (input coordinates; outside the image = padding),
        ``field`` (an explain ``Field``: dashed unclipped box, solid clipped one) and
        ``winner`` (``(rows, cols)`` of the winning value's window, for pooling)."""
        h, w = self.hw
        rows, cols = np.asarray(rows, int), np.asarray(cols, int)
        self.tap_rows, self.tap_cols = rows, cols
        inside, padded = [], []
        for r in rows:
            for c in cols:
                (inside if 0 <= r < h and 0 <= c < w else padded).append((c, r, 1, 1))
        self.taps_in.setPath(_path(inside))
        self.taps_pad.setPath(_path(padded))
        if field is not None:
            self.reach_box.setPath(_path([(field.left, field.top, field.width, field.height)]))
            c = field.clipped
            self.field_box.setPath(_path([] if c.empty else [(c.left, c.top, c.width, c.height)]))
        else:
            self.reach_box.setPath(QPainterPath())
            self.field_box.setPath(QPainterPath())
        if winner is not None:
            wr, wc = winner
            self.winner.setPath(_path([(int(wc[0]), int(wr[0]), int(wc[-1]) - int(wc[0]) + 1,
                                        int(wr[-1]) - int(wr[0]) + 1)]))
        else:
            self.winner.setPath(QPainterPath())
        if self.follow.isChecked():
            self.zoom_to_window()

    def clear_window(self) -> None:
        self.tap_rows = self.tap_cols = np.zeros(0, int)
        for item in (self.taps_in, self.taps_pad, self.field_box, self.reach_box, self.winner):
            item.setPath(QPainterPath())

    def zoom_to_window(self, margin: float = 3.0, least: float = 40.0) -> None:
        """Frame the drawn field at ``margin`` times its size (at least ``least`` pixels), or
        fit the whole input when none is drawn."""
        rect = self.reach_box.path().boundingRect()
        if rect.isEmpty():
            self.fit()
            return
        side = max(rect.width() * margin, rect.height() * margin, least)
        centre = rect.center()
        self.box.setRange(QRectF(centre.x() - side / 2, centre.y() - side / 2, side, side),
                          padding=0)
