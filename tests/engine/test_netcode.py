"""The network as code: the generated PyTorch module, with ConvLab's weights, gives ConvLab's output."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.nets import presets as specs
from convlab.engine.nets import Network
from convlab.engine.nets.code import chainer_chain, identifiers, pytorch_module, torch_state_dict


def _run_generated(net, x):
    torch = pytest.importorskip("torch")
    namespace: dict = {}
    exec(compile(pytorch_module(net), "<generated>", "exec"), namespace)
    module = namespace["Net"]().eval()
    state = {k: torch.from_numpy(v.copy()) for k, v in torch_state_dict(net).items()}
    missing, unexpected = module.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def _random_bn_stats(net, rng):
    for layer in net.layers:
        if layer.kind == "bn":
            for key in ("gamma", "beta", "avg_mean"):
                layer.params[key] = rng.normal(0, 0.5, layer.size).astype(np.float32)
            layer.params["avg_var"] = rng.uniform(0.5, 2, layer.size).astype(np.float32)


@pytest.mark.parametrize("preset", ["alexbn", "alex", "alex2g"])
def test_pytorch_module_equals_convlab_on_the_presets(preset):
    rng = np.random.default_rng(0)
    spec = specs.preset(preset)
    spec["input_shape"] = [3, 99, 99]             # small and fast; fc6 sized to fit below
    spec["layers"] = [l for l in spec["layers"] if not l["name"].startswith(("fc", "relu6", "relu7", "drop"))]
    spec["layers"] += [{"name": "flat", "kind": "flatten"}, {"name": "fc6", "kind": "fc", "out_size": 10}]
    net = Network.from_spec(spec, seed=1)
    _random_bn_stats(net, rng)
    x = rng.standard_normal((2, 3, 99, 99)).astype(np.float32)
    want = np.asarray(net.forward(x)["fc6"])
    got = _run_generated(net, x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_pytorch_module_handles_graphs_deconv_avg_pool_and_asymmetric_padding():
    spec = {"name": "mixed", "input_shape": [3, 20, 21], "layers": [
        {"name": "c1", "kind": "conv", "out_channels": 6, "ksize": 4, "pad": [[1, 2], [1, 2]]},
        {"name": "p1", "kind": "pool", "ksize": 2, "stride": 1, "pad": [[0, 1], [0, 1]]},
        {"name": "c2", "kind": "conv", "out_channels": 6, "ksize": 3, "pad": 1, "groups": 3,
         "dilation": 1, "inputs": ["c1"]},
        {"name": "sum", "kind": "add", "inputs": ["p1", "c2"]},
        {"name": "up", "kind": "deconv", "out_channels": 4, "ksize": 3, "stride": 2, "pad": 1,
         "outsize": [40, 42]},
        {"name": "bn", "kind": "bn"},
        {"name": "avg", "kind": "pool", "mode": "avg", "ksize": 3, "stride": 2, "pad": 1},
        {"name": "cat", "kind": "concat", "inputs": ["avg", "avg"]},
        {"name": "lrn", "kind": "lrn"},
        {"name": "fc", "kind": "fc", "out_size": 7},
    ]}
    rng = np.random.default_rng(2)
    net = Network.from_spec(spec, seed=3)
    _random_bn_stats(net, rng)
    for layer in net.layers:
        if "b" in layer.params:
            layer.params["b"] = rng.normal(size=layer.params["b"].shape).astype(np.float32)
    x = rng.standard_normal((1, 3, 20, 21)).astype(np.float32)
    want = np.asarray(net.forward(x)["fc"])
    np.testing.assert_allclose(_run_generated(net, x), want, rtol=1e-4, atol=1e-5)


def test_chainer_code_names_every_link_and_says_how_to_pad_asymmetrically():
    spec = {"layers": [{"name": "conv1", "kind": "conv", "out_channels": 8, "ksize": 4,
                        "pad": [[1, 2], [1, 2]]}, {"name": "relu1", "kind": "relu"},
                       {"name": "pool1", "kind": "pool", "ksize": 3, "stride": 2, "cover_all": False}]}
    code = chainer_chain(Network.from_spec(spec, init=False))
    assert "self.conv1 = L.Convolution2D(3, 8, 4)" in code
    assert "h = F.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2)), 'constant')" in code
    assert "F.max_pooling_2d(h, 3, stride=2, cover_all=False)" in code
    compile(code, "<chainer>", "exec")


def test_identifiers_are_valid_and_unique():
    ids = identifiers(["conv1", "1/a", "1_a", "class", "h"])
    assert all(v.isidentifier() for v in ids.values()) and len(set(ids.values())) == 5
    assert ids["conv1"] == "conv1"
