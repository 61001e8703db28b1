"""Winograd's minimal filtering F(m x m, r x r) for stride-1 convolutions (Lavin and Gray, 2016).

Each ``m x m`` block of outputs is computed from an ``a x a`` input tile (``a = m + r - 1``)::

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* elementwise, per input/output channel pair)

summed over the input channels, which makes the middle step ``a*a`` independent GEMMs
``U[xi] (K, C) @ V[xi] (C, tiles)``. Multiplications per output: ``a^2 / m^2`` against ``r^2``
for the direct method: F(3x3, 3x3) 2.8 against 9 (3.2x fewer), F(4x4, 5x5) 4 against 25
(6.25x fewer), before the padding of the output to whole tiles (AlexBN: 13 -> 15, 27 -> 28).
Larger tiles mean fewer multiplications but bigger transforms and larger float32 error; on
AlexBN (one BLAS thread, CPU time) F(3x3, 3x3) beat F(2x2, 3x3) by 3-6% per layer and F(4x4, 3x3),
and F(4x4, 5x5) beat F(3x3, 5x5) by 13%; F(6x6, 5x5) was no faster and 100x less accurate.

Layout: the padded input is channels-last ``(N, Hp, Wp, C)``, so the tiles are gathered with
runs of C contiguous floats into ``(a, a, tiles, C)``; both sides of every tile are transformed
at once (``kron(B^T, B^T)`` as one GEMM for 3x3, two passes for 5x5: see :func:`_both_sides`);
the point GEMMs read ``V[xi]`` transposed. On AlexBN at two BLAS threads this took conv3-conv5
from 4.5/6.7/5.5 ms to 3.9/5.6/4.1 ms (the earlier channels-first gather copied runs of 5-7
strided floats, and NumPy loops a stacked matmul on one thread).

The transforms are built by Cook-Toom interpolation at the points 0, 1, -1, 2 (3x3) and
0, 1, -1, 2, -2, 1/2, -1/2 (5x5), plus the point at infinity, in float64 and then cast. Float32
error against the float64 direct result on AlexBN's layers: about 6e-7 (3x3) and 2.4e-6 (5x5)
of the largest output.

The transformed weights ``U`` are cached per weight array, and only for arrays that cannot
change behind the cache's back: NumPy arrays that are read-only all the way down to the memory
they view (ConvLab's layers hold their weights so). Anything else takes the direct path.
"""

from __future__ import annotations

import threading
import weakref
from functools import lru_cache

import numpy as np
from numpy.polynomial import polynomial as poly

from convlab.engine.ops.utils import Cancelled

POINTS = {3: (0.0, 1.0, -1.0, 2.0),                                   # m + r - 2 points each
          5: (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5)}
TILE = {3: 3, 5: 4}         # m: outputs per tile side, by kernel size r
MIN_CHANNELS = 16           # below this the small GEMMs lose to one im2col GEMM
BAND_BYTES = 16 << 20       # transformed input + product per band of tile rows (AlexBN at 227:
                            # one band; at 497 the run peaks 7 MB lower than with 64 MB)
KRON_MAX_COST = 3.0         # one kron GEMM up to this many times two passes' work (_both_sides)
CACHE_SIZE = 32

_cache: dict[int, tuple[weakref.ref, np.ndarray]] = {}
_cache_lock = threading.Lock()


@lru_cache(maxsize=None)
def transforms(r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A^T (m, a), G (a, r), B^T (a, a))`` for F(m, r), float32, by Cook-Toom interpolation.

    ``A^T[i, j] = p_j^i``, ``G[j, k] = p_j^k / prod_{l != j} (p_j - p_l)``, row j of ``B^T``
    the coefficients of ``prod_{l != j} (x - p_l)``; the last column/row is the point at infinity.
    """
    p, m = np.asarray(POINTS[r], np.float64), TILE[r]
    a = m + r - 1
    at, g, bt = np.zeros((m, a)), np.zeros((a, r)), np.zeros((a, a))
    for j in range(a - 1):
        others = np.delete(p, j)
        at[:, j] = p[j] ** np.arange(m)
        g[j] = p[j] ** np.arange(r) / np.prod(p[j] - others)
        bt[j, :a - 1] = poly.polyfromroots(others)
    at[m - 1, a - 1] = g[a - 1, r - 1] = 1.0
    bt[a - 1] = poly.polyfromroots(p)
    return tuple(m.astype(np.float32) for m in (at, g, bt))


def _frozen(arr) -> bool:
    """True when nothing can write to ``arr``'s memory through a NumPy array we can see."""
    while isinstance(arr, np.ndarray):
        if arr.flags.writeable:
            return False
        arr = arr.base
    return arr is None or isinstance(arr, bytes)


