"""Names and text an export writes: one folder name per layer that collides with nothing the
export writes, and JSON-safe text for names that are not UTF-8."""

from __future__ import annotations

import re

from convlab.export.owned import MANIFEST


def printable(obj):
    """``obj`` with every string that is not valid UTF-8 (surrogate escapes from a file name in
    another encoding, ``os.fsdecode(b"ph\\xffoto.png")``) written with ``\\xff`` instead."""
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
            return obj
        except UnicodeEncodeError:
            raw = obj.encode("utf-8", "surrogateescape") if _escapes_only(obj) else None
            return (raw.decode("utf-8", "backslashreplace") if raw is not None
                    else obj.encode("utf-8", "backslashreplace").decode("utf-8"))
    if isinstance(obj, dict):
        return {printable(k): printable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [printable(v) for v in obj]
    return obj


def _escapes_only(text: str) -> bool:
    """True when every lone surrogate in ``text`` is a surrogate escape (U+DC80..U+DCFF)."""
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def folder_names(names: list[str]) -> list[str]:
    """A file-system-safe folder name per layer such that no two of the names an export writes
    (``F/``, ``F_grid.png``, ``F.npy`` for each layer, and ``manifest.json``) are the same,
    even on a file system that ignores case: a layer ``a_grid.png`` beside ``a`` becomes
    ``a_grid.png_2``, a layer ``manifest.json`` becomes ``manifest.json_2``."""
    out: list[str] = []
    taken = {MANIFEST.lower()}
    for name in names:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._-") or "layer"
        safe, k = base, 2
        while any(n.lower() in taken for n in _layer_files(safe)):
            safe, k = f"{base}_{k}", k + 1
        taken.update(n.lower() for n in _layer_files(safe))
        out.append(safe)
    return out


def _layer_files(folder: str) -> tuple[str, str, str]:
    return folder, f"{folder}_grid.png", f"{folder}.npy"
