"""The map grid follows the space it is given (issue 10, "the screen tells the truth"):

- moving a splitter lays the grid out again for the new shape, without a new computation,
  in both panes; Fit (and Ctrl+0) fits the maps of the pane in front;
- the maps do not move when a note under the readout's formulas comes or goes.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QSplitter

from tests.ui.helpers import RESULT_MS, change_and_wait

NET_MS = max(RESULT_MS, 60_000)


def _splitter_of(widget) -> QSplitter:
    while not isinstance(widget, QSplitter):
        widget = widget.parent()
    return widget


def _cols(view) -> int:
    return view.montage.layout.cols


def test_the_explorer_grid_is_laid_out_again_when_its_splitter_moves(qtbot, window):
    view = window.explorer.view
    split = _splitter_of(window.explorer.map_tabs)
    before, computed = _cols(view), window.explorer.output
    total = sum(split.sizes())
    split.setSizes([total // 3, total - total // 3])  # the maps' area: far wider than tall
    qtbot.waitUntil(lambda: _cols(view) > before, timeout=RESULT_MS)
    assert window.explorer.output.result is computed.result  # laid out again, not computed again
    split.setSizes([total - 60, 60])  # and back to taller
    qtbot.waitUntil(lambda: _cols(view) <= before, timeout=RESULT_MS)


def test_the_network_grid_is_laid_out_again_when_its_splitter_moves(qtbot, window):
    pane = window.network
    window.show_pane(pane)
    qtbot.waitUntil(lambda: pane.settled() and pane.view.montage is not None, timeout=NET_MS)
    split = _splitter_of(pane.right)
    before, result = _cols(pane.view), pane.result
    total = sum(split.sizes())
    split.setSizes([total - 300, 300])  # the maps' column: narrow and tall
    qtbot.waitUntil(lambda: _cols(pane.view) < before, timeout=NET_MS)
    assert pane.result is result


def _zoomed_in(view) -> tuple:
    view.canvas.box.scaleBy((0.3, 0.3))
    return tuple(map(tuple, view.canvas.box.viewRange()))


def test_fit_the_maps_fits_the_maps_of_the_pane_in_front(qtbot, window):
    pane = window.network
    window.show_pane(pane)
    qtbot.waitUntil(lambda: pane.settled() and pane.view.montage is not None, timeout=NET_MS)
    zoomed = _zoomed_in(pane.view)
    action = next(a for a in window.findChildren(type(window.menuBar().actions()[0]))
                  if a.text() == "&Fit the maps")
    action.trigger()  # Ctrl+0
    assert tuple(map(tuple, pane.view.canvas.box.viewRange())) != zoomed


def test_fit_after_a_splitter_move_lays_the_grid_out_for_the_new_shape(qtbot, window):
    view = window.explorer.view
    split = _splitter_of(window.explorer.map_tabs)
    view.relayout_delay_ms = 10_000  # the automatic re-layout would come too late: Fit does it
    before = _cols(view)
    total = sum(split.sizes())
    split.setSizes([total // 3, total - total // 3])
    view.fit()
    qtbot.waitUntil(lambda: _cols(view) > before, timeout=RESULT_MS)


def _map_area(window):
    view = window.explorer.view
    return view.mapTo(window, QPoint(0, 0)).y(), view.height()


def test_the_maps_do_not_move_when_a_readout_note_comes_or_goes(qtbot, window):
    """pool 3/2 on 126 leaves cover_all's note under the formula; pool 2/2 divides evenly."""
    readout = window.explorer.readout
    assert "cover_all keeps" in readout.text()
    place = _map_area(window)
    change_and_wait(qtbot, window, "poolSize", 2)
    assert "cover_all keeps" not in readout.text()  # the pooling row has no note now
    qtbot.wait(50)  # any layout change has happened by now
    assert _map_area(window) == place
    change_and_wait(qtbot, window, "poolSize", 3)
    qtbot.wait(50)
    assert _map_area(window) == place
