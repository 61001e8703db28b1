"""Feature maps and kernels as one uint8 montage each, built with NumPy in the worker (no Qt).

A map montage is an ``(H, W)`` uint8 index image: values ``0..254`` are the maps, normalised
per map or over all maps, and ``255`` (:data:`GAP`) is the gutter between tiles, so one
256-entry lookup table colours the whole thing and the GUI thread only calls ``setImage``.
Big stacks are shown with every ``step``-th pixel so the montage stays under ``max_pixels``;
hover and the one-map window read values from the untouched ``maps``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

GAP = 255  # lookup-table index of the gutter between tiles
TOP = 254  # the largest value index
MAX_PIXELS = 6_000_000


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


def plan_layout(count: int, h: int, w: int, aspect: float = 1.6, *, cols: int | None = None,
                max_pixels: int = MAX_PIXELS) -> Layout:
    """The grid that shows ``count`` maps of ``h x w`` largest in a view of width/height ``aspect``."""
    step = max(1, math.ceil(math.sqrt(count * h * w / max_pixels)))
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
        zeros = np.count_nonzero(flat == 0, axis=1) / max(flat.shape[1], 1)
        return cls(flat.min(axis=1), flat.max(axis=1), flat.mean(axis=1, dtype=np.float64), zeros)


@dataclass
class Montage:
    """What a FeatureView shows: the index image, its grid, and the data behind it."""

    image: np.ndarray  # (H, W) uint8, GAP in the gutters
    layout: Layout
    maps: np.ndarray  # (F, h, w) float32, full resolution
    stats: MapStats
    names: list[str] = field(default_factory=list)
    kernels: np.ndarray | None = None  # (F, C, k, k) or None
    normalise: str = "map"  # "map" or "shared"
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


def to_levels(maps: np.ndarray, normalise: str, stats: MapStats) -> np.ndarray:
    """``(F, h, w)`` float -> uint8 in ``0..TOP``, per map or over all maps (constant maps -> 0)."""
    if normalise == "shared":
        lo = np.full(len(maps), stats.minimum.min(), np.float32)
        hi = np.full(len(maps), stats.maximum.max(), np.float32)
    else:
        lo, hi = stats.minimum.astype(np.float32), stats.maximum.astype(np.float32)
    span = hi - lo
    scale = np.divide(TOP, span, out=np.zeros_like(span), where=span > 0)
    out = (maps - lo[:, None, None]) * scale[:, None, None]  # (F, h, w) float32
    np.clip(out, 0, TOP, out=out)
    return out.astype(np.uint8)


def build_montage(maps: np.ndarray, *, names=None, kernels=None, normalise: str = "map",
                  aspect: float = 1.6, title: str = "", cols: int | None = None,
                  max_pixels: int = MAX_PIXELS) -> Montage:
    """Tile ``(F, h, w)`` maps into one uint8 index image (run this off the GUI thread)."""
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    if maps.ndim != 3 or maps.shape[0] == 0:
        raise ValueError(f"montage: expected maps of shape (F, h, w), got {maps.shape}")
    f, h, w = maps.shape
    layout = plan_layout(f, h, w, aspect, cols=cols, max_pixels=max_pixels)
    stats = MapStats.of(maps)
    shown = maps[:, ::layout.step, ::layout.step]  # (F, tile_h, tile_w)
    levels = to_levels(shown, normalise, stats)
    image = np.full((layout.height, layout.width), GAP, np.uint8)
    stride_y, stride_x = layout.tile_h + layout.gap, layout.tile_w + layout.gap
    for i in range(f):
        r, c = divmod(i, layout.cols)
        image[r * stride_y:r * stride_y + layout.tile_h,
              c * stride_x:c * stride_x + layout.tile_w] = levels[i]
    return Montage(image, layout, maps, stats, list(names or []), kernels, normalise, title)


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


def build_kernel_strip(kernels: np.ndarray, *, max_rows: int = 3,
                       background=(32, 34, 38)) -> tuple[np.ndarray, Layout]:
    """All kernels as one RGB image, a few rows high, each pixel drawn as a zoom x zoom block."""
    f, _, k, _ = kernels.shape
    rows = min(max_rows, max(1, math.ceil(f / 32)))
    cols = -(-f // rows)
    zoom = max(1, 12 // k)
    layout = Layout(cols, rows, k * zoom, k * zoom, 1, max(1, zoom // 2))
    tiles = kernel_rgb(kernels).repeat(zoom, axis=1).repeat(zoom, axis=2)  # (F, kz, kz, 3)
    image = np.empty((layout.height, layout.width, 3), np.uint8)
    image[:] = background
    step = layout.tile_h + layout.gap
    for i in range(f):
        r, c = divmod(i, cols)
        image[r * step:r * step + layout.tile_h, c * step:c * step + layout.tile_w] = tiles[i]
    return image, layout


def colormap_lut(name: str, gap_rgb=(30, 32, 36)) -> np.ndarray:
    """A ``(256, 3)`` uint8 lookup table: ``cmap``'s colormap over 0..254, the gutter colour at 255."""
    from cmap import Colormap

    colours = np.asarray(Colormap(name)(np.linspace(0.0, 1.0, TOP + 1)))[:, :3]  # (255, 3)
    lut = np.empty((256, 3), np.uint8)
    lut[:TOP + 1] = np.clip(colours * 255 + 0.5, 0, 255).astype(np.uint8)
    lut[GAP] = gap_rgb
    return lut


def block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """Shrink an ``(H, W, C)`` image by an integer factor, averaging factor x factor blocks."""
    if factor <= 1:
        return image
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    if h == 0 or w == 0:
        return image
    blocks = image[:h, :w].reshape(h // factor, factor, w // factor, factor, -1)
    return np.ascontiguousarray(blocks.mean(axis=(1, 3), dtype=np.float32))
