"""Pooling ops, Chainer's semantics, NCHW: ``max_pool2d`` and ``avg_pool2d`` (also in :mod:`ops`)."""

from __future__ import annotations

from convlab.engine.arithmetic import conv_out_size, pad_pairs, pair
from convlab.engine.backend import array_module
from convlab.engine.ops.utils import check_ndim as _check_ndim
from convlab.engine.ops.utils import pad_hw as _pad_hw


def _pool_geometry(op: str, x, ksize, stride, pad, cover_all: bool):
    _check_ndim(op, x, 4, "(N, C, H, W)")
    kh, kw = pair(ksize, "ksize")
    sh, sw = (kh, kw) if stride is None else pair(stride, "stride")
    ph, pw = pad_pairs(pad, "pad")
    try:
        oh = conv_out_size(x.shape[2], kh, sh, ph, 1, cover_all, what="pooling window")
        ow = conv_out_size(x.shape[3], kw, sw, pw, 1, cover_all, what="pooling window")
    except ValueError as exc:
        raise ValueError(f"{op}: input {tuple(x.shape)}, ksize {(kh, kw)}: {exc}") from None
    return kh, kw, sh, sw, ph, pw, oh, ow


POOL_BLOCK = 1 << 20  # input elements per block of channel planes in max_pool2d's passes


def max_pool2d(x, ksize, *, stride=None, pad=0, cover_all=True):
    """Max pooling as Chainer's ``F.max_pooling_2d`` (stride defaults to ksize, ``cover_all=True``).

    Output size ``(H + 2p - k + s - 1) // s + 1`` with ``cover_all``, else ``(H + 2p - k) // s + 1``;
    ``pad`` as in :func:`conv2d` (``2p`` read as top + bottom, left + right).
    Padding and the overhang of the last partial window count as ``-inf``. Computed as a running
    maximum over shifted slices, never a reduction over a window view: see :func:`_max_planes`.
    """
    kh, kw, sh, sw, ph, pw, oh, ow = _pool_geometry("max_pool2d", x, ksize, stride, pad, cover_all)
    xp = array_module(x)
    n, c, h, w = x.shape
    extra_h = max(0, (oh - 1) * sh + kh - (h + sum(ph)))
    extra_w = max(0, (ow - 1) * sw + kw - (w + sum(pw)))
    lo = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
    x = xp.ascontiguousarray(_pad_hw(x, (ph, pw), lo, extra_h, extra_w))
    hp, wp = x.shape[2:]
    planes = x.reshape(n * c, hp * wp)                              # (N*C, Hp*Wp)
    out = xp.empty((n * c, oh, ow), dtype=x.dtype)                  # (N*C, OH, OW)
    per_block = min(n * c, max(1, POOL_BLOCK // (hp * wp)))
    # two scratch buffers for every block (fresh ones per block cost page faults on large maps)
    scratch = xp.empty((2, per_block * hp * wp), dtype=x.dtype)    # (2, block*Hp*Wp)
    for p0 in range(0, n * c, per_block):
        p1 = min(n * c, p0 + per_block)
        _max_planes(planes[p0:p1], (hp, wp), (kh, kw), (sh, sw), out[p0:p1], scratch)
    return out.reshape(n, c, oh, ow)                                # (N, C, OH, OW)


def _max_planes(planes, hw, ksize, stride, out, scratch) -> None:
    """Window maxima of ``planes`` ``(P, Hp*Wp)`` (padded planes, flattened) into ``out`` ``(P, OH, OW)``.

    Separable and flat: ``row[q] = max_{v<kw} flat[q + v]``, then
    ``box[q] = max_{u<kh} row[q + u*Wp]``, each a maximum of two long contiguous slices (NumPy
    pays per inner loop: a strided window slice with rows of OW elements ran 5-10x slower per
    element); ``out = box[s_h*i*Wp + s_w*j]``. Positions whose window would wrap into the next
    row or plane are computed but never read. ``(kh - 1) + (kw - 1)`` passes over the input.
    ``scratch`` is ``(2, >= P*Hp*Wp)``, overwritten.
    """
    xp = array_module(planes)
    (hp, wp), (kh, kw), (sh, sw) = hw, ksize, stride
    p, oh, ow = out.shape
    flat = planes.reshape(-1)                                       # (P*Hp*Wp,)
    box = flat
    for stage, (shift, count) in enumerate(((1, kw), (wp, kh))):    # along W, then along H
        if count == 1:
            continue
        size = box.size - (count - 1) * shift
        acc = scratch[stage, :flat.size]
        xp.maximum(box[:size], box[shift:shift + size], out=acc[:size])
        for k in range(2, count):
            xp.maximum(acc[:size], box[k * shift:k * shift + size], out=acc[:size])
        box = acc
    grid = box.reshape(p, hp, wp)                                   # (P, Hp, Wp), tail unread
    out[...] = grid[:, 0:sh * (oh - 1) + 1:sh, 0:sw * (ow - 1) + 1:sw]


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
