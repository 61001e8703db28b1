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



def test_a_trained_run_opens_in_the_pane(pane, qtbot, tmp_path):
    """What `convlab train` writes (network.json and weights.npz) opens in the Network pane:
    the spec at its own 28-pixel input with 8 classes, then the trained weights."""
    from convlab.engine.nets import Network, presets
    from convlab.pipelines import train_state
    from convlab.pipelines.datasets import open_dataset
    from convlab.pipelines.training import TrainConfig, Trainer

    net = Network.from_spec(presets.with_classes(presets.preset("lenet"), 8), seed=1)
    Trainer(net, open_dataset("shapes"), TrainConfig(epochs=1, limit=64, batch_size=32)).run()
    train_state.write_json(tmp_path / "network.json", net.to_spec())
    net.save_npz(tmp_path / "weights.npz")
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        assert pane.edits.open_spec(tmp_path / "network.json")
    qtbot.waitUntil(lambda: pane.result.settings.insize == 28, timeout=NET_MS)
    assert pane.result.settings.net == "custom" and pane.insize.value() == 28
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.load_weights(str(tmp_path / "weights.npz"))
    assert "weights.npz" in pane.weights_label.text()
    assert pane.result.outputs["fc4"].shape[-1] == 8
    assert pane.result.outputs["conv1"].shape[-3:] == (20, 24, 24)
