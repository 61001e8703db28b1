"""explain: one output's terms (conv_terms, pool_terms) reproduce the op at that position."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convlab.engine import explain, ops


SETTINGS = settings(max_examples=60, deadline=None)


def pads():
    """An int, an (h, w) pair or ((top, bottom), (left, right))."""
    side = st.integers(0, 2)
    return st.one_of(side, st.tuples(side, side),
                     st.tuples(st.tuples(side, side), st.tuples(side, side)))


def pad_sides(pad):
    if isinstance(pad, int):
        return (pad, pad), (pad, pad)
    if isinstance(pad[0], int):
        return (pad[0], pad[0]), (pad[1], pad[1])
    return pad


@SETTINGS
@given(data=st.data(), groups=st.integers(1, 3), cpg=st.integers(1, 2), opg=st.integers(1, 2),
       h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 4), kw=st.integers(1, 4),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)), d=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       pad=pads(), bias=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_conv_terms_reproduce_conv2d(data, groups, cpg, opg, h, w, kh, kw, s, d, pad, bias, seed):
    (top, bottom), (left, right) = pad_sides(pad)
    assume(h + top + bottom >= d[0] * (kh - 1) + 1 and w + left + right >= d[1] * (kw - 1) + 1)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, groups * cpg, h, w)).astype(np.float32)
    W = rng.standard_normal((groups * opg, cpg, kh, kw)).astype(np.float32)
    b = rng.standard_normal(groups * opg).astype(np.float32) if bias else None
    y = ops.conv2d(x, W, b, stride=s, pad=pad, dilation=d, groups=groups)
    n, o = data.draw(st.integers(0, 1)), data.draw(st.integers(0, groups * opg - 1))
    i, j = data.draw(st.integers(0, y.shape[2] - 1)), data.draw(st.integers(0, y.shape[3] - 1))
    t = explain.conv_terms(x, W, b, stride=s, pad=pad, dilation=d, groups=groups, n=n, o=o, i=i, j=j)
    scale = float(np.abs(t.patch * t.weights).sum() + abs(t.bias)) + 1e-30
    assert abs(t.value - float(y[n, o, i, j])) <= 4e-7 * scale
    # the fields say what they claim, written out from the definition
    assert list(t.rows) == [i * s[0] - top + u * d[0] for u in range(kh)]
    assert list(t.cols) == [j * s[1] - left + v * d[1] for v in range(kw)]
    g = o // opg
    assert t.channels == range(g * cpg, (g + 1) * cpg)
    for c in range(cpg):
        for u, r in enumerate(t.rows):
            for v, q in enumerate(t.cols):
                inside = 0 <= r < h and 0 <= q < w
                assert t.patch[c, u, v] == (x[n, g * cpg + c, r, q] if inside else 0.0)
    np.testing.assert_array_equal(t.weights, W[o])
    np.testing.assert_allclose(t.per_channel, (t.patch * t.weights).sum(axis=(1, 2)))
    assert t.bias == (0.0 if b is None else float(b[o]))


@SETTINGS
@given(data=st.data(), h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 4),
       kw=st.integers(1, 4), s=st.tuples(st.integers(1, 4), st.integers(1, 4)), pad=pads(),
       cover_all=st.booleans(), seed=st.integers(0, 2**32 - 1), last=st.booleans())
def test_pool_terms_reproduce_max_pool2d_including_windows_past_the_edge(
        data, h, w, kh, kw, s, pad, cover_all, seed, last):
    (top, bottom), (left, right) = pad_sides(pad)
    assume(top < kh and bottom < kh and left < kw and right < kw)   # no all-padding window
    assume(h + top + bottom >= kh and w + left + right >= kw)
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w)).astype(np.float32)
    y = ops.max_pool2d(x, (kh, kw), stride=s, pad=pad, cover_all=cover_all)
    c = data.draw(st.integers(0, 1))
    i = y.shape[2] - 1 if last else data.draw(st.integers(0, y.shape[2] - 1))
    j = y.shape[3] - 1 if last else data.draw(st.integers(0, y.shape[3] - 1))
    t = explain.pool_terms(x, ksize=(kh, kw), stride=s, pad=pad, cover_all=cover_all, c=c, i=i, j=j)
    if not np.isfinite(y[0, c, i, j]):
        assert t.value == -np.inf and t.argmax is None
        return
    assert t.value == float(y[0, c, i, j])
    r, q = t.argmax
    assert x[0, c, r, q] == y[0, c, i, j] and r in t.rows and q in t.cols
    for u, r in enumerate(t.rows):
        for v, q in enumerate(t.cols):
            inside = 0 <= r < h and 0 <= q < w
            assert t.window[u, v] == (x[0, c, r, q] if inside else -np.inf)


@SETTINGS
@given(data=st.data(), h=st.integers(2, 9), k=st.integers(1, 3), s=st.integers(1, 3),
       p=st.integers(0, 1), seed=st.integers(0, 2**32 - 1))
def test_pool_terms_reproduce_avg_pool2d(data, h, k, s, p, seed):
    assume(p < k and h + 2 * p >= k)
    x = np.random.default_rng(seed).standard_normal((1, 1, h, h + 1)).astype(np.float32)
    y = ops.avg_pool2d(x, k, stride=s, pad=p)
    i, j = data.draw(st.integers(0, y.shape[2] - 1)), data.draw(st.integers(0, y.shape[3] - 1))
    t = explain.pool_terms(x, ksize=k, stride=s, pad=p, cover_all=False, c=0, i=i, j=j, mode="avg")
    assert t.value == pytest.approx(float(y[0, 0, i, j]), rel=1e-6, abs=1e-6)


def test_terms_refuse_positions_outside_the_output():
    x = np.zeros((1, 1, 5, 5), np.float32)
    with pytest.raises(ValueError, match="i=3"):
        explain.conv_terms(x, np.zeros((1, 1, 3, 3), np.float32), o=0, i=3, j=0)
    with pytest.raises(ValueError, match="c=1"):
        explain.pool_terms(x, ksize=2, c=1, i=0, j=0)


# -------------------------------------------------------------- transposed convolution, layers
@SETTINGS
@given(data=st.data(), groups=st.integers(1, 2), cpg=st.integers(1, 2), opg=st.integers(1, 2),
       h=st.integers(1, 5), w=st.integers(1, 5), kh=st.integers(1, 4), kw=st.integers(1, 3),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)), d=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       p=st.tuples(st.integers(0, 2), st.integers(0, 2)), seed=st.integers(0, 2**32 - 1))
def test_deconv_terms_reproduce_deconv2d(data, groups, cpg, opg, h, w, kh, kw, s, d, p, seed):
    assume(s[0] * (h - 1) + d[0] * (kh - 1) + 1 - 2 * p[0] >= 1)
    assume(s[1] * (w - 1) + d[1] * (kw - 1) + 1 - 2 * p[1] >= 1)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, groups * cpg, h, w)).astype(np.float32)
    W = rng.standard_normal((groups * cpg, opg, kh, kw)).astype(np.float32)
    b = rng.standard_normal(groups * opg).astype(np.float32)
    kw_ = dict(stride=s, pad=p, dilation=d, groups=groups)
    y = ops.deconv2d(x, W, b, **kw_)
    o = data.draw(st.integers(0, groups * opg - 1))
    i, j = data.draw(st.integers(0, y.shape[2] - 1)), data.draw(st.integers(0, y.shape[3] - 1))
    t = explain.deconv_terms(x, W, b, o=o, i=i, j=j, **kw_)
    scale = float(np.abs(t.patch * t.weights).sum() + abs(t.bias)) + 1e-30
    assert abs(t.value - float(y[0, o, i, j])) <= 4e-7 * scale
    for q, u in zip(t.rows, t.taps_u):
        assert q * s[0] + u * d[0] - p[0] == i and 0 <= q < h
    for r, v in zip(t.cols, t.taps_v):
        assert r * s[1] + v * d[1] - p[1] == j and 0 <= r < w


@pytest.mark.parametrize("name", ["alexbn", "alex2g"])
def test_layer_terms_give_every_explained_layers_value(name):
    from convlab.engine.nets import build_network

    net = build_network(name, seed=0, xp=np)
    x = np.random.default_rng(5).uniform(-1, 1, (2, 3, 227, 227)).astype(np.float32)
    for stats in (False, True):
        out = net.forward(x, use_batch_stats=stats)
        previous = x
        for layer in net.layers:
            if layer.kind in ("conv", "bn", "relu", "pool"):
                y = out[layer.name]
                for n, c, i, j in [(0, 0, 0, 0), (1, y.shape[1] - 1, y.shape[2] - 1, y.shape[3] - 1),
                                   (0, y.shape[1] // 2, y.shape[2] // 2, 1)]:
                    t = explain.layer_terms(layer, previous, n=n, c=c, i=i, j=j,
                                            use_batch_stats=stats)
                    assert t.value == pytest.approx(float(y[n, c, i, j]), rel=2e-5, abs=2e-5), (
                        layer.name, stats)
            if layer.kind == "fc":
                with pytest.raises(ValueError, match=layer.name):
                    explain.layer_terms(layer, previous, c=0, i=0, j=0)
                break
            previous = out[layer.name]


def test_layer_terms_for_deconv_avg_pool_and_dropout_layers():
    from convlab.engine.nets import Network

    spec = {"input_shape": [2, 6, 5], "layers": [
        {"name": "up", "kind": "deconv", "out_channels": 4, "ksize": 3, "stride": 2, "pad": 1,
         "groups": 2, "outsize": [12, 10]},
        {"name": "avg", "kind": "pool", "mode": "avg", "ksize": 2, "pad": 1},
        {"name": "drop", "kind": "dropout"}]}
    net = Network.from_spec(spec, seed=3, xp=np)
    x = np.random.default_rng(2).standard_normal((1, 2, 6, 5)).astype(np.float32)
    out, previous = net.forward(x), x
    for layer in net.layers:
        y = out[layer.name]
        for c, i, j in np.ndindex(*y.shape[1:]):
            t = explain.layer_terms(layer, previous, c=c, i=i, j=j)
            assert t.value == pytest.approx(float(y[0, c, i, j]), rel=1e-5, abs=1e-6)
        previous = y
