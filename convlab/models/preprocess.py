"""What a trained model expects of a photo, and the names of its classes (no Qt).

Presets (the model's input shape ``(C, H, W)`` sets the crop):

- ``"imagenet"``, "ImageNet mean/std, RGB 0..1" (torchvision): shorter side resized to
  ``round(min(H, W) * 256 / 224)``, the centre ``H x W`` cropped, ``(x - mean) / std`` with
  mean ``(0.485, 0.456, 0.406)`` and std ``(0.229, 0.224, 0.225)`` on RGB in [0, 1].
- ``"chainer"``, "Chainer: mean subtracted, / 255" (Chainer's ImageNet example): shorter side to
  ``round(min(H, W) * 256 / 227)``, centre crop, ``(255 x - mean) / 255`` with the per-channel
  ImageNet means R 123.68, G 116.779, B 103.939 on the 0-255 scale.
- ``"unit"``, "0..1": the same crop as ``"imagenet"``, RGB in [0, 1] unchanged.

A one-channel model gets BT.601 luma (and the mean of the three means and stds).
Labels: a text file with one class per line (a leading WordNet id such as ``n01440764`` is
dropped), found beside the model or chosen; :func:`top_k` pairs scores with them.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

PRESETS = {"imagenet": "ImageNet mean/std, RGB 0..1", "chainer": "Chainer: mean subtracted, / 255",
           "unit": "0..1"}
IMAGENET_MEAN = (0.485, 0.456, 0.406)          # torchvision, RGB in [0, 1]
IMAGENET_STD = (0.229, 0.224, 0.225)
CHAINER_MEAN = (123.68, 116.779, 103.939)      # RGB on the 0-255 scale
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_RESIZE_RATIO = {"imagenet": 256 / 224, "chainer": 256 / 227, "unit": 256 / 224}
LABEL_FILES = ("labels.txt", "synset_words.txt", "imagenet_classes.txt", "classes.txt")
MAX_LABEL_BYTES = 4 * 2 ** 20
_WORDNET_ID = re.compile(r"^n\d{8}\s+")


@dataclass
class Prepared:
    """``input`` ``(1, C, H, W)`` float32 for the network; ``crop`` ``(H, W, 3)`` in [0, 1] to
    show; ``box`` the crop in the photo's pixels ``(left, top, right, bottom)``."""

    input: np.ndarray
    crop: np.ndarray
    box: tuple[float, float, float, float]
    preset: str


def centre_crop(image: np.ndarray, height: int, width: int, ratio: float):
    """Resize the shorter side to ``round(min(height, width) * ratio)``, crop the centre
    ``height x width``: ``(crop (height, width, 3) float32, box in the photo's pixels)``."""
    h, w = image.shape[:2]
    shorter = max(round(min(height, width) * ratio), height, width)
    factor = shorter / min(h, w)
    new_h, new_w = max(round(h * factor), height), max(round(w * factor), width)
    top, left = (new_h - height) // 2, (new_w - width) // 2
    fy, fx = new_h / h, new_w / w
    box = (left / fx, top / fy, (left + width) / fx, (top + height) / fy)
    channels = [Image.fromarray(np.ascontiguousarray(image[:, :, c], dtype=np.float32), mode="F")
                .resize((width, height), Image.BILINEAR, box=box) for c in range(3)]
    crop = np.stack([np.asarray(ch, dtype=np.float32) for ch in channels], axis=2)  # (H, W, 3)
    return np.clip(crop, 0.0, 1.0), box


def preprocess(image: np.ndarray, input_shape, preset: str = "imagenet") -> Prepared:
    """A photo ``(h, w, 3)`` in [0, 1] made into the input of a model of ``input_shape``
    ``(C, H, W)`` (C 1 or 3) by ``preset`` (see the module's docstring)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preprocessing {preset!r}; choose one of {', '.join(PRESETS)}.")
    c, height, width = (int(v) for v in input_shape)
    if c not in (1, 3):
        raise ValueError(f"a model with {c} input channels cannot take a photo (1 or 3 needed).")
    crop, box = centre_crop(image, height, width, _RESIZE_RATIO[preset])
    if preset == "imagenet":
        mean, scale = np.array(IMAGENET_MEAN), 1.0 / np.array(IMAGENET_STD)
    elif preset == "chainer":
        mean, scale = np.array(CHAINER_MEAN) / 255.0, np.ones(3)
    else:
        mean, scale = np.zeros(3), np.ones(3)
    values = crop                                                   # (H, W, 3)
    if c == 1:
        values, mean, scale = (crop @ LUMA)[:, :, None], mean.mean(keepdims=True), \
            1.0 / (1.0 / scale).mean(keepdims=True)                 # (H, W, 1)
    net_in = (values - mean.astype(np.float32)) * scale.astype(np.float32)   # (H, W, C)
    net_in = np.ascontiguousarray(net_in.transpose(2, 0, 1)[None], dtype=np.float32)  # (1, C, H, W)
    return Prepared(net_in, crop, box, preset)


def find_labels(model_path) -> Path | None:
    """A labels file beside the model: ``<model name>.txt``, then the usual names
    (``labels.txt``, ``synset_words.txt``, ``imagenet_classes.txt``, ``classes.txt``)."""
    model_path = Path(model_path)
    beside = [model_path.parent / name for name in LABEL_FILES]
    for candidate in (model_path.with_suffix(".txt"), *beside):
        if candidate.is_file():
            return candidate
    return None


def read_labels(path) -> list[str]:
    """One class per line (UTF-8; trailing blank lines dropped, a leading WordNet id removed);
    ``ValueError`` with a sentence for a missing, special (pipe, device), binary or over-large
    (:data:`MAX_LABEL_BYTES`, 4 MiB) file. The size is judged on the opened file before any
    read, and at most 4 MiB + 1 bytes are ever read, so a 1 GiB file costs nothing."""
    name = os.path.basename(os.fspath(path))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)   # O_NONBLOCK: a named pipe cannot hold the open
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"{name} is not a regular file, so not a labels file.")
            if info.st_size > MAX_LABEL_BYTES:
                raise ValueError(f"{name} is over 4 MiB, too large for a labels file.")
            os.set_blocking(fh.fileno(), True)
            data = fh.read(MAX_LABEL_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"{name} cannot be read: {exc.strerror or exc}.") from None
    if len(data) > MAX_LABEL_BYTES:
        raise ValueError(f"{name} is over 4 MiB, too large for a labels file.")
    if b"\0" in data:
        raise ValueError(f"{name} is not a text file of class names.")
    lines = data.decode("utf-8", errors="replace").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return [_WORDNET_ID.sub("", line.strip()) for line in lines]


def top_k(scores, labels=None, k: int = 5) -> list[tuple[int, str, float]]:
    """The ``k`` highest scores as ``(class index, label, score)``, highest first; a class
    without a label is called ``"class i"``. ``scores`` may keep N = 1 and 1 x 1 axes."""
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-values, kind="stable")[:k]
    labels = labels or []
    return [(int(i), labels[i] if i < len(labels) else f"class {i}", float(values[i]))
            for i in order]


def is_distribution(scores, tol: float = 1e-3) -> bool:
    """Whether ``scores`` already are probabilities (non-negative, summing to 1)."""
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    return bool(values.min() >= 0 and abs(values.sum() - 1.0) <= tol)
