"""ONNX operators -> ConvLab layers (``CONVERT``), and NumPy folding of constants (``FOLD``).

A converter reads the node's attributes and constant inputs and emits one spec layer through
``Importer.emit``. Axes: ONNX counts N as 0, as the spec's ``concat``/``softmax`` do; a node
that would move, merge or sum over the batch axis is refused with a sentence.
"""

from __future__ import annotations

import numpy as np

from convlab.models.onnx_fold import FOLD, reshape_target, unsqueeze_axes
from convlab.models.onnx_pool import CONVERT_SPATIAL

__all__ = ["CONVERT", "FOLD", "SUPPORTED"]


def _axis(imp, node, axis: int, rank: int) -> int:
    """A non-negative axis of a rank-``rank`` tensor (N counted); axis 0 refused."""
    axis = axis + rank if axis < 0 else axis
    if not 1 <= axis < rank:
        raise ValueError(f"{imp.label(node)} works along axis {axis} of a {rank}-axis tensor; "
                         "ConvLab keeps axis 0 as the batch.")
    return axis


def _simple(kind: str, **fixed):
    def convert(imp, node, attrs):
        imp.emit(node, {"kind": kind, **fixed}, [imp.data(node)])
    return convert


def _leaky_relu(imp, node, attrs):
    imp.emit(node, {"kind": "leaky_relu", "alpha": float(attrs.get("alpha", 0.01))},
             [imp.data(node)])


def _clip(imp, node, attrs):
    if imp.opset < 11:
        low, high = attrs.get("min"), attrs.get("max")
    else:
        low = imp.const(node, 1, "minimum", required=False)
        high = imp.const(node, 2, "maximum", required=False)
    entry = {"kind": "clip"}
    if low is not None:
        entry["min"] = float(np.asarray(low).reshape(()))
    if high is not None:
        entry["max"] = float(np.asarray(high).reshape(()))
    imp.emit(node, entry, [imp.data(node)])


def _dropout(imp, node, attrs):
    ratio = attrs.get("ratio", 0.5)
    if imp.opset >= 12:
        given = imp.const(node, 1, "ratio", required=False)
        ratio = 0.5 if given is None else float(np.asarray(given).reshape(()))
    imp.emit(node, {"kind": "dropout", "ratio": float(ratio)}, [imp.data(node)])


def _lrn(imp, node, attrs):
    size = int(attrs["size"])
    if size % 2 == 0:
        raise ValueError(f"{imp.label(node)} has an even size {size}; ConvLab's LRN window is "
                         "centred (odd sizes).")
    alpha = float(attrs.get("alpha", 1e-4))
    imp.emit(node, {"kind": "lrn", "n": size, "k": float(attrs.get("bias", 1.0)),
                    "alpha": alpha / size, "beta": float(attrs.get("beta", 0.75))},
             [imp.data(node)])


def _batch_norm(imp, node, attrs):
    if attrs.get("spatial", 1) != 1:
        raise ValueError(f"{imp.label(node)} normalises per position (spatial=0), which ConvLab "
                         "does not support.")
    x = imp.data(node)
    names = ("scale", "bias", "mean", "variance")
    gamma, beta, mean, var = (imp.const(node, i, names[i - 1]).reshape(-1) for i in range(1, 5))
    eps = float(attrs.get("epsilon", 1e-5))
    imp.emit(node, {"kind": "bn", "size": int(gamma.size), "eps": eps}, [x],
             {"gamma": gamma, "beta": beta, "avg_mean": mean, "avg_var": var})


def _split(imp, node):
    """The node's data inputs and its single constant (folded together when several)."""
    data, consts = [], []
    for i in range(len(node.input)):
        found = imp.value(node, i)
        if found is not None:
            (consts if found.const is not None else data).append(found)
    return data, consts


def _per_sample(imp, node, const: np.ndarray, data) -> np.ndarray:
    """A constant operand without the batch axis: drop a leading 1 at full rank."""
    rank = max(len(v.shape) for v in data) + 1
    if const.ndim > rank or (const.ndim == rank and const.shape[0] != 1):
        raise ValueError(f"{imp.label(node)} has a constant of shape {list(const.shape)} that "
                         "would spread over the batch axis.")
    return const.reshape(const.shape[1:]) if const.ndim == rank else const


def _arith(kind_data: str | None, kind_const: str, combine):
    def convert(imp, node, attrs):
        data, consts = _split(imp, node)
        if not consts:
            imp.emit(node, {"kind": kind_data or kind_const}, data)
            return
        value = consts[0].const
        for other in consts[1:]:
            value = combine(value, other.const)
        value = _per_sample(imp, node, np.asarray(value, dtype=np.float32), data)
        imp.emit(node, {"kind": kind_const, "shape": list(value.shape)}, data, {"value": value})
    return convert


def _concat(imp, node, attrs):
    data, consts = _split(imp, node)
    if consts:
        raise ValueError(f"{imp.label(node)} joins constants to image data, which ConvLab does "
                         "not support.")
    axis = _axis(imp, node, int(attrs["axis"]), len(data[0].shape) + 1)
    imp.emit(node, {"kind": "concat", "axis": axis}, data)


def _flatten(imp, node, attrs):
    """ONNX Flatten always makes ``(prod(shape[:axis]), prod(shape[axis:]))``: the batch axis
    stays alone only when the axes between N and ``axis`` hold one element."""
    x = imp.data(node)
    axis = int(attrs.get("axis", 1))
    axis = axis + len(x.shape) + 1 if axis < 0 else axis
    if int(np.prod(x.shape[:max(axis - 1, 0)])) != 1:
        raise ValueError(f"{imp.label(node)} flattens from axis {axis}, which merges axes "
                         f"into the batch axis; ConvLab keeps axis 0 as the batch.")
    imp.emit(node, {"kind": "flatten", "axis": 1}, [x])


