"""More layer kinds for imported graphs (ONNX operators), registered with ``register_kind``.

Shapes here leave out the batch axis N, as everywhere in the engine; axes in arguments count
N as 0 (as ``concat``'s). Arrays carry N first. Kinds: ``leaky_relu``, ``clip``, ``sigmoid``,
``softmax``, ``mul`` and ``add_const`` (data inputs times / plus an optional stored constant),
``reshape``, ``transpose``, ``matmul``, ``channel_shuffle``, ``identity``. No file format is
read here.
"""

from __future__ import annotations

import numpy as np

from convlab.engine.backend import array_module
from convlab.engine.layers import base
from convlab.engine.layers.base import REQUIRED, Layer, placeholder, register_kind


def _int_list(value, name):
    """A list of integers (``-1`` allowed nowhere: shapes here are resolved)."""
    if not isinstance(value, (list, tuple)) or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in value):
        raise ValueError(f"{name} must be a list of integers, got {value!r}")
    if any(v < 0 for v in value):
        raise ValueError(f"{name} must hold no negative sizes, got {list(value)!r}")
    return [int(v) for v in value]


base.CHECKS.setdefault("ints", _int_list)


def _fmt(shape) -> str:
    return "x".join(map(str, shape)) or "scalar"


def _align(xs):
    """Give every array the same number of axes after N (1s inserted after N), as ONNX would
    broadcast per sample: ``(N, W)`` against ``(N, C, H, W)`` becomes ``(N, 1, 1, W)``."""
    rank = max(x.ndim for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]


class LeakyReLU(Layer):
    """``y = x`` where ``x >= 0``, else ``alpha x`` (ONNX LeakyRelu; default alpha 0.01)."""

    kind = "leaky_relu"
    spec_args = {"alpha": ("float", 0.01)}

    def __init__(self, name, alpha=0.01, *, inputs=None):
        super().__init__(name, inputs=inputs)
        self.alpha = alpha

    def describe(self):
        return f"alpha {self.alpha:g}"

    def __call__(self, x, *, use_batch_stats=False):
        return array_module(x).where(x >= 0, x, x * np.float32(self.alpha))


