"""The web and file-system edges of a download (:mod:`.download`): http(s) addresses only,
redirects followed to http(s) only, files never written through a link, and one download per
dataset folder at a time. Every refusal is a :class:`DownloadError` of one sentence.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class DownloadError(ValueError):
    """A download that failed or was refused; ``str(exc)`` is one sentence for a person."""


class NoNetworkError(DownloadError):
    """The server could not be reached at all (no network, no such host, nothing listening)."""


class FolderLock:
    """An exclusive ``flock`` on the dataset's folder itself (no file is created): a second
    download of the same dataset at the same time is refused, not interleaved into the same
    ``.part`` files. Where the system cannot lock a folder, nothing is locked."""

    def __init__(self, folder: Path, name: str):
        self.folder, self.name, self.fd = folder, name, None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # Windows
            return self
        try:
            self.fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.__exit__()
            raise DownloadError(f"{self.name} is already being downloaded into {self.folder} "
                                "by another ConvLab; wait for it to finish.") from None
        except OSError:  # this file system cannot lock a folder
            self.__exit__()
        return self

    def __exit__(self, *_exc) -> None:
        if self.fd is not None:
            os.close(self.fd)   # closing releases the lock
            self.fd = None


def unlink_if_special(path: Path) -> None:
    """Remove ``path`` when it is a link (or anything but a regular file): a leftover that is
    a link would have the download written into whatever it points to, outside the folder."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        try:
            path.unlink()
        except OSError as exc:
            raise DownloadError(f"{path} is in the way and cannot be removed "
                                f"({exc.strerror or exc}).") from None


def open_plain(path: Path, *, append: bool):
    """``path`` opened for writing, never through a link (O_NOFOLLOW where the system has it)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        return os.fdopen(os.open(path, flags, 0o644), "ab" if append else "wb")
    except OSError as exc:
        raise DownloadError(f"{path} cannot be written ({exc.strerror or exc}).") from None


WEB_SCHEMES = ("http", "https")


def web_only(url: str) -> str:
    """``url``, or DownloadError unless it is http:// or https:// (urllib alone would open
    ``file://`` paths and follow redirects to ``ftp://``)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port   # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        raise DownloadError(f"{url} is not a web address; ConvLab downloads from http:// and "
                            "https:// only.")
    return url


class _WebRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http:// and https:// addresses only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        web_only(urllib.parse.urljoin(req.full_url, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


OPENER = urllib.request.build_opener(_WebRedirects)


def open_url(request, url: str, timeout: float):
    host = urllib.parse.urlsplit(url).netloc or url
    web_only(url)
    try:
        return OPENER.open(request, timeout=timeout)
    except DownloadError:
        raise
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DownloadError(f"{url} answered {exc.code} {exc.reason}; check the address or "
                            "try --mirror URL.") from None
    except urllib.error.URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or exc.reason
        raise NoNetworkError(f"cannot reach {host} ({reason}); check the network connection, "
                             "or pass --mirror URL for another server.") from None
    except (OSError, http.client.HTTPException) as exc:  # reset or timed out at connection
        raise NoNetworkError(f"cannot reach {host} ({exc or type(exc).__name__}); check the "
                             "network connection, or pass --mirror URL for another "
                             "server.") from None
    except ValueError:
        raise DownloadError(f"{url} is not a web address (http:// or https://).") from None
