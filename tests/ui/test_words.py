"""Words and numbers (issue 10): one unit style in both panes (``96 × 55 × 55``, M/G
multiply-adds) through :mod:`convlab.engine.wording`; singular and plural right; the pooling
window is never called a kernel; map and kernel indexes count from 0 alike; a pooling window
of 1 says that pooling is off; the Network pane's map window shows conv1's kernel."""

from __future__ import annotations

import re

import numpy as np
import pytest

from convlab.engine.explorer import ExplorerSettings, plan_explorer
from convlab.engine.explorer.kernels import make_bank
from convlab.engine.wording import count_noun, macs_text, shape_text
from tests.ui.helpers import RESULT_MS, change_and_wait

NET_MS = max(RESULT_MS, 60_000)


def test_the_helpers_say_counts_shapes_and_costs_one_way():
    assert (count_noun(1, "row"), count_noun(2, "row"), count_noun(1024, "value")) == \
        ("1 row", "2 rows", "1,024 values")
    assert shape_text((96, 55, 55)) == "96 × 55 × 55" and shape_text(None) == "—"
    assert (macs_text(552_960_000), macs_text(105_415_200), macs_text(1_135_000_000)) == \
        ("553 M", "105 M", "1.14 G")


def _notes(height: int, width: int, **settings) -> str:
    plan = plan_explorer(ExplorerSettings(**settings), height, width)
    return " ".join(f"{st.note} {st.error}" for st in plan)


@pytest.mark.parametrize("height, width, want", [
    (512, 511, "the last row is never covered"),       # (512 - 11) % 4 = 1; (511 - 11) % 4 = 0
    (514, 511, "the last 3 rows are never covered"),
    (512, 512, "the last row and the last column are never covered"),
    (511, 512, "the last column is never covered"),
])
def test_the_coverage_note_agrees_in_number(height, width, want):
    notes = _notes(height, width, pool=1)
    assert want in notes
    assert not re.search(r"\b1 (row|column) are\b|\blast 1 ", notes)


def test_a_pooling_window_is_never_called_a_kernel():
    notes = _notes(20, 20, pool=9, pool_stride=2)  # conv gives 3 x 3: no room for a 9-window
    assert "pooling window 9 is larger" in notes and "kernel 9" not in notes


def test_the_network_table_calls_a_pooling_window_by_its_name():
    from convlab.engine.nets import build_network

    rows = build_network("alexbn").summary((3, 20, 20))  # pool2 gets 1 x 1: no room for 3
    error = next(r.error for r in rows if r.error)
    assert "pooling window" in error and "kernel 3" not in error


def test_filler_kernels_are_named_by_their_map_index():
    _, names, note = make_bank("gabor", 12, 3, 5)  # 8 Gabor filters, then 4 random ones
    assert names[8:] == ["random 8", "random 9", "random 10", "random 11"]
    assert "filters 8 to 11 are random" in note


def test_the_readout_says_pooling_is_off_at_window_1(qtbot, window):
    change_and_wait(qtbot, window, "poolSize", 1)
    text = window.explorer.readout.text()
    assert "Max pooling" in text and "off" in text


def test_both_panes_write_shapes_and_multiply_adds_alike(qtbot, window):
    readout = window.explorer.readout.text()
    assert "96 × 126 × 126" in readout and "553 M multiply-adds" in readout
    pane = window.network
    window.show_pane(pane)
    qtbot.waitUntil(lambda: pane.settled() and pane.view.montage is not None, timeout=NET_MS)
    m = pane.model
    cells = {m.data(m.index(r, 0)): [m.data(m.index(r, c)) for c in range(m.columnCount())]
             for r in range(m.rowCount())}
    assert "96 × 55 × 55" in cells["conv1"] and "105 M" in cells["conv1"]
    assert "1.14 G" in cells["total"]
    assert pane.view.title.text() == "Maps of conv1: 96 × 55 × 55"


def test_the_map_window_title_counts_from_0_like_the_maps(qtbot, window):
    dialog = window.explorer.view.open_map(40)
    qtbot.addWidget(dialog)
    title = dialog.title.text()
    assert title.startswith("Map 40 of 96") and "random 40" in title


def test_the_network_map_window_shows_conv1_s_kernel_as_the_explorer_does(qtbot, window):
    pane = window.network
    window.show_pane(pane)
    qtbot.waitUntil(lambda: pane.settled() and pane.view.montage is not None, timeout=NET_MS)
    montage = pane.view.montage
    assert montage.kernels is not None and montage.kernels.shape == (96, 3, 11, 11)
    np.testing.assert_array_equal(montage.kernels[5], np.asarray(pane.result.net["conv1"].params["W"][5]))
    dialog = pane.view.open_map(5)
    qtbot.addWidget(dialog)
    assert dialog.kernel_caption.text().startswith("3 × 11 × 11")


def test_the_diagram_counts_its_windows_from_0_like_its_rows_and_columns(window):
    panel = window.explorer.diagram
    panel.set_position(0)
    text = panel.counts.text()
    assert text.startswith("window 0 of ") and "output row 0, column 0" in text
