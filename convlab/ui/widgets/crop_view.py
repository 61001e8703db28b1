"""The network's input crop with a receptive field drawn on it.

The crop sits inside a grey hatched band that stands for the padding: the receptive field's
full box (``Network.receptive_field``'s unclipped box) is drawn dashed and may reach into the
band; the part of it inside the photo (the clipped box) is drawn solid and tinted. Its size and
jump are written under the crop. Painting only: the field is computed in a worker.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

BAND = 0.3   # the padding band's width, as a share of the crop's side
FIELD = QColor(255, 200, 0)


class CropView(QWidget):
    """``set_image((H, W, 3) uint8)``; ``set_field(box, clipped, text)`` with boxes as
    ``(top, left, bottom, right)`` in crop pixels (bottom/right exclusive); ``clear_field(text)``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("cropView")
        self.image: QImage | None = None
        self.crop_size = (0, 0)  # (H, W) of the crop in pixels
        self.box: tuple[int, int, int, int] | None = None
        self.clipped: tuple[int, int, int, int] | None = None
        self.text = "Click a map position: its receptive field is drawn here."
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setToolTip("The network's input. Click a position in any layer's map: the input "
                        "pixels it sees (its receptive field) are drawn here; the dashed part "
                        "reaches into the zero padding (the grey band).")

    def set_image(self, rgb: np.ndarray) -> None:
        rgb = np.ascontiguousarray(rgb)
        self.crop_size = rgb.shape[:2]
        self.image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0],
                            QImage.Format.Format_RGB888).copy()
        self.update()

    def set_field(self, box, clipped, text: str) -> None:
        self.box, self.clipped, self.text = tuple(box), tuple(clipped), text
        self.update()

    def clear_field(self, text: str | None = None) -> None:
        self.box = self.clipped = None
        if text is not None:
            self.text = text
        self.update()

    # -- painting -----------------------------------------------------------------------------
    def _geometry(self) -> tuple[QRectF, float]:
        """The crop's rectangle in widget pixels and the scale (widget pixels per crop pixel)."""
        h, w = self.crop_size if self.crop_size[0] else (1, 1)
        text_h = 2 * self.fontMetrics().height() + 4
        avail_w, avail_h = self.width(), self.height() - text_h
        scale = min(avail_w / (w * (1 + 2 * BAND)), avail_h / (h * (1 + 2 * BAND)))
        left = (avail_w - w * scale) / 2
        top = (avail_h - h * scale) / 2
        return QRectF(left, top, w * scale, h * scale), scale

    def _rect(self, box, crop: QRectF, scale: float) -> QRectF:
        top, left, bottom, right = box
        return QRectF(crop.left() + left * scale, crop.top() + top * scale,
                      (right - left) * scale, (bottom - top) * scale)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        crop, scale = self._geometry()
        band = crop.adjusted(-crop.width() * BAND, -crop.height() * BAND,
                             crop.width() * BAND, crop.height() * BAND)
        painter.fillRect(band, QBrush(QColor(128, 128, 128, 90), Qt.BrushStyle.BDiagPattern))
        painter.setPen(QPen(QColor(128, 128, 128), 1, Qt.PenStyle.DotLine))
        painter.drawRect(band)
        if self.image is not None:
            painter.drawImage(crop, self.image)
        painter.setClipRect(band)
        if self.box is not None:
            painter.setPen(QPen(FIELD, 2, Qt.PenStyle.DashLine))
            painter.drawRect(self._rect(self.box, crop, scale))
        if self.clipped is not None and self.clipped[2] > self.clipped[0]:
            inside = self._rect(self.clipped, crop, scale)
            painter.fillRect(inside, QColor(255, 200, 0, 60))
            painter.setPen(QPen(FIELD, 2))
            painter.drawRect(inside)
        painter.setClipping(False)
        painter.setPen(self.palette().color(self.foregroundRole()))
        text_rect = QRectF(0, band.bottom() + 2, self.width(), self.height() - band.bottom() - 2)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap,
                         self.text)
        painter.end()
