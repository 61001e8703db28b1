"""What a training run is asked to do, checked: :class:`TrainConfig` (numbers within their
ranges, Chainer's default rates), :func:`check_fit` (the network reads the data's images and
gives one score per class, or one sentence naming the layer and the fix), and the input
normalisation the Network pane uses too."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlab.engine.optim import OPTIMIZERS, WeightDecay
from convlab.engine.wording import shape_text
from convlab.pipelines.datasets import Dataset
from convlab.pipelines.images import IMAGENET_MEAN

# (low, high) of every number a run takes; None: no bound on that side
RANGES = {"epochs": (1, 10_000), "batch_size": (1, 4096), "lr": (1e-8, 10.0),
          "weight_decay": (0.0, 0.1), "seed": (0, 2**32 - 1), "limit": (1, 10_000_000)}
DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "adam": 0.001}   # Chainer's defaults


class TrainingError(ValueError):
    """A run that cannot start as asked; ``str(exc)`` is one sentence."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``lr`` None: the optimizer's Chainer default (Adam's ``alpha`` 0.001,
    SGD's and MomentumSGD's ``lr`` 0.01). ``freeze``: layers whose updates are disabled.
    ``limit``: use at most this many images of each split (quick runs and tests)."""

    epochs: int = 5
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float | None = None
    weight_decay: float = 0.0
    seed: int = 0
    augment: bool = True
    freeze: tuple[str, ...] = ()
    limit: int | None = None

    def checked(self) -> "TrainConfig":
        """This configuration, or TrainingError naming the first value out of range."""
        if self.optimizer not in OPTIMIZERS:
            raise TrainingError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not "
                                f"{self.optimizer!r}.")
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            if value is None and name in ("lr", "limit"):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    low <= value <= high) or (name != "lr" and name != "weight_decay"
                                              and int(value) != value):
                raise TrainingError(f"{name} must be from {low:g} to {high:g}, not {value!r}.")
        return self

    @property
    def rate(self) -> float:
        return DEFAULT_LR[self.optimizer] if self.lr is None else float(self.lr)

    def make_optimizer(self):
        cls = OPTIMIZERS[self.optimizer]
        opt = cls(alpha=self.rate) if self.optimizer == "adam" else cls(lr=self.rate)
        if self.weight_decay:
            opt.add_hook(WeightDecay(self.weight_decay))
        return opt


def input_normalization(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` on the [0, 1] scale: ImageNet's mean (its luma for grey), std 1."""
    mean = np.asarray(IMAGENET_MEAN) / 255.0
    if channels == 1:
        mean = np.asarray([0.299 * mean[0] + 0.587 * mean[1] + 0.114 * mean[2]])
    return mean, np.ones(channels)


def check_fit(net, data: Dataset) -> None:
    """TrainingError (one sentence naming the layer and the fix) unless ``net`` reads
    ``data``'s images and gives one score per class."""
    shape = data.input_shape
    rows = net.summary(shape)
    bad = next((r for r in rows if r.error), None)
    if bad is not None:
        raise TrainingError(f"{bad.error.rstrip('.').split('. Square')[0]} with {data.name}'s "
                            f"{shape_text(shape)} images; open the data at the network's input "
                            f"{shape_text(tuple(net.input_shape))} (convlab train does).")
    last, out = rows[-1].name, rows[-1].output_shape
    classes = len(data.classes)
    if len(out) != 1:
        raise TrainingError(f"the last layer {last} gives {shape_text(out)}, not one score per "
                            f"class; end the network with an fc layer of {classes} outputs.")
    if out[0] != classes:
        raise TrainingError(f"{last} gives {out[0]} scores but {data.name} has {classes} "
                            f"classes; set {last}'s out_size to {classes} (convlab train --net "
                            "does this for a built-in network).")
    if len(data.train) == 0:
        raise TrainingError(f"{data.name} has no training images.")
