"""Undo and redo in the explorer (issue 24: "the explorer has no undo at all, only Reset")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QPushButton, QWidget

from tests.ui.helpers import RESULT_MS, change_and_wait

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def keys_and_wait(qtbot, win, widget, modifier):
    with qtbot.waitSignal(win.explorer.resultReady, timeout=RESULT_MS,
                          check_params_cb=lambda rid: rid == win.explorer.worker.latest_id):
        qtbot.keyClick(widget, "z", modifier=modifier)


def test_ctrl_z_in_a_setting_box_undoes_and_ctrl_shift_z_redoes(qtbot, window):
    explorer = window.explorer
    spin = change_and_wait(qtbot, window, "kernelSize", 5)
    change_and_wait(qtbot, window, "stride", 2)
    window.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    keys_and_wait(qtbot, window, spin, CTRL)
    assert explorer.settings().stride == 4 and explorer.settings().kernel == 5
    keys_and_wait(qtbot, window, spin, CTRL)
    assert explorer.settings().kernel == 11
    assert explorer.output.result.settings.kernel == 11  # the maps follow
    keys_and_wait(qtbot, window, spin, CTRL | SHIFT)
    assert explorer.settings().kernel == 5 and explorer.settings().stride == 4


def test_reset_is_one_step_the_menu_undoes(qtbot, window):
    explorer = window.explorer
    change_and_wait(qtbot, window, "filters", 8)
    change_and_wait(qtbot, window, "padding", 3)
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        qtbot.mouseClick(window.findChild(QPushButton, "resetDefaults"), Qt.MouseButton.LeftButton)
    assert explorer.settings().filters == 96
    undo = window.findChild(QAction, "actionUndoSetting")
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        undo.trigger()
    assert (explorer.settings().filters, explorer.settings().padding) == (8, 3)
    assert window.findChild(QWidget, "padding").value() == 3


def test_a_slider_drag_is_one_step(qtbot, window):
    explorer = window.explorer
    slider = explorer.controls.sliders["stride"]
    slider.setSliderDown(True)  # the mouse holds it
    for value in (3, 2, 1):
        slider.setValue(value)
    slider.setSliderDown(False)
    qtbot.waitUntil(explorer.settled, timeout=RESULT_MS)
    assert explorer.history.stack.count() == 1
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        window.findChild(QAction, "actionUndoSetting").trigger()
    assert explorer.settings().stride == 4


def test_a_fresh_window_has_nothing_to_undo(window):
    assert not window.findChild(QAction, "actionUndoSetting").isEnabled()


def test_in_the_window_ctrl_z_undoes_the_layer_edit_on_the_network_tab(qtbot, window):
    """Both panes bind Ctrl+Z; each to its own stack, with no ambiguity."""
    net = window.network
    window.show_pane(net)
    qtbot.waitUntil(net.settled, timeout=max(RESULT_MS, 60_000))
    net.select_row(0)
    spin = net.editor.controls["stride"]
    window.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    spin.setValue(2)
    assert net.edits.stack.index() == 1
    before = window.explorer.history.stack.count()
    qtbot.keyClick(spin, "z", modifier=CTRL)
    assert net.edits.stack.index() == 0 and window.explorer.history.stack.count() == before
