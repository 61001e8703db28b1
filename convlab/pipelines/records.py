"""Settings records: what an export's manifest and every PNG's ``convlab:settings`` chunk say.

A record says where the photo came from (:func:`image_record`), what ran on it
(:func:`explorer_settings_record`, :func:`network_settings_record`) and the ``convlab export``
command line that would do it again. Plain values in, JSON-ready dicts out: the command line
and the window build them the same way, and nothing here needs Qt or a built network.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path

import numpy as np

from convlab.engine.explorer.code import chainer_code, pytorch_code
from convlab.engine.explorer import ExplorerSettings
from convlab.pipelines.guard import open_regular
from convlab.pipelines.images import IMAGENET_MEAN

DEFAULTS = ExplorerSettings()
# ``convlab export`` flags of the explorer pipeline: integer settings, and switches that turn one off
INT_FLAGS = {"kernel": "kernel size", "stride": "convolution stride", "padding": "zero padding",
             "dilation": "dilation", "filters": "number of filters", "pool": "pooling window (1 = none)",
             "pool_stride": "pooling stride"}
SWITCHES = {"no_bn": "batch_norm", "no_relu": "relu", "no_cover_all": "cover_all"}
IMAGE_PLACEHOLDER = "IMAGE"  # in the command of a photo that is not a file (pasted, dropped pixels)


def image_record(path, shape, pixels=None, name=None) -> dict:
    """Where the photo came from: ``{path, name, sha256, bytes, size [width, height]}``.

    ``path`` is a file (str or PathLike), an ``importlib.resources`` Traversable, or None for a
    photo that has no file (pasted from the clipboard): then ``pixels`` (the image array) is
    hashed instead, as ``pixels_sha256``, and ``path`` is None. A file that can no longer be read
    is also recorded by its pixels when they are given.
    """
    record = {"path": None, "name": name, "size": [int(shape[1]), int(shape[0])]}
    if path is not None:
        local = isinstance(path, (str, os.PathLike))
        record["path"] = str(Path(path).absolute()) if local else str(path)
        record["name"] = name or (Path(path).name if local else getattr(path, "name", str(path)))
        try:
            # a regular file only (OSError for a pipe swapped in since the photo was read)
            with (open_regular(path, "image", error=OSError) if local else path.open("rb")) as fh:
                digest, size = _sha256(fh)
        except OSError:
            if pixels is None:
                raise
        else:
            record.update(sha256=digest, bytes=size)
            return record
    elif pixels is None:
        raise ValueError("image_record needs the image's path or its pixels")
    record["name"] = record["name"] or "pasted image"
    record["pixels_sha256"] = hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()
    return record


def _command(image: dict, flags: list[str]) -> str:
    where = shlex.quote(image["path"]) if image.get("path") else IMAGE_PLACEHOLDER
    return " ".join(["convlab export", where, "--out DIR", *flags])


def explorer_settings_record(settings: ExplorerSettings, image: dict, *, longest: int,
                             input_shape) -> dict:
    """The explorer pipeline's record: its settings, the command, and the same layers in code."""
    s = settings
    flags = [f"--{k.replace('_', '-')} {getattr(s, k)}" for k in INT_FLAGS
             if getattr(s, k) != getattr(DEFAULTS, k)]
    flags += [f"--{flag.replace('_', '-')}" for flag, key in SWITCHES.items() if not getattr(s, key)]
    flags += ["--grayscale"] * s.grayscale + [f"--bank {s.bank}"] * (s.bank != DEFAULTS.bank)
    flags += ["--same"] * s.same + ["--transposed"] * s.transposed
    flags += [f"--groups {s.groups}"] * (s.groups != 1)
    flags += [f"--pool-mode {s.pool_mode}"] * (s.pool_mode != DEFAULTS.pool_mode)
    flags += [f"--seed {s.seed}"] * (s.seed != 0) + [f"--longest {longest}"] * (longest != 512)
    return {"pipeline": "explorer", "image": image, "explorer": s.as_dict(), "seed": s.seed,
            "weights": f"kernel bank {s.bank!r}, seed {s.seed}",
            "preprocess": {"longest": longest, "input_size": [int(input_shape[1]), int(input_shape[0])]},
            "command": _command(image, flags), "chainer": chainer_code(s), "pytorch": pytorch_code(s)}


