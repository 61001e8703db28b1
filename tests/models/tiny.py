"""Building tiny ONNX models with onnx.helper for the operator tests."""

from __future__ import annotations

import numpy as np

from tests.models.reference import assert_matches_reference, onnx

from convlab.models import load_onnx

helper, numpy_helper, TensorProto = onnx.helper, onnx.numpy_helper, onnx.TensorProto


def node(op, inputs, outputs, name=None, **attrs):
    return helper.make_node(op, inputs, outputs, name=name, **attrs)


def model(nodes, inits=None, *, shape=(1, 3, 8, 8), outputs=("y",), opset=17):
    """A one-input model: input ``x`` of ``shape``, float initializers from ``inits``."""
    tensors = []
    for key, value in (inits or {}).items():
        value = np.asarray(value)
        value = value.astype(np.float32) if value.dtype.kind == "f" else value
        tensors.append(numpy_helper.from_array(value, key))
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        initializer=tensors)
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    made.ir_version = min(made.ir_version, 10)
    return made


def check(made, tmp_path, *, seed=0):
    """Save, import, run and compare every layer with the reference; return the network."""
    path = tmp_path / "tiny.onnx"
    onnx.save(made, str(path))
    net = load_onnx(path)
    dims = [d.dim_value for d in made.graph.input[0].type.tensor_type.shape.dim]
    x = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
    assert assert_matches_reference(net, made, x) >= 1
    return net


def rand(*shape, seed=1, low=None):
    rng = np.random.default_rng(seed + sum(shape))
    if low is not None:
        return rng.uniform(low, low + 1.0, shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)
