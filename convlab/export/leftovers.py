"""What a killed export leaves behind, and how the next export into the same place clears it.

An export builds its files in ``<parent>/.convlab-export-<tag>-<pid>-<random>`` beside the
target (``tag``: 8 hex digits of the SHA-256 of the target's name, so a leftover can be matched
to its target), with an empty ``.convlab-unfinished-<random>`` in it until the moment before
the swap. After the swap that folder holds the old target. On a file system without an atomic
exchange the old target is first moved to ``<staging>/.convlab-replaced-<pid>-<random>`` and
so ends inside the new target, until it is cleared.

A leftover is cleared (by :func:`sweep`, with the lock held) when its process is gone (or its
pid now belongs to a process that started after the folder was last changed; where start times
cannot be read, when it is older than an hour), and then only entry by entry: an unfinished staging folder is ConvLab's
alone (new files, and second names of files that are still in the target); otherwise an entry
goes only when it is the very same file as the one at its place in the target (a second name,
nothing lost) or a file its own ConvLab manifest lists with the same bytes. Anything else
stays, and so does the folder. An old target caught between the fallback's two renames is put
back first.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time

from convlab.export.owned import MANIFEST, Manifest, identity, proves, read_manifest
from convlab.export.tree import (MAX_ENTRIES, TreeRefused, lstat_rel, open_dir, open_rel,
                                 remove_tree, scan, split)
from convlab.pipelines.guard import STALE_AFTER_S, left_by_gone_process

STAGING = ".convlab-export"
REPLACED = ".convlab-replaced"
UNFINISHED = ".convlab-unfinished"
STAGING_RE = re.compile(r"\.convlab-export-([0-9a-f]{8})-(\d+)-([0-9a-f]{8})")
REPLACED_RE = re.compile(r"\.convlab-replaced-(\d+)-([0-9a-f]{8})")
OLD_STAGING_RE = re.compile(r"\.convlab-export-(?:(\d+)-)?[A-Za-z0-9_]+")  # older ConvLabs'


def tag(name) -> str:
    """8 hex digits naming a target folder in its staging folders' names."""
    return hashlib.sha256(os.fsencode(name)).hexdigest()[:8]


def marker_of(staging_name: str) -> str:
    return f"{UNFINISHED}-{staging_name[-8:]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):  # someone else's, or not a pid
        return pid > 0
    return pid > 0


def _stale(pid: int, info: os.stat_result) -> bool:
    """Its process is gone or its pid was reused (``guard.left_by_gone_process``): an export
    that runs for hours keeps its staging folder."""
    return not _alive(pid) or left_by_gone_process(pid, info.st_mtime)


def _lstat(name, dir_fd):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None


def clear(folder_fd: int, name: str, target_fd: int | None, *, known=frozenset(),
          read: bool = True, after_each=lambda: None) -> bool:
    """Remove the leftover folder ``name`` in ``folder_fd`` as far as it is provably ConvLab's
    (see the module docstring); ``known``: identities proven earlier; ``read=False`` opens no
    file (for use while signals are held). True when it is gone."""
    try:
        fd = open_dir(name, folder_fd)
    except OSError:
        return False
    try:
        marker = marker_of(name)
        unfinished = _lstat(marker, fd) is not None
        manifest = read_manifest(fd, _lstat(MANIFEST, fd)) if read else Manifest()

        def may_go(rel: str, info: os.stat_result) -> bool:
            if unfinished or rel == marker or identity(info) in known:
                return True
            there = lstat_rel(target_fd, rel) if target_fd is not None else None
            if there is not None and (there.st_dev, there.st_ino) == (info.st_dev, info.st_ino):
                return True  # a second name of a file that is in the target: nothing is lost
            if rel == MANIFEST and manifest.state == "ours":
                return True
            return read and proves(fd, manifest, rel, info)

        empty = remove_tree(fd, may_go, after_each)
    finally:
        os.close(fd)
    if empty:
        try:
            os.rmdir(name, dir_fd=folder_fd)
        except OSError:
            return False
    return empty


def _open_target(folder_fd: int, name: str | None):
    if name is None:
        return None
    try:
        return open_dir(name, folder_fd)
    except OSError:
        return None


def _target_of(folder_fd: int, leftover_tag: str, names: list[str]) -> str | None:
    """The target (any name, hidden ones too, but never a leftover itself) whose tag it has."""
    return next((n for n in names if tag(n) == leftover_tag and not STAGING_RE.fullmatch(n)
                 and not REPLACED_RE.fullmatch(n)), None)


