"""What the Network pane says of an ONNX model (issue 24): BN only where there is BN, constant
weights named, the model's own input size."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

from tests.ui.helpers import RESULT_MS, network_pane

onnx = pytest.importorskip("onnx")
LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
NET_MS = max(RESULT_MS, 90_000)


@pytest.fixture
def pane(qtbot):
    widget = network_pane(qtbot)
    image = np.random.default_rng(1).random((90, 120, 3), dtype=np.float32)
    widget.image = image
    widget.loaded = SimpleNamespace(original=image, image=image)
    yield widget
    widget.shutdown()


def test_light_alexnet_is_named_constant_without_bn_at_224(pane, qtbot):
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.open_model(os.path.join(LIGHT, "light_bvlc_alexnet.onnx"))
    text = pane.bn_label.text()
    assert "BatchNormalization layers use" not in text and "no BatchNormalization" in text
    assert "constant" in text and "n0" in text and "trained model" not in text.lower().replace(
        "not trained", "")
    assert pane.insize.value() == 224


def test_a_model_with_bn_and_real_weights_says_so(pane, qtbot, tmp_path):
    from tests.ui.panes.test_network_model import tiny_residual_model

    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.open_model(tiny_residual_model(tmp_path / "tiny.onnx"))
    text = pane.bn_label.text()
    assert text.startswith("A trained model") and "no BatchNormalization" in text
    assert pane.insize.value() == 32


def test_weights_finding_names_constant_and_identical_filters():
    from convlab.engine.nets import build_network
    from convlab.pipelines.weight_check import weights_finding

    net = build_network("alexbn", seed=0)
    assert not weights_finding(net).suspect
    layer = next(layer for layer in net.layers if layer.name == "conv1")
    w = np.array(layer.params["W"])
    layer.params["W"] = np.full_like(w, 0.02)
    conv2 = next(layer for layer in net.layers if layer.name == "conv2")
    w2 = np.array(conv2.params["W"])
    conv2.params["W"] = np.repeat(w2[:1], len(w2), axis=0)
    finding = weights_finding(net)
    assert finding.constant == ("conv1",) and finding.degenerate == ("conv2",)
    assert "conv1 is 0.02" in finding.sentence() and "conv2" in finding.sentence()


def test_a_refused_model_takes_the_loading_note_away(qtbot, tmp_path):
    pane = network_pane(qtbot)
    image = np.random.default_rng(1).random((90, 120, 3), dtype=np.float32)
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.set_image(SimpleNamespace(original=image, image=image))
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model at all")
    with qtbot.waitSignal(pane.worker.failed, timeout=NET_MS):
        pane.open_model(bad)
    qtbot.waitUntil(lambda: pane.view.montage is not None, timeout=NET_MS)
    assert "Loading" not in pane.view.title.text() and not pane.view.overlay.isVisible()
    pane.shutdown()
