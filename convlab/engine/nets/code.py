"""A whole network as code to copy: a Chainer ``Chain`` and a PyTorch ``nn.Module`` (plain text).

Generated from a :class:`~convlab.engine.nets.Network` (a shapes-only one is enough: inferred
channel counts are resolved there). Links are attributes named after the layers (made into
identifiers), so a PyTorch ``state_dict`` maps to ConvLab's weights by name:
``conv1.weight = conv1/W``, ``conv1.bias = conv1/b``, ``bn1.weight = gamma``, ``bn1.bias = beta``,
``bn1.running_mean = avg_mean``, ``bn1.running_var = avg_var`` (:func:`torch_state_dict` does it).

Where the frameworks differ, the code says so:

- Asymmetric padding (``pad=[[top, bottom], [left, right]]``): neither ``L.Convolution2D`` nor
  ``nn.Conv2d`` takes it; the code pads first (``F.pad``), then convolves with ``pad=0``.
- LRN: PyTorch's ``LocalResponseNorm`` divides ``alpha`` by ``size``, so it gets ``alpha * n``.
- ``cover_all=True`` max pooling is PyTorch's ``ceil_mode=True`` (equal unless the last window
  would start in the padding).
"""

from __future__ import annotations

import keyword
import re

import numpy as np

from convlab.engine.arithmetic import deconv_out_size
from convlab.engine.backend import to_numpy


def identifiers(names) -> dict[str, str]:
    """Layer name -> a unique Python identifier (``conv1`` stays ``conv1``; ``1/a`` -> ``l_1_a``)."""
    out, used = {}, set()
    for name in names:
        ident = re.sub(r"\W", "_", name) or "layer"
        if ident[0].isdigit() or keyword.iskeyword(ident):
            ident = "l_" + ident
        base, n = ident, 1
        while ident in used or ident in ("self", "x", "h", "torch", "nn", "F", "L", "chainer"):
            n += 1
            ident = f"{base}_{n}"
        used.add(ident)
        out[name] = ident
    return out


def _pair(v) -> str:
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    return str(v[0]) if v[0] == v[1] else f"({v[0]}, {v[1]})"


def _symmetric(pads) -> bool:
    (t, b), (l, r) = pads
    return t == b and l == r


def _sym_pad(pads) -> str:
    return _pair((pads[0][0], pads[1][0])) if _symmetric(pads) else "0"


def _kwargs(pairs) -> str:
    return "".join(f", {k}={v}" for k, v, default in pairs if v != default)


def _chain_like(net) -> bool:
    previous = "input"
    for layer in net.layers:
        if list(layer.inputs) != [previous]:
            return False
        previous = layer.name
    return True


class _Writer:
    """Shared walk over the layers: variable names and the forward lines' inputs."""

    def __init__(self, net):
        self.net, self.ids = net, identifiers(net.layer_names)
        self.chain = _chain_like(net)
        self.shapes = net.shapes()

    def var(self, name: str) -> str:
        if name == "input":
            return "x"
        return "h" if self.chain else f"h_{self.ids[name]}"

    def out(self, layer) -> str:
        return self.var(layer.name)

    def ins(self, layer) -> list[str]:
        return [self.var(n) for n in layer.inputs]


# ----------------------------------------------------------------------------------- PyTorch
def _torch_link(layer, w: _Writer) -> str | None:
    k = layer.kind
    if k in ("conv", "deconv"):
        pad = _sym_pad(layer.pads)
        common = _kwargs((("stride", _pair(layer.stride), "1"), ("padding", pad, "0"),
                          ("dilation", _pair(layer.dilation), "1"), ("groups", layer.groups, 1),
                          ("bias", not layer.nobias, True)))
        if k == "conv":
            return f"nn.Conv2d({layer.c_in}, {layer.c_out}, kernel_size={_pair(layer.ksize)}{common})"
        extra = _output_padding(layer, w)
        common += _kwargs((("output_padding", extra, "0"),))
        return (f"nn.ConvTranspose2d({layer.c_in}, {layer.c_out}, "
                f"kernel_size={_pair(layer.ksize)}{common})")
    if k == "bn":
        shape = w.shapes.get(layer.inputs[0])
        dims = "1d" if shape is not None and len(shape) == 1 else "2d"
        return f"nn.BatchNorm{dims}({layer.size}, eps={layer.eps:g})"
    if k == "lrn":
        return (f"nn.LocalResponseNorm({layer.n}, alpha={layer.alpha * layer.n:g}, "
                f"beta={layer.beta:g}, k={layer.k:g})  # PyTorch divides alpha by size")
    if k == "fc":
        return f"nn.Linear({layer.n_in}, {layer.n_out}{_kwargs((('bias', not layer.nobias, True),))})"
    return None


