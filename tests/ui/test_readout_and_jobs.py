"""The readout text (integer arithmetic) and the worker-side job, without a window."""

from __future__ import annotations

import numpy as np

from convlab.engine.explorer import ExplorerSettings, plan_explorer
from convlab.pipelines.explorer import (PREVIEW_BUDGET_MS, CostModel, ExplorerRequest,
                                      explorer_job, preview_factor)
from convlab.ui.widgets.readout import first_error, readout_html


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


def test_readout_fills_the_numbers_in_at_the_defaults():
    s = ExplorerSettings()
    html = readout_html(plan_explorer(s, 512, 512), s, shown="pool")
    assert "3 × 512 × 512" in html
    assert "96 × 126 × 126" in html and "⌊501/4⌋ + 1 = 126" in html
    assert "96 × 63 × 63" in html and "⌈123/2⌉ + 1 = 63" in html
    assert "never covered" in html  # 501 is not a multiple of 4
    assert "34,944 parameters" in html


def test_readout_explains_a_setting_without_output():
    s = ExplorerSettings(kernel=15, dilation=4, pool=1)
    plan = plan_explorer(s, 40, 40)
    assert first_error(plan)
    assert "no output" in readout_html(plan, s)


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
