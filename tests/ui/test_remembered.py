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
