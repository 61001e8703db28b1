"""Chainer-layout ``.npz`` weights: ``serializers.save_npz``'s keys, all or nothing.

Keys are ``<layer>/<param>``: ``conv1/W``, ``conv1/b``, ``bn1/gamma``, ``bn1/beta``,
``bn1/avg_mean``, ``bn1/avg_var`` (``bn1/N`` optional and ignored), ``fc6/W`` as ``(out, in)``.
Any prefix before the layer names is accepted (``predictor/``, ``updater/model:main/``,
``updater/model:main/predictor/``), as long as every key shares it. Files are opened with
``allow_pickle=False``; float64 is cast to float32, any other dtype refused. A missing key or a
shape mismatch refuses the whole file, and the network is left unchanged.

Nothing in the file is trusted before it is checked: only a regular file is opened (a pipe or
device is refused before any read); every member's ``.npy`` header is read and checked against
the expected shape and dtype before any data is inflated, and then no more than the expected
bytes are inflated, so a header that declares a huge array or a small member that would expand
to gigabytes costs no memory. NaN, Inf and negative BatchNorm variances (``avg_var``) are refused
with the key named. Every refusal is a ``ValueError`` with one sentence.
"""

from __future__ import annotations

import ast
import math
import os
import stat
import tempfile
import zipfile
import zlib

import numpy as np

from convlab.engine.backend import freeze, to_numpy

MAX_HEADER_BYTES = 10_000  # NumPy's own limit on a .npy header (np.load's max_header_size)
CHUNK_BYTES = 1 << 22  # data is inflated 4 MiB at a time, straight into the result array
MAX_MEMBERS = 100_000  # arrays in one .npz: a spec of 10,000 layers needs at most 60,000


def _required(net) -> list[tuple[str, str, tuple[int, ...]]]:
    """``(layer, param, shape)`` for every array the file must provide."""
    return [(layer.name, key, tuple(arr.shape))
            for layer in net.layers for key, arr in layer.params.items()]


def _find_prefix(keys: list[str], required) -> str:
    """The prefix (possibly empty) before ``layer/param`` that matches the most required keys.

    Each key is tried at each of its own ``/`` (a set lookup each), so the cost is the keys'
    total length, not keys x required.
    """
    counts: dict[str, int] = {}
    wanted = {f"{layer}/{param}" for layer, param, _ in required}
    for key in keys:
        cuts = [0] + [i + 1 for i, ch in enumerate(key) if ch == "/"]
        for cut in cuts:
            if key[cut:] in wanted:
                prefix = key[:cut]
                counts[prefix] = counts.get(prefix, 0) + 1
    return max(counts, key=lambda p: (counts[p], -len(p))) if counts else ""


def _require_regular(name: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe, device or socket)"
        raise ValueError(f"{name} is {kind}, not a .npz file")


def _open_regular(name: str):
    """A binary file object for ``name``, or ValueError when it is not a regular file.

    Opened with ``O_NONBLOCK`` (a named pipe swapped in after a check cannot block the open) and
    judged by ``fstat`` on the open descriptor, so what is judged is what is read.
    """
    try:
        _require_regular(name, os.stat(name).st_mode)  # a device is refused without being opened
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise ValueError(f"{name}: no such file") from None
    except OSError as exc:
        raise ValueError(f"{name} cannot be read ({exc.strerror or exc})") from None
    try:
        _require_regular(name, os.fstat(fd).st_mode)  # what was opened, not what the name was
    except ValueError:
        os.close(fd)
        raise
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _declared_members(fh, name: str) -> int:
    """The member count the zip's end-of-central-directory record declares (Zip64 too), after
    checking it is one archive on one disk and within :data:`MAX_MEMBERS`; nothing is listed yet."""
    try:
        end = zipfile._EndRecData(fh)  # noqa: SLF001 - the record zipfile itself trusts
    except OSError:
        end = None
    if not end:
        raise ValueError(f"{name} is not a .npz archive (no zip directory at its end)")
    this_disk, total = end[zipfile._ECD_ENTRIES_THIS_DISK], end[zipfile._ECD_ENTRIES_TOTAL]  # noqa: SLF001
    if end[zipfile._ECD_DISK_NUMBER] or end[zipfile._ECD_DISK_START] or this_disk != total:  # noqa: SLF001
        raise ValueError(f"{name} declares a zip archive split over several disks, which a .npz "
                         "never is")
    if total > MAX_MEMBERS:
        raise ValueError(f"{name} declares {total:,} members; a .npz may hold at most "
                         f"{MAX_MEMBERS:,} arrays")
    return total


