"""CuPy against NumPy: every op and an AlexBN forward. Skipped where no CUDA device answers."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.backend import get_backend, to_numpy
from convlab.engine.nets import build_network

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(get_backend().name != "cupy",
                       reason=f"no CUDA device: {get_backend().reason or 'CuPy is not in use'}"),
]


@pytest.fixture(scope="module")
def cp():
    return get_backend().xp


def rand(seed, *shape, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def on_device(cp, *arrays):
    return [cp.asarray(a) for a in arrays]


def assert_device_matches(cp, y_dev, y_host, rtol=1e-5, atol=1e-5):
    assert type(y_dev).__module__.startswith("cupy"), "the op left the device"
    assert y_dev.dtype == np.float32
    np.testing.assert_allclose(to_numpy(y_dev), y_host, rtol=rtol, atol=atol)


@pytest.mark.parametrize("kwargs,ws", [
    ({}, (4, 3, 3, 3)),
    (dict(stride=2, pad=1), (4, 3, 3, 3)),
    (dict(stride=(1, 2), pad=(2, 1), dilation=(2, 1)), (5, 3, 3, 2)),
    (dict(groups=3), (6, 1, 3, 3)),
    (dict(stride=4), (8, 3, 11, 11)),
])
def test_conv2d(cp, kwargs, ws):
    x, W, b = rand(1, 2, 3, 31, 29), rand(2, *ws), rand(3, ws[0])
    xd, Wd, bd = on_device(cp, x, W, b)
    assert_device_matches(cp, ops.conv2d(xd, Wd, bd, **kwargs), ops.conv2d(x, W, b, **kwargs),
                          rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(ksize=3, stride=2), dict(ksize=3, stride=2, pad=1),
                                    dict(ksize=3, stride=2, cover_all=False), dict(ksize=(2, 3))])
def test_max_pool2d(cp, kwargs):
    x = rand(4, 2, 3, 14, 15)
    (xd,) = on_device(cp, x)
    assert_device_matches(cp, ops.max_pool2d(xd, **kwargs), ops.max_pool2d(x, **kwargs), 0, 0)


def test_avg_pool2d_relu_softmax(cp):
    x = rand(5, 2, 3, 9, 8)
    (xd,) = on_device(cp, x)
    assert_device_matches(cp, ops.avg_pool2d(xd, 3, stride=2, pad=1),
                          ops.avg_pool2d(x, 3, stride=2, pad=1))
    assert_device_matches(cp, ops.relu(xd), ops.relu(x), 0, 0)
    assert_device_matches(cp, ops.softmax(xd.reshape(2, -1)), ops.softmax(x.reshape(2, -1)), 1e-5, 1e-7)


@pytest.mark.parametrize("stats", [False, True])
def test_batch_norm(cp, stats):
    x, gamma, beta = rand(6, 2, 4, 5, 5, scale=3.0), rand(7, 4), rand(8, 4)
    mean, var = rand(9, 4), np.abs(rand(10, 4)) + 0.1
    kw = {} if stats else dict(mean=mean, var=var)
    kw_dev = {} if stats else dict(zip(("mean", "var"), on_device(cp, mean, var)))
    xd, gd, bd = on_device(cp, x, gamma, beta)
    assert_device_matches(cp, ops.batch_norm(xd, gd, bd, **kw_dev), ops.batch_norm(x, gamma, beta, **kw),
                          rtol=1e-4, atol=1e-5)


def test_local_response_norm(cp):
    x = rand(11, 2, 9, 4, 4, scale=20.0)
    (xd,) = on_device(cp, x)
    assert_device_matches(cp, ops.local_response_norm(xd), ops.local_response_norm(x), rtol=1e-5)
    assert_device_matches(cp, ops.local_response_norm(xd, n=3, k=1.0, alpha=0.1, beta=0.5),
                          ops.local_response_norm(x, n=3, k=1.0, alpha=0.1, beta=0.5), rtol=1e-4)


@pytest.mark.parametrize("n", [1, 3])
def test_linear(cp, n):
    x, W, b = rand(12, n, 4, 3, 3), rand(13, 10, 36), rand(14, 10)
    xd, Wd, bd = on_device(cp, x, W, b)
    assert_device_matches(cp, ops.linear(xd, Wd, bd), ops.linear(x, W, b), rtol=1e-4, atol=1e-5)


def test_alexbn_forward_on_device_matches_numpy(cp):
    gpu_net = build_network("alexbn", seed=0)           # the chosen backend: CuPy here
    cpu_net = build_network("alexbn", seed=0, xp=np)    # the same weights, on the host
    x = np.random.default_rng(15).uniform(-1, 1, (2, 3, 227, 227)).astype(np.float32)
    for stats in (False, True):
        dev, host = gpu_net.forward(cp.asarray(x), use_batch_stats=stats), cpu_net.forward(x, use_batch_stats=stats)
        assert list(dev) == list(host)
        for name in host:
            scale = float(np.abs(host[name]).max()) or 1.0
            assert type(dev[name]).__module__.startswith("cupy"), name
            np.testing.assert_allclose(to_numpy(dev[name]), host[name], rtol=1e-3,
                                       atol=1e-4 * scale, err_msg=name)
