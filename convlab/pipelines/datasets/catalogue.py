"""The datasets ``convlab data get`` knows: where they are published and their checksums.

Every file has its size and SHA-256 as published, and where the source itself publishes an MD5
(MNIST's and Fashion-MNIST's files through torchvision's and Fashion-MNIST's README tables,
CIFAR-10 on its home page), that MD5 too; a download is used only when all of them match.
SHA-256 sources: MNIST and Fashion-MNIST, TensorFlow Datasets' ``url_checksums/mnist.txt`` and
``fashion_mnist.txt`` (the same bytes on every mirror); CIFAR-10, TensorFlow Datasets'
``url_checksums/cifar10.txt``, with MD5 ``c32a1d4a...`` from https://www.cs.toronto.edu/~kriz/cifar.html.

Downloads go to ``platformdirs.user_data_dir("convlab")/datasets/NAME`` (or the folder in the
environment variable ``CONVLAB_DATA_DIR``, then ``NAME`` under it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RemoteFile:
    """One published file: its name on the server, size in bytes and digests (hex)."""

    name: str
    size: int
    sha256: str
    md5: str | None = None


@dataclass(frozen=True)
class Entry:
    """A downloadable dataset: its server folder and files; for a tar.gz archive, ``members``
    names the archive's files ConvLab unpacks, each with the most bytes it may hold."""

    name: str
    title: str
    base_url: str
    files: tuple[RemoteFile, ...]
    members: tuple[tuple[str, int], ...] = ()


_IDX_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _idx(sizes, sha256s, md5s):
    return tuple(RemoteFile(n, s, h, m) for n, s, h, m in zip(_IDX_NAMES, sizes, sha256s, md5s))


CIFAR_MEMBERS = tuple((f"cifar-10-batches-bin/{n}", s) for n, s in (
    *((f"data_batch_{i}.bin", 30_730_000) for i in range(1, 6)),
    ("test_batch.bin", 30_730_000), ("batches.meta.txt", 4096)))

CATALOGUE: dict[str, Entry] = {
    "mnist": Entry(
        "mnist", "MNIST (LeCun, Cortes & Burges)",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's mirror of yann.lecun.com
        _idx((9_912_422, 28_881, 1_648_877, 4_542),
             ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
              "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
              "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
              "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
             ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
              "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"))),
    "fashion-mnist": Entry(
        "fashion-mnist", "Fashion-MNIST (Xiao, Rasul & Vollgraf, Zalando Research)",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        _idx((26_421_880, 29_515, 4_422_102, 5_148),
             ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
              "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
              "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
              "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
             ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
              "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"))),
    "cifar10": Entry(
        "cifar10", "CIFAR-10, binary version (Krizhevsky 2009)",
        "https://www.cs.toronto.edu/~kriz/",
        (RemoteFile("cifar-10-binary.tar.gz", 170_052_171,
                    "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                    "c32a1d4ab5d03f1284b67883e8d87530"),),
        CIFAR_MEMBERS),
}


def data_root() -> Path:
    """The folder that holds one sub-folder per downloaded dataset."""
    override = os.environ.get("CONVLAB_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("convlab")) / "datasets"


def dataset_dir(name: str) -> Path:
    """Where ``convlab data get NAME`` puts ``NAME`` by default."""
    return data_root() / name
