"""All-or-nothing folder output for :mod:`convlab.export.maps`: build beside, then swap.

``with Transaction(out) as tx:`` makes a hidden staging folder beside ``out`` (in its parent,
created if missing; ``out`` must be a real folder or not exist, never a symbolic link); write
into ``tx.staging``, then call ``tx.commit(paths)`` (relative POSIX paths, ``manifest.json``
last). The commit:

1. takes the parent folder's lock (:class:`~convlab.export.exchange.FolderLock`), so two
   exports into one place make their final steps one after the other;
2. clears what killed exports left there (:mod:`convlab.export.leftovers`);
3. judges everything already in ``out`` (:mod:`convlab.export.plan`): an earlier export's files
   that its ConvLab manifest proves are left behind; anything else where the export writes
   refuses it in one sentence; the user's own files get a second name (a hard link) in the
   staging folder, so they are in the new folder too;
4. swaps the staging folder and ``out`` in one system call (``renameat2(RENAME_EXCHANGE)``; a
   plain rename for a new target; two renames where the file system cannot exchange);
5. removes the old folder entry by entry, as far as it is provably ConvLab's or a second name.

A SIGKILL at any moment leaves ``out`` as it was or as the new export made it (on a file system
without an exchange, between its two renames ``out`` is missing, and the next export puts it
back). SIGINT and SIGTERM are held during steps 4 and 5 only, which open and read nothing.
Leaving the block with an exception before the swap removes the staging folder and the
folders made for it: ``out`` was never touched. :func:`explain_failure` turns whatever stopped
an export into one sentence for a person.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from convlab.export import exchange, leftovers, tree
from convlab.export.plan import ExportRefused, carry, make_plan
from convlab.export.signals import HELD_SIGNALS, SignalHold  # noqa: F401 (HELD_SIGNALS: re-exported)
from convlab.pipelines import guard

MANIFEST = "manifest.json"
STAGING = leftovers.STAGING
REPLACED = leftovers.REPLACED
_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def checkpoint(name: str) -> None:
    """A named point of the final step; does nothing. Tests replace it to kill the process
    there: "locked", "swept", "planned", "carried", "sealed", "set-aside" (no exchange),
    "exchanged", "cleaning" (after the first removal), "clean"."""


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return next(int(line.split()[1], 8) for line in fh if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return 0o022


class Transaction:
    def __init__(self, out, *, wait=None):
        self.out = Path(os.path.abspath(os.fspath(out)))
        self.parent = self.out.parent
        self.wait = wait  # called while another export holds the lock; may raise to give up
        self.staging: Path | None = None
        self.created: list[Path] = []  # folders made for the target, outermost first
        self.committed = False
        self.swept: list[str] = []  # leftovers of killed exports cleared by this one
        self._held: SignalHold | None = None
        self._lock: exchange.FolderLock | None = None
        self._fds: dict[str, int] = {}
        self._aside: str | None = None  # the fallback's old target while inside the staging folder

    def __enter__(self) -> "Transaction":
        try:
            self._check_target()
            missing, p = [], self.parent
            while not os.path.lexists(p) and p != p.parent:
                missing.append(p)
                p = p.parent
            for folder in reversed(missing):
                os.mkdir(folder)
                self.created.append(folder)
            prefix = f"{STAGING}-{leftovers.tag(self.out.name)}"
            try:
                self.staging = Path(guard.make_staging_dir(self.parent, prefix))
            except PermissionError:
                raise ExportRefused(f"Cannot write to {self.parent}: permission denied (ConvLab "
                                    f"builds the new {self.out.name} beside the old one, then "
                                    "swaps them).") from None
            marker = self.staging / leftovers.marker_of(self.staging.name)
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except BaseException:
            self._discard(failed=True)
            raise
        return self

    def _check_target(self) -> None:
        if self.out == self.parent:
            raise ExportRefused(f"Cannot export into {self.out}: ConvLab builds an export beside "
                                "its folder, and the root folder has nothing beside it.")
        try:
            info = os.lstat(self.out)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(info.st_mode):
            raise ExportRefused(f"Cannot export to {self.out}: it is a symbolic link, which "
                                "ConvLab never follows or replaces; give the folder it points to.")
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(self.out))

    def __exit__(self, exc_type, exc, tb) -> bool:
        held = self._held if self._held is not None else SignalHold().hold()
        try:
            failed = not self.committed  # after the swap nothing is ever rolled back
            if failed:
                self._rollback()
            self._discard(failed)
        finally:
            self._held = None
            held.release()  # an interrupt during the swap is handled only now
        return False

    def commit(self, paths: list[str]) -> None:
        """Put the staged ``paths`` in place as the module docstring says (steps 1 to 5)."""
        self._lock = exchange.FolderLock(self.parent, self.wait).__enter__()
        checkpoint("locked")
        parent = self._fds["parent"] = os.open(self.parent, _DIR)
        self.swept, _ = leftovers.sweep(parent, self.out.name, own=self.staging.name)
        out_fd = self._open_target(parent)
        checkpoint("swept")
        plan = make_plan(self.out, out_fd, paths)
        checkpoint("planned")
        stage = self._fds["staging"] = tree.open_dir(self.staging.name, parent)
        if out_fd is not None:
            carry(plan, self.out, out_fd, stage)
        os.fchmod(stage, stat.S_IMODE(plan.mode) if not plan.fresh else 0o777 & ~_umask())
        checkpoint("carried")
        os.unlink(leftovers.marker_of(self.staging.name), dir_fd=stage)
        checkpoint("sealed")
        self._held = SignalHold().hold()  # from here: renames, lstat, unlink, rmdir only
        old = self._swap(plan.fresh, parent, stage)
        checkpoint("exchanged")
        if old is not None:
            first = []

            def after_each():
                if not first:
                    first.append(checkpoint("cleaning"))
            leftovers.clear(*old, stage, known=plan.proven, read=False, after_each=after_each)
        checkpoint("clean")

    def _open_target(self, parent: int) -> int | None:
        """``out`` opened without following a link (None: it does not exist); what killed
        exports left inside it cleared; refused while another export writes inside it."""
        try:
            fd = self._fds["out"] = tree.open_dir(self.out.name, parent)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self._check_target()
            raise
        if os.fstat(fd).st_dev != os.fstat(parent).st_dev:
            raise ExportRefused(f"Cannot export to {self.out}: it is a mount point, and ConvLab "
                                "builds an export beside its folder and swaps the two, which "
                                "cannot cross file systems; export into a folder inside it.")
        self.swept += leftovers.sweep_inside(fd)
        self.swept += guard.sweep_stale_staging(self.out, STAGING)  # older ConvLabs' staging
        removed, live = leftovers.sweep(fd, None)
        self.swept += removed
        if live:
            raise ExportRefused(f"Cannot export to {self.out}: another ConvLab export is writing "
                                f"inside it ({live[0]}); try again when it has finished.")
        return fd

    def _swap(self, fresh: bool, parent: int, stage: int):
        """The one step that changes ``out``; returns ``(folder fd, name)`` of the old folder."""
        if fresh:
            os.replace(self.staging, self.out)
            self.committed = True
            return None
        try:
            exchange.exchange(self.staging, self.out)
            self.committed = True
            return parent, self.staging.name  # the old folder now has the staging folder's name
        except exchange.Unsupported:
            pass
        aside = f"{REPLACED}-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(self.out.name, aside, src_dir_fd=parent, dst_dir_fd=stage)
        self._aside = aside
        checkpoint("set-aside")
        os.replace(self.staging, self.out)
        self._aside = None
        self.committed = True
        return stage, aside  # the old folder is inside the new one until it is cleared

    def _rollback(self) -> None:
        """Before the swap: remove the staging folder (new files and second names only)."""
        if self.staging is None:
            return
        parent = self._fds.get("parent")
        try:
            if parent is None:
                parent = self._fds["parent"] = os.open(self.parent, _DIR)
            stage = self._fds.get("staging")
            if stage is None:
                stage = self._fds["staging"] = tree.open_dir(self.staging.name, parent)
            if self._aside is not None:  # the fallback failed between its renames: put it back
                os.rename(self._aside, self.out.name, src_dir_fd=stage, dst_dir_fd=parent)
                self._aside = None
            if tree.remove_tree(stage, lambda rel, info: True):
                os.rmdir(self.staging.name, dir_fd=parent)
        except OSError:
            pass  # kept: the next export clears it

    def _discard(self, failed: bool) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._lock is not None:
            self._lock.__exit__()
            self._lock = None
        if failed:
            for folder in reversed(self.created):
                try:
                    os.rmdir(folder)
                except OSError:
                    break


def describe_error(exc: BaseException) -> str:
    """``str(exc)``, or a few words when that is empty (``MemoryError()`` has no message)."""
    if isinstance(exc, MemoryError):
        detail = " ".join(str(exc).split())
        return f"out of memory ({detail})" if detail else "out of memory"
    return " ".join(str(exc).split()) or type(exc).__name__


def _blocking_file(out_dir: Path, exc: OSError) -> str:
    """The first component of ``out_dir`` (from the root) that exists and is not a folder."""
    for p in reversed([out_dir, *out_dir.parents]):
        if p.exists() and not p.is_dir():
            return str(p)
    return str(exc.filename or out_dir)


def explain_failure(exc: BaseException, out_dir: Path) -> str:
    """One sentence saying why an export into ``out_dir`` did not happen."""
    kept = "the folder was left as it was"
    if isinstance(exc, ExportRefused):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"Export to {out_dir} failed: the disk is full; {kept}."
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return f"Cannot export to {out_dir}: the file system is read-only."
    if isinstance(exc, PermissionError):
        return f"Cannot write to {out_dir}: permission denied."
    if isinstance(exc, (NotADirectoryError, FileExistsError)):
        return f"Cannot export to {out_dir}: {_blocking_file(out_dir, exc)} is a file, not a folder."
    if isinstance(exc, OSError):
        return f"Export to {out_dir} failed: {exc.strerror or describe_error(exc)}; {kept}."
    return f"Export to {out_dir} failed: {describe_error(exc)}; {kept}."
