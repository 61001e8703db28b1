"""The types every dataset reader returns: :class:`Split`, :class:`Dataset`, :class:`DatasetError`.

Images are stored as they are on disk, ``uint8`` ``(N, H, W, C)`` (C = 1 or 3), and labels as
``int64`` ``(N,)`` in ``0 .. len(classes) - 1``; floats are made one mini-batch at a time
(:mod:`.batches`), so CIFAR-10's 50,000 training images stay 153.6 MB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_DATASET_BYTES = 4 << 30  # all images of one dataset, uint8, after resizing: 4 GiB


class DatasetError(ValueError):
    """Data ConvLab cannot train on; ``str(exc)`` is one sentence for a person."""


@dataclass(frozen=True, eq=False)
class Split:
    """One part of a dataset: ``images`` uint8 ``(N, H, W, C)`` and ``labels`` int64 ``(N,)``."""

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        images, labels = self.images, self.labels
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
            raise DatasetError(f"images must be uint8 (N, H, W, 1 or 3), not {images.dtype} "
                               f"{images.shape}.")
        if labels.dtype != np.int64 or labels.shape != (images.shape[0],):
            raise DatasetError(f"{images.shape[0]} images need {images.shape[0]} int64 labels, "
                               f"not {labels.dtype} {labels.shape}.")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, indices) -> Split:
        """The images and labels at ``indices`` (a copy), in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        return Split(self.images[indices], self.labels[indices])


@dataclass(eq=False)
class Dataset:
    """A training and a test split of labelled images and the names of their classes.

    ``name`` says where it came from ("shapes", "mnist", a folder's name); ``source`` is the
    path or built-in name that was opened. ``skipped`` counts the files of a class folder that
    were not used (not images, FIFOs, symbolic-link loops, unreadable), and ``problems`` gives
    the first few reasons, one sentence each.
    """

    name: str
    classes: tuple[str, ...]
    train: Split
    test: Split
    source: str = ""
    skipped: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        self.classes = tuple(str(c) for c in self.classes)
        if self.train.images.shape[1:] != self.test.images.shape[1:] and len(self.test):
            raise DatasetError(f"the training images are {self.train.images.shape[1:]} but the test "
                               f"images {self.test.images.shape[1:]}; both splits need one size.")
        for split_name, split in (("training", self.train), ("test", self.test)):
            check_labels(split.labels, len(self.classes), f"the {split_name} split")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``, the shape of one image as the network reads it (Chainer's layout)."""
        _, h, w, c = self.train.images.shape
        return (int(c), int(h), int(w))

    def batches(self, split: str = "train", batch_size: int = 64, *, seed: int = 0,
                epoch: int = 0, shuffle: bool = True, augment: bool = False, pad: int = 0,
                crop=None, flip: bool = True, normalize=None, start: int = 0,
                drop_last: bool = False):
        """One epoch of ``split`` as :class:`.batches.Batch` es ``(x, labels, indices)``: ``x``
        float32 ``(B, C, h, w)`` = pixel / 255, or ``(pixel / 255 - mean) / std`` with
        ``normalize=(mean, std)``; order ``default_rng([seed, epoch]).permutation``; with
        ``augment``, pad by ``pad``, a random ``crop`` window (default the image size) and a
        random left-right flip (``flip``), else the centre window; ``start`` skips that many
        batches (resuming). See :func:`.batches.iterate_batches`."""
        from convlab.pipelines.datasets.batches import iterate_batches

        return iterate_batches(self._split(split), batch_size, seed=seed, epoch=epoch,
                               shuffle=shuffle, augment=augment, pad=pad, crop=crop, flip=flip,
                               normalize=normalize, start=start, drop_last=drop_last)

    def num_batches(self, split: str = "train", batch_size: int = 64, *,
                    drop_last: bool = False) -> int:
        """How many batches :meth:`batches` yields for one epoch of ``split``."""
        from convlab.pipelines.datasets.batches import count_batches

        return count_batches(len(self._split(split)), batch_size, drop_last=drop_last)

    def channel_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and standard deviation of the training images on the [0, 1] scale
        (float64 ``(C,)`` each), summed 4,096 images at a time; for ``batches(normalize=...)``."""
        images = self.train.images
        c = images.shape[3]
        total, squares, count = np.zeros(c), np.zeros(c), 0
        for start in range(0, images.shape[0], 4096):
            chunk = images[start:start + 4096].reshape(-1, c).astype(np.float64) / 255.0
            total += chunk.sum(axis=0)
            squares += (chunk * chunk).sum(axis=0)
            count += chunk.shape[0]
        mean = total / max(count, 1)
        std = np.sqrt(np.maximum(squares / max(count, 1) - mean * mean, 0.0))
        return mean, np.where(std > 0, std, 1.0)

    def _split(self, split: str) -> Split:
        if split == "train":
            return self.train
        if split == "test":
            return self.test
        raise ValueError(f"split must be 'train' or 'test', not {split!r}.")

    def __repr__(self) -> str:
        c, h, w = self.input_shape
        return (f"Dataset({self.name!r}, {len(self.classes)} classes, {c}x{h}x{w}, "
                f"train {len(self.train)}, test {len(self.test)}, skipped {self.skipped})")


def check_labels(labels: np.ndarray, n_classes: int, where: str) -> None:
    """Raise DatasetError unless every label lies in ``0 .. n_classes - 1``."""
    if labels.size == 0:
        return
    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if bad.size:
        i = int(bad[0])
        raise DatasetError(f"{where} has the label {int(labels[i])} (item {i}), outside 0 .. "
                           f"{n_classes - 1} for {n_classes} classes.")


def check_size(n: int, shape: tuple[int, ...], what: str) -> None:
    """Refuse ``n`` uint8 images of ``shape`` when they would pass ``MAX_DATASET_BYTES``."""
    total = int(n) * int(np.prod(shape, dtype=object))
    if total > MAX_DATASET_BYTES:
        raise DatasetError(f"{what} would need {total / 1e9:.1f} GB for {n:,} images of "
                           f"{' x '.join(map(str, shape))}, more than ConvLab holds "
                           f"({MAX_DATASET_BYTES / 1e9:.1f} GB).")


def seeded_split(labels: np.ndarray, seed: int, test_fraction: float = 0.2
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices, stratified by class: each class gives ``round(0.2 n)`` of its
    ``n`` items to the test split (none when it has one item), chosen by ``default_rng(seed)``.

    Both index arrays are sorted, so the splits keep the source's order."""
    rng = np.random.default_rng(seed)
    test_parts = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        k = int(round(test_fraction * members.size)) if members.size > 1 else 0
        test_parts.append(rng.permutation(members)[:k])
    test = np.sort(np.concatenate(test_parts)) if test_parts else np.zeros(0, np.int64)
    train = np.setdiff1d(np.arange(labels.size), test)
    return train.astype(np.int64), test.astype(np.int64)
