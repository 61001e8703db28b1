"""The explorer's settings panel: one named widget per setting, grouped, each with a tooltip.

Integer settings are labelled sliders (a slider with an editable number beside it, one
widget carrying the object name). The panel writes nothing but ``changed``; the explorer reads
:meth:`ControlPanel.settings`, and :meth:`ControlPanel.set_settings` updates every widget with
signals blocked (napari's model -> view direction, with ``signals_blocked``).
"""

from __future__ import annotations

from contextlib import ExitStack

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from convlab.engine.arithmetic import effective_kernel
from convlab.engine.explorer import LIMITS, ExplorerSettings
from convlab.engine.explorer.kernels import BANK_LABELS, BANKS, IMAGE_BANKS, LEARNED_TOOLTIP
from convlab.ui.widgets.labelled_slider import LabelledSlider, signals_blocked

TIPS = {
    "kernel": "Kernel size k: every output pixel is a weighted sum over a k×k patch. "
              "AlexNet's first layer uses 11.",
    "stride": "A larger stride skips image detail: the kernel jumps s pixels at a time, so the "
              "output is about s times smaller per side.",
    "padding": "Zero rows and columns added on every side. Padding k//2 keeps the size at "
               "stride 1 (for odd k).",
    "same": "'Same' padding: d(k−1) rows and columns in all, half on each side, the odd one at "
            "the bottom/right (PyTorch's padding=\"same\"), so that at stride 1 the output keeps "
            "the input's height and width for every kernel, even ones too.",
    "mode": "Convolution gathers a k×k window into one output pixel; transposed convolution "
            "(Chainer's Deconvolution2D, PyTorch's ConvTranspose2d) does the reverse: each input "
            "pixel stamps the kernel onto the output, s pixels apart, so the picture grows about "
            "s times per side. Where the stamps overlap unevenly you see checkerboard artefacts.",
    "groups": "Groups g split the input channels and the filters into g groups; each filter sees "
              "only its group's channels (1/g of the weights). With 3 on an RGB input, each third "
              "of the filters sees one colour. AlexNet split conv2, conv4 and conv5 into 2 groups, "
              "one per GPU.",
    "dilation": "Dilation d spreads the k×k taps d pixels apart: the kernel sees d(k−1)+1 pixels "
                "with the same k² weights.",
    "filters": "How many kernels, so how many output maps. The layer's arguments alone do not "
               "fix the number of output pixels: the image size decides that too.",
    "pool": "Pooling window (1 = no pooling): max pooling keeps the strongest response in "
            "its window, so small shifts of a feature change little; average pooling keeps "
            "the window's mean.",
    "pool_mode": "Max pooling (Chainer's F.max_pooling_2d) keeps each window's largest value; "
                 "average pooling (F.average_pooling_2d, PyTorch's AvgPool2d) its mean, "
                 "sum / (k·k), zero padding counted. Average pooling has no cover_all: its "
                 "size always rounds down.",
    "pool_stride": "How far the pooling window moves (at most the window): 2 with window 3 "
                   "gives AlexNet's overlapping pooling.",
    "cover_all": "Chainer's default for pooling: one more, partial window so the last rows and "
                 "columns are covered too (PyTorch: ceil_mode=True).",
    "batch_norm": "BatchNormalization with this image's statistics: every map to mean 0 and "
                  "variance 1. AlexBN uses it where AlexNet had LRN.",
    "relu": "ReLU sets every negative response to 0: those pixels of the maps go dark.",
    "grayscale": "One input channel (luma) instead of red, green and blue: each kernel then has "
                 "one channel, and colour no longer matters.",
    "bank": "Where the kernels come from: seeded random ones (like an untrained network), "
            "hand-made filters, or filters learned from photos (ICA) like a trained conv1's.",
    "seed": "Seed of the random kernels: the same seed gives the same kernels.",
    "longest": "Large photos are scaled down so that their longest side is this many pixels "
               "before exploring (the readout says so).",
}
INT_ROWS = (("kernel", "kernelSize", "Kernel size"), ("stride", "stride", "Stride"),
            ("padding", "padding", "Padding"), ("dilation", "dilation", "Dilation"),
            ("filters", "filters", "Filters"))
