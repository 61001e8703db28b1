"""A network run's outputs by layer name, holding each ReLU's as the name of its input.

A ReLU's output is ``max(x, 0)`` of its input, which the run keeps anyway: AlexBN at a 500-pixel
input holds 26 MB of ReLU outputs in each result, and the pane keeps one result while its worker
makes the next. :class:`LayerOutputs` keeps, for a ReLU whose input it holds, only that input's
name, and makes the output again when it is asked for (``ops.relu``, the function the run used:
the same bits), keeping the last one made. Everything else is a plain mapping.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np

from convlab.engine import ops


@dataclass(frozen=True)
class ReluOf:
    """A ReLU's output, held as the name of the layer it reads."""

    source: str


class LayerOutputs(MutableMapping):
    """``name -> (C, h, w) or (F,)`` NumPy array, in layer order (see the module docstring)."""

    def __init__(self):
        self._items: dict[str, np.ndarray | ReluOf] = {}
        self._last: tuple[str, np.ndarray] | None = None
        self._lock = threading.Lock()  # the GUI thread and the pane's map worker both read

    def keep_relu(self, name: str, source: str) -> bool:
        """Hold ReLU ``name`` as ``max(outputs[source], 0)``; False (nothing held) when
        ``source`` is not held here."""
        if source not in self._items:
            return False
        held = self._items[source]
        # max(max(x, 0), 0) is max(x, 0), bit for bit: a ReLU of a held ReLU reads that one's
        # source, so every chain is one step deep (a thousand ReLUs in a row made the lookup
        # recurse a thousand deep)
        self._items[name] = held if isinstance(held, ReluOf) else ReluOf(source)
        return True

    def __getitem__(self, name: str) -> np.ndarray:
        item = self._items[name]
        if not isinstance(item, ReluOf):
            return item
        with self._lock:
            if self._last is not None and self._last[0] == name:
                return self._last[1]
        out = ops.relu(self._items[item.source])  # a source is never a ReluOf (keep_relu)
        with self._lock:
            self._last = (name, out)
        return out

    def shape_of(self, name: str) -> tuple[int, ...]:
        """The shape of ``self[name]`` without making a ReLU's output again (GUI thread)."""
        item = self._items[name]
        return self._items[item.source].shape if isinstance(item, ReluOf) else item.shape

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self._items[name] = value

    def __delitem__(self, name: str) -> None:
        del self._items[name]
        with self._lock:
            if self._last is not None and self._last[0] == name:
                self._last = None

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name) -> bool:
        return name in self._items

    @property
    def nbytes(self) -> int:
        """What is held (arrays, not the ReLUs made again)."""
        return sum(v.nbytes for v in self._items.values() if isinstance(v, np.ndarray))
