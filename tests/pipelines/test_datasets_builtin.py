"""The built-in shapes datasets: sizes, balance, determinism, and that they are not trivial."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.pipelines.datasets import DatasetError, open_dataset, source_names
from convlab.pipelines.datasets.builtin import CLASSES, generate


@pytest.mark.parametrize("name, shape", [("shapes", (1, 28, 28)), ("shapes-rgb", (3, 32, 32))])
def test_split_sizes_classes_and_types(name, shape):
    ds = open_dataset(name)
    assert ds.name == name and ds.source == name and ds.classes == CLASSES
    assert (len(ds.train), len(ds.test)) == (6000, 1000) and ds.input_shape == shape
    assert ds.train.images.dtype == np.uint8 and ds.train.labels.dtype == np.int64
    assert np.bincount(ds.train.labels).tolist() == [750] * 8
    assert np.bincount(ds.test.labels).tolist() == [125] * 8
    assert ds.train.images.min() == 0 and ds.train.images.max() == 255  # noise reaches both ends


def test_the_same_seed_draws_the_same_bits_and_other_seeds_do_not():
    a, b = generate("shapes-rgb", 300, 7), generate("shapes-rgb", 300, 7)
    assert a.images.tobytes() == b.images.tobytes() and np.array_equal(a.labels, b.labels)
    c = generate("shapes-rgb", 300, 8)
    assert not np.array_equal(a.images, c.images)
    ds = open_dataset("shapes")
    again = open_dataset("shapes")
    assert ds.train.images.tobytes() == again.train.images.tobytes()
    assert ds.test.images.tobytes() == again.test.images.tobytes()
    # train and test are different draws, not a shuffle of one another
    assert not np.array_equal(ds.train.images[:1000], ds.test.images)


def test_templates_do_far_worse_than_a_network_should():
    """Nearest class mean on standardised pixels: above chance (1/8) but far from solved, so
    telling the shapes apart needs what a convolutional network learns (edges, corners)."""
    ds = open_dataset("shapes")

    def standardise(split):
        x = split.images.reshape(len(split), -1).astype(np.float64)
        return (x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-9)

    train, test = standardise(ds.train), standardise(ds.test)
    means = np.stack([train[ds.train.labels == c].mean(0) for c in range(len(CLASSES))])
    guess = (test @ means.T - 0.5 * (means * means).sum(1)).argmax(1)
    accuracy = (guess == ds.test.labels).mean()
    assert 0.2 < accuracy < 0.7, accuracy


def test_input_shape_resizes_the_built_in_set():
    ds = open_dataset("shapes", input_shape=(3, 32, 32))
    assert ds.train.images.shape == (6000, 32, 32, 3) and ds.input_shape == (3, 32, 32)


def test_downloadable_names_say_how_to_fetch_them(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLAB_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError, match="'convlab data get mnist' fetches it"):
        open_dataset("mnist")
    assert {"shapes", "shapes-rgb", "mnist", "fashion-mnist", "cifar10"} <= set(source_names())


def test_a_downloaded_name_opens_its_folder(tmp_path, monkeypatch):
    from tests.pipelines.datasets_helpers import write_mnist

    monkeypatch.setenv("CONVLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    write_mnist(tmp_path / "data" / "mnist", 20, 10)
    ds = open_dataset("mnist")
    assert ds.name == "mnist" and (len(ds.train), len(ds.test)) == (20, 10)


def test_a_name_means_the_dataset_and_a_path_the_folder(tmp_path, monkeypatch):
    from tests.pipelines.datasets_helpers import write_mnist

    write_mnist(tmp_path / "shapes", 20, 10)
    monkeypatch.chdir(tmp_path)
    assert len(open_dataset("shapes").train) == 6000
    assert len(open_dataset("./shapes").train) == 20


@pytest.mark.parametrize("name, leftover", [
    ("mnist", "t10k-images-idx3-ubyte.gz.part"), ("cifar10", "cifar-10-binary.tar.gz")])
def test_an_unfinished_download_is_not_opened_by_name(tmp_path, monkeypatch, name, leftover):
    """An interrupted `convlab data get mnist` leaves the training files whole and the test
    images as a .part file: opened by name, that was silently an 80/20 split of the training
    files; CIFAR-10's archive, while it is unpacked, sits beside the batches unpacked so far.
    Either must say to finish the download."""
    from tests.pipelines.datasets_helpers import write_cifar, write_mnist

    monkeypatch.setenv("CONVLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "data" / name
    if name == "mnist":
        write_mnist(folder, 20, 10)
        (folder / "t10k-images-idx3-ubyte.gz").rename(folder / leftover)
    else:
        write_cifar(folder / "cifar-10-batches-bin", n_batches=2)
        (folder / leftover).write_bytes(b"the archive, still being unpacked")
    with pytest.raises(DatasetError, match=f"not finished.*'convlab data get {name}'"):
        open_dataset(name)
