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


def max_pool2d_backward(x, gy, ksize, *, stride=None, pad=0, cover_all=True, argmax=None,
                        y=None):
    """``gx`` of :func:`max_pool2d`: ``gy`` added at each window's argmax (see the module
    docstring for ties); ``argmax`` from :func:`max_pool2d_argmax` when already known; ``y``,
    the forward's output ``max_pool2d(x, ...)`` when at hand, lets NumPy batches of at least
    CHANNELS_LAST_MIN planes take :func:`_routed_channels_last`."""
    kh, kw, sh, sw, ph, pw, oh, ow = _pool_geometry("max_pool2d", x, ksize, stride, pad, cover_all)
    if argmax is None and y is not None and isinstance(x, np.ndarray) and x.dtype.kind == "f" \
            and not np.isnan(y).any():   # a NaN window: x == y nowhere; the argmax routes it
        y, gy = np.asarray(y, x.dtype), np.asarray(gy, x.dtype)
        if (sh, sw) == (kh, kw) and (ph, pw) == ((0, 0), (0, 0)) and \
                x.shape[2:] == (oh * kh, ow * kw):
            gx = _routed_tiles(x, y, gy, (kh, kw))
            if gx is not None:
                return gx
        if x.shape[0] * x.shape[1] >= CHANNELS_LAST_MIN:
            return _routed_channels_last(x, y, gy, (kh, kw, sh, sw, oh, ow), (ph, pw))
    if argmax is None:
        argmax = max_pool2d_argmax(x, ksize, stride=stride, pad=pad, cover_all=cover_all)
    xp = array_module(x)
    n, c, h, w = x.shape
    zero = gy.dtype.type(0)
    return _scatter_taps(xp, (n, c), (h, w), (ph, pw), (kh, kw, sh, sw, oh, ow), gy.dtype,
                         lambda k: xp.where(argmax == k, gy, zero))


CHANNELS_LAST_MIN = 64   # planes (N*C) from which the channels-last routing is used
TRANSPOSE_PLANES = 32    # planes per block when x is turned channels-last
TRANSPOSE_ROWS = 4       # rows per block when the gradient is turned back


def _routed_tiles(x, y, gy, ksize):
    """``gx`` where the windows tile the input exactly (stride = ksize, no padding, no
    overhang), ``y`` has no NaN (the caller checks) and no window has a tie: each window holds one
    ``x == y``, and ``gx = (x == y) * gy`` repeated over the window, computed on rows of W
    contiguous values (LeNet's pool1 at batch 64: 2.9 -> ~1 ms). None when some window has a
    tie or no match: the caller then routes by scan order."""
    kh, kw = ksize
    n, c, h, w = x.shape
    oh = h // kh
    rows = x.reshape(n * c, oh, kh, w)                                  # (P, OH, kh, W)
    y_up = np.repeat(y.reshape(n * c, oh, 1, w // kw), kw, axis=3)     # (P, OH, 1, W)
    hit = rows == y_up
    if int(np.count_nonzero(hit)) != y.size:     # y has no NaN, so every window matches at
        return None                              # least once: more matches mean a tie
    g_up = np.repeat(gy.reshape(n * c, oh, 1, w // kw), kw, axis=3)
    if np.isfinite(gy).all():
        gx = hit * g_up                          # gy * 0 is a signed zero, -0.0 where gy < 0
    else:
        gx = np.where(hit, g_up, x.dtype.type(0))
    gx += x.dtype.type(0)                        # -0.0 + 0.0 = +0.0, as the scatter's sums
    return gx.reshape(n, c, h, w)


def _routed_channels_last(x, y, gy, geometry, pads):
    """``gx`` of max pooling with the planes innermost: ``x`` padded with ``-inf`` into
    ``(Hp, Wp, N*C)``, and for each tap in scan order the outputs whose maximum sits there and
    that no earlier tap took (``x == y``, the first in scan order on ties, as the argmax)
    get their ``gy`` added at that tap's slice. Every tap's slice then runs over N*C
    contiguous values instead of rows of OW strided ones: AlexBN's pool1 at batch 8 in
    about half the time (36 ms before). Where ``gy`` is finite the masked ``gy`` is a product
    by the mask (``gy * 0`` is a signed zero, which adds nothing); otherwise a ``where``."""
    kh, kw, sh, sw, oh, ow = geometry
    (t, b), (l, r) = pads
    n, c, h, w = x.shape
    planes = n * c
    full_h, full_w = max(h + t + b, (oh - 1) * sh + kh), max(w + l + r, (ow - 1) * sw + kw)
    xt = np.full((full_h, full_w, planes), -np.inf, dtype=x.dtype)
    flat = x.reshape(planes, h, w)
    for p0 in range(0, planes, TRANSPOSE_PLANES):      # blocked: 4.7 -> 1.9 ms for pool1's x
        xt[t:t + h, l:l + w, p0:p0 + TRANSPOSE_PLANES] = \
            flat[p0:p0 + TRANSPOSE_PLANES].transpose(1, 2, 0)
    yt = np.ascontiguousarray(y.reshape(planes, oh, ow).transpose(1, 2, 0))
    gyt = np.ascontiguousarray(gy.reshape(planes, oh, ow).transpose(1, 2, 0))
    finite = bool(np.isfinite(gyt).all())
    gxt = np.zeros((full_h, full_w, planes), dtype=x.dtype)
    free, hit = np.ones(yt.shape, dtype=bool), np.empty(yt.shape, dtype=bool)
    part = np.empty_like(gyt)
    for _, rows, cols in _taps(kh, kw, sh, sw, oh, ow):
        np.equal(xt[rows, cols], yt, out=hit)
        hit &= free
        free &= ~hit
        if finite:
            np.multiply(gyt, hit, out=part)
        else:
            part[...] = 0
            np.copyto(part, gyt, where=hit)
        gxt[rows, cols] += part
    gx = np.empty((planes, h, w), dtype=x.dtype)
    for r0 in range(0, h, TRANSPOSE_ROWS):              # by rows: 4.9 -> 2.3 ms for pool1's gx
        gx[:, r0:r0 + TRANSPOSE_ROWS] = gxt[t + r0:t + min(h, r0 + TRANSPOSE_ROWS),
                                            l:l + w].transpose(2, 0, 1)
    return gx.reshape(n, c, h, w)


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
