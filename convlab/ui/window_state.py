"""The main window's menus, remembered state (QSettings) and export glue, kept out of its class.

Remembered: window geometry, explorer settings, longest side, colour map and scale, recent
files and the last folder. Nothing is restored unless the window was given a QSettings.
"""

from __future__ import annotations

import json
import os
from functools import partial

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from convlab.engine.explorer import ExplorerSettings
from convlab.ui import sources
from convlab.ui.worker import LatestWorker

MAX_RECENT = 8
EXPORT_CMAPS = {"viridis": "viridis", "magma": "magma", "grey": "gray", "cividis": "cividis",
                "red-blue": "RdBu_r", "turbo": "turbo"}


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
    _action(window, file, "&Export maps…", window.export_current, "Ctrl+E", "actionExport")
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
        was = longest.blockSignals(True)
        longest.setValue(int(store.value("explorer/longest", longest.value())))
        longest.blockSignals(was)
    except (TypeError, ValueError):
        pass
    view = window.explorer.view
    cmap = str(store.value("view/colormap", "viridis"))
    if cmap in EXPORT_CMAPS:
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


# -- export -------------------------------------------------------------------------------------
def export_current(window, folder: str | None) -> None:
    """Write the explorer's maps with convlab.export in a worker; report in the message area."""
    try:
        from convlab import export, export_cli
    except ImportError:
        window.show_message("Export comes with issue 5: the maps will be saved as PNG files "
                            "with a manifest. Until then use the snapshot command.", "info")
        return
    out = window.explorer.output
    if out is None:
        window.show_message("Nothing to export yet: wait for the maps to appear.")
        return
    if folder is None:
        folder = QFileDialog.getExistingDirectory(window, "Export the maps to a folder",
                                                  window.last_folder)
        if not folder:
            return
    view = window.explorer.view
    job = partial(_export_job, export, export_cli, out.result, window.loaded, folder,
                  window.explorer.controls.longest.value(),
                  EXPORT_CMAPS.get(view.colormap_box.currentText(), "viridis"),
                  "layer" if view.normalise == "shared" else "map")
    if window.exporter is None:
        window.exporter = LatestWorker("export", window)
        window.exporter.finished.connect(lambda _id, text: window.show_message(text, "info"))
        window.exporter.failed.connect(lambda _id, text: window.show_message(text))
    window.show_message(f"Exporting to {folder} …", "info")
    window.exporter.submit(job)


def _export_job(export, export_cli, result, loaded, folder, longest, cmap, normalize, job) -> str:
    h, w = loaded.image.shape[:2]
    if loaded.path:
        image = export_cli.image_record(loaded.path, (*loaded.original_shape, 3))
    else:
        image = {"path": loaded.name, "size": [w, h]}
    record = export_cli.explorer_settings_record(result.settings, image, longest=longest,
                                                 input_shape=loaded.image.shape)
    try:
        done = export.export_maps(folder, dict(result.maps), settings=record, cmap=cmap,
                                  normalize=normalize, cancel=job.should_stop)
    except export.ExportError as exc:
        raise ValueError(str(exc)) from None
    return f"Exported {len(done.files)} files to {done.out_dir} in {done.seconds:.1f} s."
