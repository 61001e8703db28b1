"""Compare: "Pin as A" freezes the explorer's settings and result as A, shown beside the live ones.

A is what was on screen when it was pinned: its settings, the readout of its shapes and
formulas, and its montage picture. The live side keeps following every change, so a learner
changes one setting and sees what it did: the two readouts side by side, the two montages side
by side, and a line that names what differs ("stride 4 → 2"). "Clear A" removes it.

Memory: A holds its montage's colour indices (a copy of the picture, at most ``MAX_PIXELS``
bytes, 6 MB, by :mod:`convlab.render.montage`'s bound), their gutters and lookup table, and
some text; never the maps, so the result it came from is freed once the screen moves on.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from html import escape
import re

import numpy as np
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout,
                               QWidget)

from convlab.engine.explorer import ExplorerSettings
from convlab.engine.wording import shape_text
from convlab.render import colour
from convlab.render.montage import Layout, layout_gutters, retile
from convlab.ui.panes.explorer_undo import LABELS
from convlab.ui.widgets.canvas import ImageCanvas
from convlab.ui.worker import LatestWorker
from convlab.ui.widgets.readout import ACCENT, ERROR, MUTED, SHOWN, TIMES, ShapeReadout
from convlab.ui.widgets.readout import LABELS as LABELS_READOUT

PIN_KEY = "Ctrl+Shift+A"
A_COLOUR = "#e0963c"


@dataclass(frozen=True)
class PinnedA:
    """What A keeps: its settings, shape plan, stage shown, and montage picture (no maps)."""

    settings: ExplorerSettings
    plan: tuple  # its StagePlans (shapes and formulas: integers and text)
    stage: str
    image: np.ndarray  # (H, W) uint8 colour indices, a copy of the montage's picture
    layout: Layout  # its grid
    count: int  # its maps
    lut: np.ndarray  # (256, 3) uint8
    photo: str

    @property
    def gutters(self) -> list:
        return layout_gutters(self.layout, self.count)

    @property
    def shape(self) -> tuple[int, int, int]:
        return next(st.shape for st in self.plan if st.name == self.stage)

    @property
    def nbytes(self) -> int:
        return int(self.image.nbytes + self.lut.nbytes)


def pinned_from(output, lut: np.ndarray, photo: str) -> PinnedA:
    """A from the output on screen (:class:`~convlab.pipelines.explorer.ExplorerOutput`)."""
    montage = output.montage
    return PinnedA(output.result.settings, tuple(output.result.plan), output.stage,
                   np.array(montage.image, copy=True), montage.layout, montage.count,
                   np.array(lut, copy=True), photo)


def _by_kind(plan) -> dict[str, list]:
    """``{"input": [...], "conv": [...], "point": [bn, relu], "pool": [...]}`` of a plan."""
    rows: dict[str, list] = {}
    for st in plan:
        rows.setdefault("point" if st.name in ("bn", "relu") else st.name, []).append(st)
    return rows


def _label(kind: str, stages, s: ExplorerSettings) -> str:
    if kind == "point":
        return " + ".join(LABELS_READOUT[x.name] for x in stages)
    if kind == "conv" and s.transposed:
        return "Transposed conv"
    if kind == "pool" and s.pool_mode == "avg":
        return "Avg pooling"
    return LABELS_READOUT[kind]


def _cell(stages, s: ExplorerSettings, label: str, row_label: str, differs: bool) -> str:
    """One side's shape (bold) and formula (small, monospace); its own label if the row's differs."""
    bg = f"background:{SHOWN};" if differs else ""
    own = f"<span style='color:{MUTED}'>{escape(label)}: </span>" if label != row_label else ""
    if not stages:
        return f"<td style='padding:2px 10px 2px 0;{bg}color:{MUTED}'>—</td>"
    st = stages[0]
    if st.error:
        return (f"<td style='padding:2px 10px 2px 0;{bg}color:{ERROR}'>{own}no output: "
                f"{escape(st.error)}</td>")
    formula = short_formula(st.formula) if st.formula else ""  # BN, ReLU: shape unchanged
    line = (f"<br><span style='font-family:monospace; font-size:11px; color:{ACCENT}'>"
            f"{escape(formula)}</span>") if formula else ""
    return (f"<td style='padding:2px 10px 2px 0;{bg}'>{own}<span style='font-family:monospace;"
            f" font-size:14px; white-space:nowrap'><b>{shape_text(st.shape, TIMES)}</b></span>"
            f"{line}</td>")


def short_formula(formula: str) -> str:
    """``H = W: ⌊(512 + 2×0 − 11) / 4⌋ + 1 = 126``: the readout's formula without its middle
    step (``= ⌊501/4⌋ + 1``), so that two fit side by side."""
    return _MIDDLE.sub("", formula)


_MIDDLE = re.compile(r" = [⌊⌈]-?\d+/\d+[⌋⌉] \+ 1")


def compare_html(a: PinnedA, plan, s: ExplorerSettings) -> str:
    """A's readout beside the live one: per stage, each side's shape and formula; a cell whose
    shape differs from the other side's is tinted."""
    side_a, side_now = _by_kind(a.plan), _by_kind(plan)
    inputs = [side.get("input", [None])[0] for side in (side_a, side_now)]
    same_input = inputs[0] is not None and inputs[1] is not None and \
        (inputs[0].shape, inputs[0].note) == (inputs[1].shape, inputs[1].note)
    rows = [f"<tr><td></td><td style='color:{A_COLOUR}'><b>A (pinned)</b></td>"
            f"<td><b>Now</b></td></tr>"]
    if same_input:  # one line for both
        rows.append(f"<tr><td style='padding:2px 10px 2px 4px'><b>{LABELS_READOUT['input']}</b>"
                    f"</td><td colspan='2' style='font-family:monospace; font-size:14px'><b>"
                    f"{shape_text(inputs[1].shape, TIMES)}</b> <span style='font-family:sans-serif;"
                    f" font-size:12px; color:{MUTED}'>{escape(inputs[1].note)}, both</span></td></tr>")
    for kind in ("input", "conv", "point", "pool"):
        mine, now = side_a.get(kind, []), side_now.get(kind, [])
        if (not mine and not now) or (kind == "input" and same_input):
            continue  # the same input for both: said once, in the header
        label_a = _label(kind, mine, a.settings) if mine else ""
        label_now = _label(kind, now, s) if now else ""
        row_label = label_now or label_a
        shape_a = mine[0].shape if mine else None
        shape_now = now[0].shape if now else None
        differs = shape_a != shape_now
        rows.append(f"<tr><td style='padding:2px 10px 2px 4px'><b>{escape(row_label)}</b></td>"
                    + _cell(mine, a.settings, label_a, row_label, differs)
                    + _cell(now, s, label_now, row_label, differs) + "</tr>")
    return "<table cellspacing='0'>" + "".join(rows) + "</table>"


