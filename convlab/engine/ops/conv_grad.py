"""Gradients of the convolutions, as Chainer's ``Convolution2DGradW`` and ``Deconvolution2D``
backward: im2col and col2im GEMMs, one per group. NumPy or CuPy, from the input's module.

For ``y = conv2d(x, W, b)`` with ``col = im2col(x)`` laid out ``(N, G, K, P)``
(``K = C/G * kh * kw``, ``P = OH * OW``) and ``gy`` as ``(N, G, O/G, P)``::

    gW[g] = sum_n gy[n, g] @ col[n, g]^T        gb = sum_{n, i, j} gy
    gcol[n, g] = W[g]^T @ gy[n, g]              gx = col2im(gcol)

The paths, chosen by shape alone (so the same inputs give the same bits in every process):

- maps of at least PER_SAMPLE_P positions: one GEMM per sample; smaller maps: the batch folded
  into one GEMM per group, batch last (:func:`_folded_grad`);
- where the forward is Winograd's kind of convolution (stride 1, 3x3 or 5x5, one group, NumPy
  float32, enough channels), the weight gradient in Winograd's domain (:mod:`winograd_grad`);
- for stride 1 and no dilation the input gradient is also a convolution: the "full"
  correlation of ``gy`` with ``W`` turned by 180 degrees and its in/out axes swapped,
  ``gx = conv2d(gy, W'[c, o, u, v] = W[o, c, kh-1-u, kw-1-v], pad = k - 1 - p)`` (each side);
  on large maps, where Winograd applies to it, Winograd computes ``gx`` instead of the GEMM and
  col2im (AlexBN's conv2 at batch 8, two BLAS threads: ~79 -> ~36-55 ms).

The transposed convolution's input gradient is a convolution of its (uncropped) output
gradient with the same ``W``; its weight gradient reads the same im2col.
"""

from __future__ import annotations

import numpy as np

from convlab.engine.arithmetic import effective_kernel, pad_pairs, pair
from convlab.engine.backend import array_module, freeze
from convlab.engine.ops import conv as _conv
from convlab.engine.ops import winograd, winograd_grad
from convlab.engine.ops.conv import im2col


def padded_hw(hw, out_hw, ksize, strides, pads, dilations) -> tuple[int, int]:
    """The padded input's ``(H, W)`` that every window of ``out_hw`` fits: the padding on both
    sides, or more where the last window reaches past it."""
    return tuple(max(size + sum(pad), (out - 1) * s + effective_kernel(k, d))
                 for size, out, k, s, pad, d in zip(hw, out_hw, ksize, strides, pads, dilations))


def col2im(col, x_shape, stride, pads, dilation):
    """The adjoint of :func:`im2col`: ``col`` ``(N, C, kh, kw, OH, OW)`` summed back into an
    ``(N, C, H, W)`` array; each tap adds into a strided slice of the padded input, and the
    padding (and any ``cover_all`` overhang) is cropped."""
    xp = array_module(col)
    n, c, kh, kw, oh, ow = col.shape
    h, w = x_shape[2:]
    (sh, sw), (dh, dw) = stride, dilation
    (t, _), (l, _) = pads
    full_h, full_w = padded_hw((h, w), (oh, ow), (kh, kw), stride, pads, dilation)
    full = xp.zeros((n, c, full_h, full_w), dtype=col.dtype)
    for u in range(kh):
        for v in range(kw):
            top, left = u * dh, v * dw
            full[:, :, top:top + sh * (oh - 1) + 1:sh, left:left + sw * (ow - 1) + 1:sw] += \
                col[:, :, u, v]
    return full[:, :, t:t + h, l:l + w]


PER_SAMPLE_P = 256  # output positions from which one GEMM per sample beats one over the
                    # batch: below, the batch is folded into the GEMMs (_folded_grad: AlexBN's
                    # conv3 weight gradient at batch 8 19.8 against 37.0 ms per sample)


def _weight_grad(col, gy, groups):
    """``sum_n gy[n, g] @ col[n, g]^T`` per group: ``(G, O/G, K)``; col ``(N, G, K, P)``.

    With many output positions (``P >= PER_SAMPLE_P``) one GEMM per sample, the transposed
    ``col[n, g]`` read in place, accumulated in sample order: tensordot first copied ``col`` into
    ``(N*P, K)``, and AlexBN's conv2 at batch 8 took 157 ms single-threaded where the per-sample
    GEMMs take 75 ms. With few positions (LeNet's) the one large GEMM is faster."""
    xp = array_module(col)
    n, p = col.shape[0], col.shape[3]
    if p < PER_SAMPLE_P:
        return xp.stack([xp.tensordot(gy[:, g], col[:, g], axes=([0, 2], [0, 2]))
                         for g in range(groups)])
    out = xp.zeros((groups, gy.shape[2], col.shape[2]), dtype=col.dtype)
    part = xp.empty(out.shape[1:], dtype=col.dtype)
    for g in range(groups):
        for i in range(n):
            xp.matmul(gy[i, g], col[i, g].T, out=part)              # (O/G, P) @ (P, K)
            out[g] += part
    return out


