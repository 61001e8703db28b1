"""Undo and redo in the explorer, pressed as a person does: Ctrl+Z / Ctrl+Shift+Z on the window,
Edit > Undo / Redo, a slider dragged with the mouse (one step), Reset to defaults (one step)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QPushButton, QSlider, QSpinBox, QWidget

from convlab.engine.explorer import ExplorerSettings
from convlab.ui.panes import explorer_undo
from tests.ui.helpers import RESULT_MS

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def slider_of(window, name) -> QSlider:
    return window.findChild(QWidget, name).findChild(QSlider)


def settled(qtbot, window):
    qtbot.waitUntil(window.explorer.settled, timeout=RESULT_MS)


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window, key, modifier=modifier)


def step_slider(qtbot, slider, key=Qt.Key.Key_Right, times=1):
    slider.setFocus()
    for _ in range(times):
        qtbot.keyClick(slider, key)


def test_ctrl_z_and_ctrl_shift_z_undo_and_redo_a_setting(qtbot, window, monkeypatch):
    monkeypatch.setattr(explorer_undo, "MERGE_S", 0.0)  # each key press its own step
    explorer = window.explorer
    window.activateWindow()
    step_slider(qtbot, slider_of(window, "stride"), Qt.Key.Key_Left)  # 4 -> 3
    step_slider(qtbot, slider_of(window, "kernelSize"), Qt.Key.Key_Left, times=2)  # 11 -> 9
    assert (explorer.settings().stride, explorer.settings().kernel) == (3, 9)
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert (explorer.settings().stride, explorer.settings().kernel) == (3, 10)
    assert window.findChild(QWidget, "kernelSize").value() == 10
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert explorer.settings() == ExplorerSettings()
    settled(qtbot, window)
    assert explorer.output.result.settings == ExplorerSettings()  # the maps followed
    assert "96 × 126 × 126" in explorer.readout.text()
    press(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert explorer.settings() == ExplorerSettings(stride=3)
    settled(qtbot, window)
    assert explorer.output.result.settings == ExplorerSettings(stride=3)


def test_keyboard_steps_of_one_setting_in_quick_succession_are_one_step(qtbot, window,
                                                                        monkeypatch):
    monkeypatch.setattr(explorer_undo, "MERGE_S", 3600.0)
    window.activateWindow()
    step_slider(qtbot, slider_of(window, "filters"), Qt.Key.Key_Left, times=5)
    step_slider(qtbot, slider_of(window, "padding"), Qt.Key.Key_Right, times=2)
    assert window.explorer.settings() == ExplorerSettings(filters=91, padding=2)
    undo = window.findChild(QAction, "actionUndo")
    assert undo.text() == "&Undo padding"
    undo.trigger()
    assert window.explorer.settings() == ExplorerSettings(filters=91)
    undo.trigger()
    assert window.explorer.settings() == ExplorerSettings()
    assert not undo.isEnabled()


def test_a_slider_dragged_with_the_mouse_is_one_undo_step(qtbot, window):
    slider = slider_of(window, "filters")
    stack = window.explorer.undo_stack()
    handle = slider.style().subControlRect(
        slider.style().ComplexControl.CC_Slider, _option(slider),
        slider.style().SubControl.SC_SliderHandle, slider).center()
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=handle)
    for dx in (20, 40, 60, 80):
        qtbot.mouseMove(slider, QPoint(handle.x() + dx, handle.y()))
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(handle.x() + 80, handle.y()))
    dragged = window.explorer.settings().filters
    assert dragged > 96
    assert stack.count() == 1 and stack.text(0) == "filters"
    window.findChild(QAction, "actionUndo").trigger()
    assert window.explorer.settings().filters == 96
    window.findChild(QAction, "actionRedo").trigger()
    assert window.explorer.settings().filters == dragged
    step_slider(qtbot, slider, Qt.Key.Key_Right)  # after letting go: a new step
    assert stack.count() == 2


def _option(slider):
    from PySide6.QtWidgets import QStyleOptionSlider

    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    return option


def test_reset_to_defaults_is_one_step(qtbot, window):
    explorer = window.explorer
    window.findChild(QWidget, "kernelSize").setValue(5)
    window.findChild(QWidget, "stride").setValue(1)
    window.findChild(QSpinBox, "longestSide").setValue(256)
    changed = ExplorerSettings(kernel=5, stride=1)
    assert explorer.settings() == changed
    qtbot.mouseClick(window.findChild(QPushButton, "resetDefaults"), Qt.MouseButton.LeftButton)
    assert explorer.settings() == ExplorerSettings()
    assert explorer.controls.longest.value() == 512
    assert explorer.undo_stack().text(explorer.undo_stack().count() - 1) == "reset to defaults"
    window.activateWindow()
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert explorer.settings() == changed and explorer.controls.longest.value() == 256
    qtbot.waitUntil(lambda: explorer.loaded.image.shape[:2] == (256, 256) and explorer.settled(),
                    timeout=RESULT_MS)  # the photo is read again at 256
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert explorer.settings() == ExplorerSettings(kernel=5, stride=1)
    assert explorer.controls.longest.value() == 512


def test_undo_acts_on_the_pane_in_front(qtbot, window):
    explorer = window.explorer
    window.findChild(QWidget, "kernelSize").setValue(7)
    undo = window.findChild(QAction, "actionUndo")
    assert undo.isEnabled() and "kernel size" in undo.text()
    window.show_pane(window.network)
    assert window.undo_group.activeStack() is window.network.undo_stack()
    undo.trigger()  # the Network pane has no edit to undo: the explorer's stays
    assert explorer.settings().kernel == 7
    window.show_pane(explorer)
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert explorer.settings().kernel == 11
    assert [a.text() for a in window.menuBar().actions()][:2] == ["&File", "&Edit"]


def test_ctrl_z_in_a_number_box_undoes_the_setting(qtbot, window):
    window.activateWindow()
    seed = window.findChild(QSpinBox, "seed")
    seed.setFocus()
    qtbot.waitUntil(seed.hasFocus)
    seed.lineEdit().selectAll()
    qtbot.keyClicks(seed, "7")
    qtbot.keyClick(seed, Qt.Key.Key_Return)
    assert window.explorer.settings().seed == 7
    qtbot.keyClick(seed, Qt.Key.Key_Z, modifier=CTRL)
    assert window.explorer.settings().seed == 0 and seed.value() == 0


def test_remembered_settings_restore_and_start_the_history(qtbot, tmp_path):
    from convlab.ui.main_window import MainWindow

    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=store)
    qtbot.addWidget(first)
    first.show()
    first.findChild(QWidget, "kernelSize").setValue(5)
    first.findChild(QWidget, "poolSize").setValue(2)
    settled(qtbot, first)
    first.close()
    second = MainWindow(settings=store)
    qtbot.addWidget(second)
    second.show()
    s = second.explorer.settings()
    assert (s.kernel, s.pool, s.pool_stride) == (5, 2, 2)
    assert second.explorer.undo_stack().count() == 0  # restoring is not a step to undo
    assert not second.findChild(QAction, "actionUndo").isEnabled()
    second.findChild(QWidget, "stride").setValue(2)
    second.findChild(QAction, "actionUndo").trigger()
    assert second.explorer.settings() == s
    second.close()


@pytest.mark.parametrize("names, text", [({"kernel"}, "kernel size"),
                                         ({"stride", "padding"}, "padding and stride"),
                                         ({"kernel", "stride", "relu"}, "3 settings")])
def test_step_names(names, text):
    assert explorer_undo.describe(frozenset(names)) == text


def test_in_the_window_ctrl_z_in_the_layer_editor_undoes_the_network_edit(qtbot, window):
    """The Network pane's own Ctrl+Z gives its key to the window's Edit > Undo (else Qt finds
    the key ambiguous); with the Network pane in front the keys undo its layer edits."""
    from tests.ui.panes.test_network_edit import _column

    net = window.network
    window.show_pane(net)
    net.select_row(0)
    spin = net.editor.controls["stride"]
    window.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "2")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert _column(net, "output")["conv1"] == "96 × 109 × 109"
    assert window.findChild(QAction, "actionUndo").text() == "&Undo conv1 stride"
    qtbot.keyClick(spin, Qt.Key.Key_Z, modifier=CTRL)
    assert _column(net, "output")["conv1"] == "96 × 55 × 55"
    assert window.explorer.undo_stack().count() == 0
    qtbot.keyClick(net.editor.controls["stride"], Qt.Key.Key_Z, modifier=CTRL | SHIFT)
    assert _column(net, "output")["conv1"] == "96 × 109 × 109"
