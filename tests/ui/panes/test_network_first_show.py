"""The Network pane built hidden (behind the explorer's tab) shows a full, fitted table later."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView

from convlab.ui.widgets.layer_table import COLUMNS


def test_a_hidden_pane_has_its_rows_and_fits_its_columns_when_first_shown(qtbot):
    from convlab.ui.panes.network import NetworkPane

    pane = NetworkPane()
    qtbot.addWidget(pane)
    header = pane.table.horizontalHeader()
    try:
        names = [pane.model.data(pane.model.index(r, 0)) for r in range(pane.model.rowCount())]
        assert names[0] == "conv1" and names[-1] == "total"  # there before any show
        assert pane.selected_layer() == "conv1"
        assert header.sectionResizeMode(0) != QHeaderView.ResizeMode.ResizeToContents
        pane.resize(1280, 760)
        pane.show()
        qtbot.waitExposed(pane)
        assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.ResizeToContents
        for column in (COLUMNS.index("config"), COLUMNS.index("output")):
            assert header.sectionSize(column) >= pane.table.sizeHintForColumn(column) > 0
        assert pane.selected_layer() == "conv1"
    finally:
        pane.shutdown()
