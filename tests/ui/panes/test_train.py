"""The Train pane in the real window: buttons pressed, a real training run on the built-in data.

Nothing here asserts on time: stopping is checked as "between two batches" (at most the batch
in flight finishes after the click); the waits are hang guards.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLabel

from convlab.engine.nets import Network
from convlab.pipelines.datasets.builtin import CLASSES
from convlab.pipelines import trainfit

RUN_MS = 120_000  # hang guard for a whole run on a busy machine
# a small LeNet (8 and 16 filters, 32 hidden units): a few hundred steps in seconds
TINY = trainfit.with_classes(trainfit._small_net("tiny", 1, 28, (8, 16), 32), 8)


def click(qtbot, button):
    assert button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def show_train(window):
    """Ctrl+3, through the View menu's action."""
    action = window.findChild(QAction, "actionTrainPane")
    assert action.shortcut().toString() == "Ctrl+3"
    action.trigger()
    pane = window.train
    assert window.current_pane() is pane and pane.objectName() == "trainPane"
    return pane


def wait_ended(qtbot, pane):
    qtbot.waitUntil(lambda: not pane.training() and pane.thread is None, timeout=RUN_MS)


def use_tiny_network(qtbot, window, pane, batch=24, epochs=1):
    """The Network pane shows TINY; the Train pane trains it (the pane's network, which fits)."""
    window.network.edits.start_from(TINY, "tiny")
    pane.network_box.setCurrentIndex(1)  # "The Network pane's network"
    qtbot.waitUntil(lambda: "fits the data" in pane.fit_label.text(), timeout=RUN_MS)
    pane.batch.setValue(batch)
    pane.epochs.setValue(epochs)


def test_fresh_start_trains_the_preset_that_fits_and_stops_between_batches(qtbot, window):
    pane = show_train(window)
    qtbot.waitUntil(lambda: "8 classes" in pane.findChild(QLabel, "trainDataInfo").text(),
                    timeout=RUN_MS)
    steps = []
    pane.stepDone.connect(steps.append)
    click(qtbot, pane.start_button)
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=RUN_MS)
    at_stop = []  # the thread's iteration just after the click set the stop flag
    stop = pane.control.stop
    pane.control.stop = lambda: (stop(), at_stop.append(pane.run.iteration))
    click(qtbot, pane.stop_button)
    wait_ended(qtbot, pane)
    assert pane.run.iteration <= at_stop[0] + 1  # only the batch in flight finished
    assert pane.run.spec["name"] == "lenet"
    assert trainfit.output_layer(pane.run.spec)["out_size"] == 8  # the built-in's classes
    assert "stopped" in pane.findChild(QLabel, "trainStatus").text()
    x, _ = pane.lossPlot.train_curve.getData()
    assert list(x) == list(range(1, pane.run.iteration + 1))  # one point per step


def test_pause_holds_between_batches_and_resume_goes_on(qtbot, window):
    pane = show_train(window)
    use_tiny_network(qtbot, window, pane, batch=8)
    steps = []
    pane.stepDone.connect(steps.append)
    click(qtbot, pane.start_button)
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=RUN_MS)
    click(qtbot, pane.pause_button)
    qtbot.waitUntil(lambda: pane.control.waiting, timeout=RUN_MS)  # the batch in flight ended
    held = pane.run.iteration
    qtbot.wait(400)  # several batches' time: none may run while paused
    assert pane.run.iteration == held and pane.training()
    assert pane.resume_button.isEnabled() and not pane.pause_button.isEnabled()
    click(qtbot, pane.resume_button)
    qtbot.waitUntil(lambda: pane.run.iteration >= held + 2, timeout=RUN_MS)
    click(qtbot, pane.stop_button)
    wait_ended(qtbot, pane)


