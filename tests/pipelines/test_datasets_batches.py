"""Mini-batches: shapes, values, the seeded order, crop and flip, resuming mid-epoch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.pipelines.datasets import Dataset, Split, epoch_order
from convlab.pipelines.datasets.core import seeded_split


def _dataset(n=50, h=8, w=6, c=3, seed=0):
    rng = np.random.default_rng(seed)
    split = Split(rng.integers(0, 256, (n, h, w, c), dtype=np.uint8),
                  (np.arange(n) % 5).astype(np.int64))
    return Dataset("toy", tuple("abcde"), split, split)


def test_shapes_types_and_the_short_last_batch():
    ds = _dataset(50)
    batches = list(ds.batches("train", 16, seed=3))
    assert [len(b.labels) for b in batches] == [16, 16, 16, 2] and ds.num_batches("train", 16) == 4
    assert all(b.x.dtype == np.float32 and b.x.shape[1:] == (3, 8, 6) for b in batches)
    assert all(b.x.flags.c_contiguous and b.labels.dtype == np.int64 for b in batches)
    assert len(list(ds.batches("train", 16, drop_last=True))) == 3
    assert ds.num_batches("train", 16, drop_last=True) == 3


def test_values_are_the_pixels_over_255_in_nchw():
    ds = _dataset()
    for batch in ds.batches("test", 7, shuffle=False):
        expected = ds.test.images[batch.indices].transpose(0, 3, 1, 2).astype(np.float32) / 255
        np.testing.assert_array_equal(batch.x, expected)
        np.testing.assert_array_equal(batch.labels, ds.test.labels[batch.indices])
    assert list(np.concatenate([b.indices for b in ds.batches("test", 7, shuffle=False)])) == list(range(50))


def test_the_order_is_a_seeded_permutation_per_epoch():
    ds = _dataset(50)
    order = lambda **kw: np.concatenate([b.indices for b in ds.batches("train", 8, **kw)])
    a = order(seed=1, epoch=0)
    assert sorted(a) == list(range(50))
    np.testing.assert_array_equal(a, order(seed=1, epoch=0))
    np.testing.assert_array_equal(a, epoch_order(50, seed=1, epoch=0))
    assert not np.array_equal(a, order(seed=1, epoch=1))
    assert not np.array_equal(a, order(seed=2, epoch=0))


def test_pad_and_crop_cut_a_window_of_the_padded_image_and_flip_some():
    ds = _dataset(40, h=8, w=8)
    flipped = 0
    for batch in ds.batches("train", 40, seed=5, augment=True, pad=2):
        assert batch.x.shape == (40, 3, 8, 8)
        for x, i in zip(batch.x, batch.indices):
            padded = np.pad(ds.train.images[i], ((2, 2), (2, 2), (0, 0))).transpose(2, 0, 1) / np.float32(255)
            windows = [(padded[:, t:t + 8, l:l + 8], f) for t in range(5) for l in range(5)
                       for f in (False, True)]
            matches = [f for win, f in windows if np.array_equal(x, win[:, :, ::-1] if f else win)]
            assert matches, "the output is no window of the padded image"
            flipped += all(matches)
    assert 5 < flipped < 35  # about half are mirrored


def test_a_smaller_crop_is_random_for_training_and_central_otherwise():
    ds = _dataset(20, h=8, w=8)
    train = next(ds.batches("train", 20, augment=True, crop=6, flip=False, seed=0))
    test = next(ds.batches("test", 20, crop=6, shuffle=False))
    assert train.x.shape == test.x.shape == (20, 3, 6, 6)
    centre = ds.test.images[:, 1:7, 1:7].transpose(0, 3, 1, 2) / np.float32(255)
    np.testing.assert_array_equal(test.x, centre)
    assert not np.array_equal(train.x, centre[train.indices])
    with pytest.raises(ValueError, match="does not fit"):
        ds.batches("train", 4, crop=9)  # refused before the first batch


def test_a_run_resumed_mid_epoch_sees_the_same_batches():
    ds = _dataset(50)
    options = dict(seed=9, epoch=2, augment=True, pad=1)
    whole = list(ds.batches("train", 8, **options))
    resumed = list(ds.batches("train", 8, start=4, **options))
    assert len(resumed) == len(whole) - 4
    for a, b in zip(whole[4:], resumed):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.indices, b.indices)


def test_normalisation_with_the_training_statistics():
    ds = _dataset(200)
    mean, std = ds.channel_stats()
    assert mean.shape == std.shape == (3,)
    x = np.concatenate([b.x for b in ds.batches("train", 64, normalize=(mean, std))])
    np.testing.assert_allclose(x.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=(0, 2, 3)), 1, atol=1e-4)
    with pytest.raises(ValueError, match="positive deviations"):
        ds.batches("train", 4, normalize=(mean, np.zeros(3)))


def test_batches_leave_the_uint8_images_untouched():
    ds = _dataset(30)
    before = ds.train.images.copy()
    for _ in ds.batches("train", 8, augment=True, pad=3, normalize=([0.5], [0.25])):
        pass
    assert ds.train.images.dtype == np.uint8 and np.array_equal(ds.train.images, before)


def test_a_bad_split_or_batch_size_is_a_sentence():
    ds = _dataset()
    with pytest.raises(ValueError, match="'train' or 'test'"):
        ds.batches("valid")
    with pytest.raises(ValueError, match="at least 1"):
        ds.batches("train", 0)
    with pytest.raises(ValueError, match="start must lie in 0 .. 2"):
        ds.batches("train", 32, start=3)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), seed=st.integers(0, 2**31),
       epoch=st.integers(0, 5), drop_last=st.booleans())
def test_an_epoch_visits_each_image_at_most_once_and_all_unless_dropped(n, batch_size, seed,
                                                                        epoch, drop_last):
    ds = _dataset(n, h=2, w=2)
    seen = [b.indices for b in ds.batches("train", batch_size, seed=seed, epoch=epoch,
                                          drop_last=drop_last)]
    flat = np.concatenate(seen) if seen else np.zeros(0, np.int64)
    assert len(set(flat.tolist())) == len(flat)
    assert len(flat) == (n // batch_size * batch_size if drop_last else n)
    assert all(len(s) == batch_size for s in seen[:-1])


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=1, max_size=6), seed=st.integers(0, 2**31))
def test_the_seeded_split_is_stratified_and_disjoint(counts, seed):
    labels = np.repeat(np.arange(len(counts)), counts)
    train, test = seeded_split(labels, seed)
    assert np.intersect1d(train, test).size == 0 and train.size + test.size == labels.size
    for c, n in enumerate(counts):
        expected = round(0.2 * n) if n > 1 else 0
        assert (labels[test] == c).sum() == expected
