"""The two operating-system pieces of an export's final step: one folder lock, one atomic swap.

:func:`exchange` swaps two folders' names in one step (Linux ``renameat2(RENAME_EXCHANGE)``,
macOS ``renamex_np(RENAME_SWAP)``): whoever looks at either name sees the old folder or the new
one, never neither, even if the process is killed (SIGKILL cannot be caught, so all-or-nothing
has to come from the call itself). Where the file system cannot (FAT, NFS, other systems) it
raises :class:`Unsupported` and the caller falls back to two renames.

:class:`FolderLock` serialises ConvLab's exports into one parent folder: an exclusive
``flock`` on the folder itself (nothing is created), or on a hidden ``.convlab-export.lock``
file where a folder cannot be locked (NFS). It is waited for in short steps, so Ctrl+C and a
cancel button still work while another export finishes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import sys
import time

LOCK_FILE = ".convlab-export.lock"
RENAME_EXCHANGE = 2  # linux/fs.h
RENAME_SWAP = 2      # macOS sys/stdio.h
AT_FDCWD = -100


class Unsupported(OSError):
    """This system or file system has no atomic exchange of two folders."""


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def exchange(a, b) -> None:
    """Swap the folders (or files) named ``a`` and ``b`` atomically; both must exist.

    Raises :class:`Unsupported` when neither system call exists or the file system refuses
    the flag (``EINVAL``, ``ENOSYS``, ``ENOTSUP``), ``OSError`` for anything else.
    """
    a, b = os.fsencode(a), os.fsencode(b)
    if _LIBC is not None and sys.platform.startswith("linux") and hasattr(_LIBC, "renameat2"):
        result = _LIBC.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
    elif _LIBC is not None and sys.platform == "darwin" and hasattr(_LIBC, "renamex_np"):
        result = _LIBC.renamex_np(a, b, RENAME_SWAP)
    else:
        raise Unsupported(errno.ENOSYS, "no atomic exchange on this system")
    if result != 0:
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise Unsupported(err, "this file system cannot exchange two folders atomically")
        raise OSError(err, os.strerror(err), os.fsdecode(b))


class FolderLock:
    """An exclusive lock on ``folder`` for one export's final step (``with FolderLock(f, wait):``).

    ``wait()`` is called every ``step_s`` seconds while another export holds the lock; it may
    raise to give up (a cancel). The lock goes with the descriptor: a killed process frees it.
    """

    def __init__(self, folder, wait=None, step_s: float = 0.05):
        self.folder, self.wait, self.step_s = os.fspath(folder), wait, step_s
        self.fd: int | None = None

    def __enter__(self) -> "FolderLock":
        cloexec = getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | cloexec)
            try:
                self._lock()
            except OSError as exc:
                if exc.errno not in (errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                self.__exit__()  # this file system cannot lock a folder: a lock file instead
                self.fd = os.open(os.path.join(self.folder, LOCK_FILE), os.O_RDWR | os.O_CREAT
                                  | getattr(os, "O_NOFOLLOW", 0) | cloexec, 0o600)
                self._lock()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _lock(self) -> None:
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if self.wait is not None:
                    self.wait()
                time.sleep(self.step_s)

    def __exit__(self, *_exc) -> None:  # also called bare, to close the descriptor
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None
