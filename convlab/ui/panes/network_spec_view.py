"""The Network pane's spec side (a mixin of :class:`~convlab.ui.panes.network.NetworkPane`):
which network is asked for, the table at once from a shapes-only network, the layer editor's
selection, the code tabs, and the choices remembered across sessions.

The table follows every change without waiting for the worker: ``Network.from_spec(init=False)``
(no weights) and ``summary()`` take a few milliseconds on the GUI thread. Only the search for
input sizes that would get through a failing layer (a thousand trial sizes) runs in a small
worker of its own, and fills the failing row's reason in when it is done.
"""

from __future__ import annotations

import json
import os

from convlab.engine.nets import presets as specs
from convlab.engine.nets import Network
from convlab.pipelines.network import input_shape, quick_summary, spec_text
from convlab.ui.panes import spec_edits
from convlab.ui.panes.network_edit import matching_preset, network_code
from convlab.ui.panes.network_parts import MODELS


class SpecPaneMixin:
    """Needs the pane's ``requested``, ``model``, ``table``, ``editor``, ``edits``, workers."""

    # -- which network --------------------------------------------------------------------------
    def choose_model(self, text: str) -> None:
        """The model menu: a preset or the empty stack (an undoable edit), your last edited
        network, or the ONNX model (opened with "Open model…")."""
        value = MODELS.get(text)
        spec = (specs.preset(value) if value in specs.PRESETS else
                spec_edits.empty_spec() if value == "empty" else
                self._last_custom if value == "custom" else None)
        if spec is not None:
            if not self.edits.start_from(spec, f"start from {text}") and self.requested.net == "onnx":
                self.set_spec(spec, 0)  # back from an ONNX model to the spec it replaced
        elif value == "onnx" and self.requested.model:
            self.refresh(self.requested.replace(net="onnx"))
        elif value == "onnx":
            self.open_model_dialog()
        self._sync_controls(self.requested)

    def current_spec(self) -> dict:
        """The spec being edited (for an ONNX model: the one shown before it)."""
        if self.requested.net == "onnx":
            return json.loads(json.dumps(self._last_spec))
        return self.requested.network_spec()

    def has_batch_norm(self, s) -> bool:
        if s.net == "onnx":
            return self.net_shapes is not None and any(l.kind == "bn" for l in self.net_shapes.layers)
        return any(layer.get("kind") == "bn" for layer in s.network_spec()["layers"])

    def set_spec(self, spec: dict, row: int = -1) -> None:
        """Show ``spec`` (the undo commands call this): table, editor and code now, maps next."""
        preset = matching_preset(spec)
        s = self.requested.replace(net=preset or "custom", spec=None if preset else spec_text(spec))
        own, shown = spec.get("input_shape"), self._last_spec.get("input_shape")
        if own and shown and s.net != "onnx" and int(own[1]) != int(shown[1]):
            s = s.replace(insize=int(own[1]))  # a network of another size (LeNet's 28 after 227)
        if preset is None:
            self._last_custom = spec
        self._show_spec(s, row)
        self.refresh(s)

    def _show_spec(self, s, row: int) -> None:
        """The table, editor and code of ``s``'s spec, computed here and now (no weights)."""
        self.requested = s  # what the controls ask for from now on (refresh(s) follows)
        self.clear_field()
        spec = s.network_spec()
        self._last_spec = spec
        net = self.net_shapes = Network.from_spec(spec, init=False)
        shape = input_shape(net, s)
        rows = quick_summary(net, shape)
        self.model.set_rows(rows, {layer.name: layer.inputs for layer in net.layers})
        self.show_inputs_column()
        self.show_rows_error(rows)
        chainer, pytorch = network_code(net)
        self.chainer_code.set_code(chainer)
        self.pytorch_code.set_code(pytorch)
        self.select_row(row if 0 <= row < len(rows) else 0)
        self.show_spec_layer(self.selected_row())
        if any(r.error for r in rows):
            self.shapes_worker.submit(
                lambda j: (s, Network.from_spec(spec, init=False).summary(shape)))

    def show_inputs_column(self) -> None:
        """The "inputs" column only for graphs (a plain stack reads the layer above each time)."""
        from convlab.ui.widgets.layer_table import COLUMNS

        self.table.setColumnHidden(COLUMNS.index("inputs"), not self.model.reads_other_layers())

    def show_rows_error(self, rows) -> None:
        error = next((r.error for r in rows if r.error), "")
        self.input_note.setText(error)
        self.input_note.setStyleSheet("color: #c0392b;" if error else
                                      "color: palette(placeholder-text);")

    def _on_full_rows(self, _request_id: int, payload) -> None:
        s, rows = payload
        if s == self.requested:
            self.model.update_errors(rows)
            self.show_rows_error(rows)

    # -- the table as the layer list --------------------------------------------------------------
    def selected_row(self) -> int:
        row = self.table.currentIndex().row()
        return row if 0 <= row < len(self._layer_specs()) else -1

    def _layer_specs(self) -> list[dict]:
        """The layers as spec dicts: the edited spec's, or (read-only) the ONNX model's."""
        if self.requested.net != "onnx":
            return self.current_spec()["layers"]
        net = self.net_shapes
        return [layer.to_spec() for layer in net.layers] if net is not None and \
            getattr(net, "onnx_tensors", None) is not None else []

    def select_row(self, row: int) -> None:
        layer = self.model.layer_at(row)
        if layer is not None:
            self.select_layer(layer.name)

    def show_spec_layer(self, row: int) -> None:
        """The editor shows layer ``row`` of the spec (nothing for none; read-only for ONNX)."""
        layers = self._layer_specs()
        layer = layers[row] if 0 <= row < len(layers) else None
        self.editor.show_layer(layer, editable=self.requested.net != "onnx")

    def _row_changed(self, current, _previous) -> None:
        self.show_layer(self.selected_layer())
        self.show_spec_layer(self.selected_row())

    # -- remembered ---------------------------------------------------------------------------------
    def spec_state(self) -> dict:
        s = self.requested
        state = {"net": s.net, "insize": s.insize, "seed": s.seed}
        if s.net == "custom":
            state["spec"] = self.current_spec()
        if s.net == "onnx" and s.model:
            state.update(model=s.model, preprocess=s.preprocess, labels=s.labels)
        return state

    def restore_spec_state(self, state: dict) -> None:
        """The network, spec, model and input size of last time; anything unusable is ignored."""
        changes = {k: state[k] for k in ("insize", "seed")
                   if isinstance(state.get(k), int) and not isinstance(state.get(k), bool)}
        if not 16 <= changes.get("insize", 227) <= 512:
            changes.pop("insize")
        net, spec = state.get("net"), None
        if net in specs.PRESETS:
            spec = specs.preset(net)
        elif net == "custom" and isinstance(state.get("spec"), dict):
            try:
                Network.from_spec(state["spec"], init=False)
                spec = state["spec"]
            except ValueError:
                spec = None
        self.requested = self.requested.replace(**changes)
        if spec is not None:
            self.set_spec(spec, 0)
        model = state.get("model")
        if net == "onnx" and isinstance(model, str) and os.path.isfile(model):
            self.open_model(model, preprocess=state.get("preprocess"), labels=state.get("labels"))
        self._sync_controls(self.requested)
