"""KernelStrip: a layer's kernels as small images in one ImageItem (the explorer's Kernels tab).

Build the strip off the GUI thread with :func:`~convlab.render.kernels.build_kernel_strip`,
then :meth:`KernelStrip.show_strip`; hover names a kernel, a click asks for its map.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from convlab.engine.wording import count_noun, shape_text
from convlab.ui.widgets.canvas import ImageCanvas


CAPTION = "Each kernel: grey is 0; colour shows the colour it responds to."


def strip_caption(kernels) -> str:
    """What the strip holds now: ``"96 kernels of 3 × 11 × 11 (…): grey is 0; …"``."""
    f, c, kh, kw = kernels.shape
    return (f"{count_noun(f, 'kernel')} of {shape_text((c, kh, kw))} (channels × height × "
            "width); grey is 0")


class KernelStrip(QWidget):
    """The kernels as small images in one ImageItem; hover names them, a click opens that map."""

    kernelClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.canvas = ImageCanvas(self)
        self.canvas.setToolTip("The kernels (weights) themselves: each is the pattern its map "
                               "looks for. Grey is 0; colour shows the colour a kernel responds "
                               "to (one channel: red positive, blue negative). Wheel zooms; "
                               "click one to open its map large.")
        self.info = QLabel(CAPTION)
        self.info.setStyleSheet("color: palette(placeholder-text);")
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.names: list[str] = []
        self.layout_ = None
        self.kernels = None
        self.canvas.hovered.connect(self._hover)
        self.canvas.left.connect(self._leave)
        self.canvas.clicked.connect(self._click)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.info)

    def show_strip(self, image, layout, kernels, names) -> None:
        """Show a strip built by :func:`~convlab.render.tiles.build_kernel_strip` in a worker."""
        self.layout_, self.kernels, self.names = layout, kernels, list(names)
        self.canvas.show_image(image)
        self.info.setText(strip_caption(kernels))  # never the last hovered kernel of an old bank

    def aspect(self) -> float:
        """Width / height of the strip's view (a wide tab's shape before it was ever shown)."""
        size = self.canvas.viewport().size()
        return self.canvas.aspect() if size.height() > 20 and self.canvas.isVisible() else 8.0

    def _index(self, x, y):
        if self.layout_ is None:
            return None
        hit = self.layout_.locate(x, y)
        return hit[0] if hit is not None and hit[0] < len(self.kernels) else None

    def _hover(self, x, y) -> None:
        i = self._index(x, y)
        if i is not None:
            f, c, kh, kw = self.kernels.shape
            name = self.names[i] if i < len(self.names) else ""
            self.info.setText(f"kernel {i}: {name}, {shape_text((c, kh, kw))} "
                              "(channels × height × width)")
            self.info.setToolTip(self.info.text())

    def _leave(self) -> None:
        if self.kernels is not None:
            self.info.setText(strip_caption(self.kernels))

    def _click(self, x, y) -> None:
        i = self._index(x, y)
        if i is not None:
            self.kernelClicked.emit(i)
