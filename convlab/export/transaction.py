"""All-or-nothing file output for :mod:`convlab.export.maps`: stage in a hidden folder, then move.

``with Transaction(out) as tx:`` creates ``out`` (and missing parents) and a hidden staging
folder inside it; write into ``tx.staging``, then call ``tx.commit(paths)``. Leaving the block
with an exception (before or during the commit) removes everything this export wrote, puts back
every file it had set aside, and removes the folders it created. A successful commit deletes
the set-aside files: those the new files replace, and the stale files of an earlier ConvLab
export listed in its ``manifest.json`` (nothing else is ever touched).
:func:`explain_failure` turns whatever stopped an export into one sentence for a person.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
from pathlib import Path, PurePosixPath

from convlab.pipelines import guard

MANIFEST = "manifest.json"
STAGING = ".convlab-export"  # staging folders: <prefix>-<pid>-<hex>, swept when stale
REPLACED = ".convlab-replaced"  # files set aside during a commit (kept if one cannot go back)
HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class _SignalHold:
    """SIGINT and SIGTERM deferred from :meth:`hold` until :meth:`release`, then handled.

    In the main thread the Python handlers are swapped for one that only records the signal,
    and ``release`` puts them back and raises what was recorded. Masking the signal
    (``pthread_sigmask``) is not enough there: the mask is per thread, and the kernel hands a
    process-wide signal to any thread that does not block it (OpenBLAS's workers), after which
    Python runs the handler in the main thread anyway, in the middle of the final step. In
    other threads (the window's export worker), where handlers cannot be set and Python never
    runs them, the thread's mask is used."""

    def __init__(self):
        self.previous: dict[int, object] | None = None
        self.mask = None
        self.caught: list[int] = []

    def hold(self) -> "_SignalHold":
        try:
            self.previous = {s: signal.signal(s, self._record) for s in HELD_SIGNALS}
        except ValueError:  # not the main thread
            self.previous = None
            if hasattr(signal, "pthread_sigmask"):
                self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        return self

    def _record(self, signum, _frame) -> None:
        self.caught.append(signum)

    def release(self) -> None:
        if self.previous is not None:
            for signum, handler in self.previous.items():  # None: a handler set outside Python
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
            self.previous = None
            for signum in dict.fromkeys(self.caught):  # each once, in order of arrival
                signal.raise_signal(signum)  # its own handler runs now, after the final step
        elif self.mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)  # a deferred one runs now
            self.mask = None


class Transaction:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.staging: Path | None = None
        self.backup: Path | None = None
        self.created: list[Path] = []  # folders made for the target, outermost first
        self.undo: list[tuple] = []
        self.stale_dirs: set[Path] = set()
        self.committed = False
        self.keep_backup = False
        self.swept: list[str] = []  # stale staging folders of killed exports, removed on entry
        self._held: _SignalHold | None = None  # interrupts deferred until the final step is over

    def __enter__(self) -> "Transaction":
        try:
            if os.path.lexists(self.out) and not self.out.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(self.out))
            missing, p = [], self.out
            while not os.path.lexists(p) and p != p.parent:
                missing.append(p)
                p = p.parent
            for folder in reversed(missing):
                os.mkdir(folder)
                self.created.append(folder)
            self.swept = guard.sweep_stale_staging(self.out, STAGING)
            self.staging = Path(guard.make_staging_dir(self.out, STAGING))
        except BaseException:
            self._discard(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        held = self._held if self._held is not None else _SignalHold().hold()
        try:
            failed = exc_type is not None or not self.committed
            if failed:
                self._rollback()
            self._discard(failed)
        finally:
            self._held = None
            held.release()  # an interrupt during the final step is handled only now
        return False

    def commit(self, paths: list[str]) -> None:
        """Move ``paths`` (relative, POSIX, in order) from the staging folder into the target.

        SIGINT and SIGTERM are held from here until the block is left, so the final step is
        never cut in half: an interrupt that arrives meanwhile is handled after it, with every
        file in place (``committed``) or, if the commit failed, none."""
        self._held = _SignalHold().hold()
        self.backup = Path(guard.make_staging_dir(self.out, REPLACED))
        for rel in self._stale(set(paths)):
            self._set_aside(self.out / rel)
            self.stale_dirs.add((self.out / rel).parent)
        for rel in paths:
            target = self.out / rel
            self._makedirs(target.parent)
            if os.path.lexists(target):
                self._set_aside(target)
            os.replace(self.staging / rel, target)
            self.undo.append(("remove", target))
        self.committed = True

    def _stale(self, new: set[str]) -> list[str]:
        """Files an earlier ConvLab export wrote here (per its manifest) that this one does not."""
        try:
            old = json.loads((self.out / MANIFEST).read_text(encoding="utf-8"))
            if not str(old.get("format", "")).startswith("convlab-export"):
                return []
            listed = [str(f["path"]) for f in old.get("files", []) if isinstance(f, dict)]
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            return []
        stale = []
        for rel in listed:
            parts = PurePosixPath(rel).parts
            if (not parts or PurePosixPath(rel).is_absolute() or ".." in parts
                    or parts[0].startswith(".") or rel in new):
                continue  # never follow a manifest out of the folder or into our own temp folders
            if (self.out / rel).is_file() and not (self.out / rel).is_symlink():
                stale.append(rel)
        return sorted(set(stale))

    def _set_aside(self, target: Path) -> None:
        if target.is_dir() and not target.is_symlink():
            raise IsADirectoryError(errno.EISDIR, "a folder is in the way of a file", str(target))
        dest = self.backup / f"{len(self.undo):06d}"
        os.replace(target, dest)
        self.undo.append(("restore", dest, target))

    def _makedirs(self, folder: Path) -> None:
        missing, p = [], folder
        while not os.path.lexists(p):
            missing.append(p)
            p = p.parent
        for m in reversed(missing):
            os.mkdir(m)
            self.undo.append(("rmdir", m))

    def _rollback(self) -> None:
        for action in reversed(self.undo):
            try:
                if action[0] == "remove":
                    os.unlink(action[1])
                elif action[0] == "restore":
                    os.replace(action[1], action[2])
                else:
                    os.rmdir(action[1])
            except OSError:
                if action[0] == "restore":
                    self.keep_backup = True  # never delete a file we could not put back
        self.undo.clear()

    def _discard(self, failed: bool) -> None:
        for tmp in (self.staging, None if self.keep_backup else self.backup):
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        if failed:
            for folder in reversed(self.created):
                try:
                    os.rmdir(folder)
                except OSError:
                    break
        else:
            for folder in sorted(self.stale_dirs, key=lambda p: len(p.parts), reverse=True):
                if folder != self.out:
                    try:
                        os.rmdir(folder)  # only when the stale files left it empty
                    except OSError:
                        pass


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
