"""A folder of photos, one sub-folder per class (torchvision's ImageFolder layout).

``root/cat/*.jpg``, ``root/dog/*.png`` ...: the classes are the sub-folders in sorted order
and the split is a seeded, stratified 80/20 one. When ``root`` holds ``train/`` and ``test/``,
each with the class sub-folders, those are the splits (the classes are ``train/``'s).

Files are found recursively (links followed, each folder visited once, so a symbolic-link loop
ends), hidden names (a leading dot) ignored. Each file goes through
:func:`convlab.pipelines.images.load_image` (regular files only, decompression-bomb guard);
a named pipe, a link loop or a file that is not an image is skipped and counted, and the
dataset is refused when no image is left. Without ``input_shape`` the images take the first
image's size (shorter side at most ``DEFAULT_MAX_SIDE``), three channels.
"""

from __future__ import annotations

import os
import stat

import numpy as np
from PIL import Image

from convlab.pipelines.datasets.convert import fit_image
from convlab.pipelines.datasets.core import DatasetError, Split, check_size, seeded_split
from convlab.pipelines.guard import bounded_read, kind_of
from convlab.pipelines.images import ImageLoadError, load_image

DEFAULT_MAX_SIDE = 256
MAX_FILES = 1_000_000
MAX_PROBLEMS = 5  # reasons kept on the Dataset; the count covers them all


def read_class_names(folder: str) -> tuple[str, ...] | None:
    """The names in ``folder/classes.txt`` (one a line), when that file exists."""
    path = os.path.join(folder, "classes.txt")
    if not os.path.lexists(path):
        return None
    text = bounded_read(path, 64 * 1024, "class-name list", error=DatasetError)
    names = tuple(line.strip() for line in text.decode("utf-8", "replace").splitlines()
                  if line.strip())
    return names or None


def class_folders(folder: str) -> list[str]:
    """The visible sub-folders of ``folder`` (links to folders included), sorted."""
    try:
        entries = _Walk()._listing(folder)
    except OSError as exc:
        raise DatasetError(f"{folder} cannot be listed: {exc.strerror or exc}.") from None
    return [e.name for e in entries if not e.name.startswith(".") and _is_dir(e)]


def _is_dir(entry) -> bool:
    try:
        return entry.is_dir()  # follows a link; False for a loop or a dangling link
    except OSError:
        return False


class _Walk:
    """Files under class folders, with what was skipped and why."""

    def __init__(self):
        self.files: list[tuple[str, int]] = []
        self.skipped = 0
        self.problems: list[str] = []
        self._seen: set[tuple[int, int]] = set()
        self.listed = 0   # entries listed so far, every folder of the walk

    def mark_visited(self, path: str) -> None:
        """Count ``path`` as visited: a link back to it is a loop, not more classes."""
        try:
            info = os.stat(path)
            self._seen.add((info.st_dev, info.st_ino))
        except OSError:
            pass

    def skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(reason)

    def add_folder(self, path: str, label: int) -> None:
        try:
            info = os.stat(path)
        except OSError as exc:
            return self.skip(f"{path} cannot be opened: {exc.strerror or exc}.")
        if (info.st_dev, info.st_ino) in self._seen:
            return self.skip(f"{path} is a folder already visited (a symbolic-link loop).")
        self._seen.add((info.st_dev, info.st_ino))
        try:
            entries = self._listing(path)
        except OSError as exc:
            return self.skip(f"{path} cannot be listed: {exc.strerror or exc}.")
        for entry in entries:
            if entry.name.startswith("."):
                continue
            self._add_entry(entry.path, label)

    def _listing(self, path: str) -> list:
        """``path``'s entries, sorted; every entry of the walk counts towards ``MAX_FILES`` as
        it is listed (hidden and skipped ones too), so no listing is read whole past it."""
        entries = []
        with os.scandir(path) as listing:
            for entry in listing:
                self.listed += 1
                if self.listed > MAX_FILES:
                    raise DatasetError(f"the folder holds more than {MAX_FILES:,} files and "
                                       "folders; ConvLab trains on fewer.")
                entries.append(entry)
        return sorted(entries, key=lambda e: e.name)

    def _add_entry(self, path: str, label: int) -> None:
        try:
            mode = os.stat(path).st_mode  # follows links: ELOOP for a loop of links
        except OSError as exc:
            return self.skip(f"{path} cannot be opened: {exc.strerror or exc}.")
        if stat.S_ISDIR(mode):
            return self.add_folder(path, label)
        if not stat.S_ISREG(mode):
            return self.skip(f"{path} is {kind_of(mode)}, not an image file.")
        if len(self.files) >= MAX_FILES:
            raise DatasetError(f"the folder holds more than {MAX_FILES:,} files; ConvLab trains on "
                               "fewer.")
        self.files.append((path, label))