def _check_directory(zf: zipfile.ZipFile, declared: int, name: str) -> None:
    """The central directory must list exactly the members its end record declares: a record
    that lies about them is a damaged or doctored archive."""
    found = len(zf.infolist())
    if found != declared:
        raise ValueError(f"{name} is a damaged .npz archive: its zip directory lists {found:,} "
                         f"members but its end record declares {declared:,}")


def _members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """``key -> member`` as ``np.load`` names them: ``conv1/W`` for ``conv1/W.npy``."""
    out: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if info.filename.endswith(".npy") or key not in out:  # np.load prefers "key.npy"
            out[key] = info
    return out


def _read_exact(fh, size: int, key: str) -> bytes:
    data = fh.read(size)
    if len(data) != size:
        raise ValueError(f"{key} is truncated in the archive ({len(data)} of {size} bytes)")
    return data


def _read_header(fh, key: str) -> tuple[np.dtype, tuple[int, ...], bool]:
    """The ``.npy`` header at ``fh``: ``(dtype, shape, fortran_order)``, reading no data.

    Layout: ``\\x93NUMPY``, major, minor, the header length (uint16 for version 1, uint32 for 2
    and 3), then a Python dict literal; headers over ``MAX_HEADER_BYTES`` are refused, as NumPy does.
    """
    magic = fh.read(8)
    if len(magic) < 8 or magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2, 3):
        raise ValueError(f"{key} is not a NumPy array (.npy) inside the archive")
    width = 2 if magic[6] == 1 else 4
    length = int.from_bytes(_read_exact(fh, width, key), "little")
    if length > MAX_HEADER_BYTES:
        raise ValueError(f"{key} has a .npy header of {length} bytes, over the limit of "
                         f"{MAX_HEADER_BYTES}")
    text = _read_exact(fh, length, key).decode("utf8" if magic[6] == 3 else "latin1", "replace")
    try:
        header = ast.literal_eval(text)
        dtype = np.lib.format.descr_to_dtype(header["descr"])
        shape, fortran = tuple(int(n) for n in header["shape"]), bool(header["fortran_order"])
    except Exception:  # noqa: BLE001 - any malformed literal: one sentence, never a traceback
        raise ValueError(f"{key} has a damaged .npy header") from None
    return dtype, shape, fortran


def _check_header(key: str, dtype: np.dtype, shape, expected, net_name: str) -> None:
    """Refuse a member whose header does not declare ``expected`` float32/float64 values."""
    if dtype.hasobject:  # object arrays need pickle, which we never allow
        raise ValueError(f"{key} holds pickled Python objects, which ConvLab refuses to load")
    if dtype.kind != "f" or dtype.itemsize not in (4, 8):
        raise ValueError(f"{key} has dtype {dtype}; expected float32 (or float64)")
    if tuple(shape) != tuple(expected):
        raise ValueError(f"{key} has shape {tuple(shape)}; {net_name} needs {tuple(expected)}")


def _read_data(fh, key: str, dtype: np.dtype, shape, fortran: bool) -> np.ndarray:
    """Exactly ``prod(shape)`` values from ``fh`` into a fresh array, in bounded chunks.

    The member must end right after them: nothing beyond the declared bytes is inflated except
    one byte, which tells a member padded with extra data (refused) from an honest one.
    """
    flat = np.empty(math.prod(shape), dtype)  # (size,): the header's count, already checked
    view = memoryview(flat.view(np.uint8))
    done = 0
    while done < view.nbytes:
        chunk = fh.read(min(CHUNK_BYTES, view.nbytes - done))
        if not chunk:
            raise ValueError(f"{key} is truncated in the archive ({done} of {view.nbytes} "
                             "data bytes)")
        view[done:done + len(chunk)] = chunk
        done += len(chunk)
    if fh.read(1):
        raise ValueError(f"{key} holds more data than its declared shape {tuple(shape)}")
    # (size,) -> shape, in the order the file stores it
    return flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)


