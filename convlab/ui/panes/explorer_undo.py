"""Undo and redo of the explorer's settings: every change is one step on a ``QUndoStack``.

The history watches the control panel (``changed`` and ``longestChanged``) and pushes one
:class:`SettingsStep` per change, holding the state before and after: the
:class:`~convlab.engine.explorer.ExplorerSettings` and "Explore at". Consecutive changes of the
same setting merge into one step (``QUndoCommand.mergeWith``) while a slider is held, and for
``MERGE_S`` seconds after the last one when it is stepped from the keyboard; letting go of a
slider ends the step. Reset to defaults is one step (:meth:`SettingsHistory.one_step`);
restoring remembered settings is no step at all (:meth:`SettingsHistory.quietly`).

Undoing shows the old state through ``ControlPanel.set_settings`` (one ``changed``, as any
program change), so the readout, maps and code follow as they do for a slider step.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, fields

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QAbstractSpinBox

from convlab.engine.explorer import ExplorerSettings
from convlab.ui.widgets.undo_keys import UndoKeysToTheStack

MERGE_S = 0.8  # keyboard steps of one setting closer than this are one undo step
LABELS = {"kernel": "kernel size", "pool": "pooling window", "pool_stride": "pooling stride",
          "pool_mode": "pooling kind", "batch_norm": "BatchNormalization", "relu": "ReLU",
          "grayscale": "input", "bank": "kernel bank", "same": "'same' padding",
          "transposed": "convolution mode", "longest": "Explore at"}


@dataclass(frozen=True)
class PanelState:
    """What one undo step restores: the settings and "Explore at" (pixels)."""

    settings: ExplorerSettings
    longest: int

    def changed(self, other: "PanelState") -> frozenset:
        """The names of the fields that differ (``"longest"`` for Explore at)."""
        names = {f.name for f in fields(ExplorerSettings)
                 if getattr(self.settings, f.name) != getattr(other.settings, f.name)}
        return frozenset(names | ({"longest"} if self.longest != other.longest else set()))


def describe(names: frozenset) -> str:
    """The undo step's text: "kernel size", "stride and padding", ..."""
    words = sorted(LABELS.get(n, n.replace("_", " ")) for n in names)
    return " and ".join(words) if len(words) <= 2 else f"{len(words)} settings"


class SettingsStep(QUndoCommand):
    """One step: ``apply(state)`` shows ``after`` (redo) or ``before`` (undo). Mergeable steps
    (``key`` set) take in the next step of the same key while ``history.may_merge`` says so."""

    def __init__(self, history: "SettingsHistory", before: PanelState, after: PanelState,
                 text: str, key: frozenset | None):
        super().__init__(text)
        self.history, self.before, self.after, self.key = history, before, after, key
        self.last = time.monotonic()
        self.open = key is not None  # may still take in the next change of its setting
        self._done = True  # pushed after the change happened: the first redo shows nothing new

    def id(self) -> int:  # noqa: A003 (Qt's name)
        return 24 if self.key is not None else -1

    def mergeWith(self, other) -> bool:  # noqa: N802 (Qt's name)
        if not (isinstance(other, SettingsStep) and self.open and other.key == self.key
                and self.history.may_merge(self.last)):
            return False
        self.after, self.last = other.after, other.last
        return True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self.history.apply(self.after)

    def undo(self) -> None:
        self.history.apply(self.before)


class SettingsHistory(QObject):
    """The explorer's undo stack; see the module docstring. ``controls`` is its ControlPanel.

    ``undo_action`` / ``redo_action`` act on this stack alone (the View menu's "Undo setting");
    their keys work inside ``parent`` (the pane) when it stands alone. In the window, Edit >
    Undo / Redo (:mod:`convlab.ui.window_undo`) own the keys and act on the pane in front."""

    def __init__(self, controls, parent=None):
        super().__init__(parent)
        self.controls = controls
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(200)
        self._quiet = 0  # > 0: changes are not recorded (undo itself, restore, one_step)
        self.state = self.current()
        controls.changed.connect(self._changed)
        controls.longestChanged.connect(self._changed)
        for slider in controls.sliders.values():
            slider.sliderReleased.connect(self.close_step)
        self.undo_action = self.stack.createUndoAction(self, "&Undo setting")
        self.undo_action.setObjectName("actionUndoSetting")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action = self.stack.createRedoAction(self, "&Redo setting")
        self.redo_action.setObjectName("actionRedoSetting")
        self.redo_action.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        for action in self.actions():
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            if parent is not None:
                parent.addAction(action)
        keys = UndoKeysToTheStack(self)  # Ctrl+Z in a committed number box undoes the setting
        for spin in controls.findChildren(QAbstractSpinBox):
            keys.watch(spin)

    def actions(self) -> list:
        return [self.undo_action, self.redo_action]

    def current(self) -> PanelState:
        return PanelState(self.controls.settings(), int(self.controls.longest.value()))

    def may_merge(self, last: float) -> bool:
        """A change joins the open step while a slider is held or soon after the last one."""
        return self.controls.dragging() or time.monotonic() - last < MERGE_S

    def close_step(self) -> None:
        """The next change starts a new step (a slider was let go)."""
        top = self.stack.command(self.stack.index() - 1) if self.stack.index() else None
        if isinstance(top, SettingsStep):
            top.open = False

    def _changed(self, *_) -> None:
        if self._quiet:
            return
        now = self.current()
        if now == self.state:
            return
        before, self.state = self.state, now
        names = before.changed(now)
        self.stack.push(SettingsStep(self, before, now, describe(names), names))

    @contextmanager
    def quietly(self):
        """Changes made inside are no step; the state after them is the new starting point."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1
            if not self._quiet:
                self.state = self.current()

    @contextmanager
    def one_step(self, text: str):
        """Everything changed inside is one undo step called ``text`` (Reset to defaults)."""
        before = self.state
        with self.quietly():
            yield
        if self.state != before:
            self.stack.push(SettingsStep(self, before, self.state, text, None))

    def apply(self, state: PanelState) -> None:
        """Show ``state`` in the controls (undo and redo); the pane recomputes as for any change."""
        with self.quietly():
            self.controls.set_settings(state.settings)
            if self.controls.longest.value() != state.longest:
                self.controls.longest.setValue(state.longest)  # the photo is read again
        self.close_step()