def applies(x, W, stride, dilation, groups) -> bool:
    """Whether :func:`conv` serves this convolution: NumPy float32, square 3x3 or 5x5 kernel,
    stride 1, no dilation, one group, at least MIN_CHANNELS in and out, frozen weights."""
    return (isinstance(x, np.ndarray) and isinstance(W, np.ndarray)
            and x.dtype == np.float32 and W.dtype == np.float32
            and W.shape[2] == W.shape[3] and W.shape[2] in POINTS
            and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1) and groups == 1
            and min(W.shape[0], W.shape[1]) >= MIN_CHANNELS and _frozen(W))


def weights(W: np.ndarray) -> np.ndarray:
    """``U = G g G^T`` as ``(a*a, K, C)``, cached for frozen ``W`` (see module docstring)."""
    hit = _cache.get(id(W))
    if hit is not None and hit[0]() is W:
        return hit[1]
    u = transform_weights(W)
    if _frozen(W):
        key = id(W)
        with _cache_lock:   # the training thread and the window's workers share the cache
            while len(_cache) >= CACHE_SIZE:
                try:
                    _cache.pop(next(iter(_cache)), None)
                except (RuntimeError, StopIteration):  # a weakref callback popped one meanwhile
                    break
            _cache[key] = (weakref.ref(W, lambda _ref: _cache.pop(key, None)), u)
    return u


def transform_weights(W: np.ndarray) -> np.ndarray:
    """``U[a, b] = G W[k, c] G^T`` as ``(a*a, K, C)`` float32: two contiguous GEMMs over the
    taps-first weights (``(r, r*K*C)``), 2-4 ms for AlexBN's conv2-conv4 where one ``einsum``
    took 6-16 ms; a training step transforms every Winograd layer's new weights once."""
    k, c, r, _ = W.shape
    _, g, _ = transforms(r)
    a = g.shape[0]
    taps = np.ascontiguousarray(W.transpose(2, 3, 0, 1), dtype=np.float32).reshape(r, r * k * c)
    half = (g @ taps).reshape(a, r, k * c)                          # (a, r, K*C): G over i
    return np.matmul(g, half).reshape(a * a, k, c)                  # (a, a, K*C): G over j


