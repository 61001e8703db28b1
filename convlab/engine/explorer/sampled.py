"""A stage too big to keep, held as what the window shows of it: :class:`SampledMaps`.

A 256-filter stride-1 stage of a 512-pixel photo is about 290 MB of float32. The window's
montage never shows more than every ``step``-th pixel of such a stack (``render.tiles.MAX_PIXELS``
in all), so the explorer's run keeps, for that stage only, per map:

- ``sample``: every ``step``-th row and column, ``(F, ceil(h/step), ceil(w/step))`` float32,
  the run's own values (the montage's pixels and its hover read these);
- ``minimum``, ``maximum``, ``mean``, ``zeros`` as ``render.tiles.MapStats.of`` takes them from
  the full maps, and the NaN-ignoring bounds ``render.colour.normalize_bounds`` takes;
- map 0 in full (the diagram's photo mode draws it).

Any other full map is recomputed when asked (``maps[i]``: the one-map window, a hover off the
sample grid, an explanation) by a one-filter run, which agrees with the run to float32 rounding
(a few ulp: BLAS sums a one-row product in another order); the last few are cached. ``numpy.
asarray(maps)`` recomputes the whole stage exactly as the run did (export), so exported files
have the run's bits. Arrays only, no Qt; thread-safe (the GUI thread and the explainer's
worker may both ask for a map).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

CACHED_MAPS = 4  # full maps recomputed and kept (the one-map window pages through a few)


class SampledMaps:
    """``(F, h, w)`` maps as their every-``step``-th pixels and statistics (module docstring).

    ``recompute(i)`` gives full map ``i`` ``(h, w)``; ``materialize()`` the whole ``(F, h, w)``
    stage, the run's bits. :meth:`add` takes the run's blocks of maps in any order."""

    ndim = 3
    dtype = np.dtype(np.float32)

    def __init__(self, shape: tuple[int, int, int], step: int,
                 recompute: Callable[[int], np.ndarray], materialize: Callable[[], np.ndarray]):
        f, h, w = (int(v) for v in shape)
        self.shape, self.step = (f, h, w), int(step)
        self.sample = np.empty((f, -(-h // self.step), -(-w // self.step)), np.float32)
        self.minimum = np.empty(f, np.float32)
        self.maximum = np.empty(f, np.float32)
        self.nan_lo = np.empty(f, np.float32)  # fmin/fmax: NaN-ignoring, as normalize_bounds
        self.nan_hi = np.empty(f, np.float32)
        self.mean = np.empty(f, np.float64)
        self.zeros = np.empty(f, np.float64)
        self.first: np.ndarray | None = None
        self._recompute, self._materialize = recompute, materialize
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    # -- filled by the run --------------------------------------------------------------------
    def add(self, start: int, block: np.ndarray) -> None:
        """Maps ``start:start+len(block)`` of the stage, ``(B, h, w)`` float32 (then dropped)."""
        b = len(block)
        j = slice(start, start + b)
        self.sample[j] = block[:, ::self.step, ::self.step]
        flat = block.reshape(b, -1)                                     # (B, h*w)
        self.minimum[j], self.maximum[j] = flat.min(axis=1), flat.max(axis=1)
        self.nan_lo[j], self.nan_hi[j] = np.fmin.reduce(flat, axis=1), np.fmax.reduce(flat, axis=1)
        self.mean[j] = flat.mean(axis=1, dtype=np.float64)
        per = max(1, (4 << 20) // max(1, flat.shape[1]))  # maps per 4 MB boolean temporary
        for k in range(0, b, per):
            self.zeros[start + k:start + min(k + per, b)] = (
                np.count_nonzero(flat[k:k + per] == 0, axis=1) / max(flat.shape[1], 1))
        if start == 0:
            self.first = np.array(block[0])

    # -- read like an array ---------------------------------------------------------------------
    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        """What this object holds (not what the full maps would)."""
        held = sum(m.nbytes for m in self._cache.values()) + (self.first.nbytes if self.first
                                                                is not None else 0)
        return self.sample.nbytes + 8 * 6 * self.shape[0] + held

    def map(self, index: int) -> np.ndarray:
        """Full map ``index`` ``(h, w)`` (recomputed unless it is map 0 or cached)."""
        i = range(self.shape[0])[index]  # an int, negative allowed; IndexError past the end
        if i == 0 and self.first is not None:
            return self.first
        with self._lock:
            hit = self._cache.get(i)
            if hit is not None:
                self._cache.move_to_end(i)
                return hit
        full = np.asarray(self._recompute(i), dtype=np.float32)
        full.setflags(write=False)
        with self._lock:
            self._cache[i] = full
            while len(self._cache) > CACHED_MAPS:
                self._cache.popitem(last=False)
        return full

    def __getitem__(self, key):
        """``maps[i]`` (a full map), ``maps[i, r, c]`` (a value: the sample's own where the
        pixel is on the sample grid) and ``maps[a:b, ::k, ::k]`` (``k`` a multiple of ``step``:
        from the sample; otherwise the maps recomputed)."""
        if isinstance(key, (int, np.integer)):
            return self.map(int(key))
        if isinstance(key, tuple) and len(key) == 3:
            i, r, c = key
            if all(isinstance(v, (int, np.integer)) for v in key):
                if r % self.step == 0 and c % self.step == 0 and 0 <= r < self.shape[1] \
                        and 0 <= c < self.shape[2]:
                    return self.sample[i, r // self.step, c // self.step]
                return self.map(int(i))[r, c]
            if isinstance(i, slice) and isinstance(r, slice) and isinstance(c, slice) \
                    and r == c and r.start is None and r.stop is None:
                k = r.step or 1
                if k % self.step == 0:
                    q = k // self.step
                    return self.sample[i, ::q, ::q]
                return np.stack([self.map(n)[::k, ::k] for n in range(self.shape[0])[i]])
        raise TypeError(f"SampledMaps takes maps[i], maps[i, r, c] or maps[a:b, ::k, ::k]; "
                        f"got {key!r}")

    def bounds(self, mode: str):
        """``render.colour.normalize_bounds(full maps, mode)`` for "map" and "layer": ``(lo, hi)``
        each ``(F, 1, 1)``, from the statistics."""
        lo, hi = self.nan_lo[:, None, None], self.nan_hi[:, None, None]
        if mode == "map":
            return lo, hi
        if mode == "layer":
            full = np.ones((self.shape[0], 1, 1))
            return full * np.fmin.reduce(self.nan_lo), full * np.fmax.reduce(self.nan_hi)
        raise ValueError(f"sampled maps are scaled per map or per layer, not {mode!r}")

    def __array__(self, dtype=None, copy=None):
        """The whole stage, recomputed as the run computed it (hundreds of MB: export only)."""
        full = np.asarray(self._materialize())
        return full if dtype is None else full.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"SampledMaps(shape={self.shape}, step={self.step})"
