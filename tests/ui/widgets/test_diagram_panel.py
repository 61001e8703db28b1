"""The arithmetic diagram page: play, pause, step, scrub, keyboard, stages, photo mode."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from convlab.engine.explorer import ExplorerSettings, plan_explorer
from convlab.render.diagram import diagram_for
from convlab.ui.panes.explorer import ExplorerPane
from convlab.ui.widgets.diagram_panel import DiagramPanel


def test_keyboard_steps_and_plays_and_the_scrub_follows(qtbot):
    panel = DiagramPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    s = ExplorerSettings(kernel=3, stride=2, padding=1, dilation=2)
    panel.set_state(s, 20, 20)
    assert panel.diagram.count == diagram_for(s, "conv", 20, 20).count == 9 * 9  # (20 + 2 - 5) // 2 + 1 = 9
    panel.setFocus()
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    assert panel.position() == 2 and panel.scrub.value() == 2
    qtbot.keyClick(panel, Qt.Key.Key_Left)
    assert panel.position() == 1
    assert "window 1 of 81: output row 0, column 1" in panel.counts.text()  # counted from 0
    panel.scrub.setValue(57)
    assert panel.position() == 57
    qtbot.keyClick(panel, Qt.Key.Key_Space)
    assert panel.is_playing()
    qtbot.waitUntil(lambda: panel.position() > 57, timeout=3000)  # 5 windows a second
    qtbot.keyClick(panel, Qt.Key.Key_Space)
    assert not panel.is_playing()
    panel.grab()  # paints without error
    panel.activateWindow()
    panel.scrub.setFocus()
    qtbot.waitUntil(panel.scrub.hasFocus)
    qtbot.mouseClick(panel.canvas, Qt.MouseButton.LeftButton)  # a click on the picture
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel)  # gives the keys to the panel


def test_pool_stage_and_corner_show_the_partial_window(qtbot):
    panel = DiagramPanel()
    qtbot.addWidget(panel)
    s = ExplorerSettings()  # AlexBN conv1: the pool's cover_all window reaches past the edge
    panel.set_state(s, 341, 512)
    conv = {st.name: st for st in plan_explorer(s, 341, 512)}
    assert panel.diagram.corner and (panel.diagram.rows.out, panel.diagram.cols.out) == conv["conv"].shape[1:]
    panel.show_stage("pool")
    panel.corner.setCurrentIndex(1)
    d = panel.diagram
    assert d.stage == "pool" and (d.rows.out, d.cols.out) == conv["pool"].shape[1:]
    panel.set_position(d.count - 1)
    assert d.window(d.count - 1).partial and "partial: past the edge" in panel.counts.text()
    assert "reaches 1 past the edge" in panel.counts.text()
    panel.set_state(s.replace(pool=1), 341, 512)  # no pooling: back to the convolution
    assert panel.diagram.stage == "conv"


def test_photo_mode_plays_every_window_and_fills_in_the_worker_maps(qtbot):
    panel = DiagramPanel()
    qtbot.addWidget(panel)
    image = np.random.default_rng(0).random((40, 30, 3), dtype=np.float32)
    s = ExplorerSettings(kernel=5, stride=2, pool=1)
    panel.set_state(s, 40, 30, image)
    panel.on_photo.setChecked(True)
    assert panel.diagram.count == 18 * 13 and panel.canvas.photo is not None
    panel.set_maps({"conv": np.ones((96, 18, 13), np.float32)}, s)
    assert panel.canvas.output is not None
    panel.set_maps({"conv": np.ones((96, 5, 5), np.float32)}, s.replace(kernel=3))  # stale
    assert panel.canvas.output.height() == 18
    panel.resize(800, 400)
    panel.grab()


def test_the_explorer_has_the_diagram_beside_the_maps(qtbot):
    pane = ExplorerPane()
    qtbot.addWidget(pane)
    tabs = pane.map_tabs
    assert tabs.widget(1) is pane.diagram and "Dumoulin" in tabs.tabToolTip(1)
    pane.shutdown()


def test_the_explorer_feeds_the_diagram_settings_at_once_and_maps_when_they_come(qtbot):
    from convlab.pipelines.sources import LoadedImage
    from tests.ui.helpers import RESULT_MS

    pane = ExplorerPane()
    qtbot.addWidget(pane)
    image = np.random.default_rng(2).random((48, 64, 3), dtype=np.float32)
    pane.set_settings(ExplorerSettings(kernel=5, stride=2, filters=6))
    with qtbot.waitSignal(pane.resultReady, timeout=RESULT_MS):
        pane.set_image(LoadedImage((48, 64), image, 1.0, "noise", None))
    d = pane.diagram.diagram
    assert (d.rows.out, d.cols.out) == (22, 30) and d.stage == "conv"  # (48 - 5) // 2 + 1
    pane.controls.sliders["stride"].setValue(1)  # the diagram follows before the worker answers
    assert (pane.diagram.diagram.rows.out, pane.diagram.diagram.cols.out) == (44, 60)
    pane.stage_group.button(3).click()  # the Pool stage button shows the pooling walk
    assert pane.diagram.diagram.stage == "pool"
    qtbot.waitUntil(lambda: "pool" in pane.diagram._maps, timeout=RESULT_MS)
    pane.diagram.on_photo.setChecked(True)
    assert pane.diagram.canvas.output is not None and pane.diagram.canvas.photo is not None
    pane.shutdown()


def test_a_hidden_diagram_builds_nothing_and_is_up_to_date_when_shown(qtbot):
    """Behind the feature maps the diagram only stores the settings and maps (a slider step
    costs it nothing); showing its tab builds the walk, the stage and the photo from the latest."""
    from convlab.pipelines.sources import LoadedImage
    from tests.ui.helpers import RESULT_MS

    pane = ExplorerPane()
    qtbot.addWidget(pane)
    pane.resize(1100, 700)
    pane.show()
    qtbot.waitExposed(pane)
    image = np.random.default_rng(3).random((48, 64, 3), dtype=np.float32)
    pane.set_settings(ExplorerSettings(kernel=5, stride=2, filters=6))
    with qtbot.waitSignal(pane.resultReady, timeout=RESULT_MS):
        pane.set_image(LoadedImage((48, 64), image, 1.0, "noise", None))
    assert pane.map_tabs.currentIndex() == 0 and not pane.diagram.isVisible()
    before = pane.diagram.diagram
    with qtbot.waitSignal(pane.resultReady, timeout=RESULT_MS):
        pane.controls.sliders["stride"].setValue(1)
    assert pane.diagram.diagram is before  # parked: nothing rebuilt behind the maps
    pane.stage_group.button(3).click()  # the Pool stage, asked for while hidden
    qtbot.waitUntil(lambda: "pool" in pane.diagram._maps, timeout=RESULT_MS)
    pane.diagram.on_photo.setChecked(True)  # a click on the (hidden) page's own control
    pane.map_tabs.setCurrentIndex(1)
    qtbot.waitUntil(pane.diagram.isVisible)
    d = pane.diagram.diagram
    plan = {st.name: st.shape for st in plan_explorer(pane.settings(), 48, 64)}
    assert d.stage == "pool" and (d.rows.out, d.cols.out) == plan["pool"][1:]
    assert d.count == plan["pool"][1] * plan["pool"][2]  # the photo mode plays every window
    assert pane.diagram.canvas.output is not None and pane.diagram.canvas.output.height() == plan["pool"][1]
    assert f" of {d.count:,}: " in pane.diagram.counts.text()  # the labels describe this walk
    pane.map_tabs.setCurrentIndex(0)
    with qtbot.waitSignal(pane.resultReady, timeout=RESULT_MS):
        pane.controls.sliders["kernel"].setValue(3)  # hidden again: the next show catches up
    pane.map_tabs.setCurrentIndex(1)
    qtbot.waitUntil(pane.diagram.isVisible)
    plan = {st.name: st.shape for st in plan_explorer(pane.settings(), 48, 64)}
    assert (pane.diagram.diagram.rows.out, pane.diagram.diagram.cols.out) == plan["pool"][1:]
    pane.shutdown()
