"""The explorer's "Learned from photos (ICA)" bank: learned in the worker from the samples and
the current photo, the same kernels wherever they are asked for."""

from __future__ import annotations

import numpy as np

from convlab.engine.explorer import ExplorerSettings
from convlab.engine.explorer.kernels import make_bank
from convlab.pipelines.explorer import CostModel, ExplorerRequest, explorer_job, learning_photos
from convlab.pipelines.samples import list_samples
from tests.pipelines.test_explorer import FakeJob


def test_learning_photos_are_the_samples_and_the_current_photo():
    image = np.random.default_rng(0).random((50, 60, 3), dtype=np.float32)
    photos = learning_photos(image)
    assert len(photos) == len(list_samples()) + 1 and photos[-1] is image
    assert all(max(p.shape[:2]) <= 512 and p.shape[2] == 3 for p in photos)


def test_the_job_learns_the_bank_from_those_photos():
    image = np.random.default_rng(1).random((48, 64, 3), dtype=np.float32)
    s = ExplorerSettings(bank="learned", kernel=5, filters=8, stride=1, pool=1)
    out = explorer_job(ExplorerRequest(image, 1, s, allow_preview=False), CostModel(), FakeJob())
    want = make_bank("learned", 8, 3, 5, seed=0, images=learning_photos(image))[0]
    np.testing.assert_array_equal(out.result.kernels, want)
    assert out.result.kernel_names[0] == "ICA 0"
    norms = np.sqrt((out.result.kernels.astype(np.float64) ** 2).sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(norms, 1.0, rtol=1e-4)  # unit norm, as learn_kernels makes them
    grey = explorer_job(ExplorerRequest(image, 1, s.replace(grayscale=True), allow_preview=False),
                        CostModel(), FakeJob())
    assert grey.result.kernels.shape == (8, 1, 5, 5)
