"""The layer table model's answers per role (it answers with int roles, as Qt asks)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from convlab.engine.nets import Network
from convlab.engine.nets.presets import preset
from convlab.ui.widgets.layer_table import COLUMNS, LayerTableModel


def _model(qtbot):
    net = Network.from_spec(preset("alex"), init=False)
    model = LayerTableModel()
    rows = net.summary((3, 60, 60))  # too small: the later layers cannot run
    model.set_rows(rows)
    return model, rows


def test_roles_give_text_alignment_bold_totals_and_error_colours(qtbot):
    model, rows = _model(qtbot)
    total = len(rows)
    params = model.index(0, COLUMNS.index("params"))
    name = model.index(0, COLUMNS.index("layer"))
    assert model.data(name) == rows[0].name == model.data(name, Qt.ItemDataRole.DisplayRole)
    assert model.data(params, Qt.ItemDataRole.TextAlignmentRole) == int(
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert model.data(name, int(Qt.ItemDataRole.TextAlignmentRole)) == int(
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    assert model.data(model.index(total, 0)) == "total"
    assert model.data(model.index(total, 0), Qt.ItemDataRole.FontRole).bold()
    assert model.data(name, Qt.ItemDataRole.FontRole) is None
    assert model.data(model.index(total, 0), Qt.ItemDataRole.ToolTipRole) is None
    assert model.data(name, Qt.ItemDataRole.DecorationRole) is None
    failing = next(i for i, r in enumerate(rows) if r.error or r.output_shape is None)
    brush = model.data(model.index(failing, 0), Qt.ItemDataRole.ForegroundRole)
    assert brush.color().name() in ("#c0392b", "#999999")
    assert model.data(name, Qt.ItemDataRole.ForegroundRole) is None
    assert model.headerData(COLUMNS.index("RF"), Qt.Orientation.Horizontal) == "RF"
    assert "Receptive" in model.headerData(COLUMNS.index("RF"), Qt.Orientation.Horizontal,
                                           Qt.ItemDataRole.ToolTipRole)
    assert model.headerData(0, Qt.Orientation.Vertical) is None
