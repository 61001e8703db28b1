"""The arithmetic diagram's model: its counts are arithmetic's, its windows the op's windows."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings as hyp_settings, strategies as st

from convlab.engine import arithmetic as ar
from convlab.engine.explorer import ExplorerSettings, plan_explorer
from convlab.render.diagram import axis_text, build_axis, diagram_for

axes = dict(size=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 5),
            before=st.integers(0, 4), after=st.integers(0, 4), d=st.integers(1, 3),
            cover_all=st.booleans())


@hyp_settings(max_examples=300, deadline=None)
@given(**axes)
def test_axis_counts_equal_arithmetic(size, k, s, before, after, d, cover_all):
    try:
        cov = ar.axis_coverage(size, k, s, (before, after), d, cover_all)
    except ValueError:
        with pytest.raises(ValueError):
            build_axis(size, k, s, (before, after), d, cover_all)
        return
    walk = build_axis(size, k, s, (before, after), d, cover_all, max_cells=10_000)
    assert walk.out == cov.out == ar.conv_out_size(size, k, s, (before, after), d, cover_all)
    assert walk.dropped == cov.dropped and walk.extra == cov.extra
    assert walk.partial == (1 if cov.extra else 0)
    # brute force: cells no window spans, trailing; windows past the padded edge
    cells = size + before + after
    spanned = {c for o in range(walk.out) for c in range(o * s, o * s + walk.span)}
    unspanned = [c for c in range(cells) if c not in spanned]
    assert list(walk.unspanned()) == unspanned
    assert walk.dropped == sum(1 for c in range(cells) if c > max(spanned))  # past the last window
    assert walk.partial == sum(1 for o in range(walk.out) if o * s + walk.span > cells)
    read = {c for o in range(walk.out) for c in walk.taps(o)}
    assert set(walk.untapped()) == {c for c in range(before, before + size) if c not in read}


@hyp_settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 30), k=st.integers(1, 6), s=st.integers(1, 4), p=st.integers(0, 5),
       d=st.integers(1, 3))
def test_transposed_axis_is_a_stride_1_walk_over_the_spread_input(size, k, s, p, d):
    dk = ar.effective_kernel(k, d)
    assume(p <= dk - 1 and s * (size - 1) + dk - 2 * p >= 1)
    walk = build_axis(size, k, s, (p, p), d, transposed=True, max_cells=10_000)
    assert walk.out == ar.deconv_out_size(size, k, s, p, d)
    assert walk.out == ar.conv_out_size(walk.cells, k, 1, 0, d)  # the drawn grid agrees
    assert sum(walk.is_input(c) for c in range(walk.cells)) == size


@hyp_settings(max_examples=120, deadline=None)
@given(h=st.integers(8, 60), w=st.integers(8, 60), k=st.integers(1, 7), s=st.integers(1, 4),
       p=st.integers(0, 3), d=st.integers(1, 2), same=st.booleans(), pool=st.integers(1, 4),
       pool_stride=st.integers(1, 4), cover_all=st.booleans())
def test_diagram_counts_equal_the_readout_for_random_settings(h, w, k, s, p, d, same, pool,
                                                              pool_stride, cover_all):
    settings = ExplorerSettings(kernel=k, stride=s, padding=p, dilation=d, same=same, pool=pool,
                                pool_stride=min(pool_stride, pool), cover_all=cover_all)
    plan = {st_.name: st_ for st_ in plan_explorer(settings, h, w)}
    if plan["conv"].shape is None:
        with pytest.raises(ValueError):
            diagram_for(settings, "conv", h, w)
        return
    for stage in ("conv", "pool") if "pool" in plan and plan["pool"].shape else ("conv",):
        full = diagram_for(settings, stage, h, w, max_cells=10_000)
        assert (full.rows.out, full.cols.out) == plan[stage].shape[1:]
        assert full.count == full.rows.out * full.cols.out and not full.corner
        boxes = list(full.windows())
        assert len(boxes) == full.count
        assert sum(b.partial for b in boxes) == full.partial_windows
        (top, bottom), (left, right) = (settings.conv_pad() if stage == "conv"
                                        else ((0, 0), (0, 0)))
        size_h = h if stage == "conv" else plan["conv"].shape[1]
        cov = ar.axis_coverage(size_h, full.rows.kernel, full.rows.stride, (top, bottom),
                               full.rows.dilation, full.rows.cover_all)
        assert (full.rows.dropped, full.rows.extra) == (cov.dropped, cov.extra)
        last = boxes[-1]
        assert last.box[2] == full.rows.reach and last.box[3] == full.cols.reach


def test_large_inputs_show_the_top_left_corner_with_the_counts_written_out():
    d = diagram_for(ExplorerSettings(), "conv", 341, 512)  # AlexBN conv1 on the sample
    assert (d.rows.out, d.cols.out) == (83, 126) and d.corner
    assert d.rows.shown <= 28 and d.out_rows == (d.rows.shown - 11) // 4 + 1
    assert all(b.box[2] <= d.rows.shown and b.box[3] <= d.cols.shown for b in d.windows())
    assert "341 input, 0 + 0 padding -> 83 outputs; the last 2 never covered" in axis_text(d.rows, "rows")
    pool = diagram_for(ExplorerSettings(), "pool", 341, 512)
    assert (pool.rows.out, pool.cols.out) == (41, 63) and pool.cols.extra == 1
    assert pool.partial_windows == 41  # the last column of windows, one per output row


@hyp_settings(max_examples=100, deadline=None)
@given(size=st.integers(30, 300), k=st.integers(1, 11), s=st.integers(1, 4), d=st.integers(1, 2),
       cover_all=st.booleans(), corner=st.sampled_from(["top-left", "bottom-right"]))
def test_corner_windows_lie_in_the_drawn_cells(size, k, s, d, cover_all, corner):
    walk = build_axis(size, k, s, (0, 0), d, cover_all, corner=corner)
    played = walk.played()
    assert len(played) >= 1
    for o in played:
        assert walk.first <= walk.start(o) and walk.start(o) + walk.span <= walk.first + walk.shown
    if corner == "bottom-right":
        assert played[-1] == walk.out - 1 and walk.first + walk.shown == walk.cells + walk.extra
    else:
        assert played[0] == 0 and walk.first == 0
