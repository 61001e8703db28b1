"""Every op, the explorer pipeline and an AlexBN forward through the CuPy test double.

The double (``fakecupy``) refuses implicit conversion to NumPy, NumPy functions on its arrays,
host arrays in device arithmetic and element-by-element iteration, and counts every scalar
pulled to the host: what would break or crawl on a real GPU fails here, without one.
"""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.ops import conv as convolution
from convlab.engine.backend import array_module, to_numpy
from convlab.engine.explorer import ExplorerSettings, run_explorer
from convlab.engine.nets import build_network

from . import fakecupy


@pytest.fixture
def cp():
    with fakecupy.installed() as module:
        yield module


def rand(seed, *shape, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def on_device(cp, y_dev, y_host, rtol=1e-5, atol=1e-6):
    assert isinstance(y_dev, fakecupy.ndarray), f"the op left the device: {type(y_dev)}"
    assert array_module(y_dev) is cp
    np.testing.assert_allclose(to_numpy(y_dev), y_host, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- the double itself
def test_the_double_refuses_what_cupy_refuses(cp):
    a = cp.asarray(rand(0, 2, 3))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(a)
    with pytest.raises(TypeError):
        np.maximum(a, 0)
    with pytest.raises(TypeError, match="numpy.sum"):
        np.sum(a)
    with pytest.raises(TypeError, match="host numpy.ndarray"):
        a + np.ones(3, np.float32)
    with pytest.raises(TypeError, match="host numpy.ndarray"):
        cp.maximum(a, np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="iterating"):
        list(a)
    with pytest.raises(TypeError):
        np.lib.stride_tricks.as_strided(a, (2,), (4,))


def test_the_double_counts_scalar_pulls_and_computes_like_numpy(cp):
    host = rand(1, 3, 4)
    a = cp.asarray(host)
    fakecupy.reset_pulls()
    b = (a * 2 + 1) @ cp.ones((4, 2), np.float32)
    assert fakecupy.pulls == 0 and isinstance(b, fakecupy.ndarray)
    np.testing.assert_allclose(b.get(), (host * 2 + 1) @ np.ones((4, 2), np.float32), rtol=1e-6)
    assert float(a.max()) == pytest.approx(float(host.max()))
    assert fakecupy.pulls == 1


# ---------------------------------------------------------------------------- every op
CONV = [({}, (4, 3, 3, 3)), (dict(stride=2, pad=1), (4, 3, 3, 3)),
        (dict(pad=((0, 1), (2, 0)), dilation=(2, 1)), (5, 3, 3, 2)), (dict(groups=3), (6, 1, 3, 3)),
        (dict(stride=4), (8, 3, 11, 11)), (dict(pad=1), (16, 3, 3, 3))]


@pytest.mark.parametrize("kwargs,ws", CONV)
def test_conv2d(cp, kwargs, ws):
    x, W, b = rand(1, 2, 3, 17, 15), rand(2, *ws), rand(3, ws[0])
    fakecupy.reset_pulls()
    y = ops.conv2d(cp.asarray(x), cp.asarray(W), cp.asarray(b), **kwargs)
    on_device(cp, y, ops.conv2d(x, W, b, **kwargs), rtol=1e-4, atol=1e-5)
    assert fakecupy.pulls == 0


def test_conv2d_tiles_and_should_stop(cp, monkeypatch):
    x, W = rand(4, 1, 3, 20, 20), rand(5, 4, 3, 5, 5)
    monkeypatch.setattr(convolution, "STOP_TILE_FLOPS", 1)
    y = ops.conv2d(cp.asarray(x), cp.asarray(W), should_stop=lambda: False)
    on_device(cp, y, ops.conv2d(x, W), rtol=1e-4, atol=1e-5)
    with pytest.raises(ops.Cancelled):
        ops.conv2d(cp.asarray(x), cp.asarray(W), should_stop=lambda: True)


@pytest.mark.parametrize("kwargs", [dict(ksize=3, stride=2), dict(ksize=3, stride=2, pad=1),
                                    dict(ksize=3, stride=2, cover_all=False), dict(ksize=(2, 3)),
                                    dict(ksize=2, stride=1, pad=((0, 1), (1, 0)))])
def test_max_pool2d(cp, kwargs):
    x = rand(6, 2, 3, 14, 15)
    fakecupy.reset_pulls()
    on_device(cp, ops.max_pool2d(cp.asarray(x), **kwargs), ops.max_pool2d(x, **kwargs), 0, 0)
    assert fakecupy.pulls == 0


def test_the_other_ops(cp):
    x, W, b = rand(7, 2, 6, 9, 8, scale=3.0), rand(8, 10, 6 * 9 * 8), rand(9, 10)
    gamma, beta, mean, var = rand(10, 6), rand(11, 6), rand(12, 6), np.abs(rand(13, 6)) + 0.1
    xd = cp.asarray(x)
    d = [cp.asarray(a) for a in (gamma, beta, mean, var)]
    fakecupy.reset_pulls()
    on_device(cp, ops.avg_pool2d(xd, 3, stride=2, pad=1), ops.avg_pool2d(x, 3, stride=2, pad=1))
    on_device(cp, ops.relu(xd), ops.relu(x), 0, 0)
    on_device(cp, ops.softmax(xd.reshape(2, -1)), ops.softmax(x.reshape(2, -1)))
    on_device(cp, ops.batch_norm(xd, d[0], d[1]), ops.batch_norm(x, gamma, beta), 1e-4, 1e-5)
    on_device(cp, ops.batch_norm(xd, *d[:2], mean=d[2], var=d[3]),
              ops.batch_norm(x, gamma, beta, mean=mean, var=var), 1e-4, 1e-5)
    on_device(cp, ops.local_response_norm(xd), ops.local_response_norm(x))
    on_device(cp, ops.im2col(xd, 3, 2, 2, 1, (1, 0), 1), ops.im2col(x, 3, 2, 2, 1, (1, 0), 1), 0, 0)
    for n in (1, 2):
        on_device(cp, ops.linear(xd[:n], cp.asarray(W), cp.asarray(b)), ops.linear(x[:n], W, b),
                  1e-4, 1e-5)
    assert fakecupy.pulls == 0


# --------------------------------------------------------------- the explorer and AlexBN
@pytest.mark.parametrize("settings", [ExplorerSettings(),
                                      ExplorerSettings(kernel=3, stride=1, padding=1, filters=16,
                                                       pool=2, pool_stride=1, grayscale=True)])
def test_explorer_pipeline(cp, settings):
    image = np.random.default_rng(14).random((60, 70, 3), dtype=np.float32)
    host = run_explorer(image, settings, xp=np)
    fakecupy.reset_pulls()
    dev = run_explorer(image, settings, xp=cp)
    assert dev.completed and list(dev.maps) == list(host.maps)
    for name, value in host.maps.items():
        assert isinstance(dev.maps[name], np.ndarray)          # brought to the host, explicitly
        np.testing.assert_allclose(dev.maps[name], value, rtol=1e-4, atol=1e-4, err_msg=name)
    assert fakecupy.pulls == 0


def test_alexbn_forward(cp):
    host_net = build_network("alexbn", seed=5, xp=np)
    dev_net = build_network("alexbn", seed=5, xp=cp)
    x = np.random.default_rng(16).random((1, 3, 227, 227), dtype=np.float32)
    host = host_net.forward(x)
    fakecupy.reset_pulls()
    dev = dev_net.forward(cp.asarray(x))
    assert list(dev) == list(host) and fakecupy.pulls == 0
    for name, value in host.items():
        scale = float(np.abs(value).max()) or 1.0
        on_device(cp, dev[name], value, rtol=1e-3, atol=1e-4 * scale)