class Clip(Layer):
    """``y = min(max(x, min), max)``; a bound left None does not clip (ONNX Clip, ReLU6)."""

    kind = "clip"
    spec_args = {"min": ("float?", None), "max": ("float?", None)}

    def __init__(self, name, min=None, max=None, *, inputs=None):  # noqa: A002 (ONNX's names)
        super().__init__(name, inputs=inputs)
        self.min, self.max = min, max

    def describe(self):
        return f"[{'-inf' if self.min is None else f'{self.min:g}'}, " \
               f"{'inf' if self.max is None else f'{self.max:g}'}]"

    def __call__(self, x, *, use_batch_stats=False):
        xp = array_module(x)
        if self.min is not None:
            x = xp.maximum(x, np.float32(self.min))
        if self.max is not None:
            x = xp.minimum(x, np.float32(self.max))
        return x


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``, computed as ``(1 + tanh(x / 2)) / 2`` (no overflow)."""

    kind = "sigmoid"

    def __call__(self, x, *, use_batch_stats=False):
        xp = array_module(x)
        return (xp.tanh(x * np.float32(0.5)) + np.float32(1)) * np.float32(0.5)


class Softmax(Layer):
    """``exp(x - max) / sum exp(x - max)`` along ``axis`` (N is axis 0; default 1). With
    ``flat`` (ONNX before opset 13) every axis from ``axis`` on is one joint distribution."""

    kind = "softmax"
    spec_args = {"axis": ("int", 1), "flat": ("bool", False)}

    def __init__(self, name, axis=1, flat=False, *, inputs=None):
        super().__init__(name, inputs=inputs)
        self.axis, self.flat = axis, flat

    def output_shape(self, shape):
        if self.axis > len(shape):
            raise ValueError(f"{self.name} takes the softmax along axis {self.axis}, but its "
                             f"input {_fmt(shape)} has no such axis.")
        return shape

    def describe(self):
        return f"axis {self.axis}" + (" on" if self.flat else "")

    def __call__(self, x, *, use_batch_stats=False):
        xp = array_module(x)
        h = x.reshape(x.shape[:self.axis] + (-1,)) if self.flat else x  # (N, ..., rest)
        axis = -1 if self.flat else self.axis
        h = xp.exp(h - h.max(axis=axis, keepdims=True))
        h /= h.sum(axis=axis, keepdims=True)
        return h.reshape(x.shape)


class _WithConstant(Layer):
    """Data inputs combined with an optional stored constant ``value`` of shape ``shape``
    (broadcast per sample, without N)."""

    spec_args = {"shape": ("ints?", None)}
    min_inputs, max_inputs = 1, None
    symbol = "?"

    def __init__(self, name, shape=None, *, xp=np, inputs=None):
        super().__init__(name, inputs=inputs)
        self.shape = None if shape is None else list(shape)
        if shape is not None:
            self.params = {"value": placeholder(tuple(shape))}

    @classmethod
    def from_args(cls, name, args, *, in_shapes, seed, xp, init):
        return cls(name, args["shape"], xp=xp)

    def output_shape(self, *shapes):
        every = list(shapes) + ([tuple(self.shape)] if self.shape is not None else [])
        rank = max(len(s) for s in shapes)
        if len(every[-1]) > rank:
            raise ValueError(f"{self.name}: the constant {_fmt(self.shape)} has more axes than "
                             f"its input {_fmt(shapes[0])}.")
        padded = [(1,) * (rank - len(s)) + tuple(s) if i < len(shapes) else tuple(s)
                  for i, s in enumerate(every)]
        try:
            return tuple(int(v) for v in np.broadcast_shapes(*padded))
        except ValueError:
            raise ValueError(f"{self.name} cannot combine shapes "
                             f"{', '.join(_fmt(s) for s in every)}.") from None

    def describe(self):
        return "" if self.shape is None else f"{self.symbol} {_fmt(self.shape)}"

    def _combine(self, xs, op):
        xs = _align(list(xs))
        out = xs[0]
        for x in xs[1:]:
            out = op(out, x)
        if self.shape is not None:
            out = op(out, self.params["value"])
        return out


class Mul(_WithConstant):
    """The element-wise product of the inputs and of ``value`` (ONNX Mul, e.g. a BN scale)."""

    kind = "mul"
    symbol = "x"

    def __call__(self, *xs, use_batch_stats=False):
        return self._combine(xs, lambda a, b: a * b)


class AddConst(_WithConstant):
    """The element-wise sum of the inputs and of ``value`` (ONNX Add with a constant bias)."""

    kind = "add_const"
    symbol = "+"

    def __call__(self, *xs, use_batch_stats=False):
        return self._combine(xs, lambda a, b: a + b)


class Reshape(Layer):
    """``x.reshape(N, *shape)``: the sizes after N, fully resolved (no -1)."""

    kind = "reshape"
    spec_args = {"shape": ("ints", REQUIRED)}

    def __init__(self, name, shape, *, inputs=None):
        super().__init__(name, inputs=inputs)
        self.shape = list(shape)

    def output_shape(self, shape):
        if int(np.prod(shape)) != int(np.prod(self.shape)):
            raise ValueError(f"{self.name} cannot reshape {_fmt(shape)} to {_fmt(self.shape)}: "
                             "the sizes differ.")
        return tuple(self.shape)

    def describe(self):
        return f"to {_fmt(self.shape)}"

    def __call__(self, x, *, use_batch_stats=False):
        return x.reshape((x.shape[0], *self.shape))                 # (N, *shape)


class Transpose(Layer):
    """``x.transpose(perm)``; ``perm`` counts N as axis 0 and must keep it first."""

    kind = "transpose"
    spec_args = {"perm": ("ints", REQUIRED)}

    def __init__(self, name, perm, *, inputs=None):
        super().__init__(name, inputs=inputs)
        perm = list(perm)
        if sorted(perm) != list(range(len(perm))) or not perm or perm[0] != 0:
            raise ValueError(f"perm must reorder the axes 0..{len(perm) - 1} and keep axis 0 "
                             f"(the batch) first, got {perm}")
        self.perm = perm

    def output_shape(self, shape):
        if len(shape) != len(self.perm) - 1:
            raise ValueError(f"{self.name} reorders {len(self.perm)} axes but its input "
                             f"{_fmt(shape)} has {len(shape) + 1} with N.")
        return tuple(shape[p - 1] for p in self.perm[1:])

    def describe(self):
        return f"perm {self.perm}"

    def __call__(self, x, *, use_batch_stats=False):
        return x.transpose(self.perm)


class MatMul(Layer):
    """``np.matmul``: two data inputs, or one and a stored constant ``value`` of ``shape``
    (on the right, or on the left with ``constant_first``). The batch axis is never summed."""

    kind = "matmul"
    spec_args = {"shape": ("ints?", None), "constant_first": ("bool", False)}
    min_inputs, max_inputs = 1, 2

    def __init__(self, name, shape=None, constant_first=False, *, inputs=None):
        super().__init__(name, inputs=inputs)
        self.shape, self.constant_first = (None if shape is None else list(shape)), constant_first
        if shape is not None:
            self.params = {"value": placeholder(tuple(shape))}

    @classmethod
    def from_args(cls, name, args, *, in_shapes, seed, xp, init):
        return cls(name, args["shape"], args["constant_first"])

    def _operands(self, shapes):
        """Full shapes (N = 1) of the left and right operands."""
        full = [(1, *s) for s in shapes]
        if self.shape is None:
            return full[0], full[1]
        return (tuple(self.shape), full[0]) if self.constant_first else (full[0], tuple(self.shape))

    def output_shape(self, *shapes):
        if len(shapes) + (self.shape is not None) != 2:
            raise ValueError(f"{self.name} multiplies two operands; it has "
                             f"{len(shapes) + (self.shape is not None)}.")
        a, b = self._operands(shapes)
        if len(a) < 2 or len(b) < 2:
            raise ValueError(f"{self.name}: 1-D operands ({_fmt(a)} @ {_fmt(b)}) are not "
                             "supported.")
        if a[-1] != b[-2]:
            raise ValueError(f"{self.name} cannot multiply {_fmt(a)} by {_fmt(b)}.")
        if (self.shape is None or self.constant_first) and len(b) == 2:
            raise ValueError(f"{self.name} would sum over the batch axis of {_fmt(b)}.")
        try:
            batch = np.broadcast_shapes(a[:-2], b[:-2])
        except ValueError:
            raise ValueError(f"{self.name} cannot multiply {_fmt(a)} by {_fmt(b)}.") from None
        out = (*batch, a[-2], b[-1])
        if len(out) < len(a) and self.constant_first:
            raise ValueError(f"{self.name} loses the batch axis.")
        return tuple(int(v) for v in out[1:])

    def macs(self, in_shapes, out_shape):
        a, _ = self._operands(in_shapes)
        return int(np.prod(out_shape)) * int(a[-1])

    def describe(self):
        return "" if self.shape is None else f"@ {_fmt(self.shape)}"

    def __call__(self, *xs, use_batch_stats=False):
        xp = array_module(xs[0])
        if self.shape is None:
            return xp.matmul(xs[0], xs[1])
        value = self.params["value"]
        return xp.matmul(value, xs[0]) if self.constant_first else xp.matmul(xs[0], value)


class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle (Zhang et al. 2018): ``(N, C, H, W)`` viewed as
    ``(N, g, C/g, H, W)``, the two channel axes swapped, and viewed back. Spatially the
    identity, so receptive fields pass through it."""

    kind = "channel_shuffle"
    spec_args = {"groups": ("int", REQUIRED)}

    def __init__(self, name, groups, *, inputs=None):
        super().__init__(name, inputs=inputs)
        self.groups = groups

    def output_shape(self, shape):
        if len(shape) != 3 or shape[0] % self.groups:
            raise ValueError(f"{self.name} shuffles {self.groups} groups of channels, which "
                             f"its input {_fmt(shape)} cannot split evenly.")
        return shape

    def describe(self):
        return f"{self.groups} groups"

    def __call__(self, x, *, use_batch_stats=False):
        n, c, h, w = x.shape
        grouped = x.reshape(n, self.groups, c // self.groups, h, w)   # (N, g, C/g, H, W)
        return grouped.transpose(0, 2, 1, 3, 4).reshape(n, c, h, w)  # (N, C, H, W)


class Identity(Layer):
    """The input unchanged (ONNX Identity; also names a graph output after its ONNX name)."""

    kind = "identity"


for _cls in (LeakyReLU, Clip, Sigmoid, Softmax, Mul, AddConst, Reshape, Transpose, MatMul,
             ChannelShuffle, Identity):
    register_kind(_cls.kind, _cls)
