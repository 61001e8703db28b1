"""Files dropped anywhere on the window open as the photo (a mixin of
:class:`~convlab.ui.main_window.MainWindow`).

Children that take drops themselves (text boxes, views) get an event filter that hands file
drops to the window; other drops (text into a text box) are theirs as before.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QWidget

from convlab.ui import window_state


class FileDropMixin:
    """Needs the window's ``open_image``."""

    def _install_drop_filters(self) -> None:
        """Children that take drops themselves (text boxes, views) hand file drops to us."""
        for child in self.findChildren(QWidget):
            if child.acceptDrops() and not child.property("convlabDropFilter"):
                child.installEventFilter(self)
                child.setProperty("convlabDropFilter", True)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            if window_state.local_files(event.mimeData()):
                self._drop_event(event)
                return True
        return super().eventFilter(obj, event)

    def _drop_event(self, event) -> None:
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        if event.type() == QEvent.Type.Drop:
            self.open_image(window_state.local_files(event.mimeData())[0])

    def dragEnterEvent(self, event) -> None:
        if window_state.local_files(event.mimeData()):
            self._drop_event(event)
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent
    dropEvent = dragEnterEvent
