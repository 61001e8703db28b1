"""Gradient views without PyTorch: saliency by finite differences, the deconvnet's and guided
backpropagation's ReLU rules by a hand-built case, Grad-CAM by its formula from backprop's own
outputs, the hook in ``run_backward`` (``wanted``, ``rules``), and one sentence for each bad
target."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine import attribution as A
from convlab.engine.backend import freeze
from convlab.engine.grad import backprop
from convlab.engine.grad.backprop import run_forward
from convlab.engine.nets import Network

from .gradcheck import make_net

TINY = [
    {"name": "c1", "kind": "conv", "out_channels": 3, "ksize": 3, "pad": 1},
    {"name": "bn1", "kind": "bn"},
    {"name": "r1", "kind": "relu"},
    {"name": "c2", "kind": "conv", "out_channels": 3, "ksize": 3, "pad": 1},
    {"name": "sum", "kind": "add", "inputs": ["c2", "c1"]},           # a residual add
    {"name": "r2", "kind": "relu"},
    {"name": "pool", "kind": "pool", "ksize": 2},
    {"name": "fc", "kind": "fc", "out_size": 4},
]


def tiny(seed=0):
    return make_net(TINY, (2, 6, 6), seed=seed)


def numeric_gradient(net, x, target, eps=1e-6):
    """Central differences of the target's value (a channel summed, or one value)."""
    layer, channel, *where = target

    def value(v):
        out = run_forward(net, v[None])[0][layer][0, channel]
        return float(out[tuple(where)] if where else out.sum())

    g = np.zeros_like(x)
    for pos in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[pos] += eps
        down[pos] -= eps
        g[pos] = (value(up) - value(down)) / (2 * eps)
    return g


@pytest.mark.parametrize("target", [("fc", 2), ("r2", 1), ("c2", 0, 3, 4), ("pool", 2, 1, 0)])
def test_saliency_equals_finite_differences(target):
    net = tiny()
    x = np.random.default_rng(1).standard_normal((2, 6, 6))
    got = A.saliency(net, x, target)
    want = numeric_gradient(net, x, target)
    assert got.shape == x.shape
    assert np.abs(want).max() > 1e-3                         # not trivially zero
    np.testing.assert_allclose(got, want, atol=1e-6 * max(1.0, np.abs(want).max()))


def hand_net():
    """x (1, 2, 2) -> c1: 1x1, channel 0 = x, channel 1 = -x -> ReLU -> c2: 0.5 a - 3 b."""
    spec = {"name": "hand", "input_shape": [1, 2, 2], "layers": [
        {"name": "c1", "kind": "conv", "out_channels": 2, "ksize": 1, "nobias": True},
        {"name": "r1", "kind": "relu"},
        {"name": "c2", "kind": "conv", "out_channels": 1, "ksize": 1, "nobias": True}]}
    net = Network.from_spec(spec, xp=np)
    net["c1"].params["W"] = freeze(np.array([1.0, -1.0]).reshape(2, 1, 1, 1))
    net["c2"].params["W"] = freeze(np.array([0.5, -3.0]).reshape(1, 2, 1, 1))
    return net


X_HAND = np.array([[[-1.0, 2.0], [3.0, -4.0]]])


def test_relu_rules_by_a_hand_built_case():
    """At r1 the gradient is 0.5 (channel 0, where x > 0 passes) and -3 (channel 1, where
    x < 0 passes). Saliency masks by the forward's sign; guided backprop also drops the
    negative gradient; the deconvnet drops the negative gradient and ignores the forward's
    sign, so 0.5 comes through at x = -1 and x = -4 too (Zeiler & Fergus's rule)."""
    net, target = hand_net(), ("c2", 0)
    np.testing.assert_array_equal(A.saliency(net, X_HAND, target), [[[3.0, 0.5], [0.5, 3.0]]])
    np.testing.assert_array_equal(A.guided_backprop(net, X_HAND, target),
                                  [[[0.0, 0.5], [0.5, 0.0]]])
    np.testing.assert_array_equal(A.deconvnet(net, X_HAND, target), [[[0.5, 0.5], [0.5, 0.5]]])


