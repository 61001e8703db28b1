"""Graph layers: several inputs (add, concat) or a change of layout (flatten)."""

from __future__ import annotations

import numpy as np

from convlab.engine.backend import array_module
from convlab.engine.layers.base import Layer
from convlab.engine.ops.dense_grad import unbroadcast
from convlab.engine.wording import shape_text


def _fmt(shape) -> str:
    return shape_text(shape)


class Add(Layer):
    """Element-wise sum of two or more inputs, broadcast as NumPy does (``F.add``)."""

    kind = "add"
    min_inputs, max_inputs = 2, None

    def output_shape(self, *shapes):
        try:
            return tuple(int(v) for v in np.broadcast_shapes(*shapes))
        except ValueError:
            raise ValueError(f"{self.name} cannot add inputs of shapes "
                             f"{', '.join(_fmt(s) for s in shapes)}.") from None

    def __call__(self, *xs, use_batch_stats=False):
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        return out

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """Each input gets ``gy``, summed over the axes it was broadcast along."""
        return [unbroadcast(gy, x.shape) for x in inputs], {}


class Concat(Layer):
    """``F.concat(xs, axis)``: axis 1 (the default) stacks channels; axes count N as 0."""

    kind = "concat"
    min_inputs, max_inputs = 1, None
    spec_args = {"axis": ("axis", 1)}

    def __init__(self, name, axis=1, *, inputs=None):
        super().__init__(name, inputs=inputs)
        if axis < 1:
            raise ValueError(f"axis must be at least 1 (axis 0 is the batch), got {axis}")
        self.axis = axis

    def output_shape(self, *shapes):
        a = self.axis - 1                                       # shapes here leave out N
        first = shapes[0]
        if a >= len(first):
            raise ValueError(f"{self.name} concatenates along axis {self.axis} but its input "
                             f"{_fmt(first)} has no such axis.")
        for s in shapes[1:]:
            if len(s) != len(first) or s[:a] + s[a + 1:] != first[:a] + first[a + 1:]:
                raise ValueError(f"{self.name} cannot concatenate {_fmt(first)} and {_fmt(s)} "
                                 f"along axis {self.axis}: the other sizes differ.")
        return first[:a] + (sum(s[a] for s in shapes),) + first[a + 1:]

    def describe(self):
        return f"axis {self.axis}"

    def __call__(self, *xs, use_batch_stats=False):
        return array_module(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """``gy`` split back along the axis at the inputs' sizes."""
        edges = np.cumsum([x.shape[self.axis] for x in inputs])[:-1].tolist()
        return list(array_module(gy).split(gy, edges, axis=self.axis)), {}


class Flatten(Layer):
    """``x.reshape(N, ..., -1)``: every axis from ``axis`` on (default 1: all but N) into one."""

    kind = "flatten"
    spec_args = {"axis": ("axis", 1)}

    def __init__(self, name, axis=1, *, inputs=None):
        super().__init__(name, inputs=inputs)
        if axis < 1:
            raise ValueError(f"axis must be at least 1 (axis 0 is the batch), got {axis}")
        self.axis = axis

    def output_shape(self, shape):
        a = self.axis - 1
        if a > len(shape):
            raise ValueError(f"{self.name} flattens from axis {self.axis} but its input "
                             f"{_fmt(shape)} has no such axis.")
        return tuple(shape[:a]) + (int(np.prod(shape[a:])),)

    def describe(self):
        return "" if self.axis == 1 else f"from axis {self.axis}"

    def __call__(self, x, *, use_batch_stats=False):
        return x.reshape(x.shape[:self.axis] + (-1,))              # (N, ..., prod of the rest)

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        return [gy.reshape(inputs[0].shape)], {}
