"""PNGs saved from the window carry the Title and Description text chunks that a folder export
writes (issue 24), pressed through the File > Export menu's real actions."""

from __future__ import annotations

from PIL import Image
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from tests.ui.test_export_window import wait_message


def save_through(qtbot, window, monkeypatch, action_name, path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), "PNG (*.png)"))
    window.findChild(QAction, action_name).trigger()
    wait_message(qtbot, window, "Saved")
    with Image.open(path) as im:
        return dict(im.text)


def test_a_saved_map_has_title_and_description(qtbot, window, monkeypatch, tmp_path):
    window.explorer.view.mapClicked.emit(5)
    text = save_through(qtbot, window, monkeypatch, "actionExport", tmp_path / "one.png")
    stage = window.explorer.output.stage
    assert text["Title"] == f"{stage} map 5"
    assert text["Description"].startswith(f"Feature map 5 of layer {stage} (")
    assert "viridis colormap from" in text["Description"]
    assert text["Software"].startswith("ConvLab")


def test_a_saved_grid_has_title_and_description(qtbot, window, monkeypatch, tmp_path):
    text = save_through(qtbot, window, monkeypatch, "actionExportGrid", tmp_path / "grid.png")
    stage = window.explorer.output.stage
    assert text["Title"] == f"{stage} grid"
    assert text["Description"] == f"All 96 maps of layer {stage}, viridis colormap."
