"""Hypothesis properties: shapes agree with conv_out_size, and the ops' algebraic invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convlab.engine import ops
from convlab.engine.arithmetic import conv_out_size

from . import reference as ref

SETTINGS = settings(max_examples=60, deadline=None)

sizes = st.integers(1, 12)
kernels = st.integers(1, 5)
strides = st.integers(1, 4)
pads = st.integers(0, 3)
dilations = st.integers(1, 3)
seeds = st.integers(0, 2**32 - 1)


def formula(size, k, s, p, d=1, cover_all=False):
    """DESIGN.md's formulas, written out independently of the engine."""
    dk = d * (k - 1) + 1
    if cover_all:
        return (size + 2 * p - dk + s - 1) // s + 1
    return (size + 2 * p - dk) // s + 1


def has_window_outside_input(size, k, s, p, cover_all):
    """Whether some pooling window reads only padding or overhang (its max would be -inf)."""
    return any(i * s + k <= p or i * s >= p + size for i in range(formula(size, k, s, p, 1, cover_all)))


def arr(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@SETTINGS
@given(size=st.integers(1, 300), k=st.integers(1, 15), s=st.integers(1, 8), p=st.integers(0, 8),
       d=st.integers(1, 4), cover_all=st.booleans())
def test_conv_out_size_is_the_formula_or_a_sentence(size, k, s, p, d, cover_all):
    expected = formula(size, k, s, p, d, cover_all)
    if expected >= 1:
        assert conv_out_size(size, k, s, p, d, cover_all) == expected
    else:
        with pytest.raises(ValueError) as info:
            conv_out_size(size, k, s, p, d, cover_all)
        assert len(str(info.value).split()) >= 5


@SETTINGS
@given(n=st.integers(1, 2), cin=st.integers(1, 3), cout=st.integers(1, 3), h=sizes, w=sizes,
       kh=kernels, kw=kernels, sh=strides, sw=strides, ph=pads, pw=pads, dh=dilations,
       dw=dilations, seed=seeds)
def test_conv2d_shape_matches_conv_out_size(n, cin, cout, h, w, kh, kw, sh, sw, ph, pw, dh, dw, seed):
    x, W = arr(seed, n, cin, h, w), arr(seed + 1, cout, cin, kh, kw)
    kwargs = dict(stride=(sh, sw), pad=(ph, pw), dilation=(dh, dw))
    fits = formula(h, kh, sh, ph, dh) >= 1 and formula(w, kw, sw, pw, dw) >= 1
    if not fits:
        with pytest.raises(ValueError, match="conv2d"):
            ops.conv2d(x, W, **kwargs)
        return
    y = ops.conv2d(x, W, **kwargs)
    assert y.shape == (n, cout, conv_out_size(h, kh, sh, ph, dh), conv_out_size(w, kw, sw, pw, dw))
    assert y.dtype == np.float32


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 2), g=st.integers(1, 2), cpg=st.integers(1, 2), opg=st.integers(1, 2),
       h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2),
       dh=st.integers(1, 2), dw=st.integers(1, 2), bias=st.booleans(), seed=seeds)
def test_conv2d_matches_reference_on_random_configurations(n, g, cpg, opg, h, w, kh, kw, sh, sw,
                                                           ph, pw, dh, dw, bias, seed):
    assume(formula(h, kh, sh, ph, dh) >= 1 and formula(w, kw, sw, pw, dw) >= 1)
    x, W = arr(seed, n, g * cpg, h, w), arr(seed + 1, g * opg, cpg, kh, kw)
    b = arr(seed + 2, g * opg) if bias else None
    kwargs = dict(stride=(sh, sw), pad=(ph, pw), dilation=(dh, dw), groups=g)
    np.testing.assert_allclose(ops.conv2d(x, W, b, **kwargs), ref.conv2d(x, W, b, **kwargs),
                               rtol=1e-5, atol=1e-5)


@SETTINGS
@given(h=sizes, w=sizes, kh=kernels, kw=kernels, data=st.data(), cover_all=st.booleans(),
       seed=seeds)
