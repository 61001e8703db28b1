"""Specs to layers and back (the format is in SPEC_FORMAT.md; ``Network.from_spec`` calls this).

Every refusal is a ``ValueError`` with one sentence naming the layer by position and name.
"""

from __future__ import annotations

import numpy as np

from convlab.engine import layers as L

DEFAULT_INPUT = (3, 227, 227)
PROBE = 1 << 14   # H and W of the probe input used to infer channel counts


def _refuse(i: int, name, problem: str):
    who = f"Layer {i + 1}" + (f" ({name!r})" if isinstance(name, str) and name else "")
    raise ValueError(f"{who}: {problem.rstrip('.')}.")


def parse(spec) -> tuple[str, tuple[int, int, int], list]:
    """``(name, input_shape, layer dicts)`` from a dict spec or a bare list of layers."""
    if isinstance(spec, (list, tuple)):
        return "custom", DEFAULT_INPUT, list(spec)
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
    return name, tuple(int(v) for v in shape), list(layers)


def _inputs(i: int, entry: dict, seen: list[str], cls, every_name: set) -> list[str]:
    """The resolved input names of layer ``i`` (default: the previous layer, or the input)."""
    given = entry.get("inputs")
    if given is None:
        names = [seen[-1] if seen else "input"]
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


def _check_head(i: int, entry, seen: list[str]) -> type:
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
    parametrised layer, in layer order, so the built-in specs give ``build_network``'s weights."""
    name, input_shape, entries = parse(spec)
    weights = _group_weights(weights or {}, entries)
    n_param = sum(1 for e in entries if isinstance(e, dict)
                  and getattr(L.KINDS.get(e.get("kind")), "parametrised", False))
    seeds = iter(np.random.SeedSequence(seed).spawn(n_param))
    shapes: dict[str, tuple | None] = {"input": input_shape}
    # channel counts do not depend on H and W: where a layer cannot take the real input size,
    # in_channels / size are still inferred from a large probe input
    probe: dict[str, tuple | None] = {"input": (input_shape[0], PROBE, PROBE)}
    seen: list[str] = []
    built = []
    every_name = {e.get("name") for e in entries if isinstance(e, dict)}
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
        seen.append(layer.name)
        shapes[layer.name] = _shape_or_none(layer, [shapes[n] for n in inputs])
        probe[layer.name] = _shape_or_none(layer, probe_shapes)
    return name, input_shape, built


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
