"""A command the window records makes, on the command line, the picture the window exported:
the explorer with kernels learned from photos (and its transposed, grouped mode)."""

from __future__ import annotations

import json
import shlex

import numpy as np
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
