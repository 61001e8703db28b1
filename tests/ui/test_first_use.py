"""What a new user hit (issue 24), pressed through Qt as a person presses it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton, QWidget

from tests.ui.clicks import click_map
from tests.ui.helpers import RESULT_MS, change_and_wait


def explained_at(qtbot, win, stage, c, i, j):
    side = win.explorer.explain

    def ready():
        e = side.panel.explanation
        return e is not None and (e.stage, e.channel, e.i, e.j) == (stage, c, i, j)

    qtbot.waitUntil(ready, timeout=RESULT_MS)
    return side.panel.explanation


def test_clicking_unpin_releases_the_pinned_value(qtbot, window):
    explorer = window.explorer
    click_map(qtbot, explorer.view, 3, 5, 6)
    side = explorer.explain
    assert side.pinned is not None and side.pinned[:2] == (explorer.output.stage, 3)
    explained_at(qtbot, window, *side.pinned)
    assert side.panel.unpin_button.isEnabled()
    qtbot.mouseClick(side.panel.unpin_button, Qt.MouseButton.LeftButton)
    assert side.pinned is None
    assert not side.panel.pinned and not side.panel.unpin_button.isEnabled()
    assert not side.view.pin_mark.isVisible()


def test_escape_unpins(qtbot, window):
    explorer = window.explorer
    click_map(qtbot, explorer.view, 2, 4, 4)
    assert explorer.explain.pinned is not None
    qtbot.keyClick(explorer.view.canvas, Qt.Key.Key_Escape)
    assert explorer.explain.pinned is None


def press_reset(qtbot, win):
    button = win.findChild(QPushButton, "resetDefaults")
    with qtbot.waitSignal(win.explorer.resultReady, timeout=RESULT_MS,
                          check_params_cb=lambda rid: rid == win.explorer.worker.latest_id):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(win.explorer.settled, timeout=RESULT_MS)


def test_a_pin_never_outlives_its_result_after_reset(qtbot, window):
    explorer = window.explorer
    change_and_wait(qtbot, window, "kernelSize", 4)
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        explorer.show_stage("bn")
    h = explorer.output.montage.maps.shape[1]
    click_map(qtbot, explorer.view, 4, h - 12, 3)
    explained_at(qtbot, window, *explorer.explain.pinned)
    press_reset(qtbot, window)
    side = explorer.explain
    e = side.panel.explanation
    out = explorer.output
    if side.pinned is None:  # dropped: nothing of the old numbers stays on screen
        assert e is None and not side.panel.products_box.isVisible()
    else:  # explained anew for the result on screen
        assert e.stage == out.stage and e.conv.weights.shape[-1] == 11
        f, hh, ww = out.montage.maps.shape
        assert e.i < hh and e.j < ww
        assert e.value == float(out.montage.maps[e.channel, e.i, e.j])


def test_a_pin_is_explained_again_for_a_new_photo(qtbot, window, photo):
    explorer = window.explorer
    change_and_wait(qtbot, window, "kernelSize", 4)
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        explorer.show_stage("bn")
    click_map(qtbot, explorer.view, 4, 80, 3)
    old = explained_at(qtbot, window, *explorer.explain.pinned)
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        window.open_image(photo(120, 60))
    qtbot.waitUntil(explorer.settled, timeout=RESULT_MS)
    side = explorer.explain
    e = side.panel.explanation
    out = explorer.output
    if side.pinned is None:
        assert e is None and not side.panel.products_box.isVisible()
    else:
        f, hh, ww = out.montage.maps.shape
        assert e is not old and e.i < hh and e.j < ww
        assert e.value == float(out.montage.maps[e.channel, e.i, e.j])


def test_a_pinned_pooled_value_shows_bn_and_relu_between_conv_and_pool(qtbot, window):
    explorer = window.explorer
    assert explorer.output.stage == "pool"
    click_map(qtbot, explorer.view, 4, 10, 10)
    e = explained_at(qtbot, window, *explorer.explain.pinned)
    text = explorer.explain.panel.text()
    conv_at = text.index("The winner's convolution")
    bn_at, relu_at = text.index("BatchNormalization", conv_at), text.index("ReLU", conv_at)
    assert conv_at < bn_at < relu_at
    assert f"{e.winner_bn.value:.6g}" in text[bn_at:relu_at]
    assert text.rstrip().endswith(f"{e.value:.6g}")


def test_the_kernel_caption_follows_the_kernels_not_the_last_hover(qtbot, window):
    explorer = window.explorer
    strip = explorer.kernels
    strip.canvas.hovered.emit(3.0, 3.0)  # hover the first 11x11 kernel
    assert "3 × 11 × 11" in strip.info.text()
    change_and_wait(qtbot, window, "kernelSize", 4)
    assert "11" not in strip.info.text() and "3 × 4 × 4" in strip.info.text()
    assert "96 kernels" in strip.info.text()


def test_a_new_photo_with_learned_kernels_never_shows_the_old_photos_maps(qtbot, window, photo):
    explorer = window.explorer
    bank = explorer.controls.bank
    change_and_wait(qtbot, window, "filters", 4)
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS * 3):
        bank.setCurrentIndex(bank.findData("learned"))
    qtbot.waitUntil(explorer.settled, timeout=RESULT_MS)
    seen = []

    def learning(text):
        if text.startswith("learning"):
            seen.append((explorer.view.montage, explorer.view.overlay.text()))

    explorer.statusChanged.connect(learning)
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS * 3):
        window.open_image(photo(64, 48))
    assert seen, "the new photo's kernels were learned"
    montage, overlay = seen[0]
    assert montage is None and "Learning kernels" in overlay


def show_diagram(qtbot, win):
    explorer = win.explorer
    tabs = explorer.map_tabs
    bar = tabs.tabBar()
    index = tabs.indexOf(explorer.diagram)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    qtbot.waitUntil(lambda: explorer.diagram.isVisible() and explorer.diagram.diagram is not None)
    return explorer.diagram


def test_the_diagram_titles_count_maps_from_0_and_never_overlap(qtbot, window):
    window.resize(1280, 800)
    panel = show_diagram(qtbot, window)
    qtbot.waitUntil(window.explorer.settled, timeout=RESULT_MS)
    panel.corner.setCurrentIndex(panel.corner.findData("bottom-right"))
    panel.canvas.grab()
    (left, a), (right, b) = panel.canvas.titles[-2:]
    assert not a.intersects(b), (left, right)
    assert all(rect.right() <= panel.canvas.width() for _, rect in panel.canvas.titles)
    qtbot.mouseClick(panel.on_photo, Qt.MouseButton.LeftButton,
                     pos=QPoint(8, panel.on_photo.height() // 2))  # on its box
    assert panel.on_photo.isChecked()
    panel.stage.setCurrentIndex(1)  # the pooling walks over the convolution's map
    qtbot.waitUntil(lambda: panel.canvas.photo is not None, timeout=RESULT_MS)
    panel.canvas.grab()
    texts = [text for text, _ in panel.canvas.titles]
    assert any("map 0" in t for t in texts) and not any("map 1" in t for t in texts), texts


def test_256_kernels_of_15_are_laid_out_to_be_seen(qtbot, window):
    """Issue 24: 3 rows of 86 kernels squeezed each to ~6 screen pixels."""
    from convlab.render.kernels import build_kernel_strip

    window.resize(1280, 800)
    change_and_wait(qtbot, window, "filters", 256)
    change_and_wait(qtbot, window, "kernelSize", 15)
    strip = window.explorer.kernels
    strip.canvas.grab()
    view = strip.canvas
    per_pixel = view.viewport().width() / view.box.viewRect().width()
    shown = strip.layout_.tile_w * per_pixel
    old = build_kernel_strip(strip.kernels)[1]  # the 3-row strip, fitted to the same view
    old_px = min(view.viewport().width() / old.width, view.viewport().height() / old.height)
    assert shown >= 1.4 * old_px * old.tile_w and shown >= 8, (shown, old_px * old.tile_w)


def test_the_pause_button_draws_a_glyph_the_font_has(qtbot, window):
    """Issue 24: "⏸ Pause" (U+23F8) rendered as an empty box."""
    from tests.ui.text_fit import glyph_problem

    panel = show_diagram(qtbot, window)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert panel.is_playing() and "Pause" in panel.play_button.text()
    assert glyph_problem(panel.play_button, panel.play_button.text()) is None
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert not panel.is_playing()
    assert glyph_problem(panel.play_button, panel.play_button.text()) is None
