"""What an export can prove is its own: a manifest ConvLab wrote, checked against the disk.

A ConvLab manifest says ``"generator": "convlab"``, a ``"format"`` starting ``convlab-export``
and, under ``"checksums"``, every file it lists as ``{path: {"bytes": n, "sha256": hex}}``.
A file is ConvLab's own when such a manifest lists it and the file on disk is a regular file of
exactly those bytes (same size, same SHA-256), reached without following a link. Nothing
else (a manifest of another program, a file that changed since, a name that leaves the folder)
is ever removed or replaced. The manifest is read bounded (:data:`MANIFEST_LIMIT`), through a
descriptor opened with ``O_NOFOLLOW | O_NONBLOCK`` and judged by ``fstat``: a named pipe is
never waited on, a link never followed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field

from convlab.export.tree import FILE_FLAGS, open_rel, split
from convlab.pipelines.guard import kind_of

GENERATOR = "convlab"
FORMAT_PREFIX = "convlab-export"
MANIFEST = "manifest.json"
MANIFEST_LIMIT = 64 * 2**20  # an AlexNet export of every map's manifest is about 5 MB
_CHUNK = 1 << 20
_HEX = re.compile(r"[0-9a-f]{64}")


def fingerprint(path) -> dict:
    """``{"bytes": n, "sha256": hex}`` of a file this export has just written."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def _read_at(root_fd: int, rel: str, size: int, sink) -> os.stat_result | None:
    """Feed the ``size`` bytes of the regular file ``rel`` to ``sink``; its ``fstat``, or None
    when it is not a regular file of that size (or cannot be opened without following a link)."""
    parent, name = split(rel)
    try:
        folder = open_rel(root_fd, parent)
    except OSError:
        return None
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != size:
            return None
        left = size
        while left > 0:
            chunk = os.read(fd, min(_CHUNK, left))
            if not chunk:
                return None
            sink(chunk)
            left -= len(chunk)
        return None if os.read(fd, 1) else info
    except OSError:
        return None
    finally:
        os.close(fd)


def valid_rel(rel) -> bool:
    """A relative POSIX path inside the folder: no ``..``, no empty part, not hidden at the top."""
    if not isinstance(rel, str) or not rel or rel.startswith("/") or "\\" in rel or "\0" in rel:
        return False
    parts = rel.split("/")
    return all(p not in ("", ".", "..") for p in parts) and not parts[0].startswith(".")


@dataclass
class Manifest:
    """The ``manifest.json`` found in a folder: ``state`` is ``"absent"``, ``"ours"`` (ConvLab's,
    with its ``checksums``) or ``"foreign"`` (``what`` says what it is instead)."""

    state: str = "absent"
    what: str = ""
    checksums: dict = field(default_factory=dict)
    info: os.stat_result | None = None


def read_manifest(root_fd: int, info: os.stat_result | None, rel: str = MANIFEST) -> Manifest:
    """Judge the ``manifest.json`` whose ``lstat`` is ``info`` (None: there is none)."""
    if info is None:
        return Manifest()
    if not stat.S_ISREG(info.st_mode):
        return Manifest("foreign", kind_of(info.st_mode), info=info)
    if info.st_size > MANIFEST_LIMIT:
        return Manifest("foreign", "a file too large to be ConvLab's manifest", info=info)
    parts: list[bytes] = []
    if _read_at(root_fd, rel, info.st_size, parts.append) is None:
        return Manifest("foreign", "a file that changed while it was read", info=info)
    try:
        data = json.loads(b"".join(parts).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        data = None
    convlab_format = isinstance(data, dict) and str(data.get("format", "")).startswith(FORMAT_PREFIX)
    if not (convlab_format and data.get("generator") == GENERATOR
            and isinstance(data.get("checksums"), dict)):
        return Manifest("foreign", "a manifest of an older ConvLab, which cannot prove which files "
                        "are its own" if convlab_format else "a manifest that ConvLab did not write",
                        info=info)
    sums = {rel: v for rel, v in data["checksums"].items()
            if valid_rel(rel) and isinstance(v, dict) and isinstance(v.get("bytes"), int)
            and v["bytes"] >= 0 and isinstance(v.get("sha256"), str) and _HEX.fullmatch(v["sha256"])}
    return Manifest("ours", "ConvLab's manifest", sums, info)


def proves(root_fd: int, manifest: Manifest, rel: str, info: os.stat_result) -> bool:
    """True when ``manifest`` (ConvLab's) lists ``rel`` and the regular file there (``info``,
    its ``lstat``) holds exactly the bytes it lists."""
    want = manifest.checksums.get(rel) if manifest.state == "ours" else None
    if want is None or not stat.S_ISREG(info.st_mode) or info.st_size != want["bytes"]:
        return False
    digest = hashlib.sha256()
    opened = _read_at(root_fd, rel, want["bytes"], digest.update)
    return (opened is not None and (opened.st_dev, opened.st_ino) == (info.st_dev, info.st_ino)
            and digest.hexdigest() == want["sha256"])


def identity(info: os.stat_result) -> tuple:
    """What says an entry is still the very file that was proven: device, inode, size, mtime."""
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns
