"""Chainer-layout ``.npz`` weights: ``serializers.save_npz``'s keys, all or nothing.

Keys are ``<layer>/<param>``: ``conv1/W``, ``conv1/b``, ``bn1/gamma``, ``bn1/beta``,
``bn1/avg_mean``, ``bn1/avg_var`` (``bn1/N`` optional and ignored), ``fc6/W`` as ``(out, in)``.
Any prefix before the layer names is accepted (``predictor/``, ``updater/model:main/``,
``updater/model:main/predictor/``), as long as every key shares it. Files are opened with
``allow_pickle=False``; float64 is cast to float32, any other dtype refused. A missing key or a
shape mismatch refuses the whole file, and the network is left unchanged.
"""

from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np

from convlab.engine.backend import freeze, to_numpy


def _required(net) -> list[tuple[str, str, tuple[int, ...]]]:
    """``(layer, param, shape)`` for every array the file must provide."""
    return [(layer.name, key, tuple(arr.shape))
            for layer in net.layers for key, arr in layer.params.items()]


def _find_prefix(keys: list[str], required) -> str:
    """The prefix (possibly empty) before ``layer/param`` that matches the most required keys."""
    counts: dict[str, int] = {}
    wanted = {f"{layer}/{param}" for layer, param, _ in required}
    for key in keys:
        for want in wanted:
            if key == want or key.endswith("/" + want):
                prefix = key[: len(key) - len(want)]
                counts[prefix] = counts.get(prefix, 0) + 1
    return max(counts, key=lambda p: (counts[p], -len(p))) if counts else ""


def _read_array(archive, key: str) -> np.ndarray:
    try:
        arr = archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):  # object arrays need pickle, which we never allow
            raise ValueError(f"{key} holds pickled Python objects, which ConvLab refuses to "
                             "load") from None
        raise ValueError(f"{key} is not a readable array ({exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:  # a damaged member
        raise ValueError(f"{key} is damaged in the archive ({exc})") from None
    if not isinstance(arr, np.ndarray):  # a member that is not .npy comes back as bytes
        raise ValueError(f"{key} is not a NumPy array (.npy) inside the archive")
    if arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8):
        raise ValueError(f"{key} has dtype {arr.dtype}; expected float32 (or float64)")
    with np.errstate(over="ignore"):  # overflow is reported below, as a refusal
        out = arr.astype(np.float32)  # also makes big-endian files native
    if arr.dtype.itemsize == 8 and not np.isfinite(out).all() and np.isfinite(arr).all():
        raise ValueError(f"{key} holds float64 values too large for float32")
    return out


def read_npz(net, path) -> dict[tuple[str, str], np.ndarray]:
    """Read and validate every array ``net`` needs from ``path``; raise ``ValueError`` on any problem."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise ValueError(f"{name} is a folder, not a .npz file")
    if not os.path.isfile(name):
        raise ValueError(f"{name}: no such file")
    if not zipfile.is_zipfile(name):
        raise ValueError(f"{name} is not a .npz archive (Chainer's save_npz writes a zip of .npy arrays)")
    try:
        archive = np.load(name, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{name} is not a readable .npz archive ({exc})") from None
    with archive:
        required = _required(net)
        prefix = _find_prefix(list(archive.files), required)
        arrays = {}
        for layer, param, shape in required:
            key = prefix + f"{layer}/{param}"
            if key not in archive.files:
                where = f" (keys here start with {prefix!r})" if prefix else ""
                raise ValueError(f"missing key {layer}/{param}{where}")
            arr = _read_array(archive, key)
            if tuple(arr.shape) != shape:
                raise ValueError(f"{layer}/{param} has shape {tuple(arr.shape)}; "
                                 f"{net.name} needs {shape}")
            arrays[layer, param] = arr
    return arrays


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
