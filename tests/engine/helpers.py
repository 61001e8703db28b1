"""Reading a network's parameters in the tests: one place that knows where they live."""

from __future__ import annotations

import numpy as np

from convlab.engine.backend import to_numpy


def param(net, key: str) -> np.ndarray:
    """``param(net, "conv1/W")``: the array, as NumPy (no copy for NumPy arrays)."""
    layer, name = key.split("/")
    return to_numpy(net[layer].params[name])


def all_params(net) -> dict[str, np.ndarray]:
    """Every array the network holds, under Chainer's ``layer/name`` keys."""
    return {f"{layer.name}/{name}": to_numpy(value)
            for layer in net.layers for name, value in layer.params.items()}


def snapshot(net) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in all_params(net).items()}


def assert_params_equal(net, expected: dict[str, np.ndarray]) -> None:
    actual = all_params(net)
    assert sorted(actual) == sorted(expected)
    for key, value in expected.items():
        assert actual[key].dtype == value.dtype, key
        assert actual[key].shape == value.shape, key
        assert np.array_equal(actual[key], value), f"{key} changed"
