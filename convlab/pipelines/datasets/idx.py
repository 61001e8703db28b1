"""MNIST and Fashion-MNIST: the IDX format, gzipped or not, read by ConvLab itself.

IDX (LeCun, Cortes & Burges, http://yann.lecun.com/exdb/mnist/): two zero bytes, a type byte
(0x08 = unsigned byte, the only one MNIST uses), the number of dimensions ``d``, then ``d``
big-endian uint32 sizes, then ``prod(sizes)`` values in C order. Images are ``(N, H, W)``
(``*-idx3-ubyte``), labels ``(N,)`` (``*-idx1-ubyte``).

The header is judged before any data is read: the item count must fit ``MAX_IDX_BYTES`` and,
for a plain file, the bytes on disk. A gzipped file is read through a stream that stops after
the header's count plus one byte, so a bomb never decompresses more than a true file would.
"""

from __future__ import annotations

import gzip
import os
import re
import struct
import zlib

import numpy as np

from convlab.pipelines.datasets.core import DatasetError, Split, check_labels, seeded_split
from convlab.pipelines.guard import open_regular

MAX_IDX_BYTES = 1 << 30          # one IDX file's data: 1 GiB (MNIST's training images: 47 MB)
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")  # zalandoresearch/fashion-mnist README
_FILE = re.compile(r"(?P<prefix>.*?)(?P<split>train|t10k|test)[-_.](?P<kind>images|labels)"
                   r"[-_.]idx(?P<ndim>[13])[-_.]ubyte(?P<gz>\.gz)?", re.IGNORECASE)


def find_idx_files(folder: str) -> dict[tuple[str, str], str]:
    """``{(split, kind): path}`` for the IDX files in ``folder`` (split "train"/"test", kind
    "images"/"labels"); a plain file wins over its ``.gz`` twin."""
    found: dict[tuple[str, str], str] = {}
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return found
    for name in names:
        match = _FILE.fullmatch(name)
        if not match or (match["kind"].lower() == "images") != (match["ndim"] == "3"):
            continue
        split = "train" if match["split"].lower() == "train" else "test"
        key = (split, match["kind"].lower())
        if key not in found or not match["gz"]:
            found[key] = os.path.join(folder, name)
    return found


def read_idx(path: str, ndim: int, *, limit: int = MAX_IDX_BYTES) -> np.ndarray:
    """The ``ndim``-dimensional uint8 array in the IDX file ``path`` (gzipped or not)."""
    name = os.path.basename(path)
    with open_regular(path, "IDX", error=DatasetError) as raw:
        size_on_disk = os.fstat(raw.fileno()).st_size
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
        try:
            shape = _read_header(stream, ndim, name)
            count = int(np.prod(shape, dtype=object))
            _check_count(count, shape, name, limit,
                         None if gzipped else size_on_disk - 4 - 4 * ndim)
            data = stream.read(count + 1)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise DatasetError(f"{name} is a truncated or damaged gzip file ({exc}).") from None
        except OSError as exc:
            raise DatasetError(f"{name} cannot be read: {exc.strerror or exc}.") from None
    if len(data) < count:
        raise DatasetError(f"{name} is truncated: its header promises {count:,} bytes of data "
                           f"but it holds {len(data):,}.")
    if len(data) > count:
        raise DatasetError(f"{name} holds more data than its header says ({count:,} bytes); "
                           "it is not a well-formed IDX file.")
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _read_header(stream, ndim: int, name: str) -> tuple[int, ...]:
    head = stream.read(4)
    if len(head) < 4 or head[:2] != b"\0\0":
        raise DatasetError(f"{name} is not an IDX file (it does not start with two zero bytes).")
    if head[2] != 0x08:
        raise DatasetError(f"{name} holds IDX type 0x{head[2]:02x}; ConvLab reads unsigned "
                           "bytes (0x08) only.")
    if head[3] != ndim:
        raise DatasetError(f"{name} has {head[3]} dimensions where {ndim} were expected.")
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DatasetError(f"{name} is truncated inside its header.")
    shape = struct.unpack(f">{ndim}I", dims)
    if min(shape) < 1:
        raise DatasetError(f"{name} has an empty dimension in its header {shape}.")
    return shape


def _check_count(count: int, shape, name: str, limit: int, available: int | None) -> None:
    dims = " x ".join(f"{d:,}" for d in shape)
    if count > limit:
        raise DatasetError(f"{name}'s header claims {dims} = {count:,} bytes, more than ConvLab "
                           f"reads from one IDX file ({limit:,}).")
    if available is not None and count > available:
        raise DatasetError(f"{name}'s header claims {dims} = {count:,} bytes but the file holds "
                           f"only {max(available, 0):,}.")


def read_pair(images_path: str, labels_path: str, n_classes: int) -> Split:
    """One split from its images and labels files, checked against each other."""
    images = read_idx(images_path, 3)
    labels = read_idx(labels_path, 1)
    if labels.shape[0] != images.shape[0]:
        raise DatasetError(f"{os.path.basename(images_path)} holds {images.shape[0]:,} images but "
                           f"{os.path.basename(labels_path)} {labels.shape[0]:,} labels.")
    labels = labels.astype(np.int64)
    check_labels(labels, n_classes, os.path.basename(labels_path))
    return Split(images[..., None], labels)  # (N, H, W, 1): grey


def open_idx_folder(folder: str, files: dict, *, split_seed: int = 0):
    """``(name, classes, train, test)`` from the IDX files :func:`find_idx_files` found."""
    from convlab.pipelines.datasets.folder import read_class_names

    base = os.path.basename(os.path.normpath(folder)).lower()
    fashion = "fashion" in base
    classes = read_class_names(folder) or (FASHION_CLASSES if fashion else MNIST_CLASSES)
    name = "fashion-mnist" if fashion else ("mnist" if "mnist" in base else base)
    splits = {}
    for split in ("train", "test"):
        images, labels = files.get((split, "images")), files.get((split, "labels"))
        if (images is None) != (labels is None):
            have = os.path.basename(images or labels)
            raise DatasetError(f"{have} has no matching {'labels' if labels is None else 'images'} "
                               f"file in {folder}.")
        if images is not None:
            splits[split] = read_pair(images, labels, len(classes))
    if not splits:
        raise DatasetError(f"{folder} has no IDX images file (train-images-idx3-ubyte[.gz]).")
    if len(splits) == 1:  # one split only: the seeded 80/20 split of it
        whole = next(iter(splits.values()))
        train_idx, test_idx = seeded_split(whole.labels, split_seed)
        splits = {"train": whole.take(train_idx), "test": whole.take(test_idx)}
    return name, classes, splits["train"], splits["test"]