def _sha256(fh) -> tuple[str, int]:
    """``(hex sha256, bytes)`` of what ``fh`` holds, read 1 MiB at a time: memory stays at one
    chunk whatever the file's size (a photo with a 1.5 GiB tail after its PNG data was read
    whole, 1.6 GB resident)."""
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def file_record(path) -> dict:
    """``{path (absolute), sha256}`` of a file, read in chunks (AlexBN's weights are 250 MB)."""
    with open(path, "rb") as fh:
        digest, _ = _sha256(fh)
    return {"path": str(Path(path).absolute()), "sha256": digest}


def network_settings_record(net: str, image: dict, *, weights_source: str = "random",
                            insize: int = 227, seed: int = 0, bn_mode: str | None = "batch",
                            weights_path=None, crop_box=None, spec=None, spec_path=None,
                            model_path=None, preprocess: str = "imagenet", labels_path=None,
                            conv1: str = "random") -> dict:
    """A network run's record. ``net`` is a preset's name ("alexbn", "alex", "alex2g"),
    "custom" (``spec``: the spec dict, read from ``spec_path`` when there is a file, else the
    command says ``--spec SPEC.json``) or "onnx" (``model_path``, prepared by the ``preprocess``
    preset, class names from ``labels_path``); ``weights_source`` says where random weights
    came from (``Network.weights_source``); with ``weights_path`` the file is recorded with its
    sha256 instead. ``bn_mode`` is None for a network without BN; ``conv1`` "handmade" or
    "learned" replaced the first convolution's weights."""
    weights = {"source": weights_source}
    if weights_path is not None:
        weights = {"source": "file", **file_record(weights_path)}
    flags, extra = _network_source(net, spec, spec_path, model_path, preprocess, labels_path)
    flags += [f"--input {insize}"] * (net != "onnx" and insize != 227)
    flags += [f"--seed {seed}"] * (seed != 0) + [f"--conv1 {conv1}"] * (conv1 != "random")
    flags += [f"--bn-mode {bn_mode}"] * (bn_mode not in (None, "batch"))
    if weights_path is not None:
        flags.append(f"--weights {shlex.quote(weights['path'])}")
    prep = {"shorter_side": 256, "crop": insize, "crop_box": list(crop_box) if crop_box else None,
            "mean_rgb": list(IMAGENET_MEAN), "divide_by": 255}
    if net == "onnx":
        prep = {"preset": preprocess, "crop_box": list(crop_box) if crop_box else None}
    return {"pipeline": "network", "net": net, **extra, "image": image, "seed": seed,
            "weights": weights, "conv1": conv1, "bn_mode": bn_mode, "preprocess": prep,
            "command": _command(image, flags)}


def _network_source(net, spec, spec_path, model_path, preprocess, labels_path):
    """The flags that name the network, and what the record says of its files."""
    if net == "onnx":
        model = {**file_record(model_path), "preprocess": preprocess, "labels": None}
        flags = [f"--model {shlex.quote(model['path'])}"]
        flags += [f"--preprocess {preprocess}"] * (preprocess != "imagenet")
        if labels_path is not None:
            labels = file_record(labels_path)
            model.update(labels=labels["path"], labels_sha256=labels["sha256"])
            flags.append(f"--labels {shlex.quote(labels['path'])}")
        return flags, {"model": model}
    if net == "custom":
        extra = {"spec": spec}
        if spec_path is None:
            return ["--spec SPEC.json"], extra  # an edited spec: the record holds it to save
        extra["spec_file"] = file_record(spec_path)
        return [f"--spec {shlex.quote(extra['spec_file']['path'])}"], extra
    return [f"--net {net}"], {}
