"""The Network pane's "Why?" tab, driven by its real buttons: Grad-CAM and saliency over the crop
with a colour bar (the range the pipeline gives), a unit's picture made in the worker with
progress, kept for a second ask, and stopped by the Stop button."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from convlab.pipelines import attribution as views
from convlab.ui.panes import network_why
from tests.ui.helpers import RESULT_MS, network_pane

NET_MS = max(RESULT_MS, 60_000)


@pytest.fixture
def pane(qtbot):
    widget = network_pane(qtbot)
    image = np.random.default_rng(5).random((260, 300, 3), dtype=np.float32)
    with qtbot.waitSignal(widget.resultReady, timeout=NET_MS):
        widget.set_image(SimpleNamespace(original=image, image=image))
    widget.right.setCurrentWidget(widget.why)
    yield widget
    widget.shutdown()


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_grad_cam_then_saliency_over_the_crop_with_a_colour_bar(pane, qtbot):
    why = pane.why
    why.method.setCurrentIndex(why.method.findData("gradcam"))
    click(qtbot, why.run_button)
    qtbot.waitUntil(lambda: why.bar.levels() is not None, timeout=NET_MS)
    assert why.note.text().startswith("Grad-CAM of class") and "relu5" in why.note.text()
    assert not why.heat.pixmap().isNull()
    s, prep = pane.result.settings, pane.result.prep
    qtbot.waitUntil(lambda: not why.worker.busy(), timeout=NET_MS)
    want = views.explain_photo(pane._runner.network(s), prep["input"], "gradcam",
                               mode=views.engine_mode(s))
    assert why.bar.levels() == pytest.approx((0.0, views.display_top(want)), rel=1e-6)
    why.bar.clear()
    why.method.setCurrentIndex(why.method.findData("saliency"))   # shown: the view follows
    qtbot.waitUntil(lambda: why.bar.levels() is not None, timeout=NET_MS)
    assert why.note.text().startswith("saliency (gradient) of class")


def test_a_typed_class_and_a_bad_one(pane, qtbot):
    why = pane.why
    why.target.setEditText("7")
    click(qtbot, why.run_button)
    qtbot.waitUntil(lambda: "of class 7" in why.note.text(), timeout=NET_MS)
    why.target.setEditText("cat")
    click(qtbot, why.run_button)
    assert "must be a number" in why.note.text()


def test_unit_picture_in_the_worker_with_progress_and_kept(pane, qtbot, monkeypatch):
    threads = []
    real = network_why.feature_visualization

    def spy(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(network_why, "feature_visualization", spy)
    why = pane.why
    why.layer.setCurrentText("conv1")
    why.channel.setValue(3)
    why.steps.setValue(16)
    click(qtbot, why.picture_button)
    qtbot.waitUntil(lambda: why.note.text() == "What conv1 channel 3 wants", timeout=NET_MS)
    assert threads == [False]                          # never on the GUI thread
    assert why.progress.value() == 16 and not why.picture.pixmap().isNull()
    click(qtbot, why.picture_button)                   # the same unit again: kept
    assert why.note.text() == "What conv1 channel 3 wants (kept)" and threads == [False]


def test_stop_ends_a_long_unit_picture(pane, qtbot):
    why = pane.why
    why.layer.setCurrentText("conv2")
    why.steps.setValue(2000)
    click(qtbot, why.picture_button)
    qtbot.waitUntil(lambda: why.progress.value() >= network_why.PREVIEW_EVERY, timeout=NET_MS)
    assert why.stop_button.isEnabled()
    click(qtbot, why.stop_button)
    assert why.note.text() == "Stopped." and not why.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not why.worker.busy(), timeout=NET_MS)
    assert why.progress.value() < 2000 and not why.picture.pixmap().isNull()


def test_whole_layer_grid_fills_in_and_keeps_its_units(pane, qtbot):
    why = pane.why
    why.layer.setCurrentText("conv1")
    why.steps.setValue(3)
    click(qtbot, why.grid_button)
    qtbot.waitUntil(lambda: why.note.text() == "What conv1's first 16 units want",
                    timeout=2 * NET_MS)
    assert why.progress.value() == why.progress.maximum() == 16 * 3
    assert not why.picture.pixmap().isNull()                     # 4 x 4 tiles
    why.channel.setValue(9)
    click(qtbot, why.picture_button)                   # made by the grid: kept
    assert why.note.text() == "What conv1 channel 9 wants (kept)"
