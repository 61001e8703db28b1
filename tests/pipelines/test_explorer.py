"""convlab.pipelines.explorer: the worker-side job (preview, cache, montage) and its cost model."""

from __future__ import annotations

import numpy as np

from convlab.engine.explorer import ExplorerSettings, plan_explorer
import pytest

from convlab.pipelines.explorer import (PREVIEW_BUDGET_MS, CostModel, ExplorerRequest, block_mean,
                                        explorer_job, first_error, preview_factor)


class FakeJob:
    def __init__(self):
        self.previews = []
        self.stop = False

    def should_stop(self):
        return self.stop

    def preview(self, payload):
        self.previews.append(payload)

    def wait_for_newer(self, seconds):
        return self.stop


def test_preview_factor_fits_the_budget():
    assert preview_factor(PREVIEW_BUDGET_MS * 3) == 2
    assert preview_factor(PREVIEW_BUDGET_MS * 30) == 6
    assert preview_factor(1e9) == 12


def test_job_builds_the_montage_of_the_chosen_stage():
    image = np.random.default_rng(0).random((64, 80, 3), dtype=np.float32)
    req = ExplorerRequest(image, 1, ExplorerSettings(filters=8), "relu")
    out = explorer_job(req, CostModel(), FakeJob())
    assert out.stage == "relu" and not out.preview
    assert out.montage.maps.shape == out.result.maps["relu"].shape
    assert out.strip[0].ndim == 3


def test_job_reuses_a_cached_result_for_another_stage():
    image = np.random.default_rng(0).random((64, 80, 3), dtype=np.float32)
    s = ExplorerSettings(filters=4)
    first = explorer_job(ExplorerRequest(image, 7, s, None), CostModel(), FakeJob())
    again = explorer_job(ExplorerRequest(image, 7, s, "conv", cached=first.result, cached_key=7),
                         CostModel(), FakeJob())
    assert again.result is first.result and again.stage == "conv"


def test_heavy_settings_send_a_preview_first():
    image = np.random.default_rng(0).random((128, 128, 3), dtype=np.float32)
    job = FakeJob()
    slow = CostModel(rate=1e3)  # pretend the machine is very slow: everything is "heavy"
    out = explorer_job(ExplorerRequest(image, 1, ExplorerSettings(filters=4, stride=1)), slow, job)
    assert len(job.previews) == 1 and job.previews[0].preview
    assert job.previews[0].factor > 1
    assert job.previews[0].montage.display_size == (out.montage.layout.width,
                                                    out.montage.layout.height)


def test_a_stopped_job_returns_nothing():
    image = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
    job = FakeJob()
    job.stop = True
    assert explorer_job(ExplorerRequest(image, 1, ExplorerSettings(filters=2)), CostModel(),
                        job) is None


def test_the_preview_shrinks_no_further_than_the_kernel_allows():
    from convlab.pipelines.explorer import passable_factor

    big = ExplorerSettings(kernel=15, dilation=4, padding=0, stride=1, pool=1)
    f = passable_factor(big, 512, 512, 12)
    assert 1 < f < 12
    assert not first_error(plan_explorer(big, 512 // f, 512 // f))


def test_block_mean_shrinks_by_whole_blocks():
    img = np.arange(4 * 6 * 3, dtype=np.float32).reshape(4, 6, 3)
    small = block_mean(img, 2)
    assert small.shape == (2, 3, 3)
    assert small[0, 0, 0] == pytest.approx(img[:2, :2, 0].mean())
