"""Arrays -> pictures, without Qt: colormaps, normalisation, montages, vectors as maps.

:mod:`convlab.pipelines.images` reads and writes image files; this module decides what a feature map
looks like. The window and ``convlab export`` draw with the same functions, so a map looks the
same on screen and in a PNG:

- :data:`DISPLAY_COLORMAPS`: the colormap menu, ``{display name: cmap name}``, in menu order.
- :func:`normalize` (``"map"``, ``"layer"`` or ``("fixed", lo, hi)``) then :func:`apply_colormap`.
- :func:`vector_grid`: an ``(N,)`` layer output (fc6) as a ``rows x cols`` map, ``rows * cols == N``.
- :func:`montage` (float, NaN gaps) and :func:`tile_rgb` (coloured tiles, enlarged one by one).
"""

from __future__ import annotations

import logging
import math
import warnings
from functools import lru_cache

import numpy as np

NAN_COLOR = (255, 255, 255)  # montage separators, empty cells and NaN values
# The colormap menu: display name -> a name the cmap package knows. Namespaced where cmap would
# otherwise log an alias warning ("RdBu_r" resolves to colorbrewer's with a warning), and never
# cmap's own "grey", which is its "cmap:white" map, not matplotlib's gray.
DISPLAY_COLORMAPS = {"viridis": "viridis", "magma": "magma", "grey": "gray", "cividis": "cividis",
                     "red-blue": "colorbrewer:RdBu_r", "turbo": "turbo", "inferno": "inferno",
                     "plasma": "plasma"}
COLORMAPS = tuple(DISPLAY_COLORMAPS.values())  # cmap names, for help texts


def colormap_name(name: str) -> str:
    """A display name (``"grey"``, ``"red-blue"``) or any cmap name -> the cmap name to use."""
    key = str(name).strip()
    return DISPLAY_COLORMAPS.get(key.lower(), key)


@lru_cache(maxsize=32)
def _cached_lut(name: str) -> np.ndarray:
    from cmap import Colormap

    quiet = logging.getLogger("cmap")
    was_disabled, quiet.disabled = quiet.disabled, True  # cmap logs alias warnings ('rdbu' -> ...)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rgba = Colormap(name).lut(256)
    except Exception:  # noqa: BLE001 - cmap raises ValueError or KeyError for unknown names
        raise ValueError(f"unknown colormap {name!r}; try one of {', '.join(DISPLAY_COLORMAPS)} "
                         "(or any name the cmap package knows)") from None
    finally:
        quiet.disabled = was_disabled
    table = np.round(np.asarray(rgba)[:, :3] * 255.0).clip(0, 255).astype(np.uint8)
    table.setflags(write=False)
    return table


def check_colormap(name: str) -> str:
    """The cmap name for ``name`` (a display name or a cmap name); ValueError if unknown."""
    resolved = colormap_name(name)
    _cached_lut(resolved)
    return resolved


def lut(name: str = "viridis") -> np.ndarray:
    """A ``(256, 3)`` uint8 lookup table (what pyqtgraph's ImageItem.setLookupTable takes)."""
    return _cached_lut(colormap_name(name)).copy()


def apply_colormap(values: np.ndarray, name: str = "viridis", nan_color=NAN_COLOR) -> np.ndarray:
    """Values in [0, 1] (any shape) -> uint8 RGB (``shape + (3,)``); NaN cells get ``nan_color``."""
    values = np.asarray(values, dtype=np.float32)
    nan = np.isnan(values)
    index = np.rint(np.clip(np.where(nan, 0.0, values), 0.0, 1.0) * 255.0).astype(np.uint8)
    rgb = _cached_lut(colormap_name(name))[index]
    if nan.any():
        rgb[nan] = nan_color
    return rgb


def parse_normalize(text):
    """``"map"``, ``"layer"`` or ``"fixed:LO,HI"`` -> a mode for :func:`normalize` (ValueError if bad)."""
    if not isinstance(text, str):
        return text
    key = text.strip().lower()
    if key in ("map", "layer"):
        return key
    if key.startswith("fixed:"):
        try:
            lo, hi = (float(v) for v in key[6:].split(","))
        except ValueError:
            raise ValueError(f"fixed normalisation needs two numbers, as in fixed:0,1; got {text!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"fixed normalisation needs LO < HI, got {lo:g} and {hi:g}")
        return ("fixed", lo, hi)
    raise ValueError(f"normalisation must be map, layer or fixed:LO,HI; got {text!r}")


def normalize_bounds(maps: np.ndarray, mode="map") -> tuple[np.ndarray, np.ndarray]:
    """The ``(lo, hi)`` each map is scaled with, each shaped ``(F, 1, 1)`` for ``(F, h, w)`` maps."""
    maps = np.asarray(maps)
    stack = maps.reshape((-1,) + maps.shape[-2:]) if maps.ndim >= 2 else maps.reshape(1, 1, -1)
    mode = parse_normalize(mode)
    if mode == "map":
        return (np.nanmin(stack, axis=(1, 2), keepdims=True),
                np.nanmax(stack, axis=(1, 2), keepdims=True))
    if mode == "layer":
        lo, hi = np.nanmin(stack), np.nanmax(stack)
    elif isinstance(mode, tuple) and len(mode) == 3 and mode[0] == "fixed" and mode[2] > mode[1]:
        lo, hi = mode[1], mode[2]
    else:
        raise ValueError(f"normalisation must be 'map', 'layer' or ('fixed', lo, hi); got {mode!r}")
    full = np.ones((stack.shape[0], 1, 1))
    return full * lo, full * hi


def normalize(maps: np.ndarray, mode="map") -> np.ndarray:
    """Scale to [0, 1] float32: each map by its own min..max (``"map"``), all maps by the
    layer's (``"layer"``), or by ``("fixed", lo, hi)`` (clipped). A constant map becomes 0;
    NaN stays NaN. The result has the input's shape."""
    maps = np.asarray(maps, dtype=np.float32)
    lo, hi = normalize_bounds(maps, mode)
    stack = maps.reshape(lo.shape[0], *maps.shape[-2:]) if maps.ndim >= 2 else maps.reshape(1, 1, -1)
    span = (hi - lo).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(span > 0, (stack - lo.astype(np.float32)) / np.where(span > 0, span, 1), 0)
    out = np.where(np.isnan(stack), np.nan, np.clip(out, 0.0, 1.0))
    return out.astype(np.float32).reshape(maps.shape)


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
            sep: int = 1) -> np.ndarray:
    """What ``convlab export`` draws, as uint8 RGB: an ``(h, w)`` map, an ``(F, h, w)`` montage,
    or an ``(N,)`` vector laid out by :func:`vector_grid`."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim == 1:
        values = vector_grid(values)
    if values.ndim == 3:
        return tile_rgb(apply_colormap(normalize(values, mode), cmap), scale=scale, sep=sep)[0]
    return enlarge(apply_colormap(normalize(values, mode), cmap), scale)


def _as_maps(maps) -> np.ndarray:
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3 or maps.shape[0] < 1:
        raise ValueError(f"montage: expected (F, h, w) maps with F >= 1, got shape {maps.shape}")
    return maps
