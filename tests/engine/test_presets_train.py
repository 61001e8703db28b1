"""The presets that train (LeNet for 28x28 grey, the small CIFAR net for 32x32 colour): their
shapes and parameter counts, a last layer sized to a dataset's classes, and their generated
PyTorch module giving ConvLab's output (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.nets import Network, build_network
from convlab.engine.nets import presets as specs

from .test_netcode import _random_bn_stats, _run_generated


def test_lenet_is_caffes_mnist_lenet():
    rows = {r.name: r for r in build_network("lenet", init=False).summary()}
    assert rows["conv1"].output_shape == (20, 24, 24) and rows["pool2"].output_shape == (50, 4, 4)
    assert rows["fc4"].output_shape == (10,)
    assert sum(r.params for r in rows.values()) == 431_080
    assert specs.input_size("lenet") == 28 and specs.input_size("alexbn") == 227


def test_cifar_small_halves_32_three_times():
    rows = {r.name: r for r in build_network("cifar-small", init=False).summary()}
    assert [rows[f"pool{i}"].output_shape for i in (1, 2, 3)] == [(32, 16, 16), (64, 8, 8),
                                                                  (128, 4, 4)]
    assert sum(r.params for r in rows.values()) == 114_186


def test_with_classes_resizes_only_the_last_layer():
    spec = specs.with_classes(specs.preset("lenet"), 8)
    assert spec["layers"][-1]["out_size"] == 8 and specs.preset("lenet")["layers"][-1]["out_size"] == 10
    assert spec["layers"][:-1] == specs.preset("lenet")["layers"][:-1]
    with pytest.raises(ValueError, match="not a fully connected layer"):
        specs.with_classes({"layers": [{"name": "relu1", "kind": "relu"}]}, 8)


@pytest.mark.parametrize("name", ["lenet", "cifar-small"])
def test_the_generated_pytorch_module_equals_convlab(name):
    rng = np.random.default_rng(0)
    net = build_network(name, seed=2)
    _random_bn_stats(net, rng)
    x = rng.standard_normal((2, *net.input_shape)).astype(np.float32)
    want = np.asarray(net.forward(x)["fc4"])
    got = _run_generated(net, x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    assert isinstance(Network.from_spec(net.to_spec(), init=False), Network)
