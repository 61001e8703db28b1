"""The engine's faster element-wise paths against plain NumPy and the loop references.

``relu`` takes contiguous float arrays in blocks against a cached zeros block (NumPy's
``maximum`` with a scalar operand is several times slower): it must give the very bits of
``maximum(x, 0)``. ``max_pool2d`` takes flat, separable running maxima over blocks of channel
planes: it must equal the loop reference exactly (a maximum has no rounding), across block
boundaries and with padding, overhang and asymmetric windows.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.engine import ops
from convlab.engine.ops import dense as dense_ops
from convlab.engine.ops import pooling as pool_ops

from . import reference as ref


@pytest.mark.parametrize("size", [1, 7, dense_ops.BLOCKED_RELU_MIN, dense_ops.ZERO_BLOCK - 1,
                                  dense_ops.ZERO_BLOCK, dense_ops.ZERO_BLOCK * 2 + 3])
def test_relu_gives_the_bits_of_maximum_with_zero(size):
    x = np.random.default_rng(size).standard_normal(size).astype(np.float32)
    specials = np.array([np.nan, -0.0, np.inf, -np.inf], np.float32)[:size]
    x[:specials.size] = specials
    y = ops.relu(x)
    expected = np.maximum(x, np.float32(0))
    assert y.dtype == x.dtype and y.shape == x.shape and y is not x
    np.testing.assert_array_equal(y.view(np.int32), expected.view(np.int32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_relu_on_views_and_other_dtypes(dtype):
    x = (np.random.default_rng(1).standard_normal((2, 3, 9, 8)) * 5).astype(dtype)
    for view in (x, x[:, :, ::2], x.transpose(0, 2, 3, 1)):
        np.testing.assert_array_equal(ops.relu(view), np.maximum(view, 0))
    assert not np.shares_memory(ops.relu(x), x)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 5), h=st.integers(1, 12), w=st.integers(1, 12),
       kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 4), sw=st.integers(1, 4),
       pad=st.integers(0, 1), cover_all=st.booleans(), block=st.sampled_from([1, 50, 1 << 20]),
       seed=st.integers(0, 2 ** 16))
def test_flat_max_pool_equals_the_loop_reference(n, c, h, w, kh, kw, sh, sw, pad, cover_all,
                                                 block, seed):
    """Exact equality (float32 maxima of float32 values), over one or many channel blocks."""
    if h + 2 * pad < kh or w + 2 * pad < kw or sh > kh or sw > kw or pad >= min(kh, kw):
        return  # no output, or windows wholly in the padding (the explorer never makes these)
    x = np.random.default_rng(seed).standard_normal((n, c, h, w)).astype(np.float32)
    saved, pool_ops.POOL_BLOCK = pool_ops.POOL_BLOCK, block
    try:
        y = ops.max_pool2d(x, (kh, kw), stride=(sh, sw), pad=pad, cover_all=cover_all)
    finally:
        pool_ops.POOL_BLOCK = saved
    expected = ref.max_pool2d(x, (kh, kw), stride=(sh, sw), pad=pad, cover_all=cover_all)
    assert y.dtype == np.float32 and y.flags.c_contiguous
    np.testing.assert_array_equal(y, expected.astype(np.float32))


def test_flat_max_pool_on_a_non_contiguous_input():
    x = np.random.default_rng(3).standard_normal((1, 8, 15, 15)).astype(np.float32)
    view = x[:, ::2, 1:, :-1]
    np.testing.assert_array_equal(ops.max_pool2d(view, 3, stride=2),
                                  ref.max_pool2d(view, 3, stride=2).astype(np.float32))
