"""Trained models in the Network pane: Open model (.onnx), nodes with their inputs, receptive
fields through the graph, preprocessing presets, labels for the top-5, and refusals."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.ui.helpers import RESULT_MS, network_pane

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

NET_MS = max(RESULT_MS, 60_000)


def tiny_residual_model(path, classes=5):
    """conv 3x3 -> relu -> conv 3x3 (+ the relu: a residual add) -> global pool -> gemm."""
    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (4, 4, 3, 3)).astype(np.float32)
    fc = rng.normal(0, 0.3, (classes, 4)).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (w2, "w2"), (fc, "fc"))]
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv_a", pads=[1, 1, 1, 1],
                         strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu_a"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv_b", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["s"], name="residual"),
        helper.make_node("GlobalAveragePool", ["s"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc"], ["y"], name="classifier", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, classes])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, str(path))
    return path


@pytest.fixture
def pane(qtbot):
    widget = network_pane(qtbot)
    image = np.random.default_rng(1).random((90, 120, 3), dtype=np.float32)
    widget.image = image  # the photo, without the first AlexBN run
    widget.loaded = SimpleNamespace(original=image, image=image)
    yield widget
    widget.shutdown()


def _names(pane):
    m = pane.model
    return [m.data(m.index(r, 0)) for r in range(m.rowCount() - 1)]


def test_an_onnx_model_opens_in_the_worker_and_lists_its_nodes_with_inputs(pane, qtbot, tmp_path):
    from convlab.ui.widgets.layer_table import COLUMNS

    path = tiny_residual_model(tmp_path / "tiny.onnx")
    (tmp_path / "labels.txt").write_text("".join(f"thing {i}\n" for i in range(5)))
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.open_model(path)
    assert pane.requested.net == "onnx" and pane.model_box.currentText() == "ONNX model"
    names = _names(pane)
    assert names[:6] == ["conv_a", "relu_a", "conv_b", "residual", "gap", "flat"], names
    m, inputs = pane.model, COLUMNS.index("inputs")
    residual = 3
    assert m.data(m.index(residual, 1)) == "add"
    assert m.data(m.index(residual, inputs)) == "conv_b, relu_a"
    assert pane.result.outputs[names[0]].shape == (4, 16, 16)
    assert pane.top5.text().startswith("Top-5: thing")
    assert "tiny.onnx" in pane.weights_label.text()
    assert pane.prep_box.isVisible() and not pane.insize.isEnabled()
    # a node's receptive field, through both paths of the residual add
    with qtbot.waitSignal(pane.fieldShown, timeout=NET_MS):
        pane.pin(names[residual], 0, 4, 4)
    want = pane.result.net.receptive_field(names[residual], 4, 4)
    assert pane.receptiveField() == (want.top, want.left, want.bottom, want.right)
    # conv_b (3x3, pad 1) reads relu_a rows 3..5; conv_a (3x3, stride 2, pad 1) row t reads
    # 2t-1..2t+1: rows 5..11; the skip path reads rows 7..9 only: the union is [5, 12)
    assert pane.receptiveField() == (5, 5, 12, 12)


def test_presets_change_the_input_and_a_chosen_labels_file_names_the_classes(pane, qtbot, tmp_path):
    path = tiny_residual_model(tmp_path / "model.onnx")
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.open_model(path)
    assert pane.top5.text().startswith("Top-5: class")
    first = pane.result.prep["input"].copy()
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.prep_box.setCurrentText("0..1")
    assert pane.result.settings.preprocess == "unit"
    assert pane.result.prep["input"].min() >= 0 and not np.allclose(first, pane.result.prep["input"])
    labels = tmp_path / "names.txt"
    labels.write_text("".join(f"animal {i}\n" for i in range(5)))
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.choose_labels(labels)
    assert pane.top5.text().startswith("Top-5: animal")


def test_a_bad_model_is_one_sentence_and_the_network_stays(pane, qtbot, tmp_path):
    messages = []
    pane.message.connect(lambda text, level: messages.append(text))
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(tiny_residual_model(tmp_path / "good.onnx").read_bytes()[:200])
    with qtbot.waitSignal(pane.worker.failed, timeout=NET_MS):
        pane.open_model(bad)
    assert messages and messages[-1].count(".") >= 1 and "\n" not in messages[-1]
    assert pane.requested.net == "alexbn" and _names(pane)[0] == "conv1"


def test_without_the_onnx_package_the_action_says_how_to_install_it(pane, monkeypatch, tmp_path):
    from convlab.ui.panes import network_model

    monkeypatch.setattr(network_model, "onnx_available", lambda: False)
    messages = []
    pane.message.connect(lambda text, level: messages.append(text))
    assert pane.open_model(tmp_path / "x.onnx") == 0
    assert 'pip install "convlab[onnx]"' in messages[-1]
    assert pane.requested.net == "alexbn"
