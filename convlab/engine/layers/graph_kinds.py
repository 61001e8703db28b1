"""More layer kinds for imported graphs (ONNX operators), registered with ``register_kind``.

Shapes here leave out the batch axis N, as everywhere in the engine; axes in arguments count
N as 0 (as ``concat``'s). Arrays carry N first. Kinds: ``leaky_relu``, ``clip``, ``sigmoid``,
``softmax``, ``mul`` and ``add_const`` (data inputs times / plus an optional stored constant),
and, from :mod:`.graph_shapes` (imported and so registered with this module), ``reshape``,
``transpose``, ``matmul``, ``channel_shuffle``, ``identity``. No file format is read here.
"""

from __future__ import annotations

import numpy as np

from convlab.engine.backend import array_module
from convlab.engine.layers.graph_shapes import (  # noqa: F401 (importing this module registers them all)
    ChannelShuffle, Identity, MatMul, Reshape, Transpose, _fmt)
from convlab.engine.layers.base import Layer, placeholder, register_kind
from convlab.engine.ops import dense_grad as dg


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

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        return [dg.leaky_relu_backward(inputs[0], gy, np.float32(self.alpha))], {}


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

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """``gy`` where ``min <= x <= max`` (bounds included, as PyTorch's clamp), else 0."""
        lo = None if self.min is None else np.float32(self.min)
        hi = None if self.max is None else np.float32(self.max)
        return [dg.clip_backward(inputs[0], gy, lo, hi)], {}


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``, computed as ``(1 + tanh(x / 2)) / 2`` (no overflow)."""

    kind = "sigmoid"

    def __call__(self, x, *, use_batch_stats=False):
        xp = array_module(x)
        return (xp.tanh(x * np.float32(0.5)) + np.float32(1)) * np.float32(0.5)

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        return [dg.sigmoid_backward(output, gy)], {}


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
        return f"axes {self.axis} to last, joined" if self.flat else f"axis {self.axis}"

    def __call__(self, x, *, use_batch_stats=False):
        xp = array_module(x)
        h = x.reshape(x.shape[:self.axis] + (-1,)) if self.flat else x  # (N, ..., rest)
        axis = -1 if self.flat else self.axis
        h = xp.exp(h - h.max(axis=axis, keepdims=True))
        h /= h.sum(axis=axis, keepdims=True)
        return h.reshape(x.shape)

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """``y (gy - sum(gy y))`` along the axis (every axis from it on with ``flat``)."""
        if not self.flat:
            return [dg.softmax_backward(output, gy, self.axis)], {}
        flat = (gy.shape[0],) if self.axis == 0 else gy.shape[:self.axis]
        g = dg.softmax_backward(output.reshape(flat + (-1,)), gy.reshape(flat + (-1,)), -1)
        return [g.reshape(gy.shape)], {}


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

    def _operands(self, inputs, dtype):
        """The aligned data inputs, then the constant if any (it is not learned: no gradient)."""
        aligned = _align(list(inputs))
        if self.shape is not None:
            aligned.append(array_module(inputs[0]).asarray(self.params["value"], dtype=dtype))
        return aligned

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """Each data input gets ``gy`` times :meth:`_partial` (the product of the others for
        mul, 1 for add), summed down to its shape."""
        operands = self._operands(inputs, gy.dtype)
        return [dg.unbroadcast(self._partial(gy, operands, i), operands[i].shape).reshape(x.shape)
                for i, x in enumerate(inputs)], {}


class Mul(_WithConstant):
    """The element-wise product of the inputs and of ``value`` (ONNX Mul, e.g. a BN scale)."""

    kind = "mul"
    symbol = "x"

    def __call__(self, *xs, use_batch_stats=False):
        return self._combine(xs, lambda a, b: a * b)

    @staticmethod
    def _partial(gy, operands, i):
        for j, other in enumerate(operands):
            if j != i:
                gy = gy * other
        return gy


class AddConst(_WithConstant):
    """The element-wise sum of the inputs and of ``value`` (ONNX Add with a constant bias)."""

    kind = "add_const"
    symbol = "+"

    def __call__(self, *xs, use_batch_stats=False):
        return self._combine(xs, lambda a, b: a + b)

    @staticmethod
    def _partial(gy, operands, i):
        return gy


for _cls in (LeakyReLU, Clip, Sigmoid, Softmax, Mul, AddConst):
    register_kind(_cls.kind, _cls)
