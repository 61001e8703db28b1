"""What the Train pane's workers run (no Qt here): open data, check the fit, prepare a run, files.

Each function runs in a worker thread; the pane hands it copies of what it needs.
"""

from __future__ import annotations

import csv
import json

import numpy as np

from convlab.pipelines import trainfit
from convlab.pipelines.datasets import open_dataset
from convlab.pipelines.trainrun import TrainRun
from convlab.render import tiles


def sample_strip(dataset, per_class: int = 1, limit: int = 10) -> np.ndarray:
    """The first training image of each class (up to ``limit`` classes) as one RGB strip."""
    labels = dataset.train.labels
    picks = [int(np.flatnonzero(labels == c)[0]) for c in range(len(dataset.classes))
             if np.any(labels == c)][:limit]
    images = dataset.train.images[picks]                       # (k, h, w, C) uint8
    if images.shape[3] == 1:
        images = np.repeat(images, 3, axis=3)
    rgb = np.concatenate([np.pad(im, ((1, 1), (1, 1), (0, 0))) for im in images], axis=1)
    return tiles.enlarge(rgb, 2)


def data_text(dataset) -> str:
    c, h, w = dataset.input_shape
    kind = "grey" if c == 1 else "colour"
    names = ", ".join(dataset.classes[:10]) + (" …" if len(dataset.classes) > 10 else "")
    skipped = f" · {dataset.skipped:,} files skipped" if dataset.skipped else ""
    return (f"{len(dataset.classes)} classes ({names}) · train {len(dataset.train):,} · "
            f"test {len(dataset.test):,} · {h}x{w} {kind}{skipped}")


def open_data(source):
    """``(dataset, sample strip, text)`` for the pane's data box."""
    dataset = open_dataset(source)
    return dataset, sample_strip(dataset), data_text(dataset)


def choose_spec(choice: str, pane_spec, dataset) -> tuple[dict, list]:
    """The spec to train and its fit problems with ``dataset`` ([] for the preset)."""
    if choice == "preset" or pane_spec is None:
        if choice == "pane":
            raise ValueError("The Network pane shows an imported ONNX model, which ConvLab "
                             "cannot train; choose the preset or a spec in the Network pane.")
        return trainfit.preset_for(dataset.input_shape, len(dataset.classes)), []
    return pane_spec, trainfit.fit_problems(pane_spec, dataset.input_shape, len(dataset.classes))


def prepare_run(source, dataset, choice, pane_spec, fix, settings, previous, should_stop):
    """The run to train: ``previous`` goes on when nothing but the epochs changed, else a new
    :class:`TrainRun` (the data resized to the network when the fix is applied)."""
    spec, problems = choose_spec(choice, pane_spec, dataset)
    if problems and not fix:
        text = " ".join(p.text for p in problems)
        raise ValueError(f"The Network pane's network does not fit the data: {text} "
                         f"{trainfit.fix_text(problems)} (press Apply the fix, or Use the preset).")
    spec, resize = trainfit.fitted(spec, problems, len(dataset.classes))
    key = json.dumps([str(source), spec, resize, settings.replace(epochs=0).__dict__],
                     sort_keys=True, default=list)
    if previous is not None and getattr(previous, "key", None) == key:
        if previous.epoch >= previous.settings.epochs:  # it had finished: train more epochs
            previous.more_epochs(settings.epochs)
        return previous
    if should_stop():
        return None
    if resize is not None:
        dataset = open_dataset(source, input_shape=resize)
    run = TrainRun(spec, dataset, settings)
    run.key = key
    return run


def write_curves(base: str, loss_plot, accuracy_plot) -> list[str]:
    """``base.csv`` (split, iteration, loss, accuracy); the PNGs are the plots' own grabs."""
    train_loss, train_acc = loss_plot.csv_rows("train"), accuracy_plot.csv_rows("train")
    test_loss, test_acc = loss_plot.csv_rows("test"), accuracy_plot.csv_rows("test")
    path = base + ".csv"
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["split", "iteration", "loss", "accuracy"])
        for (it, loss), (_, acc) in zip(train_loss, train_acc):
            out.writerow(["train", int(it), f"{loss:.6g}", f"{acc:.6g}"])
        for (it, loss), (_, acc) in zip(test_loss, test_acc):
            out.writerow(["test", int(it), f"{loss:.6g}", f"{acc:.6g}"])
    return [path]
