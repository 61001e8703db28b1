"""The trainable presets in the Network pane: chosen from the model menu, the input size
follows the network's own (LeNet's 28, the small CIFAR net's 32, back to AlexNet's 227), and
the table, maps and code tabs show them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.ui.helpers import RESULT_MS, network_pane

NET_MS = max(RESULT_MS, 30_000)


@pytest.fixture
def pane(qtbot):
    widget = network_pane(qtbot)
    image = np.random.default_rng(3).random((300, 400, 3), dtype=np.float32)
    with qtbot.waitSignal(widget.resultReady, timeout=NET_MS):
        widget.set_image(SimpleNamespace(original=image, image=image))
    yield widget
    widget.shutdown()


def _rows(pane):
    m = pane.model
    return {m.data(m.index(r, 0)): [m.data(m.index(r, c)) for c in range(m.columnCount())]
            for r in range(m.rowCount())}


@pytest.mark.parametrize("title, insize, first, maps", [
    ("LeNet (28x28 grey)", 28, "20 × 24 × 24", 20),
    ("Small CIFAR net (32x32 colour)", 32, "32 × 32 × 32", 32)])
def test_a_trainable_preset_runs_at_its_own_size(pane, qtbot, title, insize, first, maps):
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.model_box.setCurrentText(title)
    qtbot.waitUntil(lambda: pane.result.settings.insize == insize, timeout=NET_MS)
    assert pane.insize.value() == insize
    rows = _rows(pane)
    assert rows["conv1"][3] == first and not any("expects" in str(r) for r in rows.values())
    assert "fc4" in pane.result.outputs and pane.result.outputs["fc4"].shape[-1] == 10
    pane.select_layer("conv1")
    qtbot.waitUntil(lambda: pane.view.montage is not None and pane.view.montage.title == "conv1",
                    timeout=NET_MS)
    assert pane.view.montage.count == maps
    assert f"self.conv1 = L.Convolution2D({1 if insize == 28 else 3}, {maps}, " in \
        pane.chainer_code.box.toPlainText()
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.model_box.setCurrentText("AlexBN (BatchNormalization)")
    assert pane.insize.value() == 227 and pane.result.settings.insize == 227