def test_relu_rule_functions():
    y = np.array([0.0, 2.0, 0.0, 5.0])
    gy = np.array([1.0, -1.0, -2.0, 3.0])
    assert A.guided_relu(None, [None], y, gy, None)[0][0].tolist() == [0.0, -0.0, -0.0, 3.0]
    assert A.deconvnet_relu(None, [None], y, gy, None)[0][0].tolist() == [1.0, -0.0, -0.0, 3.0]


def test_rules_and_wanted_leave_the_plain_backward_alone():
    """``rules`` changes only its kind, ``wanted`` only adds outputs: with neither, backprop is
    what it was; the weights are never written and the network stays unfrozen."""
    net = tiny(2)
    x = np.random.default_rng(3).standard_normal((1, 2, 6, 6))
    seeds = {"fc": np.ones((1, 4))}
    plain = backprop(net, x, seeds)
    ruled = backprop(net, x, seeds, rules={}, wanted=("c2",))
    np.testing.assert_array_equal(plain.input, ruled.input)
    guided = backprop(net, x, seeds, rules=A.gradients.GUIDED)
    assert not np.array_equal(plain.input, guided.input)
    assert set(guided.params) == set(plain.params)          # parameters still get gradients
    A.saliency(net, x[0], ("fc", 1))
    assert all(layer.update_enabled for layer in net.layers)


def cam_by_formula(net, x, layer, cls):
    grads = backprop(net, x[None], {net.layers[-1].name: np.eye(4)[cls][None]})
    maps, g = grads.forward[layer][0], grads.outputs[layer][0]
    alpha = g.mean(axis=(1, 2))
    return np.maximum((alpha[:, None, None] * maps).sum(axis=0), 0)


@pytest.mark.parametrize("layer", ["c1", "r1", "sum", "r2"])
def test_grad_cam_is_its_formula_on_backprops_outputs(layer):
    net = tiny(4)
    x = np.random.default_rng(5).standard_normal((2, 6, 6))
    for cls in range(4):
        got = A.grad_cam(net, x, layer, cls)
        want = cam_by_formula(net, x, layer, cls)
        assert got.shape == (6, 6)
        np.testing.assert_allclose(got, want, atol=1e-6 * max(1.0, np.abs(want).max()))
    assert A.default_cam_layer(net) == "c2"                 # c2 is read by the add, not a ReLU


def test_default_cam_layer_takes_the_rectified_maps():
    """conv -> bn -> relu: the ReLU (after a batch-statistics BN the alphas would all be 0);
    conv -> relu: the ReLU; AlexBN: relu5."""
    net = tiny()
    assert A.default_cam_layer(make_net(TINY[:3] + TINY[-2:], (2, 6, 6))) == "r1"
    without_bn = [layer for layer in TINY[:3] if layer["kind"] != "bn"] + TINY[-2:]
    assert A.default_cam_layer(make_net(without_bn, (2, 6, 6))) == "r1"
    x = np.random.default_rng(2).standard_normal((2, 6, 6))
    zero = A.grad_cam(make_net(TINY[:3] + TINY[-2:], (2, 6, 6)), x, "c1", 1, mode="batch")
    assert np.abs(zero).max() < 1e-9 * max(1.0, np.abs(net["c1"].params["W"]).max())


def test_guided_grad_cam_is_guided_backprop_times_upsampled_cam():
    net = tiny(6)
    x = np.random.default_rng(7).standard_normal((2, 6, 6))
    cam = A.grad_cam(net, x, "pool", 1)                        # 3 x 3
    want = A.guided_backprop(net, x, ("fc", 1)) * A.upsample(cam, 6, 6)[None]
    np.testing.assert_allclose(A.guided_grad_cam(net, x, "pool", 1), want, rtol=1e-6)


