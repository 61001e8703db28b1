"""The main window: menus, the pane tabs, drag and drop, the message area and the status bar.

``MainWindow()`` opens on the bundled sample at the explorer's defaults. ``open_image(path)``
is what the menu, drag and drop, the samples and the command line use; reading happens in a
worker, and a bad file leaves the previous image and results in place with one line in the
message area. ``MainWindow(settings=QSettings(...))`` remembers state across sessions.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QFileDialog, QFrame, QLabel, QMainWindow, QScrollArea,
                               QTabWidget, QVBoxLayout, QWidget)

from convlab.engine.wording import shape_text
from convlab.pipelines import sources
from convlab.pipelines.sources import LoadedImage
from convlab.ui import window_state
from convlab.ui.export_actions import ExportController
from convlab.ui.window_drops import FileDropMixin
from convlab.ui.window_undo import install_undo
from convlab.ui.panes.base import Pane
from convlab.ui.panes.explorer import ExplorerPane
from convlab.ui.panes.network import NetworkPane
from convlab.ui.help_menu import HelpMenu
from convlab.ui.widgets.elided_label import ElidedLabel
from convlab.ui.widgets.message_area import MessageArea
from convlab.ui.worker import LatestWorker, stop_workers

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


class MainWindow(FileDropMixin, QMainWindow):
    """ConvLab's window; see the module docstring."""

    imageLoaded = Signal(str)  # the name of the photo now explored

    def __init__(self, image_path=None, *, settings: QSettings | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("ConvLab")
        self.store = settings
        self.recent: list[str] = []
        self.last_folder = os.path.expanduser("~")
        self.last_export_folder = ""  # where the export dialogs start (the last export's folder)
        self.sample_index = 0
        self.loaded: LoadedImage | None = None  # the photo every pane explores
        self._given: dict[int, LoadedImage] = {}  # tab index -> the photo that pane has
        self.loader = LatestWorker("loader", self)
        self.loader.finished.connect(self._loaded)
        self.loader.failed.connect(self._load_failed)
        self.explorer = ExplorerPane(self)
        self.tabs = QTabWidget(objectName="paneTabs", documentMode=True)
        self.tabs.addTab(self.explorer, self.explorer.title)
        self.message_area = MessageArea(self)
        self.messageArea = self.message_area.label
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.tabs, 1)
        column.addWidget(self.message_area)
        self.setCentralWidget(central)
        self._status_widgets()
        self.exporter = ExportController(self)
        self.exporter.watch(self.explorer.view)
        window_state.build_menus(self)
        self._status = ""  # the compute line to restore when a photo cannot be read
        self._pane_status: dict[int, str] = {}  # id(pane) -> its last timing line
        self._follow_status(self.explorer)
        self.explorer.resultReady.connect(self.update_backend_label,  # the worker chose it, once
                                          Qt.ConnectionType.SingleShotConnection)
        self.explorer.failed.connect(self.show_message)
        self.explorer.controls.longestChanged.connect(self._rescale)
        self.network = self._network_pane()
        self.undo_group = install_undo(self)  # Edit > Undo/Redo act on the pane in front
        self.help_menu = HelpMenu(self)  # last in the menu bar, after the Network menu
        self.tabs.currentChanged.connect(self._pane_shown)
        self.setAcceptDrops(True)
        self._install_drop_filters()
        self.resize(1280, 800)
        if self.store is not None:
            window_state.restore(self, self.store)
        self._open_first(image_path or window_state.remembered_photo(self.store)
                         or window_state.remembered_sample(self.store))

    # -- panes -----------------------------------------------------------------------------------
    def add_pane(self, widget: QWidget, title: str) -> int:
        """Add a pane as a tab; returns its index.

        The pane sits in a scroll area, so a pane wider than the window scrolls instead of
        forcing every tab, and the window, to its width.
        """
        holder = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        holder.setWidget(widget)
        index = self.tabs.addTab(holder, title)
        self._install_drop_filters()
        return index

    def pane(self, index: int) -> QWidget | None:
        """The pane shown in tab ``index`` (unwrapped from its scroll area)."""
        widget = self.tabs.widget(index)
        return widget.widget() if isinstance(widget, QScrollArea) else widget

    def panes(self) -> list[Pane]:
        """Every tab that offers the pane interface (:class:`~convlab.ui.panes.base.Pane`)."""
        found = [self.pane(i) for i in range(self.tabs.count())]
        return [p for p in found if isinstance(p, Pane)]

    def show_pane(self, pane: Pane) -> None:
        """Bring ``pane``'s tab to the front (a pane computes when first shown)."""
        for i in range(self.tabs.count()):
            if self.pane(i) is pane:
                self.tabs.setCurrentIndex(i)

    def current_pane(self) -> Pane | None:
        pane = self.pane(self.tabs.currentIndex())
        return pane if isinstance(pane, Pane) else None

    def _network_pane(self) -> NetworkPane:
        pane = NetworkPane(self)
        pane.message.connect(self.show_message)
        self._follow_status(pane)
        self.add_pane(pane, pane.title)
        self.exporter.watch(pane.view)
        menu = self.menuBar().addMenu("Net&work")  # spec edits, files and models of the pane
        for action in pane.menu_actions():
            menu.addAction(action)
        return pane

    def _follow_status(self, pane) -> None:
        """The status bar shows the timing of the pane in front, and only of that pane."""
        def show(text: str, pane=pane) -> None:
            self._pane_status[id(pane)] = text
            if self.current_pane() is pane:
                self.compute_label.setText(text)
        pane.statusChanged.connect(show)

    def _pane_shown(self, index: int) -> None:
        """A pane gets the current photo when it is first shown after a change (saves CPU)."""
        pane = self.pane(index)
        if isinstance(pane, Pane) or pane is self.explorer:
            self.compute_label.setText(self._pane_status.get(id(pane), ""))
        if self.loaded is None or pane is self.explorer or not isinstance(pane, Pane):
            return
        if self._given.get(index) is not self.loaded:
            self._given[index] = self.loaded
            pane.set_image(self.loaded)

    def _status_widgets(self) -> None:
        bar = self.statusBar()
        self.backend_label = ElidedLabel(objectName="backendLabel")  # elided in a narrow window
        self.compute_label = ElidedLabel(objectName="computeLabel")
        self.size_label = QLabel(objectName="imageSizeLabel")
        bar.addWidget(self.compute_label, 1)
        bar.addPermanentWidget(self.size_label)
        bar.addPermanentWidget(self.backend_label)

    def update_backend_label(self, *_) -> None:
        from convlab.engine.backend import get_backend

        backend = get_backend()
        why = f" · {backend.reason}" if backend.reason else ""
        self.backend_label.setText(f"{backend.description}{why}")
        self.backend_label.setToolTip("The array backend that computes the maps. "
                                      "CONVLAB_BACKEND=numpy forces NumPy.")

    # -- images ----------------------------------------------------------------------------------
    def _open_first(self, image_path) -> None:
        """At start-up (before the window shows) read the first photo right away."""
        if isinstance(image_path, LoadedImage):
            self._set_loaded(image_path)
            return
        source = image_path or sources.default_sample()
        samples = sources.list_samples()
        sample = not image_path or source in samples  # a bundled photo (the Samples menu)
        if source in samples:
            self.sample_index = samples.index(source)
        try:
            loaded = (sources.read_and_prepare(source, self.longest, sample=sample)
                      if source else None)
        except ValueError as exc:
            self.show_message(f"{exc} Showing a sample photo instead.")
            sample = sources.default_sample()
            loaded = sources.read_and_prepare(sample, self.longest, sample=True) if sample else None
        if loaded is None:
            loaded = sources.prepare(sources.synthetic_image(), "test card", None, self.longest)
            self.show_message("No sample photos are installed; showing a made-up test card. "
                              "Open a photo with File > Open or drop one here.", "info")
        self._set_loaded(loaded)

    @property
    def longest(self) -> int:
        return self.explorer.controls.longest.value()

    def open_image(self, path) -> int:
        """Read ``path`` in the worker; the explorer switches to it once it is read.

        Returns the loader's request id. A bad file shows one line in the message area and
        leaves the current image and results as they are.
        """
        self._status = self.compute_label.text()
        self.compute_label.setText(f"Reading {os.path.basename(str(path))} …")
        longest = self.longest
        return self.loader.submit(lambda job: sources.read_and_prepare(path, longest))

    def open_array(self, image, name: str = "clipboard image") -> int:
        longest = self.longest
        return self.loader.submit(lambda job: sources.prepare(image, name, None, longest))

    def _load_failed(self, request_id: int, reason: str) -> None:
        self.show_message(reason)
        self.compute_label.setText(self._status)  # the old photo and its figures stay

    def _loaded(self, request_id: int, loaded: LoadedImage) -> None:
        if self.loader.is_current(request_id):
            self.message_area.clear()
            self._set_loaded(loaded)

    def _set_loaded(self, loaded: LoadedImage) -> None:
        self.loaded = loaded
        self.setWindowTitle(f"ConvLab · {loaded.name}")
        h, w = loaded.image.shape[:2]
        oh, ow = loaded.original_shape
        self.size_label.setText(f"image {shape_text((w, h))}" + (
            f" (from {shape_text((ow, oh))})" if loaded.factor < 1 else ""))
        if loaded.path and not loaded.sample:
            window_state.remember_file(self, loaded.path)
        self.explorer.set_image(loaded)
        self._pane_shown(self.tabs.currentIndex())
        self.imageLoaded.emit(loaded.name)

    def _rescale(self, longest: int) -> None:
        if self.loaded is not None and self.loaded.original is not None:
            o = self.loaded
            self.loader.submit(lambda job: sources.prepare(o.original, o.name, o.path, longest))

    def paste_image(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasImage():
            qimage = QGuiApplication.clipboard().image()
            if not qimage.isNull():
                qimage = qimage.copy()
                longest = self.longest
                self.loader.submit(lambda job: sources.prepare(
                    window_state.qimage_to_array(qimage), "pasted image", None, longest))
                return
        paths = window_state.local_files(mime)
        if paths:
            self.open_image(paths[0])
        elif mime is not None and mime.hasText() and os.path.isfile(mime.text().strip()):
            self.open_image(mime.text().strip())
        else:
            self.show_message("The clipboard holds no image (copy a picture or an image file).")

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", self.last_folder,
                                              IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_sample(self, index: int) -> None:
        samples = sources.list_samples()
        if not samples:
            self.show_message("No sample photos are installed.")
            return
        self.sample_index = index % len(samples)
        item = samples[self.sample_index]
        longest = self.longest
        self.loader.submit(lambda job: sources.read_and_prepare(item, longest, sample=True))

    def next_sample(self, step: int = 1) -> None:
        self.open_sample(self.sample_index + step)

    # -- messages and export -----------------------------------------------------------------------
    def show_message(self, text: str, level: str = "error") -> None:
        self.message_area.show_message(text, level)

    def export_current(self, folder: str | None = None) -> int:
        """Export every layer of the pane in front into ``folder`` (asked for when None)."""
        return self.exporter.export_all(folder)

    # -- closing -------------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if self.store is not None:
            window_state.save(self, self.store)
        stop_workers(self.findChildren(LatestWorker))  # all told at once, ~1 s wait in all
        self.loader.shutdown()
        self.exporter.shutdown()
        for pane in self.panes():
            pane.shutdown()
        super().closeEvent(event)
