"""Specs to layers and back (the format is in SPEC_FORMAT.md; ``Network.from_spec`` calls this).

Every refusal is a ``ValueError`` with one sentence naming the layer by position and name.

Budgets, each checked before anything is allocated or looped over: at most :data:`MAX_LAYERS`
layers; an ``input_shape`` of at most :data:`MAX_SIDE` pixels a side and ``layers.MAX_CHANNELS``
channels; each argument within its budget (``layers.base.BUDGETS``); and, judged on a first
pass that builds every layer with memory-free placeholders, at most :data:`MAX_PARAMS` stored
values (weights, biases, BatchNorm's averages) and :data:`MAX_ACTIVATION_BYTES` of layer
outputs at the spec's input size (float32, one image: ``4 * sum(prod(output shape))``, the
input included; ``forward`` keeps every output). Only then are real arrays made. Every step is
linear in the number of layers.
"""

from __future__ import annotations

import math

import numpy as np

from convlab.engine import layers as L
from convlab.engine.layers.base import MAX_CHANNELS

DEFAULT_INPUT = (3, 227, 227)
PROBE = 1 << 14   # H and W of the probe input used to infer channel counts
MAX_LAYERS = 10_000               # layers in one spec (a 4 MiB spec file holds about that many)
MAX_SIDE = 4096                   # input height and width, as ``--input``'s
MAX_PARAMS = 2 ** 31              # stored values: 8.6 GB of float32
MAX_ACTIVATION_BYTES = 2 ** 31    # every layer's output at the input size: 2.1 GB


class _NoMemory:
    """An array module whose ``ones``/``zeros`` are zero-stride placeholders: the first pass of
    :func:`build` makes every layer with it, so nothing is allocated before the budgets pass."""

    @staticmethod
    def ones(shape, dtype=np.float32):
        return np.broadcast_to(np.asarray(1, dtype=dtype), shape)

    @staticmethod
    def zeros(shape, dtype=np.float32):
        return np.broadcast_to(np.asarray(0, dtype=dtype), shape)

    def __getattr__(self, name):
        return getattr(np, name)


def _refuse(i: int, name, problem: str):
    who = f"Layer {i + 1}" + (f" ({name!r})" if isinstance(name, str) and name else "")
    raise ValueError(f"{who}: {problem.rstrip('.')}.")


def parse(spec) -> tuple[str, tuple[int, int, int], list]:
    """``(name, input_shape, layer dicts)`` from a dict spec or a bare list of layers."""
    if isinstance(spec, (list, tuple)):
        return "custom", DEFAULT_INPUT, _counted(spec)
    if not isinstance(spec, dict):
        raise ValueError(f"A network spec is a dict or a list of layers, got {type(spec).__name__}.")
    unknown = sorted(set(spec) - {"name", "input_shape", "layers"})
    if unknown:
        raise ValueError(f"The spec has unknown top-level keys {', '.join(map(repr, unknown))}.")
    layers = spec.get("layers")
    if not isinstance(layers, (list, tuple)):
        raise ValueError("The spec needs \"layers\": a list of layer dicts.")
    name = spec.get("name", "custom")
    if not isinstance(name, str) or not name:
        raise ValueError(f"The spec's name must be a non-empty string, got {name!r}.")
    shape = spec.get("input_shape", list(DEFAULT_INPUT))
    if (not isinstance(shape, (list, tuple)) or len(shape) != 3 or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in shape)):
        raise ValueError(f"The spec's input_shape must be [C, H, W] of positive integers, got {shape!r}.")
    if shape[0] > MAX_CHANNELS or max(shape[1:]) > MAX_SIDE:
        raise ValueError(f"A spec's input_shape may have at most {MAX_CHANNELS:,} channels and "
                         f"{MAX_SIDE:,} pixels a side, got {list(shape)!r}.")
    return name, tuple(int(v) for v in shape), _counted(layers)


