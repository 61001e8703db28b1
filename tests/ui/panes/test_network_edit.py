"""Editing the Network pane's layers: the table follows at once, undo/redo, specs in and out, code."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtWidgets import QSpinBox

from tests.ui.helpers import RESULT_MS, network_pane

NET_MS = max(RESULT_MS, 60_000)


@pytest.fixture
def pane(qtbot):
    widget = network_pane(qtbot)
    yield widget
    widget.shutdown()


def _column(pane, name):
    from convlab.ui.widgets.layer_table import COLUMNS

    m, c = pane.model, COLUMNS.index(name)
    return {m.data(m.index(r, 0)): m.data(m.index(r, c)) for r in range(m.rowCount())}


def _set_arg(pane, row, arg, value):
    pane.select_row(row)
    spin = pane.editor.controls[arg]
    assert isinstance(spin, QSpinBox)
    spin.setValue(value)


def test_editing_a_stride_updates_the_row_and_everything_below_without_the_worker(pane, qtbot):
    image = np.random.default_rng(0).random((300, 400, 3), dtype=np.float32)
    pane.set_image(SimpleNamespace(original=image, image=image))  # the worker is busy from now on
    assert _column(pane, "output")["conv1"] == "96 × 55 × 55"
    _set_arg(pane, 0, "stride", 2)
    # no waiting: the table already shows the new shapes
    out = _column(pane, "output")
    assert out["conv1"] == "96 × 109 × 109" and out["pool1"] == "96 × 54 × 54"
    assert out["pool5"] == "256 × 13 × 13" and out["fc6"].startswith("fails")
    assert out["fc7"] == out["fc8"] == "—", "the layers after the failing one have no shape"
    assert _column(pane, "jump")["pool5"] == "16" and _column(pane, "RF")["conv1"] == "11"
    assert _column(pane, "act mem")["conv1"] == f"{96 * 109 * 109 * 4 / 2 ** 20:,.1f} MB"
    assert "fc6" in pane.input_note.text() and "9,216" in pane.input_note.text()
    assert pane.requested.net == "custom" and pane.model_box.currentText() == "Your network (edited)"
    assert pane.worker.busy(), "the table did not wait for the forward pass"
    # the sizes that would pass follow from the small worker; the maps from the big one
    qtbot.waitUntil(lambda: "Square inputs" in pane.input_note.text(), timeout=NET_MS)
    qtbot.waitUntil(lambda: pane.result is not None and pane.result.settings == pane.requested,
                    timeout=NET_MS)
    assert pane.result.outputs["conv1"].shape == (96, 109, 109) and "fc6" not in pane.result.outputs


def test_undo_and_redo_walk_the_edits_back_and_forth(pane, qtbot):
    _set_arg(pane, 0, "stride", 2)
    _set_arg(pane, 0, "stride", 3)          # merged with the previous step: one undo
    pane.select_row(4)
    pane.edits.remove()                     # conv2 goes
    assert "conv2" not in _column(pane, "output")
    qtbot.keyClick(pane.table, "z", modifier=pane_modifier())
    assert _column(pane, "output")["conv2"] == "256 × 36 × 36"
    pane.edits.undo_action.trigger()
    assert _column(pane, "output")["conv1"] == "96 × 55 × 55" and pane.requested.net == "alexbn"
    assert pane.requested.spec is None, "back at the preset: its name and weights come back"
    pane.edits.redo_action.trigger()
    assert _column(pane, "output")["conv1"] == "96 × 73 × 73"


def pane_modifier():
    from PySide6.QtCore import Qt

    return Qt.KeyboardModifier.ControlModifier


def test_build_from_an_empty_stack_add_move_and_change_kind(pane):
    pane.model_box.setCurrentText("Empty stack")
    assert pane.model.rowCount() == 0 and pane.requested.net == "custom"
    pane.edits.add("conv")
    pane.edits.add("pool")
    assert list(_column(pane, "output")) == ["conv1", "pool1", "total"]
    assert _column(pane, "output")["pool1"] == "64 × 113 × 113"
    pane.select_row(1)
    pane.edits.move(-1)
    assert list(_column(pane, "output"))[:2] == ["pool1", "conv1"]
    assert _column(pane, "output")["pool1"] == "3 × 113 × 113"
    pane.select_row(1)
    pane.edits.set_kind("deconv")
    assert _column(pane, "kind")["conv1"] == "deconv" and _column(pane, "output")["conv1"] == "64 × 226 × 226"
    assert "nn.ConvTranspose2d(3, 64, kernel_size=4, stride=2, padding=1)" in \
        pane.pytorch_code.box.toPlainText()
    assert "L.Deconvolution2D(3, 64, 4, stride=2, pad=1)" in pane.chainer_code.box.toPlainText()


def test_a_refused_edit_says_why_and_changes_nothing(pane):
    messages = []
    pane.message.connect(lambda text, level: messages.append(text))
    pane.select_row(1)
    pane.editor.argChanged.emit("name", "conv1")   # a duplicate name
    assert "duplicate" in messages[-1] and _column(pane, "output")["bn1"] == "96 × 55 × 55"
    assert not pane.edits.stack.canUndo()


def test_specs_save_open_and_a_bad_file_keeps_the_network(pane, tmp_path):
    _set_arg(pane, 0, "stride", 2)
    path = tmp_path / "mine.json"
    pane.edits.save_spec(path)
    saved = json.loads(path.read_text())
    assert saved["layers"][0]["stride"] == 2
    pane.model_box.setCurrentText("Alex (LRN)")
    assert pane.edits.open_spec(path)
    assert _column(pane, "output")["conv1"] == "96 × 109 × 109"
    messages = []
    pane.message.connect(lambda text, level: messages.append(text))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"layers": [{"name": "c", "kind": "convolution"}]}))
    assert not pane.edits.open_spec(bad)
    assert "bad.json" in messages[-1] and "unknown kind" in messages[-1]
    assert _column(pane, "output")["conv1"] == "96 × 109 × 109"


def test_the_edited_spec_is_remembered(pane, qtbot):
    from convlab.ui.panes.network import NetworkPane

    _set_arg(pane, 0, "stride", 2)
    state = json.loads(json.dumps(pane.state()))
    other = NetworkPane()
    qtbot.addWidget(other)
    other.restore(state)
    assert other.requested.net == "custom" and _column(other, "output")["conv1"] == "96 × 109 × 109"
    other.shutdown()


def test_conv1_learned_from_photos_for_your_own_network(pane, qtbot):
    """The weights choice works on a user spec: its first convolution gets ICA kernels."""
    image = np.random.default_rng(2).random((80, 90, 3), dtype=np.float32)
    pane.image, pane.loaded = image, SimpleNamespace(original=image, image=image)
    pane.insize.setValue(64)
    pane.model_box.setCurrentText("Empty stack")
    pane.edits.add("conv")
    _set_arg(pane, 0, "ksize", 5)
    _set_arg(pane, 0, "out_channels", 8)
    qtbot.waitUntil(lambda: pane.result is not None and pane.result.settings == pane.requested,
                    timeout=NET_MS)
    random_maps = pane.result.outputs["conv1"].copy()
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.learned.setChecked(True)
    assert "learned-from-photos (ICA) conv1" in pane.weights_label.text()
    assert not pane.handmade.isChecked()
    assert pane.result.outputs["conv1"].shape == random_maps.shape == (8, 62, 62)  # k5, pad 1
    assert not np.allclose(pane.result.outputs["conv1"], random_maps)


def test_ctrl_z_in_the_argument_box_undoes_the_edit(pane, qtbot):
    """Issue 24: Ctrl+Z did nothing while the cursor was still in the layer editor's box (its
    QLineEdit took the shortcut for its own text undo); the menu's Undo worked."""
    from PySide6.QtCore import Qt

    pane.select_row(0)
    spin = pane.editor.controls["stride"]
    pane.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "2")  # keys go to the focus widget, the box, as Qt delivers them
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert _column(pane, "output")["conv1"] == "96 × 109 × 109"
    assert spin.hasFocus()
    qtbot.keyClick(spin, "z", modifier=Qt.KeyboardModifier.ControlModifier)
    assert _column(pane, "output")["conv1"] == "96 × 55 × 55"
    assert pane.editor.controls["stride"].value() == 4
    qtbot.keyClick(pane.editor.controls["stride"], "z",
                   modifier=Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert _column(pane, "output")["conv1"] == "96 × 109 × 109"
