"""Stateless array functions, Chainer's semantics, NCHW float32. NumPy or CuPy, same code.

Convolution lives here; pooling in :mod:`pool_ops`, the element-wise, dense and normalisation
ops in :mod:`dense_ops`, all importable from here. Every op takes the array module from its
input (:func:`array_module`), so a CuPy array stays on the device. Wrong shapes raise ``ValueError`` naming the op, the shapes and what was expected.
"""

from __future__ import annotations

from convlab.engine.ops import winograd
from convlab.engine.ops.utils import Cancelled
from convlab.engine.ops.autotune import PathTuner
from convlab.engine.arithmetic import conv_out_size, effective_kernel, pad_pairs, pad_total, pair
from convlab.engine.backend import array_module
from convlab.engine.ops.utils import check_ndim as _check_ndim
from convlab.engine.ops.utils import pad_hw as _pad_hw


def im2col(x, kh: int, kw: int, sh: int, sw: int, ph, pw, dh: int = 1, dw: int = 1,
           cover_all: bool = False, pad_value: float = 0.0):
    """Patches of ``x`` laid out as ``(N, C, kh, kw, OH, OW)``, C-contiguous.

    ``ph`` and ``pw`` are the padding on each side of H and W (ints) or ``(top, bottom)`` and
    ``(left, right)`` pairs. Reshaped to ``(N, C*kh*kw, OH*OW)`` it is the right operand of the
    convolution GEMM, whose product ``(out, OH*OW)`` is already in NCHW order: no transpose copy
    after the GEMM. Built as one copy of a strided view of the (padded) input, which reads
    every window in place: 1.1-1.4x faster than ``kh*kw`` slice copies (AlexBN's conv1-conv3).
    """
    xp = array_module(x)
    n, c, h, w = x.shape
    pads = (pad_total(ph, "pad"), pad_total(pw, "pad"))
    oh = conv_out_size(h, kh, sh, pads[0], dh, cover_all)
    ow = conv_out_size(w, kw, sw, pads[1], dw, cover_all)
    # cover_all may reach past the padded input: pad the far side so every window is in range
    need_h = (oh - 1) * sh + effective_kernel(kh, dh)
    need_w = (ow - 1) * sw + effective_kernel(kw, dw)
    extra_h = max(0, need_h - (h + sum(pads[0])))
    extra_w = max(0, need_w - (w + sum(pads[1])))
    x = _pad_hw(x, pads, pad_value, extra_h, extra_w)
    # every window as one strided view, copied once: (N, C, kh, kw, OH, OW)
    sn, sc, s_h, s_w = x.strides
    windows = xp.lib.stride_tricks.as_strided(
        x, (n, c, kh, kw, oh, ow), (sn, sc, s_h * dh, s_w * dw, s_h * sh, s_w * sw))
    return xp.ascontiguousarray(windows)


def conv2d(x, W, b=None, *, stride=1, pad=0, dilation=1, groups=1, should_stop=None):
    """2-D convolution (cross-correlation, as in Chainer's ``F.convolution_2d``).

    ``y[n, o, i, j] = b[o] + sum_{c,u,v} W[o, c, u, v] * x[n, g*C/G + c, i*s + u*d - p, j*s + v*d - p]``

    x: ``(N, C, H, W)``; W: ``(out, C/groups, kh, kw)``; b: ``(out,)`` or None. ``pad`` is an
    int, an ``(h, w)`` pair or ``((top, bottom), (left, right))`` (``p`` above is top/left).
    Output size ``floor((H + top + bottom - d(k-1) - 1) / s) + 1`` (``cover_all=False``,
    Chainer's default for convolution). One GEMM per group over im2col, or Winograd's
    F(3x3, 3x3) / F(4x4, 5x5) where :func:`winograd.applies` (stride 1, frozen NumPy weights)
    (``CONV_PATH``: by shape, deterministic, by default); the bias is added in place.

    ``should_stop`` (a callable, or None) is asked before each tile of output rows; when it
    answers True the computation stops and :class:`Cancelled` is raised. Tiles hold at most
    ``STOP_TILE_FLOPS`` either way (a newer request waits a few ms, and the bits do not depend
    on whether the call could be stopped).
    """
    strides, pads, dilations, oh, ow = _conv_geometry(x, W, b, stride, pad, dilation, groups)
    xp = array_module(x)
    y = xp.empty((x.shape[0], W.shape[0], oh, ow), dtype=xp.result_type(x.dtype, W.dtype))
    path = "direct"
    if CONV_PATH != "direct" and winograd.applies(x, W, strides, dilations, groups):
        path = "winograd" if CONV_PATH == "winograd" else _tuned_path(x, W, y, pads)
    if path == "winograd":
        winograd.conv(x, W, pads, y, should_stop)
    else:
        _im2col_conv(x, W, y, groups, strides, pads, dilations, should_stop)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _tuned_path(x, W, y, pads) -> str:
    """"direct" or "winograd", whichever TUNER found faster for these shapes (timed on first use)."""
    key = (x.shape, W.shape, pads)
    return TUNER.best(key) or TUNER.calibrate(key, {
        "direct": lambda: _im2col_conv(x, W, y, 1, (1, 1), pads, (1, 1), None),
        "winograd": lambda: winograd.conv(x, W, pads, y)})


