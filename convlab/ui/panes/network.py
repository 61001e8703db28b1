"""The Network pane: AlexBN, Alex, "AlexNet, 2 groups", your own layer stack or an ONNX model,
end to end on the current photo.

Shows the preprocessing step by step, a table of every layer (shape, params, multiply-adds,
receptive field, jump, memory, milliseconds, dead ReLU share) that fills in as the worker
finishes each layer, an editor for the layers (undoable; :mod:`network_edit`), the whole
network as Chainer and PyTorch code, and the maps of the selected layer in the explorer's
montage view.
All computation runs in :class:`~convlab.ui.worker.LatestWorker` threads, through the same
:class:`~convlab.pipelines.network.NetworkRunner` that ``convlab export --net`` uses. The pane
offers :class:`~convlab.ui.panes.base.Pane`.
"""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QItemSelectionModel, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from convlab.engine.nets import presets as specs
from convlab.engine.nets import Network
from convlab.pipelines.network import NetworkResult, NetworkRunner, NetworkSettings
from convlab.engine.wording import count_noun, shape_text
from convlab.pipelines.sources import LoadedImage
from convlab.ui.panes.base import ExportSource
from convlab.ui.panes.network_edit import SpecController
from convlab.ui.panes.network_field import FieldMixin
from convlab.ui.panes.network_layout import build_controls, build_split
from convlab.ui.panes.network_model import ModelMixin
from convlab.ui.panes.network_spec_view import SpecPaneMixin
from convlab.ui.panes import network_why
from convlab.ui.panes.network_parts import (BN_MODES, MODELS, bn_explanation, key_of,
                                      layer_montage, prep_images, rgb_pixmap, timing_text,
                                      top5_text)
from convlab.ui.widgets.layer_table import LayerTableModel
from convlab.ui.panes.network_memory import remembered_settings, restored_settings
from convlab.ui.worker import LatestWorker

REMEMBERED = ("bn_mode", "weights", "handmade_conv1", "learned_conv1")  # beside spec_state's net, insize, seed


