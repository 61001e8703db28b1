"""The network pane's layer table: a Qt model over ``Network.summary()`` rows plus timings.

Columns: layer, kind, config, output, params, mult-adds, RF, jump, ms, dead (share of zeros
after a ReLU), the memory of the layer's activations and parameters (float32, one image), and
the layers it reads (shown where that is not simply the layer above, as in a graph). The last
row holds the totals, the same figures ``convlab shapes`` prints.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from convlab.engine.nets import SummaryRow
from convlab.engine.wording import macs_text, shape_text

COLUMNS = ("layer", "kind", "config", "output", "params", "mult-adds", "RF", "jump", "ms", "dead",
           "act mem", "param mem", "inputs")
RIGHT = {"params", "mult-adds", "RF", "jump", "ms", "dead", "act mem", "param mem"}
TOOLTIPS = {
    "RF": "Receptive field: how many input pixels (per side) one output pixel of this layer sees.",
    "jump": "Input pixels between neighbouring outputs of this layer (the product of the strides).",
    "dead": "Share of the layer's outputs that a ReLU set to zero in the last forward pass.",
    "mult-adds": "Multiply-adds for one image (convolutions and fully connected layers).",
    "ms": "Milliseconds this layer took in the last forward pass.",
    "act mem": "Memory of this layer's output for one image (float32).",
    "param mem": "Memory of this layer's learned parameters (float32).",
    "inputs": "The layers this one reads, where that is not the layer above it.",
}


def _bytes(n: int) -> str:
    if n >= 2 ** 20:
        return f"{n / 2 ** 20:,.1f} MB"
    return f"{n / 2 ** 10:,.1f} KB" if n else "0"


def _activation_bytes(r: SummaryRow) -> int:
    return 4 * int(np.prod(r.output_shape)) if r.output_shape is not None else 0


def _count(n: int) -> str:
    return f"{n:,}"


_macs = macs_text  # 105 M, 1.14 G: as the explorer's readout writes them


class LayerTableModel(QAbstractTableModel):
    """Rows from ``summary()``; ``set_time``/``set_dead`` fill in as the forward pass runs."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[SummaryRow] = []
        self._ms: dict[str, float] = {}
        self._dead: dict[str, float] = {}
        self._inputs: dict[str, str] = {}

    # -- state -------------------------------------------------------------------------------
    def set_rows(self, rows: list[SummaryRow], inputs: dict[str, list[str]] | None = None) -> None:
        """New rows (times cleared); ``inputs``: layer name -> the names it reads."""
        self.beginResetModel()
        self._rows = list(rows)
        previous, self._inputs = "input", {}
        for r in self._rows:
            read = (inputs or {}).get(r.name, [previous])
            if list(read) != [previous]:
                self._inputs[r.name] = ", ".join(read)
            previous = r.name
        self._ms.clear()
        self._dead.clear()
        self.endResetModel()

    def reads_other_layers(self) -> bool:
        """Whether some layer reads other than the layer above it (a graph: show "inputs")."""
        return bool(self._inputs)

    def update_errors(self, rows: list[SummaryRow]) -> None:
        """Take the ``error`` texts of ``rows`` (the same layers, a fuller reason) in place."""
        if [r.name for r in rows] != [r.name for r in self._rows]:
            return
        for mine, theirs in zip(self._rows, rows):
            mine.error = theirs.error
        if self._rows:
            self._changed(0, len(self._rows) - 1, "layer", "output")

    def clear_times(self) -> None:
        self._ms.clear()
        self._dead.clear()
        self._changed(0, len(self._rows), "ms", "dead")

    def set_time(self, name: str, seconds: float, dead: float | None = None) -> None:
        self._ms[name] = seconds * 1e3
        if dead is not None:
            self._dead[name] = dead
        row = self.row_of(name)
        if row >= 0:
            self._changed(row, row, "ms", "dead")
            self._changed(len(self._rows), len(self._rows), "ms", "dead")

    def _changed(self, first: int, last: int, *cols: str) -> None:
        lo, hi = min(COLUMNS.index(c) for c in cols), max(COLUMNS.index(c) for c in cols)
        self.dataChanged.emit(self.index(first, lo), self.index(last, hi))

    def row_of(self, name: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.name == name), -1)

    def layer_at(self, row: int) -> SummaryRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def totals(self) -> tuple[int, int, float]:
        return (sum(r.params for r in self._rows), sum(r.macs for r in self._rows),
                sum(self._ms.values()))

    # -- Qt model ----------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows) + (1 if self._rows else 0)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation != Qt.Horizontal:
            return None
        if role == Qt.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ToolTipRole:
            return TOOLTIPS.get(COLUMNS[section])
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        col = COLUMNS[index.column()]
        total_row = index.row() == len(self._rows)
        if role == Qt.DisplayRole:
            return self._total_text(col) if total_row else self._cell_text(self._rows[index.row()], col)
        if role == Qt.TextAlignmentRole:
            return int((Qt.AlignRight if col in RIGHT else Qt.AlignLeft) | Qt.AlignVCenter)
        if role == Qt.FontRole and total_row:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ToolTipRole and not total_row:
            return self._rows[index.row()].error or None
        if role == Qt.ForegroundRole and not total_row:
            row = self._rows[index.row()]
            if row.error:
                return QBrush(QColor("#c0392b"))
            if row.output_shape is None:
                return QBrush(QColor("#999999"))
        return None

    def _cell_text(self, r: SummaryRow, col: str) -> str:
        if col == "layer":
            return r.name
        if col == "kind":
            return r.kind
        if col == "config":
            return r.detail
        if col == "output":
            return "fails: see tooltip" if r.error else shape_text(r.output_shape)
        if col == "params":
            return _count(r.params)
        if col == "mult-adds":
            return _macs(r.macs) if r.output_shape is not None else ""
        if col == "RF":
            return "" if r.rf is None else f"{r.rf:g}"
        if col == "jump":
            return "" if r.jump is None else f"{r.jump:g}"
        if col == "ms":
            return f"{self._ms[r.name]:.2f}" if r.name in self._ms else ""
        if col == "dead":
            return f"{self._dead[r.name]:.0%}" if r.name in self._dead else ""
        if col == "act mem":
            return _bytes(_activation_bytes(r)) if r.output_shape is not None else ""
        if col == "param mem":
            return _bytes(4 * r.params)
        if col == "inputs":
            return self._inputs.get(r.name, "")
        return ""

    def _total_text(self, col: str) -> str:
        params, macs, ms = self.totals()
        if col == "layer":
            return "total"
        if col == "params":
            return _count(params)
        if col == "mult-adds":
            return macs_text(macs)
        if col == "ms":
            return f"{ms:.1f}" if self._ms else ""
        if col == "act mem":
            return _bytes(sum(_activation_bytes(r) for r in self._rows))
        if col == "param mem":
            return _bytes(4 * params)
        return ""