def test_max_pool2d_shape_and_values(h, w, kh, kw, data, cover_all, seed):
    sh, sw = data.draw(st.integers(1, kh)), data.draw(st.integers(1, kw))
    ph, pw = data.draw(st.integers(0, kh - 1)), data.draw(st.integers(0, kw - 1))
    assume(h + 2 * ph >= kh and w + 2 * pw >= kw)
    # windows wholly in the padding are checked in test_ops
    assume(not has_window_outside_input(h, kh, sh, ph, cover_all))
    assume(not has_window_outside_input(w, kw, sw, pw, cover_all))
    x = arr(seed, 1, 2, h, w)
    y = ops.max_pool2d(x, (kh, kw), stride=(sh, sw), pad=(ph, pw), cover_all=cover_all)
    assert y.shape == (1, 2, conv_out_size(h, kh, sh, ph, 1, cover_all),
                       conv_out_size(w, kw, sw, pw, 1, cover_all))
    expected = ref.max_pool2d(x, (kh, kw), stride=(sh, sw), pad=(ph, pw), cover_all=cover_all)
    np.testing.assert_array_equal(y, expected.astype(np.float32))


@SETTINGS
@given(h=sizes, w=sizes, kh=kernels, kw=kernels, data=st.data(), seed=seeds)
def test_avg_pool2d_shape_and_values(h, w, kh, kw, data, seed):
    sh, sw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    ph, pw = data.draw(st.integers(0, kh - 1)), data.draw(st.integers(0, kw - 1))
    assume(h + 2 * ph >= kh and w + 2 * pw >= kw)
    x = arr(seed, 2, 1, h, w)
    y = ops.avg_pool2d(x, (kh, kw), stride=(sh, sw), pad=(ph, pw))
    assert y.shape == (2, 1, conv_out_size(h, kh, sh, ph), conv_out_size(w, kw, sw, pw))
    np.testing.assert_allclose(y, ref.avg_pool2d(x, (kh, kw), stride=(sh, sw), pad=(ph, pw)),
                               rtol=1e-5, atol=1e-6)


@SETTINGS
@given(h=sizes, w=sizes, k=kernels, s=strides, p=pads, a=st.floats(-8, 8), seed=seeds)
def test_conv2d_is_linear_without_bias(h, w, k, s, p, a, seed):
    assume(h + 2 * p >= k and w + 2 * p >= k)
    x, x2, W = arr(seed, 1, 2, h, w), arr(seed + 1, 1, 2, h, w), arr(seed + 2, 3, 2, k, k)
    a = np.float32(a)
    y = ops.conv2d(x, W, stride=s, pad=p)
    np.testing.assert_allclose(ops.conv2d(a * x, W, stride=s, pad=p), a * y, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ops.conv2d(x + x2, W, stride=s, pad=p),
                               y + ops.conv2d(x2, W, stride=s, pad=p), rtol=1e-4, atol=1e-4)


@SETTINGS
@given(h=sizes, w=sizes, k=kernels, data=st.data(),
       c=st.floats(-1e6, 1e6, allow_nan=False, width=32), cover_all=st.booleans())
def test_max_pool_of_a_constant_is_that_constant(h, w, k, data, c, cover_all):
    s = data.draw(st.integers(1, k))
    p = data.draw(st.integers(0, k - 1))
    assume(h + 2 * p >= k and w + 2 * p >= k)
    assume(not has_window_outside_input(h, k, s, p, cover_all))
    assume(not has_window_outside_input(w, k, s, p, cover_all))
    x = np.full((1, 2, h, w), c, np.float32)
    y = ops.max_pool2d(x, k, stride=s, pad=p, cover_all=cover_all)
    assert y.size > 0
    np.testing.assert_array_equal(y, np.float32(c))


@SETTINGS
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), seed=seeds)
def test_relu_is_idempotent_and_non_negative(shape, seed):
    x = arr(seed, *shape)
    y = ops.relu(x)
    np.testing.assert_array_equal(ops.relu(y), y)
    assert np.all(y >= 0)
    np.testing.assert_array_equal(y[x > 0], x[x > 0])


@SETTINGS
@given(n=st.integers(1, 4), c=st.integers(1, 10), scale=st.floats(0.01, 100), seed=seeds)
def test_softmax_rows_sum_to_one(n, c, scale, seed):
    x = arr(seed, n, c) * np.float32(scale)
    y = ops.softmax(x)
    assert y.shape == x.shape and np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(np.argmax(y, axis=1), np.argmax(x, axis=1))
