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


def _rerun(command: str, image: str, out) -> None:
    """Run a recorded ``convlab export IMAGE --out DIR ...`` command with ``out`` as DIR."""
    from convlab.cli import main

    words = shlex.split(command)
    assert words[:2] == ["convlab", "export"], command
    words = [str(out) if w == "DIR" else w for w in words[2:]]
    assert main(["export", *words, "--quiet"]) == 0


def _pngs(folder) -> dict:
    """Every PNG under ``folder``: relative name -> (pixels as bytes, shape)."""
    found = {}
    for path in sorted(folder.rglob("*.png")):
        with Image.open(path) as im:
            found[str(path.relative_to(folder))] = (np.asarray(im).tobytes(), im.size)
    return found


EXPLORER_CASES = {  # one option that changes pixels per case (window control -> value)
    "colormap": ("colormap", "magma"), "shared-scale": ("scaling", "shared scale"),
    "kernel-5": ("kernel", 5), "no-bn": ("batchNorm", False), "no-cover-all": ("coverAll", False),
    "grayscale": ("inputMode", 1), "bank": ("kernelBank", "gabor"), "seed": ("seed", 7),
    "longest-256": ("longestSide", 256), "pool-off": ("pool", 1), "scale-2": ("exportScale", 2),
}


def _set(window, qtbot, control: str, value) -> None:
    from convlab.ui.widgets.feature_view import COLORMAPS

    explorer = window.explorer
    view = explorer.view
    if control == "colormap":
        view.colormap_box.setCurrentText(next(k for k, v in COLORMAPS.items() if v == value))
        return
    if control == "scaling":
        view.scaling_box.setCurrentText(value)
        return
    if control == "exportScale":  # File > Export > Enlarge pixels
        window.exporter.set_scale(value)
        return
    c = explorer.controls
    widget = c.sliders.get(control) or {"batchNorm": c.batch_norm, "coverAll": c.cover_all,
                                        "inputMode": c.input_mode, "kernelBank": c.bank,
                                        "seed": c.seed, "longestSide": c.longest}[control]
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        if hasattr(widget, "setChecked"):
            widget.setChecked(value)
        elif control == "inputMode":
            widget.setCurrentIndex(value)
        elif control == "kernelBank":
            widget.setCurrentIndex(widget.findData(value))
        else:
            widget.setValue(value)


@pytest.mark.parametrize("case", list(EXPLORER_CASES))
def test_the_recorded_command_gives_the_same_pngs(qtbot, window, tmp_path, case):
    control, value = EXPLORER_CASES[case]
    _set(window, qtbot, control, value)
    qtbot.waitUntil(window.explorer.settled, timeout=RESULT_MS)
    qtbot.wait(100)
    shown = tmp_path / "window"
    window.exporter.export_all(str(shown))
    qtbot.waitUntil(lambda: _message(window).startswith(("Exported", "Export failed")),
                    timeout=max(RESULT_MS, 60_000))
    assert _message(window).startswith("Exported"), _message(window)
    manifest = json.loads((shown / "manifest.json").read_text())
    again = tmp_path / "again"
    _rerun(manifest["settings"]["command"], manifest["settings"]["image"]["path"], again)
    window_pngs, cli_pngs = _pngs(shown), _pngs(again)
    assert window_pngs and list(window_pngs) == list(cli_pngs)
    for name, (pixels, size) in window_pngs.items():
        assert cli_pngs[name] == (pixels, size), f"{case}: {name} differs"


def test_reset_to_defaults_restores_every_explorer_control(qtbot, window):
    from PySide6.QtWidgets import QPushButton

    from convlab.engine.explorer import ExplorerSettings

    explorer, view, c = window.explorer, window.explorer.view, window.explorer.controls
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        c.longest.setValue(256)
    view.colormap_box.setCurrentText("magma")
    view.scaling_box.setCurrentText("shared scale")
    c.sliders["kernel"].setValue(5)
    window.findChild(QPushButton, "resetDefaults").click()
    qtbot.waitUntil(lambda: explorer.loaded.image.shape[:2] != (0, 0)
                    and max(explorer.loaded.image.shape[:2]) == 512, timeout=RESULT_MS)
    assert c.longest.value() == 512 and explorer.settings() == ExplorerSettings()
    assert view.look() == ("viridis", "map")


def test_window_png_export_refuses_special_files_and_creates_a_new_folder(qtbot, window, tmp_path):
    import os

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for target, words in ((fifo, "is a named pipe"), ("/dev/null", "is a character device"),
                          (tmp_path, "is a folder")):
        window.exporter.export_map(str(target))
        qtbot.waitUntil(lambda: _message(window).startswith("Export failed"), timeout=RESULT_MS)
        assert words in _message(window)
        window.message_area.clear()
    assert sorted(os.listdir(tmp_path)) == ["pipe.png"]
    new = tmp_path / "new" / "folder" / "grid.png"
    window.exporter.export_grid(str(new))
    qtbot.waitUntil(lambda: _message(window).startswith(("Saved", "Export failed")),
                    timeout=RESULT_MS)
    assert new.is_file(), _message(window)
