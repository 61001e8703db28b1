"""One zoomable pyqtgraph view holding one ImageItem, reporting hover and clicks in image pixels.

The base of the montage, the kernel strip and the one-map window: row-major data, fixed
levels or a uint8 lookup table, no autoLevels, so ``setImage`` costs the GUI thread almost
nothing. Wheel zooms, drag pans, double-click fits the image again.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen

BACKGROUND = "#1b1d21"
GUTTER = QColor(30, 32, 36)  # between the tiles of a montage


class ImageCanvas(pg.GraphicsView):
    """A GraphicsView with one locked-aspect ViewBox and one ImageItem (y down, like images)."""

    hovered = Signal(float, float)  # image pixel x, y under the mouse
    left = Signal()  # the mouse left the view
    clicked = Signal(float, float)  # image pixel x, y of a left click
    painted = Signal()  # a paint of the view finished

    def __init__(self, parent=None, *, background: str = BACKGROUND):
        super().__init__(parent, background=background)
        self.box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False,
                              defaultPadding=0.01)
        self.setCentralItem(self.box)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.item)
        self.highlight = pg.QtWidgets.QGraphicsRectItem()
        self.highlight.setPen(QPen(QColor(255, 255, 255, 220), 0))
        self.highlight.setZValue(10)
        self.highlight.hide()
        self.box.addItem(self.highlight, ignoreBounds=True)
        self.gutters = pg.QtWidgets.QGraphicsPathItem()
        self.gutters.setPen(QPen(Qt.PenStyle.NoPen))
        self.gutters.setBrush(QBrush(GUTTER))
        self.gutters.setZValue(5)
        self.box.addItem(self.gutters, ignoreBounds=True)
        self._shape: tuple[int, ...] | None = None
        self._rect: tuple[float, float] | None = None
        self.scene().sigMouseMoved.connect(self._moved)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.setMouseTracking(True)
        self.setAcceptDrops(False)  # a dropped photo goes on to the window
        self.viewport().setAcceptDrops(False)

    # -- showing -------------------------------------------------------------------------------
    def show_image(self, image: np.ndarray, *, lut=None, gutters=(),
                   display_size: tuple[float, float] | None = None) -> None:
        """Show ``image``: uint8 colour indices with a (256, 3) ``lut``, or uint8 RGB.

        ``gutters`` are ``(x, y, w, h)`` image-pixel rectangles painted over the image (the gaps
        of a montage). ``display_size`` (W, H) stretches a smaller preview over the area of the
        full image, so the view does not jump. The view is fitted again only when the
        displayed size changes. Levels are never computed here: index 0..255 is the lut's row.
        """
        h, w = image.shape[:2]
        rect = display_size or (float(w), float(h))
        self.item.setImage(image, autoLevels=False, lut=lut,
                           levels=(0, 255) if image.ndim == 2 else None)
        self.item.setRect(QRectF(0, 0, rect[0], rect[1]))
        self._shape = (h, w)
        if rect != self._rect:
            self._rect = rect
            self.box.autoRange(padding=0.01)
        sx, sy = self.scale()
        path = QPainterPath()
        for x, y, gw, gh in gutters:
            path.addRect(QRectF(x * sx, y * sy, gw * sx, gh * sy))
        self.gutters.setPath(path)

    def set_lut(self, lut) -> None:
        self.item.setLookupTable(lut)

    def clear_image(self) -> None:
        self.item.clear()
        self.highlight.hide()
        self.gutters.setPath(QPainterPath())
        self._shape = self._rect = None

    def fit(self) -> None:
        self.box.autoRange(padding=0.01)

    def scale(self) -> tuple[float, float]:
        """Scene units per image pixel in x and y (1 unless a preview is stretched)."""
        if not self._shape or not self._rect:
            return 1.0, 1.0
        return self._rect[0] / self._shape[1], self._rect[1] / self._shape[0]

    def mark(self, x: float, y: float, w: float, h: float) -> None:
        """Outline the image-pixel rectangle (x, y, w, h); w <= 0 hides the outline."""
        if w <= 0:
            self.highlight.hide()
            return
        sx, sy = self.scale()
        self.highlight.setRect(QRectF(x * sx, y * sy, w * sx, h * sy))
        self.highlight.show()

    def aspect(self) -> float:
        """Width / height of the visible area, for laying out a montage to fill it."""
        size = self.viewport().size()
        return max(size.width(), 1) / max(size.height(), 1)

    # -- mouse ---------------------------------------------------------------------------------
    def image_point(self, widget_pos) -> tuple[float, float] | None:
        """A point in the view's widget coordinates -> image pixel (x, y), or None when empty."""
        return self._to_image(self.mapToScene(widget_pos))

    def _to_image(self, scene_pos: QPointF) -> tuple[float, float] | None:
        if self._shape is None:
            return None
        p = self.box.mapSceneToView(scene_pos)
        sx, sy = self.scale()
        return p.x() / sx, p.y() / sy

    def _moved(self, scene_pos) -> None:
        pos = self._to_image(scene_pos)
        if pos is not None:
            self.hovered.emit(*pos)

    def _clicked(self, event) -> None:
        if event.double():
            self.fit()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = self._to_image(event.scenePos())
        if pos is not None:
            self.clicked.emit(*pos)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        self.painted.emit()

    def leaveEvent(self, event) -> None:
        self.highlight.hide()
        self.left.emit()
        super().leaveEvent(event)