def _counted(layers) -> list:
    """``layers`` as a list, refused when empty or over :data:`MAX_LAYERS` (before any is read)."""
    if len(layers) == 0:
        raise ValueError("A spec needs at least one layer; its layer list is empty.")
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"A spec may have at most {MAX_LAYERS:,} layers; this one has "
                         f"{len(layers):,}.")
    return list(layers)


def _inputs(i: int, entry: dict, seen: dict[str, None], cls, every_name: set) -> list[str]:
    """The resolved input names of layer ``i`` (default: the previous layer, or the input)."""
    given = entry.get("inputs")
    if given is None:
        names = [next(reversed(seen)) if seen else "input"]
    elif given == "input":
        names = ["input"]
    elif isinstance(given, (list, tuple)) and given and all(isinstance(v, str) for v in given):
        names = list(given)
    else:
        _refuse(i, entry.get("name"), f"inputs must be a list of layer names or \"input\", got {given!r}")
    for name in names:
        if name != "input" and name not in seen:
            later = "a later layer" if name in every_name else "not a layer of the spec"
            _refuse(i, entry["name"], f"input {name!r} is {later}; layers must come after their inputs")
    low, high = cls.min_inputs, cls.max_inputs
    if len(names) < low or (high is not None and len(names) > high):
        want = f"{low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
        _refuse(i, entry["name"], f"kind {cls.kind!r} takes {want} input(s), got {len(names)}")
    return names


