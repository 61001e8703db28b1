"""The explorer runs its filters in blocks, and may keep a heavy stage as a sample (SampledMaps):
the same bits whatever is kept, the montage of the sample is the montage of the full maps, and
the full stage is never resident."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from convlab.engine.explorer import blocks as engine
from convlab.engine.explorer import ExplorerSettings, filter_blocks, plan_explorer, run_explorer
from convlab.engine.explorer.sampled import SampledMaps
from convlab.render.tiles import MapStats, build_montage

IMAGE = np.random.default_rng(7).random((41, 37, 3), dtype=np.float32)

CASES = [dict(kernel=3, stride=1, filters=12, pool=2, pool_stride=2),
         dict(kernel=5, stride=2, padding=3, filters=9, pool=3, pool_stride=2, dilation=2),
         dict(kernel=3, stride=1, filters=12, groups=3, pool=1),
         dict(kernel=4, stride=2, filters=6, transposed=True, pool=2, pool_stride=1),
         dict(kernel=3, stride=2, filters=6, transposed=True, groups=3, pool=1, relu=False),
         dict(kernel=3, stride=1, filters=7, grayscale=True, batch_norm=False, same=True)]


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Blocks of about 2 filters, so every case runs in several."""
    def use(s):
        per_map = max(4 * p.shape[1] * p.shape[2] for p in plan_explorer(s, *IMAGE.shape[:2])
                      if p.shape and p.name != "input")
        monkeypatch.setattr(engine, "BLOCK_BYTES", 2 * per_map)
    return use


@pytest.mark.parametrize("case", CASES)
def test_blocks_give_what_one_block_gives(case, tiny_blocks, monkeypatch):
    s = ExplorerSettings(**case)
    whole = run_explorer(IMAGE, s)
    tiny_blocks(s)
    assert len(filter_blocks(s, whole.plan)) > 1
    blocked = run_explorer(IMAGE, s)
    assert list(blocked.maps) == list(whole.maps)
    for name, maps in whole.maps.items():
        span = float(np.ptp(maps)) or 1.0
        np.testing.assert_allclose(blocked.maps[name], maps, rtol=0, atol=2e-6 * span,
                                   err_msg=name)


@pytest.mark.parametrize("case", CASES)
def test_a_sampled_stage_has_the_bits_and_statistics_of_the_full_run(case, tiny_blocks):
    s = ExplorerSettings(**case)
    tiny_blocks(s)
    full = run_explorer(IMAGE, s)
    for stage, maps in full.maps.items():
        kept = run_explorer(IMAGE, s, keep=(stage,), sample={stage: 3})
        sampled = kept.maps[stage]
        assert isinstance(sampled, SampledMaps) and list(kept.maps) == [stage]
        assert sampled.shape == maps.shape and len(sampled) == len(maps)
        np.testing.assert_array_equal(sampled.sample, maps[:, ::3, ::3])
        want = MapStats.of(maps)
        for field in ("minimum", "maximum", "mean", "zeros"):
            np.testing.assert_array_equal(getattr(sampled, field), getattr(want, field))
        np.testing.assert_array_equal(sampled.first, maps[0])
        np.testing.assert_array_equal(np.asarray(sampled), maps)  # export: the run's bits
        span = float(np.ptp(maps)) or 1.0
        for i in range(len(maps)):  # recomputed alone: the same to float32 rounding
            np.testing.assert_allclose(sampled[i], maps[i], rtol=0, atol=2e-6 * span)
        assert sampled[1, 3, 6] == maps[1, 3, 6]  # on the sample grid: the run's value
        np.testing.assert_allclose(sampled[1, 2, 5], maps[1, 2, 5], rtol=0, atol=2e-6 * span)
        np.testing.assert_array_equal(sampled[1:3, ::6, ::6], maps[1:3, ::6, ::6])