def _to_float32(arr: np.ndarray, key: str) -> np.ndarray:
    """``arr`` as native float32; refuse values that are not finite, naming the key."""
    with np.errstate(over="ignore"):  # overflow is reported below, as a refusal
        out = np.ascontiguousarray(arr, dtype=np.float32)  # also makes big-endian native
    if not np.isfinite(out).all():
        if np.isfinite(arr).all():
            raise ValueError(f"{key} holds float64 values too large for float32")
        bad = int(out.size - np.count_nonzero(np.isfinite(out)))
        raise ValueError(f"{key} holds {bad} NaN or infinite value{'s' if bad != 1 else ''}; "
                         "weights must be finite numbers")
    return out


def _check_values(key: str, param: str, arr: np.ndarray) -> None:
    """Refuse values no trained network holds: a negative BatchNorm running variance."""
    if param == "avg_var" and arr.size and float(arr.min()) < 0.0:
        raise ValueError(f"{key} holds a negative variance ({float(arr.min()):.4g}); "
                         "a BatchNorm running variance is never below 0")


def _read_member(zf, info, key: str, expected, net_name: str, param: str) -> np.ndarray:
    try:
        with zf.open(info) as fh:
            dtype, shape, fortran = _read_header(fh, key)
            _check_header(key, dtype, shape, expected, net_name)
            arr = _read_data(fh, key, dtype, shape, fortran)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
            RuntimeError) as exc:  # a damaged, encrypted or oddly compressed member
        raise ValueError(f"{key} is damaged in the archive ({exc})") from None
    arr = _to_float32(arr, key)
    _check_values(key, param, arr)
    return arr


def _check_all_headers(zf, plan, net_name: str) -> None:
    """Read every member's header before any data: a size lie is refused before it costs memory."""
    for key, info, expected, _ in plan:
        try:
            with zf.open(info) as fh:
                dtype, shape, _ = _read_header(fh, key)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
                RuntimeError) as exc:
            raise ValueError(f"{key} is damaged in the archive ({exc})") from None
        _check_header(key, dtype, shape, expected, net_name)


def _plan(members: dict, required) -> list[tuple[str, zipfile.ZipInfo, tuple, tuple[str, str]]]:
    """``(key in the file, member, expected shape, (layer, param))`` for every required array."""
    prefix = _find_prefix(list(members), required)
    plan = []
    for layer, param, shape in required:
        key = prefix + f"{layer}/{param}"
        if key not in members:
            where = f" (keys here start with {prefix!r})" if prefix else ""
            raise ValueError(f"missing key {layer}/{param}{where}")
        plan.append((key, members[key], shape, (layer, param)))
    return plan


def read_npz(net, path) -> dict[tuple[str, str], np.ndarray]:
    """Read and validate every array ``net`` needs from ``path``; raise ``ValueError`` on any problem.

    Two passes: every member's ``.npy`` header is checked against the expected dtype and shape
    first, then the data is read, never more than the expected bytes per member; NaN, Inf and
    negative BatchNorm variances are refused with the key named.
    """
    name = os.fspath(path)
    with _open_regular(name) as fh:
        if not zipfile.is_zipfile(fh):
            raise ValueError(f"{name} is not a .npz archive (Chainer's save_npz writes a zip of "
                             ".npy arrays)")
        declared = _declared_members(fh, name)
        try:
            zf = zipfile.ZipFile(fh)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{name} is not a readable .npz archive ({exc})") from None
        with zf:
            _check_directory(zf, declared, name)
            plan = _plan(_members(zf), _required(net))
            _check_all_headers(zf, plan, net.name)
            return {where: _read_member(zf, info, key, shape, net.name, where[1])
                    for key, info, shape, where in plan}


def load_npz(net, path) -> None:
    """Load ``path`` into ``net`` all at once, or raise ``ValueError`` and change nothing."""
    arrays = read_npz(net, path)
    xp = getattr(net, "xp", np)
    for layer in net.layers:
        for param in list(layer.params):
            value = xp.asarray(arrays[layer.name, param])
            layer.params[param] = freeze(value) if param == "W" else value  # see backend.freeze
    net.weights_source = os.path.basename(os.fspath(path))


def save_npz(net, path) -> None:
    """Write ``net``'s arrays under Chainer's keys, atomically (temp file, then rename)."""
    arrays = {f"{layer.name}/{key}": to_numpy(arr)
              for layer in net.layers for key, arr in layer.params.items()}
    for layer in net.layers:
        if layer.kind == "bn":
            arrays[f"{layer.name}/N"] = np.array(0)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".convlab-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the file from other users
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
