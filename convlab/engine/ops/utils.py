"""Argument checks and padding shared by the ops (:mod:`ops`, :mod:`pool_ops`, :mod:`dense_ops`)."""

from __future__ import annotations

from convlab.engine.backend import array_module


def check_ndim(op: str, x, ndim: int, layout: str):
    if x.ndim != ndim:
        raise ValueError(f"{op}: expected a {ndim}-d {layout} array, got shape {tuple(x.shape)}")


def pad_hw(x, pads, value: float, extra_h: int = 0, extra_w: int = 0):
    """Pad the two spatial axes of ``(N, C, H, W)`` with ``value``; no copy when there is no pad.

    ``pads`` is ``((top, bottom), (left, right))``; ``extra_h``/``extra_w`` add to bottom/right.
    """
    (top, bottom), (left, right) = pads
    bottom, right = bottom + extra_h, right + extra_w
    if not (top or bottom or left or right):
        return x
    xp = array_module(x)
    n, c, h, w = x.shape
    out = xp.full((n, c, top + h + bottom, left + w + right), value, dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


class Cancelled(Exception):
    """Raised by :func:`conv2d` when its ``should_stop`` answers True between row tiles."""
