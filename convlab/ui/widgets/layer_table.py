"""The network pane's layer table: a Qt model over ``Network.summary()`` rows plus timings.

Columns: layer, kind, config, output, params, mult-adds, RF, jump, ms, dead (share of zeros
after a ReLU). The last row holds the totals, the same figures ``convlab shapes`` prints.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from convlab.engine.nets import SummaryRow
from convlab.render.tiles import shape_text

COLUMNS = ("layer", "kind", "config", "output", "params", "mult-adds", "RF", "jump", "ms", "dead")
RIGHT = {"params", "mult-adds", "RF", "jump", "ms", "dead"}
TOOLTIPS = {
    "RF": "Receptive field: how many input pixels (per side) one output pixel of this layer sees.",
    "jump": "Input pixels between neighbouring outputs of this layer (the product of the strides).",
    "dead": "Share of the layer's outputs that a ReLU set to zero in the last forward pass.",
    "mult-adds": "Multiply-adds for one image (convolutions and fully connected layers).",
    "ms": "Milliseconds this layer took in the last forward pass.",
}


def _count(n: int) -> str:
    return f"{n:,}"


def _macs(n: int) -> str:
    return f"{n / 1e6:,.1f} M" if n else "0"


class LayerTableModel(QAbstractTableModel):
    """Rows from ``summary()``; ``set_time``/``set_dead`` fill in as the forward pass runs."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[SummaryRow] = []
        self._ms: dict[str, float] = {}
        self._dead: dict[str, float] = {}

    # -- state -------------------------------------------------------------------------------
    def set_rows(self, rows: list[SummaryRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._ms.clear()
        self._dead.clear()
        self.endResetModel()

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
        return ""

    def _total_text(self, col: str) -> str:
        params, macs, ms = self.totals()
        if col == "layer":
            return "total"
        if col == "params":
            return _count(params)
        if col == "mult-adds":
            return f"{macs / 1e9:.3f} G"
        if col == "ms":
            return f"{ms:.1f}" if self._ms else ""
        return ""
