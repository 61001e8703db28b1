"""CIFAR-10 binary batches: layout, uint8 storage, class names, and files of the wrong length."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.pipelines.datasets import DatasetError, open_dataset
from convlab.pipelines.datasets.cifar import CLASSES, RECORD, read_batches
from tests.pipelines.datasets_helpers import cifar_bytes, write_cifar


def test_records_become_uint8_images_in_hwc_order(tmp_path):
    arrays = write_cifar(tmp_path / "c", per_batch=6, n_batches=3, n_test=5)
    ds = open_dataset(tmp_path / "c")
    assert ds.name == "cifar10" and ds.classes == CLASSES
    assert (len(ds.train), len(ds.test)) == (18, 5)
    assert ds.train.images.dtype == np.uint8 and ds.train.images.shape == (18, 32, 32, 3)
    assert ds.train.labels.dtype == np.int64 and ds.input_shape == (3, 32, 32)
    expected = np.concatenate([arrays[f"data_batch_{i}.bin"][0] for i in (1, 2, 3)])
    np.testing.assert_array_equal(ds.train.images, expected)
    np.testing.assert_array_equal(ds.test.labels, arrays["test_batch.bin"][1])


def test_batches_are_read_in_numeric_order(tmp_path):
    arrays = write_cifar(tmp_path / "c", per_batch=2, n_batches=11, n_test=2)
    ds = open_dataset(tmp_path / "c")
    np.testing.assert_array_equal(ds.train.images[18:20], arrays["data_batch_10.bin"][0])


def test_the_archive_layout_is_found_below_the_dataset_folder(tmp_path):
    write_cifar(tmp_path / "cifar10" / "cifar-10-batches-bin")
    assert len(open_dataset(tmp_path / "cifar10").train) == 12


def test_images_stay_uint8_through_resizing_and_batches(tmp_path):
    write_cifar(tmp_path / "c")
    ds = open_dataset(tmp_path / "c", input_shape=(1, 28, 28))
    assert ds.train.images.dtype == np.uint8 and ds.train.images.shape == (12, 28, 28, 1)
    batch = next(ds.batches("train", 4))
    assert batch.x.dtype == np.float32 and ds.train.images.dtype == np.uint8


def test_class_names_come_from_batches_meta(tmp_path):
    write_cifar(tmp_path / "c", meta=False)
    (tmp_path / "c" / "batches.meta.txt").write_text("\n".join(f"k{i}" for i in range(12)) + "\n")
    assert open_dataset(tmp_path / "c").classes == tuple(f"k{i}" for i in range(12))


def _refused(folder, *words):
    with pytest.raises(DatasetError) as info:
        open_dataset(folder)
    text = str(info.value)
    assert "\n" not in text and text.endswith("."), text
    for word in words:
        assert word in text, text


@pytest.mark.parametrize("cut", [1, RECORD - 1, RECORD + 1])
def test_a_file_of_the_wrong_length_is_refused(tmp_path, cut):
    write_cifar(tmp_path / "c")
    path = tmp_path / "c" / "data_batch_2.bin"
    data = path.read_bytes()
    path.write_bytes(data[:-cut] if cut <= RECORD else data + bytes(1))
    _refused(tmp_path / "c", "data_batch_2.bin", "not a whole number of 3,073-byte")


def test_an_empty_batch_file_is_refused(tmp_path):
    write_cifar(tmp_path / "c")
    (tmp_path / "c" / "test_batch.bin").write_bytes(b"")
    _refused(tmp_path / "c", "test_batch.bin", "0 bytes")


def test_a_label_beyond_the_classes_is_refused(tmp_path):
    write_cifar(tmp_path / "c")
    path = tmp_path / "c" / "data_batch_1.bin"
    data = bytearray(path.read_bytes())
    data[RECORD * 3] = 10  # the fourth record's label
    path.write_bytes(bytes(data))
    _refused(tmp_path / "c", "data_batch_1.bin", "label 10", "item 3", "0 .. 9")


def test_fewer_names_than_labels_is_refused(tmp_path):
    write_cifar(tmp_path / "c", meta=False)
    (tmp_path / "c" / "batches.meta.txt").write_text("cat\ndog\n")
    _refused(tmp_path / "c", "outside 0 .. 1")


def test_a_fifo_batch_is_refused_without_blocking(tmp_path):
    write_cifar(tmp_path / "c")
    (tmp_path / "c" / "data_batch_1.bin").unlink()
    import os

    os.mkfifo(tmp_path / "c" / "data_batch_1.bin")
    _refused(tmp_path / "c", "named pipe")


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 2**31))
def test_any_records_round_trip(tmp_path_factory, n, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    folder = tmp_path_factory.mktemp("c")
    (folder / "test_batch.bin").write_bytes(cifar_bytes(images, labels))
    split = read_batches([str(folder / "test_batch.bin")], 10)
    np.testing.assert_array_equal(split.images, images)
    np.testing.assert_array_equal(split.labels, labels)


def test_many_batch_files_are_refused_before_they_are_read(tmp_path, monkeypatch):
    """Each batch file is bounded (307 MB) but their number was not: a folder of
    data_batch_1.bin .. data_batch_N.bin was allocated and read whole, however large N; the
    total is held to the datasets' bound (MAX_DATASET_BYTES) before anything is read."""
    from convlab.pipelines.datasets import cifar, core

    write_cifar(tmp_path, per_batch=6, n_batches=3, n_test=5)
    monkeypatch.setattr(core, "MAX_DATASET_BYTES", 17 * 32 * 32 * 3)  # 17 images: 18 given
    read, real = [], cifar.bounded_read

    def spy(path, limit, what, **kw):
        read.append(what)
        return real(path, limit, what, **kw)

    monkeypatch.setattr(cifar, "bounded_read", spy)
    with pytest.raises(DatasetError, match="18 images"):
        open_dataset(tmp_path)
    assert "CIFAR-10 batch" not in read