class NetworkPane(SpecPaneMixin, FieldMixin, ModelMixin, QWidget):
    """Model, input size, BN mode and weights on top; preprocessing, layer table and maps below."""

    title = "Network"
    resultReady = Signal(int)  # request id, once the whole forward pass is shown
    message = Signal(str, str)  # text, level ("error" or "info") for the window's message area
    statusChanged = Signal(str)  # the last forward's timing, for the status bar
    fieldShown = Signal(int)  # a pinned receptive field is drawn (request id of pin())

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("network")
        self.settings = NetworkSettings()  # what the shown result was computed with
        self.requested = self.settings  # what the controls ask for (may be still computing)
        self.image: np.ndarray | None = None
        self.loaded: LoadedImage | None = None
        self.result: NetworkResult | None = None
        self.net_shapes: Network | None = None  # shapes-only network of the requested spec
        self._last_spec = specs.preset("alexbn")  # the spec shown before an ONNX model
        self._last_custom: dict | None = None
        self._shown_id = 0  # the request whose result is on screen
        self._runner = NetworkRunner()  # touched only inside worker jobs
        self.worker = LatestWorker("network", self, heavy=True)
        self.map_worker = LatestWorker("network-maps", self)
        self.shapes_worker = LatestWorker("network-shapes", self)
        self.field_worker = LatestWorker("network-field", self)
        self._field = None  # the receptive field drawn on the crop
        self.model = LayerTableModel(self)
        self._build()
        self.edits = SpecController(self)
        self.why = network_why.attach(self)  # the "Why?" tab: gradient views, unit pictures
        self.worker.preview.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.map_worker.finished.connect(self._on_montage)
        self.shapes_worker.finished.connect(self._on_full_rows)
        self.field_worker.finished.connect(self._on_field)
        self.field_worker.failed.connect(self._on_field_failed)
        self.view.open_on_click = False  # a click draws the field; "Open map" opens it large
        self.view.positionClicked.connect(self._map_clicked)  # the montage's and the dialog's
        self.view.modeChanged.connect(lambda _: self.show_layer(self.selected_layer()))
        self.view.relayoutWanted.connect(lambda: self.show_layer(self.selected_layer()))
        self._show_spec(self.requested, 0)

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        build_controls(self)
        bar = QHBoxLayout()
        for w in (QLabel("Model"), self.model_box, QLabel("input"), self.insize, QLabel("BN"),
                  self.bn_box, QLabel("seed"), self.seed, self.handmade, self.learned):
            bar.addWidget(w)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        self.weights_row = weights = QHBoxLayout()
        weights.addWidget(self.weights_label, 1)
        weights.addWidget(self.random_button)
        weights.addWidget(self.load_button)
        self._model_controls()
        layout.addLayout(weights)
        layout.addWidget(self.bn_label)
        layout.addWidget(build_split(self), 1)
        self._connect()

    def _connect(self) -> None:
        self.model_box.currentTextChanged.connect(self.choose_model)
        self.insize.valueChanged.connect(lambda v: self.apply(insize=v))
        self.bn_box.currentTextChanged.connect(lambda t: self.apply(bn_mode=BN_MODES[t]))
        self.seed.valueChanged.connect(lambda v: self.apply(seed=v, weights=None))
        self.handmade.toggled.connect(
            lambda on: self.apply(handmade_conv1=on, learned_conv1=False if on else self.requested.learned_conv1))
        self.learned.toggled.connect(
            lambda on: self.apply(learned_conv1=on, handmade_conv1=False if on else self.requested.handmade_conv1))
        self.load_button.clicked.connect(self.load_weights_dialog)
        self.random_button.clicked.connect(lambda: self.apply(weights=None, bn_mode="batch"))
        self._sync_controls(self.settings)

    # -- state -------------------------------------------------------------------------------
    def set_image(self, loaded: LoadedImage) -> int:
        """Take the window's photo (the full-resolution original, for the 256-pixel resize)."""
        self.loaded = loaded
        self.image = loaded.original if loaded.original is not None else loaded.image
        return self.refresh()

    def apply(self, **changes) -> int:
        """Change what the controls ask for, on top of earlier changes still computing."""
        s = self.requested.replace(**changes)
        if "insize" in changes and s.net != "onnx":
            self._show_spec(s, self.selected_row())  # new shapes in the table at once
        return self.refresh(s)

    def load_weights(self, path: str) -> int:
        """Load a Chainer .npz in the worker; a refused file keeps the current weights."""
        return self.apply(weights=os.fspath(path), bn_mode="stored")

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
                                on_rows=lambda rows, prep: j.preview(
                                    ("rows", rows, prep_images(prep), s, prep["layer_inputs"])),
                                on_layer=lambda name, sec, dead: j.preview(("layer", name, sec, dead)))
            if not result.completed:
                return None
            name = selected if selected in result.outputs else next(iter(result.outputs), None)
            montage = layer_montage(name, result.outputs[name], mode, aspect, result.net) \
                if name else None
            return result, name, montage

        return self.worker.submit(job)

    def _sync_controls(self, s: NetworkSettings) -> None:
        """Show ``s`` in the controls without triggering another run (signals blocked)."""
        pairs = ((self.model_box, lambda w: w.setCurrentText(key_of(MODELS, s.net))),
                 (self.insize, lambda w: w.setValue(self._input_size(s))),
                 (self.bn_box, lambda w: w.setCurrentText(key_of(BN_MODES, s.bn_mode))),
                 (self.seed, lambda w: w.setValue(s.seed)),
                 (self.handmade, lambda w: w.setChecked(s.handmade_conv1)))
        pairs += ((self.learned, lambda w: w.setChecked(s.learned_conv1)),)
        for widget, setter in pairs:
            widget.blockSignals(True)
            setter(widget)
            widget.blockSignals(False)
        has_bn = self.has_batch_norm(s)
        self.bn_box.setEnabled(has_bn)
        note = self.result.weights_note if self.loaded_model(s) is not None else None
        self.bn_label.setText(bn_explanation(s, has_bn, model_note=note))
        for w in (self.insize, self.handmade, self.learned, self.seed, self.load_button,
                  self.random_button, self.editor):
            w.setEnabled(s.net != "onnx")
        self._sync_model_controls(s)

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
        result, mode, aspect = self.result, self.view.mode, self.view.aspect()
        self.map_worker.submit(  # a ReLU's output is made again from its input: in the worker
            lambda j: (result, name, layer_montage(name, result.outputs[name], mode, aspect,
                                                   result.net)))

    # -- results -----------------------------------------------------------------------------
    def _on_progress(self, request_id: int, payload) -> None:
        if not self.worker.is_current(request_id):
            return  # a newer request is on its way: its rows will come
        if payload[0] == "rows":
            _, rows, images, s, inputs = payload
            selected = self.selected_layer()
            self.model.set_rows(rows, inputs)
            self.show_inputs_column()
            self.select_layer(selected or "conv1")
            for label, rgb in zip(self.prep_labels, images):
                if label is self.crop_view:
                    label.set_image(rgb)
                else:
                    label.setPixmap(rgb_pixmap(rgb, 120))
            error = next((r.error for r in rows if r.error), "")
            self.input_note.setText(error)
            self.input_note.setStyleSheet("color: #c0392b;" if error else
                                          "color: palette(placeholder-text);")
        else:
            _, name, seconds, dead = payload
            self.model.set_time(name, seconds, dead)

    def _on_finished(self, request_id: int, payload) -> None:
        if not self.worker.is_current(request_id):
            return  # never show an old result over a newer request
        result, name, montage = payload
        self.map_worker.cancel()  # a montage of the previous result must not follow this one
        self.result, self.settings, self._shown_id = result, result.settings, request_id
        if result.settings.net == "onnx":
            self.show_model(result)  # first: the controls describe this model, not the last net
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
            shape = self.result.outputs.shape_of(name)  # no ReLU made again on this thread
            size = count_noun(shape[0], "unit") if len(shape) == 1 else shape_text(shape)
            self.view.title.setText(f"Maps of {name}: {size}")
            self.view.show_montage(montage)

    def _on_failed(self, request_id: int, reason: str) -> None:
        back_to_spec = self.requested.net != self.settings.net or self.requested.spec != self.settings.spec
        self.requested = self.settings  # back to what is shown
        self._sync_controls(self.settings)
        if back_to_spec and self.settings.net != "onnx":
            self._show_spec(self.settings, self.selected_row())
            self.show_layer(self.selected_layer())  # its maps again, not "Loading the model"
        self.message.emit(f"Network: {reason}", "error")

    # -- the pane interface (convlab.ui.panes.base.Pane) ------------------------------------------
    def settled(self) -> bool:
        return (self.result is not None and self._shown_id == self.worker.latest_id
                and not self.worker.busy())

    def undo_stack(self):
        """The layer edits' QUndoStack (the window's Edit > Undo while this pane is in front)."""
        return self.edits.stack

    def export_source(self) -> ExportSource:
        result, loaded = self.result, self.loaded
        if result is None or loaded is None:
            raise ValueError("Nothing to export yet: the network has not run on a photo.")
        cmap, mode = self.view.look()
        return ExportSource(result.outputs, self.selected_layer() or "conv1",
                            lambda: result.settings_record(loaded.record()), cmap, mode, self.view)

    def state(self) -> dict:
        return {"view": self.view.state(), **self.spec_state(),
                "settings": remembered_settings(self.requested, REMEMBERED)}

    def restore(self, state: dict) -> None:
        state = state if isinstance(state, dict) else {}
        self.view.restore(state.get("view", {}) if isinstance(state.get("view"), dict) else {})
        self.restore_spec_state(state)
        self.requested = restored_settings(self.requested, state.get("settings"))
        self._sync_controls(self.requested)

    def shutdown(self) -> None:
        self.worker.shutdown()
        self.map_worker.shutdown()
        self.shapes_worker.shutdown()
        self.field_worker.shutdown()
        self.why.shutdown()
