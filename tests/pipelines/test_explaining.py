"""explain_value: every stage's explanation reproduces the explorer's own map value."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.explain import conv_terms
from convlab.engine.explorer import ExplorerSettings, prepare_input, run_explorer
from convlab.pipelines.explaining import explain_value, input_taps

SETTINGS = [
    ExplorerSettings(kernel=3, stride=1, padding=0, filters=4, pool=2, pool_stride=2),
    ExplorerSettings(kernel=5, stride=2, padding=3, dilation=2, filters=5, pool=3, pool_stride=2),
    ExplorerSettings(kernel=4, stride=3, padding=1, filters=3, pool=3, pool_stride=3,
                     cover_all=True, grayscale=True),
    ExplorerSettings(kernel=3, stride=1, padding=2, filters=2, batch_norm=False, pool=2,
                     pool_stride=1, cover_all=False),
    ExplorerSettings(kernel=3, stride=2, padding=1, filters=3, relu=False, pool=1),
]


def image(h=23, w=29, seed=0):
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


def positions(shape, rng, n=6):
    _, h, w = shape
    picks = [(0, 0), (h - 1, w - 1)]  # corners reach into the padding and past the edge
    picks += [(int(rng.integers(h)), int(rng.integers(w))) for _ in range(n)]
    return picks


@pytest.mark.parametrize("settings", SETTINGS, ids=range(len(SETTINGS)))
def test_every_stage_reproduces_the_map_value(settings):
    img = image()
    result = run_explorer(img, settings)
    rng = np.random.default_rng(1)
    for stage, maps in result.maps.items():
        for c in range(maps.shape[0]):
            for i, j in positions(maps.shape, rng, 3):
                e = explain_value(img, result, stage, c, i, j)
                assert e.value == pytest.approx(float(maps[c, i, j]))
                if e.conv is not None:  # the arithmetic itself, not only the map's number
                    assert e.conv.value == pytest.approx(float(result.maps["conv"][c, i, j]),
                                                         rel=1e-4, abs=1e-5)
                if e.bn is not None:
                    assert e.bn.value == pytest.approx(float(result.maps["bn"][c, i, j]),
                                                       rel=1e-3, abs=1e-4)
                if stage == "relu":
                    assert max(e.relu_input, 0.0) == pytest.approx(e.value, abs=1e-6)
                if e.pool is not None:
                    assert e.pool.value == pytest.approx(e.value)
                    r, col = e.pool.argmax
                    assert result.maps[e.pooled][c, r, col] == pytest.approx(e.value)


def test_a_stage_that_was_not_kept_is_recomputed_for_one_channel():
    img, s = image(40, 36, seed=3), SETTINGS[1]
    full = run_explorer(img, s)
    only_pool = run_explorer(img, s, keep=("pool",))
    assert set(only_pool.maps) == {"pool"}
    for i, j in [(0, 0), (3, 2), (full.maps["pool"].shape[1] - 1, 1)]:
        a = explain_value(img, full, "pool", 2, i, j)
        b = explain_value(img, only_pool, "pool", 2, i, j)
        assert b.value == pytest.approx(a.value)
        assert b.pool.argmax == a.pool.argmax
        np.testing.assert_allclose(b.pool.window, a.pool.window, rtol=1e-4, atol=1e-5)
        assert b.winner.value == pytest.approx(a.winner.value, rel=1e-6)


def test_conv_taps_are_conv_terms_rows_and_cols():
    img, s = image(), SETTINGS[1]
    result = run_explorer(img, s)
    x = prepare_input(img, s.grayscale)
    t = conv_terms(x, result.kernels, stride=s.stride, pad=s.padding, dilation=s.dilation,
                   o=1, i=0, j=2)
    e = explain_value(img, result, "bn", 1, 0, 2)
    rows, cols = input_taps(e, s)
    np.testing.assert_array_equal(rows, t.rows)
    np.testing.assert_array_equal(cols, t.cols)
    assert rows[0] < 0  # the first row of taps lies in the padding


def test_pool_taps_are_the_union_of_the_conv_windows_it_pools():
    img, s = image(), SETTINGS[1]
    result = run_explorer(img, s)
    e = explain_value(img, result, "pool", 0, 1, 1)
    rows, cols = input_taps(e, s)
    expected_rows, expected_cols = set(), set()
    for r in e.pool.rows:
        for c in e.pool.cols:
            t = conv_terms(prepare_input(img, False), result.kernels, stride=s.stride,
                           pad=s.padding, dilation=s.dilation, o=0, i=int(r), j=int(c))
            expected_rows |= set(t.rows.tolist())
            expected_cols |= set(t.cols.tolist())
    assert set(rows.tolist()) == expected_rows and set(cols.tolist()) == expected_cols
    assert e.field.top == min(expected_rows) and e.field.bottom == max(expected_rows) + 1


def test_refusals_are_sentences():
    img = image()
    result = run_explorer(img, SETTINGS[4])
    with pytest.raises(ValueError, match="no pool stage"):
        explain_value(img, result, "pool", 0, 0, 0)
    with pytest.raises(ValueError, match="outside"):
        explain_value(img, result, "conv", 0, 999, 0)


# -- settings the explorer is growing (groups, "same" padding, a transposed convolution) --------
class Settings:
    """Explorer settings with groups, "same" padding and the transposed mode (as h-diagram's)."""

    def __init__(self, **kw):
        defaults = dict(kernel=4, stride=2, padding=1, dilation=1, filters=6, pool=3,
                        pool_stride=2, batch_norm=True, relu=True, cover_all=True,
                        grayscale=False, groups=3, same=False, transposed=False)
        self.__dict__.update(defaults, **kw)

    def conv_pad(self):
        if self.same and not self.transposed:
            total = self.dilation * (self.kernel - 1)
            return (total // 2, total - total // 2), (total // 2, total - total // 2)
        return (self.padding,) * 2, (self.padding,) * 2


def transposed_weights(weights, groups):
    """(F, C/G, k, k) -> (C, F/G, k, k), filter f still making map f."""
    f, cg, kh, kw = weights.shape
    w = weights.reshape(groups, f // groups, cg, kh, kw)  # (G, F/G, C/G, kh, kw)
    return np.ascontiguousarray(w.transpose(0, 2, 1, 3, 4)).reshape(groups * cg, f // groups, kh, kw)


def run_grown(img, s, keep=None):
    """What the grown explorer computes, with the ops directly."""
    from convlab.engine import ops
    from convlab.engine.explorer import ExplorerResult, StagePlan

    rng = np.random.default_rng(5)
    w = rng.standard_normal((s.filters, 3 // s.groups, s.kernel, s.kernel)).astype(np.float32)
    h = prepare_input(img, False)
    if s.transposed:
        h = ops.deconv2d(h, transposed_weights(w, s.groups), stride=s.stride, pad=s.padding,
                         dilation=s.dilation, groups=s.groups)
    else:
        h = ops.conv2d(h, w, stride=s.stride, pad=s.conv_pad(), dilation=s.dilation,
                       groups=s.groups)
    maps = {"conv": h[0]}
    h = ops.batch_norm(h, np.ones(s.filters, np.float32), np.zeros(s.filters, np.float32))
    maps["bn"] = h[0]
    maps["relu"] = ops.relu(h)[0]
    maps["pool"] = ops.max_pool2d(ops.relu(h), s.pool, stride=s.pool_stride, cover_all=True)[0]
    plan = [StagePlan("input", (3,) + img.shape[:2])]
    plan += [StagePlan(name, m.shape) for name, m in maps.items()]
    kept = {k: v for k, v in maps.items() if keep is None or k in keep}
    return ExplorerResult(s, plan, kept, kernels=w), maps


@pytest.mark.parametrize("changes", [dict(), dict(same=True, kernel=4, stride=1, dilation=2),
                                     dict(transposed=True, padding=1, stride=2)],
                         ids=["groups", "same", "transposed"])
def test_groups_same_padding_and_transposed_settings(monkeypatch, changes):
    from convlab.engine import explorer

    monkeypatch.setattr(explorer, "transposed_weights", transposed_weights, raising=False)
    img, s = image(13, 11, seed=4), Settings(**changes)
    full, maps = run_grown(img, s)
    only_pool, _ = run_grown(img, s, keep=("pool",))
    rng = np.random.default_rng(2)
    for c in (0, 2, 5):  # filters of each group
        for i, j in positions(maps["conv"].shape, rng, 3):
            for stage in ("conv", "bn", "relu"):
                e = explain_value(img, full, stage, c, i, j)
                assert e.conv.value == pytest.approx(float(maps["conv"][c, i, j]), rel=1e-4,
                                                     abs=1e-5)
        for i, j in positions(maps["pool"].shape, rng, 2):
            a = explain_value(img, full, "pool", c, i, j)
            b = explain_value(img, only_pool, "pool", c, i, j)  # recomputed for one filter
            assert b.pool.value == pytest.approx(a.pool.value, rel=1e-4, abs=1e-5)
            assert a.pool.value == pytest.approx(float(maps["pool"][c, i, j]))
            rows, cols = input_taps(a, s)
            assert len(rows) and len(cols)


@pytest.mark.parametrize("settings", SETTINGS[:4], ids=range(4))
def test_a_pooled_value_carries_the_winners_bn_and_relu(settings):
    """conv -> BN -> ReLU -> pool: every step at the winner, so the chain reaches the value."""
    img = image()
    result = run_explorer(img, settings)
    e = explain_value(img, result, "pool", 1, 1, 1)
    r, col = e.pool.argmax
    assert e.winner.value == pytest.approx(float(result.maps["conv"][1, r, col]), rel=1e-4, abs=1e-5)
    if settings.batch_norm:
        assert e.winner_bn.x == pytest.approx(e.winner.value, rel=1e-4, abs=1e-5)
        assert e.winner_bn.value == pytest.approx(float(result.maps["bn"][1, r, col]), rel=1e-3, abs=1e-4)
    else:
        assert e.winner_bn is None
    assert e.winner_relu is not None
    assert max(e.winner_relu, 0.0) == pytest.approx(e.value, rel=1e-3, abs=1e-4)


@pytest.mark.parametrize("settings", [
    ExplorerSettings(kernel=3, stride=1, filters=3, pool=3, pool_stride=2, pool_mode="avg"),
    ExplorerSettings(kernel=4, stride=2, padding=1, filters=2, batch_norm=False, pool=2,
                     pool_stride=1, pool_mode="avg", cover_all=True),
    ExplorerSettings(kernel=3, stride=1, filters=2, relu=False, pool=4, pool_stride=4,
                     pool_mode="avg", grayscale=True),
], ids=range(3))
def test_an_average_pooled_value_is_the_mean_of_its_window(settings):
    """Average pooling (Chainer's F.average_pooling_2d): sum / (k*k) of the stage before, no
    winner; the value is ops.avg_pool2d's."""
    from convlab.engine import ops

    img = image()
    result = run_explorer(img, settings)
    pooled = "relu" if settings.relu else ("bn" if settings.batch_norm else "conv")
    want = ops.avg_pool2d(result.maps[pooled][None], settings.pool, stride=settings.pool_stride)[0]
    rng = np.random.default_rng(4)
    for c in range(want.shape[0]):
        for i, j in positions(want.shape, rng, 3):
            e = explain_value(img, result, "pool", c, i, j)
            assert e.pool_mode == "avg" and e.pooled == pooled and e.winner is None
            assert e.value == float(want[c, i, j])
            assert e.pool.value == pytest.approx(float(want[c, i, j]), rel=1e-5, abs=1e-6)
            window = result.maps[pooled][c][np.ix_(e.pool.rows, e.pool.cols)]
            np.testing.assert_array_equal(e.pool.window, window)  # stride <= window: all inside
            assert e.pool.value == pytest.approx(float(window.mean()), rel=1e-5, abs=1e-6)
            rows, cols = input_taps(e, settings)
            assert len(rows) and len(cols)
