"""The explorer pipeline: the readout's shapes, formulas and notes, the run, the code, the banks."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.explorer import ExplorerSettings, plan_explorer, run_explorer
from convlab.engine.explorer.kernels import BANKS, make_bank


def by_name(plan):
    return {stage.name: stage for stage in plan}


def test_defaults_are_alexbn_conv1_block():
    s = ExplorerSettings()
    assert (s.kernel, s.stride, s.padding, s.dilation, s.filters) == (11, 4, 0, 1, 96)
    assert (s.pool, s.pool_stride, s.batch_norm, s.relu, s.cover_all) == (3, 2, True, True, True)


def test_plan_fills_the_formula_in_and_says_what_is_dropped_and_overhangs():
    plan = by_name(plan_explorer(ExplorerSettings(), 341, 512))
    assert plan["input"].shape == (3, 341, 512)
    conv = plan["conv"]
    assert conv.shape == (96, 83, 126)
    assert "⌊(341 + 2×0 − 11) / 4⌋ + 1 = ⌊330/4⌋ + 1 = 83" in conv.formula
    assert "⌊(512 + 2×0 − 11) / 4⌋ + 1 = ⌊501/4⌋ + 1 = 126" in conv.formula
    assert "the last 2 rows and the last column are never covered" in conv.note
    pool = plan["pool"]
    assert pool.shape == (96, 41, 63)
    assert "⌈(83 + 2×0 − 3) / 2⌉ + 1 = ⌈80/2⌉ + 1 = 41" in pool.formula
    assert "reaches 1 column past the edge" in pool.note and "ceil_mode=True" in pool.note


def test_square_inputs_give_one_formula_and_padding_same_keeps_the_size():
    plan = by_name(plan_explorer(ExplorerSettings(kernel=5, stride=1, padding=2, pool=1), 64, 64))
    assert plan["conv"].shape == (96, 64, 64)
    assert plan["conv"].formula.startswith("H = W: ")
    assert "Padding 2 adds 2 rows and 2 columns of zeros" in plan["conv"].note
    assert "pool" not in plan  # window 1 means no pooling


def test_floor_pooling_says_which_rows_are_left_out():
    plan = by_name(plan_explorer(ExplorerSettings(cover_all=False), 227, 227))
    assert plan["pool"].shape == (96, 27, 27)
    plan = by_name(plan_explorer(ExplorerSettings(cover_all=False), 224, 224))
    assert plan["pool"].shape == (96, 26, 26)
    assert "the last row and the last column are never covered by any pooling window" in plan["pool"].note


def test_a_kernel_larger_than_the_padded_input_is_explained_not_raised():
    plan = plan_explorer(ExplorerSettings(kernel=15, dilation=4), 40, 40)
    assert plan[-1].name == "conv" and plan[-1].shape is None
    assert "spans 57" in plan[-1].error and "40 + 2*0 = 40" in plan[-1].error
    with pytest.raises(ValueError, match="spans 57"):
        run_explorer(np.zeros((40, 40, 3), np.float32), ExplorerSettings(kernel=15, dilation=4))


@pytest.mark.parametrize("change", [dict(), dict(grayscale=True, bank="edges", filters=5),
                                    dict(batch_norm=False, relu=False, pool=1, stride=2),
                                    dict(padding=3, dilation=2, cover_all=False, pool=4, pool_stride=3)])
def test_run_gives_the_planned_shapes_and_the_ops_results(change):
    rng = np.random.default_rng(1)
    image = rng.random((45, 61, 3), dtype=np.float32)
    s = ExplorerSettings(**change)
    result = run_explorer(image, s)
    planned = {st.name: st.shape for st in result.plan if st.name != "input"}
    assert {k: v.shape for k, v in result.maps.items()} == planned
    x = image.transpose(2, 0, 1)[None]
    if s.grayscale:
        x = (image @ np.array([0.299, 0.587, 0.114], np.float32))[None, None]
    conv = ops.conv2d(x, result.kernels, stride=s.stride, pad=s.padding, dilation=s.dilation)
    np.testing.assert_allclose(result.maps["conv"], conv[0], rtol=1e-5, atol=1e-6)
    if s.relu:
        assert result.maps["relu"].min() >= 0


def test_out_of_range_settings_are_refused_with_a_sentence():
    for bad in (dict(kernel=16), dict(stride=0), dict(filters=257), dict(pool=3, pool_stride=4),
                dict(bank="sobel")):
        with pytest.raises(ValueError) as info:
            ExplorerSettings(**bad).validate()
        assert len(str(info.value).split()) >= 4


def test_banks_say_how_extra_filters_are_filled():
    weights, names, note = make_bank("edges", 10, 3, 3)
    assert weights.shape == (10, 3, 3, 3) and names[:3] == ["Sobel x", "Sobel y", "Laplacian"]
    assert "filters 3 to 9 are random (LeCun normal, seed 0)" in note
    sobel_x = weights[0].sum(axis=0)  # summed over the channels: the classic kernel / 4
    np.testing.assert_allclose(sobel_x * 4, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], atol=1e-6)
    for bank in BANKS:
        w, n, _ = make_bank(bank, 96, 1, 7, seed=3)
        assert w.shape == (96, 1, 7, 7) and len(n) == 96 and np.isfinite(w).all()


def test_keep_returns_only_the_named_stages_with_the_same_values():
    image = np.random.default_rng(2).random((40, 50, 3), dtype=np.float32)
    full = run_explorer(image, ExplorerSettings())
    kept = run_explorer(image, ExplorerSettings(), keep=("relu",))
    assert list(kept.maps) == ["relu"]
    assert list(kept.seconds) == ["conv", "bn", "relu"]  # nothing past the last stage kept
    np.testing.assert_array_equal(kept.maps["relu"], full.maps["relu"])
