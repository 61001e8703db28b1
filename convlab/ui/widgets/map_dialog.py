"""One feature map large, with its kernel and statistics; a non-modal window, one per view.

Opened by clicking a map in a :class:`~convlab.ui.widgets.feature_view.FeatureView`; arrows step
through the maps. Nothing is computed here: the statistics come with the montage.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from convlab.engine.wording import shape_text
from convlab.ui.widgets.canvas import ImageCanvas
from convlab.ui.widgets.colour_bar import ColourBar
from convlab.ui.widgets.histogram import Histogram
from convlab.render.kernels import kernel_rgb
from convlab.render.tiles import Montage


class MapDialog(QDialog):
    """Shows ``montage.maps[index]`` at full resolution next to ``montage.kernels[index]``.
    A click on the map emits ``positionClicked(index, row, column)``, as the montage does."""

    positionClicked = Signal(int, int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("mapDialog")
        self.setModal(False)
        self.setWindowTitle("Feature map")
        self.resize(840, 660)  # the side panel (kernel, caption, statistics, histogram) fits
        self._montage: Montage | None = None
        self._lut = None
        self.index = 0
        self.title = QLabel(objectName="mapTitle")
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.canvas = ImageCanvas(self)
        self.canvas.setToolTip("One feature map at full resolution, coloured as in the montage; "
                               "hover for values, wheel to zoom.")
        self.canvas.hovered.connect(self._hover)
        self.canvas.clicked.connect(self._click)
        self.hover = QLabel(" ", objectName="mapHover")
        self.colour_bar = ColourBar(self)
        self.histogram = Histogram(self)
        self.kernel = ImageCanvas(self)
        self.kernel.setFixedSize(180, 180)
        self.kernel_caption = QLabel(wordWrap=True)
        self.stats = {key: QLabel() for key in ("shape", "min", "max", "mean", "zeros")}
        self.previous = QPushButton("◀ Previous", clicked=lambda: self.show_index(self.index - 1))
        self.next = QPushButton("Next ▶", clicked=lambda: self.show_index(self.index + 1))
        self._build()

    def _build(self) -> None:
        side = QVBoxLayout()
        side.addWidget(QLabel("<b>Kernel</b>"))
        side.addWidget(self.kernel)
        side.addWidget(self.kernel_caption)
        form = QFormLayout()
        for key, text in (("shape", "size"), ("min", "min"), ("max", "max"), ("mean", "mean"),
                          ("zeros", "zeros")):
            self.stats[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(text, self.stats[key])
        self.stats["zeros"].setToolTip("Share of exact zeros: outputs a ReLU switched off.")
        side.addSpacing(8)
        side.addWidget(QLabel("<b>Statistics</b>"))
        side.addLayout(form)
        side.addWidget(self.histogram)
        side.addStretch(1)
        steps = QHBoxLayout()
        steps.addWidget(self.previous)
        steps.addWidget(self.next)
        side.addLayout(steps)
        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addWidget(self.canvas, 1)
        foot = QHBoxLayout()
        foot.addWidget(self.hover, 1)
        foot.addWidget(self.colour_bar, 1)
        left.addLayout(foot)
        body = QHBoxLayout(self)
        body.addLayout(left, 1)
        panel = QWidget()
        panel.setLayout(side)
        panel.setFixedWidth(200)
        body.addWidget(panel)

    def set_montage(self, montage: Montage, lut) -> None:
        """New data (a new result arrived): show the same map index if it still exists."""
        self._montage, self._lut = montage, lut
        self.show_index(min(self.index, montage.count - 1))

    def show_index(self, index: int) -> None:
        m = self._montage
        if m is None:
            return
        self.index = index % m.count
        i = self.index
        lo, hi = float(m.stats.minimum[i]), float(m.stats.maximum[i])
        self.canvas.show_image(m.indices[i], lut=self._lut)  # coloured as in the montage and PNGs
        _, h, w = m.maps.shape
        where = f" · {m.title}" if m.title else ""
        self.title.setText(f"Map {i} of {m.count} · {m.name(i)}{where}")
        self.setWindowTitle(f"Map {i}: {m.name(i)}")
        self.stats["shape"].setText(shape_text((h, w)))
        self.stats["min"].setText(f"{lo:.4g}")
        self.stats["max"].setText(f"{hi:.4g}")
        self.stats["mean"].setText(f"{float(m.stats.mean[i]):.4g}")
        self.stats["zeros"].setText(f"{100 * float(m.stats.zeros[i]):.1f} %")
        self._show_levels(i)
        self._show_kernel(i)

    def levels(self) -> tuple[float, float]:
        """``(lo, hi)`` the shown map is coloured with (its own, or the layer's when shared)."""
        m, i = self._montage, self.index
        if m.mode == "layer":
            return float(m.stats.minimum.min()), float(m.stats.maximum.max())
        return float(m.stats.minimum[i]), float(m.stats.maximum[i])

    def _show_levels(self, i: int) -> None:
        m = self._montage
        lo, hi = self.levels()
        self.colour_bar.set_lut(self._lut)
        self.colour_bar.set_levels(lo, hi, "shared by all maps" if m.mode == "layer" else "this map")
        self.histogram.set_data(m.indices[i], lo, hi, float(m.stats.mean[i]),
                                self.colour_bar.table())

    def _show_kernel(self, i: int) -> None:
        m = self._montage
        if m.kernels is None or i >= len(m.kernels):
            self.kernel.clear_image()
            self.kernel_caption.setText("No kernel for this map.")
            return
        k = m.kernels[i]  # (C, kh, kw)
        self.kernel.show_image(kernel_rgb(k[None])[0])
        colour = "colour: what the filter responds to" if k.shape[0] == 3 else \
            "red positive, blue negative"
        self.kernel_caption.setText(f"{shape_text(k.shape)} (C × k × k), weights "
                                    f"{float(k.min()):.3g} to {float(k.max()):.3g}; grey is 0, "
                                    f"{colour}.")

    def _hover(self, x: float, y: float) -> None:
        m = self._montage
        if m is None:
            return
        _, h, w = m.maps.shape
        r, c = int(y), int(x)
        if 0 <= r < h and 0 <= c < w:
            self.hover.setText(f"row {r}, column {c}: {float(m.maps[self.index, r, c]):.4g}")

    def _click(self, x: float, y: float) -> None:
        m = self._montage
        if m is None:
            return
        _, h, w = m.maps.shape
        r, c = int(y), int(x)
        if 0 <= r < h and 0 <= c < w and x >= 0 and y >= 0:
            self.positionClicked.emit(self.index, r, c)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.show_index(self.index + 1)
        elif event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.show_index(self.index - 1)
        else:
            super().keyPressEvent(event)
