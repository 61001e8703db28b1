"""Class folders (the ImageFolder layout): splits, resizing, and what is skipped or refused."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from convlab.pipelines.datasets import DatasetError, open_dataset


def _photos(folder, counts, size=(40, 30), mode="RGB", seed=0):
    """``counts``: {class: number of images}; each a random ``size`` (w, h) PNG."""
    rng = np.random.default_rng(seed)
    for name, n in counts.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).convert(mode).save(folder / name / f"{i:03d}.png")


def test_class_folders_are_split_80_20_per_class_with_a_seed(tmp_path):
    _photos(tmp_path / "pets", {"cat": 10, "dog": 5, "eel": 1})
    ds = open_dataset(tmp_path / "pets", input_shape=(3, 24, 24))
    assert ds.name == "pets" and ds.classes == ("cat", "dog", "eel")
    assert (len(ds.train), len(ds.test)) == (13, 3)  # 2 cats and 1 dog to test; the eel trains
    assert sorted(ds.test.labels) == [0, 0, 1]
    assert ds.train.images.shape == (13, 24, 24, 3) and ds.skipped == 0
    again = open_dataset(tmp_path / "pets", input_shape=(3, 24, 24))
    np.testing.assert_array_equal(ds.test.images, again.test.images)


def test_train_and_test_folders_are_the_splits(tmp_path):
    _photos(tmp_path / "d" / "train", {"a": 3, "b": 2})
    _photos(tmp_path / "d" / "test", {"b": 2}, seed=1)
    ds = open_dataset(tmp_path / "d", input_shape=(1, 16, 16))
    assert ds.classes == ("a", "b") and (len(ds.train), len(ds.test)) == (5, 2)
    assert list(ds.test.labels) == [1, 1] and ds.train.images.shape[1:] == (16, 16, 1)


def test_a_test_class_missing_from_train_is_refused(tmp_path):
    _photos(tmp_path / "d" / "train", {"a": 1, "b": 1})
    _photos(tmp_path / "d" / "test", {"c": 1})
    with pytest.raises(DatasetError, match="'c', which train/ lacks"):
        open_dataset(tmp_path / "d")


def test_photos_keep_their_aspect_ratio_and_are_cut_in_the_middle(tmp_path):
    (tmp_path / "d" / "a").mkdir(parents=True)
    (tmp_path / "d" / "b").mkdir()
    wide = np.zeros((20, 60, 3), np.uint8)
    wide[:, 20:40] = 255                                   # a white middle third
    Image.fromarray(wide).save(tmp_path / "d" / "a" / "wide.png")
    Image.fromarray(wide).save(tmp_path / "d" / "b" / "wide.png")
    ds = open_dataset(tmp_path / "d", input_shape=(3, 20, 20))
    assert ds.train.images.shape[1:] == (20, 20, 3)
    assert ds.train.images[0, :, 2:18].min() >= 250        # all white: the middle third only


def test_without_input_shape_the_first_image_sets_the_size(tmp_path):
    _photos(tmp_path / "d", {"a": 2}, size=(40, 30))
    _photos(tmp_path / "d", {"b": 2}, size=(17, 50))
    ds = open_dataset(tmp_path / "d")
    assert ds.input_shape == (3, 30, 40) and len(ds.train) + len(ds.test) == 4


def test_grey_photos_become_rgb_and_rgb_becomes_luma(tmp_path):
    _photos(tmp_path / "d", {"a": 2, "b": 2}, mode="L")
    rgb = open_dataset(tmp_path / "d", input_shape=(3, 30, 40)).train.images
    assert np.array_equal(rgb[..., 0], rgb[..., 2])
    _photos(tmp_path / "e", {"a": 2, "b": 2})
    grey = open_dataset(tmp_path / "e", input_shape=(1, 30, 40)).train.images
    source = np.asarray(Image.open(tmp_path / "e" / "a" / "000.png").convert("L"))
    assert grey.shape[3] == 1
    assert any(np.array_equal(g[..., 0], source) for g in grey)


def test_fifos_link_loops_and_non_images_are_skipped_and_counted(tmp_path):
    _photos(tmp_path / "d", {"a": 3, "b": 3})
    os.mkfifo(tmp_path / "d" / "a" / "pipe.png")
    os.symlink("loop2", tmp_path / "d" / "a" / "loop1.png")
    os.symlink("loop1.png", tmp_path / "d" / "a" / "loop2")
    os.symlink("..", tmp_path / "d" / "b" / "up")           # a folder loop: b/up/b/up/...
    (tmp_path / "d" / "b" / "notes.txt").write_text("not an image")
    (tmp_path / "d" / "b" / ".DS_Store").write_bytes(b"hidden: ignored")
    ds = open_dataset(tmp_path / "d", input_shape=(3, 8, 8))
    assert len(ds.train) + len(ds.test) == 6
    # pipe, two loop links, notes.txt, and d/ seen again through b/up
    assert ds.skipped == 5, ds.problems
    text = " ".join(ds.problems)
    assert "named pipe" in text and "not an image" in text and "symbolic" in text.lower()


def test_a_folder_where_nothing_is_an_image_is_refused(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "d" / name).mkdir(parents=True)
        (tmp_path / "d" / name / "x.png").write_bytes(b"not really a png")
    os.mkfifo(tmp_path / "d" / "a" / "pipe")
    with pytest.raises(DatasetError) as info:
        open_dataset(tmp_path / "d")
    text = str(info.value)
    assert "no usable image" in text and "all 3 files were skipped" in text and "\n" not in text


@pytest.mark.parametrize("layout, words", [
    ({}, "none found"),
    ({"only": 2}, "only 'only' found"),
])
def test_fewer_than_two_classes_is_refused(tmp_path, layout, words):
    (tmp_path / "d").mkdir()
    _photos(tmp_path / "d", layout)
    with pytest.raises(DatasetError, match=words):
        open_dataset(tmp_path / "d")


def test_sources_that_are_not_datasets_get_one_sentence(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    for source, words in ((tmp_path / "nope", "neither a folder nor a dataset name"),
                          (tmp_path / "file.txt", "is not a folder"),
                          (3, "not int")):
        with pytest.raises(DatasetError, match=words):
            open_dataset(source)
    with pytest.raises(DatasetError, match="input_shape"):
        open_dataset("shapes", input_shape=(2, 28, 28))


def test_a_huge_listing_is_refused_while_it_is_read(tmp_path, monkeypatch):
    """MAX_FILES counted only the image files kept: entries skipped (hidden names, FIFOs, empty
    folders) were not counted at all, and each folder was listed and sorted whole first, so a
    class folder of millions of hidden files was read into memory entirely. The bound now counts
    every entry as it is listed."""
    from convlab.pipelines.datasets import folder as folder_module

    _photos(tmp_path, {"a": 3, "b": 3})
    for i in range(40):
        (tmp_path / "a" / f".hidden{i}").write_bytes(b"")
    monkeypatch.setattr(folder_module, "MAX_FILES", 20)
    listed = []
    real = os.scandir

    class Counting:
        def __init__(self, path):
            self.it = real(path)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.it.close()

        def __iter__(self):
            for entry in self.it:
                listed.append(entry.name)
                yield entry

    monkeypatch.setattr(folder_module.os, "scandir", Counting)
    with pytest.raises(DatasetError, match="more than 20"):
        open_dataset(tmp_path, input_shape=(3, 8, 8))
    assert len(listed) <= 20 + 1 + 2    # the top folder's two classes, then at most one over
