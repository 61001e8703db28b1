"""Explaining one value: which inputs made it, multiplied by what, and how far back it looks.

Each answer reproduces the op's own output at that position, to float32 rounding:

- :func:`conv_terms`: ``conv2d(x, W, b)[n, o, i, j] = b[o] + sum_c per_channel[c]`` where
  ``per_channel[c] = sum_{u,v} W[o, c, u, v] * x[n, g*C/G + c, rows[u], cols[v]]``,
  ``rows[u] = i*sh - top + u*dh``, ``cols[v] = j*sw - left + v*dw`` (0 in the padding).
- :func:`pool_terms`: the window of ``max_pool2d`` (``-inf`` outside the input) and the winner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlab.engine.arithmetic.sizes import conv_out_size, pad_pairs, pair
from convlab.engine.arithmetic.fields import check_position
from convlab.engine.backend import to_numpy


@dataclass(frozen=True)
class ConvTerms:
    """How one convolution output is made (see :func:`conv_terms`)."""

    rows: np.ndarray          # (kh,) input rows of the taps; < 0 or >= H in the padding
    cols: np.ndarray          # (kw,)
    patch: np.ndarray         # (C/groups, kh, kw) input values, 0 in the padding
    weights: np.ndarray       # (C/groups, kh, kw)
    per_channel: np.ndarray   # (C/groups,) sum over the kernel of patch * weights
    bias: float
    value: float
    channels: range           # the input channels this output reads (its group)


@dataclass(frozen=True)
class PoolTerms:
    """How one pooling output is made (see :func:`pool_terms`)."""

    rows: np.ndarray          # (kh,)
    cols: np.ndarray          # (kw,)
    window: np.ndarray        # (kh, kw); -inf (max) or 0 (avg) outside the input
    argmax: tuple[int, int] | None   # (row, col) of the winner in input coordinates (max)
    value: float


def _taps(index: int, stride: int, before: int, k: int, d: int) -> np.ndarray:
    return index * stride - before + d * np.arange(k)


def _gather(plane: np.ndarray, rows: np.ndarray, cols: np.ndarray, fill: float) -> np.ndarray:
    """``plane[..., rows, cols]`` (outer product of the indices) with ``fill`` outside."""
    h, w = plane.shape[-2:]
    ok_r, ok_c = (rows >= 0) & (rows < h), (cols >= 0) & (cols < w)
    out = np.full(plane.shape[:-2] + (len(rows), len(cols)), fill, dtype=np.float64)
    inside = plane[..., rows[ok_r][:, None], cols[ok_c][None, :]]
    out[..., np.flatnonzero(ok_r)[:, None], np.flatnonzero(ok_c)[None, :]] = inside
    return out


def conv_terms(x, W, b=None, *, stride=1, pad=0, dilation=1, groups=1, n=0, o, i, j) -> ConvTerms:
    """How ``conv2d(x, W, b, stride=, pad=, dilation=, groups=)[n, o, i, j]`` is made.

    x ``(N, C, H, W)``, W ``(out, C/groups, kh, kw)`` (NumPy or CuPy; the answer is NumPy).
    ``pad`` as in :func:`~convlab.engine.ops.conv2d`. Sums are taken in float64.
    """
    _, c, h, w = x.shape
    c_out, cg, kh, kw = W.shape
    (sh, sw), (dh, dw) = pair(stride, "stride"), pair(dilation, "dilation")
    (top, bottom), (left, right) = pad_pairs(pad)
    oh = conv_out_size(h, kh, sh, (top, bottom), dh)
    ow = conv_out_size(w, kw, sw, (left, right), dw)
    check_position("conv_terms", (x.shape[0], c_out, oh, ow), {"n": n, "o": o, "i": i, "j": j})
    g = o // (c_out // groups)
    channels = range(g * cg, (g + 1) * cg)
    rows, cols = _taps(i, sh, top, kh, dh), _taps(j, sw, left, kw, dw)
    patch = _gather(to_numpy(x[n, channels.start:channels.stop]), rows, cols, 0.0)
    weights = to_numpy(W[o]).astype(np.float64)
    per_channel = (patch * weights).sum(axis=(1, 2))
    bias = 0.0 if b is None else float(to_numpy(b)[o])
    return ConvTerms(rows, cols, patch, weights, per_channel, bias,
                     float(per_channel.sum() + bias), channels)


def pool_terms(x, *, ksize, stride=None, pad=0, cover_all=True, n=0, c, i, j,
               mode: str = "max") -> PoolTerms:
    """How ``max_pool2d(x, ksize, stride=, pad=, cover_all=)[n, c, i, j]`` is made; with
    ``mode="avg"`` (``cover_all=False`` then), ``avg_pool2d``'s: zeros counted, divided by kh*kw.
    The winner is the first maximum in row-major order."""
    kh, kw = pair(ksize, "ksize")
    sh, sw = (kh, kw) if stride is None else pair(stride, "stride")
    (top, bottom), (left, right) = pad_pairs(pad)
    _, channels, h, w = x.shape
    oh = conv_out_size(h, kh, sh, (top, bottom), 1, cover_all)
    ow = conv_out_size(w, kw, sw, (left, right), 1, cover_all)
    check_position("pool_terms", (x.shape[0], channels, oh, ow), {"n": n, "c": c, "i": i, "j": j})
    rows, cols = _taps(i, sh, top, kh, 1), _taps(j, sw, left, kw, 1)
    plane = to_numpy(x[n, c])
    if mode == "avg":
        window = _gather(plane, rows, cols, 0.0)
        return PoolTerms(rows, cols, window, None, float(window.sum() / (kh * kw)))
    window = _gather(plane, rows, cols, -np.inf)
    u, v = np.unravel_index(int(np.argmax(window)), window.shape)
    winner = (int(rows[u]), int(cols[v])) if np.isfinite(window[u, v]) else None
    return PoolTerms(rows, cols, window, winner, float(window[u, v]))
