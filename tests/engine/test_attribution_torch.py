"""Saliency, guided backpropagation and Grad-CAM against PyTorch autograd with the same weights
(skipped where torch is not installed): AlexBN at 227 (batch 1, float32) and an imported ONNX
graph with residual adds. Each must agree within 1e-4 of the reference's largest value.

The references run the network again with ``torch.nn.functional`` (``tests/engine/torch_ref``);
guided backpropagation swaps ReLU for a ``torch.autograd.Function`` whose backward is
``grad * (y > 0) * (grad > 0)``; Grad-CAM is Selvaraju et al.'s formula on autograd's gradient
of the layer's output (``retain_grad``).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from convlab.engine import attribution as A  # noqa: E402
from convlab.engine.nets import build_network  # noqa: E402
from convlab.models import load_onnx  # noqa: E402

from .torch_ref import TorchRun  # noqa: E402

REL = 1e-4


class _GuidedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.clamp(min=0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y > 0) * (grad > 0)


class GuidedRun(TorchRun):
    def _layer(self, layer, xs, p):
        if layer.kind == "relu":
            return _GuidedReLU.apply(xs[0])
        return super()._layer(layer, xs, p)


def close(what, got, want):
    want = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    scale = float(np.abs(want).max())
    assert scale > 0, f"{what}: the reference is all zeros"
    err = float(np.abs(np.asarray(got, dtype=np.float64) - want).max())
    assert err <= REL * scale, f"{what}: off by {err:.3g} (largest value {scale:.3g})"


def reference_input_grad(run_cls, net, x, target):
    layer, channel, *where = target
    ref = run_cls(net, x[None])
    out = ref.outputs[layer][0, channel]
    (out[tuple(where)] if where else out.sum()).backward()
    return ref.input.grad[0]


def reference_cam(net, x, layer, score, cls):
    ref = TorchRun(net, x[None])
    ref.outputs[score][0, cls].backward()
    maps, grad = ref.outputs[layer][0], ref.outputs[layer].grad[0]
    alpha = grad.mean(dim=(1, 2))
    return torch.relu((alpha[:, None, None] * maps).sum(dim=0))


def check_network(net, x, targets, cams, score):
    for target in targets:
        close(f"saliency {target}", A.saliency(net, x, target),
              reference_input_grad(TorchRun, net, x, target))
        close(f"guided backprop {target}", A.guided_backprop(net, x, target),
              reference_input_grad(GuidedRun, net, x, target))
    for layer, cls in cams:
        close(f"Grad-CAM {layer} class {cls}", A.grad_cam(net, x, layer, cls),
              reference_cam(net, x, layer, score, cls))


@pytest.fixture(scope="module")
def alexbn():
    return build_network("alexbn", seed=3)


def photo_like(shape, seed):
    """A smooth, photo-like input (random weights give every class some gradient)."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(-0.5, 0.5, (shape[0], 8, 8))
    return np.kron(small, np.ones((1, shape[1] // 8 + 1, shape[2] // 8 + 1)))[
        :, :shape[1], :shape[2]].astype(np.float32)


@pytest.mark.slow
def test_alexbn_at_227_equals_pytorch(alexbn):
    x = photo_like((3, 227, 227), 0)
    check_network(alexbn, x, [("fc8", 7), ("conv5", 11), ("relu3", 4, 6, 9)],
                  [("relu5", 7), ("conv5", 7), ("pool2", 12)], "fc8")


def residual_onnx(tmp_path):
    """x (1, 3, 20, 20) -> conv/relu -> two residual blocks (conv, add, relu) -> maxpool ->
    Gemm (5 classes). Weights seeded; the ONNX file imported by ConvLab's importer."""
    from tests.models.tiny import model, node

    rng = np.random.default_rng(11)

    def w(*shape):
        return (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32)

    nodes = [node("Conv", ["x", "W1", "B1"], ["a1"], name="c1", pads=[1, 1, 1, 1]),
             node("Relu", ["a1"], ["r1"], name="r1"),
             node("Conv", ["r1", "W2", "B2"], ["a2"], name="c2", pads=[1, 1, 1, 1]),
             node("Add", ["a2", "r1"], ["s2"], name="add2"),
             node("Relu", ["s2"], ["r2"], name="r2"),
             node("Conv", ["r2", "W3", "B3"], ["a3"], name="c3", pads=[1, 1, 1, 1]),
             node("Add", ["a3", "r2"], ["s3"], name="add3"),
             node("Relu", ["s3"], ["r3"], name="r3"),
             node("MaxPool", ["r3"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
             node("Flatten", ["p"], ["f"], name="flat"),
             node("Gemm", ["f", "Wf", "Bf"], ["y"], name="fc", transB=1)]
    inits = {"W1": w(8, 3, 3, 3), "B1": w(8, 1)[:, 0], "W2": w(8, 8, 3, 3), "B2": w(8, 1)[:, 0],
             "W3": w(8, 8, 3, 3), "B3": w(8, 1)[:, 0], "Wf": w(5, 8 * 10 * 10),
             "Bf": w(5, 1)[:, 0]}
    path = tmp_path / "residual.onnx"
    onnx.save(model(nodes, inits, shape=(1, 3, 20, 20)), str(path))
    return load_onnx(path)


def test_onnx_residual_graph_equals_pytorch(tmp_path):
    net = residual_onnx(tmp_path)
    assert sum(layer.kind == "add" for layer in net.layers) == 2
    x = np.random.default_rng(4).standard_normal((3, 20, 20)).astype(np.float32)
    score = A.score_layer(net)
    check_network(net, x, [(score, 2), ("r2", 3), ("r3", 1, 4, 7)],
                  [("r3", 0), ("add2", 4), ("r1", 2)], score)
