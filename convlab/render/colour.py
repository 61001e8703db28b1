"""How a value becomes a colour, on screen and in a PNG alike: colormap names, tables, scaling.

One path, used by the window's montage, the one-map window and every exported PNG:
:func:`normalize` (``"map"``: each map by its own min..max; ``"layer"``: all maps by the
layer's; ``("fixed", lo, hi)``) gives values in [0, 1]; :func:`colour_index` turns them into
uint8 indices ``rint(v * 255)``; :func:`lut` (256 colours) colours them. The window hands
pyqtgraph the indices with that table, a PNG stores ``lut[indices]``; so a map tile has the
same RGB on screen at 1:1 as in its PNG.

- :data:`DISPLAY_COLORMAPS`: the colormap menu, ``{display name: cmap name}``, in menu order.
- :data:`NAN_COLOR`: PNG separators, empty cells and NaN values.
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


def colour_index(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (any shape) -> uint8 ``rint(clip(v, 0, 1) * 255)``; NaN -> 0.

    The only quantiser: the screen shows these indices through :func:`lut`, PNGs store their
    colours (:func:`apply_colormap`)."""
    values = np.asarray(values, dtype=np.float32)
    return np.rint(np.clip(np.where(np.isnan(values), 0.0, values), 0.0, 1.0) * 255.0).astype(np.uint8)


def apply_colormap(values: np.ndarray, name: str = "viridis", nan_color=NAN_COLOR) -> np.ndarray:
    """Values in [0, 1] (any shape) -> uint8 RGB (``shape + (3,)``); NaN cells get ``nan_color``."""
    values = np.asarray(values, dtype=np.float32)
    nan = np.isnan(values)
    rgb = _cached_lut(colormap_name(name))[colour_index(values)]
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


def _nan_bounds(stack: np.ndarray, **kw):
    """Least and largest values ignoring NaN, as ``nanmin``/``nanmax``; an all-NaN map has NaN
    bounds (drawn as NaN) without the RuntimeWarning those give (``fmin``/``fmax`` reduce
    instead: exact and thread-safe, unlike silencing warnings)."""
    return np.fmin.reduce(stack, **kw), np.fmax.reduce(stack, **kw)


def normalize_bounds(maps: np.ndarray, mode="map") -> tuple[np.ndarray, np.ndarray]:
    """The ``(lo, hi)`` each map is scaled with, each shaped ``(F, 1, 1)`` for ``(F, h, w)`` maps."""
    maps = np.asarray(maps)
    stack = maps.reshape((-1,) + maps.shape[-2:]) if maps.ndim >= 2 else maps.reshape(1, 1, -1)
    mode = parse_normalize(mode)
    if mode == "map":
        return _nan_bounds(stack, axis=(1, 2), keepdims=True)
    if mode == "layer":
        lo, hi = _nan_bounds(stack, axis=None)  # over every value
    elif isinstance(mode, tuple) and len(mode) == 3 and mode[0] == "fixed" and mode[2] > mode[1]:
        lo, hi = mode[1], mode[2]
    else:
        raise ValueError(f"normalisation must be 'map', 'layer' or ('fixed', lo, hi); got {mode!r}")
    full = np.ones((stack.shape[0], 1, 1))
    return full * lo, full * hi


def quantize(maps: np.ndarray, mode="map", *, bounds=None) -> np.ndarray:
    """``colour_index(normalize(maps, mode, bounds=bounds))``, bit for bit, in one float32
    buffer: ``rint(clip((v - lo) / (hi - lo), 0, 1) * 255)`` as uint8, 0 for a constant map and
    for NaN. The montage's path (about 3x fewer passes over the maps than the two steps)."""
    maps = np.asarray(maps, dtype=np.float32)
    lo, hi = normalize_bounds(maps, mode) if bounds is None else bounds
    stack = maps.reshape(lo.shape[0], *maps.shape[-2:]) if maps.ndim >= 2 else maps.reshape(1, 1, -1)
    with np.errstate(invalid="ignore", divide="ignore"):  # inf - inf bounds: a NaN span
        span = (hi - lo).astype(np.float32)  # (F, 1, 1)
        scaled = span > 0
        out = np.subtract(stack, lo.astype(np.float32))  # (F, h, w) float32, the only buffer
        np.divide(out, np.where(scaled, span, np.float32(1)), out=out)
    out[~scaled.reshape(-1)] = 0.0  # a constant map (or an all-NaN one) is 0
    np.fmax(out, 0.0, out=out)  # fmax: NaN -> 0, as colour_index does
    np.fmin(out, 1.0, out=out)
    out *= 255.0
    np.rint(out, out=out)
    return out.astype(np.uint8).reshape(maps.shape)


def normalize(maps: np.ndarray, mode="map", *, bounds=None) -> np.ndarray:
    """Scale to [0, 1] float32: each map by its own min..max (``"map"``), all maps by the
    layer's (``"layer"``), or by ``("fixed", lo, hi)`` (clipped). A constant map becomes 0;
    NaN stays NaN. The result has the input's shape. ``bounds`` (``(lo, hi)``, each ``(F, 1,
    1)``, from :func:`normalize_bounds` of the full maps) scales a subsampled view of them."""
    maps = np.asarray(maps, dtype=np.float32)
    lo, hi = normalize_bounds(maps, mode) if bounds is None else bounds
    stack = maps.reshape(lo.shape[0], *maps.shape[-2:]) if maps.ndim >= 2 else maps.reshape(1, 1, -1)
    with np.errstate(invalid="ignore", divide="ignore"):  # inf - inf bounds: no span, map 0
        span = (hi - lo).astype(np.float32)
        out = np.where(span > 0, (stack - lo.astype(np.float32)) / np.where(span > 0, span, 1), 0)
    out = np.where(np.isnan(stack), np.nan, np.clip(out, 0.0, 1.0))
    return out.astype(np.float32).reshape(maps.shape)
