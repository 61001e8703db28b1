"""Winograd F(3x3, 3x3) and F(4x4, 5x5): the transforms, conv2d through them against the loop
reference and the direct path, the weight cache's safety, and AlexBN's fc8 within 1e-4.

conv2d is pinned to ``CONV_PATH = "winograd"`` here (``"auto"`` would pick by timing)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.ops import conv as convolution
from convlab.engine.ops import winograd
from convlab.engine.backend import freeze
from convlab.engine.nets import build_network

from . import reference as ref


def rand(seed, *shape, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def frozen(seed, *shape):
    fan_in = shape[1] * shape[2] * shape[3]
    return freeze(rand(seed, *shape, scale=fan_in ** -0.5))


def direct(*args, **kwargs):
    """conv2d forced onto the im2col path."""
    saved, convolution.CONV_PATH = convolution.CONV_PATH, "direct"
    try:
        return ops.conv2d(*args, **kwargs)
    finally:
        convolution.CONV_PATH = saved


@pytest.fixture(autouse=True)
def winograd_wherever_it_applies(monkeypatch):
    monkeypatch.setattr(convolution, "CONV_PATH", "winograd")


@pytest.fixture
def calls(monkeypatch):
    """Count the convolutions that really went through winograd.conv."""
    seen = []
    real = winograd.conv

    def spy(*args, **kwargs):
        seen.append(args[1].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(winograd, "conv", spy)
    return seen


@pytest.mark.parametrize("r", sorted(winograd.POINTS))
def test_transforms_give_one_dimensional_correlation(r):
    """y_i = sum_k d_{i+k} g_k for the m outputs of one tile, from the float32 matrices."""
    at, g, bt = (m.astype(np.float64) for m in winograd.transforms(r))
    m = winograd.TILE[r]
    rng = np.random.default_rng(r)
    for _ in range(5):
        d, w = rng.standard_normal(m + r - 1), rng.standard_normal(r)
        expected = [sum(d[i + k] * w[k] for k in range(r)) for i in range(m)]
        np.testing.assert_allclose(at @ ((g @ w) * (bt @ d)), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kron_max_cost", [0.0, 100.0])             # two passes / one kron GEMM
@pytest.mark.parametrize("r", sorted(winograd.POINTS))
def test_both_sides_of_a_tile_by_either_route_match_float64(monkeypatch, r, kron_max_cost):
    """out[i, j, t] = sum_{u,v} M[i, u] M[j, v] block[u, v, t], for B^T and A^T of each F(m, r)."""
    monkeypatch.setattr(winograd, "KRON_MAX_COST", kron_max_cost)
    at, _, bt = winograd.transforms(r)
    kron_at, kron_bt = winograd.kron_transforms(r)
    for mat, both in ((bt, kron_bt), (at, kron_at)):
        q = mat.shape[1]
        block = rand(r + q, q, q, 3, 7)
        expected = np.einsum("iu,jv,uvst->ijst", mat.astype(np.float64), mat.astype(np.float64),
                             block.astype(np.float64))
        got = winograd._both_sides(mat, both, block)
        assert got.shape == expected.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


CASES = {  # x shape, W shape, pad
    "3x3-pad1": ((1, 16, 7, 7), (16, 16, 3, 3), 1),
    "3x3-even-size": ((1, 17, 6, 8), (18, 17, 3, 3), 1),
    "3x3-no-pad-batch2": ((2, 16, 5, 6), (16, 16, 3, 3), 0),
    "3x3-asymmetric": ((1, 16, 5, 7), (16, 16, 3, 3), ((0, 2), (2, 1))),
    "5x5-pad2": ((1, 16, 7, 6), (16, 16, 5, 5), 2),
    "5x5-asymmetric-batch2": ((2, 16, 6, 5), (20, 16, 5, 5), ((2, 1), (0, 3))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_conv2d_through_winograd_matches_loop_reference(case, calls):
    xs, ws, pad = CASES[case]
    x, W, b = rand(1, *xs), frozen(2, *ws), rand(3, ws[0])
    y = ops.conv2d(x, W, b, pad=pad)
    assert calls == [ws], "the Winograd path was not taken"
    expected = ref.conv2d_shift_add(x, W, b, pad=pad)
    assert y.dtype == np.float32 and y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    if ws[1] * ws[2] * ws[3] * xs[2] * xs[3] < 4000:
        np.testing.assert_allclose(expected, ref.conv2d(x, W, b, pad=pad), rtol=1e-12, atol=1e-12)


def test_bands_of_tile_rows_and_should_stop(monkeypatch, calls):
    x, W, b = rand(4, 1, 16, 19, 9), frozen(5, 16, 16, 3, 3), rand(6, 16)
    monkeypatch.setattr(winograd, "BAND_BYTES", 1)                  # one tile row per band
    np.testing.assert_allclose(ops.conv2d(x, W, pad=1), direct(x, W, pad=1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ops.conv2d(x, W, b, pad=1), direct(x, W, b, pad=1),  # bias per band
                               rtol=1e-4, atol=1e-5)
    asked = []

    def stop_at_third():
        asked.append(1)
        return len(asked) == 3

    with pytest.raises(ops.Cancelled):
        ops.conv2d(x, W, pad=1, should_stop=stop_at_third)
    assert len(asked) == 3 and len(calls) == 3


@pytest.mark.parametrize("why", ["writeable", "stride", "dilation", "groups", "few-channels", "float64"])
def test_direct_path_where_winograd_does_not_apply(why, calls):
    x, W = rand(6, 1, 16, 8, 8), frozen(7, 16, 16, 3, 3)
    kwargs = {"stride": dict(stride=2), "dilation": dict(dilation=2), "groups": dict(groups=2)}.get(why, {})
    if why == "writeable":
        W = W.copy()
    if why == "groups":
        W = freeze(rand(8, 16, 8, 3, 3))
    if why == "few-channels":
        x, W = rand(6, 1, 3, 8, 8), freeze(rand(7, 16, 3, 3, 3))
    if why == "float64":
        x = x.astype(np.float64)
    y = ops.conv2d(x, W, pad=1, **kwargs)
    assert calls == []
    np.testing.assert_allclose(y, ref.conv2d_shift_add(x, W, pad=1, **kwargs), rtol=1e-5, atol=1e-5)


def test_a_writeable_weight_edited_in_place_is_never_served_stale():
    x, W = rand(9, 1, 16, 6, 6), rand(10, 16, 16, 3, 3)
    first = ops.conv2d(x, W, pad=1)
    W[0] += 1.0
    np.testing.assert_allclose(ops.conv2d(x, W, pad=1), ref.conv2d_shift_add(x, W, pad=1),
                               rtol=1e-5, atol=1e-5)
    assert not np.allclose(first[0, 0], ops.conv2d(x, W, pad=1)[0, 0])


def test_cache_follows_replaced_weights_and_refuses_writes():
    x = rand(11, 1, 16, 6, 6)
    W1 = frozen(12, 16, 16, 3, 3)
    y1 = ops.conv2d(x, W1, pad=1)
    with pytest.raises(ValueError):
        W1[0] = 0.0                                                 # frozen: cannot go stale
    W2 = frozen(13, 16, 16, 3, 3)
    np.testing.assert_allclose(ops.conv2d(x, W2, pad=1), direct(x, W2, pad=1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ops.conv2d(x, W1, pad=1), y1)
    base = np.ones((16, 16, 3, 3), np.float32)
    view = base[:]
    view.setflags(write=False)                                      # read-only view, writeable base
    assert not winograd.applies(x, view, (1, 1), (1, 1), 1)


def test_alexbn_fc8_with_fast_paths_within_1e_4_of_direct(calls):
    net = build_network("alexbn", seed=3)
    x = np.random.default_rng(4).random((1, 3, 227, 227), dtype=np.float32)
    fast = net.forward(x)["fc8"]
    assert len(calls) == 4                                          # conv2 (5x5), conv3-conv5
    saved, convolution.CONV_PATH = convolution.CONV_PATH, "direct"
    try:
        slow = net.forward(x)["fc8"]
    finally:
        convolution.CONV_PATH = saved
    assert np.abs(fast - slow).max() <= 1e-4 * np.abs(slow).max()


def test_tuner_times_every_path_once_per_key_and_keeps_the_fastest():
    from convlab.engine.ops.autotune import PathTuner

    tuner = PathTuner(("direct", "winograd"), trials=2)
    ran = []
    runs = {"direct": lambda: ran.append("d") or time.sleep(0.004),
            "winograd": lambda: ran.append("w")}
    assert tuner.best("k") is None
    assert tuner.calibrate("k", runs) == "winograd" and ran == ["d", "w", "d", "w"]
    assert tuner.best("k") == "winograd" and tuner.best("other") is None
    tuner.reset()
    assert tuner.best("k") is None


@pytest.mark.parametrize("winner", ["direct", "winograd"])
def test_auto_path_is_sticky_and_right_whichever_it_picks(monkeypatch, calls, winner):
    """The first call calibrates (both paths run); every later call takes the chosen path only."""
    from convlab.engine.ops.autotune import PathTuner

    class Rigged(PathTuner):
        def calibrate(self, key, runs):
            for run in runs.values():
                run()
            self._chosen[key] = winner
            return winner

    monkeypatch.setattr(convolution, "CONV_PATH", "auto")
    monkeypatch.setattr(convolution, "TUNER", Rigged(("direct", "winograd")))
    x, W, b = rand(14, 1, 16, 9, 9), frozen(15, 24, 16, 3, 3), rand(16, 24)
    expected = ref.conv2d_shift_add(x, W, b, pad=1)
    results = [ops.conv2d(x, W, b, pad=1) for _ in range(4)]
    for y in results:
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    assert all(np.array_equal(results[0], y) for y in results[1:])      # reproducible
    assert len(calls) == (1 + 4 if winner == "winograd" else 1)
