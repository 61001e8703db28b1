"""onnx.reference.ReferenceEvaluator, with three operators made to follow the ONNX spec.

onnx 1.23's reference evaluator departs from the operator spec in three places that the light
models (opset 9) reach; each override below does what the spec says and nothing else:

- LRN: its loop runs over ``x.shape[0]`` (the batch) instead of the channels, so every channel
  but the first gets a zero square sum (spec: sum over ``[c - floor((size-1)/2),
  c + ceil((size-1)/2)]``).
- BatchNormalization (opset 7-13): the reference fills in ``momentum=0.9`` and then mixes the
  batch's statistics into the running ones; the spec computes Y in test mode when only Y is
  asked for (the inference form, as opset 14+ with ``training_mode=0``).
- Softmax before opset 13: the reference uses opset 13's default axis -1 and a single axis; the
  spec's default is 1 and the input is coerced to 2-D there (one distribution over all axes
  from ``axis`` on).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx.reference import ReferenceEvaluator  # noqa: E402
from onnx.reference.op_run import OpRun  # noqa: E402


class LRN(OpRun):
    op_domain = ""

    def _run(self, x, alpha=None, beta=None, bias=None, size=None):
        low, high = math.floor((size - 1) / 2), math.ceil((size - 1) / 2)
        square = x.astype(np.float64) ** 2
        total = np.zeros_like(square)
        for c in range(x.shape[1]):
            total[:, c] = square[:, max(0, c - low):c + high + 1].sum(axis=1)
        return ((x / (bias + alpha / size * total) ** beta).astype(x.dtype),)


class BatchNormalization(OpRun):
    op_domain = ""

    def _run(self, x, scale, bias, mean, var, epsilon=None, momentum=None, spatial=None,
             is_test=None, training_mode=None):
        shape = (-1,) + (1,) * (x.ndim - 2)
        y = (scale.reshape(shape) * (x - mean.reshape(shape))
             / np.sqrt(var.reshape(shape) + epsilon) + bias.reshape(shape))
        return (y.astype(x.dtype),)


def _legacy_softmax(opset: int):
    class Softmax(OpRun):
        op_domain = ""

        def _run(self, x, axis=None):
            given = {a.name: a.i for a in self.onnx_node.attribute}
            axis = given.get("axis")                     # the schema's filled-in default is 13's
            if opset >= 13:
                axis = -1 if axis is None else axis
                e = np.exp(x - x.max(axis=axis, keepdims=True))
                return ((e / e.sum(axis=axis, keepdims=True)).astype(x.dtype),)
            axis = 1 if axis is None else axis
            flat = x.reshape(int(np.prod(x.shape[:axis])), -1)             # (outer, inner)
            e = np.exp(flat - flat.max(axis=1, keepdims=True))
            return ((e / e.sum(axis=1, keepdims=True)).reshape(x.shape).astype(x.dtype),)
    return Softmax


def opset_of(model) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)


def evaluator(model) -> ReferenceEvaluator:
    fixes = [LRN, BatchNormalization, _legacy_softmax(opset_of(model))]
    return ReferenceEvaluator(model, new_ops=fixes)


def image_input_name(model) -> str:
    inits = {t.name for t in model.graph.initializer}
    return next(v.name for v in model.graph.input if v.name not in inits)


def assert_matches_reference(net, model, x, *, rtol=1e-4) -> int:
    """Every layer of ``net`` (an imported ``model``) against the reference on ``x``: within
    ``rtol`` of the reference tensor's largest magnitude. Returns the number compared."""
    out = net.forward(x)
    pairs = [(layer, tensor) for layer, tensor in net.onnx_tensors.items()]
    expected = evaluator(model).run([t for _, t in pairs], {image_input_name(model): x})
    for (layer, tensor), want in zip(pairs, expected):
        got = np.asarray(out[layer])
        assert got.shape == want.shape, (layer, got.shape, want.shape)
        scale = max(float(np.max(np.abs(want))), 1e-30)
        error = float(np.max(np.abs(got - want))) / scale
        assert error <= rtol, f"{layer} ({tensor}): relative error {error:.2e}"
    for graph_output in model.graph.output:
        assert graph_output.name in out
    return len(pairs)
