"""The window's montage: ``(F, h, w)`` maps laid out to fill the view, as one uint8 index image.

:func:`build_montage` (run off the GUI thread) colours through :mod:`convlab.render.colour`
exactly as the PNG grids of :mod:`convlab.render.tiles` do. The gutters between tiles are
rectangles (:meth:`Montage.gutters`) that the canvas paints over it. Big stacks show every
``step``-th pixel (:func:`sample_step`) so the image stays under ``MAX_PIXELS``; hover reads
``maps`` at the shown pixels and the one-map window full-resolution ``indices``. ``maps`` may be
a stage the run kept as its sample (:class:`~convlab.engine.explorer.sampled.SampledMaps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from convlab.render.colour import normalize_bounds, quantize

MAX_PIXELS = 6_000_000  # the window's montage is subsampled above this



@dataclass(frozen=True)
class Layout:
    """Grid geometry in montage pixels: ``cols x rows`` tiles of ``tile_h x tile_w`` plus gaps."""

    cols: int
    rows: int
    tile_h: int
    tile_w: int
    step: int  # every step-th map pixel is shown
    gap: int

    @property
    def height(self) -> int:
        return self.rows * (self.tile_h + self.gap) - self.gap

    @property
    def width(self) -> int:
        return self.cols * (self.tile_w + self.gap) - self.gap

    def locate(self, x: float, y: float) -> tuple[int, int, int] | None:
        """Montage pixel -> (tile index, row, column in the tile), or None over a gap or outside."""
        if x < 0 or y < 0:
            return None
        col, tx = divmod(int(x), self.tile_w + self.gap)
        row, ty = divmod(int(y), self.tile_h + self.gap)
        if col >= self.cols or row >= self.rows or tx >= self.tile_w or ty >= self.tile_h:
            return None
        return row * self.cols + col, ty, tx


def sample_step(count: int, h: int, w: int, max_pixels: int = MAX_PIXELS) -> int:
    """Every how many pixels a montage of ``count`` ``h x w`` maps shows (any view's shape)."""
    return max(1, math.ceil(math.sqrt(count * h * w / max_pixels)))


def plan_layout(count: int, h: int, w: int, aspect: float = 1.6, *, cols: int | None = None,
                max_pixels: int = MAX_PIXELS) -> Layout:
    """The grid that shows ``count`` maps of ``h x w`` largest in a view of width/height ``aspect``."""
    step = sample_step(count, h, w, max_pixels)
    th, tw = -(-h // step), -(-w // step)  # ceil division: the shown pixels of one map
    gap = max(1, round(max(th, tw) / 24))
    if cols is None:
        def shown_scale(c):
            rows = -(-count // c)
            return min(aspect / (c * (tw + gap)), 1.0 / (rows * (th + gap)))
        cols = max(range(1, count + 1), key=shown_scale)
    return Layout(cols, -(-count // cols), th, tw, step, gap)


@dataclass
class MapStats:
    """Per-map statistics over the full maps: arrays of length F."""

    minimum: np.ndarray
    maximum: np.ndarray
    mean: np.ndarray
    zeros: np.ndarray  # share of exact zeros (what a ReLU switched off)

    @classmethod
    def of(cls, maps: np.ndarray) -> "MapStats":
        flat = maps.reshape(len(maps), -1)  # (F, h*w)
        per = max(1, (8 << 20) // max(1, flat.shape[1]))  # maps per 8 MB boolean temporary
        zeros = np.concatenate([np.count_nonzero(flat[i:i + per] == 0, axis=1)
                                for i in range(0, len(flat), per)] or [np.zeros(0, np.intp)]
                               ) / max(flat.shape[1], 1)
        return cls(flat.min(axis=1), flat.max(axis=1), flat.mean(axis=1, dtype=np.float64), zeros)


@dataclass
class Montage:
    """What a FeatureView shows: the index image, its grid, and the data behind it."""

    image: np.ndarray  # (H, W) uint8 colour indices of the shown pixels; gutters 0 (painted over)
    layout: Layout
    maps: np.ndarray  # (F, h, w) float32, full resolution (or SampledMaps: see build_montage)
    stats: MapStats
    indices: "MapIndices"  # indices[i]: (h, w) uint8 colour indices of map i, full resolution
    names: list[str] = field(default_factory=list)
    kernels: np.ndarray | None = None  # (F, C, k, k) or None
    mode: str = "map"  # normalisation: "map" or "layer"
    title: str = ""
    preview: bool = False
    display_size: tuple[int, int] | None = None  # (W, H) in scene units; None = image size

    @property
    def count(self) -> int:
        return len(self.maps)

    def name(self, index: int) -> str:
        return self.names[index] if index < len(self.names) else f"map {index}"

    def lookup(self, x: float, y: float) -> tuple[int, int, int, float] | None:
        """Montage pixel -> (map index, row, column, value) in the full-resolution map."""
        hit = self.layout.locate(x, y)
        if hit is None or hit[0] >= self.count:
            return None
        index, ty, tx = hit
        _, h, w = self.maps.shape
        r, c = min(ty * self.layout.step, h - 1), min(tx * self.layout.step, w - 1)
        return index, r, c, float(self.maps[index, r, c])

    def gutters(self) -> list[tuple[int, int, int, int]]:
        """``(x, y, w, h)`` rectangles between and after the tiles, in montage pixels."""
        return layout_gutters(self.layout, self.count)


def layout_gutters(lay: Layout, count: int) -> list[tuple[int, int, int, int]]:
    """``(x, y, w, h)`` rectangles between the tiles of ``lay`` and over its empty cells."""
    step_x, step_y = lay.tile_w + lay.gap, lay.tile_h + lay.gap
    rects = [(c * step_x - lay.gap, 0, lay.gap, lay.height) for c in range(1, lay.cols)]
    rects += [(0, r * step_y - lay.gap, lay.width, lay.gap) for r in range(1, lay.rows)]
    for i in range(count, lay.rows * lay.cols):  # the empty cells of the last row
        r, c = divmod(i, lay.cols)
        rects.append((c * step_x, r * step_y, lay.tile_w, lay.tile_h))
    return rects


def retile(image: np.ndarray, layout: Layout, count: int,
           aspect: float) -> tuple[np.ndarray, Layout]:
    """The ``count`` tiles of a montage picture ``image`` (laid out by ``layout``) moved into
    the grid that shows them largest in a view of width / height ``aspect``: the same pixels,
    no colouring again (a pinned picture whose maps are gone can still fill its view)."""
    th, tw = layout.tile_h, layout.tile_w
    new = plan_layout(count, th, tw, aspect, max_pixels=max(MAX_PIXELS, count * th * tw))
    if new.cols == layout.cols:
        return image, layout
    out = np.zeros((new.height, new.width), image.dtype)                  # (H', W') indices
    sy, sx, dy, dx = th + layout.gap, tw + layout.gap, th + new.gap, tw + new.gap
    for i in range(count):
        (r, c), (rr, cc) = divmod(i, layout.cols), divmod(i, new.cols)
        out[rr * dy:rr * dy + th, cc * dx:cc * dx + tw] = image[r * sy:r * sy + th,
                                                                 c * sx:c * sx + tw]
    return out, new


def _bounds(maps: np.ndarray, mode, stats: MapStats):
    """``normalize_bounds(maps, mode)``, from the per-map minima and maxima already taken when
    no map holds NaN (``min`` propagates NaN: then the NaN-aware way)."""
    if mode in ("map", "layer") and not (np.isnan(stats.minimum).any()
                                         or np.isnan(stats.maximum).any()):
        lo, hi = stats.minimum[:, None, None], stats.maximum[:, None, None]  # (F, 1, 1)
        if mode == "map":
            return lo, hi
        full = np.ones((len(maps), 1, 1))
        return full * lo.min(), full * hi.max()
    return normalize_bounds(maps, mode)


class MapIndices:
    """The full-resolution colour indices of ``(F, h, w)`` maps, made one map at a time when
    asked (``indices[i]``: the one-map window), so a montage holds no ``(F, h, w)`` uint8 copy.

    ``indices[i]`` is ``colour_index(normalize(maps[i], mode))`` with the full maps' bounds:
    the bytes the montage and PNG export show."""

    def __init__(self, maps: np.ndarray, mode="map", bounds=None):
        self.maps, self.mode = maps, mode
        self.lo, self.hi = normalize_bounds(maps, mode) if bounds is None else bounds  # (F, 1, 1)
        self.shape = maps.shape

    def __len__(self) -> int:
        return len(self.maps)

    def __getitem__(self, index: int) -> np.ndarray:
        i = range(len(self.maps))[index]  # an int, negative allowed
        return self.subsampled(1, i, i + 1)[0]

    def subsampled(self, step: int = 1, start: int = 0, stop: int | None = None,
                   block_bytes: int = 8 << 20) -> np.ndarray:
        """``(n, ceil(h/step), ceil(w/step))`` uint8 indices of maps ``start:stop``, every
        ``step``-th row and column, coloured a block of maps at a time (at most
        ``block_bytes`` of floats, default 8 MB, in the normaliser's temporaries)."""
        stop = len(self.maps) if stop is None else stop
        maps = self.maps[start:stop, ::step, ::step]                    # (n, th, tw) view
        out = np.empty(maps.shape, np.uint8)
        per = max(1, block_bytes // max(1, 4 * maps[:1].size))
        for i in range(0, len(maps), per):
            j = slice(start + i, start + min(i + per, len(maps)))
            out[i:i + per] = quantize(maps[i:i + per], self.mode, bounds=(self.lo[j], self.hi[j]))
        return out


def build_montage(maps, *, names=None, kernels=None, mode: str = "map",
                  aspect: float = 1.6, title: str = "", cols: int | None = None,
                  max_pixels: int = MAX_PIXELS) -> Montage:
    """Tile ``(F, h, w)`` maps into one uint8 index image (run this off the GUI thread).

    ``mode`` is :func:`~convlab.render.colour.normalize`'s ("map" or "layer"), applied with the
    full maps' bounds, so a subsampled montage keeps each map's colours. ``maps`` may be a
    stage the run kept as :class:`~convlab.engine.explorer.sampled.SampledMaps` (its step is this
    montage's): its sample, statistics and bounds are those of the full maps."""
    sampled = hasattr(maps, "sample") and hasattr(maps, "bounds")
    if not sampled:
        maps = np.ascontiguousarray(maps, dtype=np.float32)
    if maps.ndim != 3 or maps.shape[0] == 0:
        raise ValueError(f"montage: expected maps of shape (F, h, w), got {maps.shape}")
    f, h, w = maps.shape
    layout = plan_layout(f, h, w, aspect, cols=cols, max_pixels=max_pixels)
    if sampled:
        if maps.step != layout.step:
            raise ValueError(f"montage: maps sampled every {maps.step} pixels, the montage "
                             f"shows every {layout.step}")
        stats = MapStats(maps.minimum, maps.maximum, maps.mean, maps.zeros)
        bounds = maps.bounds(mode)
    else:
        stats = MapStats.of(maps)
        bounds = _bounds(maps, mode, stats)
    # full resolution made one map at a time when asked; only the shown pixels coloured here
    indices = MapIndices(maps, mode, bounds)
    shown = indices.subsampled(layout.step)  # (F, tile_h, tile_w) uint8
    image = np.zeros((layout.height, layout.width), np.uint8)
    stride_y, stride_x = layout.tile_h + layout.gap, layout.tile_w + layout.gap
    for i in range(f):
        r, c = divmod(i, layout.cols)
        image[r * stride_y:r * stride_y + layout.tile_h,
              c * stride_x:c * stride_x + layout.tile_w] = shown[i]
    return Montage(image, layout, maps, stats, indices, list(names or []), kernels,
                   mode, title)
