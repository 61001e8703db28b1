"""The command line and the window compute the same maps for the same settings.

``convlab export`` and the window share the explorer run, the network runner and the option
validator; here the same photo and settings go through both, and the raw float32 values
(``--npy``) must equal the window's, bit for bit.
"""

from __future__ import annotations

import json

import numpy as np

from convlab.cli import main
from convlab.engine.explorer import ExplorerSettings
from convlab.pipelines.samples import default_sample
from tests.ui.helpers import RESULT_MS

NET_MS = max(RESULT_MS, 60_000)


def export_npy(tmp_path, *flags) -> tuple[dict, dict]:
    out = tmp_path / "cli"
    assert main(["export", str(default_sample()), "--out", str(out), "--npy", "--no-maps",
                 "--no-grid", "--quiet", *flags]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    arrays = {layer["name"]: np.load(out / layer["npy"]) for layer in manifest["layers"]}
    return arrays, manifest["settings"]


def test_explorer_maps_from_the_cli_equal_the_window(qtbot, window, tmp_path):
    settings = ExplorerSettings(kernel=5, stride=2, padding=2, filters=8, pool=2, pool_stride=2,
                                bank="gabor", seed=3)
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.explorer.set_settings(settings)
    qtbot.waitUntil(window.explorer.settled, timeout=RESULT_MS)
    shown = window.explorer.output.result
    assert shown.settings == settings
    arrays, record = export_npy(tmp_path, "--kernel", "5", "--stride", "2", "--padding", "2",
                                "--filters", "8", "--pool", "2", "--pool-stride", "2",
                                "--bank", "gabor", "--seed", "3")
    assert list(arrays) == list(shown.maps) == ["conv", "bn", "relu", "pool"]
    for name, values in arrays.items():
        assert np.array_equal(values, shown.maps[name]), name
    assert record["explorer"] == settings.as_dict()


def test_average_pooling_from_the_cli_equals_the_window(qtbot, window, tmp_path):
    settings = ExplorerSettings(kernel=3, stride=2, filters=6, pool=3, pool_stride=2,
                                pool_mode="avg")
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.explorer.set_settings(settings)
    qtbot.waitUntil(window.explorer.settled, timeout=RESULT_MS)
    shown = window.explorer.output.result
    assert shown.settings == settings
    arrays, record = export_npy(tmp_path, "--kernel", "3", "--stride", "2", "--filters", "6",
                                "--pool", "3", "--pool-stride", "2", "--pool-mode", "avg")
    assert list(arrays) == list(shown.maps)
    for name, values in arrays.items():
        assert np.array_equal(values, shown.maps[name]), name
    assert record["explorer"] == settings.as_dict() and "--pool-mode avg" in record["command"]


def test_network_maps_from_the_cli_equal_the_network_pane(qtbot, window, tmp_path):
    pane = window.network
    window.show_pane(pane)
    qtbot.waitUntil(pane.settled, timeout=NET_MS)
    arrays, record = export_npy(tmp_path, "--net", "alexbn", "--layers", "conv1,bn1,pool5,fc8")
    for name, values in arrays.items():
        assert np.array_equal(values, pane.result.outputs[name]), name
    window_record = pane.export_source().record()
    for key in ("net", "seed", "bn_mode", "weights", "preprocess"):
        assert record[key] == window_record[key], key
