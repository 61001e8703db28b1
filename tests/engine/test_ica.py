"""FastICA and kernels learned from photos (convlab.engine.explorer.ica, kernels.make_bank("learned"))."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.explorer import ica
from convlab.engine.explorer import kernels
from convlab.pipelines.images import load_image
from convlab.pipelines.samples import list_samples


@pytest.fixture(scope="module")
def photos():
    return [load_image(item) for item in list_samples()]


@pytest.fixture(scope="module")
def conv1_bank(photos):
    """AlexNet's conv1 shape: 96 kernels of 11 x 11 x 3, from the bundled photos."""
    return kernels.learn_kernels(photos, k=11, n=96, channels=3, seed=0)


def synthetic_sources(count: int = 6000) -> np.ndarray:
    """Four independent non-Gaussian signals ``(4, count)``: sine, square, sawtooth, Laplace
    (frequencies chosen so that their sample correlations are all below 0.02)."""
    t = np.linspace(0, 40, count)
    rng = np.random.default_rng(42)
    return np.stack([np.sin(2.3 * t), np.sign(np.sin(3.1 * t + 0.4)),
                     (t * 0.55) % 2 - 1, rng.laplace(size=count)])


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_fastica_recovers_known_sources_from_a_mixture(seed):
    sources = synthetic_sources()
    mixing = np.random.default_rng(100 + seed).uniform(-1, 1, (4, 4)) + 2 * np.eye(4)
    result = ica.fastica(mixing @ sources, 4, seed=seed)
    corr = np.abs(np.corrcoef(sources, result.sources)[:4, 4:])     # (true, estimated)
    assert result.converged
    best = corr.max(axis=1)
    print("best |corr| per source:", np.round(best, 4))
    assert np.all(best > 0.95), best
    assert sorted(corr.argmax(axis=1)) == [0, 1, 2, 3]               # one estimate per source


def test_fastica_unmixing_times_mixing_is_a_scaled_permutation():
    sources = synthetic_sources()
    mixing = np.random.default_rng(5).uniform(-1, 1, (4, 4)) + 2 * np.eye(4)
    result = ica.fastica(mixing @ sources, 4, seed=3)
    product = np.abs(result.unmixing @ mixing)                        # (4, 4)
    product /= product.max(axis=1, keepdims=True)
    assert np.sort(product, axis=1)[:, -2].max() < 0.1                # one dominant entry per row


def test_learned_kernels_shape_dtype_and_unit_norm(conv1_bank):
    assert conv1_bank.shape == (96, 3, 11, 11) and conv1_bank.dtype == np.float32
    norms = np.linalg.norm(conv1_bank.reshape(96, -1).astype(np.float64), axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)


def test_learned_kernels_are_deterministic_per_seed(photos, monkeypatch):
    monkeypatch.setattr(ica, "_CACHE", type(ica._CACHE)())           # really compute each time
    first = ica.learn_kernels(photos, k=8, n=24, channels=1, seed=4, patches=6000)
    ica._CACHE.clear()
    again = ica.learn_kernels(photos, k=8, n=24, channels=1, seed=4, patches=6000)
    other = ica.learn_kernels(photos, k=8, n=24, channels=1, seed=5, patches=6000)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_learned_kernels_are_oriented_unlike_random_ones(conv1_bank):
    learned = np.median(ica.orientation_selectivity(conv1_bank))
    random = np.random.default_rng(0).standard_normal(conv1_bank.shape)
    baseline = np.median(ica.orientation_selectivity(random))
    print(f"median orientation selectivity: learned {learned:.3f}, random {baseline:.3f}")
    assert learned > 0.6
    assert learned > baseline + 0.25


def test_colour_is_kept_for_three_channels(conv1_bank):
    """Some kernels weigh the colour channels differently (colour-opponent), not all alike."""
    per_channel = conv1_bank.reshape(96, 3, -1)
    spread = np.abs(per_channel - per_channel.mean(axis=1, keepdims=True)).sum(axis=(1, 2))
    assert np.max(spread) > 0.5


def test_orientation_selectivity_of_a_gabor_and_of_a_blob():
    gabor = kernels.gabor(15, np.radians(30))[None, None]
    r = np.arange(15) - 7
    blob = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / 8.0)
    blob = (blob - blob.mean())[None, None]
    assert ica.orientation_selectivity(gabor)[0] > 0.8
    assert ica.orientation_selectivity(blob)[0] < 0.35


def test_the_cache_answers_repeat_calls_with_a_private_copy(photos, monkeypatch):
    calls = []
    real = ica._learn
    monkeypatch.setattr(ica, "_CACHE", type(ica._CACHE)())
    monkeypatch.setattr(ica, "_learn", lambda *a: calls.append(a) or real(*a))
    first = ica.learn_kernels(photos[:2], k=6, n=10, channels=3, seed=1, patches=2000)
    first[:] = 0
    second = ica.learn_kernels(photos[:2], k=6, n=10, channels=3, seed=1, patches=2000)
    assert len(calls) == 1 and np.abs(second).sum() > 0
    ica.learn_kernels(photos[:2], k=6, n=10, channels=3, seed=2, patches=2000)
    ica.learn_kernels(photos[:1], k=6, n=10, channels=3, seed=1, patches=2000)
    assert len(calls) == 3


@pytest.mark.parametrize("kwargs, words", [
    (dict(k=5, n=4, channels=2), "channels must be 1"),
    (dict(k=3, n=9, channels=1), "at most 8"),
    (dict(k=3, n=4, channels=1, patches=5), "patches"),
])
def test_bad_arguments_are_refused_with_a_sentence(photos, kwargs, words):
    with pytest.raises(ValueError, match=words):
        ica.learn_kernels(photos[:1], **kwargs)


def test_images_smaller_than_the_kernel_are_refused():
    with pytest.raises(ValueError, match="at least 9 x 9"):
        ica.learn_kernels([np.zeros((5, 5, 3))], k=9, n=4, channels=1)


def test_make_bank_learned_uses_the_photos_and_fills_the_rest(photos):
    weights, names, note = kernels.make_bank("learned", 12, 1, 3, seed=0, images=photos)
    assert weights.shape == (12, 1, 3, 3)
    assert names[:8] == [f"ICA {i}" for i in range(8)] and names[8] == "random 8"  # map indexes
    assert "8 filters" in note
    np.testing.assert_array_equal(
        weights[:8], ica.learn_kernels(photos, k=3, n=8, channels=1, seed=0))


def test_make_bank_learned_needs_images():
    with pytest.raises(ValueError, match="needs photos"):
        kernels.make_bank("learned", 8, 3, 5)
    assert "learned" in kernels.IMAGE_BANKS and "learned" not in kernels.BANKS


def test_make_bank_learned_at_one_pixel_is_all_random_and_says_so(photos):
    weights, names, note = kernels.make_bank("learned", 4, 3, 1, images=photos)
    assert names == [f"random {i}" for i in range(4)] and "No filters" in note


def test_learned_conv1_fits_alexbn_and_equals_the_bank(photos, conv1_bank):
    weights = kernels.learned_conv1(photos, 96, 3, 11)
    assert weights.shape == (96, 3, 11, 11)
    np.testing.assert_array_equal(weights, conv1_bank)