def test_a_real_run_learns_and_the_network_pane_shows_its_weights(qtbot, window, tmp_path,
                                                                  monkeypatch):
    pane = show_train(window)
    use_tiny_network(qtbot, window, pane, batch=24, epochs=1)  # 6000 / 24 = 250 steps
    filters = []
    click(qtbot, pane.start_button)
    qtbot.waitUntil(lambda: pane.trainFilters.image() is not None, timeout=RUN_MS)
    filters.append(pane.trainFilters.image().copy())
    with qtbot.waitSignal(pane.epochDone, timeout=RUN_MS) as epoch:
        pass
    assert epoch.args == [1]
    wait_ended(qtbot, pane)
    run = pane.run
    assert run.iteration == 250
    # the curves: one point per step, the test point at the epoch's end
    for plot in (pane.lossPlot, pane.accuracyPlot):
        x, y = plot.train_curve.getData()
        assert list(x) == list(range(1, 251)) and np.all(np.isfinite(y))
        tx, _ = plot.test_curve.getData()
        assert list(tx) == [250]
    first_loss = pane.lossPlot.y[:20].mean()
    assert pane.lossPlot.y[-20:].mean() < first_loss  # it learned
    assert pane.accuracyPlot.test[0, 1] > 1 / 8 + 0.1  # better than chance on the test split
    assert pane.trainFilters.image() != filters[0]  # conv1's montage changed as it learned
    # the confusion matrix: every test image once; a click shows that cell's images
    counts = pane.confusionMatrix.counts
    assert counts.shape == (8, 8) and counts.sum() == 1000
    off = counts.copy()
    np.fill_diagonal(off, -1)  # the largest mistake cell (a diagonal one if there is none)
    r, c = np.unravel_index(np.argmax(off), off.shape) if off.max() > 0 else (0, 0)
    item = pane.confusionMatrix.item(int(r), int(c))
    rect = pane.confusionMatrix.visualItemRect(item)
    qtbot.mouseClick(pane.confusionMatrix.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())
    assert len(pane.cell_images.captions) == min(12, int(counts[r, c]))
    assert len(pane.wrong.captions) == min(8, int(counts.sum() - np.trace(counts)))
    # Save weights… writes Chainer's .npz; the Network pane shows the trained network
    saved = tmp_path / "trained.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(saved), ""))
    with qtbot.waitSignal(pane.data_worker.finished, timeout=RUN_MS):
        click(qtbot, pane.save_button)
    network = window.network
    window.show_pane(network)
    qtbot.waitUntil(lambda: network.settled() and network.result is not None
                    and network.result.settings.weights == pane.weights_path, timeout=RUN_MS)
    net = Network.from_spec(TINY, init=False)
    net.load_npz(saved)
    x = network.result.prep["input"]
    expected = net.forward(x)["fc4"][0]
    np.testing.assert_allclose(network.result.outputs["fc4"], expected, rtol=1e-5, atol=1e-6)
    # its top-5 names the dataset's classes (the labels.txt written beside the weights): the
    # Network pane took class names from 1,000-line files, and gave a top-5 for fc8 only
    top5 = network.top5.text()
    assert top5.startswith("Top-5: ") and sum(name in top5 for name in CLASSES) == 5, top5


def test_the_pane_network_that_does_not_fit_says_which_layer_and_offers_the_fix(qtbot, window):
    pane = show_train(window)
    pane.network_box.setCurrentIndex(1)  # the Network pane's AlexBN: 227x227 RGB, 1000 classes
    qtbot.waitUntil(lambda: "fc8" in pane.fit_label.text(), timeout=RUN_MS)
    text = pane.fit_label.text()
    assert "conv1 reads 3 channels but the images have 1" in text
    assert "fc8 gives 1000 scores but the data has 8 classes" in text
    assert "Fix:" in text and pane.fix_button.isEnabled()
    click(qtbot, pane.start_button)
    wait_ended(qtbot, pane)
    assert "does not fit" in window.messageArea.text() and "Apply the fix" in window.messageArea.text()
    click(qtbot, pane.preset_button)
    assert pane.network_choice() == "preset"
    qtbot.waitUntil(lambda: "fits the data" in pane.fit_label.text(), timeout=RUN_MS)


def test_settings_are_remembered(qtbot, window):
    pane = show_train(window)
    pane.optimizer.setCurrentText("SGD")
    pane.lr.setValue(0.02)
    pane.seed.setValue(7)
    pane.augment.setChecked(True)
    state = pane.state()
    pane.restore({"optimizer": "adam", "lr": 0.001, "seed": 0, "augment": False})
    assert pane.optimizer.currentText() == "Adam" and pane.seed.value() == 0
    pane.restore(state)
    assert pane.optimizer.currentText() == "SGD" and pane.lr.value() == pytest.approx(0.02)
    assert pane.seed.value() == 7 and pane.augment.isChecked()
    pane.restore({"lr": "damaged", "batch": 10**9, "dataset": 5})  # ignored
    assert pane.lr.value() == pytest.approx(0.02) and pane.batch.value() == 16


def test_try_it_draws_and_answers_with_the_trained_network(qtbot, window):
    from PySide6.QtCore import QPoint

    pane = show_train(window)
    use_tiny_network(qtbot, window, pane, batch=32)
    pane.train_steps(20)
    wait_ended(qtbot, pane)
    pane.bottom_tabs.setCurrentIndex(1)  # "Try it"
    canvas = pane.draw
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(30, 70))
    for x in range(30, 111, 10):  # a horizontal stroke
        qtbot.mouseMove(canvas, QPoint(x, 70))
    with qtbot.waitSignal(pane.data_worker.finished, timeout=RUN_MS):
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(110, 70))
    drawn = canvas.array()
    assert drawn[70, 70] > 200 and drawn[20, 20] == 0
    text = pane.top5.text()
    assert text.count("%") == 5 and "maps, top to bottom: conv1" in text
    assert pane.try_maps.image() is not None
    click(qtbot, pane.draw_clear)
    assert canvas.array().max() == 0


