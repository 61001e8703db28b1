"""The layer editor under the Network pane's table: add, remove, move, and one layer's arguments.

The table above is the layer list (its rows are the layers); this widget edits the selected one.
Controls come from the kind's ``spec_args`` (``convlab.engine.layers``), with the explorer's
limits where the explorer has the same knob (kernel 1-15, stride 1-8, padding 0-10, dilation
1-4). "auto" (0 on a spin box) means the argument is left out of the spec: Chainer's ``None``,
inferred from the input. A rectangular value from a loaded spec (``[3, 5]``) is shown but not
editable here, so editing never loses it. The widget only emits what the user asked for; the
pane turns that into an undoable spec edit.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QMenu, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget)

from convlab.engine import layers as L
from convlab.engine.explorer import LIMITS
from convlab.ui.widgets.undo_keys import UndoKeysToTheStack

RANGES = {"ksize": LIMITS["kernel"], "stride": LIMITS["stride"], "pad": LIMITS["padding"],
          "dilation": LIMITS["dilation"], "out_channels": (1, 4096), "in_channels": (0, 4096),
          "groups": (1, 64), "size": (0, 4096), "out_size": (1, 100_000), "in_size": (0, 1_000_000),
          "n": (1, 15), "outsize": (0, 4096), "axis": (0, 3)}
TIPS = {"ksize": "Kernel (window) size, as the explorer's kernel slider.",
        "stride": "Step between windows; auto = the window size (pooling).",
        "pad": "Zero padding on every side (-inf for max pooling).",
        "dilation": "Gap between kernel taps (Chainer's dilate).",
        "in_channels": "auto = inferred from the input (Chainer's None).",
        "in_size": "auto = inferred from the flattened input (Chainer's None).",
        "size": "auto = the input's channels.",
        "groups": "Split the channels into groups that do not see each other (AlexNet's 2 GPUs).",
        "cover_all": "auto: on for max (Chainer), off for average pooling.",
        "outsize": "auto = s(H - 1) + d(k - 1) + 1 - 2p."}
COLUMNS = 4  # argument controls per row


def _square(value):
    """An int for an int or a square pair; None for a rectangular pair (not editable here)."""
    if isinstance(value, list) and len(value) == 2:
        if all(isinstance(v, list) for v in value):
            (t, b), (l, r) = value
            return t if t == b == l == r else None
        return value[0] if value[0] == value[1] else None
    return value


class SpecEditor(QWidget):
    """``kinds``: what "Add layer" offers. Signals carry the edit asked for; :meth:`show_layer`
    shows a layer without emitting."""

    addRequested = Signal(str)      # kind, inserted after the selected layer
    removeRequested = Signal()
    moveRequested = Signal(int)     # -1 up, +1 down
    argChanged = Signal(str, object)  # argument (or "name"), new value (None: the default)
    kindChanged = Signal(str)

    def __init__(self, kinds, parent=None):
        super().__init__(parent)
        self._undo_keys = UndoKeysToTheStack(self)
        self.layer: dict | None = None
        self.controls: dict[str, QWidget] = {}
        add = QToolButton(text="Add layer ▾", objectName="addLayer",
                          popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(add)
        for kind in kinds:
            menu.addAction(kind, lambda k=kind: self.addRequested.emit(k))
        add.setMenu(menu)
        add.setToolTip("Insert a layer after the selected one (first, if none is selected).")
        self.remove = QToolButton(text="Remove", objectName="removeLayer")
        self.up = QToolButton(text="▲", objectName="moveUp", toolTip="Move the layer up")
        self.down = QToolButton(text="▼", objectName="moveDown", toolTip="Move the layer down")
        self.remove.clicked.connect(self.removeRequested)
        self.up.clicked.connect(lambda: self.moveRequested.emit(-1))
        self.down.clicked.connect(lambda: self.moveRequested.emit(1))
        self.kind = QComboBox(objectName="layerKind")
        self.kind.addItems(list(kinds))
        self.kind.activated.connect(lambda _: self.kindChanged.emit(self.kind.currentText()))
        self.name = QLineEdit(objectName="layerName", maximumWidth=110)
        self.name.editingFinished.connect(self._renamed)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (add, self.remove, self.up, self.down, QLabel("kind"), self.kind,
                  QLabel("name"), self.name):
            bar.addWidget(w)
        bar.addStretch(1)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addLayout(self.grid)
        self.show_layer(None)

    # -- showing ------------------------------------------------------------------------------
    def show_layer(self, layer: dict | None, *, editable: bool = True) -> None:
        """Show ``layer`` (a spec dict) and its arguments; None: nothing selected."""
        self.layer = layer
        for w in (self.remove, self.up, self.down, self.kind, self.name):
            w.setEnabled(layer is not None and editable)
        self.name.setText(layer.get("name", "") if layer else "")
        kind = layer.get("kind") if layer else None
        self.kind.blockSignals(True)
        if kind is not None and self.kind.findText(kind) < 0:
            self.kind.addItem(kind)
        self.kind.setCurrentText(kind or "")
        self.kind.blockSignals(False)
        key = (kind, editable, tuple(_square(v) is None for v in (layer or {}).values()))
        if layer is not None and key == getattr(self, "_shown_key", None) \
                and self._update_values(layer):
            return  # same kind: values set in place, so a focused spin box keeps its focus
        self._shown_key = key
        self._rebuild(layer, editable)

    def _update_values(self, layer: dict) -> bool:
        cls = L.KINDS.get(layer.get("kind"))
        for arg, (kind, default) in cls.spec_args.items():
            control, value = self.controls.get(arg), layer.get(arg, default)
            if control is None or not control.isEnabled():
                return False
            control.blockSignals(True)
            if isinstance(control, QSpinBox):
                control.setValue(0 if value is None else int(_square(value)))
            elif isinstance(control, QDoubleSpinBox):
                control.setValue(float(value))
            elif isinstance(control, QCheckBox):
                control.setChecked(bool(value))
            elif kind.startswith("choice:"):
                control.setCurrentText(str(value))
            else:
                control.setCurrentIndex(0 if value is None else 1 if value else 2)
            control.blockSignals(False)
        return True

    def _rebuild(self, layer, editable: bool) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # at once: deleteLater waits for the event loop
                item.widget().deleteLater()
        self.controls = {}
        cls = L.KINDS.get(layer.get("kind")) if layer else None
        if cls is None:
            return
        for n, (arg, (kind, default)) in enumerate(cls.spec_args.items()):
            control = self._control(arg, kind, layer.get(arg, default), default)
            control.setObjectName(f"arg_{arg}")
            control.setToolTip(TIPS.get(arg, ""))
            control.setEnabled(control.isEnabled() and editable)
            self.controls[arg] = control
            row, col = divmod(n, COLUMNS)
            self.grid.addWidget(QLabel(arg.replace("_", " ")), row, 2 * col)
            self.grid.addWidget(control, row, 2 * col + 1)

    def _control(self, arg: str, kind: str, value, default) -> QWidget:
        optional, base = kind.endswith("?"), kind.rstrip("?")
        if base.startswith("choice:"):
            box = QComboBox()
            box.addItems(base[7:].split("|"))
            box.setCurrentText(str(value))
            box.currentTextChanged.connect(lambda t: self.argChanged.emit(arg, t))
            return box
        if base == "bool" and not optional:
            check = QCheckBox()
            check.setChecked(bool(value))
            check.toggled.connect(lambda on: self.argChanged.emit(arg, on))
            return check
        if base == "bool":
            box = QComboBox()
            box.addItems(["auto", "on", "off"])
            box.setCurrentIndex(0 if value is None else 1 if value else 2)
            box.currentIndexChanged.connect(
                lambda i: self.argChanged.emit(arg, (None, True, False)[i]))
            return box
        if base == "float":
            spin = QDoubleSpinBox(decimals=6, minimum=0.0, maximum=1e4, singleStep=0.1,
                                  keyboardTracking=False)
            spin.setValue(float(value))
            self._undo_keys.watch(spin)
            spin.valueChanged.connect(lambda v: self.argChanged.emit(arg, v))
            return spin
        return self._int_control(arg, base, optional, value)

    def _int_control(self, arg: str, base: str, optional: bool, value) -> QSpinBox:
        lo, hi = RANGES.get(arg, (0 if base in ("int0", "pad", "axis") else 1, 4096))
        if optional:
            lo = 0
        shown = _square(value)
        spin = QSpinBox(minimum=lo, maximum=max(hi, shown or 0), keyboardTracking=False)
        if optional:
            spin.setSpecialValueText("auto")
        if shown is None and value is not None:  # rectangular: kept as it is
            spin.setEnabled(False)
            spin.setSpecialValueText(str(value))
            spin.setValue(spin.minimum())
            return spin
        spin.setValue(0 if shown is None else int(shown))
        self._undo_keys.watch(spin)
        spin.valueChanged.connect(
            lambda v: self.argChanged.emit(arg, None if optional and v == 0 else v))
        return spin

    def _renamed(self) -> None:
        text = self.name.text().strip()
        if self.layer is not None and text and text != self.layer.get("name"):
            self.argChanged.emit("name", text)
