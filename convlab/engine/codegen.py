"""The explorer's settings as code to copy: Chainer links and functions, PyTorch modules.

Plain text from :class:`~convlab.engine.explorer.ExplorerSettings`; the window's code tabs and
every export record show the same text.
"""

from __future__ import annotations

from convlab.engine.explorer import ExplorerSettings


def chainer_code(s: ExplorerSettings) -> str:
    """The current settings as Chainer code, ready to copy."""
    c_in = 1 if s.grayscale else 3
    args = [f"{c_in}", f"{s.filters}", f"{s.kernel}"]
    args += [f"{k}={v}" for k, v, default in (("stride", s.stride, 1), ("pad", s.padding, 0),
                                               ("dilate", s.dilation, 1)) if v != default]
    lines = [f"conv = L.Convolution2D({', '.join(args)})"]
    if s.batch_norm:
        lines.append(f"bn = L.BatchNormalization({s.filters})")
    body = "h = conv(x)"
    body += "\nh = bn(h)" if s.batch_norm else ""
    body += "\nh = F.relu(h)" if s.relu else ""
    if s.pool > 1:
        extra = "" if s.cover_all else ", cover_all=False"
        body += f"\nh = F.max_pooling_2d(h, {s.pool}, stride={s.pool_stride}{extra})"
    return "\n".join(lines) + "\n\n" + body


def pytorch_code(s: ExplorerSettings) -> str:
    """The current settings as a PyTorch ``nn.Sequential``, ready to copy."""
    c_in = 1 if s.grayscale else 3
    args = [f"{c_in}", f"{s.filters}", f"kernel_size={s.kernel}"]
    args += [f"{k}={v}" for k, v, default in (("stride", s.stride, 1), ("padding", s.padding, 0),
                                               ("dilation", s.dilation, 1)) if v != default]
    layers = [f"nn.Conv2d({', '.join(args)})"]
    if s.batch_norm:
        layers.append(f"nn.BatchNorm2d({s.filters}, eps=2e-5)")
    if s.relu:
        layers.append("nn.ReLU()")
    if s.pool > 1:
        ceil = ", ceil_mode=True" if s.cover_all else ""
        layers.append(f"nn.MaxPool2d({s.pool}, stride={s.pool_stride}{ceil})")
    return "layer = nn.Sequential(\n" + "".join(f"    {x},\n" for x in layers) + ")"
