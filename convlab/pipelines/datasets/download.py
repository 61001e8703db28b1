"""Downloading a catalogued dataset: resumable, checked, unpacked safely.

Each file is fetched into ``NAME.part`` beside its final name. An interrupted transfer (a
dropped connection, Ctrl+C) leaves the ``.part`` file, and the next attempt asks only for the
rest (HTTP ``Range: bytes=N-``; a server that answers 200 instead of 206 is read from the
start). A dropped connection is retried at once, up to ``retries`` times. The finished file is
used only when its size, SHA-256 and (where published) MD5 match :mod:`.catalogue`; otherwise
it is deleted. An archive (CIFAR-10) is unpacked by :func:`extract_members`: only the members
the catalogue names, only regular files, no name that leaves the folder, sizes bounded; the
archive is then deleted. ``download.json`` in the folder records what is there. Addresses,
redirects, links and the folder lock: :mod:`.webfiles`.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import posixpath
import sys
import tarfile
import urllib.request
from pathlib import Path

from convlab.pipelines.datasets.catalogue import (
    CATALOGUE,
    Entry,
    RemoteFile,
    dataset_dir,
)
from convlab.pipelines.datasets.webfiles import DownloadError, NoNetworkError
from convlab.pipelines.datasets.webfiles import FolderLock as _FolderLock
from convlab.pipelines.datasets.webfiles import open_plain as _open_plain
from convlab.pipelines.datasets.webfiles import open_url as _open
from convlab.pipelines.datasets.webfiles import unlink_if_special as _unlink_if_special
from convlab.pipelines.datasets.webfiles import web_only as _web_only

CHUNK = 1 << 16
MAX_ARCHIVE_CONTENT = 1 << 30   # bytes an archive may unpack to, kept or skipped: 1 GiB
MAX_ARCHIVE_MEMBERS = 1000      # members an archive may hold (CIFAR-10's: 9)
RECORD = "download.json"


def fetch_dataset(name: str, *, dest=None, mirror: str | None = None, catalogue=None,
                  progress: bool | None = None, retries: int = 3, timeout: float = 30.0) -> Path:
    """Download the catalogued dataset ``name`` into ``dest`` (default: :func:`dataset_dir`)
    and return that folder; a complete earlier download is kept and nothing is fetched.

    ``mirror`` replaces the catalogue's server folder (files are ``mirror/FILE``); ``catalogue``
    replaces :data:`CATALOGUE` (tests); ``progress``: a tqdm bar on stderr (None: on a terminal).
    """
    entry = _entry(name, catalogue)
    folder = Path(dest) if dest is not None else dataset_dir(entry.name)
    if is_complete(folder):
        return folder
    base = _web_only((mirror or entry.base_url).rstrip("/") + "/")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"{folder} cannot be created: {exc.strerror or exc}.") from None
    with _FolderLock(folder, entry.name):
        if is_complete(folder):   # another process finished it just before
            return folder
        try:
            _fetch_all(entry, folder, base, mirror, progress=progress, retries=retries,
                       timeout=timeout)
        except OSError as exc:   # writing or reading our own files: a full disk, a permission
            raise DownloadError(f"the download into {folder} failed: "
                                f"{(exc.strerror or str(exc)).rstrip('.')}; run the same "
                                "command again once that is fixed.") from None
    return folder


def _fetch_all(entry: Entry, folder: Path, base: str, mirror, **kw) -> None:
    for remote in entry.files:
        try:
            fetch_file(base + remote.name, folder / remote.name, remote, **kw)
        except NoNetworkError as exc:
            if mirror is None:
                raise
            raise NoNetworkError(str(exc).split(";")[0] + "; check the network connection and "
                                 "the --mirror address.") from None
    kept = [folder / f.name for f in entry.files]
    if entry.members:
        archive = kept[0]
        kept = extract_members(archive, folder, entry.members)
        archive.unlink()
    _write_record(folder, entry, base, kept)


def _entry(name: str, catalogue) -> Entry:
    table = CATALOGUE if catalogue is None else catalogue
    if name not in table:
        raise DownloadError(f"there is no dataset {name!r} to download; choose one of "
                            f"{', '.join(sorted(table))}.")
    return table[name]


def is_complete(folder: Path) -> bool:
    """True when ``folder/download.json`` lists files that are all there at their sizes."""
    try:
        record = json.loads((Path(folder) / RECORD).read_text())
        files = record["files"]
        return bool(files) and all((Path(folder) / p).stat().st_size == s for p, s in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _write_record(folder: Path, entry: Entry, base: str, kept) -> None:
    record = {"name": entry.name, "title": entry.title, "source": base,
              "files": {p.relative_to(folder).as_posix(): p.stat().st_size for p in kept}}
    tmp = folder / (RECORD + ".part")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, folder / RECORD)


def fetch_file(url: str, path: Path, remote: RemoteFile, *, progress=None, retries: int = 3,
               timeout: float = 30.0) -> None:
    """``url`` into ``path``, resumed from ``path.part``, checked against ``remote``."""
    if path.exists():
        if _digests_match(path, remote):
            return
        path.unlink()  # a damaged earlier copy: fetch it again
    part = path.with_name(path.name + ".part")
    for attempt in range(retries + 1):
        try:
            _transfer(url, part, remote, progress, timeout)
            break
        except _Dropped as exc:
            if attempt == retries:
                have = part.stat().st_size if part.exists() else 0
                raise DownloadError(f"the download of {remote.name} stopped at {have:,} of "
                                    f"{remote.size:,} bytes ({exc}); run the same command again "
                                    "to resume it.") from None
    if not _digests_match(part, remote):
        got = _digest(part, "sha256")
        part.unlink()
        raise DownloadError(f"{remote.name} from {url} does not match its published checksum "
                            f"(SHA-256 {got[:16]}..., expected {remote.sha256[:16]}...), so it "
                            "was deleted and not used.")
    os.replace(part, path)


class _Dropped(Exception):
    """The connection ended before the whole file came; the .part file keeps what did."""


def _transfer(url: str, part: Path, remote: RemoteFile, progress, timeout: float) -> None:
    _unlink_if_special(part)
    have = part.stat().st_size if part.exists() else 0
    if have > remote.size:
        part.unlink()
        have = 0
    if have == remote.size:
        return
    request = urllib.request.Request(url, headers={"User-Agent": "convlab"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    response = _open(request, url, timeout)
    with response:
        if have and response.status != 206:   # the server sent the whole file
            have = 0
        elif have and not _range_starts_at(response.headers.get("Content-Range", ""), have):
            raise DownloadError(f"{url} answered a resumed request with the wrong part "
                                f"({response.headers.get('Content-Range')!r}).")
        with _open_plain(part, append=bool(have)) as out:
            _copy(response, out, have, remote, progress)


def _range_starts_at(content_range: str, start: int) -> bool:
    try:
        unit, spec = content_range.split(" ", 1)
        return unit == "bytes" and int(spec.split("-", 1)[0]) == start
    except ValueError:
        return False


def _copy(response, out, have: int, remote: RemoteFile, progress) -> None:
    from tqdm import tqdm

    disable = None if progress is None else not progress
    with tqdm(total=remote.size, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
              desc=remote.name, disable=disable, file=sys.stderr, leave=False) as bar:
        while have < remote.size:
            try:
                chunk = response.read(min(CHUNK, remote.size - have))
            except (OSError, http.client.HTTPException) as exc:
                raise _Dropped(str(exc) or type(exc).__name__) from None
            if not chunk:
                raise _Dropped("the connection closed early")
            out.write(chunk)
            have += len(chunk)
            bar.update(len(chunk))


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _digests_match(path: Path, remote: RemoteFile) -> bool:
    if path.stat().st_size != remote.size or _digest(path, "sha256") != remote.sha256.lower():
        return False
    return remote.md5 is None or _digest(path, "md5") == remote.md5.lower()


def extract_members(archive: Path, folder: Path, members) -> list[Path]:
    """Unpack the named regular-file ``members`` ((name, most bytes) pairs) of a tar.gz."""
    wanted, bounds = dict(members), dict(members)
    written: list[Path] = []
    seen = 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for count, member in enumerate(tar, 1):
                name = _safe_name(member.name, archive)
                seen += max(member.size, 0)
                if seen > MAX_ARCHIVE_CONTENT or count > MAX_ARCHIVE_MEMBERS:
                    raise DownloadError(f"{archive.name} unpacks to more than "
                                        f"{MAX_ARCHIVE_CONTENT:,} bytes or more than "
                                        f"{MAX_ARCHIVE_MEMBERS:,} members, which ConvLab "
                                        "refuses.")
                if name in bounds and name not in wanted:   # tar would keep the last one
                    raise DownloadError(f"{archive.name} holds {name} twice; it is refused.")
                if name in wanted:
                    written.append(_extract_one(tar, member, name, wanted.pop(name), folder))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DownloadError(f"{archive.name} is not a readable tar.gz archive ({exc}).") from None
    if wanted:
        raise DownloadError(f"{archive.name} lacks {sorted(wanted)[0]}.")
    return written


def _safe_name(name: str, archive: Path) -> str:
    clean = posixpath.normpath(name)
    if name.startswith(("/", "\\")) or clean == ".." or clean.startswith("../") or "\\" in name:
        raise DownloadError(f"{archive.name} holds the member {name!r}, whose name leaves the "
                            "folder; it is refused.")
    return clean


def _extract_one(tar, member, name: str, limit: int, folder: Path) -> Path:
    if not member.isreg():
        raise DownloadError(f"the archive member {name} is a link or special file, not a regular "
                            "file; it is refused.")
    if member.size > limit:
        raise DownloadError(f"the archive member {name} is {member.size:,} bytes, more than the "
                            f"{limit:,} it may hold.")
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    _unlink_if_special(part)
    source = tar.extractfile(member)
    with source, _open_plain(part, append=False) as out:
        left = member.size
        while left > 0:
            block = source.read(min(CHUNK, left))
            if not block:
                raise DownloadError(f"the archive member {name} is truncated.")
            try:
                out.write(block)
            except OSError as exc:   # our disk, not the archive: say so, keep the archive
                raise DownloadError(f"{target} cannot be written ({exc.strerror or exc}); the "
                                    "archive is kept, run the same command again once that "
                                    "is fixed.") from None
            left -= len(block)
    os.replace(part, target)
    return target


def catalogue_status(root=None, catalogue=None) -> list[tuple[str, Path, bool, int]]:
    """``(name, folder, complete, bytes on disk)`` for each catalogued dataset."""
    rows = []
    for name in sorted(CATALOGUE if catalogue is None else catalogue):
        folder = Path(root) / name if root is not None else dataset_dir(name)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        rows.append((name, folder, is_complete(folder), size))
    return rows
