"""The real window, offscreen: controls, readout, results, drag and drop, messages."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from convlab.engine.explorer import LIMITS, ExplorerSettings
from tests.ui.helpers import RESULT_MS, change_and_wait

NAMES = {"kernelSize": "kernel", "stride": "stride", "padding": "padding", "dilation": "dilation",
         "filters": "filters", "poolSize": "pool", "poolStride": "pool_stride"}


def readout(win) -> str:
    return win.findChild(QWidget, "shapeReadout").text()


def message(win) -> str:
    return win.findChild(QLabel, "messageArea").text()


def drop(win, path, target=None):
    """Drag a file URL over ``target`` (default the window) and drop it, as Qt delivers it."""
    target = target or win
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(target.width() / 2, target.height() / 2)
    actions, button, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    # QDragEnterEvent takes a QPoint (PySide6 6.11) or a QPointF (6.12); QDropEvent a QPointF
    try:
        enter = QDragEnterEvent(pos, actions, mime, button, mods)
    except TypeError:
        enter = QDragEnterEvent(pos.toPoint(), actions, mime, button, mods)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(target, QDropEvent(pos, actions, mime, button, mods))


def test_every_named_control_exists_with_its_range(window):
    for name, key in NAMES.items():
        spin = window.findChild(QWidget, name)
        assert spin is not None, name
        assert window.explorer.isAncestorOf(spin)
        lo, hi = LIMITS[key]
        assert spin.minimum() == lo
        if key != "pool_stride":  # the pooling stride stops at the window (3 by default)
            assert spin.maximum() == hi
        assert spin.value() == getattr(ExplorerSettings(), key)
    assert window.findChild(QWidget, "shapeReadout") is not None
    assert window.findChild(QLabel, "messageArea") is not None
    for name in ("batchNorm", "relu", "coverAll", "paddingSame", "inputMode", "kernelBank",
                 "longestSide", "seed"):
        assert window.findChild(QWidget, name) is not None, name


def test_opens_on_the_sample_at_the_defaults(window):
    h, w = window.loaded.image.shape[:2]
    assert max(h, w) == 512
    text = readout(window)
    assert f"3 × {h} × {w}" in text
    out = window.explorer.output
    assert out.result.settings == ExplorerSettings()
    assert out.stage == "pool"
    assert out.result.maps["pool"].shape[0] == 96
    assert out.montage.count == 96


def test_moving_sliders_updates_the_readout_and_the_maps(qtbot, window):
    h, w = window.loaded.image.shape[:2]
    change_and_wait(qtbot, window, "stride", 1)
    ch, cw = h - 10, w - 10
    assert f"96 × {ch} × {cw}" in readout(window)
    change_and_wait(qtbot, window, "kernelSize", 5)
    ch, cw = h - 4, w - 4
    assert f"96 × {ch} × {cw}" in readout(window)
    change_and_wait(qtbot, window, "padding", 2)
    assert f"96 × {h} × {w}" in readout(window)  # padding k//2 keeps the size at stride 1
    spin = change_and_wait(qtbot, window, "filters", 8)
    assert spin.value() == 8
    ph, pw = (h - 3 + 1) // 2 + 1, (w - 3 + 1) // 2 + 1  # cover_all rounds up
    assert f"8 × {ph} × {pw}" in readout(window)
    assert window.explorer.output.result.maps["pool"].shape == (8, ph, pw)
    slider = window.explorer.controls.sliders["stride"]
    slider.setValue(2)  # the labelled slider is the named control
    assert window.findChild(QWidget, "stride").value() == 2


def test_same_padding_follows_the_kernel(qtbot, window):
    window.explorer.controls.same.setChecked(True)
    change_and_wait(qtbot, window, "kernelSize", 7)
    assert window.findChild(QWidget, "padding").value() == 3
    assert window.explorer.settings().padding == 3


def test_pool_stride_never_exceeds_the_window(qtbot, window):
    change_and_wait(qtbot, window, "poolSize", 2)
    stride = window.findChild(QWidget, "poolStride")
    assert stride.value() == 2 and stride.maximum() == 2
    change_and_wait(qtbot, window, "poolSize", 1)
    assert "no pooling" in readout(window)  # the row says pooling is off, with no formula
    assert "⌈" not in readout(window).split("Max pooling")[1]
    assert not stride.isEnabled()


def test_ten_quick_requests_give_one_result_the_last(qtbot, window):
    got = []
    window.explorer.resultReady.connect(got.append)
    spin = window.findChild(QWidget, "kernelSize")
    for k in range(2, 12):
        spin.setValue(k)
    last = window.explorer.worker.latest_id
    qtbot.waitUntil(lambda: bool(got), timeout=RESULT_MS)
    qtbot.waitUntil(window.explorer.settled, timeout=RESULT_MS)
    qtbot.wait(100)
    assert got == [last]
    assert window.explorer.output.result.settings.kernel == 11


def test_a_setting_without_output_is_explained_not_crashed(qtbot, window, photo):
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.open_image(photo(40, 30))
    spin = window.findChild(QWidget, "kernelSize")
    spin.setValue(15)
    window.findChild(QWidget, "dilation").setValue(4)
    assert "no output" in readout(window)
    assert "no output" in window.explorer.view.info.text().lower()
    qtbot.waitUntil(window.explorer.settled, timeout=RESULT_MS)
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.findChild(QWidget, "dilation").setValue(1)


def test_a_dropped_bad_file_keeps_the_state_and_says_why(qtbot, window, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    before = window.explorer.output
    text_before = readout(window)
    drop(window, bad)
    qtbot.waitUntil(lambda: "notes.png" in message(window), timeout=RESULT_MS)
    assert "\n" not in message(window)
    assert window.explorer.output is before
    assert readout(window) == text_before
    assert not QApplication.activeModalWidget()


def test_a_dropped_good_file_loads_even_onto_a_text_box(qtbot, window, photo):
    path = photo(300, 200)
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        drop(window, path)
    assert "3 × 200 × 300" in readout(window)
    assert window.explorer.output.result.maps["conv"].shape == (96, 48, 73)
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        drop(window, photo(120, 90, "second.png"), target=window.explorer.chainer.viewport())
    assert "3 × 90 × 120" in readout(window)
    assert window.recent[0].endswith("second.png")


def test_a_large_photo_is_scaled_and_the_readout_says_so(qtbot, window, photo):
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.open_image(photo(1024, 700))
    assert "3 × 350 × 512" in readout(window)
    assert "scaled" in readout(window)
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.explorer.controls.longest.setValue(256)
    assert "3 × 175 × 256" in readout(window)


def test_hover_reports_the_value_click_pins_it_and_open_map_opens_it(qtbot, window):
    view = window.explorer.view
    m = view.montage
    lay = m.layout
    x, y = lay.tile_w + lay.gap + 2, 3  # map 1, row 3, column 2
    view.canvas.hovered.emit(float(x), float(y))
    assert "map 1 " in view.info.text() and "row 3, column 2" in view.info.text()
    view.canvas.clicked.emit(float(x), float(y))  # in the explorer a click pins the value
    side = window.explorer.explain
    assert side.pinned == ("pool", 1, 3, 2)
    qtbot.waitUntil(lambda: side.panel.explanation is not None
                    and side.panel.explanation.channel == 1, timeout=RESULT_MS)
    side.panel.open_button.click()  # "Open map" opens the pinned map large
    dialog = view.dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    assert dialog.index == 1
    assert dialog.stats["zeros"].text().endswith("%")
    assert dialog.kernel_caption.text().startswith("3 × 11 × 11")
    dialog.close()


def test_stage_buttons_switch_the_maps_without_recomputing(qtbot, window):
    result = window.explorer.output.result
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.explorer.stage_group.button(0).click()
    assert window.explorer.output.stage == "conv"
    assert window.explorer.output.result is result


def test_kernel_bank_note_and_code(qtbot, window):
    controls = window.explorer.controls
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        controls.bank.setCurrentIndex(controls.bank.findData("edges"))
    assert "random" in controls.kernel_note.text()
    assert "L.Convolution2D(3, 96, 11, stride=4)" in window.explorer.chainer.toPlainText()
    assert "nn.MaxPool2d(3, stride=2, ceil_mode=True)" in window.explorer.pytorch.toPlainText()


def test_reset_to_defaults(qtbot, window):
    change_and_wait(qtbot, window, "kernelSize", 3)
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.explorer.reset()
    assert window.explorer.settings() == ExplorerSettings()


def test_paste_an_image_from_the_clipboard(qtbot, window):
    from PySide6.QtGui import QColor, QImage

    img = QImage(64, 48, QImage.Format.Format_RGB32)
    img.fill(QColor(200, 30, 30))
    QApplication.clipboard().setImage(img)
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.paste_image()
    assert "3 × 48 × 64" in readout(window)
    assert np.allclose(window.loaded.image[0, 0], [200 / 255, 30 / 255, 30 / 255], atol=1e-3)


def test_samples_menu_steps_through_the_samples(qtbot, window):
    from convlab.pipelines import sources

    if len(sources.list_samples()) < 2:
        pytest.skip("needs two sample photos")
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
        window.next_sample()
    assert window.loaded.name == sources.list_samples()[1].name


def test_export_writes_the_maps(qtbot, window, tmp_path):
    window.export_current(str(tmp_path / "maps"))
    qtbot.waitUntil(lambda: message(window).startswith("Exported"), timeout=RESULT_MS)
    assert (tmp_path / "maps" / "manifest.json").exists()


def test_the_second_tab_is_the_network_pane_and_panes_can_be_added(window):
    assert window.tabs.tabText(0) == "Explorer" and window.tabs.tabText(1) == "Network"
    assert window.tabs.tabText(2) == "Train"
    pane = QLabel("another pane")
    index = window.add_pane(pane, "Another")
    assert window.pane(index) is pane and window.tabs.count() == 4
    assert window.pane(0) is window.explorer


def test_settings_are_remembered(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from convlab.ui.main_window import MainWindow

    store = QSettings(str(tmp_path / "convlab.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=store)
    qtbot.addWidget(first)
    first.explorer.set_settings(ExplorerSettings(kernel=5, stride=2, filters=16))
    first.close()
    second = MainWindow(settings=QSettings(str(tmp_path / "convlab.ini"),
                                           QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.explorer.settings() == ExplorerSettings(kernel=5, stride=2, filters=16)
    with qtbot.waitSignal(second.explorer.resultReady, timeout=RESULT_MS):
        second.show()
    second.close()


def test_a_damaged_settings_file_falls_back_to_defaults_and_keeps_controls_live(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from convlab.ui.main_window import MainWindow

    store = QSettings(str(tmp_path / "convlab.ini"), QSettings.Format.IniFormat)
    store.setValue("explorer/longest", "abc")
    store.setValue("explorer/settings", "{not json")
    store.sync()
    win = MainWindow(settings=store)
    qtbot.addWidget(win)
    longest = win.explorer.controls.longest
    assert not longest.signalsBlocked()
    assert win.explorer.settings() == ExplorerSettings()
    win.close()


def test_heavy_work_shows_a_preview_first_then_the_full_result(qtbot, window):
    explorer = window.explorer
    explorer.cost.rate = 1e3  # pretend this machine is very slow: every run counts as heavy
    previews, fulls = [], []
    explorer.previewReady.connect(previews.append)
    explorer.resultReady.connect(fulls.append)
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        window.findChild(QWidget, "filters").setValue(12)
    assert len(previews) == 1 and fulls == [previews[0]]
    assert explorer.view.badge.text() == ""  # the preview badge is gone with the full result
    assert explorer.output.result.maps["pool"].shape[0] == 12


def test_a_drag_ends_on_the_full_result_of_where_the_slider_stopped(qtbot, window):
    explorer = window.explorer
    slider = explorer.controls.sliders["kernel"]
    slider.setSliderDown(True)
    for k in (10, 9, 8, 7, 6, 5):
        slider.setValue(k)
        qtbot.wait(5)
    slider.setSliderDown(False)
    qtbot.waitUntil(explorer.settled, timeout=RESULT_MS)
    assert explorer.output.result.settings == explorer.settings()
    assert explorer.output.result.settings.kernel == 5


def test_the_status_bar_names_backend_time_and_size(window):
    assert "NumPy" in window.backend_label.text() or "CuPy" in window.backend_label.text()
    assert "compute" in window.compute_label.text() and "ms" in window.compute_label.text()
    h, w = window.loaded.image.shape[:2]
    assert f"{w} × {h}" in window.size_label.text()


def test_keyboard_shortcuts_for_the_main_actions(window):
    from PySide6.QtGui import QAction, QKeySequence

    actions = {a.objectName(): a.shortcut() for a in window.findChildren(QAction) if a.objectName()}
    assert actions["actionOpen"] == QKeySequence(QKeySequence.StandardKey.Open)
    assert actions["actionQuit"] == QKeySequence(QKeySequence.StandardKey.Quit)
    assert not actions["actionExport"].isEmpty()
    assert not actions["actionNextSample"].isEmpty() and not actions["actionPreviousSample"].isEmpty()
    assert not actions["actionReset"].isEmpty()


def test_recent_files_and_last_folder_are_remembered(qtbot, tmp_path, photo):
    from PySide6.QtCore import QSettings

    from convlab.ui.main_window import MainWindow

    ini = str(tmp_path / "convlab.ini")
    first = MainWindow(settings=QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    path = photo(64, 48)
    with qtbot.waitSignal(first.explorer.resultReady, timeout=RESULT_MS):
        first.open_image(path)
    first.close()
    second = MainWindow(settings=QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.recent[0] == str(path)
    assert second.last_folder == str(tmp_path)
    second.close()