def _output_padding(layer, w: _Writer) -> str:
    """``outsize`` as PyTorch's ``output_padding``: the extra rows beyond the smallest output."""
    if layer.outsize is None or w.shapes.get(layer.inputs[0]) is None:
        return "0"
    _, h, wd = w.shapes[layer.inputs[0]]
    extra = [o - deconv_out_size(n, k, s, p[0], d) for o, n, k, s, p, d in zip(
        layer.outsize, (h, wd), layer.ksize, layer.stride, layer.pads, layer.dilation)]
    return _pair(extra)


def _torch_pool(layer, src: str) -> str:
    k, s = _pair(layer.ksize), _pair(layer.stride)
    pad = _sym_pad(layer.pads)
    if layer.mode == "max":
        return f"F.max_pool2d({src}, {k}, stride={s}{_kwargs((('padding', pad, '0'),))}" \
               f"{_kwargs((('ceil_mode', layer.cover_all, False),))})"
    return (f"F.avg_pool2d({src}, {k}, stride={s}{_kwargs((('padding', pad, '0'),))}"
            f"{_kwargs((('ceil_mode', layer.cover_all, False),))}"
            f"{_kwargs((('count_include_pad', layer.count_include_pad, True),))})")


def _torch_pad(layer, src: str) -> str | None:
    """``F.pad`` before a layer with asymmetric padding (-inf for max pooling)."""
    pads = getattr(layer, "pads", None)
    if pads is None or _symmetric(pads) or layer.kind == "deconv":
        return None
    (t, b), (l, r) = pads
    fill = ', value=float("-inf")' if getattr(layer, "mode", None) == "max" else ""
    return f"F.pad({src}, ({l}, {r}, {t}, {b}){fill})  # asymmetric padding: left, right, top, bottom"


def _torch_step(layer, w: _Writer) -> list[str]:
    ins, out, me = w.ins(layer), w.out(layer), f"self.{w.ids[layer.name]}"
    src, lines = ins[0], []
    pad = _torch_pad(layer, src)
    if pad is not None:
        lines.append(f"{out} = {pad}")
        src = out
    k = layer.kind
    if k in ("conv", "deconv", "bn", "lrn"):
        expr = f"{me}({src})"
    elif k == "fc":
        expr = f"{me}(torch.flatten({src}, 1))"
    elif k == "relu":
        expr = f"F.relu({src})"
    elif k == "pool":
        expr = _torch_pool(layer, src)
    elif k in ("dropout", "identity"):
        expr = f"F.dropout({src}, {layer.ratio:g}, self.training)" if k == "dropout" else src
    elif k == "add":
        expr = " + ".join(ins)
    elif k == "concat":
        expr = f"torch.cat([{', '.join(ins)}], dim={layer.axis})"
    elif k == "flatten":
        expr = f"torch.flatten({src}, {layer.axis})"
    elif k == "sigmoid":
        expr = f"torch.sigmoid({src})"
    else:
        return [f"raise NotImplementedError({layer.kind!r})  # {layer.name}: no PyTorch code yet"]
    return lines + [f"{out} = {expr}"]


def pytorch_module(net, class_name: str = "Net") -> str:
    """``net`` as a PyTorch ``nn.Module`` (links in ``__init__``, the graph in ``forward``)."""
    w = _Writer(net)
    init = [f"        self.{w.ids[l.name]} = {link}" for l in net.layers
            if (link := _torch_link(l, w)) is not None]
    body = [f"        {line}" for l in net.layers for line in _torch_step(l, w)]
    last = w.out(net.layers[-1]) if net.layers else "x"
    c, h, wd = net.input_shape
    return "\n".join([
        "import torch", "import torch.nn as nn", "import torch.nn.functional as F", "", "",
        f"class {class_name}(nn.Module):",
        f'    """{net.name}: input (N, {c}, {h}, {wd}); put it in eval() to match ConvLab\'s '
        'stored-average BN and identity dropout."""', "",
        "    def __init__(self):", "        super().__init__()", *(init or ["        pass"]), "",
        "    def forward(self, x):", *body, f"        return {last}", ""])


def torch_state_dict(net) -> dict[str, np.ndarray]:
    """ConvLab's weights under the PyTorch module's ``state_dict`` keys (NumPy arrays)."""
    ids, out = identifiers(net.layer_names), {}
    names = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias",
             "avg_mean": "running_mean", "avg_var": "running_var"}
    for layer in net.layers:
        for key, value in layer.params.items():
            if key in names:
                out[f"{ids[layer.name]}.{names[key]}"] = np.asarray(to_numpy(value), dtype=np.float32)
    return out


