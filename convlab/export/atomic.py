"""The one atomic file write: a file appears complete under its name, or not at all.

``with atomic_path(path) as tmp:`` gives a fresh temporary name in the target's folder (so
the final ``os.replace`` never crosses file systems); write the file there. Leaving the block
normally moves it into place; an exception removes it and leaves ``path`` as it was. Used for
single PNGs from the window and ``convlab snapshot``; a folder export stages whole folders
instead (:class:`convlab.export.transaction.Transaction`).

The temporary file is ``.<name>.<pid>-<8 hex digits>.tmp``. A process killed while writing
(SIGKILL) leaves it behind; the next write to the same path removes every such file whose
process is gone. A symbolic link at ``path`` is refused: it is never written through, and
never replaced by a file.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

from convlab.pipelines import guard


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; ``os.replace`` it onto ``path`` on success.

    ``path`` is checked first (:func:`convlab.pipelines.guard.check_output_path`): only an
    existing regular file or a new path in an existing folder is written; a folder, device,
    named pipe, socket or empty path raises ``guard.PathRefused`` (a ``ValueError``, one
    sentence) before anything is created. An ``OSError`` while writing or moving (a full disk,
    no permission) removes the temporary file and is raised again as an ``OSError`` whose text
    is one sentence saying that ``path`` was left as it was.
    """
    refuse_link(path)
    full = guard.check_output_path(path, "file")
    if not os.path.isdir(os.path.dirname(full)):
        raise guard.PathRefused(f"the folder {os.path.dirname(full)} does not exist.")
    folder, base = os.path.split(full)
    sweep_stale_temporaries(folder, base)
    tmp = Path(folder) / f".{base}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        yield tmp
        os.replace(tmp, full)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, WriteFailed):
            why = (exc.strerror or str(exc)).rstrip(".").lower()
            raise WriteFailed(f"could not write {full}: {why}; it was left as it was "
                              "and no temporary file remains.") from None
        raise


def refuse_link(path) -> None:
    """``guard.PathRefused`` (one sentence) when ``path`` is a symbolic link."""
    name = os.fsdecode(path) if path is not None else ""
    try:
        link = bool(name.strip()) and stat.S_ISLNK(os.lstat(name).st_mode)
    except (OSError, ValueError):
        return  # absent, or a name the later checks explain
    if link:
        raise guard.PathRefused(f"{name} is a symbolic link; ConvLab never writes through a link "
                                "or replaces one, so give the file it points to.")


def sweep_stale_temporaries(folder: str, base: str) -> list[str]:
    """Remove ``.<base>.<pid>-<hex>.tmp`` files in ``folder`` whose process is gone (regular
    files only, never a link); returns the names removed."""
    pattern = re.compile(re.escape(f".{base}.") + r"([1-9]\d*)-[0-9a-f]{8}\.tmp")
    removed = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(f".{base}.") and n.endswith(".tmp")]
    except OSError:
        return removed
    for name in names:
        match = pattern.fullmatch(name)
        path = os.path.join(folder, name)
        try:
            if match and stat.S_ISREG(os.lstat(path).st_mode) and not _alive(int(match[1])):
                os.unlink(path)
                removed.append(name)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0
    return pid > 0


class WriteFailed(OSError):
    """Writing a file failed; ``str(exc)`` is one sentence (the target was left as it was)."""

    def __str__(self) -> str:
        return self.args[0] if self.args else "the file could not be written."
