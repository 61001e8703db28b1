"""``convlab.engine.grad`` on whole networks: gradients summed over paths (residual add, concat),
several seeds, the three modes (BN's running averages, dropout's masks), frozen layers, weights
never written, and one sentence for every bad argument."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.grad import backprop, loss_and_grads
from convlab.engine.grad.backprop import run_forward
from convlab.engine.layers import Layer
from convlab.engine.nets import Network, build_network
from convlab.engine.ops import softmax_cross_entropy

from .gradcheck import check, make_net

RESIDUAL = [
    {"name": "c1", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": 1},
    {"name": "bn1", "kind": "bn"},
    {"name": "r1", "kind": "relu"},
    {"name": "c2", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": [[1, 1], [0, 2]]},
    {"name": "sum", "kind": "add", "inputs": ["c2", "c1"]},                    # c1 read twice
    {"name": "side", "kind": "conv", "out_channels": 2, "ksize": 1, "inputs": ["r1"]},
    {"name": "cat", "kind": "concat", "inputs": ["sum", "side", "r1"]},       # r1 read thrice
    {"name": "pool", "kind": "pool", "mode": "avg", "ksize": 2},   # max would tie on ReLU's 0s
    {"name": "drop", "kind": "dropout", "ratio": 0.25},
    {"name": "fc", "kind": "fc", "out_size": 3},
]


def residual_net(seed=0):
    return make_net(RESIDUAL, (3, 5, 5), seed=seed)


@pytest.mark.parametrize("mode", ["test", "batch", "train"])
def test_residual_and_concat_sum_gradients_over_paths(mode):
    net = residual_net()
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 5))
    grads = check(net, x, mode=mode, seed=2)
    assert set(grads.outputs) == set(net.layer_names)
    assert set(grads.params) == {f"{n}/{p}" for n in ("c1", "c2", "side", "fc") for p in "Wb"} | {
        "bn1/gamma", "bn1/beta"}


def test_several_seeds_add_up():
    net = residual_net(3)
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 5))
    out, _, _ = run_forward(net, x)
    rng = np.random.default_rng(4)
    s1, s2 = rng.standard_normal(out["r1"].shape), rng.standard_normal(out["cat"].shape)
    both = backprop(net, x, {"r1": s1, "cat": s2})
    one, two = backprop(net, x, {"r1": s1}), backprop(net, x, {"cat": s2})
    np.testing.assert_allclose(both.input, one.input + two.input, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(both.params["c1/W"], one.params["c1/W"] + two.params["c1/W"],
                               rtol=1e-12, atol=1e-12)
    assert "fc" not in both.forward and list(both.forward)[-1] == "cat"  # run up to the last seed
    np.testing.assert_array_equal(one.params["side/W"], 0)              # not upstream of r1


def test_alexbn_float32_same_forward_and_weights_untouched():
    """The mode-aware forward gives Network.forward's bits ("test": stored averages, "batch":
    batch statistics); the gradients are float32 even for a float64 image; the weights (frozen,
    Winograd's cache keyed on them) are neither written nor unfrozen."""
    net = build_network("alexbn", seed=1)
    x = np.random.default_rng(1).standard_normal((1, 3, 227, 227))     # float64: cast to float32
    w = {(layer.name, k): (layer.params[k], layer.params[k].copy()) for layer in net.layers
         if layer.kind == "conv" for k in ("W",)}
    mine, ref = run_forward(net, x, mode="test")[0], net.forward(x)
    for name in ("conv1", "bn1", "pool2", "conv4", "fc8"):
        np.testing.assert_array_equal(mine[name], ref[name])
    ref = net.forward(x, use_batch_stats=True)
    loss, grads = loss_and_grads(net, x, np.array([999]), mode="batch")
    for name in ("conv1", "bn1", "pool2", "conv4", "fc8"):
        np.testing.assert_array_equal(grads.forward[name], ref[name])
    assert np.isfinite(loss) and loss > 0 and len(grads.params) == 2 * 8 + 4
    for layer in net.layers:
        for key in layer.learned:
            g = grads.params[f"{layer.name}/{key}"]
            assert g.shape == layer.params[key].shape and g.dtype == np.float32
            assert np.isfinite(g).all()
    for arr, copy in w.values():
        assert not arr.flags.writeable
        np.testing.assert_array_equal(arr, copy)


def test_loss_and_grads_is_softmax_cross_entropy_of_the_last_layer():
    net = residual_net(9)
    x = np.random.default_rng(9).standard_normal((3, 3, 5, 5))
    labels = np.array([2, -1, 0])
    loss, grads = loss_and_grads(net, x, labels, mode="batch")
    want, dlogits = softmax_cross_entropy(grads.forward["fc"], labels)
    assert loss == pytest.approx(float(want)) and grads.loss == loss
    ref = backprop(net, x, {"fc": dlogits}, mode="batch")
    np.testing.assert_allclose(grads.params["c1/W"], ref.params["c1/W"], rtol=1e-12)
    np.testing.assert_array_equal(grads.outputs["fc"][1], 0)             # ignored sample


def test_bad_arguments_get_one_sentence():
    net = residual_net()
    x = np.zeros((1, 3, 5, 5))
    cases = [
        (dict(seeds={"fc": np.ones((1, 3))}, mode="eval"), "mode must be one of"),
        (dict(seeds={"nope": np.ones((1, 3))}), "not a layer of"),
        (dict(seeds={}), "non-empty"),
        (dict(seeds={"fc": np.ones((2, 3))}), "seed for fc has shape"),
        (dict(seeds={"fc": np.ones((1, 3))}, mode="train", rng="x"), "rng must be"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            backprop(net, x, **kwargs)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        backprop(net, np.zeros((3, 5)), {"fc": np.ones((1, 3))})
    averages = dict(net["bn1"].params)
    with pytest.raises(ValueError, match="seed for fc has shape"):
        backprop(net, x, {"fc": np.ones((1, 4))}, mode="train")
    for labels, message in (([5], "every label must be in 0..2"), ([0, 1], "do not match"),
                            ([0.5], "integers")):
        with pytest.raises(ValueError, match=message):
            loss_and_grads(net, x, np.array(labels))
    with pytest.raises(ValueError, match="mode must be one of"):
        loss_and_grads(net, x, np.array([0]), mode="training")
    assert all(net["bn1"].params[k] is v for k, v in averages.items())   # refused before moving


def test_a_kind_without_backward_says_so():
    class Square(Layer):
        kind = "square"

        def __call__(self, x, *, use_batch_stats=False):
            return x * x

    net = Network("sq", [Square("sq")], input_shape=(1, 2, 2))
    with pytest.raises(ValueError, match="kind 'square' has no backward"):
        backprop(net, np.ones((1, 1, 2, 2)), {"sq": np.ones((1, 1, 2, 2))})
