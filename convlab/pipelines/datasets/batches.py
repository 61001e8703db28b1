"""Mini-batches: a seeded shuffle, Chainer-style crop and flip, floats made one batch at a time.

Order: epoch ``e`` of seed ``s`` visits the images in ``default_rng([s, e]).permutation(N)``
(or in stored order with ``shuffle=False``); batch ``b`` takes positions ``b*B .. b*B+B-1`` of
it, the last batch shorter unless ``drop_last``. Batch ``b``'s augmentation draws from its own
generator ``default_rng([s, e, b])``, so a run resumed at batch ``start`` sees exactly the batches
an uninterrupted run would have seen.

Augmentation (``augment=True``), after Chainer's ``examples/imagenet/train_imagenet.py``
(``PreprocessedDataset``: a random ``crop_size`` window and a random horizontal flip for
training, the centre window for evaluation), with the CIFAR recipe's zero padding first
(``pad=4``, crop back to 32: He et al. 2016, section 4.2): each image is padded by ``pad``
zeros on every side, a ``crop`` window (default: the image size) is cut at a random offset,
and, when ``flip``, mirrored left-right with probability 1/2. Without ``augment`` the window is
the centre one and nothing is flipped (use that for the test split).

Values: ``x = pixel / 255`` in [0, 1] (float32, NCHW). With ``normalize=(mean, std)``
(per-channel sequences on that [0, 1] scale, e.g. :meth:`Dataset.channel_stats`), ``x = (pixel /
255 - mean) / std``. Only the batch is ever converted: the dataset stays uint8.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

from convlab.pipelines.datasets.core import Split


class Batch(NamedTuple):
    """``x``: float32 ``(B, C, h, w)``; ``labels``: int64 ``(B,)``; ``indices``: the images'
    positions in the split (int64 ``(B,)``)."""

    x: np.ndarray
    labels: np.ndarray
    indices: np.ndarray


def count_batches(n: int, batch_size: int, *, drop_last: bool = False) -> int:
    """Batches in one epoch of ``n`` images."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}.")
    return n // batch_size if drop_last else -(-n // batch_size)


def epoch_order(n: int, *, seed: int = 0, epoch: int = 0, shuffle: bool = True) -> np.ndarray:
    """The order in which epoch ``epoch`` visits ``n`` images (int64)."""
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return np.random.default_rng([seed, epoch]).permutation(n).astype(np.int64)


def _window(size, crop) -> tuple[int, int]:
    if crop is None:
        return size
    ch, cw = (crop, crop) if np.isscalar(crop) else crop
    return int(ch), int(cw)


def iterate_batches(split: Split, batch_size: int = 64, *, seed: int = 0, epoch: int = 0,
                    shuffle: bool = True, augment: bool = False, pad: int = 0, crop=None,
                    flip: bool = True, normalize=None, start: int = 0, drop_last: bool = False
                    ) -> Iterator[Batch]:
    """The :class:`Batch` es of ``split`` for one epoch (see the module's docstring); bad
    options raise ``ValueError`` here, before the first batch."""
    n, h, w, c = split.images.shape
    total = count_batches(n, batch_size, drop_last=drop_last)
    ch, cw = _window((h, w), crop)
    if pad < 0 or not (1 <= ch <= h + 2 * pad and 1 <= cw <= w + 2 * pad):
        raise ValueError(f"a {ch} x {cw} crop does not fit {h} x {w} images padded by {pad}.")
    if not 0 <= start <= total:
        raise ValueError(f"start must lie in 0 .. {total}, not {start}.")
    scale = _scale(normalize, c)
    order = epoch_order(n, seed=seed, epoch=epoch, shuffle=shuffle)
    return _generate(split, order, range(start, total), batch_size, (ch, cw), pad,
                     (seed, epoch) if augment else None, flip, scale)


def _generate(split, order, batch_numbers, batch_size, window, pad, aug_seed, flip, scale):
    """One :class:`Batch` per number in ``batch_numbers``; ``aug_seed`` None: no augmentation."""
    for b in batch_numbers:
        idx = order[b * batch_size:(b + 1) * batch_size]
        images = split.images[idx]                                    # (B, H, W, C) uint8
        if pad:
            images = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        rng = np.random.default_rng([*aug_seed, b]) if aug_seed is not None else None
        images = _crop_flip(images, *window, rng, flip)               # (B, ch, cw, C) uint8
        yield Batch(_to_float(images, scale), split.labels[idx].copy(), idx.copy())


def _crop_flip(images: np.ndarray, ch: int, cw: int, rng, flip: bool) -> np.ndarray:
    """A window of each image: random (with ``rng``) or central; mirrored where drawn."""
    b, h, w, _ = images.shape
    if rng is None:
        top, left = (h - ch) // 2, (w - cw) // 2
        return images[:, top:top + ch, left:left + cw]
    top = rng.integers(0, h - ch + 1, b)
    left = rng.integers(0, w - cw + 1, b)
    mirror = rng.random(b) < 0.5 if flip else np.zeros(b, bool)
    rows = top[:, None] + np.arange(ch)                               # (B, ch)
    step = np.where(mirror[:, None], np.arange(cw - 1, -1, -1), np.arange(cw))
    cols = left[:, None] + step                                       # (B, cw)
    return images[np.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]


def _scale(normalize, channels: int):
    """``(offset, factor)`` per channel with ``x = pixel * factor + offset``, or None."""
    if normalize is None:
        return None
    mean, std = (np.asarray(v, dtype=np.float64).reshape(-1) for v in normalize)
    mean, std = np.broadcast_to(mean, (channels,)), np.broadcast_to(std, (channels,))
    if np.any(std <= 0) or not np.all(np.isfinite(mean)):
        raise ValueError(f"normalize needs finite means and positive deviations, not {normalize}.")
    return mean, std


def _to_float(images: np.ndarray, scale) -> np.ndarray:
    """uint8 ``(B, h, w, C)`` -> float32 ``(B, C, h, w)``: ``/ 255``, then the normalisation."""
    x = np.empty((images.shape[0], images.shape[3], images.shape[1], images.shape[2]), np.float32)
    np.divide(images.transpose(0, 3, 1, 2), np.float32(255.0), out=x, dtype=np.float32)
    if scale is not None:
        mean, std = scale
        x -= mean.astype(np.float32)[None, :, None, None]
        x /= std.astype(np.float32)[None, :, None, None]
    return x
