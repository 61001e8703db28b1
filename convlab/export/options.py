"""The one validator of export options, shared by File > Export and ``convlab export``.

Errors are ``ValueError`` with one sentence (no capital, no full stop): the command line
prints it as a usage error, :func:`convlab.export.maps.export_maps` as "Cannot export: ...".
"""

from __future__ import annotations

import numpy as np

from convlab.render import colour


def select_layers(names: list[str], what="all") -> list[str]:
    """``"all"``, ``"final"``, ``"conv1,pool5"`` or a list -> the chosen names in network order."""
    names = list(names)
    if what in (None, "all"):
        return names
    if what in ("final", "last"):
        return names[-1:]
    wanted = [w.strip() for w in (what.split(",") if isinstance(what, str) else what) if w.strip()]
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise ValueError(f"unknown layer {unknown[0]!r}; choose from {', '.join(names)}")
    if not wanted:
        raise ValueError(f"no layer chosen; choose from {', '.join(names)}")
    return [n for n in names if n in wanted]


def check_options(*, grid: bool = True, per_map: bool = True, npy: bool = False,
                  cmap: str = "viridis", normalize="map", scale: int = 1, sep: int = 1):
    """The one validator of export options, for the window and ``convlab export`` alike.

    Returns ``(cmap name, normalisation mode)``; raises ValueError with one sentence (no
    capital, no full stop) for an unknown colormap, a bad normalisation, a scale outside 1..64,
    a separator outside 0..16, or nothing switched on.
    """
    cmap = colour.check_colormap(cmap)
    mode = colour.parse_normalize(normalize)
    colour.normalize_bounds(np.zeros((1, 1, 1)), mode)
    for label, value, lo, hi in (("scale", scale, 1, 64), ("separator", sep, 0, 16)):
        if not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise ValueError(f"{label} must be a whole number from {lo} to {hi}, got {value!r}")
    if not (grid or per_map or npy):
        raise ValueError("grids, maps and .npy files are all switched off: nothing to export")
    return cmap, mode
