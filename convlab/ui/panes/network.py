"""The Network pane: Chainer's AlexBN (or LRN AlexNet) end to end on the current photo.

Shows Chainer's ImageNet preprocessing step by step, a table of every layer (shape, params,
multiply-adds, receptive field, jump, milliseconds, dead ReLU share) that fills in as the worker
finishes each layer, and the maps of the selected layer in the explorer's montage view.
All computation runs in :class:`~convlab.ui.worker.LatestWorker` threads, through the same
:class:`~convlab.pipelines.network.NetworkRunner` that ``convlab export --net`` uses. The pane
offers :class:`~convlab.ui.panes.base.Pane`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QHeaderView,
                               QLabel, QPushButton, QSpinBox, QSplitter, QTableView, QVBoxLayout,
                               QWidget)
from superqt.utils import signals_blocked

from convlab.pipelines.network import NetworkResult, NetworkRunner, NetworkSettings
from convlab.render.tiles import shape_text
from convlab.pipelines.sources import LoadedImage
from convlab.ui.panes.base import ExportSource
from convlab.ui.widgets.feature_view import FeatureView
from convlab.ui.widgets.layer_table import LayerTableModel
from convlab.ui.panes.network_parts import (BN_MODES, MODELS, PREP_CAPTIONS, bn_explanation,
                                            key_of, layer_montage, prep_images, rgb_pixmap,
                                            timing_text, top5_text)
from convlab.ui.panes.network_memory import remembered_settings, restored_settings
from convlab.ui.worker import LatestWorker

class NetworkPane(QWidget):
    """Model, input size, BN mode and weights on top; preprocessing, layer table and maps below."""

    title = "Network"
    resultReady = Signal(int)  # request id, once the whole forward pass is shown
    message = Signal(str, str)  # text, level ("error" or "info") for the window's message area
    statusChanged = Signal(str)  # the last forward's timing, for the status bar

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("network")
        self.settings = NetworkSettings()  # what the shown result was computed with
        self.requested = self.settings  # what the controls ask for (may be still computing)
        self.image: np.ndarray | None = None  # the photo at full resolution
        self.loaded: LoadedImage | None = None
        self.result: NetworkResult | None = None
        self._shown_id = 0  # the request whose result is on screen
        self._runner = NetworkRunner()  # touched only inside worker jobs
        self.worker = LatestWorker("network", self)
        self.map_worker = LatestWorker("network-maps", self)
        self.model = LayerTableModel(self)
        self._build()
        self.worker.preview.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.map_worker.finished.connect(self._on_montage)
        self.view.modeChanged.connect(lambda _: self.show_layer(self.selected_layer()))

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        bar = self._build_controls()
        left = self._build_table()
        self.view = FeatureView(self, title="Maps of conv1")
        self._layout(bar, left)
        self._connect()
        self._sync_controls(self.settings)

    def _build_controls(self) -> QHBoxLayout:
        """Model, input size, BN mode, seed, hand-made conv1, weights; their labels."""
        self.model_box = QComboBox(objectName="netModel")
        self.model_box.addItems(list(MODELS))
        self.model_box.setToolTip("AlexBN: Chainer's alexbn.py, the seed article's model. "
                                  "Alex: the original with local response normalisation.")
        self.insize = QSpinBox(objectName="inputSize", minimum=32, maximum=512, value=227,
                               suffix=" px", keyboardTracking=False)
        self.insize.setToolTip("The crop fed to the network. 227 is AlexBN's insize; 224 still "
                               "reaches 6x6 at pool5 thanks to cover_all pooling.")
        self.bn_box = QComboBox(objectName="bnMode")
        self.bn_box.addItems(list(BN_MODES))
        self.seed = QSpinBox(objectName="netSeed", minimum=0, maximum=2**31 - 1, value=0,
                             keyboardTracking=False)
        self.seed.setToolTip("Seed of the random (LeCun normal) initialisation.")
        self.handmade = QCheckBox("hand-made conv1", objectName="handmadeConv1")
        self.handmade.setToolTip("Replace conv1's random weights with hand-made Gabor edge and "
                                 "colour-opponent filters (not learned), so that untrained maps "
                                 "still show edges and colours.")
        self.load_button = QPushButton("Load Chainer weights (.npz)…", objectName="loadWeights")
        self.load_button.setToolTip("A file written by Chainer's serializers.save_npz (a trainer "
                                    "snapshot works too). A file that does not fit is refused "
                                    "and the current weights stay.")
        self.random_button = QPushButton("Random weights", objectName="randomWeights")
        self.weights_label = QLabel(objectName="weightsLabel")
        self.bn_label = QLabel(objectName="bnExplain", wordWrap=True)
        self.input_note = QLabel(objectName="inputNote", wordWrap=True)
        self.top5 = QLabel(objectName="top5", wordWrap=True)
        for label in (self.bn_label, self.input_note, self.top5, self.weights_label):
            label.setStyleSheet("color: palette(placeholder-text);")
        bar = QHBoxLayout()
        for w in (QLabel("Model"), self.model_box, QLabel("input"), self.insize, QLabel("BN"),
                  self.bn_box, QLabel("seed"), self.seed, self.handmade):
            bar.addWidget(w)
        bar.addStretch(1)
        return bar

    def _build_table(self) -> QWidget:
        """Preprocessing pictures, the layer table and the notes under it."""
        self.prep_labels = [QLabel(alignment=Qt.AlignCenter) for _ in range(3)]
        prep = QHBoxLayout()
        for label, caption in zip(self.prep_labels, PREP_CAPTIONS):
            box = QVBoxLayout()
            box.addWidget(label)
            box.addWidget(QLabel(caption, alignment=Qt.AlignCenter))
            prep.addLayout(box)
        self.table = QTableView(objectName="layerTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectRows)
        self.table.setSelectionMode(QTableView.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(
            lambda cur, _: self.show_layer(self.selected_layer()))
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(prep)
        column.addWidget(self.table, 1)
        column.addWidget(self.input_note)
        column.addWidget(self.top5)
        return left

    def _layout(self, bar, left) -> None:
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(self.view)
        split.setStretchFactor(1, 1)
        split.setSizes([660, 600])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        weights = QHBoxLayout()
        for widget, stretch in ((self.weights_label, 1), (self.random_button, 0), (self.load_button, 0)):
            weights.addWidget(widget, stretch)
        layout.addLayout(weights)
        layout.addWidget(self.bn_label)
        layout.addWidget(split, 1)

    def _connect(self) -> None:
        self.load_button.clicked.connect(self.load_weights_dialog)
        self.model_box.currentTextChanged.connect(lambda t: self.apply(net=MODELS[t]))
        self.insize.valueChanged.connect(lambda v: self.apply(insize=v))
        self.bn_box.currentTextChanged.connect(lambda t: self.apply(bn_mode=BN_MODES[t]))
        self.seed.valueChanged.connect(lambda v: self.apply(seed=v, weights=None))
        self.handmade.toggled.connect(lambda on: self.apply(handmade_conv1=on))
        self.random_button.clicked.connect(lambda: self.apply(weights=None, bn_mode="batch"))

    # -- state -------------------------------------------------------------------------------
    def set_image(self, loaded: LoadedImage) -> int:
        """Take the window's photo (the full-resolution original, for the 256-pixel resize)."""
        self.loaded = loaded
        self.image = loaded.original if loaded.original is not None else loaded.image
        return self.refresh()

    def apply(self, **changes) -> int:
        """Change what the controls ask for, on top of earlier changes still computing."""
        return self.refresh(self.requested.replace(**changes))

    def load_weights(self, path: str) -> int:
        """Load a Chainer .npz in the worker; a refused file keeps the current weights."""
        return self.apply(weights=str(path), bn_mode="stored")

    def load_weights_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load Chainer weights", "",
                                              "Chainer weights (*.npz);;All files (*)")
        if path:
            self.load_weights(path)

    def refresh(self, settings: NetworkSettings | None = None) -> int:
        """Run the network for ``settings`` (default: the current ones) on the current photo."""
        s = self.requested = settings or self.requested
        self._sync_controls(s)
        if self.image is None:
            return 0
        image, runner = self.image, self._runner
        selected, mode, aspect = self.selected_layer() or "conv1", self.view.mode, self.view.aspect()

        def job(j):
            result = runner.run(image, s, should_stop=j.should_stop,
                                on_rows=lambda rows, prep: j.preview(("rows", rows, prep_images(prep), s)),
                                on_layer=lambda name, sec, dead: j.preview(("layer", name, sec, dead)))
            if not result.completed:
                return None
            name = selected if selected in result.outputs else next(iter(result.outputs), None)
            montage = layer_montage(name, result.outputs[name], mode, aspect) if name else None
            return result, name, montage

        return self.worker.submit(job)

    def _sync_controls(self, s: NetworkSettings) -> None:
        """Show ``s`` in the controls without triggering another run (signals blocked)."""
        pairs = ((self.model_box, lambda w: w.setCurrentText(key_of(MODELS, s.net))),
                 (self.insize, lambda w: w.setValue(s.insize)),
                 (self.bn_box, lambda w: w.setCurrentText(key_of(BN_MODES, s.bn_mode))),
                 (self.seed, lambda w: w.setValue(s.seed)),
                 (self.handmade, lambda w: w.setChecked(s.handmade_conv1)))
        for widget, setter in pairs:
            with signals_blocked(widget):
                setter(widget)
        self.bn_box.setEnabled(s.net == "alexbn")
        self.bn_label.setText(bn_explanation(s))

    def selected_layer(self) -> str | None:
        row = self.table.currentIndex().row()
        layer = self.model.layer_at(row)
        return layer.name if layer is not None else None

    def select_layer(self, name: str) -> None:
        row = self.model.row_of(name)
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)

    def show_layer(self, name: str | None) -> None:
        if self.result is None or name is None or name not in self.result.outputs:
            if name is not None and self.result is not None:
                self.view.clear(f"{name} has no output: the input stops before it.")
            return
        result, mode, aspect, arr = self.result, self.view.mode, self.view.aspect(), self.result.outputs[name]
        self.map_worker.submit(lambda j: (result, name, layer_montage(name, arr, mode, aspect)))

    # -- results -----------------------------------------------------------------------------
    def _on_progress(self, request_id: int, payload) -> None:
        if not self.worker.is_current(request_id):
            return  # a newer request is on its way: its rows will come
        if payload[0] == "rows":
            _, rows, images, s = payload
            selected = self.selected_layer()
            self.model.set_rows(rows)
            self.select_layer(selected or "conv1")
            for label, rgb in zip(self.prep_labels, images):
                label.setPixmap(rgb_pixmap(rgb, 120))
            error = next((r.error for r in rows if r.error), "")
            self.input_note.setText(error)
            self.input_note.setStyleSheet("color: #c0392b;" if error else "color: palette(placeholder-text);")
        else:
            _, name, seconds, dead = payload
            self.model.set_time(name, seconds, dead)

    def _on_finished(self, request_id: int, payload) -> None:
        if not self.worker.is_current(request_id):
            return  # never show an old result over a newer request
        result, name, montage = payload
        self.map_worker.cancel()  # a montage of the previous result must not follow this one
        self.result, self.settings, self._shown_id = result, result.settings, request_id
        self._sync_controls(self.requested)
        self.weights_label.setText(f"Weights: {result.weights_source}")
        if not any(r.error for r in result.rows):
            self.input_note.setText(result.note)
        self.top5.setText(top5_text(result))
        self.statusChanged.emit(timing_text(result))
        if montage is not None:
            self._on_montage(0, (result, name, montage))
        self._clear_if_absent(result)
        self.resultReady.emit(request_id)

    def _clear_if_absent(self, result) -> None:
        """The selected layer has no output now: clear its old maps, title and hover, say why."""
        selected = self.selected_layer()
        if selected is None or selected in result.outputs:
            return
        why = next((r.error for r in result.rows if r.error), "the input stops before it")
        self.view.clear(f"{selected} has no output for these settings: {why}")
        self.view.title.setText(f"{selected}: no output")

    def _on_montage(self, _request_id: int, payload) -> None:
        result, name, montage = payload
        if result is self.result and name == (self.selected_layer() or name):
            arr = self.result.outputs[name]
            units = " units" if arr.ndim == 1 else ""
            self.view.title.setText(f"Maps of {name}: {shape_text(arr.shape)}{units}")
            self.view.show_montage(montage)

    def _on_failed(self, _request_id: int, reason: str) -> None:
        self.requested = self.settings  # back to what is shown
        self._sync_controls(self.settings)
        self.message.emit(f"Network: {reason}", "error")

    # -- the pane interface (convlab.ui.panes.base.Pane) ------------------------------------------
    def settled(self) -> bool:
        return (self.result is not None and self._shown_id == self.worker.latest_id
                and not self.worker.busy())

    def export_source(self) -> ExportSource:
        result, loaded = self.result, self.loaded
        if result is None or loaded is None:
            raise ValueError("Nothing to export yet: the network has not run on a photo.")
        cmap, mode = self.view.look()
        return ExportSource(result.outputs, self.selected_layer() or "conv1",
                            lambda: result.settings_record(loaded.record()), cmap, mode, self.view)

    def state(self) -> dict:
        return {"view": self.view.state(), "settings": remembered_settings(self.requested)}

    def restore(self, state: dict) -> None:
        state = state if isinstance(state, dict) else {}
        self.view.restore(state.get("view", {}))
        self.requested = restored_settings(self.requested, state.get("settings"))
        self._sync_controls(self.requested)

    def shutdown(self) -> None:
        self.worker.shutdown()
        self.map_worker.shutdown()