def _value(name: str, value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return {"pool_mode": {"max": "max", "avg": "average"}}.get(name, {}).get(value, str(value))


def differences(a: ExplorerSettings, now: ExplorerSettings) -> list[str]:
    """``["stride 4 → 2", "ReLU on → off"]``: the settings that differ, A's value first."""
    out = []
    for f in fields(ExplorerSettings):
        va, vn = getattr(a, f.name), getattr(now, f.name)
        if va != vn:
            label = LABELS.get(f.name, f.name.replace("_", " "))
            out.append(f"{label} {_value(f.name, va)} → {_value(f.name, vn)}")
    return out


class CompareSide(QObject):
    """A's widgets and state for the explorer pane: the buttons, A's readout (beside the live
    readout) and A's montage (beside the live maps)."""

    changed = Signal(bool)  # A pinned (True) or cleared (False)

    def __init__(self, pane):
        super().__init__(pane)
        self.pane = pane
        self.pinned: PinnedA | None = None
        self.pin_action = QAction("Pin as A", self, objectName="actionPinA")
        self.pin_action.setShortcut(QKeySequence(PIN_KEY))  # while the explorer is shown
        self.pin_action.triggered.connect(lambda checked=False: self.pin())
        pane.addAction(self.pin_action)
        self.pin_button = QPushButton("Pin as A", objectName="pinA")
        self.pin_button.setToolTip(
            f"Keep these settings and their maps as A ({PIN_KEY}), shown beside the live "
            "ones: change one setting and compare what it did.")
        self.clear_button = QPushButton("Clear A", objectName="clearA", enabled=False)
        self.clear_button.setToolTip("Remove A: only the live settings and maps are shown.")
        self.pin_button.clicked.connect(self.pin_action.trigger)
        self.clear_button.clicked.connect(lambda: self.clear())
        self.readout = ShapeReadout()  # A's readout beside the live one, while A is pinned
        self.readout.setObjectName("shapeReadoutA")
        self.diff = QLabel("", objectName="compareDiff", wordWrap=True)
        self.diff.setStyleSheet(f"color: {A_COLOUR};")
        self.diff.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout_box = QWidget(objectName="compareReadout")
        column = QVBoxLayout(self.readout_box)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.readout)
        column.addWidget(self.diff)
        self.canvas = ImageCanvas()
        self.canvas.setObjectName("montageA")
        self.caption = QLabel("", objectName="compareCaption")
        self.caption.setStyleSheet(f"color: {A_COLOUR}; font-weight: 600;")
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption.setMinimumWidth(1)
        self.maps_box = QWidget(objectName="compareMaps")
        column = QVBoxLayout(self.maps_box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.caption)
        column.addWidget(self.canvas, 1)
        self.readout_box.hide()
        self.maps_box.hide()
        self._live = None  # (plan, settings) of the live readout
        self.shown_layout: Layout | None = None  # A's grid on screen
        self.worker = LatestWorker("compare", self)  # A's picture re-tiled for its view
        self.worker.finished.connect(self._retiled)
        self._retile_timer = QTimer(self, singleShot=True, interval=150)
        self._retile_timer.timeout.connect(self._retile)
        self.canvas.installEventFilter(self)  # a resized view: A's tiles laid out again
        self.split = None  # the splitter of A's maps and the live ones (the layout sets it)

    def buttons(self) -> QWidget:
        """The Pin as A and Clear A buttons, side by side."""
        holder = QWidget(objectName="compareButtons")
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 2, 2)
        row.setSpacing(4)
        row.addWidget(self.pin_button)
        row.addWidget(self.clear_button)
        return holder

    # -- pinning -------------------------------------------------------------------------------
    def pin(self) -> bool:
        """Freeze the settings and result on screen as A; False (with a sentence) when there is
        no full result of the current settings to freeze."""
        pane = self.pane
        why = pane.not_pinnable()
        if why:
            pane.failed.emit(why)
            return False
        lut = colour.lut(pane.view.look()[0])  # the view's colour map, as the picture shows it
        self.pinned = pinned_from(pane.output, lut, pane.loaded.name)
        self.canvas.show_image(self.pinned.image, lut=self.pinned.lut, gutters=self.pinned.gutters)
        self.shown_layout = self.pinned.layout
        self._retile_timer.start()  # laid out for the whole view: now it has half
        self.caption.setText(f"A: {self._stage_words()} · {shape_text(self.pinned.shape, ' × ')}")
        self.caption.setToolTip(f"A, pinned on {self.pinned.photo}: its maps as they were shown.")
        self._showing(True)
        if self._live is not None:
            self.live(*self._live)
        self.changed.emit(True)
        return True

    def _stage_words(self) -> str:
        from convlab.pipelines.explorer import stage_title

        return stage_title(self.pinned.stage, self.pinned.settings)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.canvas and event.type() == QEvent.Type.Resize and self.pinned:
            self._retile_timer.start()
        return False

    def _retile(self) -> None:
        """A's tiles in the grid that shows them largest in A's view (moved in the worker)."""
        a, aspect = self.pinned, self.canvas.aspect()
        if a is not None:
            self.worker.submit(lambda job: (a, *retile(a.image, a.layout, a.count, aspect)))

    def _retiled(self, request_id: int, payload) -> None:
        a, image, layout = payload
        if a is self.pinned and self.worker.is_current(request_id):
            self.shown_layout = layout
            self.canvas.show_image(image, lut=a.lut, gutters=layout_gutters(layout, a.count))

    def shutdown(self) -> None:
        self.worker.shutdown()

    def _showing(self, on: bool) -> None:
        self.readout_box.setVisible(on)
        self.pane.readout.setVisible(not on)  # the table holds the live readout beside A's
        if on and self.maps_box.isHidden() and self.split is not None:
            self.maps_box.show()
            half = max(1, sum(self.split.sizes()) // 2)
            self.split.setSizes([half, half])  # A's maps and the live ones, the same width
        self.maps_box.setVisible(on)
        self.clear_button.setEnabled(on)

    def clear(self) -> None:
        """Remove A (its picture is let go)."""
        self.pinned = self.shown_layout = None
        self.canvas.clear_image()
        self.readout.setText("")
        self._showing(False)
        self.changed.emit(False)

    def live(self, plan, now: ExplorerSettings) -> None:
        """The live settings' plan: the table beside A's, and what differs between them."""
        self._live = (plan, now)
        if self.pinned is None:
            return
        self.readout.setText(compare_html(self.pinned, plan, now))
        diff = differences(self.pinned.settings, now)
        text = ("A → now: " + ", ".join(diff)) if diff else "The live settings are A's."
        self.diff.setText(text)
        self.diff.setToolTip(text)