# ----------------------------------------------------------------------------------- Chainer
def _chainer_link(layer) -> str | None:
    k = layer.kind
    if k in ("conv", "deconv"):
        pad = _sym_pad(layer.pads)
        args = _kwargs((("stride", _pair(layer.stride), "1"), ("pad", pad, "0"),
                        ("dilate", _pair(layer.dilation), "1"), ("groups", layer.groups, 1),
                        ("nobias", layer.nobias, False)))
        if k == "deconv":
            outsize = None if layer.outsize is None else _pair(layer.outsize)
            args += _kwargs((("outsize", outsize, None),))
            return f"L.Deconvolution2D({layer.c_in}, {layer.c_out}, {_pair(layer.ksize)}{args})"
        return f"L.Convolution2D({layer.c_in}, {layer.c_out}, {_pair(layer.ksize)}{args})"
    if k == "bn":
        return f"L.BatchNormalization({layer.size}{_kwargs((('eps', f'{layer.eps:g}', '2e-05'),))})"
    if k == "fc":
        return f"L.Linear({layer.n_in}, {layer.n_out}{_kwargs((('nobias', layer.nobias, False),))})"
    return None


def _chainer_pool(layer, src: str) -> str:
    k, s, pad = _pair(layer.ksize), _pair(layer.stride), _sym_pad(layer.pads)
    if layer.mode == "max":
        return (f"F.max_pooling_2d({src}, {k}, stride={s}{_kwargs((('pad', pad, '0'),))}"
                f"{_kwargs((('cover_all', layer.cover_all, True),))})")
    note = ""
    if layer.cover_all or not layer.count_include_pad:
        note = "  # Chainer's average pooling has no cover_all / count_include_pad=False"
    return f"F.average_pooling_2d({src}, {k}, stride={s}{_kwargs((('pad', pad, '0'),))}){note}"


def _chainer_step(layer, w: _Writer) -> list[str]:
    ins, out, me = w.ins(layer), w.out(layer), f"self.{w.ids[layer.name]}"
    src, lines, k = ins[0], [], layer.kind
    pads = getattr(layer, "pads", None)
    if pads is not None and not _symmetric(pads) and k != "deconv":
        (t, b), (l, r) = pads
        fill = ", constant_values=-np.inf" if getattr(layer, "mode", None) == "max" else ""
        lines.append(f"{out} = F.pad({src}, ((0, 0), (0, 0), ({t}, {b}), ({l}, {r})), "
                     f"'constant'{fill})  # Chainer has no asymmetric pad: pad first")
        src = out
    if k in ("conv", "deconv", "bn", "fc"):
        expr = f"{me}({src})"
    elif k == "relu":
        expr = f"F.relu({src})"
    elif k == "lrn":
        expr = (f"F.local_response_normalization({src}, n={layer.n}, k={layer.k:g}, "
                f"alpha={layer.alpha:g}, beta={layer.beta:g})")
    elif k == "pool":
        expr = _chainer_pool(layer, src)
    elif k == "dropout":
        expr = f"F.dropout({src}, ratio={layer.ratio:g})"
    elif k == "add":
        expr = " + ".join(ins)
    elif k == "concat":
        expr = f"F.concat(({', '.join(ins)}), axis={layer.axis})"
    elif k == "flatten":
        expr = f"F.reshape({src}, {src}.shape[:{layer.axis}] + (-1,))"
    elif k in ("identity", "sigmoid"):
        expr = src if k == "identity" else f"F.sigmoid({src})"
    else:
        return [f"raise NotImplementedError({layer.kind!r})  # {layer.name}: no Chainer code yet"]
    return lines + [f"{out} = {expr}"]


def chainer_chain(net, class_name: str = "Net") -> str:
    """``net`` as a Chainer ``Chain`` (links in ``init_scope``, the graph in ``forward``)."""
    w = _Writer(net)
    links = [f"            self.{w.ids[l.name]} = {link}" for l in net.layers
             if (link := _chainer_link(l)) is not None]
    body = [f"        {line}" for l in net.layers for line in _chainer_step(l, w)]
    last = w.out(net.layers[-1]) if net.layers else "x"
    c, h, wd = net.input_shape
    return "\n".join([
        "import numpy as np", "import chainer", "import chainer.functions as F",
        "import chainer.links as L", "", "",
        f"class {class_name}(chainer.Chain):",
        f'    """{net.name}: input (N, {c}, {h}, {wd})."""', "",
        "    def __init__(self):", "        super().__init__()", "        with self.init_scope():",
        *(links or ["            pass"]), "",
        "    def forward(self, x):", *body, f"        return {last}", ""])
