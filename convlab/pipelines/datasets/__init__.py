"""Datasets for training (Qt-free): one :class:`Dataset` interface over every source.

``open_dataset(source, *, input_shape=None, split_seed=0) -> Dataset``. ``source`` is

- a built-in name: ``"shapes"`` (28 x 28 grey) or ``"shapes-rgb"`` (32 x 32 colour), seeded
  drawings of eight shapes, no download (:mod:`.builtin`);
- a downloadable name, ``"mnist"``, ``"fashion-mnist"`` or ``"cifar10"``, once
  ``convlab data get NAME`` has fetched it (:mod:`.download`, :mod:`.catalogue`);
- a folder of MNIST / Fashion-MNIST IDX files, gzipped or not (:mod:`.idx`);
- a folder of CIFAR-10 binary batches, or the ``cifar-10-batches-bin`` folder's parent
  (:mod:`.cifar`);
- a folder with one sub-folder per class, or ``train/`` and ``test/`` each holding them
  (:mod:`.folder`).

A name always means the dataset (a folder called ``shapes`` is ``./shapes``). A source with no
test split of its own is split 80/20 per class with ``default_rng(split_seed)``.
``Dataset.train`` / ``.test`` are :class:`Split` s (``images`` uint8 ``(N, H, W, C)``, ``labels``
int64, ``len()``); ``classes``, ``name``, ``input_shape`` ``(C, H, W)``, ``skipped`` /
``problems`` (files not used), and ``batches(...)`` yields float32 NCHW mini-batches in [0, 1]
from a seeded shuffle with optional crop and flip (:mod:`.batches`). With ``input_shape``, images
are resized (Pillow, bilinear) and converted grey <-> RGB to the network's input
(:mod:`.convert`). Every refusal is a :class:`DatasetError` (a ``ValueError``) of one sentence.
"""

from __future__ import annotations

import os

from convlab.pipelines.datasets.batches import Batch, count_batches, epoch_order, iterate_batches
from convlab.pipelines.datasets.builtin import BUILTIN
from convlab.pipelines.datasets.catalogue import CATALOGUE, data_root, dataset_dir
from convlab.pipelines.datasets.core import Dataset, DatasetError, Split

__all__ = ["Batch", "BUILTIN", "CATALOGUE", "Dataset", "DatasetError", "Split", "count_batches",
           "data_root", "dataset_dir", "epoch_order", "iterate_batches", "open_dataset",
           "source_names"]


def source_names() -> tuple[str, ...]:
    """The names ``open_dataset`` takes besides paths: built-in, then downloadable."""
    return tuple(BUILTIN) + tuple(CATALOGUE)


def open_dataset(source, *, input_shape=None, split_seed: int = 0) -> Dataset:
    """The dataset at ``source`` (a path or a name, see the module), images at ``input_shape``
    ``(C, H, W)`` when given; raises :class:`DatasetError` with one sentence."""
    from convlab.pipelines.datasets.convert import check_input_shape, fit_split

    shape = check_input_shape(input_shape) if input_shape is not None else None
    name, classes, train, test, skipped, problems, where = _read(source, shape, split_seed)
    if shape is not None:
        train = fit_split(train, shape, name)
        test = fit_split(test, shape, name)
    return Dataset(name, classes, train, test, source=where, skipped=skipped, problems=problems)


def _read(source, shape, split_seed: int):
    if isinstance(source, str) and source in BUILTIN:
        from convlab.pipelines.datasets import builtin

        train, test = builtin.splits(source)
        return source, builtin.CLASSES, train, test, 0, (), source
    path = _resolve(source)
    from convlab.pipelines.datasets.cifar import find_cifar_folder, open_cifar_folder
    from convlab.pipelines.datasets.idx import find_idx_files, open_idx_folder

    idx_files = find_idx_files(path)
    if idx_files:
        return (*open_idx_folder(path, idx_files, split_seed=split_seed), 0, (), path)
    cifar = find_cifar_folder(path)
    if cifar:
        return (*open_cifar_folder(cifar, split_seed=split_seed), 0, (), path)
    from convlab.pipelines.datasets.folder import open_image_folder

    return (*open_image_folder(path, input_shape=shape, split_seed=split_seed), path)


def _resolve(source) -> str:
    """``source`` as an existing folder's path, or DatasetError saying what it is not."""
    try:
        path = os.fsdecode(source)
    except TypeError:
        raise DatasetError(f"a dataset source is a folder or a name, not {type(source).__name__}.") from None
    if isinstance(source, str) and path in CATALOGUE:
        folder = dataset_dir(path)
        if not folder.is_dir():
            raise DatasetError(f"{path} is not downloaded yet ({folder} does not exist); "
                               f"'convlab data get {path}' fetches it.")
        if _unfinished(folder, CATALOGUE[path]):
            raise DatasetError(f"the download of {path} into {folder} is not finished; "
                               f"'convlab data get {path}' resumes it.")
        return str(folder)
    if not os.path.isdir(path):
        if os.path.exists(path):
            raise DatasetError(f"{path} is not a folder; a dataset is a folder or one of the names "
                               f"{', '.join(source_names())}.")
        raise DatasetError(f"{path} is neither a folder nor a dataset name ({', '.join(source_names())}).")
    return path


def _unfinished(folder, entry) -> bool:
    """True while ``folder`` shows a download under way or interrupted: a ``.part`` file, or an
    archive not yet unpacked and removed (files copied in by hand, without ``download.json``,
    are used as they are)."""
    from convlab.pipelines.datasets.download import is_complete

    if is_complete(folder):
        return False
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    archive = {f.name for f in entry.files} if entry.members else set()
    return any(n.endswith(".part") or n in archive for n in names)
