"""Both panes offer the declared pane interface, and the window, export and snapshot use it."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction

from convlab.ui.panes.base import ExportSource, Pane
from tests.ui.helpers import RESULT_MS

NET_MS = 4 * RESULT_MS  # AlexBN end to end on a slow machine


def test_every_pane_offers_the_pane_interface(window):
    assert [p.title for p in window.panes()] == ["Explorer", "Network"]  # Train: built when wanted
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "Explorer", "Network", "Train"]
    assert window.current_pane() is window.explorer
    window.findChild(QAction, "actionTrainPane").trigger()  # Ctrl+3 builds and shows it
    panes = window.panes()
    assert [p.title for p in panes] == ["Explorer", "Network", "Train"]
    assert all(isinstance(p, Pane) for p in panes)
    assert window.current_pane() is window.train


def test_explorer_export_source_matches_the_view(window):
    window.explorer.view.set_colormap("turbo")
    window.explorer.view.scaling_box.setCurrentText("shared scale")
    src = window.explorer.export_source()
    assert isinstance(src, ExportSource)
    assert (src.cmap, src.mode) == ("turbo", "layer")
    assert src.layer == "pool" and src.layers["pool"].shape == (96, 63, 63)
    record = src.record()
    assert record["pipeline"] == "explorer" and record["image"]["name"] == "astronaut.jpg"


def test_network_pane_has_nothing_to_export_before_it_runs_then_settles(qtbot, window):
    pane = window.network
    with pytest.raises(ValueError, match="Nothing to export"):
        pane.export_source()
    window.show_pane(pane)
    qtbot.waitUntil(pane.settled, timeout=NET_MS)
    src = pane.export_source()
    assert src.layer == "conv1" and src.record()["bn_mode"] == "batch"


def test_pane_state_round_trips(window):
    state = window.explorer.state()
    assert state["settings"]["kernel"] == 11 and state["longest"] == 512
    window.explorer.restore({"settings": {"kernel": 5}, "longest": "damaged", "view": {"colormap": "magma"}})
    assert window.explorer.settings().kernel == 5
    assert window.explorer.controls.longest.value() == 512
    assert window.explorer.view.look()[0] == "magma"
    window.explorer.restore({"settings": ["not", "a", "dict"]})  # ignored
    assert window.explorer.settings().kernel == 5
