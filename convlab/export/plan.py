"""What an export's final step will do with what is already in the target folder.

Every entry of the target (read by :func:`convlab.export.tree.scan`: never through a link) is
one of three things:

- **replaced or stale**: a file an earlier ConvLab export wrote and can prove (its manifest
  lists it with these very bytes, :mod:`convlab.export.owned`), and the earlier manifest itself.
  It stays behind in the old folder and is removed with it.
- **in the way**: anything else at a path the new export writes (a file or a link where a file
  or folder goes, a named pipe called ``manifest.json``, a user's own ``manifest.json``):
  the export is refused with one sentence, before anything is changed.
- **the user's own**: kept. The new folder gets a second name for it (a hard link: the same
  file, nothing copied or opened) and its folders are made again with their modes.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from convlab.export import tree
from convlab.export.owned import MANIFEST, identity, proves, read_manifest
from convlab.pipelines.guard import kind_of


class ExportRefused(ValueError):
    """An export refused before anything changed; ``str(exc)`` is the whole sentence."""


@dataclass
class Plan:
    fresh: bool = True  # no target yet: one rename puts the new folder in place
    mode: int = 0o777
    dirs: list = field(default_factory=list)   # [(rel, st_mode)] the user's folders to make again
    files: list = field(default_factory=list)  # the user's entries to give a second name
    proven: set = field(default_factory=set)   # identities of the earlier export's files


def _ancestors(paths) -> set[str]:
    return {str(p) for rel in paths for p in PurePosixPath(rel).parents if str(p) != "."}


def _in_the_way(out, rel: str, info: os.stat_result, manifest) -> ExportRefused:
    if rel == MANIFEST and stat.S_ISREG(info.st_mode):
        what = manifest.what or "a file that ConvLab did not write"
    elif stat.S_ISLNK(info.st_mode):
        what = "a symbolic link, which ConvLab never follows"
    elif stat.S_ISREG(info.st_mode):
        what = "a file that ConvLab did not write (or that changed since it did)"
    else:
        what = kind_of(info.st_mode) + " that ConvLab did not make"
    return ExportRefused(f"Cannot export to {out}: {rel} there is {what}, and the export would "
                         "replace it; move it away or export into another folder.")


def make_plan(out, out_fd: int | None, new_paths: list[str]) -> Plan:
    """Judge every entry of the target ``out`` (open as ``out_fd``; None when it does not
    exist yet) against the files the export writes; :class:`ExportRefused` when one is in
    the way. Reads the earlier manifest and proves its files (reads them), opens nothing else."""
    if out_fd is None:
        return Plan()
    try:
        entries = tree.scan(out_fd, max_entries=tree.MAX_ENTRIES)
    except tree.TreeRefused as exc:
        raise ExportRefused(f"Cannot export to {out}: {exc}, more than ConvLab keeps beside an "
                            "export's files; export into a new or emptier folder.") from None
    manifest = read_manifest(out_fd, entries.get(MANIFEST))
    new, new_dirs = set(new_paths), _ancestors(new_paths)
    device = os.fstat(out_fd).st_dev
    plan = Plan(fresh=False, mode=os.fstat(out_fd).st_mode)
    if manifest.state == "ours":
        plan.proven.add(identity(manifest.info))
    for rel, info in entries.items():
        folder = stat.S_ISDIR(info.st_mode)
        if rel in new_dirs:
            if not folder or info.st_dev != device:
                raise _in_the_way(out, rel, info, manifest)
        elif (rel == MANIFEST and manifest.state == "ours") or proves(out_fd, manifest, rel, info):
            plan.proven.add(identity(info))
        elif rel in new:
            raise _in_the_way(out, rel, info, manifest)
        elif folder and info.st_dev != device:
            raise ExportRefused(f"Cannot export to {out}: {rel} there is a mount point (another "
                                "file system), which ConvLab cannot keep in a new folder; "
                                "export into another folder.")
        elif folder:
            plan.dirs.append((rel, info.st_mode))
        else:
            plan.files.append(rel)
    nonempty = _ancestors(entries)
    empty = {rel for rel, _ in plan.dirs if rel not in nonempty}  # a user's empty folder stays
    kept = _ancestors([*plan.files, *empty]) | empty
    plan.dirs = [(rel, mode) for rel, mode in plan.dirs if rel in kept]  # emptied by stale files
    return plan


def carry(plan: Plan, out, out_fd: int, stage_fd: int) -> None:
    """Make the user's folders again in the staging folder and give each of their entries a
    second name there (a hard link); :class:`ExportRefused` when one cannot have one. The
    folders get their modes last, so that a read-only one can be filled first."""
    for rel, _ in plan.dirs:
        tree.make_dir(stage_fd, rel)
    for rel in plan.files:
        try:
            tree.link_into(out_fd, stage_fd, rel)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                raise
            raise ExportRefused(f"Cannot export to {out}: ConvLab could not keep {rel} in the "
                                f"new folder ({(exc.strerror or str(exc)).lower()}); move it "
                                "away or export into another folder.") from None
    for rel, mode in reversed(plan.dirs):  # deepest first
        tree.set_mode(stage_fd, rel, mode)
