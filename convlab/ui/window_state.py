"""The main window's menus and remembered state (QSettings), kept out of its class.

Remembered: window geometry, explorer settings, longest side, colour map and scale, recent
files and the last folder. Nothing is restored unless the window was given a QSettings.
"""

from __future__ import annotations

import json
import os
from functools import partial

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence

from convlab.engine.explorer import ExplorerSettings
from convlab.pipelines import sources
from convlab.ui.widgets.feature_view import COLORMAPS

MAX_RECENT = 8
def local_files(mime) -> list[str]:
    """Local file paths carried by a drag or the clipboard (empty when there are none)."""
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


def _action(window, menu, text, slot, shortcut=None, name=None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if name:
        action.setObjectName(name)
    action.triggered.connect(lambda checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(window) -> None:
    bar = window.menuBar()
    file = bar.addMenu("&File")
    _action(window, file, "&Open image…", window.open_dialog, QKeySequence.StandardKey.Open,
            "actionOpen")
    window.recent_menu = file.addMenu("Open &recent")
    window.recent_menu.aboutToShow.connect(lambda: _fill_recent(window))
    _action(window, file, "&Paste image", window.paste_image, QKeySequence.StandardKey.Paste,
            "actionPaste")
    file.addSeparator()
    window.exporter.build_menu(file.addMenu("&Export"))
    file.addSeparator()
    _action(window, file, "&Quit", window.close, QKeySequence.StandardKey.Quit, "actionQuit")
    samples = bar.addMenu("&Samples")
    for i, item in enumerate(sources.list_samples()):
        _action(window, samples, item.name, partial(window.open_sample, i))
    samples.addSeparator()
    _action(window, samples, "&Next sample", window.next_sample, "Alt+Right", "actionNextSample")
    _action(window, samples, "&Previous sample", partial(window.next_sample, -1), "Alt+Left",
            "actionPreviousSample")
    view = bar.addMenu("&View")
    _action(window, view, "&Reset to defaults", window.explorer.reset, "Ctrl+Shift+R",
            "actionReset")
    _action(window, view, "&Fit the maps", window.explorer.view.canvas.fit, "Ctrl+0")
    _action(window, view, "E&xplorer", lambda: window.tabs.setCurrentIndex(0), "Ctrl+1")
    _action(window, view, "&Network", lambda: window.tabs.setCurrentIndex(1), "Ctrl+2")


def _fill_recent(window) -> None:
    menu = window.recent_menu
    menu.clear()
    for path in window.recent:
        _action(window, menu, path, partial(window.open_image, path))
    if not window.recent:
        menu.addAction("(none yet)").setEnabled(False)


def remember_file(window, path: str) -> None:
    path = os.path.abspath(path)
    window.recent = [path] + [p for p in window.recent if p != path][:MAX_RECENT - 1]
    window.last_folder = os.path.dirname(path)


# -- QSettings ----------------------------------------------------------------------------------
def _load_json(store: QSettings, key: str, default):
    try:
        return json.loads(str(store.value(key, "")))
    except (TypeError, ValueError):
        return default


def restore(window, store: QSettings) -> None:
    """Apply remembered state; anything unreadable or out of range is ignored."""
    geometry = store.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    values = _load_json(store, "explorer/settings", None)
    if isinstance(values, dict):
        try:
            window.explorer.set_settings(ExplorerSettings(**values).validate())
        except (TypeError, ValueError):
            pass
    longest = window.explorer.controls.longest
    try:
        value = int(store.value("explorer/longest", longest.value()))
    except (TypeError, ValueError):  # a hand-edited or damaged settings file
        value = longest.value()
    was = longest.blockSignals(True)
    longest.setValue(value)
    longest.blockSignals(was)
    view = window.explorer.view
    cmap = str(store.value("view/colormap", "viridis"))
    if cmap in COLORMAPS:
        view.set_colormap(cmap)
    view.normalise_box.setCurrentText(str(store.value("view/normalise", "scale per map")))
    recent = _load_json(store, "files/recent", [])
    window.recent = [p for p in recent if isinstance(p, str)][:MAX_RECENT]
    folder = str(store.value("files/lastFolder", ""))
    if folder and os.path.isdir(folder):
        window.last_folder = folder


def save(window, store: QSettings) -> None:
    store.setValue("window/geometry", window.saveGeometry())
    store.setValue("explorer/settings", json.dumps(window.explorer.settings().as_dict()))
    store.setValue("explorer/longest", window.explorer.controls.longest.value())
    store.setValue("view/colormap", window.explorer.view.colormap_box.currentText())
    store.setValue("view/normalise", window.explorer.view.normalise_box.currentText())
    store.setValue("files/recent", json.dumps(window.recent))
    store.setValue("files/lastFolder", window.last_folder)
    store.sync()
