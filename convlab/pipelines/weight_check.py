"""Is a network's weighting real? Constant and degenerate weights, named (no Qt).

A model can load and run and still be no trained model: the ONNX test models in the ``onnx``
wheel (``backend/test/data/light``) hold constant fills, so every map of a layer is the same
and activations grow without bound (AlexNet's reach 5e10). :func:`weights_finding` looks at
the weights ``W`` of every convolution and fully connected layer:

- constant: ``max(W) - min(W) == 0`` (every weight one value);
- degenerate: not constant, but every filter equal to the first, ``W[o] == W[0]`` for all
  ``o`` (the layer's output channels are all alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlab.engine.backend import to_numpy

WEIGHTED = ("conv", "deconv", "fc")


@dataclass(frozen=True)
class WeightsFinding:
    """What :func:`weights_finding` saw: layer names that are ``constant`` or ``degenerate``,
    out of ``total`` weighted layers; ``example`` is ``(layer, value)`` of a constant one."""

    constant: tuple[str, ...]
    degenerate: tuple[str, ...]
    total: int
    example: tuple[str, float] | None

    @property
    def suspect(self) -> bool:
        return bool(self.constant or self.degenerate)

    def sentence(self) -> str:
        """One sentence for a person ("" when the weights look like real ones)."""
        if not self.suspect:
            return ""
        parts = []
        if self.constant:
            name, value = self.example
            parts.append(f"{len(self.constant)} of {self.total} weighted layers are constant "
                         f"fills (every weight of {name} is {value:.4g})")
        if self.degenerate:
            parts.append(f"{len(self.degenerate)} have all filters identical "
                         f"({', '.join(self.degenerate[:3])})")
        return ("Not trained weights: " + "; ".join(parts) + ", so every map of such a layer is "
                "the same and the top-5 means nothing.")


def weights_finding(net) -> WeightsFinding:
    """Look at the ``W`` of every conv, deconv and fc layer of ``net`` (see the module)."""
    constant, degenerate, total, example = [], [], 0, None
    for layer in getattr(net, "layers", ()):
        w = layer.params.get("W") if layer.kind in WEIGHTED else None
        if w is None or not getattr(w, "size", 0):
            continue
        total += 1
        w = to_numpy(w)
        flat = w.reshape(len(w), -1)  # (out, everything else)
        if float(flat.max()) == float(flat.min()):
            constant.append(layer.name)
            example = example or (layer.name, float(flat.flat[0]))
        elif len(flat) > 1 and bool(np.all(flat == flat[:1])):
            degenerate.append(layer.name)
    return WeightsFinding(tuple(constant), tuple(degenerate), total, example)
