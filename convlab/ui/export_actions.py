"""Export from the window: the current map, a layer's grid, a layer's maps, every layer.

What to export comes from the pane in front, through the pane interface
(:meth:`~convlab.ui.panes.base.Pane.export_source`). The files are drawn by
:mod:`convlab.render` exactly as the view shows them and written by :mod:`convlab.export` (no
Qt) in a worker thread; progress shows in the status bar with a Cancel button, and a failure
is one line in the message area. A cancelled or failed folder export leaves the folder as it was.
File > Export > Enlarge pixels is ``convlab export --scale``: every exported pixel becomes an
N x N block (a grid is enlarged less where it would pass Pillow's pixel limit, as on the
command line), and the recorded command carries it.
"""

from __future__ import annotations

import json
import os

import numpy as np

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QProgressBar, QToolButton

from convlab import __version__
from convlab.engine.wording import count_noun, shape_text
from convlab.export.atomic import atomic_path
from convlab.pipelines import guard, images as imaging
from convlab.render import colour, png, tiles
from convlab.ui.panes.base import ExportSource
from convlab.ui.worker import LatestWorker


class ExportController(QObject):
    """File > Export and the maps' context menu; works on whichever pane is in front."""

    exported = Signal(str)  # what was written, as a sentence

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.worker = LatestWorker("export", self)
        self.worker.preview.connect(self._progress)
        self.worker.finished.connect(self._done)
        self.worker.failed.connect(self._failed)
        self.worker.idle.connect(self._idle)
        self._cancelling = False
        self.bar = QProgressBar(objectName="exportProgress", maximumWidth=180, textVisible=True)
        self.cancel_button = QToolButton(text="Cancel", objectName="exportCancel")
        self.cancel_button.clicked.connect(self.cancel)
        for w in (self.bar, self.cancel_button):
            window.statusBar().addPermanentWidget(w)
            w.hide()
        self.current_index: dict[int, int] = {}  # id(view) -> last clicked map
        self.scale = 1  # every exported pixel becomes a scale x scale block (convlab export --scale)

    # -- menu -----------------------------------------------------------------------------------
    def build_menu(self, menu: QMenu) -> None:
        specs = [("Current map as PNG…", "Ctrl+E", self.export_map, "actionExport"),
                 ("Layer grid as PNG…", "Ctrl+Shift+E", self.export_grid, "actionExportGrid"),
                 ("Every map of the layer into a folder…", None, self.export_layer,
                  "actionExportLayer"),
                 ("Every layer into a folder…", "Ctrl+Alt+E", self.export_all, "actionExportAll")]
        for text, key, slot, name in specs:
            action = QAction(text, self.window, objectName=name)
            if key is not None:
                action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _=False, s=slot: s())
            menu.addAction(action)
        self._scale_menu(menu.addMenu("Enlarge &pixels"))

    def _scale_menu(self, menu: QMenu) -> None:
        menu.setToolTip("Every exported pixel becomes an N x N block (convlab export --scale N).")
        group = QActionGroup(menu, exclusive=True)
        for n in SCALES:
            action = QAction("1 (native)" if n == 1 else str(n), menu, checkable=True,
                             checked=n == self.scale, objectName=f"exportScale{n}")
            action.triggered.connect(lambda _=False, n=n: self.set_scale(n))
            group.addAction(action)
            menu.addAction(action)

    def set_scale(self, n: int) -> None:
        """Enlarge every later export ``n`` times (1..64, as ``convlab export --scale``)."""
        self.scale = min(max(int(n), 1), 64)
        for action in self.window.findChildren(QAction):
            if action.objectName().startswith("exportScale"):
                action.setChecked(action.objectName() == f"exportScale{self.scale}")

    def watch(self, view) -> None:
        """Remember a FeatureView's clicked map, and give its maps a "Save map as PNG…" menu."""
        view.mapClicked.connect(lambda i, v=view: self.current_index.__setitem__(id(v), i))
        view.canvas.setContextMenuPolicy(Qt.CustomContextMenu)
        view.canvas.customContextMenuRequested.connect(lambda pos, v=view: self._context(v, pos))

    def _context(self, view, pos) -> None:
        index = view.map_at(pos)
        menu = QMenu(view)
        if index is not None:
            menu.addAction(f"Save map {index} as PNG…", lambda: self.export_map(index=index))
        menu.addAction("Save layer grid as PNG…", self.export_grid)
        menu.exec(view.canvas.mapToGlobal(pos))

    # -- what is in front -------------------------------------------------------------------------
    def source(self) -> ExportSource:
        """What the pane in front has to export; ValueError (one sentence) when nothing."""
        pane = self.window.current_pane()
        if pane is None:
            raise ValueError("Nothing to export: this tab has no feature maps.")
        return pane.export_source()

    def _ask(self, kind: str, suggested: str) -> str:
        """Ask for a file or folder, starting in the last export's folder."""
        folder = (getattr(self.window, "last_export_folder", "") or self.window.last_folder
                  or os.path.expanduser("~"))
        start = os.path.join(folder, suggested)
        if kind == "file":
            path, _ = QFileDialog.getSaveFileName(self.window, "Export as PNG", start, "PNG (*.png)")
        else:
            path = QFileDialog.getExistingDirectory(self.window, "Export into folder", folder)
        if path:
            self.window.last_export_folder = path if kind != "file" else os.path.dirname(path)
        return path

    def _begin(self) -> ExportSource | None:
        if self.worker.busy():
            self.window.show_message("An export is still running: wait for it, or press Cancel "
                                     "in the status bar.")
            return None
        try:
            return self.source()
        except ValueError as exc:
            self.window.show_message(str(exc))
            return None

    # -- actions ----------------------------------------------------------------------------------
    def export_map(self, path: str | None = None, *, index: int | None = None) -> int:
        """The clicked (or given) map of the shown layer as one PNG."""
        src = self._begin()
        if src is None:
            return 0
        name, arr = src.layer, src.layers[src.layer]
        index = self.current_index.get(id(src.view), 0) if index is None else index
        index = min(index, len(arr) - 1) if arr.ndim == 3 else 0
        path = path or self._ask("file", f"{name}_map_{index:03d}.png")
        if not path:
            return 0
        chunk = {"layer": name, "index": index, "version": __version__, "scale": self.scale}
        scale = self.scale
        record = lambda: look_record(src.record(), src.cmap, src.mode, scale)  # noqa: E731

        def job(_):
            # a stage the explorer kept sampled is recomputed whole here: the run's bits
            values, bounds = np.asarray(arr, dtype=np.float32), None
            if values.ndim == 3:  # coloured as among the layer's maps, as on screen
                lo, hi = colour.normalize_bounds(values, src.mode)
                values, bounds = values[index], (lo[index:index + 1], hi[index:index + 1])
            rgb = tiles.picture(values, src.cmap, src.mode, bounds=bounds, scale=scale)
            shape = values.shape if values.ndim == 2 else (values.size,)
            lo, hi = (float(bounds[0].flat[0]), float(bounds[1].flat[0])) if bounds else \
                (float(values.min()), float(values.max()))
            words = (f"{name} map {index}", f"Feature map {index} of layer {name} "
                     f"({shape_text(shape)}), {src.cmap} colormap from {lo:.6g} to {hi:.6g}.")
            return _write(path, rgb, record, chunk, f"map {index} of {name}", words)

        return self._submit(job, cancellable=False)

    def export_grid(self, path: str | None = None) -> int:
        """Every map of the shown layer tiled in one PNG."""
        src = self._begin()
        if src is None:
            return 0
        name = src.layer
        path = path or self._ask("file", f"{name}_grid.png")
        if not path:
            return 0
        arr = src.layers[name]
        scale = grid_scale(arr, self.scale)
        chunk = {"layer": name, "grid": True, "version": __version__, "scale": scale}
        record = lambda: look_record(src.record(), src.cmap, src.mode, self.scale)  # noqa: E731
        what = (f"All {count_noun(len(arr), 'map')}" if arr.ndim == 3
                else f"The {count_noun(arr.size, 'value')}")
        words = (f"{name} grid", f"{what} of layer {name}, {src.cmap} colormap.")
        return self._submit(lambda job: _write(path, tiles.picture(arr, src.cmap, src.mode,
                                                                   scale=scale),
                                               record, chunk, f"the grid of {name}", words),
                            cancellable=False)

    def export_layer(self, folder: str | None = None) -> int:
        return self._export_folder(folder, all_layers=False)

    def export_all(self, folder: str | None = None) -> int:
        return self._export_folder(folder, all_layers=True)

    def _export_folder(self, folder, *, all_layers: bool) -> int:
        src = self._begin()
        if src is None:
            return 0
        folder = folder or self._ask("folder", "")
        if not folder:
            return 0
        what, scale = ("all" if all_layers else [src.layer]), self.scale
        from convlab.export import maps as export  # at first use: not needed for the first paint

        def job(j):
            try:
                result = export.export_maps(
                    folder, dict(src.layers), what=what, cmap=src.cmap, normalize=src.mode,
                    settings=look_record(src.record(), src.cmap, src.mode, scale), scale=scale,
                    progress=lambda done, total: j.preview((done, total)), cancel=j.should_stop)
            except export.ExportCancelled:
                return None
            except export.ExportError as exc:  # one sentence for the message area
                raise ValueError(str(exc)) from None
            return (f"Exported {count_noun(len(result.files), 'file')} to {result.out_dir} "
                    f"in {result.seconds:.1f} s.")

        return self._submit(job)

    # -- worker plumbing --------------------------------------------------------------------------
    def _submit(self, job, *, cancellable: bool = True) -> int:
        self.bar.setRange(0, 0)
        self.bar.setFormat("export")
        self.bar.show()
        self.cancel_button.setVisible(cancellable)  # a single PNG takes milliseconds
        return self.worker.submit(job)

    def _progress(self, _rid, payload) -> None:
        done, total = payload
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.bar.setFormat("export %v/%m")

    def _finish(self) -> None:
        self.bar.hide()
        self.cancel_button.hide()

    def _done(self, _rid, sentence: str) -> None:
        self._finish()
        self.window.show_message(sentence, "info")
        self.exported.emit(sentence)

    def _failed(self, _rid, reason: str) -> None:
        self._finish()
        self.window.show_message(f"Export failed: {reason}")

    def cancel(self) -> None:
        """Stop the running folder export; it removes what it wrote and says so when it has."""
        if not self.worker.busy():
            return
        self._cancelling = True
        self.bar.setFormat("cancelling…")
        self.worker.cancel()

    def _idle(self) -> None:
        if self._cancelling:
            self._cancelling = False
            self._finish()
            self.window.show_message("Export cancelled: the folder is as it was before.", "info")

    def shutdown(self) -> None:
        self.worker.shutdown()


