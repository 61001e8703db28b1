"""Network specs: the presets as specs, round trips, graphs, new kinds and refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convlab.engine import layers as L
from convlab.engine import ops
from convlab.engine.nets import presets as specs
from convlab.engine.nets import Network, build_network

from . import reference as ref
from .helpers import all_params

SETTINGS = settings(max_examples=40, deadline=None)


def summary_tuples(net, shape=None):
    return [(r.name, r.kind, r.output_shape, r.params, r.macs, r.rf, r.jump, r.error)
            for r in net.summary(shape)]


@pytest.mark.parametrize("name", ["alexbn", "alex", "alex2g", "lenet", "cifar-small"])
def test_presets_round_trip_through_json(name):
    net = build_network(name, init=False)
    spec = net.to_spec()
    assert json.loads(json.dumps(spec)) == spec
    again = Network.from_spec(json.loads(json.dumps(spec)), init=False)
    assert again.to_spec() == spec
    assert summary_tuples(again) == summary_tuples(net)
    assert summary_tuples(again, (3, 180, 180)) == summary_tuples(net, (3, 180, 180))


@pytest.mark.parametrize("name", ["alexbn", "alex"])
def test_preset_spec_gives_build_network_weights_and_outputs(name):
    built = build_network(name, seed=4, xp=np)
    from_spec = Network.from_spec(specs.preset(name), seed=4, xp=np)
    mine, theirs = all_params(built), all_params(from_spec)
    assert sorted(mine) == sorted(theirs)
    for key in mine:
        assert np.array_equal(mine[key], theirs[key]), key
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 227, 227)).astype(np.float32)
    np.testing.assert_array_equal(built.forward(x)["fc8"], from_spec.forward(x)["fc8"])


def test_spec_weights_are_used_and_checked():
    spec = [{"name": "c", "kind": "conv", "out_channels": 2, "ksize": 3},
            {"name": "f", "kind": "fc", "out_size": 3}]
    W = np.arange(2 * 3 * 9, dtype=np.float64).reshape(2, 3, 3, 3)
    net = Network.from_spec({"layers": spec, "input_shape": [3, 5, 5]}, weights={"c/W": W}, xp=np)
    assert net["c"].params["W"].dtype == np.float32
    np.testing.assert_array_equal(net["c"].params["W"], W.astype(np.float32))
    assert net["f"].params["W"].shape == (3, 2 * 3 * 3)            # in_size inferred: 2x3x3
    with pytest.raises(ValueError, match=r"Layer 1 \('c'\).*c/W.*\(2, 3, 3, 3\)"):
        Network.from_spec({"layers": spec, "input_shape": [3, 5, 5]}, weights={"c/W": W[:1]})
    with pytest.raises(ValueError, match="'zz'"):
        Network.from_spec({"layers": spec, "input_shape": [3, 5, 5]}, weights={"zz/W": W})


def test_alex2g_halves_conv2_conv4_conv5():
    two, one = build_network("alex2g", init=False), build_network("alex", init=False)
    rows2, rows1 = {r.name: r for r in two.summary()}, {r.name: r for r in one.summary()}
    assert [r.name for r in two.summary()] == [r.name for r in one.summary()]
    for name in rows1:
        assert rows2[name].output_shape == rows1[name].output_shape, name
    for name, c_in, c_out, k in [("conv2", 96, 256, 5), ("conv4", 384, 384, 3), ("conv5", 384, 256, 3)]:
        assert two[name].params["W"].shape == (c_out, c_in // 2, k, k)
        assert rows2[name].params == c_out * c_in // 2 * k * k + c_out
        assert rows2[name].macs == rows1[name].macs // 2
    for name in ["conv1", "conv3", "fc6"]:
        assert rows2[name].params == rows1[name].params


def test_alex2g_forward_is_grouped_convolution():
    net = build_network("alex2g", seed=0, xp=np)
    x = np.random.default_rng(1).uniform(0, 1, (1, 3, 227, 227)).astype(np.float32)
    out = net.forward(x)
    W, b = net["conv2"].params["W"], net["conv2"].params["b"]
    halves = [ops.conv2d(out["pool1"][:, g * 48:(g + 1) * 48], W[g * 128:(g + 1) * 128],
                         b[g * 128:(g + 1) * 128], pad=2) for g in range(2)]
    np.testing.assert_allclose(out["conv2"], np.concatenate(halves, axis=1), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------ random stacks
@st.composite
def stacks(draw):
    """A random valid chain: conv / deconv / pool / bn / relu / lrn / dropout, then flatten + fc."""
    layers, size, channels = [], draw(st.integers(6, 16)), 6
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "bn", "relu", "lrn", "deconv"]))
        entry = {"name": f"l{i}", "kind": kind}
        if kind in ("conv", "deconv"):
            groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
            entry.update(out_channels=groups * draw(st.integers(1, 3)), ksize=draw(st.integers(1, 3)),
                         stride=draw(st.integers(1, 2)), groups=groups,
                         nobias=draw(st.booleans()))
            if kind == "conv":
                entry["pad"] = draw(st.sampled_from([0, 1, [1, 0], [[0, 1], [1, 0]]]))
            channels = entry["out_channels"]
        elif kind == "pool":
            entry.update(mode=draw(st.sampled_from(["max", "avg"])), ksize=draw(st.integers(1, 3)))
        layers.append(entry)
    if draw(st.booleans()):
        layers += [{"name": "flat", "kind": "flatten"}, {"name": "out", "kind": "fc", "out_size": 2}]
    return {"name": "random", "input_shape": [6, size, size], "layers": layers}


@SETTINGS
@given(spec=stacks(), seed=st.integers(0, 2**16))
def test_random_stacks_round_trip(spec, seed):
    try:
        net = Network.from_spec(spec, seed=seed, xp=np)
    except ValueError as exc:      # in_size inferred past a layer the input is too small for
        assert str(exc).startswith("Layer ") and "infer" in str(exc)
        assume(False)
    again = Network.from_spec(json.loads(json.dumps(net.to_spec())), seed=seed, xp=np)
    assert again.to_spec() == net.to_spec()
    assert summary_tuples(again) == summary_tuples(net)
    mine, theirs = all_params(net), all_params(again)
    assert all(np.array_equal(mine[k], theirs[k]) for k in mine) and sorted(mine) == sorted(theirs)


# ---------------------------------------------------------------------------------- refusals
CONV = {"name": "c1", "kind": "conv", "out_channels": 4, "ksize": 3}


@pytest.mark.parametrize("layers,pattern", [
    ([CONV, {"name": "x", "kind": "conv3d"}], r"Layer 2 \('x'\): unknown kind 'conv3d'"),
    ([{"name": "c1", "kind": "conv", "out_channels": 4}], r"Layer 1 \('c1'\): missing argument 'ksize'"),
    ([dict(CONV, ksize="3")], r"Layer 1 \('c1'\): ksize must be an int"),
    ([dict(CONV, stride=1.5)], r"Layer 1 \('c1'\): stride must be an int"),
    ([dict(CONV, stride=0)], r"Layer 1 \('c1'\): stride must be at least 1"),
    ([dict(CONV, nobias="no")], r"Layer 1 \('c1'\): nobias must be true or false"),
    ([dict(CONV, strides=2)], r"Layer 1 \('c1'\): unknown argument 'strides'"),
    ([dict(CONV, groups=3)], r"Layer 1 \('c1'\): groups=3 must divide"),
    ([CONV, dict(CONV, name="c2", inputs=["c9"])], r"Layer 2 \('c2'\): input 'c9' is not a layer"),
    ([dict(CONV, inputs=["c2"]), dict(CONV, name="c2")], r"Layer 1 \('c1'\): input 'c2' is a later"),
    ([CONV, CONV], r"Layer 2 \('c1'\): .*duplicate name"),
    ([CONV, {"name": "s", "kind": "add"}], r"Layer 2 \('s'\): kind 'add' takes at least 2 input"),
    ([CONV, {"kind": "relu"}], r"Layer 2: the layer's name must be a non-empty string"),
    ([CONV, "relu"], r"Layer 2: a layer is a dict"),
    ([{"name": "input", "kind": "relu"}], r"Layer 1 \('input'\)"),
    ([{"name": "p", "kind": "pool", "ksize": 2, "mode": "min"}], r"Layer 1 \('p'\): mode must be one of"),
    ([{"name": "f", "kind": "fc", "out_size": 2, "inputs": 7}], r"Layer 1 \('f'\): inputs must be"),
])
def test_bad_specs_are_refused_naming_the_layer(layers, pattern):
    with pytest.raises(ValueError, match=pattern) as info:
        Network.from_spec({"name": "bad", "input_shape": [3, 8, 8], "layers": layers})
    assert str(info.value).endswith(".") and "\n" not in str(info.value)


@pytest.mark.parametrize("spec", [7, {"layers": 3}, {"layers": [], "input_shape": [3, 0, 4]},
                                  {"layers": [], "colour": 1}])
def test_bad_top_level_spec_refused(spec):
    with pytest.raises(ValueError):
        Network.from_spec(spec)


def test_bare_list_is_custom_at_227():
    net = Network.from_spec([{"name": "r", "kind": "relu"}])
    assert (net.name, net.input_shape) == ("custom", (3, 227, 227))
    assert net.to_spec() == {"name": "custom", "input_shape": [3, 227, 227],
                             "layers": [{"name": "r", "kind": "relu"}]}


def test_a_layer_that_cannot_take_its_input_is_a_summary_row_not_a_refusal():
    spec = specs.preset("alexbn")
    spec["layers"][0]["stride"] = 2                   # conv1 at stride 2: fc6 gets 256x13x13
    net = Network.from_spec(spec, init=False)
    rows = {r.name: r for r in net.summary()}
    assert rows["pool5"].output_shape == (256, 13, 13) and not rows["pool5"].error
    assert "9,216" in rows["fc6"].error and "Square inputs" in rows["fc6"].error
    assert rows["fc7"].output_shape is None and not rows["fc7"].error


# ------------------------------------------------------------------------------- registry
class Scale(L.Layer):
    kind = "scale_test"
    spec_args = {"factor": ("float", 2.0)}

    def __init__(self, name, factor=2.0, *, inputs=None):
        super().__init__(name, inputs=inputs)
        self.factor = factor

    def __call__(self, x, *, use_batch_stats=False):
        return x * np.float32(self.factor)


def test_registered_kind_builds_runs_and_round_trips():
    L.register_kind("scale_test", Scale)
    try:
        spec = {"name": "s", "input_shape": [1, 4, 4],
                "layers": [{"name": "twice", "kind": "scale_test", "factor": 3}]}
        net = Network.from_spec(spec, xp=np)
        x = np.ones((1, 1, 4, 4), np.float32)
        np.testing.assert_array_equal(net.forward(x)["twice"], 3 * x)
        assert net.to_spec()["layers"] == [{"name": "twice", "kind": "scale_test", "factor": 3.0}]
        with pytest.raises(ValueError, match=r"Layer 1 \('twice'\): factor must be a number"):
            Network.from_spec([{"name": "twice", "kind": "scale_test", "factor": "x"}])
    finally:
        L.KINDS.pop("scale_test")
    with pytest.raises(ValueError):
        L.register_kind("", Scale)
    with pytest.raises(ValueError):
        L.register_kind("thing", dict)


@pytest.mark.parametrize("k", range(1, 16))
def test_asymmetric_same_padding_keeps_the_size_in_a_spec(k):
    """PyTorch's padding="same" at stride 1: (k - 1) // 2 on top/left, the rest bottom/right."""
    before, after = (k - 1) // 2, k // 2
    spec = {"input_shape": [2, 17, 12], "layers": [
        {"name": "c", "kind": "conv", "out_channels": 3, "ksize": k,
         "pad": [[before, after], [before, after]]},
        {"name": "p", "kind": "pool", "mode": "avg", "ksize": k, "stride": 1,
         "pad": [[before, after], [before, after]]}]}
    net = Network.from_spec(spec, seed=k, xp=np)
    assert [r.output_shape for r in net.summary()] == [(3, 17, 12), (3, 17, 12)]
    assert Network.from_spec(net.to_spec(), init=False).to_spec() == net.to_spec()
    x = np.random.default_rng(k).standard_normal((1, 2, 17, 12)).astype(np.float32)
    out = net.forward(x)
    padded = np.pad(x, ((0, 0), (0, 0), (before, after), (before, after)))
    expected = ref.conv2d(padded, net["c"].params["W"], net["c"].params["b"])
    np.testing.assert_allclose(out["c"], expected, rtol=1e-4, atol=1e-4)


