"""Receptive fields in the Network pane: a click on a map draws Network.receptive_field's box."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.ui.helpers import RESULT_MS, network_pane

NET_MS = max(RESULT_MS, 60_000)


@pytest.fixture
def pane(qtbot):
    widget = network_pane(qtbot)
    image = np.random.default_rng(1).random((300, 400, 3), dtype=np.float32)
    with qtbot.waitSignal(widget.resultReady, timeout=NET_MS):
        widget.set_image(SimpleNamespace(original=image, image=image))
    yield widget
    widget.shutdown()


def _show(pane, qtbot, name):
    pane.select_layer(name)
    qtbot.waitUntil(lambda: pane.view.montage is not None and pane.view.montage.title == name,
                    timeout=NET_MS)


def _click_map(pane, qtbot, index, r, c):
    """Click map ``index`` at its pixel (r, c) (the canvas's click, in montage pixels)."""
    m = pane.view.montage
    lay = m.layout
    col, row = index % lay.cols, index // lay.cols
    x = col * (lay.tile_w + lay.gap) + c / lay.step + 0.5
    y = row * (lay.tile_h + lay.gap) + r / lay.step + 0.5
    assert m.lookup(x, y)[:3] == (index, r, c)
    with qtbot.waitSignal(pane.fieldShown, timeout=NET_MS):
        pane.view.canvas.clicked.emit(float(x), float(y))
    if pane.view.dialog is not None:
        pane.view.dialog.close()


def test_clicking_a_pool5_position_draws_its_receptive_field(pane, qtbot):
    from convlab.engine.nets import build_network

    _show(pane, qtbot, "pool5")
    _click_map(pane, qtbot, 7, 0, 0)
    want = build_network("alexbn", init=False).receptive_field("pool5", 0, 0, (3, 227, 227))
    assert pane.receptiveField() == (want.top, want.left, want.bottom, want.right)
    assert pane.crop_view.box == (want.top, want.left, want.bottom, want.right)
    assert pane.crop_view.clipped == (0, 0, 131, 131), "clipped where it reaches into the padding"
    assert pane.crop_view.text.startswith("pool5 (0, 0): 195 px, jump 32")


@pytest.mark.parametrize("layer,i,j", [("conv1", 20, 31), ("conv3", 5, 9), ("pool2", 12, 0)])
def test_pin_draws_the_box_network_receptive_field_gives(pane, qtbot, layer, i, j):
    from convlab.engine.nets import build_network

    with qtbot.waitSignal(pane.fieldShown, timeout=NET_MS):
        pane.pin(layer, 3, i, j)
    want = build_network("alexbn", init=False).receptive_field(layer, i, j, (3, 227, 227))
    assert pane.receptiveField() == (want.top, want.left, want.bottom, want.right)
    assert pane.selected_layer() == layer


def test_an_edit_clears_the_field_and_fc_layers_have_none(pane, qtbot):
    with qtbot.waitSignal(pane.fieldShown, timeout=NET_MS):
        pane.pin("conv2", 0, 1, 1)
    assert pane.receptiveField() is not None
    pane.insize.setValue(224)
    assert pane.receptiveField() is None
    with qtbot.waitSignal(pane.fieldShown, timeout=NET_MS):
        pane.pin("fc6", 0, 0, 0)
    assert pane.receptiveField() is None and "fc6" in pane.crop_view.text


def test_a_real_click_draws_the_field_with_no_dialog_over_it_and_the_dialog_moves_it(pane, qtbot):
    """Issue 24: the one-map window opened over the crop on a click, hiding the box; clicks in
    it did not move the box."""
    from PySide6.QtCore import Qt

    from tests.ui.clicks import canvas_point, click_map

    _show(pane, qtbot, "pool5")
    with qtbot.waitSignal(pane.fieldShown, timeout=NET_MS):
        click_map(qtbot, pane.view, 7, 2, 2)
    assert pane.view.dialog is None or not pane.view.dialog.isVisible()
    first = pane.receptiveField()
    assert first is not None and pane.crop_view.isVisible()
    qtbot.mouseClick(pane.open_map_button, Qt.MouseButton.LeftButton)
    dialog = pane.view.dialog
    assert dialog is not None and dialog.isVisible() and dialog.index == 7
    crop = pane.crop_view
    crop_rect = crop.rect().translated(crop.mapToGlobal(crop.rect().topLeft()))
    assert not dialog.frameGeometry().intersects(crop_rect), "the box stays in sight"
    with qtbot.waitSignal(pane.fieldShown, timeout=NET_MS):
        qtbot.mouseClick(dialog.canvas.viewport(), Qt.MouseButton.LeftButton,
                         pos=canvas_point(dialog.canvas, 5.5, 4.5))
    from convlab.engine.nets import build_network

    want = build_network("alexbn", init=False).receptive_field("pool5", 4, 5, (3, 227, 227))
    assert pane.receptiveField() == (want.top, want.left, want.bottom, want.right) != first
    dialog.close()
