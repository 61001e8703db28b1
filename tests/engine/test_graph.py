"""Graph networks (add, concat, flatten), transposed-convolution and average-pooling layers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.engine import ops
from convlab.engine.nets import Network

from . import reference as ref

RESIDUAL = {
    "name": "residual", "input_shape": [3, 12, 10],
    "layers": [
        {"name": "stem", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": 1},
        {"name": "a", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": 1},
        {"name": "relu_a", "kind": "relu"},
        {"name": "sum", "kind": "add", "inputs": ["stem", "relu_a"]},
        {"name": "side", "kind": "conv", "out_channels": 2, "ksize": 1, "inputs": "input"},
        {"name": "cat", "kind": "concat", "inputs": ["sum", "side"]},
        {"name": "down", "kind": "pool", "mode": "avg", "ksize": 2},
        {"name": "flat", "kind": "flatten"},
        {"name": "fc", "kind": "fc", "out_size": 5},
    ],
}


def test_graph_summary_shapes_params_and_fields():
    net = Network.from_spec(RESIDUAL, init=False)
    rows = {r.name: r for r in net.summary()}
    assert rows["sum"].output_shape == (4, 12, 10)
    assert rows["cat"].output_shape == (6, 12, 10)
    assert rows["down"].output_shape == (6, 6, 5)
    assert rows["flat"].output_shape == (180,) and rows["flat"].rf is None
    assert rows["fc"].params == 180 * 5 + 5 and rows["fc"].macs == 900
    assert rows["side"].params == 2 * 3 + 2 and rows["side"].macs == 2 * 3 * 12 * 10
    assert (rows["a"].rf, rows["relu_a"].rf) == (5, 5)
    assert rows["sum"].rf == 5            # the union of the 3 and 5 paths, both centred
    assert rows["cat"].rf == 5 and rows["down"].rf == 6 and rows["down"].jump == 2


def test_graph_forward_follows_the_ops():
    net = Network.from_spec(RESIDUAL, seed=2, xp=np)
    x = np.random.default_rng(0).standard_normal((2, 3, 12, 10)).astype(np.float32)
    out = net.forward(x)
    assert list(out) == [layer["name"] for layer in RESIDUAL["layers"]]
    p = {layer.name: layer.params for layer in net.layers}
    stem = ops.conv2d(x, p["stem"]["W"], p["stem"]["b"], pad=1)
    a = ops.relu(ops.conv2d(stem, p["a"]["W"], p["a"]["b"], pad=1))
    side = ops.conv2d(x, p["side"]["W"], p["side"]["b"])
    cat = np.concatenate([stem + a, side], axis=1)
    np.testing.assert_allclose(out["cat"], cat, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out["down"], ref.avg_pool2d(cat, 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out["flat"], out["down"].reshape(2, -1))
    np.testing.assert_allclose(out["fc"], ops.linear(out["flat"], p["fc"]["W"], p["fc"]["b"]),
                               rtol=1e-6, atol=1e-6)


def test_graph_round_trip_keeps_inputs():
    net = Network.from_spec(RESIDUAL, init=False)
    spec = net.to_spec()
    assert spec["layers"][3]["inputs"] == ["stem", "relu_a"]
    assert spec["layers"][4]["inputs"] == ["input"]
    assert "inputs" not in spec["layers"][1]
    assert Network.from_spec(spec, init=False).to_spec() == spec


def test_graph_failure_marks_the_first_failing_node():
    spec = {"input_shape": [3, 12, 10], "layers": [
        {"name": "a", "kind": "conv", "out_channels": 4, "ksize": 3},
        {"name": "b", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": 1, "inputs": "input"},
        {"name": "sum", "kind": "add", "inputs": ["a", "b"]},
        {"name": "after", "kind": "relu"}]}
    rows = Network.from_spec(spec, init=False).summary()
    assert [bool(r.error) for r in rows] == [False, False, True, False]
    assert "4 × 10 × 8" in rows[2].error and "4 × 12 × 10" in rows[2].error
    assert rows[3].output_shape is None


def test_concat_and_flatten_axes():
    spec = {"input_shape": [2, 4, 6], "layers": [
        {"name": "h", "kind": "concat", "axis": 2, "inputs": ["input", "input"]},
        {"name": "f", "kind": "flatten", "axis": 2}]}
    net = Network.from_spec(spec, xp=np)
    rows = {r.name: r.output_shape for r in net.summary()}
    assert rows == {"h": (2, 8, 6), "f": (2, 48)}
    x = np.arange(48, dtype=np.float32).reshape(1, 2, 4, 6)
    out = net.forward(x)
    np.testing.assert_array_equal(out["h"], np.concatenate([x, x], axis=2))
    assert out["f"].shape == (1, 2, 48)


# ------------------------------------------------------------------------------- deconv layer
def deconv_reference(x, W, b, s, p, d, groups, out_hw):
    """y[n, g*O/G + o, q*s + u*d - p, r*s + v*d - p] += W[g*C/G + c, o, u, v] * x[n, g*C/G + c, q, r]."""
    n_, c_, h, w = x.shape
    _, og, kh, kw = W.shape
    cg = c_ // groups
    y = np.zeros((n_, og * groups) + out_hw)
    for n in range(n_):
        for ci in range(c_):
            g = ci // cg
            for o in range(og):
                for q in range(h):
                    for r in range(w):
                        for u in range(kh):
                            for v in range(kw):
                                i, j = q * s + u * d - p, r * s + v * d - p
                                if 0 <= i < out_hw[0] and 0 <= j < out_hw[1]:
                                    y[n, g * og + o, i, j] += W[ci, o, u, v] * x[n, ci, q, r]
    return y + np.asarray(b, np.float64).reshape(1, -1, 1, 1)


def test_deconv_layer_shape_params_and_forward():
    spec = {"input_shape": [4, 5, 6], "layers": [
        {"name": "up", "kind": "deconv", "out_channels": 6, "ksize": 3, "stride": 2, "pad": 1,
         "groups": 2}]}
    net = Network.from_spec(spec, seed=1, xp=np)
    row = net.summary()[0]
    assert row.output_shape == (6, 9, 11)                 # 2*(5-1) + 3 - 2, 2*(6-1) + 3 - 2
    assert net["up"].params["W"].shape == (4, 3, 3, 3) and row.params == 4 * 3 * 9 + 6
    assert row.macs == 4 * 3 * 9 * 5 * 6 and row.rf is None
    x = np.random.default_rng(1).standard_normal((1, 4, 5, 6)).astype(np.float32)
    W = net["up"].params["W"]
    b = np.random.default_rng(2).standard_normal(6).astype(np.float32)
    net["up"].params["b"] = b
    np.testing.assert_allclose(net.forward(x)["up"], deconv_reference(x, W, b, 2, 1, 1, 2, (9, 11)),
                               rtol=1e-5, atol=1e-5)
    with_outsize = dict(spec["layers"][0], outsize=[10, 12])
    grown = Network.from_spec({"input_shape": [4, 5, 6], "layers": [with_outsize]}, init=False)
    assert grown.summary()[0].output_shape == (6, 10, 12)
    bad = dict(spec["layers"][0], outsize=[12, 12])
    assert "outsize 12" in Network.from_spec({"input_shape": [4, 5, 6], "layers": [bad]},
                                             init=False).summary()[0].error


# ---------------------------------------------------------------------------- average pooling
def avg_reference(x, k, s, p, cover_all, count_include_pad):
    """Mean over each window; the divisor counts padded positions or only input positions."""
    n_, c_, h, w = x.shape
    oh, ow = ref.out_size(h, k, s, p, 1, cover_all), ref.out_size(w, k, s, p, 1, cover_all)
    y = np.zeros((n_, c_, oh, ow))
    for i in range(oh):
        for j in range(ow):
            total, count = np.zeros((n_, c_)), 0
            for u in range(k):
                for v in range(k):
                    r, q = i * s + u - p, j * s + v - p
                    if 0 <= r < h and 0 <= q < w:
                        total += x[:, :, r, q]
                    inside = (0 <= r < h and 0 <= q < w) if not count_include_pad else (
                        -p <= r < h + p and -p <= q < w + p)
                    count += inside
            y[:, :, i, j] = total / max(count, 1)
    return y


@pytest.mark.parametrize("k,s,p,cover_all,count_include_pad", [
    (2, 2, 0, False, True), (3, 2, 1, False, True), (3, 2, 1, False, False),
    (3, 2, 1, True, True), (2, 3, 0, True, False), (3, 1, 1, False, False)])
def test_avg_pool_layer_modes(k, s, p, cover_all, count_include_pad):
    spec = [{"name": "p", "kind": "pool", "mode": "avg", "ksize": k, "stride": s, "pad": p,
             "cover_all": cover_all, "count_include_pad": count_include_pad}]
    net = Network.from_spec({"input_shape": [2, 7, 8], "layers": spec}, xp=np)
    x = np.random.default_rng(k * 10 + s).standard_normal((1, 2, 7, 8)).astype(np.float32)
    out = net.forward(x)["p"]
    assert out.shape[1:] == net.summary()[0].output_shape
    np.testing.assert_allclose(out, avg_reference(x, k, s, p, cover_all, count_include_pad),
                               rtol=1e-5, atol=1e-6)


def test_avg_pool_default_is_chainer_average_pooling_2d():
    net = Network.from_spec({"input_shape": [1, 5, 5], "layers": [
        {"name": "p", "kind": "pool", "mode": "avg", "ksize": 3, "stride": 2, "pad": 1}]}, xp=np)
    assert net.to_spec()["layers"][0]["cover_all"] is False
    x = np.random.default_rng(0).standard_normal((1, 1, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(net.forward(x)["p"], ops.avg_pool2d(x, 3, stride=2, pad=1))


# ------------------------------------------------------------------------------ random graphs
@st.composite
def graphs(draw):
    """A random DAG over a 2x9x9 input: convs (shape-keeping or strided), pools, relus, adds of
    equal shapes and concats of equal sizes, each reading any earlier node."""
    nodes = {"input": (2, 9, 9)}
    layers = []
    for n in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["conv", "conv", "relu", "pool", "add", "concat"]))
        src = draw(st.sampled_from(sorted(nodes)))
        c, h, w = nodes[src]
        entry = {"name": f"n{n}", "kind": kind, "inputs": [src]}
        if kind == "conv":
            k = draw(st.integers(1, 3))
            entry.update(out_channels=draw(st.integers(1, 3)), ksize=k, pad=(k - 1) // 2 if k % 2 else
                         [[(k - 1) // 2, k // 2], [(k - 1) // 2, k // 2]])
            shape = (entry["out_channels"], h, w)
        elif kind == "pool":
            entry.update(mode=draw(st.sampled_from(["max", "avg"])), ksize=2, stride=1)
            shape = (c, h - 1, w - 1)
            if h < 2 or w < 2:
                continue
        elif kind in ("add", "concat"):
            same = [m for m, s in nodes.items()
                    if (s == (c, h, w) if kind == "add" else s[1:] == (h, w))]
            other = draw(st.sampled_from(sorted(same)))
            entry["inputs"].append(other)
            shape = (c, h, w) if kind == "add" else (c + nodes[other][0], h, w)
        else:
            shape = (c, h, w)
        layers.append(entry)
        nodes[entry["name"]] = shape
    return {"name": "graph", "input_shape": [2, 9, 9], "layers": layers}, nodes


@settings(max_examples=40, deadline=None)
@given(case=graphs(), seed=st.integers(0, 2**16))
def test_random_graphs_summary_matches_forward_and_round_trips(case, seed):
    spec, expected_shapes = case
    net = Network.from_spec(spec, seed=seed, xp=np)
    rows = net.summary()
    assert all(not r.error for r in rows)
    assert {r.name: r.output_shape for r in rows} == {
        k: v for k, v in expected_shapes.items() if k != "input"}
    out = net.forward(np.random.default_rng(seed).standard_normal((1, 2, 9, 9)).astype(np.float32))
    for row in rows:
        assert out[row.name].shape == (1,) + row.output_shape, row.name
    again = Network.from_spec(json.loads(json.dumps(net.to_spec())), seed=seed, xp=np)
    assert again.to_spec() == net.to_spec()
    assert [(r.name, r.output_shape, r.params, r.macs, r.rf) for r in again.summary()] == \
        [(r.name, r.output_shape, r.params, r.macs, r.rf) for r in rows]
    ones = np.ones((1, 2, 9, 9), np.float32)
    mine, theirs = net.forward(ones), again.forward(ones)
    for name, value in theirs.items():
        np.testing.assert_array_equal(value, mine[name])
