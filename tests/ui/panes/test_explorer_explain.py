"""The explorer explains one value: hover, pin, arrow keys, the tap overlay, colour bars."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QWidget

from convlab.engine.explain import conv_terms
from convlab.engine.explorer import prepare_input
from convlab.render.colour import normalize_bounds
from tests.ui.helpers import RESULT_MS, change_and_wait


def panel(win):
    return win.findChild(QWidget, "explainPanel")


def shown_value(text: str) -> float:
    """The value the panel gives in its first line ("... value -0.285946")."""
    return float(re.search(r"value (\S+)", text.splitlines()[0]).group(1))


def explained(qtbot, win, stage, c, i, j):
    """Wait until the panel explains exactly this position."""
    side = win.explorer.explain

    def ready():
        e = side.panel.explanation
        return e is not None and (e.stage, e.channel, e.i, e.j) == (stage, c, i, j)

    qtbot.waitUntil(ready, timeout=RESULT_MS)
    return side.panel.explanation


def hover(view, index, r, c):
    """Hover map ``index`` at (r, c) through the canvas, as the mouse does."""
    lay = view.montage.layout
    x = (index % lay.cols) * (lay.tile_w + lay.gap) + c // lay.step + 0.5
    y = (index // lay.cols) * (lay.tile_h + lay.gap) + r // lay.step + 0.5
    view.canvas.hovered.emit(float(x), float(y))


def test_the_input_is_shown_beside_the_maps_with_its_padding(qtbot, window):
    explorer = window.explorer
    view = explorer.explain.input_view
    assert view.isVisible() and view.hw == explorer.loaded.image.shape[:2]
    assert view.band.path().isEmpty()  # padding 0: no band
    change_and_wait(qtbot, window, "padding", 3)
    ring = view.band.path().boundingRect()
    h, w = view.hw
    assert (ring.left(), ring.top(), ring.width(), ring.height()) == (-3, -3, w + 6, h + 6)
    assert view.band.path().contains(QPointF(-1.5, h / 2))  # in the band
    assert not view.band.path().contains(QPointF(w / 2, h / 2))  # the photo itself


@pytest.mark.parametrize("stage", ["pool", "conv"])
def test_hovering_shows_the_value_of_the_map(qtbot, window, stage):
    explorer = window.explorer
    if explorer.output.stage != stage:
        with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
            explorer.show_stage(stage)
    view = explorer.view
    maps = explorer.output.montage.maps
    hover(view, 5, 7, 9)
    e = explained(qtbot, window, stage, 5, 7, 9)
    text = panel(window).text()
    assert shown_value(text) == pytest.approx(float(maps[5, 7, 9]), rel=1e-5, abs=1e-6)
    assert e.value == float(maps[5, 7, 9])
    assert ("Max pooling" in text) == (stage == "pool")


def test_the_overlay_taps_are_conv_terms_rows_and_cols(qtbot, window):
    change_and_wait(qtbot, window, "padding", 4)
    change_and_wait(qtbot, window, "dilation", 2)
    explorer = window.explorer
    explorer.pin("conv", 2, 0, 3)  # the top row of taps lies in the padding
    explained(qtbot, window, "conv", 2, 0, 3)
    s, result = explorer.output.result.settings, explorer.output.result
    t = conv_terms(prepare_input(explorer.loaded.image, s.grayscale), result.kernels,
                   stride=s.stride, pad=s.padding, dilation=s.dilation, o=2, i=0, j=3)
    view = explorer.explain.input_view
    np.testing.assert_array_equal(view.tap_rows, t.rows)
    np.testing.assert_array_equal(view.tap_cols, t.cols)
    padded = int((t.rows < 0).sum()) * len(t.cols)
    assert padded > 0
    # one 1x1 square per tap: those in the padding drawn apart, in the band's colour
    assert view.taps_pad.path().elementCount() == 5 * padded
    assert view.taps_in.path().elementCount() == 5 * (len(t.rows) * len(t.cols) - padded)
    assert shown_value(panel(window).text()) == pytest.approx(
        float(explorer.output.montage.maps[2, 0, 3]), rel=1e-5, abs=1e-6)


def test_pin_and_arrow_keys_move_by_one_output_pixel(qtbot, window):
    explorer = window.explorer
    explorer.pin("pool", 4, 10, 10)
    explained(qtbot, window, "pool", 4, 10, 10)
    canvas = explorer.view.canvas
    view = explorer.view
    hover(view, 9, 1, 1)  # hovering does not move a pinned value
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    explained(qtbot, window, "pool", 4, 10, 11)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    e = explained(qtbot, window, "pool", 4, 11, 11)
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    explained(qtbot, window, "pool", 4, 10, 9)
    maps = explorer.output.montage.maps
    assert e.value == float(maps[4, 11, 11])
    assert shown_value(panel(window).text()) == pytest.approx(float(maps[4, 10, 9]), rel=1e-5,
                                                              abs=1e-6)
    assert "pinned" in explorer.explain.panel.status.text()


def test_the_pin_status_is_not_clipped_at_1280_by_800(qtbot, window):
    window.resize(1280, 800)
    window.explorer.pin("conv", 3, 12, 40)
    explained(qtbot, window, "conv", 3, 12, 40)
    status = window.explorer.explain.panel.status
    qtbot.waitUntil(lambda: status.width() >= status.sizeHint().width(), timeout=2000)
    assert "arrow keys" in status.toolTip()


def test_pin_switches_to_another_stage_and_explains_it(qtbot, window):
    explorer = window.explorer
    explorer.pin("bn", 7, 3, 4)
    e = explained(qtbot, window, "bn", 7, 3, 4)
    assert explorer.output.stage == "bn"
    conv = explorer.output.result.maps["conv"][7]
    assert e.bn.mean == pytest.approx(float(conv.mean(dtype=np.float64)), rel=1e-6, abs=1e-9)
    assert e.bn.var == pytest.approx(float(conv.var(dtype=np.float64)), rel=1e-6)
    text = panel(window).text()
    assert "mean" in text and "variance" in text and "γ" in text and "β" in text
    qtbot.waitUntil(explorer.settled, timeout=RESULT_MS)


def test_the_colour_bar_range_is_the_views_levels(qtbot, window):
    view = window.explorer.view
    maps = view.montage.maps
    hover(view, 11, 2, 2)
    lo, hi = normalize_bounds(maps, "map")
    assert view.colour_bar.levels() == pytest.approx((float(lo[11, 0, 0]), float(hi[11, 0, 0])))
    assert view.colour_bar.levels() == view.levels(11)
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        view.scaling_box.setCurrentText("shared scale")
    lo, hi = normalize_bounds(view.montage.maps, "layer")
    assert view.colour_bar.levels() == pytest.approx((float(lo[0, 0, 0]), float(hi[0, 0, 0])))
    dialog = view.open_map(3)
    assert dialog.colour_bar.levels() == pytest.approx(view.levels(3))
    assert int(dialog.histogram.counts.sum()) == maps[3].size
    dialog.close()


def test_bn_note_offers_shared_scaling_in_one_click(qtbot, window):
    explorer = window.explorer
    note = explorer.explain.note
    assert note.isHidden()  # pool shown: nothing hidden
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        explorer.show_stage("bn")
    assert note.isVisible() and "BN" in explorer.explain.note_label.text()
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        note.findChild(QWidget, "shareScale").click()
    assert explorer.view.mode == "layer"
    assert note.isHidden()


def test_a_grey_input_is_shown_grey(qtbot, window):
    explorer = window.explorer
    controls = explorer.controls
    box = controls.findChild(QWidget, "inputMode")
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        box.setCurrentIndex(1 - box.currentIndex())
    assert explorer.settings().grayscale
    shown = explorer.explain.input_view.item.image
    assert shown.ndim == 2 and shown.shape == explorer.loaded.image.shape[:2]


def test_pinning_a_missing_stage_or_position_says_why_and_settles(qtbot, window):
    explorer = window.explorer
    controls = explorer.controls
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        controls.findChild(QWidget, "batchNorm").setChecked(False)
    explorer.pin("bn", 0, 1, 1)
    assert "no bn stage" in panel(window).text()
    assert explorer.explain.pinned is None
    explorer.pin("pool", 0, 999, 1)
    qtbot.waitUntil(lambda: "outside" in panel(window).text(), timeout=RESULT_MS)
    qtbot.waitUntil(explorer.settled, timeout=RESULT_MS)
