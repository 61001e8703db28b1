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


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; ``os.replace`` it onto ``path`` on success."""
    folder, base = os.path.split(os.path.abspath(os.fspath(path)))
    tmp = Path(folder) / f".{base}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
