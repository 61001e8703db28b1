"""The one atomic file write: a file appears complete under its name, or not at all.

``with atomic_path(path) as tmp:`` gives a fresh temporary name in the target's folder (so
the final ``os.replace`` never crosses file systems); write the file there. Leaving the block
normally moves it into place; an exception removes it and leaves ``path`` as it was. Used for
single PNGs from the window and ``convlab snapshot``; a folder export stages whole folders
instead (:class:`convlab.export.transaction.Transaction`).
"""

from __future__ import annotations

import os
import secrets
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
    full = guard.check_output_path(path, "file")
    if not os.path.isdir(os.path.dirname(full)):
        raise guard.PathRefused(f"the folder {os.path.dirname(full)} does not exist.")
    folder, base = os.path.split(full)
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


class WriteFailed(OSError):
    """Writing a file failed; ``str(exc)`` is one sentence (the target was left as it was)."""

    def __str__(self) -> str:
        return self.args[0] if self.args else "the file could not be written."
