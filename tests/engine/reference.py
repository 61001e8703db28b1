"""Slow, obviously-correct float64 references for the engine's ops, written from the formulas.

Every function loops over output positions and reads the input through the defining index
formula, with out-of-range positions handled explicitly (zero for convolution and average
pooling, -inf for max pooling), so no padding, im2col or strided-view trick is shared with
the engine. Chainer's semantics throughout; keep the arrays tiny.
"""

from __future__ import annotations

import math

import numpy as np


def pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def sides(pad):
    """pad -> ((top, bottom), (left, right)): an int, an (h, w) pair or the nested pairs."""
    if isinstance(pad, (tuple, list)) and isinstance(pad[0], (tuple, list)):
        return (int(pad[0][0]), int(pad[0][1])), (int(pad[1][0]), int(pad[1][1]))
    ph, pw = pair(pad)
    return (ph, ph), (pw, pw)


def out_size(size, k, s, p, d=1, cover_all=False):
    """Chainer's get_conv_outsize, written out again here on purpose; p an int or (before, after)."""
    total = p[0] + p[1] if isinstance(p, tuple) else 2 * p
    dk = k + (k - 1) * (d - 1)
    if cover_all:
        return (size + total - dk + s - 1) // s + 1
    return (size + total - dk) // s + 1


def conv2d(x, W, b=None, stride=1, pad=0, dilation=1, groups=1):
    """y[n,o,i,j] = b[o] + sum_{c,u,v} W[o,c,u,v] * x[n, g*Cg + c, i*sh + u*dh - top, j*sw + v*dw - left]."""
    x, W = np.asarray(x, np.float64), np.asarray(W, np.float64)
    sh, sw = pair(stride)
    pads_h, pads_w = sides(pad)
    ph, pw = pads_h[0], pads_w[0]
    dh, dw = pair(dilation)
    n_, c_, h, w = x.shape
    o_, cg, kh, kw = W.shape
    assert cg * groups == c_ and o_ % groups == 0
    oh, ow = out_size(h, kh, sh, pads_h, dh), out_size(w, kw, sw, pads_w, dw)
    per_group = o_ // groups
    y = np.zeros((n_, o_, oh, ow))
    for n in range(n_):
        for o in range(o_):
            g = o // per_group
            for i in range(oh):
                for j in range(ow):
                    acc = 0.0 if b is None else float(b[o])
                    for c in range(cg):
                        for u in range(kh):
                            for v in range(kw):
                                r, q = i * sh + u * dh - ph, j * sw + v * dw - pw
                                if 0 <= r < h and 0 <= q < w:
                                    acc += W[o, c, u, v] * x[n, g * cg + c, r, q]
                    y[n, o, i, j] = acc
    return y


def max_pool2d(x, ksize, stride=None, pad=0, cover_all=True):
    """Max over each window; anything outside the input (padding or overhang) is -inf."""
    x = np.asarray(x, np.float64)
    kh, kw = pair(ksize)
    sh, sw = (kh, kw) if stride is None else pair(stride)
    pads_h, pads_w = sides(pad)
    ph, pw = pads_h[0], pads_w[0]
    n_, c_, h, w = x.shape
    oh = out_size(h, kh, sh, pads_h, 1, cover_all)
    ow = out_size(w, kw, sw, pads_w, 1, cover_all)
    y = np.full((n_, c_, oh, ow), -np.inf)
    for n in range(n_):
        for c in range(c_):
            for i in range(oh):
                for j in range(ow):
                    best = -math.inf
                    for u in range(kh):
                        for v in range(kw):
                            r, q = i * sh + u - ph, j * sw + v - pw
                            if 0 <= r < h and 0 <= q < w:
                                best = max(best, x[n, c, r, q])
                    y[n, c, i, j] = best
    return y


def avg_pool2d(x, ksize, stride=None, pad=0):
    """Sum of the in-range values / (kh*kw): zero padding counts in the mean; floor output size."""
    x = np.asarray(x, np.float64)
    kh, kw = pair(ksize)
    sh, sw = (kh, kw) if stride is None else pair(stride)
    pads_h, pads_w = sides(pad)
    ph, pw = pads_h[0], pads_w[0]
    n_, c_, h, w = x.shape
    oh, ow = out_size(h, kh, sh, pads_h), out_size(w, kw, sw, pads_w)
    y = np.zeros((n_, c_, oh, ow))
    for n in range(n_):
        for c in range(c_):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for u in range(kh):
                        for v in range(kw):
                            r, q = i * sh + u - ph, j * sw + v - pw
                            if 0 <= r < h and 0 <= q < w:
                                total += x[n, c, r, q]
                    y[n, c, i, j] = total / (kh * kw)
    return y


def batch_norm(x, gamma, beta, mean=None, var=None, eps=2e-5):
    """Per channel c: gamma[c] * (x - mean[c]) / sqrt(var[c] + eps) + beta[c].

    Without mean/var: the mean and the biased variance (divide by the count) of channel c over
    all of (N, H, W).
    """
    x = np.asarray(x, np.float64)
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        values = x[:, c]
        if mean is None:
            m = sum(values.ravel().tolist()) / values.size
            v = sum((t - m) ** 2 for t in values.ravel().tolist()) / values.size
        else:
            m, v = float(mean[c]), float(var[c])
        y[:, c] = float(gamma[c]) * (values - m) / math.sqrt(v + eps) + float(beta[c])
    return y


