"""ONNX graph -> ConvLab network spec and weights (``Network.from_spec``; SPEC_FORMAT.md).

Every ONNX value is either a constant (an initializer, a Constant node, or a node whose inputs
are all constants, folded here with NumPy) or data made by a layer, whose shape without N is
tracked through the engine's own ``output_shape``. Each node that touches data becomes one layer,
named after the node (or its first output when unnamed; a channel shuffle's three nodes are
one layer named after the last, see :mod:`convlab.models.onnx_fuse`); a graph output whose name
differs from its layer's gets an ``identity`` layer of that name, so ``forward`` holds it under
its ONNX name.
Shapes are static: the input's C, H and W must be known.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

import convlab.engine.layers.graph_kinds  # noqa: F401 (registers the ONNX kinds)
from convlab.engine.layers import KINDS
from convlab.models import onnx_file, onnx_fuse, onnx_ops

ONNX_DOMAINS = ("", "ai.onnx")
MAX_NODES = 10_000   # nodes in one graph, counted before any is read (a spec's layer budget)


@dataclass
class Value:
    """A graph value: ``const`` (an array) or data made by ``layer``, of ``shape`` without N."""

    const: np.ndarray | None = None
    layer: str | None = None
    shape: tuple | None = None


class Importer:
    """Walks the nodes in order, folding constants and emitting spec layers with weights."""

    def __init__(self, model, folder: str, budget: onnx_file.Budget):
        import onnx

        self.onnx, self.model, self.folder, self.budget = onnx, model, folder, budget
        self.graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ONNX_DOMAINS), 1)
        self.values: dict[str, Value] = {}
        self.layers: list[dict] = []
        self.weights: dict[str, np.ndarray] = {}
        self.used_names = {"input"}
        self.tensor_of: dict[str, str] = {}     # layer name -> the ONNX value it makes

    # ---- reading values -------------------------------------------------------------------
    def array(self, tensor, what: str) -> np.ndarray:
        return onnx_file.tensor_array(tensor, self.folder, self.budget, what)

    def attrs(self, node) -> dict:
        """Attribute name -> Python value (tensors read with the size checks; graphs refused)."""
        out = {}
        for attr in node.attribute:
            if attr.type in (5, 10):                                # GRAPH, GRAPHS
                raise ValueError(f"{self.label(node)} holds a subgraph, which ConvLab does not "
                                 "run.")
            if attr.type == 4:                                      # TENSOR
                out[attr.name] = self.array(attr.t, f"{self.label(node)}'s {attr.name!r}")
            elif attr.type in (8, 3):                               # SPARSE_TENSOR, STRING
                out[attr.name] = attr.s.decode("utf-8", "replace") if attr.type == 3 else None
            else:
                out[attr.name] = self.onnx.helper.get_attribute_value(attr)
        return out

    def label(self, node) -> str:
        name = node.name or (node.output[0] if node.output else "?")
        return f"Node {name!r} ({node.op_type})"

    def value(self, node, index: int) -> Value | None:
        if index >= len(node.input) or not node.input[index]:
            return None
        name = node.input[index]
        if name not in self.values:
            raise ValueError(f"{self.label(node)} reads {name!r}, which no earlier node, "
                             "initializer or input makes.")
        return self.values[name]

    def const(self, node, index: int, what: str, *, required: bool = True):
        found = self.value(node, index)
        if found is None:
            if required:
                raise ValueError(f"{self.label(node)} has no {what}.")
            return None
        if found.const is None:
            raise ValueError(f"{self.label(node)} computes its {what} from the image; ConvLab "
                             "needs that input to be a constant (static shapes and weights).")
        return found.const

    def data(self, node, index: int = 0) -> Value:
        found = self.value(node, index)
        if found is None or found.const is not None:
            raise ValueError(f"{self.label(node)} needs image data at input {index + 1}.")
        return found

    # ---- emitting layers ------------------------------------------------------------------
    def layer_name(self, node) -> str:
        base = node.name or node.output[0] or node.op_type
        name, count = base, 1
        while name in self.used_names:
            count += 1
            name = f"{base}:{count}"
        self.used_names.add(name)
        return name

    def emit(self, node, entry: dict, inputs: list[Value], weights: dict | None = None,
             output: str | None = None) -> None:
        """Add one layer (``entry`` without name/inputs) reading ``inputs``; its output becomes
        ``output`` (default the node's first output)."""
        name = self.layer_name(node)
        entry = {"name": name, **entry, "inputs": [v.layer for v in inputs]}
        in_shapes = [v.shape for v in inputs]
        try:
            layer = KINDS[entry["kind"]].from_spec(entry, in_shapes=in_shapes, init=False)
            shape = tuple(layer.output_shape(*in_shapes))
        except ValueError as exc:
            raise ValueError(f"{self.label(node)}: {str(exc).rstrip('.')}.") from None
        for param, array in (weights or {}).items():
            self.weights[f"{name}/{param}"] = np.ascontiguousarray(array, dtype=np.float32)
        self.layers.append(entry)
        self.values[output or node.output[0]] = Value(layer=name, shape=shape)
        self.tensor_of[name] = output or node.output[0]

    # ---- the walk -------------------------------------------------------------------------
    def run(self, input_shape=None) -> dict:
        self._check_operators()
        for init in self.graph.initializer:
            self.values[init.name] = Value(const=self.array(init, f"Initializer {init.name!r}"))
        for sparse in self.graph.sparse_initializer:
            raise ValueError(f"Sparse initializer {sparse.values.name!r} is not supported.")
        shape = self._input_shape(input_shape)
        nodes, consumers, i = list(self.graph.node), onnx_fuse.consumers_of(self.graph), 0
        while i < len(nodes):
            fused = onnx_fuse.channel_shuffle(self, nodes, i, consumers)
            if not fused:
                self._node(nodes[i])
            i += fused or 1
        self._outputs()
        return {"name": self.graph.name or "onnx", "input_shape": list(shape),
                "layers": self.layers}

    def _check_operators(self) -> None:
        """Refuse more than :data:`MAX_NODES` nodes, and an unknown operator or domain, before
        anything is read or computed."""
        if len(self.graph.node) > MAX_NODES:
            raise ValueError(f"A model may have at most {MAX_NODES:,} nodes; this one has "
                             f"{len(self.graph.node):,}.")
        for node in self.graph.node:
            if not node.output or not node.output[0]:
                raise ValueError(f"{self.label(node)} has no output.")
            if node.domain not in ONNX_DOMAINS:
                raise ValueError(f"{self.label(node)} is a custom operator of domain "
                                 f"{node.domain!r}; ConvLab runs only standard ONNX operators.")
            if node.op_type not in onnx_ops.SUPPORTED:
                raise ValueError(f"{self.label(node)}: the operator {node.op_type} is not "
                                 "supported by ConvLab.")

    def _input_shape(self, override) -> tuple:
        inits = {t.name for t in self.graph.initializer}
        inputs = [v for v in self.graph.input if v.name not in inits]
        if len(inputs) != 1:
            raise ValueError(f"The model has {len(inputs)} inputs "
                             f"({', '.join(v.name for v in inputs) or 'none'}); ConvLab runs "
                             "models with one image input.")
        tensor_type = inputs[0].type.tensor_type
        if tensor_type.elem_type not in (1, 10, 11):
            raise ValueError(f"Input {inputs[0].name!r} is not a float tensor.")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
        if override is not None:
            dims = [1, *override]
        if len(dims) != 4 or any(d is None or d < 1 for d in dims[1:]):
            raise ValueError(f"Input {inputs[0].name!r} has shape {dims}; ConvLab needs "
                             "N x C x H x W with C, H and W known (give input_shape).")
        if dims[0] not in (None, 1):
            raise ValueError(f"Input {inputs[0].name!r} has a batch of {dims[0]}; ConvLab "
                             "imports models for a batch of 1.")
        self.values[inputs[0].name] = Value(layer="input", shape=tuple(dims[1:]))
        return tuple(dims[1:])

    def _node(self, node) -> None:
        inputs = [self.value(node, i) for i in range(len(node.input))]
        attrs = self.attrs(node)
        if all(v is None or v.const is not None for v in inputs) and node.op_type in onnx_ops.FOLD:
            consts = [None if v is None else v.const for v in inputs]
            try:
                outputs = onnx_ops.FOLD[node.op_type](self, node, attrs, consts)
            except (ValueError, KeyError, IndexError, TypeError, ArithmeticError) as exc:
                reason = str(exc).strip("'").rstrip(".")
                raise ValueError(f"{self.label(node)} cannot be folded: {reason}.") from None
            except MemoryError:
                raise ValueError(f"{self.label(node)} makes a constant larger than the memory "
                                 "that is free.") from None
            for array in outputs:
                onnx_file.check_finite(np.asarray(array), f"{self.label(node)}'s result")
            for name, array in zip(node.output, outputs):
                if name:
                    self.values[name] = Value(const=array)
            return
        if not any(v is not None and v.const is None for v in inputs):
            raise ValueError(f"{self.label(node)} computes only on constants, which ConvLab "
                             f"folds only for layout and arithmetic operators.")
        try:
            onnx_ops.CONVERT[node.op_type](self, node, attrs)
        except KeyError as exc:
            raise ValueError(f"{self.label(node)} lacks the attribute {exc.args[0]!r}.") from None
        except ValueError as exc:
            if str(exc).startswith(("Node ", "Initializer ")):
                raise
            raise ValueError(f"{self.label(node)}: {str(exc).rstrip('.')}.") from None
        except (IndexError, TypeError, ArithmeticError, AttributeError) as exc:
            raise ValueError(f"{self.label(node)} is malformed ({exc}).") from None
        except MemoryError:
            raise ValueError(f"{self.label(node)} needs more memory than is free.") from None

    def _outputs(self) -> None:
        for out in self.graph.output:
            found = self.values.get(out.name)
            if found is None:
                raise ValueError(f"Graph output {out.name!r} is made by no node.")
            if found.const is not None or found.layer == "input":
                raise ValueError(f"Graph output {out.name!r} does not depend on the image.")
            if found.layer != out.name:
                if out.name in self.used_names:
                    raise ValueError(f"Graph output {out.name!r} has the name of another layer.")
                self.used_names.add(out.name)
                self.layers.append({"name": out.name, "kind": "identity",
                                    "inputs": [found.layer]})
                self.tensor_of[out.name] = out.name


def convert(path, *, input_shape=None, max_bytes: int = onnx_file.MAX_CONSTANT_BYTES):
    """``(spec, weights, tensor_of)`` for the ONNX file at ``path`` (``tensor_of``: layer name
    -> the ONNX value it makes); ValueError with one sentence if the file cannot be run."""
    model = onnx_file.read_model(path)
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    importer = Importer(model, folder, onnx_file.Budget(max_bytes))
    spec = importer.run(input_shape)
    return spec, importer.weights, importer.tensor_of
