"""The explorer's settings as code to copy: Chainer links and functions, PyTorch modules.

Plain text from :class:`~convlab.engine.explorer.ExplorerSettings`; the window's code tabs and
every export record show the same text. Asymmetric "same" padding (an even kernel: the extra
row and column bottom/right, as PyTorch's ``padding="same"``) has no Chainer argument, so the
Chainer code pads first with ``F.pad``; PyTorch takes ``padding="same"`` at stride 1 and an
``nn.ZeroPad2d`` otherwise. Average pooling is ``F.average_pooling_2d`` / ``nn.AvgPool2d``
(no cover_all / ceil_mode: Chainer's has none).
"""

from __future__ import annotations

from convlab.engine.explorer.settings import ExplorerSettings


def _options(pairs) -> list[str]:
    """``["stride=4", ...]`` for the ``(name, value, default)`` triples that differ from default."""
    return [f"{k}={v}" for k, v, default in pairs if v != default]


def _asymmetric(s: ExplorerSettings) -> bool:
    (top, bottom), (left, right) = s.conv_pad()
    return (top, left) != (bottom, right)


def chainer_code(s: ExplorerSettings) -> str:
    """The current settings as Chainer code, ready to copy."""
    (top, bottom), (left, right) = s.conv_pad()
    link = "Deconvolution2D" if s.transposed else "Convolution2D"
    pad = 0 if _asymmetric(s) else top
    args = [f"{s.in_channels}", f"{s.filters}", f"{s.kernel}"]
    args += _options((("stride", s.stride, 1), ("pad", pad, 0), ("dilate", s.dilation, 1),
                      ("groups", s.groups, 1)))
    lines = [f"conv = L.{link}({', '.join(args)})"]
    if s.batch_norm:
        lines.append(f"bn = L.BatchNormalization({s.filters})")
    if _asymmetric(s):
        body = ("# Chainer has no asymmetric padding: pad first (the extra row and column\n"
                "# bottom/right, as PyTorch's padding=\"same\"), then convolve with pad=0.\n"
                f"h = F.pad(x, ((0, 0), (0, 0), ({top}, {bottom}), ({left}, {right})), "
                "mode=\"constant\")\nh = conv(h)")
    else:
        body = "h = conv(x)"
    body += "\nh = bn(h)" if s.batch_norm else ""
    body += "\nh = F.relu(h)" if s.relu else ""
    if s.pool > 1 and s.pool_mode == "avg":  # no cover_all: the floor size
        body += f"\nh = F.average_pooling_2d(h, {s.pool}, stride={s.pool_stride})"
    elif s.pool > 1:
        extra = "" if s.cover_all else ", cover_all=False"
        body += f"\nh = F.max_pooling_2d(h, {s.pool}, stride={s.pool_stride}{extra})"
    return "\n".join(lines) + "\n\n" + body


def _torch_conv(s: ExplorerSettings) -> list[str]:
    """The convolution as PyTorch modules (a ZeroPad2d first for asymmetric padding at stride > 1)."""
    (top, bottom), (left, right) = s.conv_pad()
    args = [f"{s.in_channels}", f"{s.filters}", f"kernel_size={s.kernel}"]
    if s.transposed:
        args += _options((("stride", s.stride, 1), ("padding", s.padding, 0),
                          ("dilation", s.dilation, 1), ("groups", s.groups, 1)))
        return [f"nn.ConvTranspose2d({', '.join(args)})"]
    same_at_stride_1 = s.same and s.stride == 1
    padding = '"same"' if same_at_stride_1 else (0 if _asymmetric(s) else top)
    args += _options((("stride", s.stride, 1), ("padding", padding, 0),
                      ("dilation", s.dilation, 1), ("groups", s.groups, 1)))
    conv = f"nn.Conv2d({', '.join(args)})"
    if _asymmetric(s) and not same_at_stride_1:
        return ["# asymmetric padding (left, right, top, bottom): the extra one bottom/right",
                f"nn.ZeroPad2d(({left}, {right}, {top}, {bottom}))", conv]
    return [conv]


def pytorch_code(s: ExplorerSettings) -> str:
    """The current settings as a PyTorch ``nn.Sequential``, ready to copy."""
    layers = _torch_conv(s)
    if s.batch_norm:
        layers.append(f"nn.BatchNorm2d({s.filters}, eps=2e-5)")
    if s.relu:
        layers.append("nn.ReLU()")
    if s.pool > 1 and s.pool_mode == "avg":  # count_include_pad=True (its default), as Chainer
        layers.append(f"nn.AvgPool2d({s.pool}, stride={s.pool_stride})")
    elif s.pool > 1:
        ceil = ", ceil_mode=True" if s.cover_all else ""
        layers.append(f"nn.MaxPool2d({s.pool}, stride={s.pool_stride}{ceil})")
    lines = "".join(f"    {x}\n" if x.startswith("#") else f"    {x},\n" for x in layers)
    return "layer = nn.Sequential(\n" + lines + ")"
