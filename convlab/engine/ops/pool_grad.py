"""Gradients of pooling, as Chainer's ``MaxPooling2DGrad`` and ``AveragePooling2DGrad``.

Max pooling routes each output's gradient to the one input its window picked (the argmax).
Ties go to the first position in the window's scan order (row by row, left to right), which is
the position Chainer's CPU path picks (``col.argmax(axis=2)`` over im2col); the maximum value
itself does not depend on the choice. Padding and ``cover_all``'s overhang are ``-inf`` and so
never picked while a window holds an input (one wholly in the padding, possible only when
``pad >= ksize``, sends its gradient nowhere). Average pooling spreads each output's
gradient evenly over its window, divided by the count the forward divided by.
"""

from __future__ import annotations

import numpy as np

from convlab.engine.backend import array_module
from convlab.engine.ops.pooling import _pool_geometry
from convlab.engine.ops.utils import pad_hw


def _taps(kh, kw, sh, sw, oh, ow):
    """``(k, rows, cols)`` for every tap of the window in scan order: the strided slices of the
    padded input that the tap reads for all outputs."""
    for u in range(kh):
        for v in range(kw):
            yield u * kw + v, slice(u, u + sh * (oh - 1) + 1, sh), slice(v, v + sw * (ow - 1) + 1, sw)


def max_pool2d_argmax(x, ksize, *, stride=None, pad=0, cover_all=True):
    """The tap index (``u * kw + v``, int32 ``(N, C, OH, OW)``) each window's maximum is at, the
    first in scan order on ties: a running maximum that moves only on a strictly larger value."""
    kh, kw, sh, sw, ph, pw, oh, ow = _pool_geometry("max_pool2d", x, ksize, stride, pad, cover_all)
    xp = array_module(x)
    h, w = x.shape[2:]
    extra_h = max(0, (oh - 1) * sh + kh - (h + sum(ph)))
    extra_w = max(0, (ow - 1) * sw + kw - (w + sum(pw)))
    padded = pad_hw(x, (ph, pw), -xp.inf, extra_h, extra_w)
    best = idx = None
    for k, rows, cols in _taps(kh, kw, sh, sw, oh, ow):
        window = padded[:, :, rows, cols]
        if best is None:
            best, idx = window.copy(), xp.zeros(window.shape, dtype=np.int32)
            continue
        better = window > best
        best = xp.where(better, window, best)
        idx = xp.where(better, np.int32(k), idx)
    return idx


def max_pool2d_backward(x, gy, ksize, *, stride=None, pad=0, cover_all=True, argmax=None):
    """``gx`` of :func:`max_pool2d`: ``gy`` added at each window's argmax (see the module
    docstring for ties); ``argmax`` from :func:`max_pool2d_argmax` when already known."""
    kh, kw, sh, sw, ph, pw, oh, ow = _pool_geometry("max_pool2d", x, ksize, stride, pad, cover_all)
    if argmax is None:
        argmax = max_pool2d_argmax(x, ksize, stride=stride, pad=pad, cover_all=cover_all)
    xp = array_module(x)
    n, c, h, w = x.shape
    zero = gy.dtype.type(0)
    return _scatter_taps(xp, (n, c), (h, w), (ph, pw), (kh, kw, sh, sw, oh, ow), gy.dtype,
                         lambda k: xp.where(argmax == k, gy, zero))


def _scatter_taps(xp, nc, hw, pads, geometry, dtype, part):
    """Sum ``part(k)`` (``(N, C, OH, OW)``) into every tap's slice of a zero padded input, and
    crop the padding: the adjoint of reading those slices."""
    (h, w), ((t, b), (l, r)), (kh, kw, sh, sw, oh, ow) = hw, pads, geometry
    full_h, full_w = max(h + t + b, (oh - 1) * sh + kh), max(w + l + r, (ow - 1) * sw + kw)
    full = xp.zeros(nc + (full_h, full_w), dtype=dtype)
    for k, rows, cols in _taps(kh, kw, sh, sw, oh, ow):
        full[:, :, rows, cols] += part(k)
    return full[:, :, t:t + h, l:l + w]


def avg_pool_counts(hw, pads, geometry, count_include_pad: bool) -> np.ndarray:
    """How many positions each output's mean divides by, ``(1, 1, OH, OW)`` float64 on the host:
    ``kh * kw`` in Chainer's form; otherwise the positions inside the padded input
    (``count_include_pad``) or inside the input, never past ``cover_all``'s overhang."""
    (h, w), ((t, b), (l, r)), (kh, kw, sh, sw, oh, ow) = hw, pads, geometry
    full_h, full_w = max(h + t + b, (oh - 1) * sh + kh), max(w + l + r, (ow - 1) * sw + kw)
    inside = np.zeros((1, 1, full_h, full_w))
    if count_include_pad:
        inside[:, :, :h + t + b, :w + l + r] = 1.0
    else:
        inside[:, :, t:t + h, l:l + w] = 1.0
    count = np.zeros((1, 1, oh, ow))
    for _, rows, cols in _taps(kh, kw, sh, sw, oh, ow):
        count += inside[:, :, rows, cols]
    return np.maximum(count, 1.0)


def avg_pool2d_backward(x_shape, gy, ksize, *, stride=None, pad=0, cover_all=False,
                        count_include_pad=True):
    """``gx`` of average pooling (:func:`avg_pool2d` and the general form of the ``pool``
    layer): ``gx[window] += gy / count`` for every window, ``count`` as the forward's."""
    xp = array_module(gy)
    probe = _Shape(x_shape)
    kh, kw, sh, sw, ph, pw, oh, ow = _pool_geometry("avg_pool2d", probe, ksize, stride, pad,
                                                    cover_all)
    geometry = (kh, kw, sh, sw, oh, ow)
    count = avg_pool_counts(x_shape[2:], (ph, pw), geometry, count_include_pad)
    scaled = gy / xp.asarray(count.astype(gy.dtype))
    return _scatter_taps(xp, tuple(x_shape[:2]), tuple(x_shape[2:]), (ph, pw), geometry,
                         gy.dtype, lambda k: scaled)


class _Shape:
    """Just enough of an array (``ndim``, ``shape``) for the geometry check."""

    def __init__(self, shape):
        self.shape, self.ndim = tuple(shape), len(shape)
