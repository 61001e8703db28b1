"""Receptive fields: equal to one-pixel perturbation of all-positive networks and to a recurrence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convlab.engine import arithmetic, explain
from convlab.engine.nets import Network, build_network

from .test_explain import pad_sides, pads


def positive(net):
    """All-positive weights, zero biases: with a zero input, an output moves iff it is connected."""
    for layer in net.layers:
        if "W" in layer.params:
            rng = np.random.default_rng(len(layer.name))
            layer.params["W"] = (rng.uniform(0.5, 1.5, layer.params["W"].shape)).astype(np.float32)
        if "b" in layer.params:
            layer.params["b"] = np.zeros_like(layer.params["b"])
    return net


def brute_force_boxes(net, shape, layer):
    """For every output (i, j) of ``layer``: the bounding box of the input pixels whose
    perturbation (0 -> 1, one pixel at a time) moves it; None where none does."""
    c, h, w = shape
    moved = []
    for r in range(h):
        for q in range(w):
            x = np.zeros((1, c, h, w), np.float32)
            x[0, :, r, q] = 1.0
            moved.append((r, q, net.forward(x)[layer][0].max(axis=0) > 0))
    oh, ow = moved[0][2].shape
    boxes = {}
    for i in range(oh):
        for j in range(ow):
            hits = [(r, q) for r, q, m in moved if m[i, j]]
            boxes[i, j] = None if not hits else (
                min(r for r, _ in hits), min(q for _, q in hits),
                max(r for r, _ in hits) + 1, max(q for _, q in hits) + 1)
    return boxes


def recurrence(layers, i, j):
    """Unclipped box, written independently: with J the product of the strides below a layer,
    top = i*J_L - sum_l top_l * J_(l-1),  size = 1 + sum_l (d_l(k_l - 1)) * J_(l-1)."""
    box = []
    for a, index in ((0, i), (1, j)):
        jump, start, size = 1, 0, 1
        for k, s, pad, d in layers:
            k, s, d = (k, k) if isinstance(k, int) else k, s, d
            kk = k[a] if isinstance(k, tuple) else k
            ss = s[a] if isinstance(s, tuple) else s
            dd = d[a] if isinstance(d, tuple) else d
            before = pad_sides(pad)[a][0]
            start -= before * jump
            size += dd * (kk - 1) * jump
            jump *= ss
        box.append((index * jump + start, index * jump + start + size))
    (top, bottom), (left, right) = box
    return top, left, bottom, right


@st.composite
def stacks(draw):
    """A random chain of convolutions, max/avg pools and transposed convolutions."""
    layers, geometry = [], []
    for n in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "pool_avg", "deconv"]))
        k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        if kind == "conv":
            d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
            pad = draw(pads())
            layers.append({"name": f"l{n}", "kind": "conv", "out_channels": 2, "ksize": list(k),
                           "stride": list(s), "pad": pad, "dilation": list(d)})
            geometry.append((k, s, pad, d))
        elif kind.startswith("pool"):
            p = draw(st.integers(0, min(k) - 1))
            cover_all = draw(st.booleans())
            layers.append({"name": f"l{n}", "kind": "pool", "mode": kind[5:] or "max",
                           "ksize": list(k), "stride": list(s), "pad": p, "cover_all": cover_all})
            geometry.append((k, s, p, 1, cover_all))
        else:
            layers.append({"name": f"l{n}", "kind": "deconv", "out_channels": 2, "ksize": list(k),
                           "stride": list(s), "pad": 0})
            geometry.append(None)
        if draw(st.booleans()):
            layers.append({"name": f"r{n}", "kind": "relu"})
    return layers, geometry


@settings(max_examples=40, deadline=None)
@given(stack=stacks(), h=st.integers(3, 9), w=st.integers(3, 9))
def test_receptive_field_equals_perturbation_brute_force(stack, h, w):
    layers, geometry = stack
    spec = {"input_shape": [2, h, w], "layers": layers}
    net = positive(Network.from_spec(spec, xp=np))
    last = layers[-1]["name"]
    assume(all(r.error == "" for r in net.summary()))
    with np.errstate(invalid="ignore"):          # -inf from a window wholly past the edge
        zeros = net.forward(np.zeros((1, 2, h, w), np.float32))
    assume(all(np.isfinite(v).all() for v in zeros.values()))   # no window wholly past the edge
    boxes = brute_force_boxes(net, (2, h, w), last)
    windows = [g if g is not None else arithmetic.Window.of(
        tuple(e["ksize"]), tuple(e["stride"]), 0, 1, transposed=True)
        for g, e in zip(geometry, [e for e in layers if e["kind"] != "relu"])]
    for (i, j), box in boxes.items():
        field = net.receptive_field(last, i, j)
        assert field == explain.receptive_field(windows, i, j, (h, w))
        clipped = field.clipped
        if box is None:
            assert clipped.empty
        else:
            assert (clipped.top, clipped.left, clipped.bottom, clipped.right) == box
            assert field.top <= clipped.top and field.bottom >= clipped.bottom
            assert field.left <= clipped.left and field.right >= clipped.right
        if all(g is not None for g in geometry):
            assert (field.top, field.left, field.bottom, field.right) == recurrence(
                [g[:4] for g in geometry], i, j)


@settings(max_examples=100, deadline=None)
@given(k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2),
       n_in=st.integers(1, 6), data=st.data())
def test_transposed_unclipped_box_is_every_input_index_that_writes_the_position(k, s, p, d, n_in, data):
    n_out = s * (n_in - 1) + d * (k - 1) + 1 - 2 * p
    assume(n_out >= 1)
    i = data.draw(st.integers(0, n_out - 1))
    window = arithmetic.Window.of((k, 1), (s, 1), ((p, p), (0, 0)), (d, 1), transposed=True)
    field = explain.receptive_field([window], i, 0, (n_in, 1))
    writers = [q for q in range(-60, 60) for u in range(k) if q * s - p + u * d == i]
    if writers:
        assert (field.top, field.bottom) == (min(writers), max(writers) + 1)
    else:                           # a kernel shorter than the stride leaves gaps
        assert field.bottom <= field.top
    inside = [q for q in writers if 0 <= q < n_in]
    c = field.clipped
    assert (c.top, c.bottom) == ((min(inside), max(inside) + 1) if inside else (0, 0))


ALEX_SPATIAL = ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]


def geometry_clone(name):
    """The preset with one channel everywhere and no fc: the same windows, cheap to run."""
    net = build_network(name, init=False)
    spec = net.to_spec()
    layers = []
    for entry in spec["layers"]:
        if entry["kind"] == "fc":
            break
        if entry["kind"] == "conv":
            entry.update(in_channels=1, out_channels=1, groups=1)
        if entry["kind"] == "bn":
            entry["size"] = 1
        layers.append(entry)
    return positive(Network.from_spec({"input_shape": [1, 227, 227], "layers": layers}, xp=np))


def rows_reaching(net, size, axis):
    """reach[layer][r] = the output indices along ``axis`` that move when input row (or column)
    r goes from 0 to 1: the separable form of one-pixel perturbation, one line at a time."""
    reach = {}
    for r in range(size):
        x = np.zeros((1, 1, size, size), np.float32)
        if axis == 0:
            x[0, 0, r, :] = 1.0
        else:
            x[0, 0, :, r] = 1.0
        for layer, y in net.forward(x).items():
            moved = (y[0, 0] > 0).any(axis=1 - axis)
            reach.setdefault(layer, []).append(moved)
    return {layer: np.array(rows) for layer, rows in reach.items()}   # (input r, output i)


@pytest.mark.parametrize("name", ["alexbn", "alex"])
def test_every_alexnet_layer_field_equals_brute_force_and_recurrence(name):
    net = build_network(name, init=False)
    clone = geometry_clone(name)
    reach = [rows_reaching(clone, 227, axis) for axis in (0, 1)]
    geometry, rows = [], {r.name: r for r in net.summary()}
    for layer in net.layers:
        window = layer.window()
        if window is not None:
            geometry.append((window.kernel, window.stride, window.pad, window.dilation))
        if layer.name not in rows or rows[layer.name].rf is None:
            continue
        out_h = rows[layer.name].output_shape[1]
        for i, j in {(0, 0), (out_h - 1, out_h - 1), (out_h // 2, 0), (1, out_h - 2)}:
            field = net.receptive_field(layer.name, i, j)
            assert (field.top, field.left, field.bottom, field.right) == recurrence(geometry, i, j)
            assert field.height == rows[layer.name].rf and field.jump[0] == rows[layer.name].jump
            hit_r = np.flatnonzero(reach[0][layer.name][:, i])
            hit_c = np.flatnonzero(reach[1][layer.name][:, j])
            c = field.clipped
            assert (c.top, c.bottom, c.left, c.right) == (
                hit_r[0], hit_r[-1] + 1, hit_c[0], hit_c[-1] + 1), (layer.name, i, j)
    pool5 = net.receptive_field("pool5", 3, 3)
    assert (pool5.height, pool5.width, pool5.jump) == (195, 195, (32, 32))


def test_pool5_field_at_227_reaches_into_the_padding_at_the_corner():
    field = build_network("alexbn", init=False).receptive_field("pool5", 0, 0)
    # padding below pool5: conv2's 2 at jump 8, conv3..5's 1 at jump 16: 16 + 3*16 = 64 rows
    assert (field.top, field.left, field.bottom, field.right) == (-64, -64, 131, 131)
    assert field.clipped == explain.Box(0, 0, 131, 131)


def test_network_field_through_a_graph_is_the_union_of_its_paths():
    spec = {"input_shape": [1, 20, 20], "layers": [
        {"name": "narrow", "kind": "conv", "out_channels": 1, "ksize": 3, "pad": 1},
        {"name": "wide", "kind": "conv", "out_channels": 1, "ksize": 7, "pad": 3, "inputs": "input"},
        {"name": "sum", "kind": "add", "inputs": ["narrow", "wide"]},
        {"name": "shifted", "kind": "conv", "out_channels": 1, "ksize": [1, 5], "inputs": "input",
         "pad": [[0, 0], [0, 4]]},
        {"name": "cat", "kind": "concat", "inputs": ["narrow", "shifted"]}]}
    net = positive(Network.from_spec(spec, xp=np))
    wide = net.receptive_field("sum", 10, 10)
    assert (wide.top, wide.left, wide.bottom, wide.right) == (7, 7, 14, 14)
    both = net.receptive_field("cat", 10, 10)
    assert (both.top, both.left, both.bottom, both.right) == (9, 9, 12, 15)
    boxes = brute_force_boxes(net, (1, 20, 20), "cat")
    for (i, j), box in boxes.items():
        c = net.receptive_field("cat", i, j).clipped
        assert (c.top, c.left, c.bottom, c.right) == box


def test_network_field_refuses_non_spatial_layers_and_positions():
    net = build_network("alexbn", init=False)
    with pytest.raises(ValueError, match="fc6"):
        net.receptive_field("fc6", 0, 0)
    with pytest.raises(ValueError, match="i=6"):
        net.receptive_field("pool5", 6, 0)
    with pytest.raises(ValueError, match="nope"):
        net.receptive_field("nope", 0, 0)


def test_a_path_that_reaches_only_padding_adds_nothing_to_the_clipped_box():
    spec = {"input_shape": [1, 4, 4], "layers": [
        {"name": "a", "kind": "conv", "out_channels": 1, "ksize": [1, 3], "pad": [[3, 3], [0, 2]]},
        {"name": "b", "kind": "conv", "out_channels": 1, "ksize": [7, 1], "pad": [[6, 6], [0, 0]],
         "inputs": "input"},
        {"name": "sum", "kind": "add", "inputs": ["a", "b"]}]}
    net = positive(Network.from_spec(spec, xp=np))
    field = net.receptive_field("sum", 0, 0)      # a: row -3 only (padding); b: rows -6..0
    assert field.clipped == explain.Box(0, 0, 1, 1)
    assert (field.top, field.left, field.bottom, field.right) == (-6, 0, 1, 3)
    for (i, j), box in brute_force_boxes(net, (1, 4, 4), "sum").items():
        c = net.receptive_field("sum", i, j).clipped
        assert ((c.top, c.left, c.bottom, c.right) if not c.empty else None) == box, (i, j)