def _conv_geometry(x, W, b, stride, pad, dilation, groups):
    """Check conv2d's arguments; ``((sh, sw), ((top, bottom), (left, right)), (dh, dw), OH, OW)``."""
    _check_ndim("conv2d", x, 4, "(N, C, H, W)")
    _check_ndim("conv2d", W, 4, "(out, in/groups, kh, kw) weight")
    n, c, h, w = x.shape
    c_out, c_per_group, kh, kw = W.shape
    if groups < 1 or c % groups or c_out % groups:
        raise ValueError(f"conv2d: groups={groups} must divide both the input channels ({c}) "
                         f"and the output channels ({c_out})")
    if c_per_group * groups != c:
        raise ValueError(f"conv2d: input {tuple(x.shape)} has {c} channels but weight "
                         f"{tuple(W.shape)} with groups={groups} expects {c_per_group * groups}")
    if b is not None and tuple(b.shape) != (c_out,):
        raise ValueError(f"conv2d: bias shape {tuple(b.shape)} does not match weight "
                         f"{tuple(W.shape)}; expected ({c_out},)")
    strides, pads, dilations = pair(stride, "stride"), pad_pairs(pad, "pad"), pair(dilation, "dilation")
    try:
        oh = conv_out_size(h, kh, strides[0], pads[0], dilations[0])
        ow = conv_out_size(w, kw, strides[1], pads[1], dilations[1])
    except ValueError as exc:
        raise ValueError(f"conv2d: input {tuple(x.shape)}, weight {tuple(W.shape)}: {exc}") from None
    return strides, pads, dilations, oh, ow


def _im2col_conv(x, W, y, groups, strides, pads, dilations, should_stop):
    """The direct path: im2col and one GEMM per group, in tiles of output rows, into ``y``.

    Tiles keep the im2col matrix within COL_BUDGET bytes (a 15x15 kernel at stride 1 over a
    512x512 RGB image would otherwise need 0.7 GB) and the work within STOP_TILE_FLOPS, with
    or without ``should_stop`` (so results are the same bits either way).
    """
    n, c, _, _ = x.shape
    c_out, _, kh, kw = W.shape
    oh, ow = y.shape[2:]
    (sh, sw), (dh, dw) = strides, dilations
    rows = max(1, min(oh, COL_BUDGET // max(n * c * kh * kw * ow * x.dtype.itemsize, 1)))
    # the same tiles whether or not should_stop is given: BLAS sums a tile's products in an order
    # that depends on the tile's size, so tiling only when stoppable made the window's maps
    # differ from convlab export's in the last bits (and their PNGs by a colour step)
    row_flops = 2 * n * c_out * (c // groups) * kh * kw * ow
    rows = max(1, min(rows, STOP_TILE_FLOPS // max(row_flops, 1)))
    if rows < oh:
        x = _pad_hw(x, pads, 0.0)
        pads = ((0, 0), (0, 0))
    span = effective_kernel(kh, dh)
    for r0 in range(0, oh, rows):
        if should_stop is not None and should_stop():
            raise Cancelled(f"conv2d stopped after {r0} of {oh} output rows")
        r1 = min(oh, r0 + rows)
        part = x if rows == oh else x[:, :, r0 * sh:(r1 - 1) * sh + span]
        _conv_rows(part, W, y[:, :, r0:r1], groups, strides, pads, dilations)


# "winograd" (default): Winograd wherever it applies, decided by shapes alone, so the same
# input gives the same bits in every process (a recorded export command must reproduce its PNG
# bytes); "direct": im2col only; "auto": where Winograd applies, time both on the first call of
# each shape and keep the faster (autotune.PathTuner) -- faster on a crowded machine, but the
# choice (and so the last float bit, ~1e-6 relative) can differ between processes.
CONV_PATH = "winograd"
TUNER = PathTuner(("direct", "winograd"))
COL_BUDGET = 16 << 20  # bytes of im2col matrix per GEMM: at 64 MB the window's soak peaked 48 MB
                       # higher (a 9x9 explorer stage beside AlexBN at 511 px), and 256 3x3
                       # filters on a 512-pixel photo took 420-500 ms instead of 150-200 ms
STOP_TILE_FLOPS = 1 << 28  # FLOPs per tile when should_stop is given: ~1.3 ms at 200 GFLOP/s


def _conv_rows(x, W, out, groups, stride, pad, dilation):
    """Write the convolution of ``x`` into ``out`` (a view of ``(N, out, rows, OW)``)."""
    n, c_out, oh, ow = out.shape
    kh, kw = W.shape[2:]
    col = im2col(x, kh, kw, *stride, *pad, *dilation)              # (N, C, kh, kw, OH, OW)
    k = W.shape[1] * kh * kw
    col = col.reshape(n, groups, k, oh * ow)                        # (N, G, C/G*kh*kw, OH*OW)
    w_mat = W.reshape(groups, c_out // groups, k)                   # (G, out/G, C/G*kh*kw)
    if out.flags.c_contiguous:
        dest = out.reshape(n, groups, c_out // groups, oh * ow)     # (N, G, out/G, OH*OW), a view
        if n == 1 and groups == 1:
            array_module(x).matmul(w_mat[0], col[0, 0], out=dest[0, 0])
        else:
            array_module(x).matmul(w_mat, col, out=dest)
    else:
        out[...] = (w_mat @ col).reshape(n, c_out, oh, ow)
