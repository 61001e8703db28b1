"""Compare: "Pin as A" keeps the settings, shapes and maps on screen as A beside the live ones;
pressed as a person does (the button, its shortcut), and A holds its picture, not the maps."""

from __future__ import annotations

import gc
import weakref

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget

from convlab.engine.explorer import ExplorerSettings
from convlab.ui.panes.explorer_compare import compare_html, differences, short_formula
from tests.ui.helpers import RESULT_MS, change_and_wait


def click(qtbot, window, name):
    qtbot.mouseClick(window.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def test_pin_as_a_shows_as_readout_and_maps_beside_the_live_ones(qtbot, window):
    explorer, compare = window.explorer, window.explorer.compare
    picture = explorer.output.montage.image.copy()
    assert not compare.maps_box.isVisible() and not window.findChild(QPushButton, "clearA").isEnabled()
    window.show_pane(window.network)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_A, modifier=Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert compare.pinned is None  # the key pins only while the explorer is shown
    window.show_pane(explorer)
    click(qtbot, window, "pinA")
    assert compare.pinned.settings == ExplorerSettings() and compare.pinned.stage == "pool"
    assert compare.maps_box.isVisible() and compare.readout_box.isVisible()
    np.testing.assert_array_equal(compare.pinned.image, picture)  # what was on screen
    np.testing.assert_array_equal(compare.canvas.item.image, picture)
    change_and_wait(qtbot, window, "stride", 2)
    table = window.findChild(QWidget, "shapeReadoutA").text()
    assert "A (pinned)" in table and "Now" in table
    assert table.index("96 × 126 × 126") < table.index("96 × 251 × 251")  # A's, then now's
    assert "⌊(512 + 2×0 − 11) / 4⌋ + 1 = 126" in table
    assert "⌊(512 + 2×0 − 11) / 2⌋ + 1 = 251" in table
    assert "96 × 63 × 63" in table and "96 × 125 × 125" in table
    assert table.count("3 × 512 × 512") == 1 and "RGB, both" in table  # one input line
    assert window.findChild(QWidget, "compareDiff").text() == "A → now: stride 4 → 2"
    assert "96 × 125 × 125" in explorer.readout.text()  # the live readout keeps following
    assert explorer.output.montage.image.shape != picture.shape  # the live maps moved on
    qtbot.waitUntil(lambda: compare.shown_layout != compare.pinned.layout, timeout=RESULT_MS)
    lay, old, shown = compare.shown_layout, compare.pinned.layout, compare.canvas.item.image
    assert lay.cols < old.cols  # A's tiles laid out again for its half of the view ...
    for i in (0, 5, 95):  # ... each tile the picture A was pinned with (A's maps did not move)
        (r, c), (rr, cc) = divmod(i, old.cols), divmod(i, lay.cols)
        np.testing.assert_array_equal(
            shown[rr * (lay.tile_h + lay.gap):][:lay.tile_h, cc * (lay.tile_w + lay.gap):][:, :lay.tile_w],
            picture[r * (old.tile_h + old.gap):][:old.tile_h, c * (old.tile_w + old.gap):][:, :old.tile_w])
    assert "A: max pooling · 96 × 63 × 63" == compare.caption.text()
    click(qtbot, window, "clearA")
    assert compare.pinned is None and not compare.maps_box.isVisible()
    assert explorer.readout.isVisible() and not compare.readout_box.isVisible()
    assert not window.findChild(QPushButton, "clearA").isEnabled()


def test_the_shortcut_pins_and_a_holds_its_picture_not_the_maps(qtbot, window):
    explorer = window.explorer
    shown = weakref.ref(explorer.output.result)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_A, modifier=Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    pinned = explorer.compare.pinned
    assert pinned.settings == ExplorerSettings()
    assert pinned.nbytes <= pinned.image.size + 768  # the picture's indices and the table
    change_and_wait(qtbot, window, "kernelSize", 5)
    change_and_wait(qtbot, window, "kernelSize", 7)
    gc.collect()
    assert shown() is None  # A's result was let go: A kept no maps
    assert explorer.compare.pinned is pinned


def test_pinning_without_a_result_says_why(qtbot, window):
    explorer = window.explorer
    window.findChild(QWidget, "padding").setValue(0)
    with qtbot.waitSignal(explorer.failed, timeout=RESULT_MS) as said:
        window.findChild(QWidget, "kernelSize").setValue(3)  # the worker has not answered yet
        click(qtbot, window, "pinA")
    assert said.args[0] == ("Nothing to pin as A yet: the maps of these settings are still "
                            "being computed.")
    assert explorer.compare.pinned is None
    qtbot.waitUntil(explorer.settled, timeout=RESULT_MS)
    window.findChild(QWidget, "dilation").setValue(4)
    window.findChild(QWidget, "kernelSize").setValue(15)
    window.findChild(QWidget, "longestSide").setValue(32)  # the kernel spans 57 pixels
    qtbot.waitUntil(lambda: explorer.no_output != "", timeout=RESULT_MS)
    with qtbot.waitSignal(explorer.failed, timeout=RESULT_MS) as said:
        click(qtbot, window, "pinA")
    assert said.args[0].startswith("Nothing to pin as A: these settings give no output (")


def test_differences_and_the_table_without_a_window():
    a, now = ExplorerSettings(), ExplorerSettings(stride=2, relu=False, pool_mode="avg")
    assert differences(a, now) == ["stride 4 → 2", "ReLU on → off", "pooling kind max → average"]
    assert differences(a, a) == []
    assert short_formula("H = W: ⌊(512 + 2×0 − 11) / 4⌋ + 1 = ⌊501/4⌋ + 1 = 126") == \
        "H = W: ⌊(512 + 2×0 − 11) / 4⌋ + 1 = 126"
    from convlab.engine.explorer import plan_explorer
    from convlab.ui.panes.explorer_compare import PinnedA

    from convlab.render.montage import Layout

    pinned = PinnedA(a, tuple(plan_explorer(a, 227, 227)), "pool", np.zeros((2, 2), np.uint8),
                     Layout(1, 1, 2, 2, 1, 1), 1, np.zeros((256, 3), np.uint8), "photo")
    html = compare_html(pinned, plan_explorer(now.replace(pool=1), 227, 227), now.replace(pool=1))
    assert "96 × 27 × 27" in html and "—" in html  # now has no pooling
    assert "<b>BN</b>" in html and "BN + ReLU: " in html  # A's own label where the row's differs


def test_with_a_pinned_every_text_fits_at_1280x800_and_the_minimum_size(qtbot, window):
    from tests.ui.text_fit import text_problems

    click(qtbot, window, "pinA")
    change_and_wait(qtbot, window, "poolSize", 2)
    for size in ("1280x800", "minimum"):
        if size == "minimum":
            window.resize(window.minimumSizeHint().expandedTo(window.minimumSize()))
        else:
            window.resize(1280, 800)
        qtbot.wait(50)
        qtbot.waitUntil(window.explorer.settled, timeout=RESULT_MS)
        problems = text_problems(window, scrolling=size == "minimum")
        assert not problems, (size, problems)
    assert window.explorer.compare.caption.isVisible()
