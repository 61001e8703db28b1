"""Editing the Network pane's network: the layer editor, undo/redo, specs in and out, the code tab.

Every edit is checked by building a shapes-only network (``Network.from_spec(init=False)``,
no weights: a few milliseconds) before it goes on the undo stack; a refused edit is one
sentence in the message area and changes nothing. An accepted edit shows at once: the table
from ``summary()`` on the GUI thread (the sizes that would pass a failing layer follow from a
small worker, since finding them tries a thousand input sizes), the code tab, and then the
maps from the pane's worker (the latest edit wins).
"""

from __future__ import annotations

import json
import os

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QFileDialog

from convlab.engine.nets import presets as specs
from convlab.engine.nets.code import chainer_chain, pytorch_module
from convlab.engine.nets import Network
from convlab.pipelines import netfiles
from convlab.ui.panes import spec_edits as E



def read_spec_file(path) -> dict:
    """A spec from a ``.json`` file; ``ValueError`` with one sentence if it is not a valid spec.

    Read as ``convlab shapes --spec`` reads it (``pipelines.netfiles``): a regular file only (a
    named pipe would block the window), at most 4 MiB, UTF-8 JSON without NaN or Infinity, every
    budget of the spec checked, at least one layer."""
    spec = netfiles.read_spec(path)
    if isinstance(spec, list):
        spec = {"name": "custom", "input_shape": list(E.EMPTY["input_shape"]), "layers": spec}
    netfiles.spec_network(spec, path)
    return spec


def matching_preset(spec: dict) -> str | None:
    """The preset ``spec`` is, unchanged (so its settings keep the preset's name)."""
    return next((name for name in specs.PRESETS if specs.preset(name) == spec), None)


class SpecController(QObject):
    """Owns the undo stack and the edit actions of ``pane`` (a NetworkPane)."""

    def __init__(self, pane):
        super().__init__(pane)
        self.pane = pane
        self.stack = QUndoStack(self)
        self.undo_action = self.stack.createUndoAction(self, "&Undo layer edit")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action = self.stack.createRedoAction(self, "&Redo layer edit")
        self.redo_action.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        self.open_action = self._action("&Open network spec…", self.open_dialog, "Ctrl+Shift+O")
        self.save_action = self._action("&Save network spec…", self.save_dialog, "Ctrl+Shift+S")
        for action in (self.undo_action, self.redo_action, self.open_action, self.save_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            pane.addAction(action)
        editor = pane.editor
        editor.addRequested.connect(self.add)
        editor.removeRequested.connect(self.remove)
        editor.moveRequested.connect(self.move)
        editor.argChanged.connect(self.set_arg)
        editor.kindChanged.connect(self.set_kind)

    def _action(self, text, slot, shortcut) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda checked=False: slot())
        return action

    def actions(self) -> list[QAction]:
        """For the window's Network menu."""
        return [self.undo_action, self.redo_action, self.open_action, self.save_action]

    # -- edits --------------------------------------------------------------------------------
    def edit(self, text: str, after: dict, row: int = -1, merge_key: tuple | None = None) -> bool:
        """Check ``after``; if it builds, push it (undoable) and show it. False if refused."""
        before = self.pane.current_spec()
        if after == before:
            return False
        try:
            Network.from_spec(after, init=False)
        except ValueError as exc:
            self.pane.message.emit(f"Network: {exc}", "error")
            self.pane.show_spec_layer(row)  # the editor goes back to what the spec holds
            return False
        self.stack.push(E.SpecEdit(text, before, after, self.pane.set_spec, row, merge_key))
        return True

    def _row(self) -> int:
        return self.pane.selected_row()

    def add(self, kind: str) -> None:
        row = self._row() + 1
        self.edit(f"add {kind}", E.add_layer(self.pane.current_spec(), row, kind), row)

    def remove(self) -> None:
        row = self._row()
        if row >= 0:
            spec = self.pane.current_spec()
            name = spec["layers"][row]["name"]
            after = E.remove_layer(spec, row)
            self.edit(f"remove {name}", after, min(row, len(after["layers"]) - 1))

    def move(self, delta: int) -> None:
        row = self._row()
        spec = self.pane.current_spec()
        if 0 <= row < len(spec["layers"]) and 0 <= row + delta < len(spec["layers"]):
            self.edit("move layer", E.move_layer(spec, row, delta), row + delta)

    def set_arg(self, arg: str, value) -> None:
        row = self._row()
        if row >= 0:
            spec = self.pane.current_spec()
            name = spec["layers"][row]["name"]
            self.edit(f"{name} {arg}", E.set_arg(spec, row, arg, value), row, (row, arg))

    def set_kind(self, kind: str) -> None:
        row = self._row()
        if row >= 0:
            self.edit(f"make a {kind}", E.set_kind(self.pane.current_spec(), row, kind), row)

    def start_from(self, spec: dict, text: str) -> bool:
        return self.edit(text, spec, 0)

    # -- files --------------------------------------------------------------------------------
    def open_spec(self, path) -> bool:
        """Open a ``.json`` spec (undoable); a bad file: one sentence, the network stays."""
        try:
            spec = read_spec_file(path)
        except ValueError as exc:
            self.pane.message.emit(f"Network: {exc}", "error")
            return False
        self.edit(f"open {os.path.basename(os.fspath(path))}", spec, 0)  # False: already shown
        return True

    def save_spec(self, path) -> None:
        text = json.dumps(self.pane.current_spec(), indent=1)
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            self.pane.message.emit(f"Network: the spec cannot be saved: {exc.strerror or exc}.",
                                   "error")
            return
        self.pane.message.emit(f"Network spec saved to {path}.", "info")

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.pane, "Open network spec", "",
                                              "Network specs (*.json);;All files (*)")
        if path:
            self.open_spec(path)

    def save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.pane, "Save network spec",
                                              f"{self.pane.current_spec().get('name', 'net')}.json",
                                              "Network specs (*.json)")
        if path:
            self.save_spec(path)


def network_code(net) -> tuple[str, str]:
    """``(Chainer, PyTorch)`` code of a (shapes-only) network."""
    if not net.layers:
        return "# An empty stack: add a layer.", "# An empty stack: add a layer."
    return chainer_chain(net), pytorch_module(net)
