"""Transposed convolution, Chainer's ``F.deconvolution_2d`` (PyTorch's ``conv_transpose2d``).

The gradient of ``conv2d`` with respect to its input: every input value scatters ``x * W``
into a ``kh x kw`` patch of the output, ``s`` apart, taps ``d`` apart, then ``p`` is cropped::

    y[n, g*O/G + o, q*s + u*d - p, r*s + v*d - p] += W[g*C/G + c, o, u, v] * x[n, g*C/G + c, q, r]

x: ``(N, C, H, W)``; W: ``(C, out/groups, kh, kw)``; b: ``(out,)`` or None. Output size
``s(H - 1) + d(kh - 1) + 1 - 2p`` (:func:`~convlab.engine.arithmetic.deconv_out_size`), or
``outsize`` when a convolution with the same settings maps it back to H (up to ``s - 1`` more).
"""

from __future__ import annotations

from convlab.engine.arithmetic import deconv_outsize_range, pair
from convlab.engine.backend import array_module


def _check(x, W, b, groups):
    for arr, what in ((x, "(N, C, H, W) input"), (W, "(in, out/groups, kh, kw) weight")):
        if arr.ndim != 4:
            raise ValueError(f"deconv2d: expected a 4-d {what}, got shape {tuple(arr.shape)}")
    c, c_w = x.shape[1], W.shape[0]
    if not isinstance(groups, int) or groups < 1 or c % groups:
        raise ValueError(f"deconv2d: groups={groups} must divide the input channels ({c})")
    if c != c_w:
        raise ValueError(f"deconv2d: input {tuple(x.shape)} has {c} channels but weight "
                         f"{tuple(W.shape)} expects {c_w} (W is (in, out/groups, kh, kw))")
    c_out = W.shape[1] * groups
    if b is not None and tuple(b.shape) != (c_out,):
        raise ValueError(f"deconv2d: bias shape {tuple(b.shape)} does not match weight "
                         f"{tuple(W.shape)} with groups={groups}; expected ({c_out},)")
    return c_out


def _out_len(axis, size, k, s, p, d, outsize):
    try:
        allowed = deconv_outsize_range(size, k, s, p, d)
    except ValueError as exc:
        raise ValueError(f"deconv2d: {axis}: {exc}") from None
    if outsize is None:
        return allowed.start
    if outsize not in allowed:
        raise ValueError(f"deconv2d: outsize {outsize} along {axis} is inconsistent with input "
                         f"{size}, kernel {k}, stride {s}, pad {p}, dilation {d}; it must be "
                         f"{allowed.start}" + (f" to {allowed.stop - 1}" if s > 1 else ""))
    return outsize


def deconv2d(x, W, b=None, *, stride=1, pad=0, dilation=1, groups=1, outsize=None):
    """Transposed 2-D convolution (see the module docstring); ``outsize`` an int, a pair or None.

    One GEMM per group gives every tap's contribution ``(out/G, kh, kw, H, W)``; each tap is then
    added into the output at a strided slice (col2im), and the padding cropped.
    """
    c_out = _check(x, W, b, groups)
    n, c, h, w = x.shape
    kh, kw = W.shape[2:]
    sh, sw = pair(stride, "stride")
    ph, pw = pair(pad, "pad")
    dh, dw = pair(dilation, "dilation")
    want_h, want_w = (None, None) if outsize is None else pair(outsize, "outsize")
    oh = _out_len("height", h, kh, sh, ph, dh, want_h)
    ow = _out_len("width", w, kw, sw, pw, dw, want_w)
    xp = array_module(x)
    dtype = xp.result_type(x.dtype, W.dtype)
    # the uncropped output must hold every tap and the cropped window [p, p + out)
    full_h = max(sh * (h - 1) + dh * (kh - 1) + 1, ph + oh)
    full_w = max(sw * (w - 1) + dw * (kw - 1) + 1, pw + ow)
    full = xp.zeros((n, c_out, full_h, full_w), dtype=dtype)
    cg, og = c // groups, c_out // groups
    x_mat = x.reshape(n, groups, cg, h * w)                          # (N, G, C/G, H*W)
    w_mat = W.reshape(groups, cg, og * kh * kw)                      # (G, C/G, O/G*kh*kw)
    cols = xp.matmul(w_mat.transpose(0, 2, 1), x_mat)                # (N, G, O/G*kh*kw, H*W)
    cols = cols.reshape(n, c_out, kh, kw, h, w)                      # (N, out, kh, kw, H, W)
    for u in range(kh):
        top = u * dh
        for v in range(kw):
            left = v * dw
            full[:, :, top:top + sh * (h - 1) + 1:sh, left:left + sw * (w - 1) + 1:sw] += cols[:, :, u, v]
    y = full[:, :, ph:ph + oh, pw:pw + ow]
    if b is not None:
        y = y + b.reshape(1, c_out, 1, 1).astype(dtype)
    return xp.ascontiguousarray(y)
