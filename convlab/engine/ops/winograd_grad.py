"""The weight gradient of a Winograd-served convolution, in Winograd's domain (Lavin and Gray, 2016).

The forward computes, per tile and channel pair, ``Y = A^T [U * V] A`` with ``U = G g G^T`` (the
weights) and ``V = B^T d B`` (the input tile), summed over the input channels. Its adjoint for
``U`` is ``dU[xi] = sum_tiles Z[xi] * V[xi]`` with ``Z = A dY A^T`` (the output gradient's tile),
so ``dg = G^T dU G``: ``a*a`` GEMMs ``Z[xi] (K, tiles) @ V[xi]^T (tiles, C)`` instead of one of
``K x C*r*r`` over every output position. Multiplications: ``a^2`` per tile where the direct
weight gradient takes ``m^2 r^2``: F(4x4, 5x5) 64 against 400 (AlexBN's conv2: 1.2 against 7.2
GFLOP at batch 8), F(3x3, 3x3) 25 against 81.

The output gradient is zero past the map (the forward computed whole tiles and cropped them), so
it is padded with zeros to whole tiles; the input tiles are the forward's (padded, channels-last).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from convlab.engine.ops.winograd import (BAND_BYTES, TILE, _both_sides, gather_tiles,
                                         kron_transforms, padded_input, transforms)


@lru_cache(maxsize=None)
def _output_transforms(r: int) -> tuple[np.ndarray, np.ndarray]:
    """``(A (a, m), kron(A, A))`` for F(m, r): ``Z = A dY A^T`` of an output-gradient tile."""
    at, _, _ = transforms(r)
    a_mat = np.ascontiguousarray(at.T)
    return a_mat, np.kron(a_mat, a_mat)


def weight_grad(x, gy, pads, r: int) -> np.ndarray:
    """``dW`` ``(K, C, r, r)`` float32 of the stride-1 convolution of ``x`` ``(N, C, H, W)`` with
    padding ``pads`` ``((top, bottom), (left, right))`` for the output gradient ``gy``
    ``(N, K, OH, OW)``, in bands of tile rows (as the forward, within BAND_BYTES)."""
    n, c = x.shape[:2]
    k, oh, ow = gy.shape[1:]
    m = TILE[r]
    a = m + r - 1
    _, g, bt = transforms(r)
    _, kron_bt = kron_transforms(r)
    a_mat, kron_a = _output_transforms(r)
    xpad = padded_input(x, pads, r, (oh, ow))                          # (N, Hp, Wp, C)
    th, tw = (xpad.shape[1] - r + 1) // m, (xpad.shape[2] - r + 1) // m
    gpad = np.zeros((n, th * m, tw * m, k), np.float32)                 # whole tiles, K last
    gpad[:, :oh, :ow] = gy.transpose(0, 2, 3, 1)
    du = np.zeros((a * a, k, c), np.float32)
    band = max(1, BAND_BYTES // (4 * a * a * (c + k) * n * tw))
    for t0 in range(0, th, band):
        t1 = min(th, t0 + band)
        tiles = gather_tiles(xpad[:, m * t0:m * t1 + r - 1], r)         # (a, a, N, tb, tw, C)
        v = _both_sides(bt, kron_bt, tiles).reshape(a * a, -1, c)      # (a*a, T, C)
        blocks = gpad[:, m * t0:m * t1].reshape(n, t1 - t0, m, tw, m, k)
        dy = np.ascontiguousarray(blocks.transpose(2, 4, 0, 1, 3, 5))  # (m, m, N, tb, tw, K)
        z = _both_sides(a_mat, kron_a, dy).reshape(a * a, -1, k)       # (a*a, T, K)
        du += np.matmul(z.transpose(0, 2, 1), v)                       # (a*a, K, C)
    half = np.tensordot(g.T, du.reshape(a, a, k * c), axes=(1, 0))    # (r, a, K*C): G^T over a
    dw = np.matmul(g.T, half)                                          # (r, r, K*C): G over b
    return np.ascontiguousarray(dw.reshape(r, r, k, c).transpose(2, 3, 0, 1))
