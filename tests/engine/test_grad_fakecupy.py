"""Backpropagation through the strict CuPy double: every kind's backward stays on the device
(no NumPy call on device data, no host array mixed in) and pulls only the loss and the label
check to the host; the gradients equal NumPy's."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.backend import array_module, to_numpy
from convlab.engine.grad import backprop, loss_and_grads
from convlab.engine.nets import Network

from . import fakecupy

LAYERS = [
    {"name": "c1", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": [[1, 0], [0, 1]],
     "stride": [1, 2], "dilation": [2, 1]},
    {"name": "bn1", "kind": "bn"},
    {"name": "r1", "kind": "relu"},
    {"name": "n1", "kind": "lrn"},
    {"name": "c2", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": 1, "groups": 2},
    {"name": "d1", "kind": "deconv", "out_channels": 4, "ksize": 2, "stride": 1, "inputs": ["n1"]},
    {"name": "p0", "kind": "pool", "ksize": 2, "stride": 1, "inputs": ["d1"]},
    {"name": "sum", "kind": "add", "inputs": ["c2", "n1", "p0"]},
    {"name": "lk", "kind": "leaky_relu", "alpha": 0.1},
    {"name": "cl", "kind": "clip", "min": -1.0, "max": 1.0},
    {"name": "sg", "kind": "sigmoid", "inputs": ["sum"]},
    {"name": "mul", "kind": "mul", "shape": [4, 1, 1], "inputs": ["cl", "sg"]},
    {"name": "ac", "kind": "add_const", "shape": [4, 1, 1]},
    {"name": "sh", "kind": "channel_shuffle", "groups": 2},
    {"name": "cat", "kind": "concat", "inputs": ["sh", "r1"]},
    {"name": "p1", "kind": "pool", "ksize": 3, "stride": 2},
    {"name": "p2", "kind": "pool", "mode": "avg", "ksize": 2, "stride": 1, "pad": [[0, 1], [1, 0]],
     "count_include_pad": False},
    {"name": "tr", "kind": "transpose", "perm": [0, 1, 3, 2]},
    {"name": "mm", "kind": "matmul", "inputs": ["p2", "tr"]},
    {"name": "sm", "kind": "softmax", "axis": 3},
    {"name": "rs", "kind": "reshape", "shape": [8, 2, 2]},
    {"name": "id", "kind": "identity"},
    {"name": "fl", "kind": "flatten"},
    {"name": "fc1", "kind": "fc", "out_size": 6},
    {"name": "dr", "kind": "dropout", "ratio": 0.5},
    {"name": "fc2", "kind": "fc", "out_size": 3},
]


def _net(xp):
    net = Network.from_spec({"name": "t", "input_shape": [3, 7, 9], "layers": LAYERS}, seed=3, xp=xp)
    rng = np.random.default_rng(4)
    for layer in net.layers:
        for key in ("value", "beta", "avg_mean"):
            if key in layer.params:
                layer.params[key] = xp.asarray(rng.standard_normal(layer.params[key].shape)
                                               .astype(np.float32))
    return net


@pytest.mark.parametrize("mode", ["test", "batch", "train"])
def test_backprop_through_the_cupy_double(mode):
    x = np.random.default_rng(5).standard_normal((2, 3, 7, 9)).astype(np.float32)
    labels = np.array([2, 0])
    host_net = _net(np)
    host_loss, host = loss_and_grads(host_net, x, labels, mode=mode, rng=11)
    with fakecupy.installed() as cp:
        dev_net = _net(cp)
        fakecupy.reset_pulls()
        loss, dev = loss_and_grads(dev_net, cp.asarray(x), labels, mode=mode, rng=11)
        assert fakecupy.pulls <= 2                        # the label check and float(loss)
        assert loss == pytest.approx(host_loss, rel=1e-5)
        assert set(dev.params) == set(host.params)
        for key, g in dev.params.items():
            assert array_module(g) is cp, f"{key} left the device"
            scale = float(np.abs(host.params[key]).max()) or 1.0
            np.testing.assert_allclose(to_numpy(g), host.params[key], rtol=1e-4,
                                       atol=1e-5 * scale, err_msg=key)
        np.testing.assert_allclose(to_numpy(dev.input), host.input, rtol=1e-4,
                                   atol=1e-5 * float(np.abs(host.input).max()))
        for key in ("avg_mean", "avg_var"):
            np.testing.assert_allclose(to_numpy(dev_net["bn1"].params[key]),
                                       host_net["bn1"].params[key], rtol=1e-5)
        seeds = {"sum": cp.asarray(np.ones((2, 4, 4, 4), np.float32))}
        fakecupy.reset_pulls()
        g = backprop(dev_net, cp.asarray(x), seeds, mode=mode, rng=1)
        assert fakecupy.pulls == 0 and array_module(g.input) is cp