def test_channels_are_inferred_even_where_the_input_is_too_small():
    """An editor's network with in_channels left to inference still builds when an early layer
    cannot take the input: the summary, not the spec, reports it."""
    spec = {"input_shape": [3, 8, 8], "layers": [
        {"name": "big", "kind": "conv", "out_channels": 5, "ksize": 11},
        {"name": "bn", "kind": "bn"},
        {"name": "next", "kind": "conv", "out_channels": 2, "ksize": 1}]}
    net = Network.from_spec(spec, init=False)
    assert net["bn"].size == 5 and net["next"].c_in == 5
    rows = net.summary()
    assert "kernel 11" in rows[0].error and rows[1].output_shape is None
    assert [r.output_shape for r in net.summary((3, 11, 11))] == [(5, 1, 1), (5, 1, 1), (2, 1, 1)]
    with pytest.raises(ValueError, match=r"Layer 2 \('f'\): cannot infer in_size"):
        Network.from_spec({"input_shape": [3, 8, 8], "layers": [
            spec["layers"][0], {"name": "f", "kind": "fc", "out_size": 2}]})


def test_spec_networks_save_and_load_chainer_npz(tmp_path):
    spec = {"name": "mixed", "input_shape": [3, 9, 9], "layers": [
        {"name": "c", "kind": "conv", "out_channels": 4, "ksize": 3, "groups": 1, "nobias": True},
        {"name": "n", "kind": "bn"},
        {"name": "up", "kind": "deconv", "out_channels": 2, "ksize": 2, "stride": 2, "groups": 2},
        {"name": "flat", "kind": "flatten"},
        {"name": "f", "kind": "fc", "out_size": 3}]}
    source, target = Network.from_spec(spec, seed=1, xp=np), Network.from_spec(spec, seed=2, xp=np)
    source.save_npz(tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz") as archive:
        assert sorted(archive.files) == sorted(
            ["c/W", "n/gamma", "n/beta", "n/avg_mean", "n/avg_var", "n/N", "up/W", "up/b",
             "f/W", "f/b"])
        assert archive["up/W"].shape == (4, 1, 2, 2)          # (in, out/groups, kh, kw)
        weights = {k: archive[k] for k in archive.files if not k.endswith("/N")}
    target.load_npz(tmp_path / "w.npz")
    rebuilt = Network.from_spec(spec, weights=weights, xp=np)
    x = np.random.default_rng(0).standard_normal((1, 3, 9, 9)).astype(np.float32)
    expected = source.forward(x)["f"]
    np.testing.assert_array_equal(target.forward(x)["f"], expected)
    np.testing.assert_array_equal(rebuilt.forward(x)["f"], expected)
