"""Element-wise, dense and normalisation ops (also in :mod:`ops`): ``relu``, ``softmax``,
``linear``, ``batch_norm``, ``local_response_norm``. NumPy or CuPy, from the input's module."""

from __future__ import annotations

import numpy as np

from convlab.engine.backend import array_module
from convlab.engine.ops.utils import check_ndim as _check_ndim


ZERO_BLOCK = 1 << 16  # elements of the zeros operand relu reads (256 KB in float32)
BLOCKED_RELU_MIN = 1 << 14  # below this many elements the scalar form's one call is cheaper
_zero_blocks: dict = {}


def relu(x):
    """``max(x, 0)``, a new array (the input is kept for display).

    For a contiguous NumPy float array of at least ``BLOCKED_RELU_MIN`` elements the zero is an
    array, not a scalar: NumPy's ``maximum`` runs 4-7x slower with a broadcast scalar operand
    than with two arrays (NumPy 2.4, AVX2), so the input is taken in blocks of ``ZERO_BLOCK``
    elements against one cached block of zeros.
    The same bits as ``maximum(x, 0)`` (NaN propagates; signed zeros as NumPy gives them).
    """
    xp = array_module(x)
    if (xp is not np or x.dtype.kind != "f" or not x.flags.c_contiguous
            or x.size < BLOCKED_RELU_MIN):
        return xp.maximum(x, x.dtype.type(0))
    zeros = _zero_blocks.get(x.dtype)
    if zeros is None:
        zeros = _zero_blocks[x.dtype] = np.zeros(ZERO_BLOCK, x.dtype)
        zeros.setflags(write=False)
    out = np.empty_like(x)
    flat_in, flat_out = x.reshape(-1), out.reshape(-1)             # (size,) views
    for start in range(0, flat_in.size, ZERO_BLOCK):
        stop = min(flat_in.size, start + ZERO_BLOCK)
        np.maximum(flat_in[start:stop], zeros[:stop - start], out=flat_out[start:stop])
    return out


def softmax(x, axis=1):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` (numerically stable)."""
    xp = array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


WIDE_WEIGHT = 1 << 16  # weights from which linear reads W row-major (tiny ones: no gain)


def linear(x, W, b=None):
    """``y = x W^T + b`` with x flattened to ``(N, -1)``; W is ``(out, in)`` as in Chainer."""
    _check_ndim("linear", W, 2, "(out, in) weight")
    if x.ndim < 2:
        raise ValueError(f"linear: expected a batch of inputs (N, ...), got shape {tuple(x.shape)}")
    n = x.shape[0]
    flat = x.reshape(n, -1)                                         # (N, in)
    if flat.shape[1] != W.shape[1]:
        raise ValueError(f"linear: input {tuple(x.shape)} flattens to {flat.shape[1]} features "
                         f"but weight {tuple(W.shape)} expects {W.shape[1]}")
    if b is not None and tuple(b.shape) != (W.shape[0],):
        raise ValueError(f"linear: bias shape {tuple(b.shape)} does not match weight "
                         f"{tuple(W.shape)}; expected ({W.shape[0]},)")
    if n == 1:
        y = (W @ flat[0]).reshape(1, -1)                            # GEMV over row-major W
    elif W.size >= WIDE_WEIGHT:
        # W times the batch's columns, then transposed: the row-major W is read once in order
        # (AlexBN's fc6 at batch 8: 10.3 against 15.6 ms for flat @ W.T at two threads,
        # fc7 4.5 against 7.0; at batch 64 29 against 35 ms)
        y = array_module(x).ascontiguousarray((W @ flat.T).T)       # (N, out)
    else:
        y = flat @ W.T                                              # (N, out)
    if b is not None:
        y += b
    return y


def _channel_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def batch_norm(x, gamma, beta, *, mean=None, var=None, eps=2e-5):
    """Batch normalisation (Ioffe and Szegedy, 2015) over channel axis 1.

    ``y = gamma * (x - mean) / sqrt(var + eps) + beta``. With ``mean``/``var`` given, the inference
    form (Chainer's ``fixed_batch_normalization``); with them None, the statistics of ``x`` over
    ``(N, H, W)`` with the biased variance (Chainer's training form). ``eps`` defaults to 2e-5.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected (N, C, ...) input, got shape {tuple(x.shape)}")
    c = x.shape[1]
    for name, arr in (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)):
        if arr is not None and tuple(arr.shape) != (c,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(arr.shape)} but input "
                             f"{tuple(x.shape)} has {c} channels; expected ({c},)")
    if (mean is None) != (var is None):
        raise ValueError("batch_norm: give both mean and var (inference) or neither (batch statistics)")
    xp = array_module(x)
    if mean is None:
        axes = _channel_axes(x)
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
    scale = gamma / xp.sqrt(var + x.dtype.type(eps))
    shift = beta - mean * scale
    shape = (1, c) + (1,) * (x.ndim - 2)
    y = x * scale.astype(x.dtype).reshape(shape)
    y += shift.astype(x.dtype).reshape(shape)
    return y


def local_response_norm(x, *, n=5, k=2.0, alpha=1e-4, beta=0.75):
    """Local response normalisation as Chainer's ``F.local_response_normalization``.

    ``y_c = x_c / (k + alpha * sum_{c' = c - n//2}^{c + n//2} x_{c'}^2) ** beta``
    (Krizhevsky et al., 2012). Chainer's defaults n=5, k=2, alpha=1e-4, beta=0.75; unlike
    PyTorch, alpha is not divided by n.
    """
    _check_ndim("local_response_norm", x, 4, "(N, C, H, W)")
    half = n // 2
    c = x.shape[1]
    sq = x * x
    window = sq.copy()                                              # (N, C, H, W)
    for offset in range(1, half + 1):                               # the n channels around c
        window[:, offset:] += sq[:, :c - offset]
        window[:, :c - offset] += sq[:, offset:]
    window *= x.dtype.type(alpha)
    window += x.dtype.type(k)
    return x / window ** x.dtype.type(beta)
