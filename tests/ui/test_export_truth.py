"""Export tells the truth: nothing is exported while the screen says "No output", and every
recorded command, run again on the command line, gives the very pixels the window exported."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QLabel

from tests.ui.helpers import RESULT_MS


def _message(win) -> str:
    return win.findChild(QLabel, "messageArea").text()


def test_export_while_the_screen_says_no_output_refuses(qtbot, window, tmp_path):
    c = window.explorer.controls
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        c.longest.setValue(32)  # the photo at 32 px: a 15-wide kernel dilated 4 spans 57
    c.sliders["kernel"].setValue(15)
    c.sliders["dilation"].setValue(4)
    qtbot.waitUntil(lambda: bool(window.explorer.no_output), timeout=RESULT_MS)
    assert window.explorer.output is not None  # the previous maps are still held ...
    for export in (window.exporter.export_map, window.exporter.export_grid):
        target = tmp_path / "map.png"
        export(str(target))
        qtbot.wait(200)
        assert not target.exists()  # ... but never exported under these settings
        assert _message(window).startswith("Nothing to export: these settings give no output")
    window.exporter.export_all(str(tmp_path / "all"))
    qtbot.wait(300)
    assert not (tmp_path / "all").exists()
