"""Spatial ONNX operators -> ConvLab layers: Conv, ConvTranspose, MaxPool, AveragePool and
the global poolings (2-D only; ONNX ``pads`` are ``[top, left, bottom, right]``)."""

from __future__ import annotations

import math


def _two(imp, node, x):
    if len(x.shape) != 3:
        raise ValueError(f"{imp.label(node)} works on a {len(x.shape) + 1}-axis tensor; ConvLab "
                         "supports 2-D (N x C x H x W) spatial operators only.")
    return x.shape[1:]


def _pads(imp, node, attrs, size, kernel, strides, dilations) -> list[list[int]]:
    """``[[top, bottom], [left, right]]`` from ``pads`` or ``auto_pad`` (SAME_UPPER puts the
    odd extra row at the bottom, SAME_LOWER at the top; VALID none)."""
    auto = attrs.get("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        pads = [int(p) for p in attrs.get("pads", [0, 0, 0, 0])]
        if len(pads) != 4 or min(pads) < 0:
            raise ValueError(f"{imp.label(node)} has pads {pads}; ConvLab needs four values "
                             "of at least 0.")
        return [[pads[0], pads[2]], [pads[1], pads[3]]]
    if auto == "VALID":
        return [[0, 0], [0, 0]]
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise ValueError(f"{imp.label(node)} has auto_pad {auto!r}, which ONNX does not define.")
    out = []
    for n, k, s, d in zip(size, kernel, strides, dilations):
        total = max(0, (math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n)
        small = total // 2
        out.append([small, total - small] if auto == "SAME_UPPER" else [total - small, small])
    return out


def _geometry(imp, node, attrs, kernel):
    strides = [int(v) for v in attrs.get("strides", [1, 1])]
    dilations = [int(v) for v in attrs.get("dilations", [1, 1])]
    if len(strides) != 2 or len(dilations) != 2 or min(strides + dilations) < 1:
        raise ValueError(f"{imp.label(node)} has strides {strides} and dilations {dilations}; "
                         "ConvLab needs two positive values each.")
    return strides, dilations


def _conv(imp, node, attrs):
    x = imp.data(node)
    size = _two(imp, node, x)
    w = imp.const(node, 1, "weights")
    b = imp.const(node, 2, "bias", required=False)
    if w.ndim != 4:
        raise ValueError(f"{imp.label(node)} has {w.ndim}-axis weights; ConvLab supports 2-D "
                         "convolutions only.")
    group = int(attrs.get("group", 1))
    kernel = list(w.shape[2:])
    strides, dilations = _geometry(imp, node, attrs, kernel)
    entry = {"kind": "conv", "out_channels": int(w.shape[0]), "in_channels": int(x.shape[0]),
             "ksize": kernel, "stride": strides,
             "pad": _pads(imp, node, attrs, size, kernel, strides, dilations),
             "dilation": dilations, "groups": group, "nobias": b is None}
    weights = {"W": w} if b is None else {"W": w, "b": b.reshape(-1)}
    imp.emit(node, entry, [x], weights)


def _conv_transpose(imp, node, attrs):
    x = imp.data(node)
    size = _two(imp, node, x)
    w = imp.const(node, 1, "weights")
    b = imp.const(node, 2, "bias", required=False)
    group = int(attrs.get("group", 1))
    kernel = list(w.shape[2:])
    strides, dilations = _geometry(imp, node, attrs, kernel)
    extra = [int(v) for v in attrs.get("output_padding", [0, 0])]
    pads = _transposed_pads(imp, node, attrs, size, kernel, strides, dilations, extra)
    outsize = []
    for n, k, s, d, (begin, end), more in zip(size, kernel, strides, dilations, pads, extra):
        if begin < end or (begin - end) + more >= s:
            raise ValueError(f"{imp.label(node)} pads {begin} before and {end} after with "
                             f"output_padding {more}; ConvLab's transposed convolution crops "
                             "the same at both ends (plus less than a stride at the end).")
        outsize.append(s * (n - 1) + d * (k - 1) + 1 - 2 * begin + (begin - end) + more)
    entry = {"kind": "deconv", "out_channels": int(w.shape[1]) * group,
             "in_channels": int(x.shape[0]), "ksize": kernel, "stride": strides,
             "pad": [pads[0][0], pads[1][0]], "dilation": dilations, "groups": group,
             "nobias": b is None, "outsize": outsize}
    weights = {"W": w} if b is None else {"W": w, "b": b.reshape(-1)}
    imp.emit(node, entry, [x], weights)


def _transposed_pads(imp, node, attrs, size, kernel, strides, dilations, extra):
    """ConvTranspose's ``[[top, bottom], [left, right]]``: from ``output_shape`` or SAME
    auto_pad (ONNX's total padding split), else ``pads``."""
    auto = attrs.get("auto_pad", "NOTSET")
    shape = attrs.get("output_shape")
    if shape is None and auto not in ("SAME_UPPER", "SAME_LOWER"):
        return _pads(imp, node, {"pads": attrs.get("pads", [0, 0, 0, 0])}, size, kernel,
                     strides, dilations)
    target = [int(v) for v in shape[-2:]] if shape is not None else [n * s for n, s in
                                                                        zip(size, strides)]
    out = []
    for n, k, s, d, more, want in zip(size, kernel, strides, dilations, extra, target):
        total = s * (n - 1) + more + (k - 1) * d + 1 - want
        if total < 0:
            raise ValueError(f"{imp.label(node)} asks for output size {want}, more than its "
                             "input can make.")
        half = total // 2
        out.append([half, total - half] if auto == "SAME_UPPER" else [total - half, half])
    return out


def _pool(mode: str):
    def convert(imp, node, attrs):
        x = imp.data(node)
        size = _two(imp, node, x)
        kernel = [int(v) for v in attrs["kernel_shape"]]
        strides, dilations = _geometry(imp, node, attrs, kernel)
        if dilations != [1, 1]:
            raise ValueError(f"{imp.label(node)} has dilations {dilations}; ConvLab pools "
                             "without dilation.")
        if len(node.output) > 1 and node.output[1]:
            raise ValueError(f"{imp.label(node)} also returns the indices of the maxima, which "
                             "ConvLab does not make.")
        pads = _pads(imp, node, attrs, size, kernel, strides, dilations)
        include = bool(attrs.get("count_include_pad", 0))
        entry = {"kind": "pool", "mode": mode, "ksize": kernel, "stride": strides,
                 "cover_all": False}
        if mode == "avg":
            entry["count_include_pad"] = include
        if attrs.get("ceil_mode", 0):
            _ceil_mode(imp, node, entry, size, kernel, strides, pads, mode == "avg" and include)
        entry["pad"] = pads
        imp.emit(node, entry, [x])
    return convert


def _ceil_mode(imp, node, entry, size, kernel, strides, pads, counted_pad: bool) -> None:
    """ONNX's ceil_mode (the last window must start inside the input or its leading padding):
    extra trailing padding that pooling ignores, or Chainer's cover_all where that is the same."""
    extra, same_as_cover_all = [], True
    for axis, (n, k, s) in enumerate(zip(size, kernel, strides)):
        begin, end = pads[axis]
        out = math.ceil((n + begin + end - k) / s) + 1
        if (out - 1) * s >= n + begin:
            out -= 1
        extra.append(max(0, (out - 1) * s + k - (n + begin + end)))
        same_as_cover_all &= out == (n + begin + end - k + s - 1) // s + 1
    if counted_pad:
        if not same_as_cover_all:
            raise ValueError(f"{imp.label(node)} combines ceil_mode with count_include_pad at "
                             "a size where its last window would start in the padding.")
        entry["cover_all"] = True
        return
    for axis in range(2):
        pads[axis][1] += extra[axis]


def _global_pool(mode: str):
    def convert(imp, node, attrs):
        x = imp.data(node)
        size = _two(imp, node, x)
        imp.emit(node, {"kind": "pool", "mode": mode, "ksize": list(size), "stride": 1,
                        "pad": 0, "cover_all": False}, [x])
    return convert


CONVERT_SPATIAL = {
    "Conv": _conv, "ConvTranspose": _conv_transpose,
    "MaxPool": _pool("max"), "AveragePool": _pool("avg"),
    "GlobalAveragePool": _global_pool("avg"), "GlobalMaxPool": _global_pool("max"),
}
