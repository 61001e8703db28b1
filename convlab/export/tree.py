"""Folders read, linked and removed without ever following a symbolic link.

Every folder is opened by name relative to its parent's descriptor with ``O_NOFOLLOW |
O_DIRECTORY | O_NONBLOCK``, so a link (to a folder outside, or anywhere) is never entered and a
named pipe is never waited on; every entry is judged by ``lstat``. Paths are relative POSIX
strings (``"conv/map_000.png"``); names that are not UTF-8 pass through as Python's
surrogate-escaped text, which every ``os`` call accepts back.

:func:`scan` lists a whole tree (bounded: :data:`MAX_ENTRIES` entries, :data:`MAX_DEPTH`
levels); :func:`link_into` makes a second name for a file (hard link: the same file, nothing
copied); :func:`remove_tree` removes the entries of a tree that a caller can prove may go and
keeps everything else.
"""

from __future__ import annotations

import os
import stat
from pathlib import PurePosixPath
from typing import Callable

MAX_ENTRIES = 10_000  # files and folders of your own that an export keeps beside its files
MAX_DEPTH = 64
_DIR_FLAGS = (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
              | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
FILE_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
              | getattr(os, "O_CLOEXEC", 0))


class TreeRefused(ValueError):
    """A tree that cannot be handled safely; ``str(exc)`` is the end of a sentence."""


def open_dir(name, dir_fd: int | None = None) -> int:
    """A descriptor of the real folder ``name`` (``ELOOP`` or ``ENOTDIR`` for a link or file)."""
    return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)


def open_rel(root_fd: int, rel: str) -> int:
    """A descriptor of the folder ``rel`` under ``root_fd``, each component opened without
    following links (``""`` or ``"."``: a new descriptor of the root itself)."""
    fd = os.dup(root_fd)
    for part in PurePosixPath(rel).parts if rel not in ("", ".") else ():
        try:
            child = open_dir(part, fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def lstat_rel(root_fd: int, rel: str) -> os.stat_result | None:
    """``lstat`` of ``rel`` under ``root_fd`` without following any link on the way; None if
    it is not there (or a component is not a real folder)."""
    parent, name = split(rel)
    try:
        fd = open_rel(root_fd, parent)
    except OSError:
        return None
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except OSError:
        return None
    finally:
        os.close(fd)


def split(rel: str) -> tuple[str, str]:
    """``"a/b/c.png"`` -> ``("a/b", "c.png")``; ``"c.png"`` -> ``("", "c.png")``."""
    head, _, tail = rel.rpartition("/")
    return head, tail


def scan(root_fd: int, *, max_entries: int = MAX_ENTRIES) -> dict[str, os.stat_result]:
    """Every entry under ``root_fd`` (folders before their contents) -> its ``lstat``.

    Links, pipes and devices are listed, never entered or opened; a folder on another device
    (a mount point) is listed but not entered.
    Raises :class:`TreeRefused` past ``max_entries`` entries or :data:`MAX_DEPTH` levels.
    """
    found: dict[str, os.stat_result] = {}
    device = os.fstat(root_fd).st_dev
    stack = [("", 0)]  # folders still to list, by path: never a descriptor per waiting folder
    while stack:
        folder, depth = stack.pop()
        fd = open_rel(root_fd, folder)
        try:
            with os.scandir(fd) as it:
                names = sorted(entry.name for entry in it)
            for name in names:
                rel = f"{folder}/{name}" if folder else name
                try:
                    info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue  # gone since it was listed
                found[rel] = info
                if len(found) > max_entries:
                    raise TreeRefused(f"it holds more than {max_entries:,} files and folders")
                if stat.S_ISDIR(info.st_mode) and info.st_dev == device:
                    if depth + 1 >= MAX_DEPTH:
                        raise TreeRefused(f"its folders are nested more than {MAX_DEPTH} deep")
                    stack.append((rel, depth + 1))
        finally:
            os.close(fd)
    return dict(sorted(found.items(), key=lambda item: (item[0].count("/"), item[0])))


def link_into(src_root: int, dst_root: int, rel: str) -> None:
    """Give the file (link, pipe, ...) ``rel`` of ``src_root`` a second name ``rel`` in
    ``dst_root``: a hard link of the entry itself, never of what a link points to."""
    parent, name = split(rel)
    src = open_rel(src_root, parent)
    try:
        dst = open_rel(dst_root, parent)
        try:
            os.link(name, name, src_dir_fd=src, dst_dir_fd=dst, follow_symlinks=False)
        finally:
            os.close(dst)
    finally:
        os.close(src)


def make_dir(root_fd: int, rel: str) -> None:
    """Create the folder ``rel`` under ``root_fd`` (its parent must exist), private for now."""
    parent, name = split(rel)
    fd = open_rel(root_fd, parent)
    try:
        os.mkdir(name, 0o700, dir_fd=fd)
    except FileExistsError:
        pass
    finally:
        os.close(fd)


def set_mode(root_fd: int, rel: str, mode: int) -> None:
    """Give the folder ``rel`` under ``root_fd`` the permission bits of ``mode`` (a link put
    there meanwhile is refused, never followed)."""
    fd = open_rel(root_fd, rel)
    try:
        os.fchmod(fd, stat.S_IMODE(mode))
    finally:
        os.close(fd)


def remove_tree(root_fd: int, may_go: Callable[[str, os.stat_result], bool],
                after_each: Callable[[], None] = lambda: None) -> bool:
    """Remove the entries under ``root_fd`` for which ``may_go(rel, lstat)`` holds, then every
    folder left empty; True when nothing at all is left. Never follows a link; an entry that
    cannot be removed is kept. ``after_each()`` runs after each removal."""
    try:
        found = scan(root_fd, max_entries=10 * MAX_ENTRIES)
    except (OSError, TreeRefused):
        return False
    left = False
    for rel, info in sorted(found.items(), key=lambda item: -item[0].count("/")):
        folder = stat.S_ISDIR(info.st_mode)
        if not folder and not may_go(rel, info):
            left = True
            continue
        parent, name = split(rel)
        try:
            fd = open_rel(root_fd, parent)
        except OSError:
            left = True
            continue
        try:
            os.rmdir(name, dir_fd=fd) if folder else os.unlink(name, dir_fd=fd)
            after_each()
        except OSError:  # not empty, or not ours to remove: kept, tried again next time
            left = True
        finally:
            os.close(fd)
    return not left
