"""A horizontal slider with an editable number beside it, and ``signals_blocked``.

ConvLab's own, in place of superqt's ``QLabeledSlider``: importing superqt runs its package
``__init__``, which imports every superqt widget (collapsibles, colour combos, searchable lists,
...) and took 375-550 ms of the window's start-up for two names. The behaviour is the same: drag
the slider or type a number (committed on Enter or when the box loses focus); ``valueChanged``
fires once per change, whichever side made it.
"""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractSpinBox, QHBoxLayout, QSlider, QSpinBox, QWidget


@contextmanager
def signals_blocked(obj: QObject):
    """Block ``obj``'s signals inside the block, restoring the previous state after it."""
    previous = obj.blockSignals(True)
    try:
        yield
    finally:
        obj.blockSignals(previous)


class LabelledSlider(QWidget):
    """A ``QSlider`` and a ``QSpinBox`` that hold one integer; the QSlider API that ConvLab uses."""

    valueChanged = Signal(int)
    sliderPressed = Signal()
    sliderReleased = Signal()

    def __init__(self, orientation=Qt.Orientation.Horizontal, parent=None):
        super().__init__(parent)
        self.slider = QSlider(orientation)
        self.box = QSpinBox()
        self.box.setKeyboardTracking(False)  # a typed "11" is one change, not 1 then 11
        self.box.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.box.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.box)
        self.slider.valueChanged.connect(self._from_slider)
        self.box.valueChanged.connect(self.slider.setValue)
        self.slider.sliderPressed.connect(self.sliderPressed)
        self.slider.sliderReleased.connect(self.sliderReleased)

    def _from_slider(self, value: int) -> None:
        with signals_blocked(self.box):
            self.box.setValue(value)
        self.valueChanged.emit(value)

    def value(self) -> int:
        return self.slider.value()

    def setValue(self, value: int) -> None:
        self.slider.setValue(int(value))

    def minimum(self) -> int:
        return self.slider.minimum()

    def maximum(self) -> int:
        return self.slider.maximum()

    def setRange(self, lo: int, hi: int) -> None:
        self.box.setRange(lo, hi)
        self.slider.setRange(lo, hi)

    def setMinimum(self, lo: int) -> None:
        self.setRange(lo, max(lo, self.maximum()))

    def setMaximum(self, hi: int) -> None:
        self.setRange(min(hi, self.minimum()), hi)

    def setPageStep(self, step: int) -> None:
        self.slider.setPageStep(step)

    def setSliderDown(self, down: bool) -> None:
        self.slider.setSliderDown(down)

    def isSliderDown(self) -> bool:
        return self.slider.isSliderDown()
