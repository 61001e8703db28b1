"""The Train pane's Qt-free parts: does a network fit the data, and the loop's pause and stop."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from convlab.engine.nets import presets
from convlab.pipelines import trainfit, trainloop
from convlab.pipelines.datasets import Dataset, Split
from convlab.pipelines.trainrun import TrainRun, TrainSettings

TINY = trainfit.with_classes(trainfit._small_net("tiny", 1, 28, (4, 8), 16), 3)


def tiny_data(n_train=96, n_test=30, classes=3) -> Dataset:
    rng = np.random.default_rng(0)

    def split(n):
        labels = (np.arange(n) % classes).astype(np.int64)
        images = rng.integers(0, 60, (n, 28, 28, 1), dtype=np.uint8)
        for i, c in enumerate(labels):  # class c: a bright band at rows 8c .. 8c+6
            images[i, 8 * c:8 * c + 6] = 220
        return Split(images, labels)

    return Dataset("bands", tuple(f"band{c}" for c in range(classes)), split(n_train),
                   split(n_test))


class Recorder:
    def __init__(self, on_step=None):
        self.steps, self.sent, self.reports = [], [], []
        self.on_step = on_step

    def step(self, iteration):
        self.steps.append(iteration)
        if self.on_step:
            self.on_step(iteration)

    def views(self, views):
        self.sent.append(views)

    def epoch(self, report):
        self.reports.append(report)


def test_the_preset_fits_the_data_and_alexbn_names_its_layers():
    data = tiny_data()
    spec = trainfit.preset_for(data.input_shape, 3)
    assert trainfit.fit_problems(spec, data.input_shape, 3) == []
    problems = trainfit.fit_problems(presets.preset("alexbn"), data.input_shape, 3)
    assert [(p.layer, p.fix) for p in problems] == [("conv1", "resize"), ("fc8", "classes")]
    assert "conv1 reads 3 channels but the images have 1" in problems[0].text
    assert "fc8 gives 1000 scores but the data has 3 classes" in problems[1].text
    fixed, resize = trainfit.fitted(presets.preset("alexbn"), problems, 3)
    assert resize == (3, 227, 227) and trainfit.output_layer(fixed)["out_size"] == 3
    assert trainfit.fit_problems(fixed, resize, 3) == []


def test_a_run_logs_every_step_and_reports_each_epoch():
    data = tiny_data()
    run = TrainRun(TINY, data, TrainSettings(batch=8, epochs=2, lr=0.01))
    rec = Recorder()
    assert trainloop.train(run, trainloop.Control(), rec) == "finished"
    assert rec.steps == list(range(1, 25))  # 96 / 8 = 12 steps an epoch
    points = np.concatenate([v.points for v in rec.sent])
    assert list(points[:, 0]) == list(range(1, 25))  # each step once, in order
    assert [r.epoch for r in rec.reports] == [1, 2]
    last = rec.reports[-1]
    assert last.confusion.sum() == 30 and last.confusion.shape == (3, 3)
    assert np.array_equal(np.bincount(last.predicted, minlength=3), last.confusion.sum(axis=0))
    assert rec.sent[-1].filters.dtype == np.uint8 and rec.sent[-1].filters.ndim == 3


def test_stop_ends_the_run_between_batches_and_start_goes_on():
    data = tiny_data()
    run = TrainRun(TINY, data, TrainSettings(batch=8, epochs=1))
    control = trainloop.Control()
    rec = Recorder(on_step=lambda i: i == 5 and control.stop())
    assert trainloop.train(run, control, rec) == "stopped"
    assert run.iteration == 5 and rec.steps == [1, 2, 3, 4, 5]
    rec = Recorder()
    assert trainloop.train(run, trainloop.Control(), rec) == "finished"
    assert rec.steps == list(range(6, 13))  # the same run, from where it stopped


def test_pause_waits_between_batches_until_resumed():
    data = tiny_data()
    run = TrainRun(TINY, data, TrainSettings(batch=8, epochs=1))
    control = trainloop.Control()
    paused_at = threading.Event()
    rec = Recorder(on_step=lambda i: i == 3 and (control.pause(), paused_at.set()))
    done = []
    thread = threading.Thread(target=lambda: done.append(trainloop.train(run, control, rec)))
    thread.start()
    assert paused_at.wait(60)
    thread.join(0.5)  # it waits: no batch may run while paused
    assert thread.is_alive() and control.waiting and run.iteration == 3
    control.resume()
    thread.join(60)
    assert done == ["finished"] and run.iteration == 12


def test_bad_settings_are_one_sentence():
    with pytest.raises(ValueError, match="learning rate must be positive"):
        TrainSettings(lr=0).check()
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainSettings(optimizer="rmsprop").check()


def test_try_image_answers_for_a_drawing_and_a_photo():
    from convlab.pipelines.traintry import try_image

    data = tiny_data()
    run = TrainRun(TINY, data, TrainSettings(batch=8, epochs=1))
    drawing = np.zeros((140, 140), np.uint8)
    drawing[50:60] = 255
    photo = np.random.default_rng(1).random((200, 300, 3)).astype(np.float32)
    for picture in (drawing, photo):
        tried = try_image(run, picture)
        assert [name for name, _ in tried.top5] != [] and len(tried.top5) == 3  # 3 classes
        probs = [p for _, p in tried.top5]
        assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 1) < 1e-5
        assert tried.layers == run.net.layer_names
        assert tried.picture.dtype == np.uint8 and tried.picture.shape[2] == 3
    with pytest.raises(ValueError, match="a picture to try is"):
        try_image(run, np.zeros((4, 4, 2)))