def _reshape_like(imp, node, full_out: tuple) -> None:
    x = imp.data(node)
    if not full_out or full_out[0] != 1:
        raise ValueError(f"{imp.label(node)} makes the shape {list(full_out)}, which does not "
                         "keep the batch axis first; ConvLab keeps axis 0 as the batch.")
    imp.emit(node, {"kind": "reshape", "shape": [int(v) for v in full_out[1:]]}, [x])


def _reshape(imp, node, attrs):
    x = imp.data(node)
    target = attrs["shape"] if imp.opset < 5 else imp.const(node, 1, "target shape")
    full = (1, *x.shape)
    _reshape_like(imp, node, reshape_target(full, target, attrs.get("allowzero", 0)))


def _unsqueeze_axes(imp, node, attrs):
    return attrs["axes"] if imp.opset < 13 else imp.const(node, 1, "axes")


def _unsqueeze(imp, node, attrs):
    full = [1, *imp.data(node).shape]
    axes = _unsqueeze_axes(imp, node, attrs)
    for axis in unsqueeze_axes(axes, len(full) + np.asarray(axes).size):
        full.insert(axis, 1)
    _reshape_like(imp, node, tuple(full))


def _squeeze(imp, node, attrs):
    full = [1, *imp.data(node).shape]
    axes = attrs.get("axes") if imp.opset < 13 else imp.const(node, 1, "axes", required=False)
    if axes is None:
        drop = {i for i in range(1, len(full)) if full[i] == 1}
    else:
        drop = {int(a) + len(full) if a < 0 else int(a) for a in np.asarray(axes).reshape(-1)}
    if 0 in drop:
        raise ValueError(f"{imp.label(node)} removes axis 0; ConvLab keeps axis 0 as the batch.")
    _reshape_like(imp, node, tuple(v for i, v in enumerate(full) if i not in drop))


def _transpose(imp, node, attrs):
    x = imp.data(node)
    rank = len(x.shape) + 1
    perm = [int(p) for p in attrs.get("perm", range(rank - 1, -1, -1))]
    if perm and perm[0] != 0:
        raise ValueError(f"{imp.label(node)} moves axis 0 (perm {perm}); ConvLab keeps axis 0 "
                         "as the batch.")
    imp.emit(node, {"kind": "transpose", "perm": perm}, [x])


def _softmax(imp, node, attrs):
    x = imp.data(node)
    legacy = imp.opset < 13
    axis = _axis(imp, node, int(attrs.get("axis", 1 if legacy else -1)), len(x.shape) + 1)
    imp.emit(node, {"kind": "softmax", "axis": axis, "flat": legacy}, [x])


def _gemm(imp, node, attrs):
    a, b, c = (imp.value(node, i) for i in range(3))
    if a is None or a.const is not None or b is None or b.const is None:
        raise ValueError(f"{imp.label(node)} multiplies constants by image data on the left "
                         "or two image tensors; ConvLab runs Gemm as a fully connected layer "
                         "(data times constant weights).")
    if attrs.get("transA", 0) or len(a.shape) != 1:
        raise ValueError(f"{imp.label(node)} would mix the batch axis into the product "
                         "(transA, or not a matrix); ConvLab keeps axis 0 as the batch.")
    w = b.const.T if not attrs.get("transB", 0) else b.const               # (out, in)
    w = np.asarray(w, dtype=np.float32) * np.float32(attrs.get("alpha", 1.0))
    weights = {"W": w}
    if c is not None:
        if c.const is None:
            raise ValueError(f"{imp.label(node)} adds image data as its bias C.")
        weights["b"] = np.broadcast_to(c.const * np.float32(attrs.get("beta", 1.0)),
                                       (1, w.shape[0]))[0]
    imp.emit(node, {"kind": "fc", "in_size": int(w.shape[1]), "out_size": int(w.shape[0]),
                    "nobias": c is None}, [a], weights)


def _matmul(imp, node, attrs):
    left, right = imp.value(node, 0), imp.value(node, 1)
    if left is None or right is None:
        raise ValueError(f"{imp.label(node)} needs two inputs, A and B, and has "
                         f"{int(left is not None) + int(right is not None)}.")
    if left.const is None and right.const is None:
        imp.emit(node, {"kind": "matmul"}, [left, right])
        return
    const_first = left.const is not None
    value = np.asarray(left.const if const_first else right.const, dtype=np.float32)
    data = right if const_first else left
    imp.emit(node, {"kind": "matmul", "shape": list(value.shape), "constant_first": const_first},
             [data], {"value": value})


CONVERT = {
    "Relu": _simple("relu"), "Sigmoid": _simple("sigmoid"), "Identity": _simple("identity"),
    "LeakyRelu": _leaky_relu, "Clip": _clip, "Dropout": _dropout, "LRN": _lrn,
    "BatchNormalization": _batch_norm,
    "Add": _arith("add", "add_const", np.add), "Sum": _arith("add", "add_const", np.add),
    "Mul": _arith(None, "mul", np.multiply),
    "Concat": _concat, "Flatten": _flatten, "Reshape": _reshape, "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze, "Transpose": _transpose, "Softmax": _softmax, "Gemm": _gemm,
    "MatMul": _matmul, **CONVERT_SPATIAL,
}
SUPPORTED = frozenset(CONVERT) | frozenset(FOLD)
