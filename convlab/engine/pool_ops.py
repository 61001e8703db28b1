"""Pooling ops, Chainer's semantics, NCHW: ``max_pool2d`` and ``avg_pool2d`` (also in :mod:`ops`)."""

from __future__ import annotations

from convlab.engine.arithmetic import conv_out_size, pad_pairs, pair
from convlab.engine.backend import array_module
from convlab.engine.op_utils import check_ndim as _check_ndim
from convlab.engine.op_utils import pad_hw as _pad_hw


def _pool_geometry(op: str, x, ksize, stride, pad, cover_all: bool):
    _check_ndim(op, x, 4, "(N, C, H, W)")
    kh, kw = pair(ksize, "ksize")
    sh, sw = (kh, kw) if stride is None else pair(stride, "stride")
    ph, pw = pad_pairs(pad, "pad")
    try:
        oh = conv_out_size(x.shape[2], kh, sh, ph, 1, cover_all)
        ow = conv_out_size(x.shape[3], kw, sw, pw, 1, cover_all)
    except ValueError as exc:
        raise ValueError(f"{op}: input {tuple(x.shape)}, ksize {(kh, kw)}: {exc}") from None
    return kh, kw, sh, sw, ph, pw, oh, ow


def max_pool2d(x, ksize, *, stride=None, pad=0, cover_all=True):
    """Max pooling as Chainer's ``F.max_pooling_2d`` (stride defaults to ksize, ``cover_all=True``).

    Output size ``(H + 2p - k + s - 1) // s + 1`` with ``cover_all``, else ``(H + 2p - k) // s + 1``;
    ``pad`` as in :func:`conv2d` (``2p`` read as top + bottom, left + right).
    Padding and the overhang of the last partial window count as ``-inf``. Computed as a running
    maximum over ``kh*kw`` strided slices, never a reduction over a window view.
    """
    kh, kw, sh, sw, ph, pw, oh, ow = _pool_geometry("max_pool2d", x, ksize, stride, pad, cover_all)
    xp = array_module(x)
    h, w = x.shape[2:]
    extra_h = max(0, (oh - 1) * sh + kh - (h + sum(ph)))
    extra_w = max(0, (ow - 1) * sw + kw - (w + sum(pw)))
    lo = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
    x = _pad_hw(x, (ph, pw), lo, extra_h, extra_w)
    out = None
    for i in range(kh):
        for j in range(kw):
            window = x[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            if out is None:
                out = window.copy()
            else:
                xp.maximum(out, window, out=out)
    return out


def avg_pool2d(x, ksize, *, stride=None, pad=0):
    """Average pooling as Chainer's ``F.average_pooling_2d``: zero padding counts in the mean.

    ``y = sum(window) / (kh * kw)``; output size ``(H + 2p - k) // s + 1``; stride defaults to ksize;
    ``pad`` as in :func:`conv2d`.
    """
    kh, kw, sh, sw, ph, pw, oh, ow = _pool_geometry("avg_pool2d", x, ksize, stride, pad, False)
    x = _pad_hw(x, (ph, pw), 0.0)
    out = None
    for i in range(kh):
        for j in range(kw):
            window = x[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            out = window.copy() if out is None else out.__iadd__(window)
    out *= x.dtype.type(1.0 / (kh * kw))
    return out
