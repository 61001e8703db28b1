"""Edits of a network spec (SPEC_FORMAT.md) as pure functions, and the undo command that applies one.

Every function returns a new spec dict and leaves its argument alone, so an undo stack can hold
the spec before and after each edit. :class:`SpecEdit` merges consecutive changes of the same
argument of the same layer (a spin box stepped ten times is one undo step).
"""

from __future__ import annotations

import copy
from typing import Callable

from PySide6.QtGui import QUndoCommand

from convlab.engine.nets import presets as specs

# the kinds the editor offers, with the arguments a new layer of that kind starts from
NEW_LAYER = {
    "conv": {"out_channels": 64, "ksize": 3, "pad": 1},
    "deconv": {"out_channels": 64, "ksize": 4, "stride": 2, "pad": 1},
    "bn": {},
    "relu": {},
    "lrn": {},
    "pool": {"mode": "max", "ksize": 3, "stride": 2},
    "fc": {"out_size": 1000},
    "dropout": {},
    "flatten": {},
}
EMPTY = {"name": "custom", "input_shape": [3, 227, 227], "layers": []}


def empty_spec() -> dict:
    return copy.deepcopy(EMPTY)


def unique_name(spec: dict, kind: str) -> str:
    """``kind`` plus the first number not used yet (``conv6`` after ``conv1``..``conv5``)."""
    used = {layer.get("name") for layer in spec["layers"]}
    n = 1
    while f"{kind}{n}" in used:
        n += 1
    return f"{kind}{n}"


def _edited(spec: dict) -> dict:
    out = copy.deepcopy(spec)
    if out.get("name") in specs.PRESETS:
        out["name"] = f"{out['name']}-edited"
    return out


def add_layer(spec: dict, index: int, kind: str) -> dict:
    """A new ``kind`` layer at ``index`` (0 = first; ``len(layers)`` = last)."""
    out = _edited(spec)
    layer = {"name": unique_name(spec, kind), "kind": kind, **copy.deepcopy(NEW_LAYER[kind])}
    out["layers"].insert(max(0, min(index, len(out["layers"]))), layer)
    return out


def remove_layer(spec: dict, index: int) -> dict:
    out = _edited(spec)
    del out["layers"][index]
    return out


def move_layer(spec: dict, index: int, delta: int) -> dict:
    """Swap layer ``index`` with its neighbour ``index + delta`` (unchanged at the ends)."""
    out = _edited(spec)
    target = index + delta
    if 0 <= index < len(out["layers"]) and 0 <= target < len(out["layers"]):
        layers = out["layers"]
        layers[index], layers[target] = layers[target], layers[index]
    return out


def set_arg(spec: dict, index: int, arg: str, value) -> dict:
    """Set one argument of layer ``index``; ``None`` removes it (its default applies)."""
    out = _edited(spec)
    layer = out["layers"][index]
    if arg == "name":
        layer["name"] = value
    elif value is None:
        layer.pop(arg, None)
    else:
        layer[arg] = value
    return out


def set_kind(spec: dict, index: int, kind: str) -> dict:
    """Make layer ``index`` a fresh ``kind`` layer, keeping its name and inputs."""
    out = _edited(spec)
    old = out["layers"][index]
    new = {"name": old["name"], "kind": kind, **copy.deepcopy(NEW_LAYER.get(kind, {}))}
    if "inputs" in old:
        new["inputs"] = old["inputs"]
    out["layers"][index] = new
    return out


def set_input_size(spec: dict, channels: int) -> dict:
    out = _edited(spec)
    out["input_shape"] = [channels] + list(out.get("input_shape", [3, 227, 227]))[1:]
    return out


class SpecEdit(QUndoCommand):
    """One edit: ``apply(spec, selected_row)`` shows the spec after (redo) or before (undo)."""

    def __init__(self, text: str, before: dict, after: dict, apply: Callable[[dict, int], None],
                 row: int = -1, merge_key: tuple | None = None):
        super().__init__(text)
        self.before, self.after, self.apply, self.row = before, after, apply, row
        self.merge_key = merge_key

    def id(self) -> int:  # noqa: A003 (Qt's name)
        return 1 if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:  # noqa: N802
        if not isinstance(other, SpecEdit) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        self.apply(self.after, self.row)

    def undo(self) -> None:
        self.apply(self.before, self.row)