def _check_head(i: int, entry, seen: dict[str, None]) -> type:
    """Name and kind of one layer dict; returns the kind's class."""
    if not isinstance(entry, dict):
        _refuse(i, None, f"a layer is a dict with \"name\" and \"kind\", got {type(entry).__name__}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        _refuse(i, None, f"the layer's name must be a non-empty string, got {name!r}")
    if name == "input":
        _refuse(i, name, "\"input\" names the network's input and cannot name a layer")
    if name in seen:
        _refuse(i, name, "this name is already used by an earlier layer (duplicate name)")
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in L.KINDS:
        known = ", ".join(sorted(L.KINDS))
        _refuse(i, name, f"unknown kind {kind!r} (known kinds: {known})")
    return L.KINDS[kind]


def build(spec, *, weights=None, seed=0, xp=np, init=True):
    """``(name, input_shape, layers)`` built from ``spec``; one SeedSequence child per
    parametrised layer, in layer order, so the built-in specs give ``build_network``'s weights.

    Two passes: the first makes every layer without memory and checks the budgets (see the
    module docstring) as it goes; the second makes the real arrays."""
    name, input_shape, entries = parse(spec)
    weights = _group_weights(weights or {}, entries)
    _layers(entries, input_shape, {}, seed, _NoMemory(), False, budget=True)
    return name, input_shape, _layers(entries, input_shape, weights, seed, xp, init)


def _layers(entries, input_shape, weights, seed, xp, init, *, budget=False) -> list:
    """Each entry checked and built in order; with ``budget``, the stored values and the
    outputs' bytes so far are checked after each layer."""
    n_param = sum(1 for e in entries if isinstance(e, dict)
                  and getattr(L.KINDS.get(e.get("kind")), "parametrised", False))
    seeds = iter(np.random.SeedSequence(seed).spawn(n_param))
    shapes: dict[str, tuple | None] = {"input": input_shape}
    # channel counts do not depend on H and W: where a layer cannot take the real input size,
    # in_channels / size are still inferred from a large probe input
    probe: dict[str, tuple | None] = {"input": (input_shape[0], PROBE, PROBE)}
    seen: dict[str, None] = {}      # insertion-ordered: the last is the previous layer
    built = []
    every_name = {e.get("name") for e in entries if isinstance(e, dict)}
    values, activations = 0, 4 * math.prod(input_shape)
    for i, entry in enumerate(entries):
        cls = _check_head(i, entry, seen)
        inputs = _inputs(i, entry, seen, cls, every_name)
        in_shapes = [shapes[n] for n in inputs]
        probe_shapes = [probe[n] for n in inputs]
        if cls.channels_only and any(s is None for s in in_shapes):
            in_shapes = probe_shapes
        given = weights.get(entry["name"], {})
        layer_seed = next(seeds) if cls.parametrised else None
        try:
            layer = cls.from_spec(entry, in_shapes=in_shapes, seed=layer_seed, xp=xp,
                                  init=init and "W" not in given)
            _assign(layer, given, xp)
        except ValueError as exc:
            _refuse(i, entry["name"], str(exc))
        layer.inputs = inputs
        built.append(layer)
        seen[layer.name] = None
        shapes[layer.name] = _shape_or_none(layer, [shapes[n] for n in inputs])
        probe[layer.name] = _shape_or_none(layer, probe_shapes)
        if budget:
            own = sum(math.prod(p.shape) for p in layer.params.values())
            out = shapes[layer.name]
            values, activations = values + own, activations + (4 * math.prod(out) if out else 0)
            _check_budget(i, layer.name, (own, values), activations, input_shape)
    return built


def _check_budget(i: int, name: str, values: tuple[int, int], activations: int,
                  input_shape) -> None:
    """Refuse layer ``i`` when the stored values (``(its own, the spec's so far)``) or the
    outputs' bytes so far are over budget."""
    own, total = values
    if total > MAX_PARAMS:
        more = "" if own == total else f", bringing the spec to {total:,}"
        raise ValueError(f"Layer {i + 1} ({name!r}) would hold {own:,} parameters{more}; a spec "
                         f"may hold at most {MAX_PARAMS:,}.")
    if activations > MAX_ACTIVATION_BYTES:
        _refuse(i, name, f"the layer outputs at the input size {'x'.join(map(str, input_shape))} "
                         f"would take {activations / 1e9:,.2f} GB by here; a spec's outputs may "
                         f"take at most {MAX_ACTIVATION_BYTES / 1e9:.2f} GB (float32, one image)")


def _shape_or_none(layer, in_shapes):
    if any(s is None for s in in_shapes):
        return None
    try:
        return tuple(layer.output_shape(*in_shapes))
    except ValueError:
        return None


def _group_weights(weights: dict, entries) -> dict[str, dict]:
    """``{"conv1/W": a}`` to ``{"conv1": {"W": a}}``; a key for no layer is refused."""
    names = {e.get("name") for e in entries if isinstance(e, dict)}
    grouped: dict[str, dict] = {}
    for key, value in weights.items():
        layer, _, param = str(key).rpartition("/")
        if layer not in names or not param:
            raise ValueError(f"The weights hold {key!r}, but no layer of the spec is named {layer!r}.")
        grouped.setdefault(layer, {})[param] = value
    return grouped


def _assign(layer, given: dict, xp) -> None:
    for param, value in given.items():
        if param not in layer.params:
            raise ValueError(f"weights give {layer.name}/{param}, which a {layer.kind} layer does "
                             f"not have (it has {', '.join(layer.params) or 'no parameters'})")
        arr = np.asarray(value, dtype=np.float32) if isinstance(value, np.ndarray) else value
        want = tuple(layer.params[param].shape)
        if tuple(arr.shape) != want:
            raise ValueError(f"weights give {layer.name}/{param} the shape {tuple(arr.shape)} "
                             f"where it needs {want}")
        layer.params[param] = xp.asarray(arr, dtype=np.float32)


def to_spec(net) -> dict:
    """The dict form; ``inputs`` written only where they are not the previous layer."""
    layers, previous = [], "input"
    for layer in net.layers:
        entry = layer.to_spec()
        if entry.get("inputs") == [previous]:
            entry.pop("inputs")
        layers.append(entry)
        previous = layer.name
    return {"name": net.name, "input_shape": list(net.input_shape), "layers": layers}
