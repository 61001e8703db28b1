"""One training run for the Train pane, Qt-free: a network, an optimizer, a dataset, step by step.

:class:`TrainRun` owns the network being trained and its optimizer. ``step(batch)`` is one
mini-batch: ``loss_and_grads`` (:mod:`convlab.engine.grad`, mean softmax cross entropy, BN with
the batch's statistics and Chainer's running averages) then ``opt.update`` (Chainer's rules,
:mod:`convlab.engine.optim`). ``evaluate()`` runs the test split in chunks (BN's stored
averages) and gives the loss, the accuracy, the confusion matrix and the most confidently wrong
images. The loop that calls these (pause, stop between batches, throttled views) is
:mod:`convlab.pipelines.trainloop`.

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


def make_optimizer(settings: TrainSettings):
    """Chainer's optimizer for ``settings`` (Adam's ``alpha`` is the learning rate)."""
    from convlab.engine import optim

    name = settings.optimizer
    if name == "adam":
        opt = optim.Adam(alpha=settings.lr)
    elif name == "momentum":
        opt = optim.MomentumSGD(lr=settings.lr)
    else:
        opt = optim.SGD(lr=settings.lr)
    return opt


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``x - max - log(sum(exp(x - max)))`` along axis 1 (float64 for the sums)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted.astype(np.float64)).sum(axis=1, keepdims=True))


class TrainRun:
    """A network learning from ``dataset`` with ``settings``; see the module docstring."""

    def __init__(self, spec: dict, dataset, settings: TrainSettings):
        self.settings = settings.check()
        self.spec, self.dataset = spec, dataset
        self.net = Network.from_spec(spec, seed=settings.seed)
        names = set(self.net.layer_names)
        for name in settings.frozen:
            if name in names:
                self.net[name].disable_update()
        self.output = self.net.layers[-1].name
        self.opt = make_optimizer(settings)
        self.opt.setup(self.net)
        if settings.weight_decay > 0:
            from convlab.engine.optim import WeightDecay

            self.opt.add_hook(WeightDecay(settings.weight_decay))
        self.iteration = 0
        self.epoch = 0  # epochs completed
        self.batch_in_epoch = 0

    @property
    def batches_per_epoch(self) -> int:
        return self.dataset.num_batches("train", self.settings.batch)

    @property
    def total_iterations(self) -> int:
        return self.batches_per_epoch * self.settings.epochs

    def batches(self):
        """The rest of the current epoch's mini-batches (seeded: a paused run goes on exactly)."""
        s = self.settings
        side = self.dataset.input_shape[1]
        pad = max(1, side // 8) if s.augment else 0
        return self.dataset.batches("train", s.batch, seed=s.seed, epoch=self.epoch,
                                    augment=s.augment, pad=pad, flip=False,
                                    start=self.batch_in_epoch)

    def step(self, batch) -> tuple[float, float]:
        """One update on ``batch``; ``(loss, accuracy)`` of the batch before the update."""
        from convlab.engine.grad import loss_and_grads

        loss, grads = loss_and_grads(self.net, batch.x, batch.labels, mode="train")
        logits = to_numpy(grads.forward[self.output]).reshape(len(batch.labels), -1)
        accuracy = float((logits.argmax(axis=1) == batch.labels).mean())
        self.opt.update(grads)
        self.iteration += 1
        self.batch_in_epoch += 1
        return float(loss), accuracy

    def end_epoch(self) -> None:
        self.epoch += 1
        self.batch_in_epoch = 0

    def evaluate(self, should_stop=lambda: False) -> EpochReport | None:
        """The test split through the network (stored BN averages); None if stopped."""
        test = self.dataset.test
        n, k = len(test), len(self.dataset.classes)
        predicted = np.zeros(n, np.int64)
        confidence = np.zeros(n, np.float32)
        total = 0.0
        for start in range(0, n, EVAL_CHUNK):
            if should_stop():
                return None
            chunk = next(self.dataset.batches("test", EVAL_CHUNK, shuffle=False,
                                              start=start // EVAL_CHUNK))
            out = self.net.forward(chunk.x)[self.output]
            logp = log_softmax(to_numpy(out).reshape(len(chunk.labels), -1))
            total -= float(logp[np.arange(len(chunk.labels)), chunk.labels].sum())
            predicted[chunk.indices] = logp.argmax(axis=1)
            confidence[chunk.indices] = np.exp(logp.max(axis=1))
        confusion = np.zeros((k, k), np.int64)
        np.add.at(confusion, (test.labels, predicted), 1)
        wrong = np.flatnonzero(predicted != test.labels)
        wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:WRONG_SHOWN]
        return EpochReport(self.epoch, self.iteration, total / max(n, 1),
                           float((predicted == test.labels).mean()) if n else 0.0, confusion,
                           predicted, [(int(i), int(predicted[i]), int(test.labels[i]),
                                        float(confidence[i])) for i in wrong])

    def weights(self) -> dict[str, np.ndarray]:
        """Every parameter and BN average, by Chainer's ``.npz`` key (NumPy copies)."""
        return {f"{layer.name}/{key}": np.array(to_numpy(value))
                for layer in self.net.layers for key, value in layer.params.items()}

    def maps(self, index: int, layer: str) -> np.ndarray:
        """``layer``'s output for test image ``index``: ``(C, h, w)`` or ``(F,)``."""
        x = self.dataset.test.images[index:index + 1].transpose(0, 3, 1, 2)
        x = x.astype(np.float32) / np.float32(255)
        out = self.net.forward(x)[layer]
        return to_numpy(out)[0]