POOL_ROWS = (("pool", "poolSize", "Window"), ("pool_stride", "poolStride", "Stride"))


def _labelled_slider(name: str, lo: int, hi: int, tip: str) -> LabelledSlider:
    slider = LabelledSlider(Qt.Orientation.Horizontal)
    slider.setObjectName(name)
    slider.setRange(lo, hi)
    slider.setToolTip(tip)
    slider.setPageStep(max(1, (hi - lo) // 8))
    for child in slider.findChildren(QWidget):
        child.setAcceptDrops(False)  # a dropped photo goes on to the window, not into the number
    return slider


def _quiet(widget, value) -> None:
    with signals_blocked(widget):
        widget.setValue(value)


class ControlPanel(QWidget):
    """Every explorer setting, in groups; see the module docstring."""

    changed = Signal()  # some setting changed (by the user or a program), read settings()
    longestChanged = Signal(int)
    resetRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sliders: dict[str, LabelledSlider] = {}
        self.same = QCheckBox("same", objectName="paddingSame", toolTip=TIPS["same"])
        self.batch_norm = QCheckBox("BatchNormalization", objectName="batchNorm",
                                    toolTip=TIPS["batch_norm"])
        self.relu = QCheckBox("ReLU", objectName="relu", toolTip=TIPS["relu"])
        self.cover_all = QCheckBox("cover_all (Chainer)", objectName="coverAll",
                                   toolTip=TIPS["cover_all"])
        self.input_mode = QComboBox(objectName="inputMode", toolTip=TIPS["grayscale"])
        self.input_mode.addItems(["RGB (3 channels)", "Grayscale (1 channel)"])
        self.bank = QComboBox(objectName="kernelBank", toolTip=TIPS["bank"])
        for key in BANKS + IMAGE_BANKS:
            self.bank.addItem(BANK_LABELS[key], key)
        self.bank.setItemData(self.bank.findData("learned"), LEARNED_TOOLTIP,
                              Qt.ItemDataRole.ToolTipRole)
        self.pool_mode = QComboBox(objectName="poolMode", toolTip=TIPS["pool_mode"])
        self.pool_mode.addItem("Max", "max")
        self.pool_mode.addItem("Average", "avg")
        self.mode = QComboBox(objectName="convMode", toolTip=TIPS["mode"])
        self.mode.addItems(["Convolution", "Transposed (Deconvolution2D)"])
        self.groups = QSpinBox(objectName="groups", minimum=1, maximum=3, singleStep=2,
                               toolTip=TIPS["groups"])
        self.seed = QSpinBox(objectName="seed", minimum=0, maximum=9999, toolTip=TIPS["seed"])
        self.kernel_note = QLabel("", objectName="kernelNote", wordWrap=True)
        self.kernel_note.setStyleSheet("color: palette(placeholder-text);")
        self.longest = QSpinBox(objectName="longestSide", minimum=16, maximum=4096,
                                singleStep=64, value=512, suffix=" px", toolTip=TIPS["longest"])
        self.longest.setKeyboardTracking(False)
        self.image_name = QLabel("", objectName="imageName", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._image_group())
        layout.addWidget(self._int_group("Convolution", INT_ROWS, extra=self._padding_extra))
        layout.addWidget(self._kernel_group())
        layout.addWidget(self._after_group())
        layout.addWidget(self._int_group("Pooling", POOL_ROWS, extra=self._pool_extra))
        reset = QPushButton("Reset to defaults", objectName="resetDefaults")
        reset.setToolTip("AlexBN's conv1 block: kernel 11, stride 4, 96 filters, BN, ReLU, pool 3/2.")
        reset.clicked.connect(self.resetRequested)
        layout.addWidget(reset)
        layout.addStretch(1)
        self._wire()
        self.set_settings(ExplorerSettings())

    # -- building ------------------------------------------------------------------------------
    def _image_group(self) -> QGroupBox:
        box = QGroupBox("Image")
        grid = QGridLayout(box)
        grid.addWidget(self.image_name, 0, 0, 1, 2)
        grid.addWidget(QLabel("Explore at", toolTip=TIPS["longest"]), 1, 0)
        grid.addWidget(self.longest, 1, 1)
        grid.addWidget(QLabel("Input", toolTip=TIPS["grayscale"]), 2, 0)
        grid.addWidget(self.input_mode, 2, 1)
        return box

    def _int_group(self, title, rows, extra) -> QGroupBox:
        box = QGroupBox(title)
        grid = QGridLayout(box)
        grid.setColumnStretch(1, 1)
        for r, (key, name, text) in enumerate(rows):
            lo, hi = LIMITS[key]
            self.sliders[key] = slider = _labelled_slider(name, lo, hi, TIPS[key])
            grid.addWidget(QLabel(text, toolTip=TIPS[key]), r, 0)
            grid.addWidget(slider, r, 1, 1, 2)
        extra(grid, len(rows))
        return box

    def _padding_extra(self, grid, row) -> None:
        grid.addWidget(self.same, 2, 3)
        grid.addWidget(QLabel("Mode", toolTip=TIPS["mode"]), row, 0)
        grid.addWidget(self.mode, row, 1, 1, 3)
        grid.addWidget(QLabel("Groups", toolTip=TIPS["groups"]), row + 1, 0)
        grid.addWidget(self.groups, row + 1, 2)

    def _pool_extra(self, grid, row) -> None:
        grid.addWidget(QLabel("Kind", toolTip=TIPS["pool_mode"]), row, 0)
        grid.addWidget(self.pool_mode, row, 1, 1, 2)
        grid.addWidget(self.cover_all, row + 1, 0, 1, 3)

    def _kernel_group(self) -> QGroupBox:
        box = QGroupBox("Kernels")
        grid = QGridLayout(box)
        grid.addWidget(self.bank, 0, 0, 1, 2)
        grid.addWidget(QLabel("Random seed", toolTip=TIPS["seed"]), 1, 0)
        grid.addWidget(self.seed, 1, 1)
        grid.addWidget(self.kernel_note, 2, 0, 1, 2)
        return box

    def _after_group(self) -> QGroupBox:
        box = QGroupBox("After the convolution")
        row = QHBoxLayout(box)
        row.addWidget(self.batch_norm)
        row.addWidget(self.relu)
        row.addStretch(1)
        return box

    def _wire(self) -> None:
        for slider in self.sliders.values():
            slider.valueChanged.connect(self._changed)
        for box in (self.same, self.batch_norm, self.relu, self.cover_all):
            box.toggled.connect(self._changed)
        self.input_mode.currentIndexChanged.connect(self._changed)
        self.mode.currentIndexChanged.connect(self._changed)
        self.pool_mode.currentIndexChanged.connect(self._changed)
        self.groups.valueChanged.connect(self._changed)
        self.bank.currentIndexChanged.connect(self._changed)
        self.seed.valueChanged.connect(self._changed)
        self.longest.valueChanged.connect(self.longestChanged)

    # -- model <-> view ------------------------------------------------------------------------
    def _changed(self, *_) -> None:
        self._sync_dependent()
        learned = self.bank.currentData() in IMAGE_BANKS
        self.bank.setToolTip(LEARNED_TOOLTIP if learned else TIPS["bank"])
        self.changed.emit()

    def _sync_dependent(self) -> None:
        """Padding follows the kernel under 'same'; pool stride stays within the window."""
        k, d = self.sliders["kernel"].value(), self.sliders["dilation"].value()
        padding = self.sliders["padding"]
        transposed = self.mode.currentIndex() == 1
        self.same.setEnabled(not transposed)  # a transposed convolution's padding crops
        same = self.same.isChecked() and not transposed
        if same:  # the slider shows the top/left padding; the bottom/right may be one more
            _quiet(padding, min((effective_kernel(k, d) - 1) // 2, LIMITS["padding"][1]))
        padding.setEnabled(not same)
        with signals_blocked(self.groups):
            self.groups.setMaximum(1 if self.input_mode.currentIndex() == 1 else 3)  # 1 on grey
            if self.groups.value() == 2:
                self.groups.setValue(3)
        pool = self.sliders["pool"].value()
        stride = self.sliders["pool_stride"]
        with signals_blocked(stride):
            if pool > 1:
                stride.setMaximum(pool)  # clamps the value too
            stride.setEnabled(pool > 1)
        self.pool_mode.setEnabled(pool > 1)
        avg = self.pool_mode.currentData() == "avg"
        self.cover_all.setEnabled(pool > 1 and not avg)  # average pooling has no cover_all
        self.cover_all.setToolTip("Average pooling has no cover_all (Chainer's "
                                  "F.average_pooling_2d): its size rounds down." if avg
                                  else TIPS["cover_all"])

    def dragging(self) -> bool:
        """True while the mouse holds one of the sliders."""
        return any(slider.isSliderDown() for slider in self.sliders.values())

    def settings(self) -> ExplorerSettings:
        v = {key: slider.value() for key, slider in self.sliders.items()}
        return ExplorerSettings(**v, batch_norm=self.batch_norm.isChecked(),
                                relu=self.relu.isChecked(), cover_all=self.cover_all.isChecked(),
                                grayscale=self.input_mode.currentIndex() == 1,
                                bank=self.bank.currentData(), seed=self.seed.value(),
                                same=self.same.isChecked(),
                                transposed=self.mode.currentIndex() == 1,
                                groups=self.groups.value(),
                                pool_mode=self.pool_mode.currentData())

    def set_settings(self, s: ExplorerSettings) -> None:
        """Show ``s`` in every widget without emitting ``changed`` for each; then emit once."""
        widgets = [*self.sliders.values(), self.same, self.batch_norm, self.relu, self.cover_all,
                   self.input_mode, self.bank, self.seed, self.mode, self.groups, self.pool_mode]
        with ExitStack() as quiet:
            for w in widgets:
                quiet.enter_context(signals_blocked(w))
            self.sliders["pool_stride"].setMaximum(LIMITS["pool_stride"][1])
            for key, slider in self.sliders.items():
                slider.setValue(getattr(s, key))
            self.same.setChecked(s.same)
            self.mode.setCurrentIndex(1 if s.transposed else 0)
            self.groups.setMaximum(3)
            self.groups.setValue(s.groups)
            self.batch_norm.setChecked(s.batch_norm)
            self.relu.setChecked(s.relu)
            self.cover_all.setChecked(s.cover_all)
            self.pool_mode.setCurrentIndex(max(0, self.pool_mode.findData(s.pool_mode)))
            self.input_mode.setCurrentIndex(1 if s.grayscale else 0)
            self.bank.setCurrentIndex(max(0, self.bank.findData(s.bank)))
            self.seed.setValue(s.seed)
        self._changed()

    def set_longest(self, value) -> None:
        """Show a remembered "Explore at" value without announcing it (unreadable ones are ignored)."""
        try:
            value = int(value)
        except (TypeError, ValueError):  # a hand-edited or damaged settings file
            return
        _quiet(self.longest, value)

    def set_kernel_note(self, text: str) -> None:
        if text != self.kernel_note.text() or self.kernel_note.isHidden() == bool(text):
            self.kernel_note.setText(text)
            self.kernel_note.setVisible(bool(text))

    def set_image_name(self, text: str) -> None:
        self.image_name.setText(text)
