"""A ConvLab network run again by PyTorch's functional ops, for autograd references.

``TorchRun(net, x, mode, masks)`` maps every layer kind to ``torch.nn.functional`` (Chainer's
semantics emulated where they differ: ``cover_all`` by ``-inf`` padding on the bottom and right,
LRN's alpha multiplied by n, asymmetric padding by ``F.pad``), with the network's parameters as
leaf tensors; dropout multiplies by the masks ConvLab drew, so both use the same ones. BN in
"train" mode updates cloned running buffers with ``momentum=0.1`` (PyTorch's unbiased
``running_var``), to compare with ConvLab's running averages. Tests import it only after
``pytest.importorskip("torch")``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from convlab.engine.arithmetic import conv_out_size


def _f32(v):
    """A constant as ConvLab's forward uses it: rounded to float32 (None stays None)."""
    return None if v is None else float(np.float32(v))


def _align(xs):
    rank = max(x.dim() for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.dim()) + x.shape[1:]) for x in xs]


def _pool(layer, x):
    (kh, kw), (sh, sw), ((t, b), (l, r)) = layer.ksize, layer.stride, layer.pads
    h, w = x.shape[2:]
    oh = conv_out_size(h, kh, sh, (t, b), 1, layer.cover_all)
    ow = conv_out_size(w, kw, sw, (l, r), 1, layer.cover_all)
    eh, ew = max(0, (oh - 1) * sh + kh - (h + t + b)), max(0, (ow - 1) * sw + kw - (w + l + r))
    if layer.mode == "max":
        padded = F.pad(x, (l, r + ew, t, b + eh), value=-float("inf"))
        return F.max_pool2d(padded, (kh, kw), (sh, sw))
    padded = F.pad(x, (l, r + ew, t, b + eh))
    mask = torch.zeros((1, 1) + padded.shape[2:], dtype=x.dtype)
    if layer.count_include_pad:
        mask[:, :, :h + t + b, :w + l + r] = 1
    else:
        mask[:, :, t:t + h, l:l + w] = 1
    count = (F.avg_pool2d(mask, (kh, kw), (sh, sw)) * (kh * kw)).clamp(min=1)
    return F.avg_pool2d(padded, (kh, kw), (sh, sw)) * (kh * kw) / count


def _conv(layer, x, p):
    (t, b), (l, r) = layer.pads
    if layer.kind == "deconv":
        y = F.conv_transpose2d(x, p["W"], p.get("b"), layer.stride, (t, l), 0, layer.groups,
                               layer.dilation)
        if layer.outsize is not None:                   # outsize: the extra rows and columns
            extra = [o - s for o, s in zip(layer.outsize, y.shape[2:])]
            y = F.conv_transpose2d(x, p["W"], p.get("b"), layer.stride, (t, l), tuple(extra),
                                   layer.groups, layer.dilation)
        return y
    return F.conv2d(F.pad(x, (l, r, t, b)), p["W"], p.get("b"), layer.stride, 0, layer.dilation,
                    layer.groups)


class TorchRun:
    """Runs ``net`` on ``x`` in PyTorch; ``outputs`` (retaining grads), ``params`` (leaves by
    Chainer key), ``running`` (BN buffers after a "train" step), ``input`` (a leaf)."""

    def __init__(self, net, x, mode="test", masks=None):
        self.mode, self.masks = mode, masks or {}
        self.input = torch.tensor(np.asarray(x), requires_grad=True)
        self.params, self.running, self.outputs = {}, {}, {}
        values = {"input": self.input}
        for layer in net.layers:
            p = {}
            for key, arr in layer.params.items():
                t = torch.tensor(np.array(arr))
                if key in layer.trained():
                    t.requires_grad_(True)
                    self.params[f"{layer.name}/{key}"] = t
                p[key] = t
            y = self._layer(layer, [values[n] for n in layer.inputs], p)
            y.retain_grad()
            values[layer.name] = self.outputs[layer.name] = y

    def _layer(self, layer, xs, p):
        x, kind = xs[0], layer.kind
        if kind in ("conv", "deconv"):
            return _conv(layer, x, p)
        if kind == "bn":
            return self._bn(layer, x, p)
        if kind == "pool":
            return _pool(layer, x)
        if kind == "dropout":
            mask = self.masks.get(layer.name)
            return x.clone() if mask is None else x * torch.tensor(np.asarray(mask))
        return _SIMPLE[kind](layer, xs, p)

    def _bn(self, layer, x, p):
        if self.mode == "test":
            return F.batch_norm(x, p["avg_mean"], p["avg_var"], p["gamma"], p["beta"], False,
                                eps=layer.eps)
        if self.mode == "batch":
            return F.batch_norm(x, None, None, p["gamma"], p["beta"], True, eps=layer.eps)
        mean, var = p["avg_mean"].clone(), p["avg_var"].clone()
        y = F.batch_norm(x, mean, var, p["gamma"], p["beta"], True, momentum=0.1, eps=layer.eps)
        self.running[layer.name] = (mean, var)
        return y


def _softmax(layer, xs, p):
    x = xs[0]
    if not layer.flat:
        return torch.softmax(x, dim=layer.axis)
    return torch.softmax(x.reshape(x.shape[:layer.axis] + (-1,)), dim=-1).reshape(x.shape)


def _combine(op):
    def run(layer, xs, p):
        out = _align(xs)
        acc = out[0]
        for v in out[1:] + ([p["value"]] if "value" in p else []):
            acc = op(acc, v)
        return acc
    return run


def _matmul(layer, xs, p):
    if layer.shape is None:
        return torch.matmul(xs[0], xs[1])
    return torch.matmul(p["value"], xs[0]) if layer.constant_first else torch.matmul(xs[0], p["value"])


def _shuffle(layer, xs, p):
    n, c, h, w = xs[0].shape
    return xs[0].reshape(n, layer.groups, c // layer.groups, h, w).transpose(1, 2).reshape(n, c, h, w)


def _add(layer, xs, p):
    out = xs[0]
    for v in xs[1:]:
        out = out + v
    return out


_SIMPLE = {
    "relu": lambda layer, xs, p: F.relu(xs[0]),
    "lrn": lambda layer, xs, p: F.local_response_norm(xs[0], layer.n, layer.alpha * layer.n,
                                                      layer.beta, layer.k),
    "fc": lambda layer, xs, p: F.linear(xs[0].flatten(1), p["W"], p.get("b")),
    "flatten": lambda layer, xs, p: xs[0].flatten(layer.axis),
    "add": _add,
    "concat": lambda layer, xs, p: torch.cat(xs, dim=layer.axis),
    "leaky_relu": lambda layer, xs, p: F.leaky_relu(xs[0], _f32(layer.alpha)),
    "clip": lambda layer, xs, p: torch.clamp(xs[0], _f32(layer.min), _f32(layer.max)),
    "sigmoid": lambda layer, xs, p: torch.sigmoid(xs[0]),
    "softmax": _softmax,
    "mul": _combine(lambda a, b: a * b),
    "add_const": _combine(lambda a, b: a + b),
    "reshape": lambda layer, xs, p: xs[0].reshape((xs[0].shape[0], *layer.shape)),
    "transpose": lambda layer, xs, p: xs[0].permute(*layer.perm),
    "matmul": _matmul,
    "channel_shuffle": _shuffle,
    "identity": lambda layer, xs, p: xs[0].clone(),   # its own tensor, so its own .grad
}
