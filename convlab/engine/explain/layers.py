"""Explaining one value of a transposed convolution, and of any layer of a network.

- :func:`deconv_terms`: ``deconv2d(x, W, b)[n, o, i, j]`` gathers every input ``(q, r)`` and tap
  ``(u, v)`` with ``q*sh + u*dh - ph = i`` and ``r*sw + v*dw - pw = j``.
- :func:`layer_terms`: the terms of one output of a network layer (conv, deconv, pool, bn, relu,
  and the identity-like lrn/dropout), from the layer's own parameters and its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from convlab.engine.arithmetic.sizes import deconv_outsize_range, pair
from convlab.engine.backend import to_numpy
from convlab.engine.arithmetic.fields import check_position
from convlab.engine.explain.terms import conv_terms, pool_terms


@dataclass(frozen=True)
class DeconvTerms:
    """How one transposed-convolution output is made (see :func:`deconv_terms`)."""

    rows: np.ndarray          # (a,) input rows that write output row i
    cols: np.ndarray          # (b,)
    taps_u: np.ndarray        # (a,) kernel row used by each of those input rows
    taps_v: np.ndarray        # (b,)
    patch: np.ndarray         # (C/groups, a, b) input values
    weights: np.ndarray       # (C/groups, a, b) W[c, o, taps_u, taps_v]
    per_channel: np.ndarray   # (C/groups,)
    bias: float
    value: float
    channels: range


def _writers(index: int, size: int, k: int, s: int, p: int, d: int):
    """Input positions q < size and taps u with ``q*s + u*d - p == index``."""
    pairs = [((index + p - u * d) // s, u) for u in range(k)
             if (index + p - u * d) % s == 0 and 0 <= (index + p - u * d) // s < size]
    return np.array([q for q, _ in pairs], dtype=int), np.array([u for _, u in pairs], dtype=int)


def deconv_terms(x, W, b=None, *, stride=1, pad=0, dilation=1, groups=1, outsize=None,
                 n=0, o, i, j) -> DeconvTerms:
    """How ``deconv2d(x, W, b, ...)[n, o, i, j]`` is made; W is ``(C, out/groups, kh, kw)``."""
    _, c, h, w = x.shape
    _, og, kh, kw = W.shape
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(pad), pair(dilation)
    want = (None, None) if outsize is None else pair(outsize, "outsize")
    out_hw = [deconv_outsize_range(size, k, s, p, d).start if wanted is None else wanted
              for size, k, s, p, d, wanted in ((h, kh, sh, ph, dh, want[0]), (w, kw, sw, pw, dw, want[1]))]
    check_position("deconv_terms", (x.shape[0], og * groups, *out_hw), {"n": n, "o": o, "i": i, "j": j})
    g, cg = o // og, c // groups
    channels = range(g * cg, (g + 1) * cg)
    rows, taps_u = _writers(i, h, kh, sh, ph, dh)
    cols, taps_v = _writers(j, w, kw, sw, pw, dw)
    plane = to_numpy(x[n, channels.start:channels.stop]).astype(np.float64)
    patch = plane[:, rows[:, None], cols[None, :]]                       # (C/G, a, b)
    weights = to_numpy(W[channels.start:channels.stop, o - g * og]).astype(np.float64)
    weights = weights[:, taps_u[:, None], taps_v[None, :]]               # (C/G, a, b)
    per_channel = (patch * weights).sum(axis=(1, 2))
    bias = 0.0 if b is None else float(to_numpy(b)[o])
    return DeconvTerms(rows, cols, taps_u, taps_v, patch, weights, per_channel, bias,
                       float(per_channel.sum() + bias), channels)


@dataclass(frozen=True)
class PointTerms:
    """One output of a point-wise layer: ``value = f(input)`` with the numbers ``f`` used
    (bn: mean, var, gamma, beta, eps; relu: nothing)."""

    kind: str
    input: float
    value: float
    numbers: dict = field(default_factory=dict)


def layer_terms(layer, x, *, n=0, c, i, j, use_batch_stats: bool = False):
    """The terms of ``layer(x)[n, c, i, j]`` for one network layer and its input ``x``
    (``(N, C, H, W)``): ConvTerms, DeconvTerms, PoolTerms or PointTerms. ``ValueError`` for a
    kind that has no per-position explanation (fc, add, ...)."""
    p = layer.params
    if layer.kind == "conv":
        return conv_terms(x, p["W"], p.get("b"), stride=layer.stride, pad=layer.pad,
                          dilation=layer.dilation, groups=layer.groups, n=n, o=c, i=i, j=j)
    if layer.kind == "deconv":
        return deconv_terms(x, p["W"], p.get("b"), stride=layer.stride, pad=layer.pad,
                            dilation=layer.dilation, groups=layer.groups, outsize=layer.outsize,
                            n=n, o=c, i=i, j=j)
    if layer.kind == "pool":
        return pool_terms(x, ksize=layer.ksize, stride=layer.stride, pad=layer.pad,
                          cover_all=layer.cover_all, n=n, c=c, i=i, j=j, mode=layer.mode)
    if layer.kind in ("bn", "relu", "dropout"):
        check_position("layer_terms", x.shape, {"n": n, "c": c, "i": i, "j": j})
        value_in = float(to_numpy(x[n, c, i, j]))
        if layer.kind == "relu":
            return PointTerms("relu", value_in, max(value_in, 0.0))
        if layer.kind == "dropout":
            return PointTerms("dropout", value_in, value_in)
        return _bn_terms(layer, x, value_in, c, use_batch_stats)
    raise ValueError(f"{layer.name} ({layer.kind}) has no per-position explanation")


def _bn_terms(layer, x, value_in: float, c: int, use_batch_stats: bool) -> PointTerms:
    """``gamma * (x - mean) / sqrt(var + eps) + beta`` with the stored or the batch statistics."""
    p = layer.params
    if use_batch_stats:
        channel = to_numpy(x[:, c]).astype(np.float64)
        mean, var = float(channel.mean()), float(channel.var())
    else:
        mean, var = float(to_numpy(p["avg_mean"])[c]), float(to_numpy(p["avg_var"])[c])
    gamma, beta = float(to_numpy(p["gamma"])[c]), float(to_numpy(p["beta"])[c])
    value = gamma * (value_in - mean) / np.sqrt(var + layer.eps) + beta
    return PointTerms("bn", value_in, float(value), {"mean": mean, "var": var, "gamma": gamma,
                                                     "beta": beta, "eps": layer.eps})
