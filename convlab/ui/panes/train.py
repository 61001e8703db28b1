"""The Train pane: watch a network learn (loss, accuracy, conv1's filters, maps, mistakes).

Start trains, in the pane's own thread (:class:`~convlab.ui.train_worker.TrainWorker`), the
preset that fits the chosen data (LeNet for grey images, a small colour net for RGB) or the
Network pane's network (with the fix for a layer that does not fit: the images resized to its
input, its output layer set to the class count). Pause and Stop act between two batches.
The views arrive as copies at most 5 times a second and each epoch's test results after it;
when a run ends its weights go to the Network pane (``trainedWeights``), and "Save weights…"
writes Chainer's ``.npz``. The pane offers :class:`~convlab.ui.panes.base.Pane`.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QWidget

from convlab.pipelines.train_config import DEFAULT_LR  # Chainer's rates
from convlab.pipelines.trainloop import Control
from convlab.pipelines.trainrun import TrainSettings
from convlab.ui.panes import train_jobs
from convlab.ui.panes.base import ExportSource
from convlab.ui.panes.train_download import DownloadMixin
from convlab.ui.panes.train_layout import (DATASETS, NETWORKS, OPTIMIZERS,
                                           build_controls, build_views)
from convlab.ui.panes.train_results import ResultsMixin
from convlab.ui.panes.train_state import StateMixin
from convlab.ui.panes.train_try import TryMixin
from convlab.ui.train_worker import TrainWorker
from convlab.ui.worker import LatestWorker


class TrainPane(ResultsMixin, StateMixin, TryMixin, DownloadMixin, QWidget):
    """See the module docstring."""

    title = "Train"
    resultReady = Signal(int)
    statusChanged = Signal(str)
    message = Signal(str, str)  # text, level
    stepDone = Signal(int)   # the iteration just done
    epochDone = Signal(int)  # the epoch just evaluated (1 = the first)
    trainedWeights = Signal(dict, str)  # spec, Chainer .npz of the weights at a run's end

    def __init__(self, parent=None, spec_source=None):
        super().__init__(parent)
        self.setObjectName("trainPane")
        self.spec_source = spec_source or (lambda: None)  # the Network pane's spec, or None
        self.data = None  # (source, Dataset) as opened, unresized
        self.run = None   # the TrainRun shown (kept between runs: Start goes on)
        self.thread: TrainWorker | None = None
        self.control: Control | None = None
        self.fix, self._checked_spec = False, None
        self._shown = False  # the data is opened when the pane is first shown
        self.failure = ""  # why the last run could not train ("" when it did)
        self.problems: list = []
        self._folder = tempfile.mkdtemp(prefix="convlab-train-")
        self.weights_path = ""
        self.data_worker = LatestWorker("train-data", self)
        self.data_worker.finished.connect(self._on_data_job)
        self.data_worker.failed.connect(self._data_failed)
        row = QHBoxLayout(self)
        row.addWidget(build_controls(self))
        row.addWidget(build_views(self), 1)
        self.build_download(self.download_row)
        self._connect()
        self.connect_try()
        self._sync_buttons()
        self.load_data()

    def _connect(self) -> None:
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)
        self.stop_button.clicked.connect(self.stop)
        self.reset_button.clicked.connect(self.reset_weights)
        self.save_button.clicked.connect(self.save_weights_dialog)
        self.export_button.clicked.connect(self.export_curves_dialog)
        self.folder_button.clicked.connect(self.choose_folder)
        self.dataset.currentIndexChanged.connect(lambda _: self.load_data())
        self.network_box.currentIndexChanged.connect(lambda _: self.check_fit())
        self.fix_button.clicked.connect(self.apply_fix)
        self.preset_button.clicked.connect(lambda: self.network_box.setCurrentIndex(0))
        self.optimizer.currentTextChanged.connect(
            lambda t: self.lr.setValue(DEFAULT_LR[OPTIMIZERS[t]]))
        self.maps_layer.currentTextChanged.connect(lambda _: self._maps_changed())
        self.maps_image.valueChanged.connect(lambda _: self._maps_changed())
        self.confusionMatrix.cellChosen.connect(self.show_cell)

    # -- data and network ---------------------------------------------------------------------
    def source(self):
        data = self.dataset.currentData()
        return data if data else DATASETS.get(self.dataset.currentText(), "shapes")

    def load_data(self) -> int:
        """Open the chosen data in the worker (once the pane has been shown: not at launch)."""
        source = self.source()
        self.data = None
        self.sync_download()
        if not self._shown:
            return 0
        self.data_info.setText("Opening the data …")
        return self.data_worker.submit(lambda j: ("data", source, *train_jobs.open_data(source)))

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "A folder of images (one sub-folder per "
                                                "class) or of MNIST / CIFAR-10 files")
        if path:
            self.add_folder(path)

    def add_folder(self, path: str) -> None:
        """Train on ``path`` (a class-folder tree, or MNIST / CIFAR-10 files) from now on."""
        index = self.dataset.findData(path)
        if index < 0:
            self.dataset.addItem(f"Folder: {os.path.basename(path.rstrip(os.sep)) or path}", path)
            index = self.dataset.count() - 1
        self.dataset.setCurrentIndex(index)

    def _data_failed(self, _id: int, text: str) -> None:
        self.data_info.setText(text)
        self._say(text)

    def heightForWidth(self, width: int) -> int:
        """The window's scroll area asks this (word-wrapped labels make the layout height-for-
        width): the least height, not the preferred one, so the pane fits the window."""
        return self.minimumSizeHint().height()

    def showEvent(self, event) -> None:
        """Shown again: the Network pane's network may have changed meanwhile."""
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            self.load_data()
        elif self.network_choice() == "pane" and not self.training() and \
                self.spec_source() != self._checked_spec:
            self.check_fit()

    def network_choice(self) -> str:
        return NETWORKS[self.network_box.currentText()]

    def check_fit(self) -> None:
        """Say whether the chosen network fits the data (in the worker: it builds shapes)."""
        if self.data is None:
            return
        source, dataset = self.data
        choice, pane_spec = self.network_choice(), self.spec_source()
        self.fix, self._checked_spec = False, pane_spec
        self.data_worker.submit(lambda j: ("fit", source, *train_jobs.choose_spec(
            choice, pane_spec, dataset)))

    def apply_fix(self) -> None:
        self.fix = True
        self.fit_label.setText(self.fit_label.text() + " The fix is applied at Start.")
        self.fix_button.setEnabled(False)

    def _on_data_job(self, _id: int, payload) -> None:
        kind, source = payload[0], payload[1]
        if source != self.source():
            return  # another dataset was chosen since
        if kind == "data":
            _, _, dataset, strip, text = payload
            self.data = (source, dataset)
            self.data_info.setText(text)
            self.samples.set_rgb(strip)
            self.maps_image.setMaximum(max(0, len(dataset.test) - 1))
            self.check_fit()
        elif kind == "fit":
            _, _, spec, problems = payload
            self.problems = problems
            from convlab.pipelines.trainfit import fix_text

            text = " ".join(p.text for p in problems)
            self.fit_label.setText(f"{text} {fix_text(problems)}" if problems else
                                   f"{spec.get('name', 'The network')} fits the data.")
            self.fit_label.setStyleSheet("color: #e07050;" if problems else "")
            self.fix_button.setVisible(bool(problems))
            self.fix_button.setEnabled(bool(problems))
            self.preset_button.setVisible(self.network_choice() != "preset")
            self._fill_layers(spec)
        elif kind == "try":
            self.show_tried(payload[2], payload[3])
        elif kind == "saved":
            self._say(f"Weights saved to {payload[2]} (Chainer .npz).", "info")
        elif kind == "maps":
            _, _, picture, title = payload
            self.maps_view.set_rgb(picture)
            self.maps_title.setText(title)

    def settings(self) -> TrainSettings:
        return TrainSettings(optimizer=OPTIMIZERS[self.optimizer.currentText()],
                             lr=self.lr.value(), batch=self.batch.value(),
                             epochs=self.epochs.value(), seed=self.seed.value(),
                             weight_decay=self.decay.value(), augment=self.augment.isChecked(),
                             frozen=self.frozen())

    # -- start, pause, stop ---------------------------------------------------------------------
    def training(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self) -> None:
        """Train (the button Start); goes on with the same run when only the epochs changed."""
        if self.training():
            self.resume()
            return
        source, choice, pane_spec = self.source(), self.network_choice(), self.spec_source()
        data, fix, settings, previous = self.data, self.fix, self.settings(), self.run

        def prepare(should_stop):
            dataset = data[1] if data is not None and data[0] == source else \
                train_jobs.open_data(source)[0]
            return train_jobs.prepare_run(source, dataset, choice, pane_spec, fix, settings,
                                          previous, should_stop)

        self.control = Control()
        self.control.maps_at = (self.maps_image.value(), self.maps_layer.currentText() or "conv1")
        self._runs = getattr(self, "_runs", 0) + 1  # a new file each time: the Network pane
        path = os.path.join(self._folder, f"trained-{self._runs}.npz")  # may still read the last
        self.thread = TrainWorker(prepare, self.control, path)
        self.thread.prepared.connect(self._on_prepared)
        self.thread.stepped.connect(self.stepDone)
        self.thread.viewsReady.connect(self._on_views)
        self.thread.epochReady.connect(self._on_epoch)
        self.thread.ended.connect(self._on_ended)
        self._show_status("Preparing the data and the network …")
        self.thread.start()
        self._sync_buttons()

    def pause(self) -> None:
        if self.training() and not self.control.paused:
            self.control.pause()
            self._show_status(self.status.text() + " · paused")
            self._sync_buttons()

    def resume(self) -> None:
        if self.training() and self.control.paused:
            self.control.resume()
            self._sync_buttons()

    def stop(self) -> None:
        if self.training():
            self.control.stop()
            self._sync_buttons()

    def reset_weights(self) -> None:
        """Forget the trained weights and the curves: the next Start begins from random."""
        if self.training():
            return
        self.run = None
        for plot in (self.lossPlot, self.accuracyPlot):
            plot.clear_points()
        self.trainFilters.set_rgb(None)
        self.trainFilters.setText("conv1's filters appear here")
        self._show_status(f"Weights reset: Start trains from random weights (seed {self.seed.value()}).")

    def _sync_buttons(self) -> None:
        running = self.training()
        paused = running and self.control is not None and self.control.paused
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running and not paused)
        self.resume_button.setEnabled(paused)
        self.stop_button.setEnabled(running)
        for w in (self.reset_button, self.save_button, self.dataset, self.folder_button,
                  self.network_box):
            w.setEnabled(not running and (w is not self.save_button or self.run is not None))

    def _on_ended(self, how: str, text: str, path: str) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        self.failure = text if how == "failed" else ""
        if how == "failed":
            self._say(text)
            self._show_status(f"Not trained: {text}")
        else:
            self._show_status(f"{self.status.text().split(' · paused')[0]} · {how}")
        if path:
            self.weights_path = path
            self.trainedWeights.emit(self.run.spec, path)
        self._sync_buttons()
        self.resultReady.emit(self.run.iteration if self.run is not None else 0)

    # -- messages -------------------------------------------------------------------------------
    def _say(self, text: str, level: str = "error") -> None:
        self.message.emit(f"Train: {text}", level)

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.statusChanged.emit(text)

    # -- the pane interface ---------------------------------------------------------------------
    def set_image(self, loaded) -> int:
        return 0  # the Train pane learns from its dataset, not from the window's photo

    def settled(self) -> bool:
        return not self.training() and not self.data_worker.busy()

    def export_source(self) -> ExportSource:
        raise ValueError("The Train pane has no maps to export: use its Save weights… and "
                         "Export curves… buttons, or the Network pane once it has trained.")

    def shutdown(self) -> None:
        if self.thread is not None:
            self.thread.shutdown()
        self.data_worker.shutdown()
        shutil.rmtree(self._folder, ignore_errors=True)