def local_response_norm(x, n=5, k=2.0, alpha=1e-4, beta=0.75):
    """Chainer: y_c = x_c / (k + alpha * sum_{c'=c-n//2}^{c+n//2} x_{c'}^2) ** beta (alpha not / n)."""
    x = np.asarray(x, np.float64)
    channels = x.shape[1]
    y = np.empty_like(x)
    for c in range(channels):
        s = np.zeros_like(x[:, 0])
        for cc in range(c - n // 2, c + n // 2 + 1):
            if 0 <= cc < channels:
                s += x[:, cc] ** 2
        y[:, c] = x[:, c] / (k + alpha * s) ** beta
    return y


def linear(x, W, b=None):
    """y[n, o] = sum_i W[o, i] * x_flat[n, i] + b[o], with x flattened to (N, -1)."""
    x, W = np.asarray(x, np.float64), np.asarray(W, np.float64)
    flat = x.reshape(x.shape[0], -1)
    y = np.zeros((flat.shape[0], W.shape[0]))
    for n in range(flat.shape[0]):
        for o in range(W.shape[0]):
            y[n, o] = sum(W[o, i] * flat[n, i] for i in range(flat.shape[1]))
            if b is not None:
                y[n, o] += b[o]
    return y


def softmax(x, axis=1):
    """exp(x_i) / sum_j exp(x_j) along axis, one 1-d slice at a time (shifted by its max)."""
    x = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    y = np.empty_like(x)
    for idx in np.ndindex(*x.shape[:-1]):
        row = x[idx]
        e = [math.exp(t - max(row)) for t in row]
        y[idx] = [t / sum(e) for t in e]
    return np.moveaxis(y, -1, axis)


def relu(x):
    x = np.asarray(x, np.float64)
    return np.where(x > 0, x, 0.0)


def conv2d_shift_add(x, W, b=None, stride=1, pad=0, dilation=1, groups=1):
    """The same convolution as ``conv2d``, fast enough for larger arrays: for each kernel tap
    (u, v), add ``W[:, :, u, v]`` times the input shifted by (u*dh - ph, v*dw - pw), sampled
    at the stride. Checked against the loop version in test_ops."""
    x, W = np.asarray(x, np.float64), np.asarray(W, np.float64)
    sh, sw = pair(stride)
    (ph, pb), (pw, pr) = sides(pad)
    dh, dw = pair(dilation)
    n_, c_, h, w = x.shape
    o_, cg, kh, kw = W.shape
    oh, ow = out_size(h, kh, sh, (ph, pb), dh), out_size(w, kw, sw, (pw, pr), dw)
    padded = np.zeros((n_, c_, ph + h + pb, pw + w + pr))
    padded[:, :, ph:ph + h, pw:pw + w] = x
    per_group = o_ // groups
    y = np.zeros((n_, o_, oh, ow))
    for u in range(kh):
        for v in range(kw):
            rows = u * dh + sh * np.arange(oh)
            cols = v * dw + sw * np.arange(ow)
            tap = padded[:, :, rows][:, :, :, cols]                  # (N, C, OH, OW)
            for g in range(groups):
                o, c = slice(g * per_group, (g + 1) * per_group), slice(g * cg, (g + 1) * cg)
                y[:, o] += np.einsum("oc,nchw->nohw", W[o, :, u, v], tap[:, c])
    if b is not None:
        y += np.asarray(b, np.float64).reshape(1, -1, 1, 1)
    return y


def deconv2d(x, W, b=None, stride=1, pad=0, dilation=1, groups=1, outsize=None):
    """Transposed convolution, scattered from the defining formula:
    y[n, g*O/G + o, q*sh + u*dh - ph, r*sw + v*dw - pw] += W[g*C/G + c, o, u, v] * x[n, g*C/G + c, q, r];
    output size sh(H - 1) + dh(kh - 1) + 1 - 2ph unless ``outsize`` is given."""
    x, W = np.asarray(x, np.float64), np.asarray(W, np.float64)
    sh, sw = pair(stride)
    ph, pw = pair(pad)
    dh, dw = pair(dilation)
    n_, c_, h, w = x.shape
    _, og, kh, kw = W.shape
    oh, ow = (sh * (h - 1) + dh * (kh - 1) + 1 - 2 * ph, sw * (w - 1) + dw * (kw - 1) + 1 - 2 * pw) \
        if outsize is None else pair(outsize)
    cg = c_ // groups
    y = np.zeros((n_, og * groups, oh, ow))
    for n in range(n_):
        for ci in range(c_):
            g = ci // cg
            for o in range(og):
                for q in range(h):
                    for r in range(w):
                        for u in range(kh):
                            for v in range(kw):
                                i, j = q * sh + u * dh - ph, r * sw + v * dw - pw
                                if 0 <= i < oh and 0 <= j < ow:
                                    y[n, g * og + o, i, j] += W[ci, o, u, v] * x[n, ci, q, r]
    if b is not None:
        y += np.asarray(b, np.float64).reshape(1, -1, 1, 1)
    return y