def _load(walk: _Walk, target, what: str):
    """Load every file found into uint8 images at ``target`` (None: decided by the first)."""
    n = len(walk.files)
    images, labels, kept = None, np.empty(n, np.int64), 0
    for path, label in walk.files:
        try:
            rgb = load_image(path)                               # (H, W, 3) float32 in [0, 1]
        except ImageLoadError as exc:
            walk.skip(str(exc))
            continue
        im = Image.fromarray(np.round(rgb * 255.0).astype(np.uint8), "RGB")
        if target is None:
            target = _default_target(im)
        if images is None:
            check_size(n, (target[1], target[2], target[0]), what)
            images = np.empty((n, target[1], target[2], target[0]), np.uint8)  # (N, H, W, C)
        images[kept] = fit_image(im, *target, keep_aspect=True)
        labels[kept] = label
        kept += 1
    return images, labels, kept, target


def _default_target(im: Image.Image) -> tuple[int, int, int]:
    scale = min(1.0, DEFAULT_MAX_SIDE / min(im.size))
    return 3, max(1, round(im.height * scale)), max(1, round(im.width * scale))


def _read_split(folder: str, classes: list[str], walk: _Walk, target, what: str):
    walk.files = []
    for label, name in enumerate(classes):
        if os.path.isdir(os.path.join(folder, name)):
            walk.add_folder(os.path.join(folder, name), label)
    images, labels, kept, target = _load(walk, target, what)
    if kept == 0:
        return None, target
    return Split(images[:kept], labels[:kept]), target


def open_image_folder(folder: str, *, input_shape=None, split_seed: int = 0):
    """``(name, classes, train, test, skipped, problems)`` for a folder of class folders."""
    name = os.path.basename(os.path.normpath(folder))
    top = class_folders(folder)
    walk, target = _Walk(), input_shape
    walk.mark_visited(folder)
    if "train" in top and "test" in top:
        walk.mark_visited(os.path.join(folder, "train"))
        walk.mark_visited(os.path.join(folder, "test"))
        classes = class_folders(os.path.join(folder, "train"))
        extra = sorted(set(class_folders(os.path.join(folder, "test"))) - set(classes))
        if extra:
            raise DatasetError(f"{folder}/test has the class folder {extra[0]!r}, which train/ "
                               "lacks.")
        _need_classes(classes, os.path.join(folder, "train"))
        train, target = _read_split(os.path.join(folder, "train"), classes, walk, target, name)
        test, target = _read_split(os.path.join(folder, "test"), classes, walk, target, name)
        if train is None:
            raise DatasetError(_nothing_left(folder + "/train", walk))
        if test is None:
            test = Split(np.zeros((0,) + train.images.shape[1:], np.uint8), np.zeros(0, np.int64))
    else:
        classes = top
        _need_classes(classes, folder)
        whole, target = _read_split(folder, classes, walk, target, name)
        if whole is None:
            raise DatasetError(_nothing_left(folder, walk))
        train_idx, test_idx = seeded_split(whole.labels, split_seed)
        train, test = whole.take(train_idx), whole.take(test_idx)
    return name, tuple(classes), train, test, walk.skipped, tuple(walk.problems)


def _need_classes(classes: list[str], folder: str) -> None:
    if len(classes) < 2:
        found = f"only {classes[0]!r}" if classes else "none"
        raise DatasetError(f"{folder} needs one sub-folder per class, at least two ({found} found).")


def _nothing_left(folder: str, walk: _Walk) -> str:
    if walk.skipped:
        return (f"{folder} has no usable image: all {walk.skipped} files were skipped (the first: "
                f"{walk.problems[0].rstrip('.')}).")
    return f"{folder} has no image in its class folders."