def _input_col_grad(W, gy_g, groups, k):
    """``gcol[n, g] = W[g]^T @ gy[n, g]``: ``(N, G, K, P)``, one GEMM per sample and group (a
    broadcast ``matmul`` over the batch ran at a third of the GEMM rate: 250 against 84 ms for
    AlexBN's conv2 at batch 8, single-threaded)."""
    xp = array_module(gy_g)
    n, _, og, p = gy_g.shape
    w_t = W.reshape(groups, og, k).transpose(0, 2, 1)                # (G, K, O/G), a view
    gcol = xp.empty((n, groups, k, p), dtype=gy_g.dtype)
    for i in range(n):
        for g in range(groups):
            xp.matmul(w_t[g], gy_g[i, g], out=gcol[i, g])             # (K, O/G) @ (O/G, P)
    return gcol


GRAD_COL_BUDGET = 64 << 20  # bytes of im2col (or col2im) matrix per chunk of the batch


def conv2d_backward(x, W, gy, *, stride=1, pad=0, dilation=1, groups=1, need_x=True,
                    need_W=True, need_b=True):
    """``(gx, gW, gb)`` of :func:`conv2d` for the output gradient ``gy`` ``(N, out, OH, OW)``;
    an entry not asked for (``need_*`` False) is None. ``pad`` as conv2d's (asymmetric too).
    The batch is taken in chunks whose im2col matrix fits ``GRAD_COL_BUDGET`` (AlexBN's conv2
    at batch 64 would otherwise build 450 MB), ``gW`` summed over them in order."""
    xp = array_module(x)
    n, c = x.shape[:2]
    kh, kw = W.shape[2:]
    oh, ow = gy.shape[2:]
    per_sample = c * kh * kw * oh * ow * gy.dtype.itemsize
    step = max(1, min(n, GRAD_COL_BUDGET // max(per_sample, 1)))
    geometry = (pair(stride, "stride"), pad_pairs(pad), pair(dilation, "dilation"), groups)
    gx = _winograd_input_grad(x.shape, W, gy, geometry) if need_x else None
    by_col = need_x and gx is None
    if by_col:
        gx = xp.empty(x.shape, dtype=gy.dtype)
    gW = _winograd_weight_grad(x, W, gy, geometry) if need_W else None
    w_by_col = need_W and gW is None
    for n0 in range(0, n, step):
        if not (w_by_col or by_col):
            break
        part_x, part_w = _conv_grad_chunk(x[n0:n0 + step], W, gy[n0:n0 + step], geometry,
                                          by_col, w_by_col)
        if by_col:
            gx[n0:n0 + step] = part_x
        if w_by_col:
            gW = part_w if gW is None else gW + part_w
    gb = gy.sum(axis=(0, 2, 3)) if need_b else None
    return gx, gW, gb


def _winograd_weight_grad(x, W, gy, geometry):
    """``gW`` in Winograd's domain (:mod:`winograd_grad`) where the forward is Winograd's kind
    of convolution (stride 1, no dilation, one group, a square 3x3 or 5x5 kernel, NumPy
    float32, at least MIN_CHANNELS in and out; ``CONV_PATH`` not "direct"); None elsewhere.
    AlexBN at batch 8, two threads: conv2 87 -> 41 ms, conv3-conv5 29-42 -> 20-35 ms; LeNet's
    conv2 at batch 64 5.7 -> 2.3 ms. Float32 error against float64: 1e-5 (5x5) and 4e-6 (3x3)
    of the largest value, where the GEMMs' is 5e-7."""
    strides, pads, dilations, groups = geometry
    r = W.shape[2]
    if (_conv.CONV_PATH == "direct" or tuple(strides) != (1, 1) or tuple(dilations) != (1, 1)
            or groups != 1 or W.shape[3] != r or r not in winograd.POINTS
            or min(W.shape[:2]) < winograd.MIN_CHANNELS
            or not all(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in (x, W, gy))):
        return None
    return winograd_grad.weight_grad(x, gy, pads, r)


def _winograd_input_grad(x_shape, W, gy, geometry):
    """``gx`` as the stride-1 convolution of ``gy`` by the turned, swapped ``W`` (see the module),
    by Winograd; None where that does not apply (stride or dilation not 1, groups, a padding
    wider than ``k - 1``, float64, CuPy, few channels, ``CONV_PATH`` "direct") or does not pay:
    maps of fewer than PER_SAMPLE_P positions, where the GEMMs over the folded batch were as
    fast or faster (AlexBN's conv3 and conv4 at batch 8: 20.3 and 27.3 ms against Winograd's
    20.0 and 23.4 ms, LeNet's conv2 at batch 64: 6.9 against 8.1 ms; best of 9, interleaved)."""
    strides, ((t, b), (l, r)), dilations, groups = geometry
    kh, kw = W.shape[2:]
    pads = ((kh - 1 - t, kh - 1 - b), (kw - 1 - l, kw - 1 - r))
    if (_conv.CONV_PATH == "direct" or tuple(strides) != (1, 1) or tuple(dilations) != (1, 1)
            or gy.shape[2] * gy.shape[3] < PER_SAMPLE_P or groups != 1
            or min(min(p) for p in pads) < 0 or not isinstance(W, np.ndarray)):
        return None
    if W.shape[2] != W.shape[3] or W.shape[2] not in winograd.POINTS \
            or min(W.shape[:2]) < winograd.MIN_CHANNELS:
        return None
    # a copy always (a 1 x 1 kernel's turned view can be W itself, which freeze would lock)
    turned = freeze(np.array(W.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1], order="C", copy=True))
    if not winograd.applies(gy, turned, (1, 1), (1, 1), 1):
        return None
    gx = np.empty(x_shape, dtype=np.float32)
    # transformed here, not cached: this array lives for one backward and would push the
    # forward's (or the explorer's) transforms out of the cache
    winograd.conv(np.ascontiguousarray(gy), turned, pads, gx,
                  transformed=winograd.transform_weights(turned))
    return gx


def _conv_grad_chunk(x, W, gy, geometry, need_x, need_W):
    """``(gx, gW)`` of one chunk of the batch (see :func:`conv2d_backward`)."""
    strides, pads, dilations, groups = geometry
    n, c = x.shape[:2]
    c_out, cg, kh, kw = W.shape
    oh, ow = gy.shape[2:]
    k = cg * kh * kw
    if oh * ow < PER_SAMPLE_P:
        return _folded_grad(x, W, gy, geometry, need_x, need_W)
    gy_g = gy.reshape(n, groups, c_out // groups, oh * ow)          # (N, G, O/G, P)
    gx = gW = None
    if need_W:
        col = im2col(x, kh, kw, *strides, *pads, *dilations)        # (N, C, kh, kw, OH, OW)
        gW = _weight_grad(col.reshape(n, groups, k, oh * ow), gy_g, groups).reshape(W.shape)
    if need_x:
        gcol = _input_col_grad(W, gy_g, groups, k)                    # (N, G, K, P)
        gx = col2im(gcol.reshape(n, c, kh, kw, oh, ow), x.shape, strides, pads, dilations)
    return gx, gW


THIN_OUT = 128  # fewer filters (per group) than this over deeper patches: gW as col @ gy^T,
                # whose long side is the patches' (LeNet's conv2, 50 x 500 over 4,096
                # positions: 1.3 against 1.9 ms; AlexBN's conv3, 384 filters: 16.6 against 13.0)


def _folded_grad(x, W, gy, geometry, need_x, need_W):
    """``(gx, gW)`` with the batch folded into the GEMMs' long side, for few output positions
    (LeNet's conv2: 64 per sample, where per-sample GEMMs are tiny), batch last: the patches
    laid out ``(C, kh, kw, OH, OW, N)`` = ``(G, K, M)`` and ``gy`` as ``(G, O/G, M)``
    (``M = OH*OW*N``), so that ``gW[g] = gy[g] @ col[g]^T`` and ``gcol[g] = W[g]^T @ gy[g]``
    are one GEMM each per group, and col2im adds each tap's ``(C, OH, OW, N)`` block in runs
    of ``OW*N`` contiguous values (stride 1) instead of rows of OW (LeNet's conv2 at batch 64:
    col2im 3.7 -> 1.2 ms)."""
    xp = array_module(x)
    strides, pads, dilations, groups = geometry
    n, c, h, w = x.shape
    c_out, cg, kh, kw = W.shape
    oh, ow = gy.shape[2:]
    k, og, m = cg * kh * kw, c_out // groups, oh * ow * n
    gy_t = xp.ascontiguousarray(gy.transpose(1, 2, 3, 0)).reshape(groups, og, m)  # (G, O/G, M)
    gx = gW = None
    if need_W:
        col_t = _batch_last_patches(x, (kh, kw), strides, pads, dilations, (oh, ow))
        col_t = col_t.reshape(groups, k, m)                           # (G, K, M)
        if og < THIN_OUT and k >= THIN_OUT:   # few filters, deep patches: K x O/G, transposed
            gW = xp.matmul(col_t, gy_t.transpose(0, 2, 1)).transpose(0, 2, 1)
        else:
            gW = xp.matmul(gy_t, col_t.transpose(0, 2, 1))            # (G, O/G, K)
        gW = xp.ascontiguousarray(gW).reshape(W.shape)
    if need_x:
        w_t = W.reshape(groups, og, k).transpose(0, 2, 1)             # (G, K, O/G), a view
        gcol = xp.matmul(w_t, gy_t).reshape(c, kh, kw, oh, ow, n)     # (G, K, M)
        gx = _batch_last_col2im(gcol, x.shape, strides, pads, dilations)
    return gx, gW


def _batch_last_patches(x, ksize, strides, pads, dilations, out_hw):
    """im2col with the batch last: ``(C, kh, kw, OH, OW, N)``, C-contiguous, from one copy of a
    strided view of the padded, batch-last input ``(C, Hp, Wp, N)``."""
    xp = array_module(x)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), ((t, _), (l, _)), (dh, dw), (oh, ow) = ksize, strides, pads, dilations, out_hw
    hp, wp = padded_hw((h, w), out_hw, ksize, strides, pads, dilations)
    xt = xp.zeros((c, hp, wp, n), dtype=x.dtype)
    xt[:, t:t + h, l:l + w] = x.transpose(1, 2, 3, 0)
    s_c, s_h, s_w, s_n = xt.strides
    windows = xp.lib.stride_tricks.as_strided(
        xt, (c, kh, kw, oh, ow, n), (s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw, s_n))
    return xp.ascontiguousarray(windows)


def _batch_last_col2im(gcol, x_shape, strides, pads, dilations):
    """The adjoint of :func:`_batch_last_patches`: ``gcol`` ``(C, kh, kw, OH, OW, N)`` summed
    into the padded batch-last input, cropped, and returned as ``(N, C, H, W)``."""
    xp = array_module(gcol)
    c, kh, kw, oh, ow, n = gcol.shape
    h, w = x_shape[2:]
    (sh, sw), ((t, _), (l, _)), (dh, dw) = strides, pads, dilations
    hp, wp = padded_hw((h, w), (oh, ow), (kh, kw), strides, pads, dilations)
    full = xp.zeros((c, hp, wp, n), dtype=gcol.dtype)
    for u in range(kh):
        for v in range(kw):
            top, left = u * dh, v * dw
            full[:, top:top + sh * (oh - 1) + 1:sh, left:left + sw * (ow - 1) + 1:sw] += \
                gcol[:, u, v]
    return xp.ascontiguousarray(full[:, t:t + h, l:l + w].transpose(3, 0, 1, 2))


def deconv2d_backward(x, W, gy, *, stride=1, pad=0, dilation=1, groups=1, need_x=True,
                      need_W=True, need_b=True):
    """``(gx, gW, gb)`` of :func:`deconv2d` (W ``(in, out/G, kh, kw)``) for ``gy``.

    The forward scatters into an uncropped output ``full`` and crops ``[p, p + OH)``; so
    ``gfull`` is ``gy`` placed back at ``p``, ``col = im2col(gfull)`` (stride s, dilation d,
    no padding, the first H x W positions) and ``gx[n, g] = W[g] @ col[n, g]``,
    ``gW[g] = sum_n x[n, g] @ col[n, g]^T``.
    """
    xp = array_module(x)
    n, c, h, w = x.shape
    _, og, kh, kw = W.shape
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(pad), pair(dilation)
    oh, ow = gy.shape[2:]
    full_h = max(sh * (h - 1) + dh * (kh - 1) + 1, ph + oh)
    full_w = max(sw * (w - 1) + dw * (kw - 1) + 1, pw + ow)
    gx = gW = gb = None
    if need_x or need_W:
        gfull = xp.zeros((n, gy.shape[1], full_h, full_w), dtype=gy.dtype)
        gfull[:, :, ph:ph + oh, pw:pw + ow] = gy
        col = im2col(gfull, kh, kw, sh, sw, 0, 0, dh, dw)[..., :h, :w]  # (N, out, kh, kw, H, W)
        col = xp.ascontiguousarray(col).reshape(n, groups, og * kh * kw, h * w)
        cg = c // groups
        if need_x:
            w_mat = W.reshape(groups, cg, og * kh * kw)              # (G, C/G, K)
            gx = xp.matmul(w_mat, col).reshape(n, c, h, w)           # (N, G, C/G, HW)
        if need_W:
            x_g = x.reshape(n, groups, cg, h * w)
            gW = _weight_grad(col, x_g, groups).reshape(W.shape)    # (G, C/G, K)
    if need_b:
        gb = gy.sum(axis=(0, 2, 3))
    return gx, gW, gb
