"""What the README says is remembered survives a restart: the photo, the tab in front, the
Network settings, the last export folder and the export scale."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from tests.ui.helpers import RESULT_MS


def test_photo_tab_network_settings_and_export_folder_survive_a_restart(qtbot, tmp_path, photo):
    from convlab.ui.main_window import MainWindow

    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    path = str(photo(200, 150))
    first = MainWindow(path, settings=store)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitUntil(first.explorer.settled, timeout=RESULT_MS)
    first.show_pane(first.network)
    first.network.apply(seed=7, insize=224, bn_mode="stored")
    first.last_export_folder = str(tmp_path)
    first.exporter.set_scale(4)  # File > Export > Enlarge pixels
    first.close()

    second = MainWindow(settings=store)
    qtbot.addWidget(second)
    second.show()
    assert second.loaded.path == path  # the photo, not the bundled sample
    assert second.current_pane() is second.network
    s = second.network.requested
    assert (s.seed, s.insize, s.bn_mode) == (7, 224, "stored")
    assert second.network.seed.value() == 7 and second.network.insize.value() == 224
    assert second.last_export_folder == str(tmp_path)
    assert second.exporter.scale == 4
    assert second.findChild(type(second.menuBar().actions()[0]), "exportScale4").isChecked()
    second.close()


def test_after_a_tab_switch_the_status_bar_shows_that_panes_timing(qtbot, window):
    explorer_line = window.compute_label.text()
    assert explorer_line
    window.show_pane(window.network)
    qtbot.waitUntil(window.network.settled, timeout=max(RESULT_MS, 60_000))
    network_line = window.compute_label.text()
    assert network_line and network_line != explorer_line
    window.show_pane(window.explorer)
    assert window.compute_label.text() == explorer_line
    window.explorer.statusChanged.emit("explorer only")
    window.show_pane(window.network)
    assert window.compute_label.text() == network_line


def test_a_photo_from_the_samples_menu_survives_a_restart(qtbot, tmp_path):
    """Issue 24: the Samples menu's photo was forgotten (the astronaut came back)."""
    from PySide6.QtGui import QAction

    from convlab.pipelines import sources
    from convlab.ui.main_window import MainWindow

    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=store)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitUntil(first.explorer.settled, timeout=RESULT_MS)
    chosen = sources.list_samples()[2].name
    assert chosen != first.loaded.name
    action = next(a for a in first.findChildren(QAction) if a.text() == chosen)
    with qtbot.waitSignal(first.imageLoaded, timeout=RESULT_MS):
        action.trigger()
    assert first.loaded.name == chosen
    first.close()

    second = MainWindow(settings=store)
    qtbot.addWidget(second)
    second.show()
    assert second.loaded.name == chosen and second.loaded.sample
    assert second.sample_index == 2
    assert second.recent == []  # a bundled photo is not a recent file
    second.close()


def test_restarting_on_an_onnx_model_says_it_is_loading(qtbot, tmp_path):
    """Issue 24: a placeholder table and no word for 30-50 s while a large model loaded."""
    import pytest

    pytest.importorskip("onnx")
    from convlab.ui.main_window import MainWindow
    from tests.ui.panes.test_network_model import tiny_residual_model

    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=store)
    qtbot.addWidget(first)
    first.show()
    first.show_pane(first.network)
    with qtbot.waitSignal(first.network.resultReady, timeout=max(RESULT_MS, 60_000)):
        first.network.open_model(tiny_residual_model(tmp_path / "tiny.onnx"))
    first.close()

    second = MainWindow(settings=store)  # nothing has run yet: the note is there at once
    qtbot.addWidget(second)
    net = second.network
    assert second.current_pane() is net
    assert "Loading" in net.bn_label.text() and "Loading" in net.view.overlay.text()
    assert net.model.rowCount() <= 1  # not AlexBN's rows as a placeholder
    with qtbot.waitSignal(net.resultReady, timeout=max(RESULT_MS, 60_000)):
        second.show()
    assert "Loading" not in net.bn_label.text() and net.model.rowCount() > 1
    second.close()
