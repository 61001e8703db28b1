"""What the Network pane remembers across sessions: its settings, as plain JSON values.

``remembered_settings(s)`` keeps the fields of :class:`NetworkSettings` that are plain values;
``restored_settings(current, saved)`` applies those that still exist with the same type and
are valid (a weights file that is gone is dropped), and ignores everything else.
"""

from __future__ import annotations

import dataclasses
import os

PLAIN = (bool, int, float, str, type(None))


def remembered_settings(settings, names) -> dict:
    """``{field: value}`` of ``settings``' fields ``names`` that hold plain values."""
    return {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)
            if f.name in names and isinstance(getattr(settings, f.name), PLAIN)}


def restored_settings(current, saved):
    """``current`` with the remembered fields of ``saved`` that still fit; ``current`` if none."""
    if not isinstance(saved, dict):
        return current
    changes = {}
    for f in dataclasses.fields(current):
        if f.name not in saved:
            continue
        value, now = saved.get(f.name, getattr(current, f.name)), getattr(current, f.name)
        if not isinstance(value, PLAIN) or (now is not None and value is not None
                                            and type(value) is not type(now)):
            continue
        changes[f.name] = value
    weights = changes.get("weights")
    if weights is not None and not (isinstance(weights, str) and os.path.isfile(weights)):
        changes["weights"] = None
    try:
        return current.replace(**changes)
    except (TypeError, ValueError):
        return current
