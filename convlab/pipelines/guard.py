"""What ConvLab reads and writes, checked before it is touched: regular files only, bounded reads.

Reading: :func:`require_regular_file` refuses anything that is not a regular file (a named pipe,
device, socket, folder, or nothing) from ``os.stat`` alone, before any open; :func:`open_regular`
opens with ``O_NONBLOCK`` and judges the open descriptor with ``fstat``, so a pipe swapped in
after the check cannot block; :func:`bounded_read` reads at most ``limit`` bytes (one more, to
tell a file that is too long, which is refused, from one that fits).

Writing: :func:`check_output_path` accepts only an existing regular file (or a symbolic link to
one) or a new path whose nearest existing ancestor is a folder; :func:`check_output_folder` the
same for a folder. Staging: :func:`make_staging_dir` names hidden folders
``<prefix>-<pid>-<random>`` and :func:`sweep_stale_staging` removes ConvLab's own that are stale
(their process is gone, or they are older than ``max_age_s``).

Every refusal is a :class:`PathRefused` (a ``ValueError``) whose text is one sentence; pass
``error=`` (any exception class that takes one message) to raise your own type instead, e.g.
``require_regular_file(path, error=ImageLoadError)``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import time

STAGING_PREFIX = ".convlab-staging"
STALE_AFTER_S = 3600.0  # where process start times cannot be read (or a name has no pid): a
                        # staging folder older than this is stale even if its pid is alive


class PathRefused(ValueError):
    """A path ConvLab will not read or write; ``str(exc)`` is one sentence for a person."""


def kind_of(mode: int) -> str:
    """``st_mode`` in words, with an article: ``"a named pipe"``, ``"a folder"``, ..."""
    for test, words in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a folder"),
                        (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                        (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                        (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return words
    return "a special file"


def _article(what: str) -> str:
    return ("an " if what[:1].lower() in "aeiou" else "a ") + what


def require_regular_file(path, what: str = "image", *, error: type[Exception] = PathRefused
                         ) -> os.stat_result:
    """``os.stat(path)`` when ``path`` is a regular file (links followed); otherwise raise ``error``.

    Nothing is opened: a named pipe is refused without blocking, a device without being read.
    """
    name = os.fsdecode(path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise error(f"{name} does not exist.") from None
    except PermissionError:
        raise error(f"{name} cannot be read: permission denied.") from None
    except (OSError, ValueError) as exc:  # a loop of links, a name too long, a NUL byte
        raise error(f"{name} cannot be read: {getattr(exc, 'strerror', None) or exc}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{name} is {kind_of(info.st_mode)}, not {_article(what)} file.")
    return info


def open_regular(path, what: str = "image", *, error: type[Exception] = PathRefused):
    """``path`` opened for binary reading, or ``error`` when it is not a regular file.

    ``O_NONBLOCK`` keeps the open itself from waiting on a pipe; ``fstat`` then judges the very
    file that was opened (closing the race with a pipe swapped in after a check by name).
    """
    name = os.fsdecode(path)
    require_regular_file(path, what, error=error)  # a device is refused without being opened
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError):
        raise error(f"{name} does not exist.") from None
    except PermissionError:
        raise error(f"{name} cannot be read: permission denied.") from None
    except (OSError, ValueError) as exc:
        raise error(f"{name} cannot be read: {getattr(exc, 'strerror', None) or exc}.") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise error(f"{name} is {kind_of(mode)}, not {_article(what)} file.")
    os.set_blocking(fd, True)  # a regular file never waits; ordinary reads from here on
    return os.fdopen(fd, "rb")


def bounded_read(path, limit: int, what: str = "image", *,
                 error: type[Exception] = PathRefused) -> bytes:
    """All of ``path``'s bytes when there are at most ``limit``; otherwise raise ``error``.

    The size on disk is judged before reading, and at most ``limit + 1`` bytes are ever read, so
    a file that grows, or lies about its size (``/proc``), cannot make the read endless.
    """
    name = os.fsdecode(path)
    with open_regular(path, what, error=error) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise error(f"{name} is {_bytes(size)}, more than {_article(what)} file may be "
                        f"({_bytes(limit)}).")
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise error(f"{name} cannot be read: {exc.strerror or exc}.") from None
    if len(data) > limit:
        raise error(f"{name} is longer than {_article(what)} file may be ({_bytes(limit)}).")
    return data


def _bytes(n: int) -> str:
    """``n`` bytes in the largest unit that keeps a number >= 1: ``"4.0 GB"``, ``"12 bytes"``."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} byte{'s' if n != 1 else ''}"


def _nearest_existing(path: str) -> str:
    """The closest ancestor of ``path`` (an absolute path) that exists."""
    parent = os.path.dirname(path)
    while not os.path.lexists(parent) and os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
    return parent


