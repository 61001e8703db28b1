"""Export from the window: one map, a layer grid, a layer's maps, every layer; progress, failure."""

from __future__ import annotations

import json
import time

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QLabel

from tests.ui.helpers import RESULT_MS

EXPORT_MS = max(RESULT_MS, 60_000)


def message(win) -> str:
    return win.findChild(QLabel, "messageArea").text()


def wait_message(qtbot, win, prefix):
    qtbot.waitUntil(lambda: message(win).startswith(prefix), timeout=EXPORT_MS)
    return message(win)


def test_export_menu_lists_the_four_exports_with_shortcuts_and_the_scale(window):
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    export = next(a.menu() for a in file_menu.actions() if a.text() == "&Export")
    texts = {a.text(): a.shortcut().toString() for a in export.actions()}
    assert texts == {"Current map as PNG…": "Ctrl+E", "Layer grid as PNG…": "Ctrl+Shift+E",
                     "Every map of the layer into a folder…": "",
                     "Every layer into a folder…": "Ctrl+Alt+E", "Enlarge &pixels": ""}


def test_current_map_is_the_clicked_one_with_settings_in_its_text_chunks(qtbot, window, tmp_path):
    view = window.explorer.view
    view.mapClicked.emit(7)
    path = tmp_path / "one.png"
    window.exporter.export_map(str(path))
    wait_message(qtbot, window, "Saved map 7")
    out = window.explorer.output
    with Image.open(path) as im:
        assert im.size == out.result.maps[out.stage].shape[1:][::-1]
        settings = json.loads(im.text["convlab:settings"])
        chunk = json.loads(im.text["convlab:file"])
    assert chunk["index"] == 7 and chunk["layer"] == out.stage
    assert settings["explorer"]["kernel"] == 11 and settings["explorer"]["filters"] == 96
    assert settings["image"]["sha256"]


def test_layer_grid_is_one_png_holding_every_map(qtbot, window, tmp_path):
    path = tmp_path / "grid.png"
    window.exporter.export_grid(str(path))
    wait_message(qtbot, window, "Saved the grid")
    maps = window.explorer.output.result.maps[window.explorer.output.stage]  # (96, 63, 63)
    f, h, w = maps.shape
    cols = int(np.ceil(np.sqrt(f)))
    rows = -(-f // cols)
    with Image.open(path) as im:
        assert im.size == (cols * w + cols - 1, rows * h + rows - 1)


def test_every_map_of_the_layer_goes_into_a_folder_with_a_manifest(qtbot, window, tmp_path):
    window.exporter.export_layer(str(tmp_path / "layer"))
    wait_message(qtbot, window, "Exported")
    manifest = json.loads((tmp_path / "layer" / "manifest.json").read_text())
    assert [layer["name"] for layer in manifest["layers"]] == [window.explorer.output.stage]
    maps = [f for f in manifest["files"] if f["kind"] == "map"]
    assert len(maps) == 96 and all((tmp_path / "layer" / f["path"]).exists() for f in maps)


def test_every_network_layer_exports_from_the_network_tab(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.network.resultReady, timeout=EXPORT_MS):
        window.tabs.setCurrentIndex(1)
    window.exporter.export_all(str(tmp_path / "net"))
    wait_message(qtbot, window, "Exported")
    manifest = json.loads((tmp_path / "net" / "manifest.json").read_text())
    names = [layer["name"] for layer in manifest["layers"]]
    assert names[0] == "conv1" and names[-1] == "fc8" and len(names) == 22
    assert manifest["settings"]["net"] == "alexbn"


def test_a_failed_export_says_why_and_leaves_nothing(qtbot, window, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    window.exporter.export_all(str(blocker / "maps"))
    text = wait_message(qtbot, window, "Export failed")
    assert len(text.splitlines()) == 1
    assert blocker.read_text() == "a file where a folder should be"
    assert window.explorer.output is not None  # the results stay


def test_cancel_stops_a_folder_export_and_keeps_what_was_there(qtbot, window, tmp_path, monkeypatch):
    from convlab.export import maps as export

    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    real = export.export_maps

    def slow(*args, progress=None, cancel=None, **kwargs):
        def paced(done, total):  # runs in the export worker: slow it so Cancel lands mid-way
            time.sleep(0.01)
            return progress(done, total)
        return real(*args, progress=paced, cancel=cancel, **kwargs)

    monkeypatch.setattr(export, "export_maps", slow)
    window.exporter.export_layer(str(target))
    qtbot.waitUntil(lambda: window.exporter.bar.value() > 3, timeout=EXPORT_MS)
    window.exporter.export_grid(str(tmp_path / "grid.png"))  # one export at a time
    assert message(window).startswith("An export is still running")
    window.exporter.cancel()
    wait_message(qtbot, window, "Export cancelled")
    assert not window.exporter.worker.busy() and not window.exporter.bar.isVisible()
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    assert not (tmp_path / "grid.png").exists()


def test_nothing_to_export_before_results_says_so(qtbot, tmp_path):
    from convlab.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.explorer.output = None
    win.exporter.export_grid(str(tmp_path / "x.png"))
    assert message(win).startswith("Nothing to export yet")
    win.close()


def test_exports_enlarge_by_the_chosen_scale_as_convlab_export_does(qtbot, window, tmp_path):
    """Issue 10: a 63x63 map is too small for a slide; the window offers convlab export's --scale."""
    scales = {a.text(): a for a in window.findChildren(type(window.menuBar().actions()[0]))
              if a.objectName().startswith("exportScale")}
    assert set(scales) >= {"1 (native)", "2", "4", "8"}
    scales["4"].trigger()
    maps = window.explorer.output.result.maps[window.explorer.output.stage]  # (96, 63, 63)
    f, h, w = maps.shape
    window.exporter.export_map(str(tmp_path / "one.png"))
    wait_message(qtbot, window, "Saved map")
    with Image.open(tmp_path / "one.png") as im:
        assert im.size == (4 * w, 4 * h)
        record = json.loads(im.text["convlab:settings"])
    assert record["render"]["scale"] == 4 and " --scale 4" in record["command"]
    window.exporter.export_grid(str(tmp_path / "grid.png"))
    wait_message(qtbot, window, "Saved the grid")
    cols = int(np.ceil(np.sqrt(f)))
    with Image.open(tmp_path / "grid.png") as im:  # tile_rgb's grid at scale 4, as the CLI's
        assert im.size[0] == cols * 4 * w + cols - 1
    folder = tmp_path / "not" / "there" / "yet"  # created, as convlab export creates it
    window.exporter.export_layer(str(folder))
    wait_message(qtbot, window, "Exported")
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = next(e for e in manifest["files"] if e["kind"] == "map")
    assert entry["scale"] == 4 and entry["image_size"] == [4 * w, 4 * h]
    assert " --scale 4" in manifest["settings"]["command"]
