"""Shared by the optimizer tests: a small network with every kind of learned parameter, and
seeded gradients that depend on the weights (so that each step sees what the last one did)."""

from __future__ import annotations

import numpy as np

from convlab.engine.nets import Network

SPEC = {"name": "optim-test", "input_shape": [3, 8, 8], "layers": [
    {"name": "conv1", "kind": "conv", "in_channels": 3, "out_channels": 4, "ksize": 3, "pad": 1},
    {"name": "bn1", "kind": "bn", "size": 4},
    {"name": "relu1", "kind": "relu"},
    {"name": "fc2", "kind": "fc", "in_size": 256, "out_size": 5},
]}


def small_net(seed: int = 0) -> Network:
    net = Network.from_spec(SPEC, seed=seed, xp=np)
    for layer in net.layers:           # non-zero biases and betas, so weight decay sees them
        for key in ("b", "beta"):
            if key in layer.params:
                rng = np.random.default_rng([seed, len(layer.name)])
                layer.params[key] = (rng.standard_normal(layer.params[key].shape) * 0.1
                                     ).astype(np.float32)
    return net


def fake_grads(net: Network, step: int) -> dict[str, np.ndarray]:
    """``0.5 * W + noise``: a gradient of a quadratic bowl plus seeded noise, float32, at least
    1e-3 in size (where ``sqrt(v)`` nears Adam's ``eps``, Chainer's and PyTorch's Adam part:
    they add ``eps`` at different places; test_optim.py checks Chainer's own rule there too)."""
    out = {}
    for i, layer in enumerate(net.layers):
        for key in layer.learned:
            p = np.asarray(layer.params[key], dtype=np.float32)
            noise = np.random.default_rng([step, i, len(key)]).standard_normal(p.shape)
            g = 0.5 * p + 0.1 * noise
            g = np.where(np.abs(g) < 1e-3, np.copysign(1e-3, g), g)
            out[f"{layer.name}/{key}"] = g.astype(np.float32)
    return out


def params_of(net: Network) -> dict[str, np.ndarray]:
    return {f"{l.name}/{k}": np.array(l.params[k]) for l in net.layers for k in l.learned}
