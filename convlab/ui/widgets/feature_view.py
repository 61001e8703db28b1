"""FeatureView: every feature map of a layer in one zoomable montage (one ImageItem).

Reusable by any pane. Build the :class:`~convlab.render.tiles.Montage` in a worker with
:func:`~convlab.render.tiles.build_montage` (pass ``view.mode`` and ``view.aspect()``), then
call :meth:`FeatureView.show_montage` on the GUI thread: that is one ``setImage`` of colour
indices with :func:`convlab.render.colour.lut`, the table every PNG is coloured with. Hover
shows map index, position and value; a click opens the map large with its kernel and
statistics. When the user switches per-map/per-layer scaling, ``modeChanged`` asks the owner
to rebuild the montage; a colormap change only swaps the table. When the view's shape changes
(the window or a splitter moves) so that another grid would show the maps larger,
``relayoutWanted`` asks the owner to build the montage again for :meth:`aspect` (no new
computation); Fit does the same at once.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy,
                               QToolButton, QVBoxLayout, QWidget)

from convlab.engine.wording import count_noun
from convlab.render import colour
from convlab.render.tiles import Montage, plan_layout
from convlab.ui.widgets.canvas import ImageCanvas
from convlab.ui.widgets.colour_bar import ColourBar
from convlab.ui.widgets.elided_label import ElidedLabel
from convlab.ui.widgets.kernel_strip import KernelStrip  # noqa: F401 - its old home
from convlab.ui.widgets.map_dialog import MapDialog

COLORMAPS = colour.DISPLAY_COLORMAPS  # {display name: cmap name}, one table for window and export
SCALINGS = {"scale per map": "map", "shared scale": "layer"}  # menu text -> normalize() mode
HINT = "Hover a map for its index, position and value; click it to open it large."
MONTAGE_TOOLTIP = ("One tile per filter: where in the photo that filter responds (bright) and "
                   "where not. Wheel zooms, drag pans, double-click fits.")


class FeatureView(QWidget):
    """A montage of (F, h, w) maps with hover readout and click-for-one-map."""

    mapClicked = Signal(int)
    positionClicked = Signal(int, int, int)  # index, row, column of a click
    mapHovered = Signal(int, int, int, float)  # index, row, column, value
    modeChanged = Signal(str)  # "map" or "layer": rebuild the montage
    painted = Signal()  # the canvas finished a paint
    relayoutWanted = Signal()  # the view's shape asks for another grid: build the montage again

    def __init__(self, parent=None, *, title: str = "Feature maps", colormap: str = "viridis"):
        super().__init__(parent)
        self.montage: Montage | None = None
        self.dialog: MapDialog | None = None
        self.open_on_click = True  # a click opens the map large (the explorer pins instead)
        self.bar_index = 0  # the map whose range the colour bar shows in per-map scaling
        self.relayout_delay_ms = 150  # after the last resize, before the grid is laid out again
        self._relayout_timer = QTimer(self, singleShot=True)
        self._relayout_timer.timeout.connect(self._check_layout)
        self._colormap = colormap
        self._lut = colour.lut(colormap)
        self.title = ElidedLabel(title, objectName="featureTitle")  # "…" in a narrow view
        self.title.setMinimumWidth(70)
        self.title.setStyleSheet("font-weight: 600;")
        self.scaling_box = QComboBox(objectName="normalise")
        self.scaling_box.addItems(list(SCALINGS))
        self.scaling_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.scaling_box.setToolTip("Per map: each map stretched to its own min..max, so weak "
                                      "maps stay visible. Shared: one scale for all, so strong and "
                                      "weak maps can be compared.")
        self.scaling_box.currentTextChanged.connect(
            lambda text: self.modeChanged.emit(SCALINGS[text]))
        self.colormap_box = QComboBox(objectName="colormap")
        self.colormap_box.addItems(list(COLORMAPS))
        self.colormap_box.setCurrentText(colormap)
        self.colormap_box.setToolTip("Colour map (cmap); changing it costs no computation.")
        self.colormap_box.currentTextChanged.connect(self.set_colormap)
        fit = QToolButton(text="Fit", toolTip="Show the whole montage (or double-click it).")
        self.canvas = ImageCanvas(self)
        self.canvas.setToolTip(MONTAGE_TOOLTIP)
        fit.clicked.connect(self.fit)
        self.canvas.hovered.connect(self._hover)
        self.canvas.left.connect(self._leave)
        self.canvas.clicked.connect(self._click)
        self.canvas.painted.connect(self.painted)
        self.pin_mark = pg.ScatterPlotItem(size=11, symbol="s", pxMode=True, brush=None,
                                           pen=pg.mkPen("#ff5050", width=2))
        self.pin_mark.setZValue(20)
        self.pin_mark.hide()
        self.canvas.box.addItem(self.pin_mark, ignoreBounds=True)
        self.overlay = QLabel("", self.canvas, objectName="featureOverlay", wordWrap=True,
                              alignment=Qt.AlignmentFlag.AlignCenter)
        self.overlay.setStyleSheet("color: #c9ced6; font-size: 15px; padding: 24px;")
        self.overlay.hide()
        # floats over the montage's top-right corner: in the toolbar its text re-laid out the
        # bar and, through the tab widget above, repainted every map on each preview (measured)
        self.badge = QLabel("", self.canvas, objectName="featureBadge")
        self.badge.setStyleSheet("color: #e0b040; background: rgba(20, 22, 26, 190);"
                                 " padding: 2px 6px; border-radius: 3px;")
        self.badge.hide()
        self.hint = HINT  # the info line when nothing is hovered
        # elided: a long line never widens the view (nor moves its siblings), nor is cut mid-word
        self.info = ElidedLabel(HINT, objectName="featureInfo", ignored=True)
        self.info.setStyleSheet("color: palette(placeholder-text);")
        self.colour_bar = ColourBar(self, lut=self._lut)
        self._bar = bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.title)
        bar.addStretch(1)
        bar.addWidget(self.scaling_box)
        bar.addWidget(self.colormap_box)
        bar.addWidget(fit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        self._foot = foot = QHBoxLayout()
        foot.addWidget(self.info, 3)
        foot.addWidget(self.colour_bar, 2)
        layout.addLayout(foot)

    # -- state from the owner ----------------------------------------------------------------
    @property
    def mode(self) -> str:
        """How maps are scaled to colours: "map" or "layer" (:func:`convlab.render.colour.normalize`)."""
        return SCALINGS[self.scaling_box.currentText()]

    def look(self) -> tuple[str, str]:
        """``(cmap name, mode)``: what an exported PNG must use to look like this view."""
        return COLORMAPS[self.colormap_box.currentText()], self.mode

    def state(self) -> dict:
        """The choices the window remembers (menu texts)."""
        return {"colormap": self.colormap_box.currentText(), "scaling": self.scaling_box.currentText()}

    def restore(self, state: dict) -> None:
        """Apply remembered choices; unknown ones are ignored."""
        if state.get("colormap") in COLORMAPS:
            self.set_colormap(state["colormap"])
        if state.get("scaling") in SCALINGS:
            self.scaling_box.setCurrentText(state["scaling"])

    def map_at(self, widget_pos) -> int | None:
        """The map under a point of the canvas (widget coordinates), or None."""
        point = self.canvas.image_point(widget_pos) if self.montage is not None else None
        hit = self.montage.lookup(*point) if point is not None else None
        return hit[0] if hit is not None else None

    def aspect(self) -> float:
        return self.canvas.aspect()

    def levels(self, index: int | None = None) -> tuple[float, float] | None:
        """``(lo, hi)`` that map ``index`` (default: the colour bar's) is coloured with: its own
        range per map, the layer's when shared (what :func:`~convlab.render.colour.normalize`
        used to build the montage)."""
        m = self.montage
        if m is None:
            return None
        if m.mode == "layer":
            return float(m.stats.minimum.min()), float(m.stats.maximum.max())
        i = min(self.bar_index if index is None else index, m.count - 1)
        return float(m.stats.minimum[i]), float(m.stats.maximum[i])

    def add_below_toolbar(self, widget: QWidget) -> None:
        """Put an owner's widget (e.g. a note on the scaling) in a row under the bar."""
        self.layout().insertWidget(1, widget)

    def add_beside_canvas(self, widget: QWidget):
        """Put an owner's widget left of the montage, under the bar (the explorer's pinned A),
        in a splitter (returned): the two share the montage's width."""
        from PySide6.QtWidgets import QSplitter

        layout = self.layout()
        split = QSplitter(Qt.Orientation.Horizontal, childrenCollapsible=False)
        layout.insertWidget(layout.indexOf(self.canvas), split, 1)
        split.addWidget(widget)
        split.addWidget(self.canvas)
        return split

    def mark_position(self, index: int | None, r: int = 0, c: int = 0) -> None:
        """Outline pixel ``(r, c)`` of map ``index`` (a pinned value); ``None`` hides it."""
        m = self.montage
        if index is None or m is None or index >= m.count:
            self.pin_mark.hide()
            return
        lay = m.layout
        sx, sy = self.canvas.scale()
        x = (index % lay.cols) * (lay.tile_w + lay.gap) + c // lay.step
        y = (index // lay.cols) * (lay.tile_h + lay.gap) + r // lay.step
        self.pin_mark.setData([(x + 0.5) * sx], [(y + 0.5) * sy])
        self.pin_mark.show()

    def show_levels(self, index: int | None = None) -> None:
        """Point the colour bar at map ``index`` (per-map scaling) or at the shared range."""
        if index is not None:
            self.bar_index = index
        m = self.montage
        if m is None:
            self.colour_bar.clear()
            return
        lo, hi = self.levels()
        note = (f"all {count_noun(m.count, 'map')}" if m.mode == "layer"
                else f"map {min(self.bar_index, m.count - 1)}")
        self.colour_bar.set_levels(lo, hi, note)

    def add_to_footer(self, widget: QWidget) -> None:
        """Put an owner's widget (e.g. an "Open map" button) at the end of the line below."""
        self._foot.addWidget(widget)

    def add_to_toolbar(self, widget: QWidget, position: int = 1) -> None:
        """Put an owner's widget (e.g. stage buttons) in the bar above the montage."""
        self._bar.insertWidget(position, widget)

    def show_montage(self, montage: Montage) -> None:
        """Show a montage built off the GUI thread (a preview too: it is marked as such)."""
        self.montage = montage
        self.overlay.hide()
        self.canvas.show_image(montage.image, lut=self._lut, gutters=montage.gutters(),
                               display_size=montage.display_size)
        self._set_badge("preview, full result follows" if montage.preview else "")
        self.show_levels()
        self.pin_mark.hide()  # the owner marks the pinned value again on the new maps
        if not self.canvas.underMouse():
            self._leave()  # the hover line described the old maps
        if self.dialog is not None and self.dialog.isVisible() and not montage.preview:
            self.dialog.set_montage(montage, self._lut)

    def clear(self, message: str = "") -> None:
        self.montage = None
        self.canvas.clear_image()
        self.colour_bar.clear()
        self._set_badge("")
        self.info.setText(message or self.hint)
        self.overlay.setText(message)
        self.overlay.setVisible(bool(message))
        self._place_overlay()

    def _set_badge(self, text: str) -> None:
        """Hidden while its text changes: a visible label asks its parent to lay out again."""
        if text == self.badge.text():
            return
        self.badge.hide()
        self.badge.setText(text)
        if text:
            self.badge.adjustSize()
            self._place_overlay()
            self.badge.show()

    def _place_overlay(self) -> None:
        self.overlay.setGeometry(self.canvas.rect())
        self.badge.move(max(0, self.canvas.width() - self.badge.width() - 6), 6)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_overlay()
        self._relayout_timer.start(self.relayout_delay_ms)

    # -- the grid follows the view's shape ------------------------------------------------------
    def layout_stale(self) -> bool:
        """The grid shown is not :func:`~convlab.render.tiles.plan_layout`'s for the view now."""
        m = self.montage
        if m is None or m.preview or m.count < 2:
            return False
        f, h, w = m.maps.shape
        return plan_layout(f, h, w, self.aspect()).cols != m.layout.cols

    def relayout_pending(self) -> bool:
        """A resize happened and the grid has not been checked against it yet."""
        return self._relayout_timer.isActive()

    def _check_layout(self) -> None:
        if self.layout_stale():
            self.relayoutWanted.emit()

    def fit(self) -> None:
        """Show the whole montage; first lay it out again if the view's shape changed (Ctrl+0)."""
        self._relayout_timer.stop()
        if self.layout_stale():
            self.relayoutWanted.emit()  # the new montage is fitted when it is shown
        else:
            self.canvas.fit()

    def set_colormap(self, name: str) -> None:
        self._colormap = name
        self._lut = colour.lut(name)
        self.canvas.set_lut(self._lut)
        self.colour_bar.set_lut(self._lut)
        if self.colormap_box.currentText() != name:
            self.colormap_box.setCurrentText(name)
        if self.dialog is not None and self.montage is not None and self.dialog.isVisible():
            self.dialog.set_montage(self.montage, self._lut)

    def open_map(self, index: int) -> MapDialog | None:
        """Open (or refresh) the one-map window on map ``index``."""
        if self.montage is None or not 0 <= index < self.montage.count:
            return None
        if self.dialog is None:
            self.dialog = MapDialog(self.window())
            self.dialog.positionClicked.connect(self.positionClicked)  # as a click on the montage
        self.dialog.index = index
        self.dialog.set_montage(self.montage, self._lut)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    # -- mouse --------------------------------------------------------------------------------
    def _hover(self, x: float, y: float) -> None:
        m = self.montage
        hit = m.lookup(x, y) if m is not None else None
        if hit is None:
            self._leave()
            return
        index, r, c, value = hit
        lay = m.layout
        col, row = index % lay.cols, index // lay.cols
        self.canvas.mark(col * (lay.tile_w + lay.gap), row * (lay.tile_h + lay.gap),
                         lay.tile_w, lay.tile_h)
        self.info.setText(f"map {index} ({m.name(index)}) · row {r}, column {c} · "
                          f"value {value:.4g} · map range {float(m.stats.minimum[index]):.3g} "
                          f"to {float(m.stats.maximum[index]):.3g}")
        if index != self.bar_index and m.mode == "map":
            self.show_levels(index)
        self.mapHovered.emit(index, r, c, value)

    def _leave(self) -> None:
        self.canvas.mark(0, 0, 0, 0)
        self.info.setText(self.hint)

    def _click(self, x: float, y: float) -> None:
        hit = self.montage.lookup(x, y) if self.montage is not None else None
        if hit is not None:
            self.mapClicked.emit(hit[0])
            self.positionClicked.emit(hit[0], hit[1], hit[2])
            if self.open_on_click:
                self.open_map(hit[0])
