"""The Train pane's "Try it": draw in a small canvas or open a photo; the top-5 and every layer's maps.

The drawing (white on black, as MNIST and the built-in shapes are bright on dark) or the photo
goes to :func:`convlab.pipelines.traintry.try_image` in the pane's data worker; the GUI thread
only paints the answer.
"""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPen
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from convlab.ui.panes.train_views import Picture

SIDE = 140  # the canvas, in pixels (5 x MNIST's 28)
PEN = 12    # stroke width: about 2.4 pixels at 28 x 28, MNIST's stroke
PHOTO_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


class DrawCanvas(QWidget):
    """A square to draw in with the mouse; ``drawn`` after each stroke; ``array()`` its pixels."""

    drawn = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("trainDraw")
        self.setFixedSize(SIDE, SIDE)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMouseTracking(True)  # moves arrive with or without a button; a stroke needs a press
        self.setToolTip("Draw here (white on black); the network's answer follows each stroke")
        self.image = QImage(SIDE, SIDE, QImage.Format.Format_Grayscale8)
        self.clear()
        self._last: QPoint | None = None

    def clear(self) -> None:
        self.image.fill(0)
        self.update()

    def array(self) -> np.ndarray:
        """The drawing as uint8 ``(SIDE, SIDE)`` (a copy)."""
        view = np.frombuffer(self.image.constBits(), np.uint8).reshape(SIDE, self.image.bytesPerLine())
        return view[:, :SIDE].copy()

    def sizeHint(self) -> QSize:
        return QSize(SIDE, SIDE)

    def mousePressEvent(self, event) -> None:
        self._last = event.position().toPoint()
        self._line(self._last)

    def mouseMoveEvent(self, event) -> None:
        if self._last is not None:
            self._line(event.position().toPoint())

    def mouseReleaseEvent(self, event) -> None:
        if self._last is not None:
            self._last = None
            self.drawn.emit()

    def _line(self, to: QPoint) -> None:
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(Qt.GlobalColor.white, PEN, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        painter.drawLine(self._last, to)
        painter.end()
        self._last = to
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.drawImage(0, 0, self.image)
        painter.end()


def build_try(pane) -> QWidget:
    """The "Try it" tab: canvas, Clear, Photo…, the top-5, and every layer's maps."""
    panel = QWidget(objectName="trainTry")
    pane.draw = DrawCanvas()
    pane.draw_clear = QPushButton("Clear", objectName="trainDrawClear")
    pane.try_photo = QPushButton("Photo…", objectName="trainTryPhoto")
    pane.top5 = QLabel("Draw a shape, or open a photo.", objectName="trainTop5", wordWrap=True)
    pane.try_maps = Picture("trainTryMaps", "every layer's maps")
    left = QVBoxLayout()
    left.addWidget(pane.draw)
    row = QHBoxLayout()
    row.addWidget(pane.draw_clear)
    row.addWidget(pane.try_photo)
    left.addLayout(row)
    left.addWidget(pane.top5, 1)
    layout = QHBoxLayout(panel)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.addLayout(left)
    layout.addWidget(pane.try_maps, 1)
    return panel


class TryMixin:
    """Needs ``run``, ``data_worker``, ``source()``, ``_say`` and :func:`build_try`'s widgets."""

    def connect_try(self) -> None:
        self.draw.drawn.connect(lambda: self.try_picture(self.draw.array()))
        self.draw_clear.clicked.connect(self.draw.clear)
        self.try_photo.clicked.connect(self.try_photo_dialog)

    def try_picture(self, image: np.ndarray, name: str = "the drawing") -> int:
        """The trained network's answer for ``image`` (in the worker); its request id."""
        run = self.run
        if run is None:
            self.top5.setText("Train first (Start): there is no network to try yet.")
            return 0
        from convlab.pipelines.traintry import try_image

        source = self.source()
        return self.data_worker.submit(lambda j: ("try", source, name, try_image(run, image)))

    def try_photo_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A photo to try", "", PHOTO_FILTER)
        if path:
            self.try_file(path)

    def try_file(self, path: str) -> int:
        run = self.run
        if run is None:
            return self.try_picture(None)
        from convlab.pipelines.images import load_image
        from convlab.pipelines.traintry import try_image

        source = self.source()
        return self.data_worker.submit(
            lambda j: ("try", source, os.path.basename(path), try_image(run, load_image(path))))

    def show_tried(self, name: str, tried) -> None:
        lines = [f"{cls}: {p:.1%}" for cls, p in tried.top5]
        self.top5.setText(f"<b>{name}</b><br>" + "<br>".join(lines) +
                          f"<br><small>maps, top to bottom: {', '.join(tried.layers)}</small>")
        self.try_maps.set_rgb(tried.picture)
