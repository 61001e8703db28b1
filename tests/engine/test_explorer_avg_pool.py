"""Average pooling in the explorer (Chainer's F.average_pooling_2d): maps, plan, code, limits."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.explorer import ExplorerSettings, plan_explorer, run_explorer
from convlab.engine.explorer.code import chainer_code, pytorch_code


def photo(h=37, w=41, seed=0):
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


@pytest.mark.parametrize("pool, stride, cover_all", [(2, 2, True), (3, 2, True), (3, 3, False),
                                                     (5, 2, True), (4, 1, False)])
def test_avg_pool_maps_are_ops_avg_pool2d_of_the_stage_before(pool, stride, cover_all):
    s = ExplorerSettings(kernel=3, stride=1, filters=5, pool=pool, pool_stride=stride,
                         cover_all=cover_all, pool_mode="avg")
    result = run_explorer(photo(), s)
    want = ops.avg_pool2d(result.maps["relu"][None], pool, stride=stride)[0]
    assert result.maps["pool"].shape == want.shape
    np.testing.assert_array_equal(result.maps["pool"], want)  # the same op: the same bits
    max_result = run_explorer(photo(), s.replace(pool_mode="max"))
    assert not np.array_equal(max_result.maps["pool"][:, :want.shape[1], :want.shape[2]], want)


def test_avg_pool_in_blocks_of_filters_and_channel_chunks_gives_the_same_bits(monkeypatch):
    from convlab.engine.explorer import blocks

    s = ExplorerSettings(kernel=3, stride=1, filters=48, pool=3, pool_stride=2, pool_mode="avg")
    whole = run_explorer(photo(60, 50), s).maps["pool"]
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 4 * 58 * 48 * 7)  # blocks of 7 filters
    monkeypatch.setattr(blocks, "DEPTH_PER_FILTER", 1000)
    blocked = run_explorer(photo(60, 50), s).maps["pool"]
    np.testing.assert_array_equal(whole, blocked)
    x = np.random.default_rng(2).random((1, 40, 17, 19), dtype=np.float32)
    np.testing.assert_array_equal(blocks.max_pool_in_chunks(x, 3, 2, True, 4 * 17 * 19 * 3,
                                                            mode="avg"),
                                  ops.avg_pool2d(x, 3, stride=2))


def test_avg_pool_has_no_cover_all_so_its_size_is_the_floor_formula():
    s = ExplorerSettings(pool=3, pool_stride=2, pool_mode="avg", cover_all=True)
    assert not s.pool_cover_all and ExplorerSettings(cover_all=True).pool_cover_all
    pool = {st.name: st for st in plan_explorer(s, 512, 512)}["pool"]  # conv 96 x 126 x 126
    assert pool.shape == (96, 62, 62)  # floor((126 - 3) / 2) + 1; max with cover_all: 63
    assert "⌊(126 + 2×0 − 3) / 2⌋ + 1 = ⌊123/2⌋ + 1 = 62" in pool.formula
    assert pool.note.startswith("Average pooling: each output is the mean of its 3×3 window")
    assert "never covered" in pool.note  # the last row the floor drops
    max_pool = {st.name: st for st in plan_explorer(s.replace(pool_mode="max"), 512, 512)}["pool"]
    assert max_pool.shape == (96, 63, 63) and "⌈" in max_pool.formula


def test_avg_pool_code_is_chainers_and_pytorchs_average_pooling():
    s = ExplorerSettings(pool=3, pool_stride=2, pool_mode="avg")
    assert "h = F.average_pooling_2d(h, 3, stride=2)" in chainer_code(s)
    assert "max_pooling" not in chainer_code(s) and "cover_all" not in chainer_code(s)
    assert "nn.AvgPool2d(3, stride=2)," in pytorch_code(s) and "ceil_mode" not in pytorch_code(s)
    assert "F.max_pooling_2d(h, 3, stride=2)" in chainer_code(s.replace(pool_mode="max"))


def test_a_pool_mode_that_is_neither_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="pool mode must be one of max, avg, got 'mean'"):
        ExplorerSettings(pool_mode="mean").validate()
    assert ExplorerSettings(**ExplorerSettings(pool_mode="avg").as_dict()).pool_mode == "avg"