def test_export_curves_writes_every_point_as_csv_and_the_plots_as_png(qtbot, window, tmp_path,
                                                                      monkeypatch):
    import csv

    pane = show_train(window)
    use_tiny_network(qtbot, window, pane, batch=32)
    pane.train_steps(12)
    wait_ended(qtbot, pane)
    target = tmp_path / "curves.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    click(qtbot, pane.export_button)
    with open(target, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["split", "iteration", "loss", "accuracy"]
    assert [int(r[1]) for r in rows[1:]] == list(range(1, pane.run.iteration + 1))
    assert (tmp_path / "curves-loss.png").stat().st_size > 0
    assert (tmp_path / "curves-accuracy.png").stat().st_size > 0
    assert "Curves written" in window.messageArea.text()


def test_train_settings_survive_a_restart_through_qsettings(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from convlab.ui.main_window import MainWindow

    path = str(tmp_path / "convlab.ini")
    first = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    pane = first.train
    pane.optimizer.setCurrentText("MomentumSGD")
    pane.epochs.setValue(7)
    pane.seed.setValue(42)
    pane.network_box.setCurrentIndex(1)
    first.close()
    second = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    pane = second.train
    assert pane.optimizer.currentText() == "MomentumSGD"
    assert (pane.epochs.value(), pane.seed.value()) == (7, 42)
    assert pane.network_choice() == "pane"
    second.close()


def test_download_fetches_a_dataset_with_a_progress_bar(qtbot, window, tmp_path, monkeypatch):
    """Download… against a local server: the bar shows, the checked files arrive, the data opens."""
    import dataclasses
    import gzip
    import hashlib
    import http.server
    import threading

    from convlab.pipelines.datasets import catalogue

    monkeypatch.setenv("CONVLAB_DATA_DIR", str(tmp_path / "data"))
    served = tmp_path / "served"
    served.mkdir()
    rng = np.random.default_rng(0)
    files = []
    for name, count, header in (("train-images-idx3-ubyte.gz", 60, b"\0\0\x08\x03"),
                                ("train-labels-idx1-ubyte.gz", 60, b"\0\0\x08\x01"),
                                ("t10k-images-idx3-ubyte.gz", 20, b"\0\0\x08\x03"),
                                ("t10k-labels-idx1-ubyte.gz", 20, b"\0\0\x08\x01")):
        images = header[-1] == 3
        dims = [count, 28, 28] if images else [count]
        body = (rng.integers(0, 256, count * 784, dtype=np.uint8).tobytes() if images else
                (np.arange(count) % 10).astype(np.uint8).tobytes())
        data = gzip.compress(header + b"".join(d.to_bytes(4, "big") for d in dims) + body)
        (served / name).write_bytes(data)
        files.append(catalogue.RemoteFile(name, len(data), hashlib.sha256(data).hexdigest()))
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(served), **k)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setitem(catalogue.CATALOGUE, "mnist", dataclasses.replace(
        catalogue.CATALOGUE["mnist"], files=tuple(files),
        base_url=f"http://127.0.0.1:{server.server_address[1]}/"))
    try:
        pane = show_train(window)
        pane.dataset.setCurrentText("MNIST")
        qtbot.waitUntil(lambda: "not downloaded" in pane.data_info.text(), timeout=RUN_MS)
        assert pane.download_button.isVisible()
        with qtbot.waitSignal(pane.download_worker.finished, timeout=RUN_MS):
            click(qtbot, pane.download_button)
            assert pane.download_bar.isVisible() and pane.download_cancel.isVisible()
        qtbot.waitUntil(lambda: "10 classes" in pane.data_info.text(), timeout=RUN_MS)
        assert not pane.download_button.isVisible() and "downloaded" in window.messageArea.text()
    finally:
        server.shutdown()


def test_a_window_closed_on_the_train_tab_opens_on_it_with_its_settings(qtbot, tmp_path):
    """The Train pane is built when first wanted; a restart on its tab builds it at once and
    gives it its remembered settings."""
    from PySide6.QtCore import QSettings

    from convlab.ui.main_window import MainWindow

    path = str(tmp_path / "convlab.ini")
    first = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    assert first._train is None  # not built at start-up
    pane = show_train(first)
    pane.epochs.setValue(9)
    first.close()
    second = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second._train is not None and second.current_pane() is second._train
    assert second.train.epochs.value() == 9
    second.close()


def test_a_run_keeps_freed_blocks_for_the_next_batch_and_gives_the_window_its_heap_back(
        qtbot, window, monkeypatch):
    """Where the window limits its heap (glibc: worker.TRIM set), a run switches to the
    training policy (pipelines/heap.py) when it starts and back to the window's, with a trim,
    when it ends, stopped or finished."""
    from convlab.pipelines import heap
    from convlab.ui import worker as workers

    calls = []
    monkeypatch.setattr(heap, "set_thresholds", lambda *values: calls.append(values) or True)
    monkeypatch.setattr(heap, "trim", lambda: calls.append("trim"))
    monkeypatch.setitem(workers.TRIM, "fn", lambda pad: None)   # the window's policy is set
    pane = show_train(window)
    use_tiny_network(qtbot, window, pane, batch=24, epochs=1)
    steps = []
    pane.stepDone.connect(steps.append)
    click(qtbot, pane.start_button)
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=RUN_MS)
    assert calls[0] == heap.TRAINING and heap.WINDOW not in calls
    click(qtbot, pane.stop_button)
    wait_ended(qtbot, pane)
    assert calls[-2:] == [heap.WINDOW, "trim"]
