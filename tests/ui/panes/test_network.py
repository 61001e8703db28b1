"""The Network pane on its own: table rows and totals, layer maps, BN mode, weights in and out."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.ui.helpers import RESULT_MS, network_pane

NET_MS = max(RESULT_MS, 30_000)  # a first forward builds AlexBN (about 0.5 s) on a busy machine


@pytest.fixture
def pane(qtbot):
    widget = network_pane(qtbot)
    rng = np.random.default_rng(3)
    image = rng.random((300, 400, 3), dtype=np.float32)
    with qtbot.waitSignal(widget.resultReady, timeout=NET_MS):
        widget.set_image(SimpleNamespace(original=image, image=image))
    yield widget
    widget.shutdown()


def _table(pane):
    m = pane.model
    return [[m.data(m.index(r, c)) for c in range(m.columnCount())] for r in range(m.rowCount())]


def test_table_lists_every_layer_and_totals_like_convlab_shapes(pane):
    rows = _table(pane)
    names = [r[0] for r in rows]
    assert names[:4] == ["conv1", "bn1", "relu1", "pool1"] and names[-2:] == ["fc8", "total"]
    by_name = {r[0]: r for r in rows}
    assert by_name["conv1"][3] == "96 × 55 × 55" and by_name["pool5"][3] == "256 × 6 × 6"
    assert by_name["pool5"][6] == "195" and by_name["pool5"][7] == "32"
    assert by_name["total"][4] == "62,379,048" and by_name["total"][5] == "1.14 G"
    assert all(by_name[n][8] for n in names[:-1]), "every layer has its milliseconds"
    assert by_name["relu1"][9].endswith("%")


def test_selecting_a_layer_shows_its_maps(pane, qtbot):
    for name, count in (("conv2", 256), ("pool5", 256), ("conv1", 96)):
        pane.select_layer(name)
        qtbot.waitUntil(lambda: pane.view.montage is not None and pane.view.montage.title == name,
                        timeout=NET_MS)
        assert pane.view.montage.count == count
    pane.select_layer("fc7")
    qtbot.waitUntil(lambda: pane.view.montage.title == "fc7", timeout=NET_MS)
    assert pane.view.montage.maps.size == 4096  # one tiled strip of every unit


def test_bn_mode_switch_changes_the_maps(pane, qtbot):
    before = pane.result.outputs["bn1"].copy()
    assert "this image's statistics" in pane.bn_label.text()
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.bn_box.setCurrentText("stored averages")
    after = pane.result.outputs["bn1"]
    assert pane.result.settings.bn_mode == "stored"
    assert not np.allclose(before, after)
    assert "stored running averages" in pane.bn_label.text()


def test_input_that_cannot_reach_fc6_says_where_and_why(pane, qtbot):
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.insize.setValue(180)
    assert "fc6" in pane.input_note.text() and "9,216" in pane.input_note.text()
    assert "pool5" in pane.result.outputs and "fc6" not in pane.result.outputs
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.insize.setValue(224)
    assert "cover_all" in pane.input_note.text()
    assert pane.result.outputs["pool5"].shape == (256, 6, 6)


def test_weights_load_through_the_pane_and_a_bad_file_is_refused(pane, qtbot, tmp_path):
    from convlab.engine.nets import build_network

    trained = build_network("alexbn", seed=5)
    trained["bn1"].params["avg_mean"][:] = 0.25
    path = tmp_path / "alexbn.npz"
    trained.save_npz(path)
    (tmp_path / "synset_words.txt").write_text(
        "".join(f"n{i:08d} thing {i}, other\n" for i in range(1000)))
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.load_weights(str(path))
    assert "alexbn.npz" in pane.weights_label.text()
    assert pane.result.settings.bn_mode == "stored"
    assert pane.top5.text().startswith("Top-5: thing")
    shown = pane.result.outputs["conv1"].copy()

    bad = tmp_path / "bad.npz"
    arrays = dict(np.load(path))
    del arrays["fc7/W"]
    np.savez(bad, **arrays)
    messages = []
    pane.message.connect(lambda text, level: messages.append(text))
    with qtbot.waitSignal(pane.worker.failed, timeout=NET_MS):
        pane.load_weights(str(bad))
    assert "fc7/W" in messages[-1]
    assert "alexbn.npz" in pane.weights_label.text(), "the loaded weights stay active"
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.refresh()
    np.testing.assert_array_equal(pane.result.outputs["conv1"], shown)


def test_quick_successive_changes_all_apply_and_only_the_last_result_shows(pane, qtbot):
    shown = []
    pane.resultReady.connect(shown.append)
    pane.model_box.setCurrentText("Alex (LRN)")
    pane.insize.setValue(224)  # before Alex's first forward has finished
    last = pane.seed.value()
    pane.seed.setValue(last + 1)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == pane.worker.latest_id, timeout=NET_MS)
    s = pane.result.settings
    assert (s.net, s.insize, s.seed) == ("alex", 224, last + 1)
    assert shown == [pane.worker.latest_id], "older requests never reach the screen"
    assert pane.model_box.currentText() == "Alex (LRN)" and pane.insize.value() == 224
    assert "norm1" in pane.result.outputs and "bn1" not in pane.result.outputs
    assert not pane.bn_box.isEnabled()


def test_hand_made_conv1_shows_edges_and_colours_and_says_so(pane, qtbot):
    random_maps = pane.result.outputs["conv1"].copy()
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.handmade.setChecked(True)
    assert "hand-made conv1" in pane.weights_label.text()
    assert not np.allclose(pane.result.outputs["conv1"], random_maps)
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.handmade.setChecked(False)
    np.testing.assert_allclose(pane.result.outputs["conv1"], random_maps, rtol=1e-5, atol=1e-6)


def test_a_run_that_stops_before_the_selected_layer_clears_its_old_maps(pane, qtbot):
    pane.select_layer("fc8")
    qtbot.waitUntil(lambda: pane.view.title.text().startswith("Maps of fc8"), timeout=NET_MS)
    assert pane.view.montage is not None
    with qtbot.waitSignal(pane.resultReady, timeout=NET_MS):
        pane.apply(insize=180)  # fc6 expects 256x6x6; at 180 pool5 is 256x5x5
    assert pane.view.montage is None  # no old fc8 maps, so no old hover values either
    assert "fc8" in pane.view.title.text() and "Maps of fc8" not in pane.view.title.text()
    assert "fc8 has no output" in pane.view.overlay.text() and "9,216" in pane.view.overlay.text()