def _check_new_path(name: str, full: str, error) -> None:
    """A path that does not exist yet: its nearest existing ancestor must be a writable folder."""
    parent = _nearest_existing(full)
    if not os.path.isdir(parent):
        raise error(f"{name} cannot be created: {parent} is not a folder.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise error(f"{name} cannot be created: the folder {parent} is not writable.")


def check_output_path(path, what: str = "output", *,
                      error: type[Exception] = PathRefused) -> str:
    """The absolute path to write a file to, or ``error`` when ``path`` may not be written.

    Accepted: an existing regular file (or a link to one), which will be replaced, or a new path
    in an existing or creatable folder. Refused: an empty path, a folder, named pipe, device or
    socket (or a link to one), and a link that points nowhere.
    """
    name = os.fsdecode(path) if path is not None else ""
    if not name.strip():
        raise error(f"No {what} path was given.")
    full = os.path.abspath(name)
    try:
        info = os.lstat(full)
    except (FileNotFoundError, NotADirectoryError):
        _check_new_path(name, full, error)
        return full
    except (OSError, ValueError) as exc:
        raise error(f"{name} cannot be checked: {getattr(exc, 'strerror', None) or exc}.") from None
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(full)
        except OSError:
            raise error(f"{name} is a symbolic link to nothing; ConvLab writes the {what} only to "
                        "a regular file or a new path.") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{name} is {kind_of(info.st_mode)}; ConvLab writes the {what} only to a "
                    "regular file or a new path.")
    return full


def check_output_folder(path, what: str = "export", *,
                        error: type[Exception] = PathRefused) -> str:
    """The absolute folder to write into: an existing folder (or a link to one) or a new path."""
    name = os.fsdecode(path) if path is not None else ""
    if not name.strip():
        raise error(f"No {what} folder was given.")
    full = os.path.abspath(name)
    if not os.path.lexists(full):
        _check_new_path(name, full, error)
        return full
    try:
        info = os.stat(full)
    except OSError:
        raise error(f"{name} is a symbolic link to nothing, not a folder.") from None
    if not stat.S_ISDIR(info.st_mode):
        raise error(f"{name} is {kind_of(info.st_mode)}, not a folder for the {what}.")
    return full


def make_staging_dir(folder, prefix: str = STAGING_PREFIX) -> str:
    """Create and return ``folder/<prefix>-<pid>-<8 hex digits>`` (mode 0700, hidden by its dot)."""
    while True:
        path = os.path.join(folder, f"{prefix}-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:  # 1 in 4 billion: draw again
            continue


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from Linux's ``/proc``; None
    where that cannot be read (no such process, another system)."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()     # after the command's name
        with open("/proc/stat", "rb") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith(b"btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")   # field 22: starttime
    except (OSError, ValueError, IndexError, StopIteration):
        return None


START_SLACK_S = 2.0  # boot time is whole seconds; a process start is known to about 1 s


def left_by_gone_process(pid: int | None, mtime: float, *, max_age_s: float = STALE_AFTER_S,
                         now: float | None = None) -> bool:
    """Whether a staging folder named for ``pid`` and last modified at ``mtime`` is stale: its
    process is gone, or a process with its pid started after the folder was last modified (the
    pid was reused: the folder's own process had to start before making it). Where start times
    cannot be read, or the name has no pid, an age over ``max_age_s`` counts as gone; an export
    running for hours keeps its folder."""
    now = time.time() if now is None else now
    if pid is None or pid <= 0:
        return now - mtime > max_age_s
    if not _pid_alive(pid):
        return True
    started = process_start(pid)
    if started is None:
        return now - mtime > max_age_s
    return started > mtime + START_SLACK_S


def sweep_stale_staging(folder, prefix: str = STAGING_PREFIX, *,
                        max_age_s: float = STALE_AFTER_S) -> list[str]:
    """Remove ConvLab's stale staging folders directly in ``folder``; return the names removed.

    A candidate is a real folder (never a link) named ``<prefix>-<pid>-<token>`` (or
    ``<prefix>-<token>``, with no pid, judged by age alone). It is stale when that pid is no
    longer running or was reused (:func:`left_by_gone_process`). A live export's own folder
    is kept however long the export runs.
    Anything that cannot be listed or removed is left as it is.
    """
    pattern = re.compile(re.escape(prefix) + r"-(?:(\d+)-)?([A-Za-z0-9_]+)")
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        try:
            if not match or not entry.is_dir(follow_symlinks=False):
                continue
            mtime = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        pid = int(match.group(1)) if match.group(1) is not None else None
        if left_by_gone_process(pid, mtime, max_age_s=max_age_s):
            shutil.rmtree(entry.path, ignore_errors=True)
            if not os.path.lexists(entry.path):
                removed.append(entry.name)
    return removed
