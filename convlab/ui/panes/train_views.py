"""The Train pane's views: curves (pyqtgraph), pictures, the confusion matrix and image strips.

Everything here paints what the training thread computed (``trainloop.Views`` and
``trainrun.EpochReport``); nothing computes on the GUI thread beyond copying small arrays.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QSizePolicy,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

TRAIN_PEN = pg.mkPen("#4c9be8", width=1)
SMOOTH_PEN = pg.mkPen("#9fd0ff", width=2)
TEST_PEN = pg.mkPen("#f0a030", width=2)
EPOCH_PEN = pg.mkPen("#888888", width=1, style=Qt.PenStyle.DashLine)


def rgb_qimage(rgb: np.ndarray) -> QImage:
    """``(h, w, 3)`` uint8 -> a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    return QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0],
                  QImage.Format.Format_RGB888).copy()


class CurvePlot(pg.PlotWidget):
    """One quantity over iterations: every logged step (train), a running mean, one point per
    epoch (test), and a dashed line at each epoch's end."""

    def __init__(self, name: str, title: str, ylabel: str, parent=None, *,
                 y_max: float | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setTitle(title)
        self.setLabel("bottom", "iteration")
        self.setLabel("left", ylabel)
        self.addLegend(offset=(-10, 10))
        self.showGrid(x=True, y=True, alpha=0.2)
        self.train_curve = self.plot([], [], pen=TRAIN_PEN, name="train (each step)")
        self.smooth_curve = self.plot([], [], pen=SMOOTH_PEN, name="train (mean of 20)")
        self.test_curve = self.plot([], [], pen=TEST_PEN, symbol="o", symbolSize=7,
                                    symbolBrush="#f0a030", name="test (each epoch)")
        self.train_curve.setDownsampling(auto=True, method="peak")
        self.setMinimumHeight(150)
        # ranges set by hand, not auto-ranged at each new point: the axes then keep their ticks
        # and are not painted again (each axis repaint costs the GUI thread ~15 ms of text)
        self.disableAutoRange()
        self.span = (0, 1)  # x: the run's iterations; y: 0 to the highest value so far
        self.y_max = y_max  # a fixed top (accuracy: 1)
        top = y_max or 1.0
        self.setYRange(-0.02 * top, 1.05 * top, padding=0)  # 0 and the top drawn, not on the edge
        self.x = np.zeros(0)
        self.y = np.zeros(0)
        self.test = np.zeros((0, 2))
        self.epoch_lines: list[pg.InfiniteLine] = []

    def set_iterations(self, total: int) -> None:
        """The x axis spans the whole run (set at its start: it does not move as points come)."""
        self.setXRange(0, max(1, total), padding=0.02)

    def _fit_y(self) -> None:
        if self.y_max is not None:
            return
        top = float(np.nanmax(np.concatenate([self.y, self.test[:, 1]]))) if len(self.y) else 1.0
        if not np.isfinite(top) or top <= 0:
            top = 1.0
        if top > self.span[1] or top < 0.5 * self.span[1]:  # grows, or shrank a lot: refit
            self.span = (0, top * 1.08)
            self.setYRange(-0.02 * top, self.span[1], padding=0)

    def clear_points(self) -> None:
        self.span = (0, 1)
        self.x, self.y, self.test = np.zeros(0), np.zeros(0), np.zeros((0, 2))
        for line in self.epoch_lines:
            self.removeItem(line)
        self.epoch_lines = []
        self._paint()

    def add_points(self, x: np.ndarray, y: np.ndarray) -> None:
        if len(x):
            self.x = np.concatenate([self.x, x])
            self.y = np.concatenate([self.y, y])
            self._paint()

    def add_epoch(self, iteration: int, value: float) -> None:
        self.test = np.vstack([self.test, [[iteration, value]]])
        line = pg.InfiniteLine(pos=iteration, angle=90, pen=EPOCH_PEN)
        self.addItem(line)
        self.epoch_lines.append(line)
        self._paint()

    def _paint(self) -> None:
        self._fit_y()
        self.train_curve.setData(self.x, self.y)
        n = min(20, len(self.y))
        if n:
            c = np.cumsum(np.concatenate([[0.0], self.y]))
            smooth = (c[n:] - c[:-n]) / n
            self.smooth_curve.setData(self.x[n - 1:], smooth)
        else:
            self.smooth_curve.setData([], [])
        self.test_curve.setData(self.test[:, 0], self.test[:, 1])

    def csv_rows(self, which: str) -> list[tuple[float, float]]:
        data = np.column_stack([self.x, self.y]) if which == "train" else self.test
        return [tuple(map(float, row)) for row in data]


class Picture(QLabel):
    """An RGB picture scaled (nearest) to fit its label; ``image()`` is what it shows."""

    def __init__(self, name: str, placeholder: str, parent=None):
        super().__init__(placeholder, parent)
        self.setObjectName(name)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("background: #202226; color: #aaa;")
        self._image: QImage | None = None

    def set_rgb(self, rgb: np.ndarray | None) -> None:
        self._image = rgb_qimage(rgb) if rgb is not None else None
        self._fit()

    def image(self) -> QImage | None:
        return self._image

    def minimumSizeHint(self) -> QSize:  # the pixmap (scaled to the label) never props it up
        return QSize(self.minimumWidth(), self.minimumHeight())

    def sizeHint(self) -> QSize:
        return QSize(self.minimumWidth(), self.minimumHeight())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._image is None:
            return
        size = self.contentsRect().size()
        pixmap = QPixmap.fromImage(self._image).scaled(
            size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
        self.setPixmap(pixmap)


class ConfusionMatrix(QTableWidget):
    """Counts ``[true, predicted]`` of the test split; a click on a cell emits ``cellChosen``."""

    cellChosen = Signal(int, int)  # true class, predicted class

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setStyleSheet("QTableWidget, QHeaderView { font-size: 9px; }")
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(16)
        self.verticalHeader().setMinimumSectionSize(14)
        self.verticalHeader().setDefaultSectionSize(16)
        self.setMinimumHeight(170)
        self.setToolTip("Rows: the true class; columns: the predicted one. Click a cell to see "
                        "those test images.")
        self.cellClicked.connect(lambda r, c: self.cellChosen.emit(r, c))
        self.counts = np.zeros((0, 0), np.int64)

    def show_counts(self, counts: np.ndarray, classes) -> None:
        k = counts.shape[0]
        self.counts = counts.copy()
        self.setRowCount(k)
        self.setColumnCount(k)
        self.setHorizontalHeaderLabels([c[:3] for c in classes])
        for c, name in enumerate(classes):
            self.horizontalHeaderItem(c).setToolTip(f"predicted {name}")
        self.setVerticalHeaderLabels(list(classes))
        peak = max(1, int(counts.max()))
        for r in range(k):
            for c in range(k):
                item = QTableWidgetItem(str(int(counts[r, c])))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = counts[r, c] / peak
                hue = QColor(60, 140, 90) if r == c else QColor(190, 70, 60)
                item.setBackground(QBrush(QColor(
                    int(32 + (hue.red() - 32) * share), int(34 + (hue.green() - 34) * share),
                    int(38 + (hue.blue() - 38) * share))))
                self.setItem(r, c, item)


class ImageStrip(QWidget):
    """A row of small test images with a caption each (the wrong ones, or a cell's)."""

    def __init__(self, name: str, title: str, parent=None):
        super().__init__(parent)
        self.setObjectName(name)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(title)
        column.addWidget(self.title)
        self.row = QHBoxLayout()
        self.row.setSpacing(4)
        column.addLayout(self.row)
        self.row.addStretch(1)
        self.captions: list[str] = []

    def show_images(self, images: list[np.ndarray], captions: list[str], title: str = "") -> None:
        while self.row.count() > 1:
            item = self.row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        if title:
            self.title.setText(title)
        self.captions = list(captions)
        for i, (rgb, caption) in enumerate(zip(images, captions)):
            cell = QLabel()
            cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
            pixmap = QPixmap.fromImage(rgb_qimage(rgb)).scaled(
                44, 44, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation)
            cell.setPixmap(pixmap)
            cell.setToolTip(caption)
            box = QVBoxLayout()
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(1)
            box.addWidget(cell)
            text = QLabel(caption.replace(" / ", "\n"))
            text.setStyleSheet("font-size: 9px;")
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box.addWidget(text)
            holder = QWidget()
            holder.setLayout(box)
            self.row.insertWidget(i, holder)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A dataset image ``(h, w, 1 or 3)`` uint8 as ``(h, w, 3)``."""
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
