"""Every cache of the services is bounded, and a replaced result or network is released."""

from __future__ import annotations

import gc
import json
import weakref

import numpy as np

from convlab.engine.explorer import ExplorerSettings, explorer_bank, plan_explorer
from convlab.engine.explorer.run import _cached_bank
from convlab.engine.nets import Network
from convlab.pipelines import explorer as explorer_jobs
from convlab.pipelines.network import NetworkRunner, NetworkSettings, spec_text

SMALL = {"name": "small", "input_shape": [3, 32, 32], "layers": [
    {"name": "conv1", "kind": "conv", "out_channels": 4, "ksize": 3},
    {"name": "relu1", "kind": "relu"},
    {"name": "fc1", "kind": "fc", "out_size": 5}]}


def _small(**changes) -> NetworkSettings:
    return NetworkSettings(net="custom", spec=spec_text(SMALL), insize=32, **changes)


def test_the_explorer_bank_cache_holds_at_most_8_banks():
    for seed in range(12):
        explorer_bank(ExplorerSettings(filters=4, kernel=3, seed=seed))
    assert _cached_bank.cache_info().currsize <= 8


def test_all_stages_are_kept_only_while_they_fit_the_budget():
    s = ExplorerSettings(kernel=1, stride=1, filters=256, pool=1)
    heavy = plan_explorer(s, 512, 512)  # conv, bn, relu: 3 x 256 MB
    assert explorer_jobs.stages_to_keep(heavy, None) == ("relu",)
    assert explorer_jobs.stages_to_keep(heavy, "conv") == ("conv",)
    light = plan_explorer(ExplorerSettings(), 227, 227)
    total = sum(4 * int(np.prod(st.shape)) for st in light if st.shape and st.name != "input")
    assert total <= explorer_jobs.KEEP_ALL_BYTES
    assert explorer_jobs.stages_to_keep(light, "conv") is None
    assert explorer_jobs.stages_to_keep(light, "conv", budget=total - 1) == ("conv",)


def test_the_runner_holds_one_network_and_drops_the_old_one():
    runner = NetworkRunner()
    image = np.random.default_rng(0).random((40, 40, 3), dtype=np.float32)
    first = runner.run(image, _small(seed=1))
    old_net = weakref.ref(runner.network(_small(seed=1)))
    old_w = weakref.ref(runner.network(_small(seed=1))["fc1"].params["W"])
    runner.run(image, _small(seed=2))
    gc.collect()
    assert old_net() is None and old_w() is None, "the seed-1 network is still held"
    assert len(runner._nets) == 1
    del first


def test_a_kept_result_holds_the_geometry_not_the_weights():
    runner = NetworkRunner()
    image = np.random.default_rng(0).random((40, 40, 3), dtype=np.float32)
    result = runner.run(image, _small())
    for layer in result.net.layers:
        for value in layer.params.values():
            assert value.strides == (0,) * value.ndim  # a zero-stride placeholder
    net = runner.network(_small())
    assert result.net.summary((3, 32, 32))[-1].output_shape == net.summary((3, 32, 32))[-1].output_shape
    assert result.net.receptive_field("relu1", 0, 0, (3, 32, 32)) == \
        net.receptive_field("relu1", 0, 0, (3, 32, 32))


def test_a_loaded_weights_file_is_dropped_once_random_weights_are_built(tmp_path):
    path = tmp_path / "small.npz"
    Network.from_spec(json.loads(spec_text(SMALL)), seed=9).save_npz(path)
    runner = NetworkRunner()
    image = np.random.default_rng(0).random((40, 40, 3), dtype=np.float32)
    runner.run(image, _small(weights=str(path), bn_mode="stored"))
    held = weakref.ref(runner._loaded[str(path)][2]["fc1"]["W"])
    runner.run(image, _small())  # "Random weights"
    gc.collect()
    assert held() is None and not runner._loaded


def test_a_relu_output_is_made_again_from_its_input_with_the_run_bits():
    """A result holds a ReLU as its input's name (AlexBN at 500: 37 -> 24 MB a result); asked
    for, the output is the ReLU layer's own, bit for bit (the run's arrays compared)."""
    spec = {"name": "small", "input_shape": [3, 32, 32], "layers": [
        {"name": "conv1", "kind": "conv", "out_channels": 4, "ksize": 3},
        {"name": "relu1", "kind": "relu"},
        {"name": "pool1", "kind": "pool", "ksize": 2},
        {"name": "fc1", "kind": "fc", "out_size": 5},
        {"name": "relu2", "kind": "relu"}]}
    settings = NetworkSettings(net="custom", spec=spec_text(spec), insize=32)
    image = np.random.default_rng(1).random((40, 40, 3), dtype=np.float32)
    runner = NetworkRunner()
    result = runner.run(image, settings)
    seen = runner.network(settings).forward(result.prep["input"])  # the ReLU layer's outputs
    assert type(result.outputs._items["relu1"]).__name__ == "ReluOf"
    assert list(result.outputs) == [row.name for row in result.rows if row.name in result.outputs]
    np.testing.assert_array_equal(result.outputs["relu1"], seen["relu1"][0])
    assert result.outputs["relu1"] is result.outputs["relu1"]  # the last one made is kept
    held = result.outputs.nbytes
    assert held == sum(result.outputs[n].nbytes for n in result.outputs) - seen["relu1"][0].nbytes \
        - result.outputs["relu2"].nbytes
    assert dict(result.outputs).keys() == set(result.outputs)  # export copies it as a dict


def test_shape_of_a_relu_needs_no_relu_made():
    from convlab.pipelines.layer_outputs import LayerOutputs

    outputs = LayerOutputs()
    outputs["conv1"] = np.ones((4, 5, 6), np.float32)
    assert outputs.keep_relu("relu1", "conv1") and not outputs.keep_relu("relu2", "nowhere")
    assert outputs.shape_of("relu1") == (4, 5, 6) and outputs._last is None


def test_a_long_chain_of_relus_is_read_without_recursion():
    """Issue 20 ("Also"): 1,000+ ReLUs in a row ended in "maximum recursion depth exceeded"
    when a result's ReLU output was asked for; every ReLU now reads the chain's first source."""
    from convlab.pipelines.layer_outputs import LayerOutputs

    outputs = LayerOutputs()
    x = np.linspace(-1, 1, 60, dtype=np.float32).reshape(3, 4, 5)
    outputs["conv1"] = x
    previous = "conv1"
    for i in range(5000):
        assert outputs.keep_relu(f"r{i}", previous)
        previous = f"r{i}"
    assert outputs.shape_of("r4999") == (3, 4, 5)
    np.testing.assert_array_equal(outputs["r4999"], np.maximum(x, 0))
    assert outputs.nbytes == x.nbytes


def test_export_of_a_spec_with_three_thousand_relus_in_a_row(tmp_path, capsys):
    import json

    from PIL import Image

    from convlab.cli import main

    spec = {"input_shape": [3, 8, 8], "layers": [{"name": "c", "kind": "conv", "out_channels": 2,
                                                   "ksize": 1}]
            + [{"name": f"r{i}", "kind": "relu"} for i in range(3000)]}
    (tmp_path / "deep.json").write_text(json.dumps(spec))
    Image.new("RGB", (12, 12), (200, 30, 90)).save(tmp_path / "p.png")
    code = main(["export", str(tmp_path / "p.png"), "--out", str(tmp_path / "out"), "--spec",
                 str(tmp_path / "deep.json"), "--layers", "r2999"])
    assert code == 0, capsys.readouterr().err
    assert any("r2999" in p.name for p in (tmp_path / "out").rglob("*.png"))
