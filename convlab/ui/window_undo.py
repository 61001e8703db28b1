"""The window's Edit > Undo / Redo (Ctrl+Z / Ctrl+Shift+Z): they act on the pane in front.

Each pane that has an ``undo_stack()`` (the explorer's settings, the Network pane's layer
edits) adds its ``QUndoStack`` to one ``QUndoGroup``; the tab in front makes its stack the
active one, so the actions' text names that pane's next step ("Undo kernel size") and the
keys undo there. The window's actions own the keys: a pane's own action with the same key (the
Network pane's, which work when the pane stands alone) gives its shortcut up inside the
window, or Qt would find the key ambiguous and do nothing.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QUndoGroup

UNDO_KEYS = (QKeySequence("Ctrl+Z"), QKeySequence("Ctrl+Shift+Z"))


def install_undo(window) -> QUndoGroup:
    """The Edit menu (after File) with Undo and Redo over every pane's stack."""
    group = QUndoGroup(window)
    for pane in window.panes():
        stack = getattr(pane, "undo_stack", None)
        if stack is None:
            continue
        group.addStack(stack())
        for action in pane.actions():  # the window's Undo/Redo take these keys
            if action.shortcut() in UNDO_KEYS:
                action.setShortcut(QKeySequence())
    undo = group.createUndoAction(window, "&Undo")
    undo.setShortcut(UNDO_KEYS[0])
    undo.setObjectName("actionUndo")
    redo = group.createRedoAction(window, "&Redo")
    redo.setShortcut(UNDO_KEYS[1])
    redo.setObjectName("actionRedo")
    bar = window.menuBar()
    menu = bar.addMenu("&Edit")
    menu.addActions([undo, redo])
    first_after_file = bar.actions()[1] if len(bar.actions()) > 2 else None
    if first_after_file is not None:  # File, Edit, Samples, View, ... as desktop apps order them
        bar.insertMenu(first_after_file, menu)
    window.addAction(undo)  # the keys work with the menu bar hidden too
    window.addAction(redo)

    def follow(index: int) -> None:
        pane = window.pane(index)
        stack = getattr(pane, "undo_stack", None)
        group.setActiveStack(stack() if stack is not None else None)

    window.tabs.currentChanged.connect(follow)
    follow(window.tabs.currentIndex())
    return group