EXPORT_DEFAULTS = {"cmap": "viridis", "normalize": "map", "scale": 1}  # convlab export's
SCALES = (1, 2, 4, 8)  # File > Export > Enlarge pixels


def grid_scale(values, scale: int) -> int:
    """The enlargement a layer's grid gets at ``scale``: less where the grid would pass the
    pixel limit, as :func:`convlab.export.maps.export_maps` does for ``convlab export``."""
    values = values if values.ndim == 3 else tiles.vector_grid(values)[None]  # (F, h, w)
    n, h, w = values.shape
    return tiles.fit_scale(n, h, w, scale=scale, max_pixels=imaging.MAX_PIXELS)


def look_record(record: dict, cmap: str, mode: str, scale: int = 1) -> dict:
    """``record`` with the look that coloured the maps, so its command redraws the same pixels.

    Adds ``render: {cmap, normalize, scale}`` and, to the ``convlab export`` command, the
    ``--cmap``, ``--normalize`` and ``--scale`` flags that differ from that command's defaults.
    """
    look = {"cmap": cmap, "normalize": mode, "scale": int(scale)}
    flags = [f"--{key} {value}" for key, value in look.items() if value != EXPORT_DEFAULTS[key]]
    command = " ".join([record["command"], *flags]) if "command" in record else None
    return {**record, "render": look, **({"command": command} if command else {})}


def _write(path, rgb, record, chunk, what, words) -> str:
    """Worker side: one PNG, placed atomically, with the settings that made it in its text
    chunks, and ``words`` = (Title, Description) as a folder export's PNGs carry them."""
    text = {"Software": f"ConvLab {__version__}", "Title": words[0], "Description": words[1],
            "convlab:settings": json.dumps(record()), "convlab:file": json.dumps(chunk)}
    full = guard.check_output_path(path, "PNG")  # a folder, pipe or device: one sentence
    try:
        os.makedirs(os.path.dirname(full), exist_ok=True)  # a new folder, as convlab export does
        with atomic_path(path) as tmp:
            png.write_png(tmp, rgb, text)
    except OSError as exc:
        raise ValueError(f"could not write {path}: {exc.strerror or exc}") from None
    return f"Saved {what} to {path}."
