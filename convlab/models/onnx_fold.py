"""Constant folding: ONNX nodes whose inputs are all constants, computed once with NumPy.

Only layout and arithmetic operators fold (Constant, ConstantOfShape, Identity, Dropout,
Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Add, Sum, Mul, MatMul, Gemm); every
result's size is charged to the model's byte budget before it is allocated.
"""

from __future__ import annotations

import numpy as np


def _charge(imp, shape, what: str, itemsize: int = 4) -> None:
    """Charge ``prod(shape)`` elements of ``itemsize`` bytes (at least float32's 4, what the
    engine holds) to the model's budget, before the array is made."""
    count = int(np.prod([int(v) for v in shape], dtype=object)) if len(shape) else 1
    imp.budget.take(count * max(int(itemsize), 4), what)


def unsqueeze_axes(axes, rank: int) -> list[int]:
    """ONNX Unsqueeze's ``axes`` for an output of ``rank`` axes, made non-negative and sorted;
    ValueError for an axis outside ``-rank .. rank - 1`` or one given twice."""
    axes = [int(a) for a in np.asarray(axes).reshape(-1)]
    if any(not -rank <= a < rank for a in axes):
        raise ValueError(f"the axes {axes} do not lie in -{rank} to {rank - 1} (the output has "
                         f"{rank} axes)")
    axes = sorted(a + rank if a < 0 else a for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"the axes {axes} name an axis twice")
    return axes


def reshape_target(shape, target, allowzero=0) -> tuple:
    """ONNX Reshape's output shape: 0 copies the input's size (unless ``allowzero``), one -1
    takes the rest."""
    target = [int(v) for v in np.asarray(target).reshape(-1)]
    out = [shape[i] if v == 0 and not allowzero and i < len(shape) else v
           for i, v in enumerate(target)]
    total = int(np.prod(shape, dtype=object))
    if out.count(-1) > 1 or any(v < -1 for v in out):
        raise ValueError(f"the target shape {target} is not a valid ONNX shape")
    if -1 in out:
        known = int(np.prod([v for v in out if v != -1], dtype=object))
        if known == 0 or total % known:
            raise ValueError(f"cannot reshape {list(shape)} to {target}")
        out[out.index(-1)] = total // known
    if int(np.prod(out, dtype=object)) != total:
        raise ValueError(f"cannot reshape {list(shape)} to {target}: the sizes differ")
    return tuple(out)


def _constant(imp, node, attrs, xs):
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in attrs:
            return [np.asarray(attrs[key], dtype=np.float32 if "float" in key else None)
                    if key != "value" else attrs[key]]
    raise ValueError("the Constant has no value ConvLab reads (sparse or string)")


def _constant_of_shape(imp, node, attrs, xs):
    shape = [int(v) for v in np.asarray(xs[0]).reshape(-1)]
    if any(v < 0 for v in shape):
        raise ValueError(f"the shape {shape} has a negative size")
    value = attrs.get("value")
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(-1)[:1]
    if fill.size == 0:
        raise ValueError("its value holds no element to fill with")
    # charged at the fill's own width (an int64 fill takes 8 bytes an element, not 4)
    _charge(imp, shape, f"its constant of shape {'x'.join(map(str, shape))}", fill.itemsize)
    return [np.full(shape, fill[0], dtype=fill.dtype)]


def _squeeze(imp, node, attrs, xs):
    axes = attrs.get("axes") if imp.opset < 13 else (xs[1] if len(xs) > 1 else None)
    if axes is None:
        return [np.squeeze(xs[0])]
    return [np.squeeze(xs[0], axis=tuple(int(a) for a in np.asarray(axes).reshape(-1)))]


def _unsqueeze(imp, node, attrs, xs):
    axes = attrs["axes"] if imp.opset < 13 else xs[1]
    rank = xs[0].ndim + np.asarray(axes).size
    return [np.expand_dims(xs[0], tuple(unsqueeze_axes(axes, rank)))]


def _reshape(imp, node, attrs, xs):
    target = attrs["shape"] if imp.opset < 5 else xs[1]
    return [xs[0].reshape(reshape_target(xs[0].shape, target, attrs.get("allowzero", 0)))]


def _flatten(imp, node, attrs, xs):
    axis = int(attrs.get("axis", 1))
    axis = axis + xs[0].ndim if axis < 0 else axis
    return [xs[0].reshape(int(np.prod(xs[0].shape[:axis])), -1)]


def _broadcast(op):
    def fold(imp, node, attrs, xs):
        arrays = [x for x in xs if x is not None]
        _charge(imp, np.broadcast_shapes(*(a.shape for a in arrays)), "its result")
        out = arrays[0]
        for a in arrays[1:]:
            out = op(out, a)
        return [out]
    return fold


def _concat(imp, node, attrs, xs):
    arrays = [x for x in xs if x is not None]
    _charge(imp, (sum(a.size for a in arrays),), "its result")
    return [np.concatenate(arrays, axis=int(attrs["axis"]))]


def _two_inputs(xs, what: str = "MatMul") -> None:
    if len(xs) < 2 or xs[0] is None or xs[1] is None:
        raise ValueError(f"a {what} needs two inputs, A and B")


def _matmul(imp, node, attrs, xs):
    _two_inputs(xs)
    a, b = (np.asarray(x, dtype=np.float32) for x in xs[:2])
    _charge(imp, (*a.shape[:-1], b.shape[-1]), "its result")
    return [np.matmul(a, b)]


def _gemm(imp, node, attrs, xs):
    _two_inputs(xs, "Gemm")
    a, b = (np.asarray(x, dtype=np.float32) for x in xs[:2])
    a = a.T if attrs.get("transA", 0) else a
    b = b.T if attrs.get("transB", 0) else b
    _charge(imp, (a.shape[0], b.shape[-1]), "its result")
    out = np.float32(attrs.get("alpha", 1.0)) * (a @ b)
    if len(xs) > 2 and xs[2] is not None:
        out = out + np.float32(attrs.get("beta", 1.0)) * xs[2]
    return [out]


FOLD = {
    "Constant": _constant, "ConstantOfShape": _constant_of_shape,
    "Identity": lambda imp, node, attrs, xs: [xs[0]],
    "Dropout": lambda imp, node, attrs, xs: [xs[0]],
    "Squeeze": _squeeze, "Unsqueeze": _unsqueeze, "Reshape": _reshape, "Flatten": _flatten,
    "Transpose": lambda imp, node, attrs, xs: [np.transpose(xs[0], attrs.get("perm"))],
    "Concat": _concat, "Add": _broadcast(np.add), "Sum": _broadcast(np.add),
    "Mul": _broadcast(np.multiply), "MatMul": _matmul, "Gemm": _gemm,
}
