"""Trained models in the Network pane (a mixin of :class:`~convlab.ui.panes.network.NetworkPane`):
"Open model… (.onnx)", the preprocessing a model expects, its class names, the dialog for a
Chainer weights file and the actions of the window's Network menu.

The file is parsed by :func:`convlab.models.load_onnx` in the pane's worker (never on the GUI
thread); a file that cannot be run is one sentence in the message area and the current network
stays. The model runs with its BatchNormalization's stored averages (it is trained). Without the
``onnx`` package the action says how to install it: ``pip install "convlab[onnx]"``.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QFileDialog, QPushButton

from convlab.models import INSTALL_HINT, onnx_available
from convlab.models.preprocess import PRESETS

PREPROCESS_TIP = ("How the photo becomes the model's input. ImageNet mean/std (torchvision "
                  "models, most ONNX exports): RGB in 0..1, minus (0.485, 0.456, 0.406), "
                  "divided by (0.229, 0.224, 0.225). Chainer: 0..255 minus the ImageNet means, "
                  "divided by 255. 0..1: RGB unchanged. The crop is the model's input size.")


class ModelMixin:
    """Needs the pane's ``requested``, ``refresh``, ``message``, ``weights_row``, ``edits``,
    ``load_weights``."""

    def _model_controls(self) -> None:
        self.open_model_button = QPushButton("Open model… (.onnx)", objectName="openModel")
        self.open_model_button.setToolTip(
            "A trained model exported to ONNX (torch.onnx.export, tf2onnx, onnx-chainer): "
            "ConvLab reads it and runs it on its own engine, with the same table, maps and "
            "receptive fields. Needs the onnx package: pip install \"convlab[onnx]\".")
        self.open_model_button.clicked.connect(self.open_model_dialog)
        self.prep_box = QComboBox(objectName="preprocess")
        self.prep_box.addItems(list(PRESETS.values()))
        self.prep_box.setToolTip(PREPROCESS_TIP)
        self.prep_box.currentTextChanged.connect(self._preprocess_chosen)
        self.labels_button = QPushButton("Labels…", objectName="chooseLabels")
        self.labels_button.setToolTip("A text file with one class name per line, for the top-5 "
                                      "(a labels.txt or synset_words.txt beside the model is "
                                      "found by itself).")
        self.labels_button.clicked.connect(self.choose_labels_dialog)
        for w in (self.prep_box, self.labels_button, self.open_model_button):
            self.weights_row.addWidget(w)

    def _sync_model_controls(self, s) -> None:
        self.prep_box.blockSignals(True)
        self.prep_box.setCurrentText(PRESETS.get(s.preprocess, ""))
        self.prep_box.blockSignals(False)
        self.prep_box.setVisible(s.net == "onnx")
        self.labels_button.setVisible(s.net == "onnx")
        from convlab.ui.panes.network_parts import MODEL_CAPTIONS, PREP_CAPTIONS

        for label, text in zip(self.prep_captions,
                               MODEL_CAPTIONS if s.net == "onnx" else PREP_CAPTIONS):
            label.setText(text)

    def open_model(self, path, *, preprocess=None, labels=None) -> int:
        """Open an ONNX model in the worker; returns the request id (0 when refused at once)."""
        if not onnx_available():
            self.message.emit(f"Network: {INSTALL_HINT}", "error")
            return 0
        if self.requested.net != "onnx":
            self._last_spec = self.current_spec()
        preset = preprocess if preprocess in PRESETS else "imagenet"
        s = self.requested.replace(net="onnx", model=os.fspath(path), preprocess=preset,
                                   labels=labels if isinstance(labels, str) else None,
                                   bn_mode="stored", weights=None)
        self.clear_field()
        self._show_loading(os.path.basename(os.fspath(path)))
        return self.refresh(s)

    def _show_loading(self, name: str) -> None:
        """Until the model's first result: say it loads, with no other network's table or maps."""
        self.model.set_rows([], {})
        self.view.clear(f"Loading the model {name}: it is read, checked and run once on the "
                        "photo; a large one takes a while.")
        self.view.title.setText(f"Loading {name}…")

    def open_model_dialog(self) -> None:
        if not onnx_available():
            self.message.emit(f"Network: {INSTALL_HINT}", "error")
            self._sync_controls(self.requested)
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open a trained model", "",
                                              "ONNX models (*.onnx);;All files (*)")
        if path:
            self.open_model(path)
        self._sync_controls(self.requested)

    def menu_actions(self) -> list:
        """The actions for the window's Network menu (their shortcuts work inside the pane)."""
        action = QAction("Open &model… (.onnx)", self)
        action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda checked=False: self.open_model_dialog())
        self.addAction(action)
        return self.edits.actions() + [action]

    def loaded_model(self, s):
        """The network of the model ``s`` opens, once its result is in (None while it loads)."""
        shown = self.result.settings if self.result is not None else None
        if s.net != "onnx" or shown is None or shown.net != "onnx" or shown.model != s.model:
            return None
        return self.net_shapes

    def _input_size(self, s) -> int:
        """The input size the spin box shows: a model's own (224 for the ONNX zoo), else ``insize``."""
        model = self.loaded_model(s)
        shape = getattr(model, "input_shape", None)
        return int(shape[-2]) if shape else s.insize

    def load_weights_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load Chainer weights", "",
                                              "Chainer weights (*.npz);;All files (*)")
        if path:
            self.load_weights(path)

    def show_model(self, result) -> None:
        """A model's result arrived: its network gives the fields, the code and the editor."""
        from convlab.ui.panes.network_edit import network_code

        self.net_shapes = result.net
        chainer, pytorch = network_code(result.net)
        self.chainer_code.set_code(chainer)
        self.pytorch_code.set_code(pytorch)
        self.show_spec_layer(self.selected_row())

    def choose_labels(self, path) -> int:
        """Class names for the top-5 (checked in the worker: a bad file is one sentence)."""
        return self.apply(labels=os.fspath(path))

    def choose_labels_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Class names, one per line", "",
                                              "Text files (*.txt);;All files (*)")
        if path:
            self.choose_labels(path)

    def _preprocess_chosen(self, text: str) -> None:
        key = next((k for k, v in PRESETS.items() if v == text), None)
        if key is not None and self.requested.net == "onnx":
            self.apply(preprocess=key)
