"""Gradients of the element-wise, dense and normalisation ops (Chainer's backward formulas).
NumPy or CuPy, from the input's module; every function returns new arrays."""

from __future__ import annotations

from convlab.engine.backend import array_module


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``: the adjoint of broadcasting an array of ``shape`` to
    ``g.shape`` (leading axes summed away, axes of size 1 summed with keepdims)."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def relu_backward(y, gy):
    """``gx = gy * (y > 0)`` (Chainer's ReLUGrad2: the output decides, 0 at x = 0)."""
    return gy * (y > 0)


def linear_backward(x, W, gy, *, need_x=True, need_W=True, need_b=True):
    """``(gx, gW, gb)`` of ``y = flat(x) W^T + b``: ``gx = gy W`` (reshaped to x),
    ``gW = gy^T flat(x)``, ``gb = sum_n gy``; None where not asked for."""
    flat = x.reshape(x.shape[0], -1)                                # (N, in)
    gx = (gy @ W).reshape(x.shape) if need_x else None
    gW = gy.T @ flat if need_W else None
    gb = gy.sum(axis=0) if need_b else None
    return gx, gW, gb


def _axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v, x):
    return v.reshape((1, -1) + (1,) * (x.ndim - 2))


def batch_stats(x):
    """``(mean, var)`` over every axis but 1, the biased variance (what BN normalises with)."""
    axes = _axes(x)
    return x.mean(axis=axes), x.var(axis=axes)


def running_averages(avg_mean, avg_var, mean, var, m: int, decay: float = 0.9):
    """Chainer's update of BN's stored averages, as new arrays in their dtype:
    ``avg = decay * avg + (1 - decay) * stat`` with the unbiased variance ``var * m / (m - 1)``
    (``m`` values per channel; ``m / max(m - 1, 1)`` as Chainer)."""
    adjust = m / max(m - 1.0, 1.0)
    new_mean = avg_mean * decay + mean.astype(avg_mean.dtype) * (1 - decay)
    new_var = avg_var * decay + (var * adjust).astype(avg_var.dtype) * (1 - decay)
    return new_mean.astype(avg_mean.dtype), new_var.astype(avg_var.dtype)


def batch_norm_backward(x, gamma, gy, mean, var, *, eps=2e-5, batch=True, need_x=True):
    """``(gx, ggamma, gbeta)`` of ``y = gamma * xhat + beta``, ``xhat = (x - mean) / sqrt(var + eps)``.

    With the batch's statistics (``batch``; Chainer's ``BatchNormalizationGrad``), over the
    ``m`` values of each channel: ``gx = gamma / sqrt(var + eps) * (gy - mean(gy) -
    xhat * mean(gy * xhat))``; with fixed statistics (stored averages): ``gx = gamma gy /
    sqrt(var + eps)``. ``ggamma = sum gy * xhat``, ``gbeta = sum gy`` either way.
    """
    axes = _axes(x)
    inv_std = (var + x.dtype.type(eps)) ** x.dtype.type(-0.5)
    xhat = (x - _per_channel(mean, x)) * _per_channel(inv_std, x)
    gbeta = gy.sum(axis=axes)
    ggamma = (gy * xhat).sum(axis=axes)
    gx = None
    if need_x:
        scale = _per_channel((gamma * inv_std).astype(gy.dtype), x)
        if batch:
            m = x.size // x.shape[1]
            gx = scale * (gy - _per_channel(gbeta / m, x) - xhat * _per_channel(ggamma / m, x))
        else:
            gx = gy * scale
    return gx, ggamma, gbeta


def _window_sum(v, n: int):
    """``sum_{c' = c - n//2}^{c + n//2} v[:, c']`` (clipped at the ends), as LRN's forward."""
    half, c = n // 2, v.shape[1]
    out = v.copy()
    for offset in range(1, half + 1):
        out[:, offset:] += v[:, :c - offset]
        out[:, :c - offset] += v[:, offset:]
    return out


def local_response_norm_backward(x, gy, *, n=5, k=2.0, alpha=1e-4, beta=0.75):
    """``gx`` of ``y = x s^-beta``, ``s = k + alpha * window_sum(x^2)`` (Chainer's LRN, alpha
    not divided by n): ``gx = gy s^-beta - 2 alpha beta x window_sum(gy y / s)``."""
    t = x.dtype.type
    s = _window_sum(x * x, n) * t(alpha) + t(k)
    scale = s ** t(-beta)
    y = x * scale
    return gy * scale - t(2 * alpha * beta) * x * _window_sum(gy * y / s, n)


def dropout_mask(x, ratio: float, rng):
    """Chainer's dropout mask, scaled: ``(u >= ratio) / (1 - ratio)`` with ``u`` uniform in
    [0, 1) from ``rng`` (a NumPy Generator: drawn on the host, so the same seed gives the same
    mask on NumPy and CuPy), in ``x``'s dtype and module."""
    xp = array_module(x)
    keep = rng.random(x.shape, dtype="float64") >= ratio
    scale = 1.0 / (1.0 - ratio) if ratio < 1 else 0.0
    return xp.asarray((keep * scale).astype(x.dtype))


def leaky_relu_backward(x, gy, alpha):
    """``gx = gy`` where ``x >= 0``, else ``alpha gy`` (``alpha`` as the forward used it)."""
    return array_module(x).where(x >= 0, gy, gy * alpha)


def clip_backward(x, gy, lo, hi):
    """``gx = gy`` where ``lo <= x <= hi`` (bounds included, as PyTorch's clamp), else 0."""
    inside = None
    if lo is not None:
        inside = x >= lo
    if hi is not None:
        inside = (x <= hi) if inside is None else inside & (x <= hi)
    return gy if inside is None else gy * inside


def sigmoid_backward(y, gy):
    """``gx = gy y (1 - y)``."""
    return gy * y * (y.dtype.type(1) - y)


def softmax_backward(y, gy, axis: int):
    """``gx = y (gy - sum_axis(gy y))`` (Chainer's Softmax backward)."""
    gxy = gy * y
    return gxy - y * gxy.sum(axis=axis, keepdims=True)
