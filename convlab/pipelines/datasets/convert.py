"""Images to the network's input: resized with Pillow, grey <-> RGB, uint8 throughout.

Square datasets (MNIST 28 x 28, CIFAR 32 x 32) are resized straight to ``(H, W)`` (bilinear).
Photos keep their aspect ratio: the shorter side is scaled to cover ``(H, W)`` and the middle is
cut out (torchvision's ``Resize`` + ``CenterCrop``; Chainer's ImageNet example crops the middle
of 256 x 256 images the same way). Grey becomes RGB by repeating the channel; RGB becomes grey
by ITU-R BT.601 luma, ``L = 0.299 R + 0.587 G + 0.114 B`` (Pillow's ``convert("L")``).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from convlab.pipelines.datasets.core import DatasetError, Split, check_size

CHUNK = 1024  # images converted at a time: only the output array grows with the dataset


def check_input_shape(input_shape) -> tuple[int, int, int]:
    """``input_shape`` as ``(C, H, W)`` ints, or DatasetError (C must be 1 or 3)."""
    try:
        c, h, w = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise DatasetError(f"input_shape must be (channels, height, width), not {input_shape!r}.") from None
    if c not in (1, 3) or not (1 <= h <= 4096 and 1 <= w <= 4096):
        raise DatasetError(f"input_shape {(c, h, w)} is not 1 or 3 channels of 1 to 4096 pixels "
                           "a side.")
    return c, h, w


def to_pil(image: np.ndarray) -> Image.Image:
    """A uint8 ``(H, W, 1 or 3)`` array as a Pillow image ("L" or "RGB")."""
    return Image.fromarray(image[..., 0], "L") if image.shape[2] == 1 else Image.fromarray(image, "RGB")


def fit_image(im: Image.Image, channels: int, height: int, width: int, *, keep_aspect: bool
              ) -> np.ndarray:
    """One Pillow image as uint8 ``(height, width, channels)``."""
    im = im.convert("L" if channels == 1 else "RGB")
    if im.size != (width, height):
        if keep_aspect:
            scale = max(width / im.width, height / im.height)
            sw, sh = max(width, round(im.width * scale)), max(height, round(im.height * scale))
            left, top = (sw - width) / 2 / scale, (sh - height) / 2 / scale
            box = (left, top, left + width / scale, top + height / scale)
            im = im.resize((width, height), Image.BILINEAR, box=box, reducing_gap=3.0)
        else:
            im = im.resize((width, height), Image.BILINEAR)
    out = np.asarray(im, dtype=np.uint8)
    return out[..., None] if channels == 1 else out


def fit_split(split: Split, input_shape, what: str) -> Split:
    """``split`` with every image at ``input_shape`` (C, H, W); the same object when it fits."""
    c, h, w = input_shape
    n, sh, sw, sc = split.images.shape
    if (sc, sh, sw) == (c, h, w):
        return split
    check_size(n, (h, w, c), what)
    out = np.empty((n, h, w, c), dtype=np.uint8)        # (N, H, W, C)
    if (sh, sw) == (h, w):                               # channels only: no Pillow needed
        for start in range(0, n, CHUNK):
            out[start:start + CHUNK] = convert_channels(split.images[start:start + CHUNK], c)
        return Split(out, split.labels)
    for i in range(n):
        out[i] = fit_image(to_pil(split.images[i]), c, h, w, keep_aspect=False)
    return Split(out, split.labels)


def convert_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """uint8 ``(N, H, W, C)`` -> ``(N, H, W, channels)``: grey repeated, or RGB to luma."""
    if images.shape[3] == channels:
        return images
    if channels == 3:
        return np.repeat(images, 3, axis=3)
    # Pillow's "L": (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16, exactly
    rgb = images.astype(np.uint32)
    luma = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16
    return luma.astype(np.uint8)[..., None]
