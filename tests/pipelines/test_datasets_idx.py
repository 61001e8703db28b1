"""MNIST-style IDX folders: parsing round trips, the splits, and hostile headers and gzip files."""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.pipelines.datasets import DatasetError, open_dataset
from convlab.pipelines.datasets.idx import FASHION_CLASSES, read_idx
from tests.pipelines.datasets_helpers import idx_bytes, write_mnist


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 7), min_size=1, max_size=4), gz=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_any_ubyte_array_round_trips(tmp_path_factory, shape, gz, seed):
    array = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path_factory.mktemp("idx") / "a-idx"
    raw = idx_bytes(array)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    got = read_idx(str(path), len(shape))
    assert got.dtype == np.uint8 and got.shape == tuple(shape)
    np.testing.assert_array_equal(got, array)


@pytest.mark.parametrize("gz", [True, False])
def test_an_mnist_folder_opens_with_its_own_splits(tmp_path, gz):
    arrays = write_mnist(tmp_path / "mnist", 30, 10, gz=gz)
    ds = open_dataset(tmp_path / "mnist")
    assert ds.name == "mnist" and ds.classes == tuple("0123456789")
    assert (len(ds.train), len(ds.test)) == (30, 10)
    assert ds.train.images.shape == (30, 28, 28, 1) and ds.train.images.dtype == np.uint8
    assert ds.train.labels.dtype == np.int64 and ds.input_shape == (1, 28, 28)
    np.testing.assert_array_equal(ds.train.images[..., 0], arrays["train"][0])
    np.testing.assert_array_equal(ds.test.labels, arrays["t10k"][1])


def test_a_fashion_folder_names_its_classes(tmp_path):
    write_mnist(tmp_path / "Fashion-MNIST", 10, 10)
    ds = open_dataset(tmp_path / "Fashion-MNIST")
    assert ds.name == "fashion-mnist" and ds.classes == FASHION_CLASSES


def test_a_folder_with_training_files_only_is_split_80_20_with_a_seed(tmp_path):
    write_mnist(tmp_path / "m", 50, None)
    a, b = open_dataset(tmp_path / "m"), open_dataset(tmp_path / "m")
    assert (len(a.train), len(a.test)) == (40, 10)  # 5 per class: 1 of each to test
    assert sorted(a.test.labels) == list(range(10))
    np.testing.assert_array_equal(a.test.images, b.test.images)
    c = open_dataset(tmp_path / "m", split_seed=1)
    assert not np.array_equal(a.test.images, c.test.images)


def test_input_shape_resizes_and_makes_rgb(tmp_path):
    write_mnist(tmp_path / "m", 20, 10)
    ds = open_dataset(tmp_path / "m", input_shape=(3, 32, 32))
    assert ds.train.images.shape == (20, 32, 32, 3) and ds.input_shape == (3, 32, 32)
    img = ds.train.images[0]
    assert np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 1], img[..., 2])


# --- hostile and broken files: one DatasetError sentence each ------------------------------------

def _write(folder, name, data):
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)


def _labels(folder, n=10, prefix="train", gz=False):
    raw = idx_bytes(np.arange(n, dtype=np.uint8) % 10)
    name = f"{prefix}-labels-idx1-ubyte"
    _write(folder, name + (".gz" if gz else ""), gzip.compress(raw) if gz else raw)


def _refused(folder, *words):
    with pytest.raises(DatasetError) as info:
        open_dataset(folder)
    text = str(info.value)
    assert "\n" not in text and text.endswith("."), text
    for word in words:
        assert word in text, text
    return text


def test_a_header_larger_than_the_file_is_refused_before_reading(tmp_path):
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 28)
    _write(tmp_path / "m", "train-images-idx3-ubyte", header + bytes(100))
    _labels(tmp_path / "m")
    _refused(tmp_path / "m", "train-images-idx3-ubyte", "47,040,000", "holds only 100")


@pytest.mark.parametrize("gz", [False, True])
def test_a_header_claiming_a_trillion_items_is_refused(tmp_path, gz):
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 1_000_000, 1_000_000, 1)  # 10^12 bytes
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    _write(tmp_path / "m", name, gzip.compress(header + bytes(1000)) if gz else header + bytes(1000))
    _labels(tmp_path / "m")
    _refused(tmp_path / "m", "1,000,000,000,000", "more than ConvLab reads")


def test_a_gzip_bomb_is_read_only_as_far_as_its_header_says(tmp_path):
    # the header promises 10 images of 28x28 (7,840 bytes); the stream inflates to 200 MB
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 10, 28, 28)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # a gzip stream
    parts = [compressor.compress(header)]
    zeros = bytes(1 << 20)
    parts += [compressor.compress(zeros) for _ in range(200)]
    parts.append(compressor.flush())
    _write(tmp_path / "m", "train-images-idx3-ubyte.gz", b"".join(parts))
    _labels(tmp_path / "m")
    _refused(tmp_path / "m", "more data than its header says")


def test_a_truncated_gzip_is_refused(tmp_path):
    raw = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    packed = gzip.compress(raw)
    _write(tmp_path / "m", "train-images-idx3-ubyte.gz", packed[: len(packed) // 2])
    _labels(tmp_path / "m")
    _refused(tmp_path / "m", "truncated")


def test_a_truncated_plain_file_and_a_damaged_gzip_are_refused(tmp_path):
    raw = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    _write(tmp_path / "a", "train-images-idx3-ubyte", raw[:-5])
    _labels(tmp_path / "a")
    _refused(tmp_path / "a", "holds only")
    packed = bytearray(gzip.compress(raw))
    packed[-8] ^= 0xFF  # the CRC
    _write(tmp_path / "b", "train-images-idx3-ubyte.gz", bytes(packed))
    _labels(tmp_path / "b")
    _refused(tmp_path / "b", "damaged")


@pytest.mark.parametrize("head, words", [
    (b"\x01\x00\x08\x03", ["not an IDX file"]),
    (b"\x00\x00\x0d\x03", ["type 0x0d"]),
    (b"\x00\x00\x08\x02", ["2 dimensions where 3"]),
])
def test_a_wrong_magic_is_refused(tmp_path, head, words):
    _write(tmp_path / "m", "train-images-idx3-ubyte", head + struct.pack(">3I", 1, 2, 2) + bytes(4))
    _labels(tmp_path / "m")
    _refused(tmp_path / "m", *words)


def test_labels_out_of_range_or_mismatched_counts_are_refused(tmp_path):
    write_mnist(tmp_path / "m", 10, None, gz=False)
    (tmp_path / "m" / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([0] * 9 + [12], np.uint8)))
    _refused(tmp_path / "m", "label 12", "0 .. 9")
    (tmp_path / "m" / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(9, np.uint8)))
    _refused(tmp_path / "m", "10 images", "9 labels")


def test_images_without_labels_are_refused(tmp_path):
    write_mnist(tmp_path / "m", 10, 10)
    os.remove(tmp_path / "m" / "t10k-labels-idx1-ubyte.gz")
    _refused(tmp_path / "m", "t10k-images-idx3-ubyte.gz", "no matching labels")


def test_a_fifo_named_like_an_idx_file_is_refused_without_blocking(tmp_path):
    write_mnist(tmp_path / "m", 10, 10, gz=False)
    os.remove(tmp_path / "m" / "train-images-idx3-ubyte")
    os.mkfifo(tmp_path / "m" / "train-images-idx3-ubyte")
    _refused(tmp_path / "m", "named pipe")
