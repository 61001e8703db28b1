"""A command the window records makes, on the command line, the picture the window exported:
the explorer with kernels learned from photos (and its transposed, grouped mode); the Network
pane with each option that changes its pixels."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
from PIL import Image

from convlab.cli import main
from convlab.engine.explorer import ExplorerSettings
from tests.ui.helpers import RESULT_MS

LEARN_MS = max(RESULT_MS, 240_000)  # FastICA on the samples and the photo: seconds, minutes on a busy machine


def test_the_window_s_learned_bank_export_reproduces_from_its_recorded_command(qtbot, window,
                                                                               tmp_path):
    s = ExplorerSettings(kernel=5, stride=2, filters=6, pool=1, bank="learned", seed=2,
                         transposed=True, groups=3)
    with qtbot.waitSignal(window.explorer.resultReady, timeout=LEARN_MS,
                          check_params_cb=lambda rid: rid == window.explorer.worker.latest_id):
        window.explorer.set_settings(s)
    qtbot.waitUntil(window.explorer.settled, timeout=LEARN_MS)
    assert window.explorer.output.result.settings == s
    shown = window.explorer.output.stage
    path = tmp_path / "window.png"
    with qtbot.waitSignal(window.exporter.exported, timeout=LEARN_MS):
        window.exporter.export_grid(str(path))
    with Image.open(path) as im:
        command = json.loads(im.text["convlab:settings"])["command"]
        from_window = np.asarray(im.convert("RGB"))
    for flag in ("--bank learned", "--seed 2", "--transposed", "--groups 3"):
        assert flag in command
    words = shlex.split(command)
    out = tmp_path / "cli"
    assert main(["export", *[str(out) if w == "DIR" else w for w in words[2:]], "-q"]) == 0
    with Image.open(out / f"{shown}_grid.png") as im:
        from_cli = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(from_cli, from_window)


NET_MS = max(RESULT_MS, 240_000)
SMALL_SPEC = {"name": "small", "input_shape": [3, 64, 64], "layers": [
    {"name": "c1", "kind": "conv", "out_channels": 6, "ksize": 4, "stride": 2},
    {"name": "r1", "kind": "relu"},
    {"name": "p1", "kind": "pool", "ksize": 2}]}


def _network_grid_and_command(qtbot, window, tmp_path, layer="c1", **settings):
    """Run the Network pane with ``settings``, export ``layer``'s grid: (pixels, record)."""
    pane = window.network
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        window.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.apply(**settings)
    qtbot.waitUntil(pane.settled, timeout=NET_MS)
    pane.select_layer(layer)
    qtbot.waitUntil(lambda: pane.export_source().layer == layer and pane.settled(), timeout=NET_MS)
    path = tmp_path / "window.png"
    with qtbot.waitSignal(window.exporter.exported, timeout=NET_MS):
        window.exporter.export_grid(str(path))
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")), json.loads(im.text["convlab:settings"])


def _cli_grid(record, tmp_path, spec_file=None, layer="c1"):
    words = shlex.split(record["command"])
    fill = {"DIR": str(tmp_path / "cli"), "SPEC.json": str(spec_file)}
    assert main(["export", *[fill.get(w, w) for w in words[2:]], "--layers", layer, "-q"]) == 0
    with Image.open(tmp_path / "cli" / f"{layer}_grid.png") as im:
        return np.asarray(im.convert("RGB"))


def test_an_edited_network_with_conv1_learned_reproduces_from_its_record(qtbot, window, tmp_path):
    from convlab.pipelines.network import spec_text

    grid, record = _network_grid_and_command(qtbot, window, tmp_path, net="custom",
                                             spec=spec_text(SMALL_SPEC), learned_conv1=True,
                                             insize=64)
    assert "--spec SPEC.json" in record["command"] and "--conv1 learned" in record["command"]
    spec_file = tmp_path / "SPEC.json"
    spec_file.write_text(json.dumps(record["spec"]))  # the record holds the edited spec
    np.testing.assert_array_equal(_cli_grid(record, tmp_path, spec_file), grid)


def test_an_onnx_model_opened_in_the_window_reproduces_from_its_record(qtbot, window, tmp_path):
    import pytest

    pytest.importorskip("onnx")
    from tests.ui.panes.test_network_model import tiny_residual_model

    model = tiny_residual_model(tmp_path / "tiny.onnx")
    grid, record = _network_grid_and_command(
        qtbot, window, tmp_path, "residual", net="onnx", model=str(model), preprocess="unit",
        bn_mode="stored", weights=None)
    assert f"--model {model}" in record["command"] and "--preprocess unit" in record["command"]
    np.testing.assert_array_equal(_cli_grid(record, tmp_path, layer="residual"), grid)


NETWORK_CASES = {  # one option that changes the pixels of a network export per case
    "colormap": {"colormap": "magma"}, "shared-scale": {"scaling": "shared scale"},
    "scale-3": {"scale": 3}, "seed": {"seed": 5}, "hand-made-conv1": {"handmade_conv1": True},
    "learned-conv1-seed": {"learned_conv1": True, "seed": 3},
}


@pytest.mark.parametrize("case", list(NETWORK_CASES))
def test_each_network_option_that_changes_pixels_reproduces_from_its_record(qtbot, window,
                                                                           tmp_path, case):
    from convlab.pipelines.network import spec_text
    from convlab.ui.widgets.feature_view import COLORMAPS

    options = dict(NETWORK_CASES[case])
    view = window.network.view
    if "colormap" in options:
        cmap = options.pop("colormap")
        view.colormap_box.setCurrentText(next(k for k, v in COLORMAPS.items() if v == cmap))
    if "scaling" in options:
        view.scaling_box.setCurrentText(options.pop("scaling"))
    window.exporter.set_scale(options.pop("scale", 1))
    grid, record = _network_grid_and_command(qtbot, window, tmp_path, net="custom",
                                             spec=spec_text(SMALL_SPEC), insize=64, **options)
    spec_file = tmp_path / "SPEC.json"
    spec_file.write_text(json.dumps(record["spec"]))
    from_cli = _cli_grid(record, tmp_path, spec_file)
    assert from_cli.shape == grid.shape, record["command"]
    np.testing.assert_array_equal(from_cli, grid, err_msg=f"{case}: {record['command']}")