def conv(x, W, pads, out, should_stop=None, transformed=None) -> None:
    """Write ``conv2d(x, W, pad=pads)`` (stride 1) into ``out`` ``(N, K, OH, OW)``, no bias.

    Works in bands of tile rows, so the transformed input and the product stay within
    BAND_BYTES; ``should_stop`` is asked before each band (True: ``ops.Cancelled``).
    The padded input is channels-last, so that gathering the tiles copies runs of C
    contiguous floats (AlexBN conv4: 0.05 ms against 0.44 ms for runs of ``tw`` strided ones).
    """

    n, c, _, _ = x.shape
    k, r = W.shape[0], W.shape[2]
    m = TILE[r]
    a = m + r - 1
    oh = out.shape[2]
    xpad = padded_input(x, pads, r, out.shape[2:])                      # (N, Hp, Wp, C)
    th, tw = (xpad.shape[1] - r + 1) // m, (xpad.shape[2] - r + 1) // m
    u = weights(W) if transformed is None else transformed
    band = max(1, BAND_BYTES // (4 * a * a * (c + k) * n * tw))
    for t0 in range(0, th, band):
        if should_stop is not None and should_stop():
            raise Cancelled(f"conv2d stopped after {m * t0} of {oh} output rows")
        t1 = min(th, t0 + band)
        _band(xpad[:, m * t0:m * t1 + r - 1], u, r, out, t0)


def padded_input(x, pads, r, out_hw) -> np.ndarray:
    """``x`` ``(N, C, H, W)`` padded by ``pads`` ``((top, bottom), (left, right))`` and with zeros
    up to whole tiles, channels last: ``(N, m*th + r - 1, m*tw + r - 1, C)``, ``th = ceil(OH / m)``."""
    n, c, h, w = x.shape
    m = TILE[r]
    (top, _), (left, _) = pads
    th, tw = (-(-size // m) for size in out_hw)
    xpad = np.zeros((n, m * th + r - 1, m * tw + r - 1, c), np.float32)
    xpad[:, top:top + h, left:left + w] = x.transpose(0, 2, 3, 1)
    return xpad


@lru_cache(maxsize=None)
def kron_transforms(r: int) -> tuple[np.ndarray, np.ndarray]:
    """``(kron(A^T, A^T) (m*m, a*a), kron(B^T, B^T) (a*a, a*a))`` for F(m, r), float32 (exact:
    the entries of A^T and B^T are small integers and powers of two)."""
    at, _, bt = transforms(r)
    return np.kron(at, at), np.kron(bt, bt)


def _both_sides(mat, both, block):
    """``out[i, j, ...] = sum_{u, v} M[i, u] M[j, v] block[u, v, ...]`` (``M B M^T`` per trailing index).

    ``M`` is ``(p, q)``, ``both`` its ``kron(M, M)`` ``(p*p, q*q)``, ``block`` ``(q, q, ...)``
    C-contiguous; returns ``(p, p, ...)``. Either one GEMM by ``both`` (``p*p*q*q``
    multiplications per trailing index), which BLAS spreads over its threads, or two passes by
    ``M`` (``p*q*(p + q)``), the first a GEMM and the second a stacked matmul that NumPy loops on
    one thread. One GEMM while it costs at most KRON_MAX_COST times the passes' work: all but
    B^T of 5x5 (8x8, 4x). AlexBN, whole layers against two passes at two BLAS threads: conv3-conv5
    4-5% faster, conv2 by its inverse transform 4-7% (1% slower at one thread); conv2's input
    transform by kron was no faster at two threads and 10% slower at one.
    """
    p, q = mat.shape
    rest = block.shape[2:]
    if p * q <= KRON_MAX_COST * (p + q):
        return (both @ block.reshape(q * q, -1)).reshape(p, p, *rest)   # (p, p, ...)
    half = np.tensordot(mat, block, axes=(1, 0))                        # (p, q, ...)
    return np.matmul(mat, half.reshape(p, q, -1)).reshape(p, p, *rest)  # (p, p, ...)


def _band(xb, u, r, out, t0) -> None:
    """One band of tile rows from ``t0``: transform, ``a*a`` GEMMs, inverse transform."""
    at, _, bt = transforms(r)
    kron_at, kron_bt = kron_transforms(r)
    a = at.shape[1]
    tiles = gather_tiles(xb, r)                                         # (a, a, N, tb, tw, C)
    _, _, n, tb, tw, c = tiles.shape
    v = _both_sides(bt, kron_bt, tiles)                                 # (a, a, N, tb, tw, C)
    v = v.reshape(a * a, n * tb * tw, c).transpose(0, 2, 1)             # (a*a, C, N*tb*tw), a view
    prod = np.matmul(u, v)                                              # (a*a, K, N*tb*tw)
    k = u.shape[1]
    y = _both_sides(at, kron_at, prod.reshape(a, a, k, n, tb, tw))      # (m, m, K, N, tb, tw)
    scatter_tiles(y, out, t0)


def gather_tiles(xb, r) -> np.ndarray:
    """Every ``a x a`` input tile of the channels-last band ``xb`` ``(N, Hb, Wb, C)`` (tiles
    ``m`` apart), copied once from a strided view: ``(a, a, N, tb, tw, C)``, C-contiguous."""
    m = TILE[r]
    a = m + r - 1
    n, hb, wb, c = xb.shape
    tb, tw = (hb - r + 1) // m, (wb - r + 1) // m
    s_n, s_h, s_w, s_c = xb.strides
    tiles = np.lib.stride_tricks.as_strided(                            # (a, a, N, tb, tw, C)
        xb, (a, a, n, tb, tw, c), (s_h, s_w, s_n, m * s_h, m * s_w, s_c))
    return np.ascontiguousarray(tiles)


def scatter_tiles(y, out, t0) -> None:
    """Write the output tiles ``y`` ``(m, m, K, N, tb, tw)`` into ``out`` ``(N, K, OH, OW)`` from
    tile row ``t0``: ``out[n, k, m*(t0 + i) + p, m*j + q] = y[p, q, k, n, i, j]``, cropped at
    OH and OW. ``m*m`` strided copies (one pass through a tile-major scratch and a crop was
    slower, as was an inverse transform laid out for whole-row copies)."""
    m, tb = y.shape[0], y.shape[4]
    dest = out.transpose(1, 0, 2, 3)                                    # (K, N, OH, OW), a view
    for p in range(m):
        rows = dest[:, :, m * t0 + p:m * (t0 + tb):m]
        for q in range(m):
            block = rows[:, :, :, q::m]
            block[...] = y[p, q, :, :, :block.shape[2], :block.shape[3]]
