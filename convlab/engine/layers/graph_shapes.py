"""Shape and routing kinds for imported graphs (ONNX operators), registered with ``register_kind``:
``reshape``, ``transpose``, ``matmul``, ``channel_shuffle``, ``identity``. Shapes leave out the
batch axis N, as everywhere in the engine; axes in arguments count N as 0. Importing
:mod:`convlab.engine.layers.graph_kinds` registers these too. No file format is read here.
"""

from __future__ import annotations

import numpy as np

from convlab.engine.backend import array_module
from convlab.engine.wording import shape_text
from convlab.engine.layers.base import CHECKS, REQUIRED, Layer, int_list, placeholder, register_kind
from convlab.engine.ops.dense_grad import unbroadcast


CHECKS.setdefault("ints", int_list)


def _fmt(shape) -> str:
    return shape_text(shape) if len(shape) else "scalar"


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
        return f"to {shape_text(self.shape, 'x')}"  # a compact table cell

    def __call__(self, x, *, use_batch_stats=False):
        return x.reshape((x.shape[0], *self.shape))                 # (N, *shape)

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        return [gy.reshape(inputs[0].shape)], {}


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

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """``gy`` transposed by the inverse permutation."""
        return [gy.transpose([int(a) for a in np.argsort(self.perm)])], {}


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

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """``ga = gy b^T``, ``gb = a^T gy`` (last two axes), each summed down to its operand's
        shape; the stored constant is not learned and gets none."""
        xp = array_module(gy)
        if self.shape is None:
            a, b = inputs
        else:
            value = xp.asarray(self.params["value"], dtype=gy.dtype)
            a, b = (value, inputs[0]) if self.constant_first else (inputs[0], value)
        ga = unbroadcast(xp.matmul(gy, xp.swapaxes(b, -1, -2)), a.shape)
        gb = unbroadcast(xp.matmul(xp.swapaxes(a, -1, -2), gy), b.shape)
        if self.shape is None:
            return [ga, gb], {}
        return [gb if self.constant_first else ga], {}


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

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """The inverse shuffle: ``(N, C/g, g, H, W)`` with the two channel axes swapped back."""
        n, c, h, w = gy.shape
        grouped = gy.reshape(n, c // self.groups, self.groups, h, w)
        return [grouped.transpose(0, 2, 1, 3, 4).reshape(n, c, h, w)], {}


class Identity(Layer):
    """The input unchanged (ONNX Identity; also names a graph output after its ONNX name)."""

    kind = "identity"


for _cls in (Reshape, Transpose, MatMul, ChannelShuffle, Identity):
    register_kind(_cls.kind, _cls)