@pytest.mark.parametrize("mode", ["map", "layer"])
def test_the_montage_of_a_sample_is_the_montage_of_the_full_maps(mode):
    image = np.random.default_rng(8).random((90, 80, 3), dtype=np.float32)
    s = ExplorerSettings(kernel=3, stride=1, filters=16, pool=1)
    full = run_explorer(image, s).maps["relu"]
    f, h, w = full.shape
    budget = f * h * w // 5  # the montage shows every 3rd pixel
    want = build_montage(full, mode=mode, max_pixels=budget)
    assert want.layout.step == 3
    sampled = run_explorer(image, s, keep=("relu",), sample={"relu": 3}).maps["relu"]
    got = build_montage(sampled, mode=mode, max_pixels=budget)
    np.testing.assert_array_equal(got.image, want.image)
    assert got.layout == want.layout
    assert got.lookup(10, 13) == want.lookup(10, 13)
    np.testing.assert_array_equal(got.indices[5], want.indices[5])  # a map recomputed alone
    with pytest.raises(ValueError, match="every 3 pixels"):
        build_montage(sampled, mode=mode, max_pixels=budget * 4)


@hsettings(max_examples=25, deadline=None)
@given(kernel=st.integers(1, 5), stride=st.integers(1, 3), filters=st.integers(1, 9),
       pool=st.integers(1, 3), step=st.integers(2, 4))
def test_any_sampled_run_matches_its_full_run(kernel, stride, filters, pool, step):
    s = ExplorerSettings(kernel=kernel, stride=stride, filters=filters, pool=pool,
                         pool_stride=min(pool, 2))
    full = run_explorer(IMAGE, s)
    stage = list(full.maps)[-1]
    sampled = run_explorer(IMAGE, s, keep=(stage,), sample={stage: step}).maps[stage]
    np.testing.assert_array_equal(sampled.sample, full.maps[stage][:, ::step, ::step])
    np.testing.assert_array_equal(sampled.maximum, full.maps[stage].reshape(filters, -1).max(1))


def test_sampled_maps_refuse_what_they_cannot_answer():
    s = ExplorerSettings(kernel=3, stride=1, filters=4, pool=1)
    sampled = run_explorer(IMAGE, s, keep=("relu",), sample={"relu": 2}).maps["relu"]
    with pytest.raises(TypeError):
        sampled[0, 1]
    with pytest.raises(IndexError):
        sampled[4]
    with pytest.raises(ValueError, match="not kept"):
        run_explorer(IMAGE, s, keep=("conv",), sample={"relu": 2})


def test_a_heavy_sampled_run_never_holds_the_stage(monkeypatch):
    """256 x 256 x 128 float32 is 32 MB; the run keeps a quarter of it and, in 4 MB blocks of
    filters, its peak stays far below the stage (before: the stage itself was the result)."""
    monkeypatch.setattr(engine, "BLOCK_BYTES", 4 << 20)
    image = np.random.default_rng(3).random((256, 256, 3), dtype=np.float32)
    s = ExplorerSettings(kernel=3, stride=1, padding=1, filters=128, pool=1)
    stage = 128 * 256 * 256 * 4
    run_explorer(image, s, keep=("relu",), sample={"relu": 2})  # warm the caches
    tracemalloc.start()
    try:
        result = run_explorer(image, s, keep=("relu",), sample={"relu": 2})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    held = result.maps["relu"].nbytes
    assert held < 0.3 * stage, f"holds {held / 2**20:.1f} MB"
    assert peak < held + 4 * engine.BLOCK_BYTES, f"peak {peak / 2**20:.0f} MB"
    assert peak < 0.8 * stage, f"peak {peak / 2**20:.0f} MB for a {stage / 2**20:.0f} MB stage"


@pytest.mark.parametrize("kernel, dilation, side", [(15, 4, 510), (11, 1, 512), (13, 2, 400)])
def test_deep_kernels_blocks_stay_within_the_deep_block_budget(kernel, dilation, side):
    """A deep kernel takes at least a tenth of its depth in filters per block, but never more
    than fit DEEP_BLOCK_BYTES in its largest stage (the soak's 612 MB peak: two 56 MB blocks
    of a 15 x 15 RGB kernel at 470 x 470 beside AlexBN)."""
    s = ExplorerSettings(kernel=kernel, stride=1, padding=8, dilation=dilation, filters=139,
                         pool=4, pool_stride=1)
    plan = plan_explorer(s, side, side)
    per_map = max(4 * p.shape[1] * p.shape[2] for p in plan if p.shape and p.name != "input")
    ranges = filter_blocks(s, plan)
    assert len(ranges) > 1
    assert max(f1 - f0 for _, f0, f1 in ranges) * per_map <= 48 << 20
    assert [f0 for _, f0, _ in ranges][1:] == [f1 for _, _, f1 in ranges][:-1]
    assert ranges[-1][2] == 139
