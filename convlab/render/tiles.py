"""Maps laid out as tiles, for the window and for PNG files: grids, vector layouts, statistics.

Both grids colour through :mod:`convlab.render.colour` (``normalize``, ``colour_index``,
``lut``), so a tile's pixels are the same on screen and in a PNG:

- :func:`shape_text`: the one shape formatter (:func:`convlab.engine.wording.shape_text`).
- PNG grids: :func:`tile_rgb` (coloured tiles, each enlarged, ``sep``-pixel separators in
  ``NAN_COLOR``), :func:`grid_layout` (``ceil(sqrt(F))`` columns), :func:`picture` (what one
  exported map or grid looks like), :func:`vector_grid` (an fc layer's ``(N,)`` output as a map).
- The window's montage (:func:`build_montage`, :class:`Montage`) is in
  :mod:`convlab.render.montage`, re-exported here.
"""

from __future__ import annotations

import math

import numpy as np

from convlab.engine.wording import shape_text  # noqa: F401 - the one shape formatter, here too
from convlab.render.colour import NAN_COLOR, apply_colormap, normalize


# -- PNG grids -------------------------------------------------------------------------------------

def vector_shape(n: int) -> tuple[int, int]:
    """``(rows, cols)`` with ``rows * cols == n`` as near square as n allows (rows <= cols)."""
    n = int(n)
    if n < 1:
        raise ValueError(f"a vector needs at least one value, got {n}")
    rows = next(d for d in range(math.isqrt(n), 0, -1) if n % d == 0)
    return rows, n // rows


def vector_grid(values) -> np.ndarray:
    """An ``(N,)`` vector (an fc layer's output) as a ``(rows, cols)`` map, values row by row.

    ``rows`` is the largest divisor of N not above sqrt(N), so nothing is padded: 4096 -> 64 x 64,
    9216 -> 96 x 96, 1000 -> 25 x 40, a prime N -> 1 x N. Unit ``i`` is at ``divmod(i, cols)``.
    """
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"vector_grid: expected an (N,) vector, got shape {values.shape}")
    return values.reshape(vector_shape(values.size))


def montage(maps: np.ndarray, cols: int | None = None, sep: int = 1, fill: float = np.nan):
    """Tile ``(F, h, w)`` maps row by row into one 2-D float32 grid with ``sep``-pixel gaps.

    ``cols`` defaults to ``ceil(sqrt(F))``. Gaps and empty cells hold ``fill`` (NaN, which
    :func:`apply_colormap` paints in ``NAN_COLOR``). Returns ``(grid, (rows, cols))``; the grid is
    ``rows*h + (rows-1)*sep`` by ``cols*w + (cols-1)*sep`` pixels.
    """
    maps = _as_maps(maps)
    n, h, w = maps.shape
    rows, cols = grid_layout(n, cols)
    grid = np.full((rows * h + (rows - 1) * sep, cols * w + (cols - 1) * sep), fill, np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * (h + sep):r * (h + sep) + h, c * (w + sep):c * (w + sep) + w] = maps[i]
    return grid, (rows, cols)


def grid_layout(count: int, cols: int | None = None) -> tuple[int, int]:
    """``(rows, cols)`` of a montage of ``count`` maps; ``cols`` defaults to ``ceil(sqrt(count))``."""
    cols = max(1, min(int(cols or math.ceil(math.sqrt(count))), count))
    return math.ceil(count / cols), cols


def grid_size(count: int, h: int, w: int, *, scale: int = 1, sep: int = 1) -> tuple[int, int]:
    """``(height, width)`` in pixels of :func:`tile_rgb`'s picture."""
    rows, cols = grid_layout(count)
    return rows * h * scale + (rows - 1) * sep, cols * w * scale + (cols - 1) * sep


def fit_scale(count: int, h: int, w: int, *, scale: int, sep: int = 1, max_pixels: int) -> int:
    """The largest enlargement up to ``scale`` (at least 1) that keeps a :func:`tile_rgb` picture
    of ``count`` ``h x w`` maps within ``max_pixels``."""
    while scale > 1 and math.prod(grid_size(count, h, w, scale=scale, sep=sep)) > max_pixels:
        scale -= 1
    return scale


def enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of an ``(h, w, ...)`` array by a whole ``scale``, one copy."""
    if scale == 1:
        return image
    h, w = image.shape[:2]
    rest = image.shape[2:]
    blocks = np.broadcast_to(image[:, None, :, None], (h, scale, w, scale, *rest))
    return blocks.reshape(h * scale, w * scale, *rest)


def tile_rgb(tiles: np.ndarray, *, scale: int = 1, sep: int = 1):
    """Coloured ``(F, h, w, 3)`` uint8 maps -> one RGB montage, each tile enlarged ``scale`` times.

    ``tile_rgb(apply_colormap(norm))`` is ``apply_colormap(montage(norm))`` with every tile
    enlarged (separators stay ``sep`` pixels), but only the finished picture is ever held at
    full size. Returns ``(rgb, (rows, cols))``.
    """
    tiles = np.asarray(tiles)
    if tiles.ndim != 4 or tiles.shape[0] < 1 or tiles.shape[3] != 3 or tiles.dtype != np.uint8:
        raise ValueError(f"tile_rgb: expected uint8 (F, h, w, 3) tiles, got {tiles.dtype} {tiles.shape}")
    n, h, w = tiles.shape[:3]
    rows, cols = grid_layout(n)
    rgb = np.empty((*grid_size(n, h, w, scale=scale, sep=sep), 3), np.uint8)
    rgb[...] = NAN_COLOR
    th, tw = h * scale, w * scale
    for i in range(n):
        r, c = divmod(i, cols)
        top, left = r * (th + sep), c * (tw + sep)
        rgb[top:top + th, left:left + tw] = enlarge(tiles[i], scale)
    return rgb, (rows, cols)


def picture(values: np.ndarray, cmap: str = "viridis", mode="map", *, scale: int = 1,
            sep: int = 1, bounds=None) -> np.ndarray:
    """What ``convlab export`` draws, as uint8 RGB: an ``(h, w)`` map, an ``(F, h, w)`` montage,
    or an ``(N,)`` vector laid out by :func:`vector_grid`. ``bounds`` (``(lo, hi)`` from
    :func:`~convlab.render.colour.normalize_bounds` of the whole layer) colours one map of a
    layer as it looks among the others (``"layer"`` scaling)."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim == 1:
        values = vector_grid(values)
    norm = normalize(values, mode, bounds=bounds)
    if values.ndim == 3:
        return tile_rgb(apply_colormap(norm, cmap), scale=scale, sep=sep)[0]
    return enlarge(apply_colormap(norm, cmap), scale)


def _as_maps(maps) -> np.ndarray:
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3 or maps.shape[0] < 1:
        raise ValueError(f"montage: expected (F, h, w) maps with F >= 1, got shape {maps.shape}")
    return maps


# the window's montage lives in its own module; every name stays importable from here
from convlab.render.montage import (  # noqa: E402,F401
    MAX_PIXELS, Layout, MapIndices, MapStats, Montage, _bounds, build_montage, plan_layout,
    sample_step)
