"""Convolution kernels as pictures: mid-grey is 0, colour shows what a filter responds to."""

from __future__ import annotations

import math

import numpy as np

from convlab.render.tiles import Layout


def kernel_rgb(kernels: np.ndarray) -> np.ndarray:
    """``(F, C, k, k)`` weights -> ``(F, k, k, 3)`` uint8, 0 at mid-grey, each kernel to its own
    largest magnitude. C = 3 shows the colour a filter responds to; C = 1 is red-grey-blue."""
    f, c = kernels.shape[:2]
    peak = np.abs(kernels).reshape(f, -1).max(axis=1)
    peak[peak == 0] = 1.0
    unit = kernels / peak[:, None, None, None]  # (F, C, k, k) in [-1, 1]
    if c == 3:
        rgb = 0.5 + 0.5 * unit.transpose(0, 2, 3, 1)  # (F, k, k, 3)
    else:
        v = unit[:, 0]  # (F, k, k)
        pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
        rgb = np.stack([0.5 + 0.5 * pos - 0.3 * neg, 0.5 - 0.3 * (pos + neg),
                        0.5 + 0.5 * neg - 0.3 * pos], axis=-1)
    return (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)


def strip_rows(f: int, tile: int, gap: int, aspect: float) -> int:
    """The number of rows that shows ``f`` tiles largest in a view ``aspect`` = width / height
    wide: the rows maximising ``min(aspect / width, 1 / height)`` of the whole strip."""
    def shown(rows: int) -> float:
        cols = -(-f // rows)
        return min(aspect / (cols * (tile + gap)), 1.0 / (rows * (tile + gap)))

    return max(range(1, f + 1), key=shown)


def build_kernel_strip(kernels: np.ndarray, *, max_rows: int = 3, aspect: float | None = None,
                       background=(32, 34, 38)) -> tuple[np.ndarray, Layout]:
    """All kernels as one RGB image, each pixel drawn as a zoom x zoom block: a few rows high,
    or, given the view's ``aspect`` (width / height), the rows that show them largest
    (256 kernels of 15 x 15 in a wide short tab: 6 rows, not 3 rows of 86)."""
    f, _, k, _ = kernels.shape
    zoom = max(1, 12 // k)
    gap = max(1, zoom // 2)
    if aspect is not None and aspect > 0:
        rows = strip_rows(f, k * zoom, gap, aspect)
    else:
        rows = min(max_rows, max(1, math.ceil(f / 32)))
    cols = -(-f // rows)
    layout = Layout(cols, rows, k * zoom, k * zoom, 1, gap)
    tiles = kernel_rgb(kernels).repeat(zoom, axis=1).repeat(zoom, axis=2)  # (F, kz, kz, 3)
    image = np.empty((layout.height, layout.width, 3), np.uint8)
    image[:] = background
    step = layout.tile_h + layout.gap
    for i in range(f):
        r, c = divmod(i, cols)
        image[r * step:r * step + layout.tile_h, c * step:c * step + layout.tile_w] = tiles[i]
    return image, layout
