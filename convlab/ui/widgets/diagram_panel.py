"""The arithmetic diagram's page: the canvas, play/pause/step/scrub, speed, stage and photo mode.

Keyboard: Space plays or pauses, Left/Right step one window. :meth:`DiagramPanel.set_state`
takes the explorer's settings and input size and rebuilds the walk at once (integer
arithmetic, :func:`convlab.render.diagram.diagram_for`); :meth:`DiagramPanel.set_maps` gives it
the worker's maps for the photo mode when they arrive, and nothing ever waits for them.

While the panel sits on a hidden tab of a shown window, both only store what they are given:
the walk, its labels and the photo are built when the tab is shown (:meth:`showEvent`), so a
slider step behind the feature maps costs the diagram nothing, and the diagram shown is never
stale. (Label changes on a hidden tab still re-lay out the tab widget, which repaints the maps.)
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QToolButton,
                               QVBoxLayout, QWidget)

from convlab.render.diagram import MAX_CELLS, Diagram, axis_text, diagram_for
from convlab.ui.widgets.diagram_canvas import DiagramCanvas, map_image, rgb_image

TOOLTIP = ("How the numbers in the readout come about (after Dumoulin and Visin's convolution "
           "arithmetic figures): the padded input grid, the kernel window with its dilation "
           "gaps, its path by the stride, and the output grid filling in, one window per output "
           "value. Red cells are input rows or columns no window covers; a dashed window is "
           "cover_all's partial window past the edge. 'On the photo' plays the same walk over "
           "the real input while the output map fills in. Space: play/pause, Left/Right: step.")
SPEEDS = (("1 / s", 1), ("2 / s", 2), ("5 / s", 5), ("10 / s", 10), ("30 / s", 30),
          ("100 / s", 100), ("1000 / s", 1000))
TICK_MS = 33  # the animation's frame interval; faster speeds advance several windows a frame


class DiagramPanel(QWidget):
    """See the module docstring."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("diagramPanel")
        self.setToolTip(TOOLTIP)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas = DiagramCanvas(self)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.canvas.setFocusProxy(self)  # a click on the picture gives the keys to the panel
        self.stage = QComboBox(objectName="diagramStage")
        self.stage.addItem("Convolution", "conv")
        self.stage.addItem("Max pooling", "pool")
        self.play_button = QToolButton(objectName="diagramPlay", text="▶ Play")
        self.back = QToolButton(objectName="diagramBack", text="◀", toolTip="Step back (Left)")
        self.forward = QToolButton(objectName="diagramStep", text="▶|", toolTip="Step (Right)")
        self.scrub = QSlider(Qt.Orientation.Horizontal, objectName="diagramScrub")
        self.scrub.setToolTip("Scrub through the window positions.")
        self.speed = QComboBox(objectName="diagramSpeed", toolTip="Windows per second.")
        for text, value in SPEEDS:
            self.speed.addItem(text, value)
        self.speed.setCurrentIndex(2)
        self.corner = QComboBox(objectName="diagramCorner")
        self.corner.addItem("Top-left", "top-left")
        self.corner.addItem("Bottom-right", "bottom-right")
        self.corner.setToolTip("Which corner of a large input to draw: the bottom-right one shows "
                               "the rows no window covers and cover_all's partial windows.")
        self.on_photo = QCheckBox("On the photo", objectName="diagramOnPhoto")
        self.on_photo.setToolTip("Play the walk over the real input while the output map fills in.")
        self.counts = QLabel("", objectName="diagramCounts", wordWrap=True)
        self.counts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # its three lines are never cut (issue 24): the picture gives way, not the words
        self.counts.setMinimumHeight(3 * self.counts.fontMetrics().lineSpacing() + 2)
        self.timer = QTimer(self, interval=TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._credit = 0.0
        self._settings = None
        self._size = (0, 0)
        self._image: np.ndarray | None = None
        self._maps: dict[str, np.ndarray] = {}
        self.diagram: Diagram | None = None
        self._stale = False  # state arrived while parked on a hidden tab: build it when shown
        self._pending_stage: str | None = None  # a stage asked for while parked
        self._build()

    def _build(self) -> None:
        bar, options = QHBoxLayout(), QHBoxLayout()  # two rows, so small windows keep their size
        for w in (self.stage, self.back, self.play_button, self.forward):
            bar.addWidget(w)
        bar.addWidget(self.scrub, 1)
        for w in (QLabel("Speed"), self.speed, QLabel("Corner"), self.corner, self.on_photo):
            options.addWidget(w)
        options.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addLayout(options)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.counts)
        self.play_button.clicked.connect(self.toggle)
        self.back.clicked.connect(lambda: self.step(-1))
        self.forward.clicked.connect(lambda: self.step(1))
        self.scrub.valueChanged.connect(self.set_position)
        self.stage.currentIndexChanged.connect(lambda _: self._rebuild())
        self.corner.currentIndexChanged.connect(lambda _: self._rebuild())
        self.on_photo.toggled.connect(self._photo_toggled)

    # -- state in --------------------------------------------------------------------------------
    def set_state(self, settings, height: int, width: int, image: np.ndarray | None = None) -> None:
        """The explorer's settings and input size (and the input photo, for the photo mode)."""
        if settings != self._settings:
            self._maps = {}  # another result's maps: not drawn now, and maybe hundreds of MB
        if image is not self._image:
            self._image = image
            self._maps = {}
        self._settings, self._size = settings, (height, width)
        if self._parked():
            self._stale = True
            return
        self._apply_state()

    def _apply_state(self) -> None:
        """The stage menu and the walk for the stored settings."""
        self._stale = False
        settings = self._settings
        self.stage.setItemText(0, "Transposed conv" if settings.transposed else "Convolution")
        self.stage.setItemText(1, "Avg pooling" if settings.pool_mode == "avg" else "Max pooling")
        pool = self.stage.model().item(1)
        pool.setEnabled(settings.pool > 1)
        if settings.pool <= 1 and self.stage.currentIndex() == 1:
            self.stage.setCurrentIndex(0)  # rebuilds
        else:
            self._rebuild()

    def set_maps(self, maps: dict[str, np.ndarray], settings) -> None:
        """The worker's maps for ``settings`` (photo mode only; ignored when stale)."""
        if settings == self._settings:
            self._maps = {name: m for name, m in maps.items() if name in ("conv", "pool")}
            if self._parked():
                self._stale = True
                return
            self._update_photo()
            self.canvas.update()

    def _parked(self) -> bool:
        """On a hidden tab of a shown window (a panel never shown builds at once, as in tests)."""
        return not self.isVisible() and self.window().isVisible()

    def show_stage(self, stage: str) -> None:
        """Show the "conv" or "pool" walk (the explorer follows its stage buttons)."""
        if self._parked():
            self._stale, self._pending_stage = True, stage
            return
        index = self.stage.findData(stage)
        if index >= 0 and self.stage.model().item(index).isEnabled():
            self.stage.setCurrentIndex(index)

    def _rebuild(self) -> None:
        if self._settings is None:
            return
        if self._parked():
            self._stale = True
            return
        stage = self.stage.currentData()
        photo = self.on_photo.isChecked()
        try:  # the photo mode plays every window; the grid a corner of a large input
            d = diagram_for(self._settings, stage, *self._size,
                            max_cells=1 << 30 if photo else MAX_CELLS,
                            corner=self.corner.currentData())
        except ValueError as exc:
            self.diagram = self.canvas.diagram = None
            self.canvas.message = f"No diagram for these settings: {exc}"
            self.counts.setText("")
            self.canvas.update()
            return
        self.diagram = self.canvas.diagram = d
        self.canvas.on_photo = photo
        self.corner.setEnabled(d.corner or self.corner.currentIndex() == 1)
        was = self.scrub.blockSignals(True)
        self.scrub.setRange(0, d.count - 1)
        self.scrub.blockSignals(was)
        self._update_photo()
        self.set_position(min(self.position(), d.count - 1))

    def _photo_toggled(self, on: bool) -> None:
        if on and self.speed.currentData() < 100:
            self.speed.setCurrentIndex(self.speed.findData(100))  # thousands of windows
        self._rebuild()

    def _update_photo(self) -> None:
        d, canvas = self.diagram, self.canvas
        if d is None or not canvas.on_photo:
            return
        conv = self._maps.get("conv")
        if d.stage == "pool":
            canvas.photo = map_image(conv[0]) if conv is not None else None
        elif self._image is not None:
            canvas.photo = rgb_image((np.clip(self._image, 0, 1) * 255 + 0.5).astype(np.uint8))
        own = self._maps.get(d.stage if d.stage == "pool" else "conv")
        canvas.output = map_image(own[0]) if own is not None else None

    # -- playing ---------------------------------------------------------------------------------
    def position(self) -> int:
        return self.canvas.index

    def set_position(self, index: int) -> None:
        if self.diagram is None:
            return
        index = int(index) % self.diagram.count
        self.canvas.index = index
        _quiet(self.scrub, index)
        self._describe()
        self.canvas.update()

    def step(self, delta: int = 1) -> None:
        self.set_position(self.position() + delta)

    def is_playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        self._credit = 0.0
        self.timer.start()
        self.play_button.setText("❚❚ Pause")  # U+23F8 is missing from common fonts: a box

    def pause(self) -> None:
        self.timer.stop()
        self.play_button.setText("▶ Play")

    def toggle(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def _tick(self) -> None:
        self._credit += self.speed.currentData() * TICK_MS / 1000.0
        whole = int(self._credit)
        if whole:
            self._credit -= whole
            self.step(whole)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space:
            self.toggle()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self.step(-1 if key == Qt.Key.Key_Left else 1)
        else:
            super().keyPressEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale and self._settings is not None:
            self._apply_state()  # what came while the tab was hidden
            stage, self._pending_stage = self._pending_stage, None
            if stage is not None:
                self.show_stage(stage)
        self.setFocus()  # Space and the arrows work as soon as the tab is shown

    def hideEvent(self, event) -> None:
        self.pause()  # no animation behind another tab
        super().hideEvent(event)

    def _describe(self) -> None:
        d = self.diagram
        win = d.window(self.position())
        where = "bottom-right" if d.rows.first or d.cols.first else "top-left"
        shown = (f" · the {where} {d.rows.shown} × {d.cols.shown} cells are drawn to scale"
                 if d.corner else "")
        self.counts.setText(
            f"window {win.index} of {d.count:,}: output row {win.i}, column {win.j}"  # all from 0
            f"{' (partial: past the edge)' if win.partial else ''}{shown}<br>"
            f"{axis_text(d.rows, 'rows')}<br>{axis_text(d.cols, 'columns')}")


def _quiet(widget, value) -> None:
    was = widget.blockSignals(True)
    widget.setValue(value)
    widget.blockSignals(was)
