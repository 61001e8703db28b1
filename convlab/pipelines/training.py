"""The training loop (Qt-free): the command line, the window's Train pane and the tests share it.

One epoch, after Chainer's ``StandardUpdater`` and ``Evaluator``:

1. mini-batches of the training split in the order ``default_rng([seed, epoch]).permutation``
   (:mod:`convlab.pipelines.datasets.batches`), augmented as Chainer's ImageNet example where it
   fits: a random crop after zero padding by a eighth of the side (CIFAR's 4 pixels at 32) and,
   for colour images only, a random horizontal flip (digits and strokes are not mirror images);
2. per batch: ``loss_and_grads(net, x, labels, mode="train")`` (BN on the batch's statistics and
   its running averages updated; dropout masks from ``default_rng([seed, epoch, batch, 1])``),
   then ``optimizer.update(grads)``;
3. evaluation on the whole test split in mode "test" (BN's averages, no dropout, centre crop);
4. a log entry in Chainer's ``LogReport`` format: ``epoch``, ``iteration``, ``main/loss`` and
   ``main/accuracy`` (the mean over the epoch's batches, as ``LogReport`` averages what each
   iteration reported), ``validation/main/loss`` and ``validation/main/accuracy`` (the mean over
   the test batches, as ``Evaluator``), ``elapsed_time`` (seconds, resumed runs included).

Inputs are prepared as the Network pane and Chainer's ImageNet example prepare a photo:
``(pixel - mean) / 255`` with ImageNet's per-channel mean (its BT.601 luma for grey images), so
weights trained here see in the window what they saw in training.

``should_stop()`` is asked before each batch (training and test); a stopped run keeps its exact
position, and :meth:`Trainer.save` / :meth:`Trainer.resume` (:mod:`.train_state`) continue it so
that it ends with the weights, bit for bit, of a run that never stopped (same seed, same thread
count: the BLAS's summation order depends on its threads).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from convlab.engine.backend import to_numpy
from convlab.engine.grad import loss_and_grads
from convlab.engine.ops import softmax_cross_entropy
from convlab.pipelines import train_state
from convlab.pipelines.datasets import Dataset, Split, iterate_batches
from convlab.pipelines.train_config import (DEFAULT_LR, RANGES, TrainConfig, TrainingError,
                                            check_fit, input_normalization)

__all__ = ["DEFAULT_LR", "RANGES", "Progress", "TrainConfig", "Trainer", "TrainingError",
           "check_fit", "input_normalization"]


@dataclass
class Progress:
    """Where a run is, for progress bars and the Train pane. ``epoch`` is the one under way
    (1-based), ``batch`` the batches done in it; ``loss``/``accuracy`` the last batch's."""

    epoch: int
    epochs: int
    batch: int
    batches: int
    iteration: int
    loss: float = float("nan")
    accuracy: float = float("nan")
    images_per_second: float = 0.0
    phase: str = "train"       # "train" or "test"


@dataclass
class _Position:
    epoch: int = 0          # epochs done
    batch: int = 0          # batches done in the epoch under way
    iteration: int = 0
    sums: list = field(default_factory=lambda: [0.0, 0.0, 0])   # loss, accuracy, batches
    elapsed: float = 0.0    # seconds spent before this run started


