"""The explorer's explaining side: the input beside the maps, hover/pin and the detail panel.

:class:`ExplainSide` owns the :class:`~convlab.ui.widgets.input_view.InputView`, the
:class:`~convlab.ui.widgets.explain_panel.ExplainPanel`, the BN-vs-conv scaling note and a
worker of its own: hovering or clicking a map position asks the worker for
:func:`~convlab.pipelines.explaining.explain_value` (cheap, but at heavy settings a stage that
was not kept is recomputed for one channel), and the answer is drawn on the input and in the
panel. A click pins the position; arrow keys move it by one output pixel. The pane calls
:meth:`settings_changed`, :meth:`result_shown`, :meth:`pin`, :meth:`settled` and
:meth:`shutdown`.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSplitter, QToolButton, QWidget

from convlab.engine.explorer import LUMA
from convlab.pipelines.explaining import conv_geometry, explain_value, input_taps, transposed
from convlab.ui.widgets.explain_panel import ExplainPanel
from convlab.ui.widgets.input_view import InputView
from convlab.ui.worker import LatestWorker

COLUMN_WIDTH = 340  # the input and the detail panel, preferred width in pixels
GAP = 6  # between the maps and the column
MAPS_LEAST = 548  # the maps' width before the column gives way (their toolbar's minimum)
ARROWS = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0),
          Qt.Key.Key_Down: (1, 0)}
BN_NOTE = ("With “scale per map” every map is stretched to its own min…max, and BatchNormalization "
           "only shifts and scales each map: so BN (and the conv before it) look exactly alike. "
           "Use one shared scale to see what BN did.")


def input_picture(image: np.ndarray, grayscale: bool) -> np.ndarray:
    """``(H, W, 3)`` float image in [0, 1] -> uint8 as the convolution reads it (``(H, W)`` grey)."""
    picture = image @ LUMA if grayscale else image  # (H, W) or (H, W, 3)
    return np.ascontiguousarray(np.clip(picture * 255.0 + 0.5, 0, 255).astype(np.uint8))


def band(settings):
    """The zero padding the convolution reads around the input (none for a transposed one,
    whose padding crops its output instead)."""
    return 0 if transposed(settings) else conv_geometry(settings)["pad"]


class _Beside(QWidget):
    """The maps and, right of them, a column :data:`COLUMN_WIDTH` wide, narrower only when the
    window leaves the maps less than their minimum. Placed by hand from this widget's size
    alone: a splitter or a box layout shared the width anew whenever a size hint changed (a
    preview badge), jumping the column 340 -> 207 -> 340 px and repainting the whole pane on
    slider steps (measured)."""

    def __init__(self, maps: QWidget, column: QWidget):
        super().__init__()
        self.maps, self.column = maps, column
        maps.setParent(self)
        column.setParent(self)

    def sizeHint(self) -> QSize:
        hint = self.maps.sizeHint()
        return QSize(hint.width() + GAP + COLUMN_WIDTH, hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(MAPS_LEAST + GAP + 1, max(self.maps.minimumSizeHint().height(), 200))

    def _place(self) -> None:
        w, h = self.width(), self.height()
        column = max(1, min(COLUMN_WIDTH, w - MAPS_LEAST - GAP))
        self.maps.setGeometry(0, 0, w - column - GAP, h)
        self.column.setGeometry(w - column, 0, column, h)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place()



class ExplainSide(QObject):
    """See the module docstring. ``pane`` is the ExplorerPane; ``view`` its FeatureView."""

    explained = Signal(object)  # the Explanation now shown

    def __init__(self, pane, view):
        super().__init__(pane)
        self.pane, self.view = pane, view
        self.input_view = InputView()
        self.panel = ExplainPanel()
        self.worker = LatestWorker("explain", self)
        self.worker.finished.connect(self._on_explained)
        self.worker.failed.connect(self._on_failed)
        self.pinned: tuple[str, int, int, int] | None = None
        self.image_key, self.names = -1, []  # the pane's photo and its stages, as last told
        self._picture_key = None
        self._generation = 0  # counts the full results shown
        self._last_request = None  # (generation, stage, c, i, j) last asked for
        self._shown = None  # the same key of the explanation on screen
        self.view.open_on_click = False  # a click pins; "Open map" opens it large
        self.view.hint = "Hover: how a value is made · click: pin it"
        self.view.info.setText(self.view.hint)
        self.view.mapHovered.connect(self._hovered)
        self.view.positionClicked.connect(self._clicked)
        self.panel.openMap.connect(self.view.open_map)
        self.panel.unpinRequested.connect(self.unpin)
        for widget in (self.view.canvas, self.input_view, self.panel):
            widget.installEventFilter(self)
        self._note_state = (False, None)  # (BN on, the shown stage)
        self.view.modeChanged.connect(lambda _: self._update_note())
        self._build_note()

    def _build_note(self) -> None:
        self.note = QWidget(objectName="scalingNote")
        row = QHBoxLayout(self.note)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("⚠ Per-map scaling hides BN: every map is stretched to its own range.",
                       toolTip=BN_NOTE)
        label.setStyleSheet("color: #e0b040;")
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note_label = label
        share = QToolButton(text="Use a shared scale", objectName="shareScale", toolTip=BN_NOTE)
        share.clicked.connect(lambda: self.view.scaling_box.setCurrentText("shared scale"))
        row.addWidget(label, 1)
        row.addWidget(share)
        self.note.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.note.hide()
        self.view.add_below_toolbar(self.note)  # right under the stage buttons

    def beside(self, maps: QWidget) -> QWidget:
        """``maps`` with the input above the detail panel in a column to their right."""
        column = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        column.addWidget(self.input_view)
        column.addWidget(self.panel)
        column.setStretchFactor(0, 2)
        column.setStretchFactor(1, 3)
        column.setSizes([230, 330])
        return _Beside(maps, column)

    # -- from the pane -------------------------------------------------------------------------
    def settings_changed(self, loaded, image_key: int, settings, names: list[str],
                         shown: str | None) -> None:
        """Show the input as the convolution reads it, its padding, and the BN note.
        ``names``: the stages these settings have; ``shown``: the one on screen."""
        self.image_key, self.names = image_key, list(names)
        key = (image_key, settings.grayscale)
        if loaded is not None and key != self._picture_key:
            self._picture_key = key
            self.input_view.show_input(input_picture(loaded.image, settings.grayscale),
                                       band(settings))
        else:
            self.input_view.set_padding(band(settings), refit=False)
        self._note_state = (settings.batch_norm, shown)
        self._update_note()

    def _update_note(self) -> None:
        """Say so when per-map scaling makes BN look like the conv before it."""
        batch_norm, shown = self._note_state
        self.note.setVisible(self.view.mode == "map" and batch_norm and shown in ("conv", "bn"))

    def result_shown(self, out) -> None:
        """A full result is on screen: explain the pinned position again (clamped into it)."""
        self._generation += 1
        if self.pinned is not None and self.pinned[0] != out.stage and not self._switching():
            self.unpin()  # Reset or a setting took the pinned stage away: drop it, never stale
        if self.pinned is None:
            self.input_view.clear_window()  # the old numbers: the next hover explains anew
            self.panel.clear()
            return
        stage, c, i, j = self.pinned
        if stage != out.stage:
            return  # the pane is switching to the pinned stage: its result follows
        f, h, w = out.montage.maps.shape
        self.pinned = (stage, min(c, f - 1), min(i, h - 1), min(j, w - 1))
        self._request(*self.pinned)

    def _switching(self) -> bool:
        """The pane is on its way to the pinned stage (its result follows this one)."""
        return self.pane.stage == self.pinned[0] and self.pinned[0] in self.names

    def pin(self, stage: str, channel: int, i: int, j: int) -> None:
        """Pin ``stage``'s map ``channel`` at row ``i``, column ``j`` (what a click does)."""
        names = self.names
        if stage not in names:
            self.unpin()
            self.panel.clear(f"Cannot explain: these settings have no {stage} stage "
                             f"(they have {', '.join(names) or 'none'}).")
            return
        self.pinned = (stage, int(channel), int(i), int(j))
        self.panel.set_pinned(True)
        out = self.pane.output
        if out is not None and out.stage == stage:
            self._request(*self.pinned)
        else:
            self.pane.show_stage(stage)  # result_shown explains it once the maps are there

    def unpin(self) -> None:
        self.pinned = None
        self.panel.set_pinned(False)
        self.view.mark_position(None)

    def settled(self) -> bool:
        """No explanation on its way (the pinned one, if any, is drawn)."""
        return not self.worker.busy() and (self.pinned is None or self._last_request is None
                                           or self._shown == self._last_request)

    def shutdown(self) -> None:
        self.worker.shutdown()

    # -- mouse and keys ------------------------------------------------------------------------
    def _hovered(self, index: int, r: int, c: int, value: float) -> None:
        out = self.pane.output
        if self.pinned is None and out is not None and not self.view.montage.preview:
            self._request(out.stage, index, r, c)

    def _clicked(self, index: int, r: int, c: int) -> None:
        out = self.pane.output
        if out is not None and not self.view.montage.preview:
            self.pin(out.stage, index, r, c)

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.KeyPress or self.pinned is None:
            return False
        if event.key() in ARROWS:
            self.move(*ARROWS[event.key()])
            return True
        if event.key() == Qt.Key.Key_Escape:
            self.unpin()
            return True
        return False

    def move(self, di: int, dj: int) -> None:
        """Move the pinned position by one output pixel (kept inside the map)."""
        out = self.pane.output
        if self.pinned is None or out is None:
            return
        stage, c, i, j = self.pinned
        _, h, w = out.montage.maps.shape
        self.pin(stage, c, min(max(i + di, 0), h - 1), min(max(j + dj, 0), w - 1))

    # -- the worker ----------------------------------------------------------------------------
    def _request(self, stage: str, c: int, i: int, j: int) -> None:
        out, loaded = self.pane.output, self.pane.loaded
        if out is None or loaded is None or out.image_key != self.image_key:
            return
        if self.pinned is not None:
            self.view.mark_position(c, i, j)
            self.view.show_levels(c)
        key = (self._generation, stage, c, i, j)
        if key == self._last_request:
            return  # the mouse moved within the same output pixel: asked already
        self._last_request = key
        self.worker.submit(partial(_explain_job, loaded.image, out.result, stage, c, i, j, key))

    def _on_failed(self, _rid: int, reason: str) -> None:
        self._shown = self._last_request  # answered, with a refusal
        self.panel.clear(f"Cannot explain: {reason}")
        self.input_view.clear_window()

    def _on_explained(self, _rid: int, answer) -> None:
        key, e, (rows, cols) = answer
        self._shown = key
        if key[0] != self._generation:
            return  # explains maps no longer on screen
        self.panel.show_explanation(e)
        winner = (e.winner.rows, e.winner.cols) if e.winner is not None else None
        self.input_view.show_window(rows, cols, e.field, winner)
        self.explained.emit(e)


def _explain_job(image, result, stage, c, i, j, key, job):
    """Worker: the explanation and its input taps, tagged with what was asked."""
    e = explain_value(image, result, stage, c, i, j)
    return key, e, input_taps(e, result.settings)
