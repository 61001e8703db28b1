"""A training run's files, each written whole or not at all (a temporary name, then
``os.replace``): the snapshot that ``--resume`` reads, and ``log.json``.

The snapshot is one ``.npz`` (read back with ``allow_pickle=False``):

- ``model/<layer>/<param>``: every array of the network, BN's running averages too (Chainer's
  ``save_npz`` keys under ``model/``, read back by the checked reader of
  :mod:`convlab.engine.nets.weights`);
- ``optimizer/<name>``: :meth:`Optimizer.state_dict` (``t``, ``conv1/W/t``, ``conv1/W/v``, ...);
- ``meta``: UTF-8 JSON as uint8: the format, the network's spec, the dataset's name and sizes,
  the run's configuration, the position (``epoch`` done, ``batch`` done in the next one,
  ``iteration``), the running sums of the epoch under way, the elapsed seconds, the log, and
  the random state. Every random draw of a run comes from a generator seeded by its position
  (``default_rng([seed, epoch])`` for the order, ``[seed, epoch, batch]`` for crops and flips,
  ``[seed, epoch, batch, 1]`` for dropout), so the seed and the position are the whole RNG
  state: a resumed run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile

import numpy as np

from convlab.engine.backend import to_numpy
from convlab.pipelines import guard
from convlab.pipelines.train_config import DEFAULT_LR

FORMAT = "convlab-train-snapshot/1"
MAX_META_BYTES = 64 << 20


class SnapshotError(ValueError):
    """A snapshot that cannot be resumed; ``str(exc)`` is one sentence."""


def _temporary(path: str) -> str:
    full = os.path.abspath(guard.check_output_path(path, "file"))
    folder, base = os.path.split(full)
    if not os.path.isdir(folder):
        raise guard.PathRefused(f"the folder {folder} does not exist.")
    return os.path.join(folder, f".{base}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def write_atomic(path, write) -> None:
    """Call ``write(file object)`` on a temporary file beside ``path``, then move it onto
    ``path``; on any failure (Ctrl+C too) the temporary file is removed and ``path`` is left as
    it was."""
    path = os.fspath(path)
    tmp = _temporary(path)
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_json(path, value) -> None:
    """``value`` as indented JSON, atomically (Chainer's ``LogReport`` writes ``log`` so)."""
    text = json.dumps(value, indent=4) + "\n"
    write_atomic(path, lambda fh: fh.write(text.encode()))


def model_arrays(net) -> dict[str, np.ndarray]:
    """Every array of ``net`` under Chainer's keys (``conv1/W``, ``bn1/avg_mean``, ...)."""
    return {f"{layer.name}/{key}": np.asarray(to_numpy(arr))
            for layer in net.layers for key, arr in layer.params.items()}


def save_snapshot(path, net, optimizer_state: dict, meta: dict) -> None:
    """Write the snapshot (see the module) atomically."""
    arrays = {f"model/{k}": v for k, v in model_arrays(net).items()}
    arrays.update({f"optimizer/{k}": np.asarray(v) for k, v in optimizer_state.items()})
    arrays["meta"] = np.frombuffer(json.dumps(dict(meta, format=FORMAT)).encode(), np.uint8)
    write_atomic(path, lambda fh: np.savez(fh, **arrays))


def read_meta(path) -> dict:
    """The snapshot's ``meta`` (checked: a regular file, a zip holding a small ``meta.npy``)."""
    name = os.fsdecode(path)
    guard.require_regular_file(path, "snapshot", error=SnapshotError)
    try:
        with zipfile.ZipFile(name) as zf:
            info = zf.getinfo("meta.npy")
            if info.file_size > MAX_META_BYTES:
                raise SnapshotError(f"{name}'s meta record is {info.file_size:,} bytes, too large "
                                    "for a training snapshot.")
        with np.load(name, allow_pickle=False) as f:
            meta = json.loads(bytes(f["meta"]).decode())
    except SnapshotError:
        raise
    except (KeyError, OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{name} is not a ConvLab training snapshot ({exc}).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SnapshotError(f"{name} is not a ConvLab training snapshot (format "
                            f"{meta.get('format') if isinstance(meta, dict) else None!r}).")
    return meta


def read_optimizer_state(path, shapes: dict[str, tuple]) -> dict[str, np.ndarray]:
    """The ``optimizer/`` arrays, each checked against ``shapes`` (``{"conv1/W": shape}``)
    from its ``.npy`` header before it is read; ``t`` entries are scalars."""
    name = os.fsdecode(path)
    out = {}
    try:
        with np.load(name, allow_pickle=False, mmap_mode=None) as f:
            for key in f.files:
                if not key.startswith("optimizer/"):
                    continue
                sub = key[len("optimizer/"):]
                param, _, slot = sub.rpartition("/")
                want = () if sub == "t" or slot == "t" else shapes.get(param)
                info = f.zip.getinfo(key + ".npy")
                limit = 4 * int(np.prod(want or (1,))) + 4096
                if want is None or info.file_size > limit:
                    raise SnapshotError(f"{name} holds optimizer state {sub!r}, which does not "
                                        "fit this network.")
                out[sub] = f[key]
                if want == () and (out[sub].shape != () or out[sub].dtype.kind not in "iu"):
                    raise SnapshotError(f"{name}'s optimizer step count {sub!r} is not one "
                                        "integer.")
    except SnapshotError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise SnapshotError(f"{name}'s optimizer state cannot be read ({exc}).") from None
    return out


def check_same(meta: dict, ours: dict, mine: dict) -> None:
    """SnapshotError unless the snapshot (``meta``) is of the run whose meta is ``ours`` and
    whose configuration is ``mine`` (``epochs`` may differ: a run may be made longer)."""
    if meta.get("spec") != ours["spec"]:
        raise SnapshotError(f"the snapshot is of the network {meta.get('net')!r}, "
                            f"not of this {ours['net']!r} as it is now.")
    if meta.get("dataset") != ours["dataset"]:
        raise SnapshotError("the snapshot was trained on other data "
                            f"({meta.get('dataset', {}).get('name')!r} with "
                            f"{meta.get('dataset', {}).get('train')} training images).")
    theirs = dict(meta.get("config", {}))
    theirs["freeze"] = tuple(theirs.get("freeze", ()))
    mine = dict(mine)
    for config in (theirs, mine):   # no lr: the optimizer's default, the same run as given
        if config.get("lr") is None and config.get("optimizer") in DEFAULT_LR:
            config["lr"] = DEFAULT_LR[config["optimizer"]]
    for key in mine:
        if key != "epochs" and theirs.get(key) != mine[key]:
            raise SnapshotError(f"the snapshot's run has {key} {theirs.get(key)!r}, "
                                f"not {mine[key]!r}; resume it with its own settings.")


def read_position(meta: dict, batches: int, path) -> tuple[dict, list]:
    """``({epoch, batch, iteration, sums, elapsed}, log)`` from a snapshot's ``meta``, each
    checked (``batch`` within the ``batches`` of an epoch), or SnapshotError."""
    def bad(field):
        return SnapshotError(f"{os.fsdecode(path)} holds a damaged run position ({field} "
                             f"{meta.get(field)!r}); it cannot be resumed.")

    count = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0  # noqa: E731
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    at = {k: meta.get(k) for k in ("epoch", "batch", "iteration", "sums", "elapsed")}
    for field in ("epoch", "batch", "iteration"):
        if not count(at[field]):
            raise bad(field)
    if at["batch"] > batches:
        raise bad("batch")
    sums = at["sums"]
    if not (isinstance(sums, list) and len(sums) == 3 and all(map(number, sums))):
        raise bad("sums")
    if not (number(at["elapsed"]) and at["elapsed"] >= 0):
        raise bad("elapsed")
    log = meta.get("log")
    if not (isinstance(log, list) and all(isinstance(e, dict) for e in log)):
        raise bad("log")
    return dict(at, sums=list(sums), elapsed=float(at["elapsed"])), list(log)
