"""The main window's menus, clipboard and drops, and remembered state (QSettings).

Remembered: window geometry, every pane's :meth:`~convlab.ui.panes.base.Pane.state` (for the
explorer: settings, longest side, colour map and scaling) under ``<pane objectName>/<key>``
as JSON, recent files and the last folder. Nothing is restored unless the window was given
a QSettings.
"""

from __future__ import annotations

import json
import os
from functools import partial

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence

import numpy as np

from convlab.pipelines import sources

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
    view.addActions(window.explorer.history.actions())  # the explorer's settings, undoable
    _action(window, view, "&Reset to defaults", window.explorer.reset, "Ctrl+Shift+R",
            "actionReset")
    _action(window, view, "&Fit the maps", lambda: fit_maps(window), "Ctrl+0")
    _action(window, view, "E&xplorer", lambda: window.tabs.setCurrentIndex(0), "Ctrl+1")
    _action(window, view, "&Network", lambda: window.tabs.setCurrentIndex(1), "Ctrl+2")


def fit_maps(window) -> None:
    """Fit the maps of the pane in front (laid out again first if its view changed shape)."""
    view = getattr(window.pane(window.tabs.currentIndex()), "view", None)
    if view is not None and hasattr(view, "fit"):
        view.fit()


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
_MISSING = object()


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
    for pane in window.panes():
        group = pane.objectName()
        state = {key.split("/", 1)[1]: value for key in store.allKeys()
                 if key.startswith(group + "/")
                 and (value := _load_json(store, key, _MISSING)) is not _MISSING}
        pane.restore(state)
    recent = _load_json(store, "files/recent", [])
    window.recent = [p for p in recent if isinstance(p, str)][:MAX_RECENT] if isinstance(recent, list) else []
    folder = str(store.value("files/lastFolder", ""))
    if folder and os.path.isdir(folder):
        window.last_folder = folder
    export_folder = str(store.value("files/lastExportFolder", ""))
    if export_folder and os.path.isdir(export_folder):
        window.last_export_folder = export_folder
    scale = _load_json(store, "files/exportScale", 1)
    if isinstance(scale, int) and scale >= 1:
        window.exporter.set_scale(scale)
    tab = _load_json(store, "window/tab", 0)
    if isinstance(tab, int) and 0 <= tab < window.tabs.count():
        window.tabs.setCurrentIndex(tab)


def remembered_photo(store: QSettings | None) -> str | None:
    """The photo explored when the window was last closed, if it is still a regular file."""
    path = _load_json(store, "files/photo", None) if store is not None else None
    return path if isinstance(path, str) and os.path.isfile(path) else None


def remembered_sample(store: QSettings | None):
    """The sample photo (from the Samples menu) explored when the window was last closed."""
    name = _load_json(store, "files/sample", None) if store is not None else None
    return next((item for item in sources.list_samples() if item.name == name), None) \
        if isinstance(name, str) else None


def save(window, store: QSettings) -> None:
    store.setValue("window/geometry", window.saveGeometry())
    for pane in window.panes():
        for key, value in pane.state().items():
            store.setValue(f"{pane.objectName()}/{key}", json.dumps(value))
    store.setValue("files/recent", json.dumps(window.recent))
    store.setValue("files/lastFolder", window.last_folder)
    store.setValue("files/lastExportFolder", getattr(window, "last_export_folder", "") or "")
    store.setValue("window/tab", json.dumps(window.tabs.currentIndex()))
    store.setValue("files/exportScale", json.dumps(window.exporter.scale))
    loaded = window.loaded
    photo = loaded.path if loaded is not None and loaded.path and not loaded.sample else None
    store.setValue("files/photo", json.dumps(photo if isinstance(photo, str) else None))
    sample = loaded.name if loaded is not None and loaded.sample else None
    store.setValue("files/sample", json.dumps(sample))  # a photo from the Samples menu
    store.sync()


def qimage_to_array(qimage) -> np.ndarray:
    """A QImage (e.g. from the clipboard) -> ``(H, W, 3)`` float32 in [0, 1], alpha on white."""
    from PySide6.QtGui import QImage

    img = qimage.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h)
    rgba = buf.reshape(h, img.bytesPerLine())[:, :w * 4].reshape(h, w, 4).astype(np.float32) / 255
    alpha = rgba[..., 3:4]
    return np.ascontiguousarray(rgba[..., :3] * alpha + (1.0 - alpha))
