"""Helpers for the UI tests."""

from __future__ import annotations

RESULT_MS = 20_000  # generous: CI machines are slow; nothing here asserts on time


def change_and_wait(qtbot, win, name, value):
    """Set the named control, wait for the full result of exactly that request."""
    from PySide6.QtWidgets import QWidget

    spin = win.findChild(QWidget, name)
    with qtbot.waitSignal(win.explorer.resultReady, timeout=RESULT_MS,
                          check_params_cb=lambda rid: rid == win.explorer.worker.latest_id):
        spin.setValue(value)
    return spin


def network_pane(qtbot):
    """A shown NetworkPane at 1280x760, owned by ``qtbot`` (the caller shuts it down)."""
    from convlab.ui.panes.network import NetworkPane

    widget = NetworkPane()
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    widget.show()
    return widget
