"""One training run for the Train pane, Qt-free: a network, its Trainer, and what the pane shows.

:class:`TrainRun` owns the network being trained and the training loop's
:class:`~convlab.pipelines.training.Trainer` (batches, ``loss_and_grads``, Chainer's optimizer
rules, the test split's loss and accuracy after each epoch). Beside it, ``evaluate(entry)``
predicts every test image once more for the confusion matrix and the most confidently wrong
images, and ``maps`` gives one test image's maps at a layer, both with the input normalisation
the training used. The pause, stop and throttled views are :mod:`convlab.pipelines.trainloop`.

Memory bound: the dataset (uint8; the built-in one 4.7 MB), two copies of the weights (the
network's and the optimizer's state: Adam keeps two more), one mini-batch's activations and
gradients, and one test chunk of ``EVAL_CHUNK`` images' activations. For the default LeNet at
batch 32: under 20 MB besides the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from convlab.engine.backend import to_numpy
from convlab.engine.nets import Network
from convlab.pipelines.train_config import input_normalization

EVAL_CHUNK = 256  # test images per forward pass in evaluate()
WRONG_SHOWN = 8   # the most confidently wrong test images kept per epoch
OPTIMIZER_NAMES = {"adam": "Adam", "momentum": "MomentumSGD", "sgd": "SGD"}


@dataclass(frozen=True)
class TrainSettings:
    """What the Train pane's controls ask for."""

    optimizer: str = "adam"
    lr: float = 0.001
    batch: int = 16
    epochs: int = 2
    seed: int = 0
    weight_decay: float = 0.0
    augment: bool = False
    frozen: tuple[str, ...] = ()  # layers whose updates are disabled

    def replace(self, **changes) -> "TrainSettings":
        return replace(self, **changes)

    def check(self) -> "TrainSettings":
        """Self, or ValueError with one sentence for a value out of range."""
        if self.optimizer not in OPTIMIZER_NAMES:
            raise ValueError(f"the optimizer must be one of {', '.join(OPTIMIZER_NAMES)}, "
                             f"not {self.optimizer!r}.")
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"the learning rate must be positive, not {self.lr}.")
        if self.batch < 1 or self.epochs < 1:
            raise ValueError("the batch size and the number of epochs must be at least 1.")
        if not (np.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight decay must be 0 or more, not {self.weight_decay}.")
        return self


@dataclass
class EpochReport:
    """The test split after an epoch: loss, accuracy, ``confusion[true, predicted]`` counts,
    each test image's predicted class, and the most confidently wrong ones as
    ``(index, predicted, true, probability)``."""

    epoch: int
    iteration: int
    loss: float
    accuracy: float
    confusion: np.ndarray
    predicted: np.ndarray
    wrong: list[tuple[int, int, int, float]] = field(default_factory=list)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``x - max - log(sum(exp(x - max)))`` along axis 1 (float64 for the sums)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted.astype(np.float64)).sum(axis=1, keepdims=True))


class TrainRun:
    """A network learning from ``dataset`` with ``settings``, through the training loop's
    :class:`~convlab.pipelines.training.Trainer` (the one ``convlab train`` runs: its batches,
    augmentation, input normalisation, dropout seeds and ``LogReport`` entries); see the module
    docstring."""

    def __init__(self, spec: dict, dataset, settings: TrainSettings):
        from convlab.pipelines.training import Trainer

        self.settings = settings.check()
        self.spec, self.dataset = spec, dataset
        self.net = Network.from_spec(spec, seed=settings.seed)
        self.output = self.net.layers[-1].name
        self.normalize = input_normalization(dataset.input_shape[0])
        self.trainer = Trainer(self.net, dataset, self._config(settings))

    @staticmethod
    def _config(s: TrainSettings):
        from convlab.pipelines.training import TrainConfig

        return TrainConfig(epochs=s.epochs, batch_size=s.batch, optimizer=s.optimizer, lr=s.lr,
                           weight_decay=s.weight_decay, seed=s.seed, augment=s.augment,
                           freeze=tuple(s.frozen))

    @property
    def iteration(self) -> int:
        return self.trainer.at.iteration

    @property
    def epoch(self) -> int:
        """Epochs completed."""
        return self.trainer.at.epoch

    @property
    def batches_per_epoch(self) -> int:
        return self.trainer.batches

    @property
    def total_iterations(self) -> int:
        return self.batches_per_epoch * self.settings.epochs

    @property
    def in_training_batches(self) -> bool:
        """False between an epoch's last batch and its end (while the test split runs)."""
        return self.trainer.at.batch < self.trainer.batches

    def more_epochs(self, epochs: int) -> None:
        """A finished run trains ``epochs`` more when started again."""
        self.settings = self.settings.replace(epochs=self.epoch + epochs)
        self.trainer.config = replace(self.trainer.config, epochs=self.settings.epochs)

    def inputs(self, images: np.ndarray) -> np.ndarray:
        """uint8 ``(N, H, W, C)`` -> the float32 NCHW input the training saw."""
        mean, std = self.normalize
        x = images.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)
        return (x - mean.astype(np.float32)[None, :, None, None]) / std.astype(np.float32)[None, :, None, None]

    def evaluate(self, entry: dict, should_stop=lambda: False) -> EpochReport | None:
        """The epoch's report: ``entry``'s test loss and accuracy (the loop's ``LogReport``
        entry), and each test image's prediction for the confusion matrix and the mistakes;
        None if stopped."""
        test = self.dataset.test
        n, k = len(test), len(self.dataset.classes)
        predicted = np.zeros(n, np.int64)
        confidence = np.zeros(n, np.float32)
        for start in range(0, n, EVAL_CHUNK):
            if should_stop():
                return None
            x = self.inputs(test.images[start:start + EVAL_CHUNK])
            logp = log_softmax(to_numpy(self.net.forward(x)[self.output]).reshape(len(x), -1))
            predicted[start:start + len(x)] = logp.argmax(axis=1)
            confidence[start:start + len(x)] = np.exp(logp.max(axis=1))
        confusion = np.zeros((k, k), np.int64)
        np.add.at(confusion, (test.labels, predicted), 1)
        wrong = np.flatnonzero(predicted != test.labels)
        wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:WRONG_SHOWN]
        return EpochReport(int(entry["epoch"]), int(entry["iteration"]),
                           float(entry["validation/main/loss"]),
                           float(entry["validation/main/accuracy"]), confusion, predicted,
                           [(int(i), int(predicted[i]), int(test.labels[i]), float(confidence[i]))
                            for i in wrong])

    def maps(self, index: int, layer: str) -> np.ndarray:
        """``layer``'s output for test image ``index``: ``(C, h, w)`` or ``(F,)``."""
        x = self.inputs(self.dataset.test.images[index:index + 1])
        return to_numpy(self.net.forward(x)[layer])[0]