class Trainer:
    """``Trainer(net, data, config).run()`` trains ``net`` in place; ``log`` holds the entries.

    ``on_batch(progress)`` after each batch, ``on_epoch(entry, progress)`` after each epoch's
    evaluation; ``should_stop()`` before each batch. ``run()`` returns True when every epoch is
    done, False when stopped (then :meth:`save` and :meth:`resume` continue the run)."""

    def __init__(self, net, data: Dataset, config: TrainConfig = TrainConfig(), *,
                 on_batch: Callable | None = None, on_epoch: Callable | None = None,
                 should_stop: Callable[[], bool] | None = None):
        self.config = config.checked()
        check_fit(net, data)
        self.net, self.data = net, data
        self.train, self.test = (_limited(s, config.limit, config.seed)
                                 for s in (data.train, data.test))
        for split, what in ((self.train, "training"), (self.test, "test")):
            if len(split) == 0:  # an empty test split made every validation entry NaN
                raise TrainingError(f"{data.name} has no {what} images: give it a {what[:5]}/ "
                                    "folder with images of every class, or more images per "
                                    "class so that the 80/20 split leaves some for each side.")
        self._apply_freeze()
        self.optimizer = config.make_optimizer().setup(net)
        self.on_batch, self.on_epoch = on_batch, on_epoch
        self.should_stop = should_stop or (lambda: False)
        self.log: list[dict] = []
        self.at = _Position()
        self.run_info: dict = {}     # what the caller wants kept with a snapshot (its flags)
        c, h, _ = data.input_shape
        self._normalize = input_normalization(c)
        self._augment = dict(augment=True, pad=h // 8, flip=c == 3) if config.augment else {}

    def _apply_freeze(self) -> None:
        """Disable the updates of ``config.freeze``'s layers, after checking them all (a refusal
        leaves the network as it was)."""
        names, frozen = self.net.layer_names, set(self.config.freeze)
        unknown = [n for n in self.config.freeze if n not in names]
        if unknown:
            raise TrainingError(f"there is no layer {unknown[0]!r} to freeze; the layers are "
                                f"{', '.join(names)}.")
        if not any(layer.trained() for layer in self.net.layers if layer.name not in frozen):
            raise TrainingError("every layer with weights is frozen, so there is nothing to train.")
        for name in self.config.freeze:
            self.net[name].disable_update()

    @property
    def batches(self) -> int:
        return -(-len(self.train) // self.config.batch_size)

    @property
    def finished(self) -> bool:
        return self.at.epoch >= self.config.epochs

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> bool:
        """Train until every epoch is done (True) or ``should_stop()`` says so (False)."""
        self._started = time.perf_counter() - self.at.elapsed
        while not self.finished:
            if not self._train_epoch():
                return self._stopped()
            result = self.evaluate()
            if result is None:
                return self._stopped()
            self._end_epoch(*result)
        self.at.elapsed = time.perf_counter() - self._started
        return True

    def _stopped(self) -> bool:
        self.at.elapsed = time.perf_counter() - self._started
        return False

    def _train_epoch(self) -> bool:
        cfg, at = self.config, self.at
        t0, done = time.perf_counter(), 0
        for b in self._batch_iter(at.epoch, at.batch):
            if self.should_stop():
                return False
            loss, accuracy = self.step(b.x, b.labels, at.epoch, at.batch)
            at.sums[0] += loss
            at.sums[1] += accuracy
            at.sums[2] += 1
            at.batch += 1
            at.iteration += 1
            done += len(b.labels)
            self._rate = done / max(time.perf_counter() - t0, 1e-9)
            if self.on_batch is not None:
                self.on_batch(Progress(at.epoch + 1, cfg.epochs, at.batch, self.batches,
                                       at.iteration, loss, accuracy, self._rate))
        return True

    def _batch_iter(self, epoch: int, start: int):
        return iterate_batches(self.train, self.config.batch_size, seed=self.config.seed,
                               epoch=epoch, start=start, normalize=self._normalize,
                               **self._augment)

    def step(self, x, labels, epoch: int, batch: int) -> tuple[float, float]:
        """One update on a batch: ``(loss, accuracy)`` before the update (as Chainer reports)."""
        rng = np.random.default_rng([self.config.seed, epoch, batch, 1])
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
            loss, grads = loss_and_grads(self.net, x, self.net.xp.asarray(labels),
                                         mode="train", rng=rng, input_grad=False)
        self._check_finite(loss, "training")
        logits = to_numpy(grads.forward[self.net.layers[-1].name])
        accuracy = float((logits.argmax(axis=1) == labels).mean())
        self.optimizer.update(grads)
        return float(loss), accuracy

    def _check_finite(self, loss, split: str) -> None:
        """TrainingError (one sentence, with the fix) when the loss is NaN or infinite: the
        weights have diverged (too high a learning rate), and every later step would be NaN."""
        if np.isfinite(float(loss)):
            return
        rate = self.config.rate
        raise TrainingError(f"the {split} loss became {float(loss)} in epoch {self.at.epoch + 1} "
                            f"(iteration {self.at.iteration}): the weights diverged, so the run "
                            f"stops; lower the learning rate (lr {rate:g} now, try {rate / 10:g}).")

    def evaluate(self) -> tuple[float, float] | None:
        """``(loss, accuracy)`` on the test split in mode "test" (None if stopped; NaN for an
        empty split): the mean over its batches, as Chainer's ``Evaluator``."""
        losses, accuracies = [], []
        last = self.net.layers[-1].name
        batches = iterate_batches(self.test, self.config.batch_size, shuffle=False,
                                  normalize=self._normalize)
        for i, b in enumerate(batches):
            if self.should_stop():
                return None
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                logits = self.net.forward(b.x)[last]
                loss, _ = softmax_cross_entropy(logits, self.net.xp.asarray(b.labels))
            self._check_finite(loss, "test")
            losses.append(float(loss))
            accuracies.append(float((to_numpy(logits).argmax(axis=1) == b.labels).mean()))
            if self.on_batch is not None:
                total = -(-len(self.test) // self.config.batch_size)
                self.on_batch(Progress(self.at.epoch + 1, self.config.epochs, i + 1, total,
                                       self.at.iteration, losses[-1], accuracies[-1],
                                       phase="test"))
        mean = lambda v: float(np.mean(v)) if v else float("nan")  # noqa: E731
        return mean(losses), mean(accuracies)

    def _end_epoch(self, val_loss: float, val_accuracy: float) -> None:
        at = self.at
        n = max(at.sums[2], 1)
        entry = {"epoch": at.epoch + 1, "iteration": at.iteration,
                 "main/loss": at.sums[0] / n, "main/accuracy": at.sums[1] / n,
                 "validation/main/loss": val_loss, "validation/main/accuracy": val_accuracy,
                 "elapsed_time": time.perf_counter() - self._started}
        self.log.append(entry)
        at.epoch, at.batch, at.sums = at.epoch + 1, 0, [0.0, 0.0, 0]
        if self.on_epoch is not None:
            self.on_epoch(entry, Progress(at.epoch, self.config.epochs, self.batches,
                                          self.batches, at.iteration,
                                          entry["main/loss"], entry["main/accuracy"],
                                          getattr(self, "_rate", 0.0)))

    # -- snapshots -----------------------------------------------------------------------------
    def meta(self) -> dict:
        """Everything but the arrays that a resumed run needs (see :mod:`.train_state`)."""
        at = self.at
        return {"net": self.net.name, "spec": self.net.to_spec(), "config": asdict(self.config),
                "dataset": {"name": self.data.name, "train": len(self.train),
                            "test": len(self.test), "classes": list(self.data.classes)},
                "epoch": at.epoch, "batch": at.batch, "iteration": at.iteration,
                "sums": list(at.sums), "elapsed": at.elapsed, "log": self.log,
                "rng": {"seed": self.config.seed, "streams": "default_rng([seed, epoch, batch])"},
                "run": self.run_info}

    def save(self, path) -> None:
        """The snapshot, atomically: weights, optimizer state, position, log, RNG state."""
        train_state.save_snapshot(path, self.net, self.optimizer.state_dict(), self.meta())

    def resume(self, path) -> None:
        """Continue from the snapshot at ``path``: the same network, data and configuration
        (``epochs`` may grow); SnapshotError (one sentence) and nothing changed otherwise."""
        meta = train_state.read_meta(path)
        train_state.check_same(meta, self.meta(), asdict(self.config))
        shapes = {k: tuple(layer.params[s].shape) for k, (layer, s) in _params(self.net).items()}
        state = train_state.read_optimizer_state(path, shapes)
        at, log = train_state.read_position(meta, self.batches, path)   # checked, nothing set
        try:
            self.config.make_optimizer().setup(self.net).load_state_dict(state)  # check only
            self.net.load_npz(path)
            self.optimizer.load_state_dict(state)
        except ValueError as exc:
            raise train_state.SnapshotError(f"{path} cannot be resumed: {exc}") from None
        self.net.weights_source = f"trained ({self.net.name})"
        self.log, self.at = log, _Position(**at)


def _params(net):
    from convlab.engine.optim import trainable

    return trainable(net)


def _limited(split: Split, limit: int | None, seed: int) -> Split:
    """``limit`` images of ``split`` drawn with ``default_rng([seed, 0, 0, 2])`` (a stream no
    other draw uses), kept in the split's order: the first ``limit`` of a folder's split, read
    class by class, were one class."""
    if limit is None or len(split) <= limit:
        return split
    chosen = np.random.default_rng([seed, 0, 0, 2]).permutation(len(split))[:limit]
    return split.take(np.sort(chosen))
