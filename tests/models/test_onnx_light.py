"""Every real network the onnx wheel ships (backend/test/data/light) opens, summarises and runs,
and every layer equals the reference evaluator's value (tests/models/reference.py).

The shipped files fill every weight with 0.02 (ConstantOfShape), which makes all channels of a
layer equal (a mix-up of channels or groups would go unseen) and drives activations to 1e10,
where a softmax turns on single float32 roundings. The comparison therefore runs on the same
graphs with those constants replaced by seeded random weights (LeCun-normal scale; 1-D tensors
such as biases and BN statistics uniform in [0.5, 1.5]); the shipped files themselves are opened
and run too.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest

from tests.models.reference import assert_matches_reference, onnx

from convlab.models import load_onnx

LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
# the reference evaluator takes over 20 s on these (pure-Python convolutions)
SLOW = {"light_inception_v1.onnx", "light_inception_v2.onnx", "light_vgg19.onnx",
        "light_densenet121.onnx"}
MODELS = sorted(f for f in os.listdir(LIGHT) if f.endswith(".onnx")) if os.path.isdir(LIGHT) else []


def test_the_wheel_ships_the_nine_light_models():
    assert len(MODELS) == 9, MODELS


@pytest.mark.parametrize("filename", [
    pytest.param(f, marks=pytest.mark.slow) if f in SLOW else f for f in MODELS])
def test_light_model_opens_summarises_and_matches_the_reference(filename, tmp_path):
    path = os.path.join(LIGHT, filename)
    net = load_onnx(path)
    assert net.input_shape == (3, 224, 224)
    rows = net.summary()
    assert [r.error for r in rows if r.error] == []
    assert all(r.output_shape is not None for r in rows)
    assert sum(r.params for r in rows) == net.param_count() > 0
    convs = [r for r in rows if r.kind == "conv"]
    assert convs and all(r.macs > 0 and r.rf is not None and r.rf >= 1 for r in convs), \
        [r.name for r in convs if r.rf is None]
    assert rows[-1].rf is None or rows[-1].rf > convs[0].rf          # fields grow with depth
    x = np.random.default_rng(0).random((1, 3, 224, 224), dtype=np.float32)
    out = net.forward(x)
    model = onnx.load(path)
    assert all(np.isfinite(np.asarray(out[o.name])).all() for o in model.graph.output)
    randomised = with_random_weights(model)
    folder = tmp_path / filename
    folder.mkdir()
    onnx.save(randomised, str(folder / "model.onnx"))
    random_net = load_onnx(folder / "model.onnx")
    compared = assert_matches_reference(random_net, randomised, x)
    assert compared == len(rows)


def with_random_weights(model):
    """The model with every ConstantOfShape node replaced by a seeded random initializer."""
    from onnx import numpy_helper

    model = copy.deepcopy(model)
    shapes = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    rng = np.random.default_rng(0)
    keep = []
    for node in model.graph.node:
        if node.op_type != "ConstantOfShape":
            keep.append(node)
            continue
        shape = [int(v) for v in shapes[node.input[0]]]
        if len(shape) == 1:
            values = rng.uniform(0.5, 1.5, shape)
        else:
            values = rng.standard_normal(shape) * np.sqrt(1.0 / np.prod(shape[1:]))
        model.graph.initializer.append(
            numpy_helper.from_array(values.astype(np.float32), node.output[0]))
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return model


def test_resnet50_summary_and_receptive_field_through_the_residual_graph():
    net = load_onnx(os.path.join(LIGHT, "light_resnet50.onnx"))
    rows = {r.name: r for r in net.summary()}
    assert net.param_count() == 25_557_032                           # ResNet-50's count
    adds = [r for r in rows.values() if r.kind == "add"]
    assert len(adds) == 16 and all(r.rf is not None for r in adds)
    last_add = adds[-1]
    assert last_add.output_shape == (2048, 7, 7) and last_add.rf > 400
    field = net.receptive_field(last_add.name, 3, 3, net.input_shape)
    assert field.bottom - field.top == field.right - field.left > 224
