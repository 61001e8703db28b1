"""Undo and redo of the explorer's settings (Ctrl+Z / Ctrl+Shift+Z, and the View menu).

Every change of the controls is one step holding the settings before and after it (Reset to
defaults too). The steps of one slider drag merge into one, as a spin box stepped ten times is
one step in the layer editor. Undoing shows the old settings through the controls, which ask
for the maps as any change does; remembered settings restored at start-up are not a step.
"""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QAbstractSpinBox

from convlab.engine.explorer import ExplorerSettings
from convlab.ui.widgets.undo_keys import UndoKeysToTheStack

MERGE_ID = 24  # QUndoCommand.id of a settings step (merged only within one drag)


def changed_fields(before: ExplorerSettings, after: ExplorerSettings) -> list[str]:
    return [f.name for f in fields(ExplorerSettings)
            if getattr(before, f.name) != getattr(after, f.name)]


class SettingsStep(QUndoCommand):
    """``before`` -> ``after``; ``drag`` names the slider whose drag it belongs to (or None)."""

    def __init__(self, history, before, after, drag: str | None):
        names = changed_fields(before, after)
        text = (f"{names[0].replace('_', ' ')} {getattr(before, names[0])} → "
                f"{getattr(after, names[0])}" if len(names) == 1 else "settings")
        super().__init__(text)
        self.history, self.before, self.after, self.drag = history, before, after, drag
        self._done = True  # pushed after the controls already show ``after``

    def id(self) -> int:
        return MERGE_ID

    def mergeWith(self, other) -> bool:
        if self.drag is None or other.drag != self.drag:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self.history.show(self.after)

    def undo(self) -> None:
        self.history.show(self.before)


class SettingsHistory(QObject):
    """The explorer pane's undo stack; ``undo_action`` and ``redo_action`` for the menus."""

    def __init__(self, pane):
        super().__init__(pane)
        self.pane, self.stack = pane, QUndoStack(self)
        self.current = pane.settings()
        self._showing = False
        self.undo_action = self.stack.createUndoAction(self, "&Undo setting")
        self.undo_action.setObjectName("actionUndoSetting")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action = self.stack.createRedoAction(self, "&Redo setting")
        self.redo_action.setObjectName("actionRedoSetting")
        self.redo_action.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            pane.addAction(action)  # the keys work anywhere in the pane, as in the Network's
        keys = UndoKeysToTheStack(self)
        for spin in pane.controls.findChildren(QAbstractSpinBox):
            keys.watch(spin)
        pane.controls.changed.connect(self._changed)

    def actions(self) -> list:
        return [self.undo_action, self.redo_action]

    def start_here(self) -> None:
        """Forget the steps: what the controls show now is where undo stops (after a restore)."""
        self.stack.clear()
        self.current = self.pane.settings()

    def show(self, settings: ExplorerSettings) -> None:
        """Put ``settings`` in the controls (an undo or redo), not as a new step."""
        self._showing = True
        try:
            self.pane.set_settings(settings)
        finally:
            self._showing = False
        self.current = self.pane.settings()

    def _changed(self) -> None:
        after = self.pane.settings()
        if self._showing or after == self.current:
            return
        before, self.current = self.current, after
        controls = self.pane.controls
        drag = next((key for key, slider in controls.sliders.items() if slider.isSliderDown()),
                    None)
        self.stack.push(SettingsStep(self, before, after, drag))