def _put_back(folder_fd: int, leftover: str, target: str) -> None:
    """The fallback was killed between its two renames: move the old target back in place."""
    try:
        fd = open_dir(leftover, folder_fd)
    except OSError:
        return
    try:
        inner = [n for n in os.listdir(fd) if REPLACED_RE.fullmatch(n)]
        if len(inner) == 1 and _lstat(target, folder_fd) is None:
            os.rename(inner[0], target, src_dir_fd=fd, dst_dir_fd=folder_fd)
    finally:
        os.close(fd)


def sweep(folder_fd: int, target: str | None, own: str | None = None) -> tuple[list, list]:
    """Clear the stale staging folders in ``folder_fd`` (see the module docstring); the old
    target named ``target`` is put back first if a fallback was killed halfway. Returns
    ``(names removed, names of live staging folders)``; call it with the lock held."""
    removed, live = [], []
    names = sorted(os.listdir(folder_fd))
    for name in names:
        match = STAGING_RE.fullmatch(name)
        info = _lstat(name, folder_fd) if match and name != own else None
        if info is None or not stat.S_ISDIR(info.st_mode):
            continue
        if not _stale(int(match[2]), info):
            live.append(name)
            continue
        if target is not None and match[1] == tag(target):
            _put_back(folder_fd, name, target)
        owner = _target_of(folder_fd, match[1], names if target is None else [target, *names])
        target_fd = _open_target(folder_fd, owner)
        try:
            if clear(folder_fd, name, target_fd):
                removed.append(name)
        finally:
            if target_fd is not None:
                os.close(target_fd)
    return removed, live


def sweep_inside(target_fd: int) -> list[str]:
    """Clear the fallback's old targets left inside the target itself (their files are the
    target's own or a ConvLab manifest's); returns the names removed."""
    removed = []
    for name in sorted(os.listdir(target_fd)):
        match = REPLACED_RE.fullmatch(name)
        info = _lstat(name, target_fd) if match else None
        if info is not None and stat.S_ISDIR(info.st_mode):  # under the lock: none is in use
            if clear(target_fd, name, target_fd):
                removed.append(name)
    return removed


def sweep_old(target_fd: int) -> list[str]:
    """Clear the staging folders that older ConvLabs left inside the target (``<STAGING>-<pid>-
    <token>`` or ``<STAGING>-<token>``) once stale, entry by entry like any leftover: the name
    alone proves nothing (a user's ``.convlab-export-notes`` is theirs), so only files their
    own ConvLab manifest proves, or second names of the target's files, go."""
    removed = []
    for name in sorted(os.listdir(target_fd)):
        match = OLD_STAGING_RE.fullmatch(name)
        info = _lstat(name, target_fd) if match else None
        if info is None or not stat.S_ISDIR(info.st_mode):
            continue
        pid = int(match[1]) if match[1] is not None else 0  # no pid: judged by age alone
        if _stale(pid, info) if pid else time.time() - info.st_mtime > STALE_AFTER_S:
            if clear(target_fd, name, target_fd):
                removed.append(name)
    return removed


def move_late(folder_fd: int, name: str, target_fd: int) -> list[str]:
    """Move into the target what is left in the old target ``name`` (after :func:`clear`) at
    a path the target does not have: files the user saved there after the export made its
    plan, which the new folder would otherwise hide. Renames only (no file is opened, so it
    may run while signals are held); a folder that is new as a whole moves in one rename.
    Returns the paths moved."""
    try:
        old = open_dir(name, folder_fd)
    except OSError:
        return []
    moved: list[str] = []
    try:
        for rel in scan(old, max_entries=10 * MAX_ENTRIES):
            if any(rel.startswith(m + "/") for m in moved) or lstat_rel(target_fd, rel):
                continue
            parent, base = split(rel)
            try:
                src, dst = open_rel(old, parent), None
                try:
                    dst = open_rel(target_fd, parent)
                    os.rename(base, base, src_dir_fd=src, dst_dir_fd=dst)
                    moved.append(rel)
                finally:
                    os.close(src)
                    if dst is not None:
                        os.close(dst)
            except OSError:
                continue  # kept where it is: nothing is lost
    except (OSError, TreeRefused):
        pass
    finally:
        os.close(old)
    return moved