def test_upsample_is_pytorch_bilinear_half_pixel():
    cam = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
    up = A.upsample(cam, 4, 4)
    # F.interpolate(align_corners=False): source (i + 0.5) / 2 - 0.5, clamped at the edges
    np.testing.assert_allclose(up[0], [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(up[:, 0], [0.0, 0.5, 1.5, 2.0])


def test_smoothgrad_is_seeded_mean_of_noisy_saliencies():
    net = tiny(8)
    x = np.random.default_rng(9).standard_normal((2, 6, 6))
    a = A.smoothgrad(net, x, ("fc", 0), n=3, sigma=0.2, seed=4)
    np.testing.assert_array_equal(a, A.smoothgrad(net, x, ("fc", 0), n=3, sigma=0.2, seed=4))
    rng = np.random.default_rng(4)
    spread = 0.2 * (x.max() - x.min())
    want = np.mean([A.saliency(net, x + rng.normal(0, spread, (1, 2, 6, 6))[0], ("fc", 0))
                    for _ in range(3)], axis=0)
    np.testing.assert_allclose(a, want, rtol=1e-12)
    np.testing.assert_array_equal(A.smoothgrad(net, x, ("fc", 0), n=1, sigma=0.0),
                                  A.saliency(net, x, ("fc", 0)))


@pytest.mark.parametrize("call, words", [
    (lambda n, x: A.saliency(n, x, ("nope", 0)), "'nope' is not a layer"),
    (lambda n, x: A.saliency(n, x, ("fc", 4)), "channels 0 to 3"),
    (lambda n, x: A.saliency(n, x, ("fc", 1, 0, 0)), "is a vector"),
    (lambda n, x: A.saliency(n, x, ("c1", 0, 6, 0)), "outside them"),
    (lambda n, x: A.saliency(n, x, "fc"), "a target is"),
    (lambda n, x: A.saliency(n, x[:, :3], ("fc", 0)), "cannot pass"),
    (lambda n, x: A.grad_cam(n, x, "fc", 0), "no maps"),
    (lambda n, x: A.grad_cam(n, x, "c1", 9), "classes 0 to 3"),
    (lambda n, x: A.grad_cam(n, np.stack([x, x]), "c1", 0), "one image"),
    (lambda n, x: A.smoothgrad(n, x, ("fc", 0), n=0), "n >= 1"),
    (lambda n, x: A.top_patches(n, ("c1", 0), [x], k=0), "k must be"),
    (lambda n, x: A.feature_visualization(n, ("c1", 0), size=4, steps=1), "8 to 1024"),
])
def test_bad_arguments_are_one_sentence(call, words):
    with pytest.raises(A.AttributionError, match=words) as info:
        call(tiny(), np.zeros((2, 6, 6)))
    assert "\n" not in str(info.value) and str(info.value).endswith(".")


def test_views_through_the_cupy_double_equal_numpy():
    """A network on the (strict) CuPy double: the views keep its arrays on the device and bring
    back only their answers; each equals the NumPy network's."""
    from . import fakecupy

    x = np.random.default_rng(21).standard_normal((2, 6, 6)).astype(np.float32)
    host = Network.from_spec({"name": "t", "input_shape": [2, 6, 6], "layers": TINY}, seed=5)
    want = [A.saliency(host, x, ("fc", 1)), A.guided_backprop(host, x, ("r2", 0, 2, 2)),
            A.deconvnet(host, x, ("fc", 2)), A.grad_cam(host, x, "r2", 3)]
    with fakecupy.installed() as cp:
        dev = Network.from_spec({"name": "t", "input_shape": [2, 6, 6], "layers": TINY}, seed=5,
                                xp=cp)
        got = [A.saliency(dev, x, ("fc", 1)), A.guided_backprop(dev, x, ("r2", 0, 2, 2)),
               A.deconvnet(dev, x, ("fc", 2)), A.grad_cam(dev, x, "r2", 3)]
        patches = A.top_patches(dev, ("r2", 1), np.stack([x, -x]), k=2)
    for g, w in zip(got, want):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6 * max(1.0, np.abs(w).max()))
    on_host = A.top_patches(host, ("r2", 1), np.stack([x, -x]), k=2)
    assert [p[:2] for p in patches] == [p[:2] for p in on_host]
    assert [p[2] for p in patches] == pytest.approx([p[2] for p in on_host], rel=1e-5)
