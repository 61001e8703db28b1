"""CIFAR-10's binary version, read by ConvLab itself (never unpickled).

Krizhevsky, "Learning Multiple Layers of Features from Tiny Images" (2009) and
https://www.cs.toronto.edu/~kriz/cifar.html, "Binary version": each file is a run of
3073-byte records, one label byte (0-9) then 3072 pixel bytes, the 1024 red values of the
32x32 image row by row, then the green, then the blue. ``data_batch_1.bin`` ..
``data_batch_5.bin`` hold 10,000 records each (the training split), ``test_batch.bin`` the
test split, and ``batches.meta.txt`` the ten class names, one a line.

Images stay uint8 ``(N, 32, 32, 3)``: 50,000 of them are 153.6 MB; each file is read whole
(30.7 MB), judged by its length first, and copied into one preallocated array.
"""

from __future__ import annotations

import os
import re

import numpy as np

from convlab.pipelines.datasets.core import (DatasetError, Split, check_labels, check_size,
                                             seeded_split)
from convlab.pipelines.guard import bounded_read, require_regular_file

RECORD = 1 + 3 * 32 * 32                  # 3073 bytes: label, R plane, G plane, B plane
MAX_FILE_BYTES = 100_000 * RECORD         # one batch file: at most 100,000 records (307 MB)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")                       # batches.meta.txt of cifar-10-batches-bin
SUBFOLDER = "cifar-10-batches-bin"        # what cifar-10-binary.tar.gz unpacks to
_TRAIN = re.compile(r"data_batch_(\d+)\.bin")


def find_cifar_folder(folder: str) -> tuple[str, list[str], str | None] | None:
    """``(folder, training files, test file)`` when ``folder`` (or its ``cifar-10-batches-bin``)
    holds CIFAR-10 binary batches; None otherwise. Training files sort by batch number."""
    for candidate in (folder, os.path.join(folder, SUBFOLDER)):
        try:
            names = os.listdir(candidate)
        except OSError:
            continue
        train = sorted((n for n in names if _TRAIN.fullmatch(n)),
                       key=lambda n: int(_TRAIN.fullmatch(n).group(1)))
        test = "test_batch.bin" if "test_batch.bin" in names else None
        if train or test:
            return (candidate, [os.path.join(candidate, n) for n in train],
                    os.path.join(candidate, test) if test else None)
    return None


def record_count(path: str) -> int:
    """How many records ``path`` holds, judged by its length alone (nothing is read)."""
    size = require_regular_file(path, "CIFAR-10 batch", error=DatasetError).st_size
    name = os.path.basename(path)
    if size == 0 or size % RECORD:
        raise DatasetError(f"{name} is {size:,} bytes, not a whole number of 3,073-byte CIFAR-10 "
                           "records (a label byte and 32 x 32 x 3 pixels).")
    if size > MAX_FILE_BYTES:
        raise DatasetError(f"{name} is {size:,} bytes, more than ConvLab reads from one CIFAR-10 "
                           f"batch ({MAX_FILE_BYTES:,}).")
    return size // RECORD


def read_batches(paths: list[str], n_classes: int) -> Split:
    """The records of ``paths`` in order, as one split (uint8 images, int64 labels)."""
    counts = [record_count(p) for p in paths]
    total = sum(counts)
    check_size(total, (32, 32, 3), f"CIFAR-10's {len(paths)} batch files")   # before any read
    images = np.empty((total, 32, 32, 3), dtype=np.uint8)   # (N, H, W, C)
    labels = np.empty(total, dtype=np.int64)
    start = 0
    for path, n in zip(paths, counts):
        data = bounded_read(path, n * RECORD, "CIFAR-10 batch", error=DatasetError)
        if len(data) != n * RECORD:  # the file changed between the two looks
            raise DatasetError(f"{os.path.basename(path)} changed length while it was read.")
        records = np.frombuffer(data, dtype=np.uint8).reshape(n, RECORD)
        labels[start:start + n] = records[:, 0]
        # (n, 3072) -> (n, 3, 32, 32) planes -> (n, 32, 32, 3)
        images[start:start + n] = records[:, 1:].reshape(n, 3, 32, 32).transpose(0, 2, 3, 1)
        check_labels(labels[start:start + n], n_classes, os.path.basename(path))
        start += n
    return Split(images, labels)


def read_meta(folder: str) -> tuple[str, ...] | None:
    """The class names in ``folder/batches.meta.txt`` (one a line, blanks dropped), or None."""
    path = os.path.join(folder, "batches.meta.txt")
    if not os.path.lexists(path):
        return None
    data = bounded_read(path, 64 * 1024, "class-name list", error=DatasetError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not UTF-8 text.") from None
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not names:
        raise DatasetError(f"{path} names no classes.")
    return names


def open_cifar_folder(found, *, split_seed: int = 0):
    """``(name, classes, train, test)`` for what :func:`find_cifar_folder` found."""
    folder, train_paths, test_path = found
    classes = read_meta(folder) or CLASSES
    train = read_batches(train_paths, len(classes)) if train_paths else None
    test = read_batches([test_path], len(classes)) if test_path else None
    if train is None or test is None:  # one split only: the seeded 80/20 split of it
        whole = train if train is not None else test
        train_idx, test_idx = seeded_split(whole.labels, split_seed)
        train, test = whole.take(train_idx), whole.take(test_idx)
    return "cifar10", classes, train, test
