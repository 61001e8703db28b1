"""Asymmetric padding ``((top, bottom), (left, right))`` in conv2d, pooling, im2col and arithmetic.

Each op against the float64 nested-loop references (which read the input through the defining
index formula with the top/left offset and the total padding in the output size).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.engine import ops
from convlab.engine.ops import conv as convolution
from convlab.engine.arithmetic import axis_coverage, conv_out_size, pad_pairs

from . import reference as ref

SETTINGS = settings(max_examples=60, deadline=None)


def rand(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def check(actual, expected, tol=1e-5):
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


# ------------------------------------------------------------------------------ pad_pairs
@pytest.mark.parametrize("pad, expected", [
    (0, ((0, 0), (0, 0))), (2, ((2, 2), (2, 2))), ((1, 3), ((1, 1), (3, 3))),
    ([1, 3], ((1, 1), (3, 3))), (((0, 1), (2, 3)), ((0, 1), (2, 3))),
    ([[0, 1], [2, 3]], ((0, 1), (2, 3))), (np.int64(4), ((4, 4), (4, 4))),
])
def test_pad_pairs_accepts_int_pair_and_nested_pairs(pad, expected):
    assert pad_pairs(pad) == expected


@pytest.mark.parametrize("bad", [1.5, "1", True, (1, 2, 3), (1,), ((0, 1), 2), (2, (0, 1)),
                                 ((0, 1, 2), (0, 1)), ((0, 1), (0,)), ((0, 1.5), (0, 1)),
                                 ((0, 1), (0, 1), (0, 1))])
def test_pad_pairs_refuses_anything_else_with_a_sentence(bad):
    with pytest.raises(ValueError) as info:
        pad_pairs(bad)
    assert "pad" in str(info.value) and len(str(info.value).split()) >= 5


# -------------------------------------------------------------------------- conv_out_size
def test_conv_out_size_takes_a_before_after_pair_as_total_padding():
    assert conv_out_size(8, 4, 1, (1, 2)) == 8          # "same" for an even kernel
    assert conv_out_size(8, 4, 1, (2, 1)) == 8
    assert conv_out_size(7, 3, 2, (0, 1)) == 3          # (7 + 1 - 3) // 2 + 1
    assert conv_out_size(7, 3, 2, (0, 1), cover_all=True) == 4
    assert conv_out_size(5, 3, 1, (1, 1)) == conv_out_size(5, 3, 1, 1)


@pytest.mark.parametrize("p", [(-1, 2), (2, -1), (1, 2, 3), (1.5, 0)])
def test_conv_out_size_refuses_bad_padding_pairs(p):
    with pytest.raises(ValueError, match="padding"):
        conv_out_size(8, 3, 1, p)


def test_conv_out_size_sentence_names_both_sides():
    with pytest.raises(ValueError, match=r"2 \+ 0 \+ 1 = 3"):
        conv_out_size(2, 5, 1, (0, 1))


@SETTINGS
@given(size=st.integers(1, 60), k=st.integers(1, 9), s=st.integers(1, 5), before=st.integers(0, 6),
       after=st.integers(0, 6), d=st.integers(1, 3), cover_all=st.booleans())
def test_conv_out_size_pair_counts_windows(size, k, s, before, after, d, cover_all):
    """Count the window starts by brute force: without cover_all every window lies in the padded
    line; with it, a window may overhang the line's end by at most s - 1 (so it starts while the
    window before it leaves part of the line uncovered)."""
    dk = d * (k - 1) + 1
    padded = before + size + after
    if cover_all:
        expected = sum(1 for i in range(padded + s) if i * s + dk <= padded + s - 1)
    else:
        expected = sum(1 for i in range(padded + 1) if i * s + dk <= padded)
    if expected < 1:
        with pytest.raises(ValueError):
            conv_out_size(size, k, s, (before, after), d, cover_all)
        return
    assert conv_out_size(size, k, s, (before, after), d, cover_all) == expected
    assert axis_coverage(size, k, s, (before, after), d, cover_all).out == expected


@pytest.mark.parametrize("k", range(1, 16))
def test_same_padding_keeps_the_size_for_every_kernel(k):
    """PyTorch's padding="same": (k - 1) // 2 before, the rest (k // 2) after."""
    x, W = rand(k, 1, 2, 9, 8), rand(k + 1, 2, 2, k, k)
    pad = (((k - 1) // 2, k // 2), ((k - 1) // 2, k // 2))
    y = ops.conv2d(x, W, pad=pad)
    assert y.shape == (1, 2, 9, 8)
    if k <= 5:
        check(y, ref.conv2d(x, W, pad=pad))


# --------------------------------------------------------------------------------- conv2d
CONV_CASES = {
    "bottom-right": ((1, 2, 6, 7), (3, 2, 2, 2), dict(pad=((0, 1), (0, 1)))),
    "top-left": ((2, 1, 5, 6), (2, 1, 3, 3), dict(pad=((2, 0), (1, 0)))),
    "all-different": ((1, 2, 5, 5), (2, 2, 3, 2), dict(pad=((0, 2), (3, 1)), stride=2)),
    "dilated": ((1, 1, 7, 6), (2, 1, 3, 3), dict(pad=((1, 3), (0, 2)), dilation=(2, 1))),
    "groups": ((1, 4, 5, 6), (4, 2, 3, 3), dict(pad=((1, 0), (0, 1)), groups=2)),
    "lists": ((1, 1, 4, 4), (1, 1, 2, 2), dict(pad=[[1, 0], [0, 1]])),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv2d_asymmetric_matches_reference(case):
    xs, ws, kwargs = CONV_CASES[case]
    x, W, b = rand(1, *xs), rand(2, *ws), rand(3, ws[0])
    check(ops.conv2d(x, W, b, **kwargs), ref.conv2d(x, W, b, **kwargs))


@pytest.mark.parametrize("budget_rows", [1, 2])
def test_conv2d_asymmetric_in_row_tiles(budget_rows, monkeypatch):
    x, W = rand(4, 1, 2, 9, 7), rand(5, 3, 2, 3, 3)
    kwargs = dict(pad=((2, 0), (0, 1)), stride=(2, 1))
    expected = ref.conv2d(x, W, **kwargs)
    monkeypatch.setattr(convolution, "COL_BUDGET", budget_rows * 2 * 9 * expected.shape[3] * 4)
    check(ops.conv2d(x, W, **kwargs), expected)


def test_conv2d_asymmetric_shift_add_reference_agrees_with_loop():
    x, W = rand(6, 1, 2, 6, 5), rand(7, 2, 2, 3, 3)
    pad = ((0, 2), (1, 0))
    np.testing.assert_allclose(ref.conv2d_shift_add(x, W, pad=pad), ref.conv2d(x, W, pad=pad),
                               rtol=1e-12, atol=1e-12)


def test_conv2d_refuses_negative_and_malformed_asymmetric_pads():
    x, W = rand(8, 1, 1, 5, 5), rand(9, 1, 1, 3, 3)
    for bad in (((0, -1), (0, 0)), ((0, 1), 2), ((0, 1, 2), (0, 0))):
        with pytest.raises(ValueError):
            ops.conv2d(x, W, pad=bad)


def test_im2col_takes_before_after_pairs():
    x = rand(10, 1, 2, 4, 5)
    col = ops.im2col(x, 2, 3, 1, 2, (0, 1), (2, 0))
    assert col.shape == (1, 2, 2, 3, 4, 3)                   # (4+1-2)/1+1, (5+2-3)//2+1
    padded = np.zeros((1, 2, 5, 7), np.float32)
    padded[:, :, 0:4, 2:7] = x
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(col[:, :, i, j], padded[:, :, i:i + 4, j:j + 5:2])


# -------------------------------------------------------------------------------- pooling
POOL_CASES = {
    "bottom-right": ((1, 2, 6, 7), 2, dict(pad=((0, 1), (0, 1)), stride=1)),
    "top-left": ((2, 1, 5, 6), 3, dict(pad=((2, 0), (1, 0)), stride=2)),
    "all-different": ((1, 2, 7, 5), (3, 2), dict(pad=((0, 2), (1, 0)), stride=(2, 1))),
}


@pytest.mark.parametrize("cover_all", [True, False])
@pytest.mark.parametrize("case", sorted(POOL_CASES))
def test_max_pool2d_asymmetric_matches_reference(case, cover_all):
    xs, ksize, kwargs = POOL_CASES[case]
    x = -np.abs(rand(11, *xs))                   # all negative: zero padding would show
    check(ops.max_pool2d(x, ksize, cover_all=cover_all, **kwargs),
          ref.max_pool2d(x, ksize, cover_all=cover_all, **kwargs))


@pytest.mark.parametrize("case", sorted(POOL_CASES))
def test_avg_pool2d_asymmetric_matches_reference(case):
    xs, ksize, kwargs = POOL_CASES[case]
    x = rand(12, *xs)
    check(ops.avg_pool2d(x, ksize, **kwargs), ref.avg_pool2d(x, ksize, **kwargs))


pads = st.tuples(st.integers(0, 2), st.integers(0, 2))


@SETTINGS
@given(h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), dh=st.integers(1, 2), ph=pads, pw=pads,
       seed=st.integers(0, 2**32 - 1))
def test_conv2d_asymmetric_random_configurations(h, w, kh, kw, sh, sw, dh, ph, pw, seed):
    if h + sum(ph) < dh * (kh - 1) + 1 or w + sum(pw) < kw:
        with pytest.raises(ValueError):
            ops.conv2d(rand(seed, 1, 2, h, w), rand(seed + 1, 2, 2, kh, kw), pad=(ph, pw),
                       dilation=(dh, 1))
        return
    x, W = rand(seed, 1, 2, h, w), rand(seed + 1, 2, 2, kh, kw)
    kwargs = dict(stride=(sh, sw), pad=(ph, pw), dilation=(dh, 1))
    check(ops.conv2d(x, W, **kwargs), ref.conv2d(x, W, **kwargs))


@SETTINGS
@given(h=st.integers(1, 7), w=st.integers(1, 7), k=st.integers(1, 3), s=st.integers(1, 3),
       ph=pads, pw=pads, cover_all=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_pooling_asymmetric_random_configurations(h, w, k, s, ph, pw, cover_all, seed):
    x = rand(seed, 1, 2, h, w)
    fits = min(ref.out_size(h, k, s, ph, 1, cover_all), ref.out_size(w, k, s, pw, 1, cover_all)) >= 1
    if fits:
        check(ops.max_pool2d(x, k, stride=s, pad=(ph, pw), cover_all=cover_all),
              ref.max_pool2d(x, k, stride=s, pad=(ph, pw), cover_all=cover_all))
    else:
        with pytest.raises(ValueError):
            ops.max_pool2d(x, k, stride=s, pad=(ph, pw), cover_all=cover_all)
    if h + sum(ph) >= k and w + sum(pw) >= k:    # average pooling: floor, never cover_all
        check(ops.avg_pool2d(x, k, stride=s, pad=(ph, pw)), ref.avg_pool2d(x, k, stride=s, pad=(ph, pw)))
    else:
        with pytest.raises(ValueError):
            ops.avg_pool2d(x, k, stride=s, pad=(ph, pw))
