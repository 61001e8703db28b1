"""The detail panel: one output value's arithmetic with the real numbers (object ``explainPanel``).

Shows an :class:`~convlab.pipelines.explaining.Explanation` as text
(:func:`~convlab.ui.widgets.explain_text.explanation_html`) and, for the convolution, a
zoomable picture of one input channel's products ``patch * weight`` (red positive, blue
negative, white 0; hover a tap for its three numbers). ``text()`` is the plain text shown.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QSizePolicy, QTextBrowser,
                               QToolButton, QVBoxLayout, QWidget)

from convlab.pipelines.explaining import Explanation
from convlab.render import colour
from convlab.ui.widgets.canvas import ImageCanvas
from convlab.ui.widgets.explain_text import channel_name, explanation_html, num

HINT = ("Hover a map to see how one value is made; click to pin it, then move it with the "
        "arrow keys.")
TOOLTIP = ("How one output value is computed, with the real numbers: the input window, the "
           "kernel, the sums, and what BatchNormalization, ReLU and pooling did to it.")


class ExplainPanel(QFrame):
    """See the module docstring."""

    openMap = Signal(int)  # the user asked to open the explained map large
    unpinRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("explainPanel")
        self.setToolTip(TOOLTIP)
        self.explanation: Explanation | None = None
        self._html = HINT  # what the text browser holds
        self.pinned = False
        # A text browser, not a word-wrapped QLabel: new text is laid out inside its own
        # viewport, without asking the window's layouts again (measured: a QLabel's rich text
        # stalled the GUI thread for hundreds of ms while a slider was dragged with a pin).
        self.label = QTextBrowser(objectName="explainText", frameShape=QFrame.Shape.NoFrame,
                                  openLinks=False)
        self.label.viewport().setAutoFillBackground(False)
        self.label.setHtml(HINT)
        self.status = QLabel("", objectName="explainPin")
        self.status.setStyleSheet("color: #e0b040;")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # tool buttons: push buttons' minimum width clipped the status to "follows the mc"
        self.open_button = QToolButton(text="Open map", clicked=self._open)
        self.open_button.setToolTip("Open the explained map large, with its histogram.")
        self.unpin_button = QToolButton(text="Unpin", objectName="unpin")
        self.unpin_button.setToolTip("Let the panel follow the mouse again (or press Escape).")
        # connected, not passed as clicked=: a keyword calls the signal, a TypeError on click
        self.unpin_button.clicked.connect(lambda: self.unpinRequested.emit())
        self.channel_box = QComboBox(objectName="explainChannel")
        self.channel_box.setToolTip("Which input channel's products to show.")
        self.channel_box.currentIndexChanged.connect(lambda _: self._show_products())
        self.products = ImageCanvas(self)
        self.products.setToolTip("One channel's products patch × weight: red positive, blue "
                                 "negative, white zero. Wheel zooms; hover a tap for its numbers.")
        self.products.setMinimumHeight(60)
        self.products.hovered.connect(self._product_hover)
        self.product_info = QLabel(" ", wordWrap=True)
        self.product_info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.channel_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.channel_box.setMinimumContentsLength(8)
        self._build()
        self.set_pinned(False)
        self._terms = None
        self.show_products(False)

    def _build(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>One value</b>"))
        top.addWidget(self.status, 1)
        top.addWidget(self.unpin_button)
        top.addWidget(self.open_button)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Products of"))
        pick.addWidget(self.channel_box, 1)
        self.products_box = QWidget()
        column = QVBoxLayout(self.products_box)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(pick)
        column.addWidget(self.products, 1)
        column.addWidget(self.product_info)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.label, 5)
        layout.addWidget(self.products_box, 2)

    def text(self) -> str:
        """The panel's text, plain (the value as on the map, with 6 significant digits)."""
        return self.label.toPlainText()

    def set_pinned(self, pinned: bool) -> None:
        self.pinned = pinned
        # short enough for the panel at 1280 px ("pinned: arrows move it" was clipped)
        self.status.setText("pinned" if pinned else "follows the mouse")
        self.status.setToolTip("Pinned: the arrow keys move it by one output pixel."
                               if pinned else "Follows the mouse; click a map to pin a value.")
        self.unpin_button.setEnabled(pinned)

    def show_explanation(self, e: Explanation) -> None:
        self.explanation = e
        html = explanation_html(e)
        if html != self._html:
            self._html = html
            self.label.setHtml(html)
        self.open_button.setEnabled(True)
        terms = e.conv if e.conv is not None else e.winner
        self._terms = terms
        self.show_products(terms is not None)
        if terms is not None:
            count = len(terms.per_channel)
            names = [f"{channel_name(c, count)} (sum {num(float(v))})"
                     for c, v in enumerate(terms.per_channel)]
            keep = self.channel_box.currentIndex()
            self.channel_box.blockSignals(True)
            if [self.channel_box.itemText(i) for i in range(self.channel_box.count())] != names:
                self.channel_box.clear()
                self.channel_box.addItems(names)
            self.channel_box.setCurrentIndex(min(max(keep, 0), count - 1))
            self.channel_box.blockSignals(False)
            self._show_products()

    def clear(self, message: str = HINT) -> None:
        self.explanation, self._terms = None, None
        if message != self._html:
            self._html = message
            self.label.setHtml(message)
        self.open_button.setEnabled(False)
        self.show_products(False)

    def show_products(self, visible: bool) -> None:
        self.products_box.setVisible(visible)

    def _show_products(self) -> None:
        t, c = self._terms, self.channel_box.currentIndex()
        if t is None or c < 0:
            return
        prod = t.patch[c] * t.weights[c]  # (kh, kw)
        top = float(np.abs(prod).max()) or 1.0
        index = colour.colour_index(prod / (2 * top) + 0.5)  # 0 -> white in red-blue
        lut = colour.lut("red-blue")  # cmap's table made at first use, not at start-up
        self.products.show_image(np.ascontiguousarray(index), lut=lut)

    def _product_hover(self, x: float, y: float) -> None:
        t, c = self._terms, self.channel_box.currentIndex()
        if t is None or c < 0:
            return
        u, v = int(y), int(x)
        if 0 <= u < len(t.rows) and 0 <= v < len(t.cols) and x >= 0 and y >= 0:
            p, w = float(t.patch[c, u, v]), float(t.weights[c, u, v])
            self.product_info.setText(f"tap ({u}, {v}) at input row {t.rows[u]}, column "
                                      f"{t.cols[v]}: {num(p)} × {num(w)} = {num(p * w)}")

    def _open(self) -> None:
        if self.explanation is not None:
            self.openMap.emit(self.explanation.channel)
