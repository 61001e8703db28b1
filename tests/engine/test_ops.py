"""Each op against the float64 nested-loop reference over a grid of tiny shapes, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.ops import conv as convolution

from . import reference as ref

RTOL, ATOL = 1e-5, 1e-5


def rand(seed, *shape, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def check(actual, expected, rtol=RTOL, atol=ATOL):
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------------- conv2d
# (x shape, W shape, kwargs, bias?)
CONV_CASES = {
    "basic": ((1, 1, 5, 5), (1, 1, 3, 3), {}, False),
    "bias-batch": ((2, 3, 6, 5), (4, 3, 3, 3), {}, True),
    "stride2-pad1": ((2, 2, 7, 6), (3, 2, 3, 3), dict(stride=2, pad=1), True),
    "stride-not-dividing": ((1, 2, 8, 9), (2, 2, 3, 3), dict(stride=3), True),
    "stride-gt-kernel": ((1, 1, 9, 8), (2, 1, 2, 2), dict(stride=3), False),
    "dilation2": ((1, 2, 9, 9), (2, 2, 3, 3), dict(dilation=2), True),
    "dilation2-pad2": ((2, 1, 6, 7), (2, 1, 3, 3), dict(dilation=2, pad=2), True),
    "rect-kernel": ((1, 2, 6, 7), (3, 2, 2, 3), {}, True),
    "pairs": ((2, 2, 7, 8), (2, 2, 3, 2), dict(stride=(2, 1), pad=(1, 0), dilation=(1, 2)), True),
    "pairs-as-lists": ((1, 1, 6, 6), (2, 1, 3, 3), dict(stride=[1, 2], pad=[0, 1]), False),
    "groups2": ((2, 4, 5, 5), (6, 2, 3, 3), dict(groups=2, pad=1), True),
    "groups2-batch1": ((1, 4, 5, 6), (4, 2, 2, 2), dict(groups=2), True),
    "depthwise": ((1, 3, 5, 5), (3, 1, 3, 3), dict(groups=3), True),
    "depthwise-mult2": ((2, 3, 4, 4), (6, 1, 2, 2), dict(groups=3, stride=2), False),
    "1x1": ((2, 3, 3, 4), (5, 3, 1, 1), {}, True),
    "kernel-equals-input": ((2, 2, 4, 4), (3, 2, 4, 4), {}, True),
    "kernel-fits-only-padded": ((1, 1, 2, 2), (1, 1, 3, 3), dict(pad=1), True),
    "alex-like-stride4": ((1, 3, 15, 15), (2, 3, 11, 11), dict(stride=4), True),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv2d_matches_reference(case):
    xs, ws, kwargs, with_bias = CONV_CASES[case]
    x, W = rand(1, *xs), rand(2, *ws)
    b = rand(3, ws[0]) if with_bias else None
    check(ops.conv2d(x, W, b, **kwargs), ref.conv2d(x, W, b, **kwargs))


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_shift_add_reference_agrees_with_loop_reference(case):
    xs, ws, kwargs, with_bias = CONV_CASES[case]
    x, W = rand(1, *xs), rand(2, *ws)
    b = rand(3, ws[0]) if with_bias else None
    np.testing.assert_allclose(ref.conv2d_shift_add(x, W, b, **kwargs), ref.conv2d(x, W, b, **kwargs),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("budget_rows", [1, 2, 3])
@pytest.mark.parametrize("case", ["stride2-pad1", "dilation2-pad2", "pairs", "groups2",
                                  "depthwise-mult2", "alex-like-stride4", "bias-batch"])
def test_conv2d_in_row_tiles_matches_reference(case, budget_rows, monkeypatch):
    """Shrink the im2col budget so the output is computed a few rows at a time."""
    xs, ws, kwargs, with_bias = CONV_CASES[case]
    x, W = rand(1, *xs), rand(2, *ws)
    b = rand(3, ws[0]) if with_bias else None
    expected = ref.conv2d(x, W, b, **kwargs)
    row_bytes = xs[0] * xs[1] * ws[2] * ws[3] * expected.shape[3] * 4
    monkeypatch.setattr(convolution, "COL_BUDGET", budget_rows * row_bytes)
    check(ops.conv2d(x, W, b, **kwargs), expected)


def test_conv2d_beyond_the_im2col_budget_matches_reference():
    """A patch matrix of about 120 MB: past the 64 MB at which conv2d works in row tiles."""
    x, W, b = rand(30, 1, 16, 160, 160), rand(31, 4, 16, 9, 9, scale=0.1), rand(32, 4)
    y = ops.conv2d(x, W, b, pad=(1, 2), dilation=(1, 2))
    check(y, ref.conv2d_shift_add(x, W, b, pad=(1, 2), dilation=(1, 2)), rtol=1e-4, atol=1e-4)


def test_conv2d_accepts_non_contiguous_views():
    base, Wbase = rand(33, 2, 3, 12, 10), rand(34, 3, 4, 3, 3)
    x = base[:, :, ::2, 1:]                       # strided view
    W = Wbase.transpose(1, 0, 2, 3)               # (4, 3, 3, 3), not C-contiguous
    check(ops.conv2d(x, W, stride=(1, 2), pad=1), ref.conv2d(x, W, stride=(1, 2), pad=1))


def test_conv2d_is_cross_correlation_not_flipped():
    x = np.zeros((1, 1, 3, 3), np.float32)
    x[0, 0, 0, 0] = 1.0
    W = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    y = ops.conv2d(x, W, pad=2)
    # the single 1 at (0, 0) meets W[u, v] at output (2 - u, 2 - v): W appears rotated by 180 degrees
    np.testing.assert_array_equal(y[0, 0, :3, :3], W[0, 0, ::-1, ::-1])


def test_conv2d_does_not_modify_inputs():
    x, W, b = rand(1, 2, 2, 5, 5), rand(2, 3, 2, 3, 3), rand(3, 3)
    copies = [a.copy() for a in (x, W, b)]
    ops.conv2d(x, W, b, pad=1)
    for a, c in zip((x, W, b), copies):
        np.testing.assert_array_equal(a, c)


# ----------------------------------------------------------------------------- max_pool2d
# (x shape, ksize, kwargs)
MAX_CASES = {
    "k2-default-stride-even": ((1, 2, 6, 6), 2, {}),
    "k2-default-stride-odd-cover_all": ((2, 1, 5, 7), 2, {}),
    "k2-default-stride-odd-floor": ((2, 1, 5, 7), 2, dict(cover_all=False)),
    "k3s2-exact": ((1, 2, 7, 7), 3, dict(stride=2)),
    "k3s2-overhang-cover_all": ((1, 2, 8, 8), 3, dict(stride=2)),
    "k3s2-overhang-floor": ((1, 2, 8, 8), 3, dict(stride=2, cover_all=False)),
    "k3s2-pad1": ((2, 2, 6, 5), 3, dict(stride=2, pad=1)),
    "k3s2-pad1-floor": ((2, 2, 6, 5), 3, dict(stride=2, pad=1, cover_all=False)),
    "k3s1-pad1": ((1, 1, 4, 4), 3, dict(stride=1, pad=1)),
    "rect": ((1, 2, 7, 8), (2, 3), dict(stride=(1, 2), pad=(1, 1))),
    "rect-default-stride": ((1, 1, 7, 8), (2, 3), {}),
    "k-equals-input": ((2, 3, 4, 4), 4, {}),
}


@pytest.mark.parametrize("case", sorted(MAX_CASES))
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["mixed", "all-negative"])
def test_max_pool2d_matches_reference(case, sign):
    xs, ksize, kwargs = MAX_CASES[case]
    x = rand(4, *xs)
    if sign < 0:  # all negative: zero padding instead of -inf would show up as zeros
        x = -np.abs(x) - 0.5
    check(ops.max_pool2d(x, ksize, **kwargs), ref.max_pool2d(x, ksize, **kwargs))


def test_max_pool2d_padding_is_minus_infinity_not_zero():
    x = -np.ones((1, 1, 4, 4), np.float32)
    y = ops.max_pool2d(x, 3, stride=2, pad=1)  # (4 + 2 - 3 + 1) // 2 + 1 = 3 with cover_all
    np.testing.assert_array_equal(y, -np.ones((1, 1, 3, 3), np.float32))


def test_max_pool2d_pad_zero_stride_within_window_never_reads_only_overhang():
    # the explorer's pooling (pad 0, stride <= window, cover_all): every output sees real input
    for size in range(3, 12):
        for k in range(1, 4):
            for s in range(1, k + 1):
                x = -np.abs(rand(size, 1, 1, size, size)) - 1.0
                y = ops.max_pool2d(x, k, stride=s)
                assert np.all(y <= -1.0) and np.all(y >= x.min()), (size, k, s)


def test_max_pool2d_window_wholly_in_padding_is_minus_infinity():
    x = np.zeros((1, 1, 1, 1), np.float32)
    y = ops.max_pool2d(x, 3, stride=3, pad=2)   # padded [p p x p p] + overhang: windows [0,3) [3,6)
    assert y.shape == (1, 1, 2, 2)
    assert y[0, 0, 0, 0] == 0.0
    assert y[0, 0, 1, 1] == -np.inf


def test_max_pool2d_stride_defaults_to_ksize():
    x = rand(5, 1, 2, 9, 9)
    np.testing.assert_array_equal(ops.max_pool2d(x, 3), ops.max_pool2d(x, 3, stride=3))
    assert ops.max_pool2d(x, 3).shape == (1, 2, 3, 3)


def test_max_pool2d_cover_all_is_the_default():
    x = rand(6, 1, 1, 8, 8)
    assert ops.max_pool2d(x, 3, stride=2).shape == (1, 1, 4, 4)  # (8 - 3 + 1) // 2 + 1
    assert ops.max_pool2d(x, 3, stride=2, cover_all=False).shape == (1, 1, 3, 3)
    # the extra column reads only input column 6 and 7 (and overhang)
    np.testing.assert_array_equal(ops.max_pool2d(x, 3, stride=2)[0, 0, 0, 3], x[0, 0, 0:3, 6:8].max())


# ----------------------------------------------------------------------------- avg_pool2d
AVG_CASES = {
    "k2-default-stride": ((1, 2, 6, 6), 2, {}),
    "k2-default-stride-odd-floor": ((2, 1, 5, 7), 2, {}),
    "k3s2": ((1, 2, 8, 7), 3, dict(stride=2)),
    "k3s2-pad1": ((2, 2, 6, 5), 3, dict(stride=2, pad=1)),
    "k3s1-pad1": ((1, 1, 4, 4), 3, dict(stride=1, pad=1)),
    "rect": ((1, 2, 7, 8), (2, 3), dict(stride=(1, 2), pad=(1, 1))),
    "k-equals-input": ((2, 3, 4, 4), 4, {}),
}


@pytest.mark.parametrize("case", sorted(AVG_CASES))
def test_avg_pool2d_matches_reference(case):
    xs, ksize, kwargs = AVG_CASES[case]
    x = rand(7, *xs)
    check(ops.avg_pool2d(x, ksize, **kwargs), ref.avg_pool2d(x, ksize, **kwargs))


def test_avg_pool2d_counts_zero_padding_in_the_mean():
    x = np.ones((1, 1, 2, 2), np.float32)
    y = ops.avg_pool2d(x, 3, stride=1, pad=1)
    # every 3x3 window holds the four ones and five zeros of padding: 4/9, not 1
    np.testing.assert_allclose(y, np.full((1, 1, 2, 2), 4 / 9, np.float32), rtol=1e-6)


def test_avg_pool2d_output_size_is_floor():
    assert ops.avg_pool2d(rand(8, 1, 1, 7, 7), 2).shape == (1, 1, 3, 3)
    assert ops.avg_pool2d(rand(8, 1, 1, 8, 7), 3, stride=2).shape == (1, 1, 3, 3)


# ----------------------------------------------------------------------------- batch_norm
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 4, 5), (4, 2, 1, 3)])
def test_batch_norm_inference_form(shape):
    c = shape[1]
    x, gamma, beta = rand(9, *shape, scale=3.0), rand(10, c), rand(11, c)
    mean = rand(12, c)
    var = np.abs(rand(13, c)) + 0.1
    y = ops.batch_norm(x, gamma, beta, mean=mean, var=var)
    check(y, ref.batch_norm(x, gamma, beta, mean, var))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 3), (5, 1, 1, 1), (3, 4, 2, 1)])
def test_batch_norm_batch_statistics_form(shape):
    c = shape[1]
    x = rand(14, *shape, scale=2.0) + 1.5
    gamma, beta = rand(15, c), rand(16, c)
    check(ops.batch_norm(x, gamma, beta), ref.batch_norm(x, gamma, beta), atol=2e-5)


def test_batch_norm_batch_statistics_use_n_h_w_and_biased_variance():
    x = rand(17, 3, 2, 4, 4, scale=5.0) + 2.0
    y = ops.batch_norm(x, np.ones(2, np.float32), np.zeros(2, np.float32)).astype(np.float64)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    # biased variance: the normalised output has variance var/(var + eps), within float32 of 1
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-4)
    # with the unbiased (n - 1) variance it would be (n - 1)/n = 47/48 of that: clearly excluded
    assert abs(y.var(axis=(0, 2, 3)).mean() - 47 / 48) > 1e-2


def test_batch_norm_eps_defaults_to_chainer_2e5():
    x = rand(18, 2, 2, 3, 3)
    gamma, beta = np.ones(2, np.float32), np.zeros(2, np.float32)
    mean = np.zeros(2, np.float32)
    var = np.full(2, 1e-5, np.float32)  # eps matters as much as var here
    y = ops.batch_norm(x, gamma, beta, mean=mean, var=var)
    check(y, ref.batch_norm(x, gamma, beta, mean, var, eps=2e-5), rtol=1e-4)
    y1 = ops.batch_norm(x, gamma, beta, mean=mean, var=var, eps=1e-5)
    check(y1, ref.batch_norm(x, gamma, beta, mean, var, eps=1e-5), rtol=1e-4)


def test_batch_norm_does_not_modify_input():
    x = rand(19, 2, 3, 3, 3)
    copy = x.copy()
    ops.batch_norm(x, np.ones(3, np.float32), np.zeros(3, np.float32))
    ops.batch_norm(x, np.ones(3, np.float32), np.zeros(3, np.float32),
                   mean=np.zeros(3, np.float32), var=np.ones(3, np.float32))
    np.testing.assert_array_equal(x, copy)


# -------------------------------------------------------------------- local_response_norm
@pytest.mark.parametrize("kwargs", [
    {},
    dict(n=3, k=1.0, alpha=0.5, beta=0.6),
    dict(n=1, k=1.0, alpha=1.0, beta=1.0),
    dict(n=9, k=2.0, alpha=1e-3, beta=0.75),   # window wider than the channels
    dict(n=4, k=1.5, alpha=0.01, beta=0.5),    # even n: channels c-2 .. c+2, as in Chainer
], ids=["defaults", "n3", "n1", "n9-wide", "n4-even"])
@pytest.mark.parametrize("shape", [(2, 7, 3, 3), (1, 4, 2, 5), (1, 1, 2, 2)])
def test_local_response_norm_matches_reference(kwargs, shape):
    x = rand(20, *shape, scale=30.0)  # large enough that alpha * sum(x^2) is not negligible next to k
    check(ops.local_response_norm(x, **kwargs), ref.local_response_norm(x, **kwargs), rtol=1e-4)


def test_local_response_norm_window_sum_independent_of_distant_channels():
    x = np.zeros((1, 8, 1, 1), np.float32)
    x[0, 0] = 1e4   # x^2 = 1e8: far outside channel 6's window
    x[0, 6] = 1.0
    y = ops.local_response_norm(x, n=3, k=1.0, alpha=1.0, beta=1.0)
    # channel 6's window is channels 5..7 = {0, 1, 0}: y = 1 / (1 + 1) exactly
    assert float(y[0, 6, 0, 0]) == pytest.approx(0.5, rel=1e-6)


def test_local_response_norm_alpha_is_not_divided_by_n():
    x = np.full((1, 1, 1, 1), 10.0, np.float32)
    y = float(ops.local_response_norm(x)[0, 0, 0, 0])
    assert y == pytest.approx(10.0 / (2.0 + 1e-4 * 100.0) ** 0.75, rel=1e-6)
    assert y != pytest.approx(10.0 / (2.0 + 1e-4 / 5 * 100.0) ** 0.75, rel=1e-6)  # PyTorch's form


def test_local_response_norm_window_is_centred_on_the_channel():
    x = np.zeros((1, 7, 1, 1), np.float32)
    x[0, 3] = 10.0  # only channel 3 is non-zero
    y = ops.local_response_norm(x, n=3, k=1.0, alpha=1.0, beta=1.0)
    # channels 2 and 4 see channel 3 in their window, but are zero themselves
    np.testing.assert_allclose(y[0, :, 0, 0], [0, 0, 0, 10.0 / 101.0, 0, 0, 0], rtol=1e-6)
    y = ops.local_response_norm(x + 1.0, n=3, k=0.0, alpha=1.0, beta=1.0)
    # channel 1: window {0, 1, 2} of ones -> 1/3; channel 2: {1, 2, 3} -> 1/(1 + 1 + 121)
    assert y[0, 1, 0, 0] == pytest.approx(1 / 3, rel=1e-6)
    assert y[0, 2, 0, 0] == pytest.approx(1 / 123, rel=1e-6)
    assert y[0, 0, 0, 0] == pytest.approx(1 / 2, rel=1e-6)  # the window is cut at the edge


# --------------------------------------------------------------------------------- linear
@pytest.mark.parametrize("xs,out,with_bias", [
    ((1, 6), 3, True),
    ((3, 6), 4, True),
    ((2, 3, 2, 2), 5, True),
    ((1, 2, 2, 2), 2, False),
    ((4, 5), 1, False),
])
def test_linear_matches_reference(xs, out, with_bias):
    x = rand(21, *xs)
    W = rand(22, out, int(np.prod(xs[1:])))
    b = rand(23, out) if with_bias else None
    check(ops.linear(x, W, b), ref.linear(x, W, b))


def test_linear_weight_is_out_by_in():
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    W = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)  # (out=2, in=3)
    np.testing.assert_array_equal(ops.linear(x, W, np.array([10.0, 20.0], np.float32)), [[11.0, 23.0]])


# --------------------------------------------------------------------------- softmax, relu
@pytest.mark.parametrize("shape,axis", [((3, 5), 1), ((2, 4, 3), 1), ((2, 4, 3), -1), ((4, 3), 0)])
def test_softmax_matches_reference(shape, axis):
    x = rand(24, *shape, scale=3.0)
    check(ops.softmax(x, axis=axis), ref.softmax(x, axis=axis), atol=1e-6)


def test_softmax_default_axis_is_1():
    x = rand(25, 2, 4, 3)
    np.testing.assert_array_equal(ops.softmax(x), ops.softmax(x, axis=1))


def test_softmax_is_stable_for_large_inputs():
    x = np.array([[1000.0, 1000.0, -1000.0], [-1e4, 0.0, 1e4]], np.float32)
    y = ops.softmax(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], atol=1e-7)


def test_relu_matches_reference_and_keeps_input():
    x = rand(26, 2, 3, 4, 4)
    x[0, 0, 0, :3] = [0.0, -0.0, -1e-30]
    copy = x.copy()
    y = ops.relu(x)
    check(y, ref.relu(x), rtol=0, atol=0)
    np.testing.assert_array_equal(x, copy)
    assert not np.shares_memory(x, y)


# --------------------------------------------------------------------------------- errors
def raises(op_name):
    return pytest.raises(ValueError, match=op_name)


def test_conv2d_wrong_ndim():
    with raises("conv2d"):
        ops.conv2d(rand(0, 3, 5, 5), rand(1, 2, 3, 3, 3))
    with raises("conv2d"):
        ops.conv2d(rand(0, 1, 3, 5, 5), rand(1, 2, 3, 3))


def test_conv2d_channel_mismatch_names_shapes():
    with raises("conv2d") as info:
        ops.conv2d(rand(0, 1, 3, 5, 5), rand(1, 2, 4, 3, 3))
    message = str(info.value)
    assert "(1, 3, 5, 5)" in message and "(2, 4, 3, 3)" in message


@pytest.mark.parametrize("xs,ws,groups", [
    ((1, 3, 5, 5), (4, 1, 3, 3), 2),   # 3 channels do not split in 2
    ((1, 4, 5, 5), (3, 2, 3, 3), 2),   # 3 filters do not split in 2
    ((1, 4, 5, 5), (4, 2, 3, 3), 0),
    ((1, 4, 5, 5), (4, 2, 3, 3), 4),   # 4 groups of 1 channel, but the weight has 2 per group
])
def test_conv2d_bad_groups(xs, ws, groups):
    with raises("conv2d"):
        ops.conv2d(rand(0, *xs), rand(1, *ws), groups=groups)


@pytest.mark.parametrize("xs,ws,kwargs", [
    ((1, 1, 4, 4), (1, 1, 5, 5), {}),
    ((1, 1, 4, 8), (1, 1, 5, 3), {}),                 # too tall, wide enough
    ((1, 1, 3, 3), (1, 1, 3, 3), dict(dilation=2)),   # spans 5
    ((1, 1, 2, 2), (1, 1, 5, 5), dict(pad=1)),        # padded 4 < 5
])
def test_conv2d_kernel_larger_than_padded_input(xs, ws, kwargs):
    with raises("conv2d"):
        ops.conv2d(rand(0, *xs), rand(1, *ws), **kwargs)


def test_conv2d_bias_shape_mismatch():
    with raises("conv2d"):
        ops.conv2d(rand(0, 1, 2, 5, 5), rand(1, 3, 2, 3, 3), rand(2, 4))


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_pooling_errors(op):
    fn = getattr(ops, op)
    with raises(op):
        fn(rand(0, 3, 5, 5), 2)
    with raises(op):
        fn(rand(0, 1, 1, 3, 3), 5, stride=1)


def test_linear_feature_mismatch():
    with raises("linear") as info:
        ops.linear(rand(0, 2, 3, 2, 2), rand(1, 5, 11))
    assert "(5, 11)" in str(info.value)
    with raises("linear"):
        ops.linear(rand(0, 2, 6), rand(1, 6))           # 1-d weight
    with raises("linear"):
        ops.linear(rand(0, 2, 6), rand(1, 3, 6), rand(2, 4))  # bias of the wrong length


@pytest.mark.parametrize("which", ["gamma", "beta", "mean", "var"])
def test_batch_norm_parameter_shape_mismatch(which):
    x = rand(0, 2, 3, 4, 4)
    kw = dict(gamma=np.ones(3, np.float32), beta=np.zeros(3, np.float32),
              mean=np.zeros(3, np.float32), var=np.ones(3, np.float32))
    kw[which] = np.ones(4, np.float32)
    with raises("batch_norm") as info:
        ops.batch_norm(x, kw.pop("gamma"), kw.pop("beta"), **kw)
    assert which in str(info.value)


def test_batch_norm_mean_without_var():
    with raises("batch_norm"):
        ops.batch_norm(rand(0, 2, 3, 2, 2), np.ones(3, np.float32), np.zeros(3, np.float32),
                       mean=np.zeros(3, np.float32))


def test_local_response_norm_wrong_ndim():
    with raises("local_response_norm"):
        ops.local_response_norm(rand(0, 3, 4, 4))


@pytest.mark.parametrize("kwargs", [dict(stride=0), dict(pad=-1), dict(dilation=0),
                                    dict(stride=(1, 0)), dict(pad=(0, -2))])
def test_conv2d_invalid_hyperparameters(kwargs):
    with raises("conv2d"):
        ops.conv2d(rand(0, 1, 2, 5, 5), rand(1, 3, 2, 3, 3), **kwargs)


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("kwargs", [dict(ksize=0), dict(ksize=2, stride=0), dict(ksize=2, pad=-1)])
def test_pooling_invalid_hyperparameters(op, kwargs):
    with raises(op):
        getattr(ops, op)(rand(0, 1, 2, 5, 5), **kwargs)


@pytest.mark.parametrize("kwargs", [dict(stride=(1, 2, 3)), dict(pad=(1,)), dict(dilation=[1, 1, 1])])
def test_conv2d_malformed_pairs_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        ops.conv2d(rand(0, 1, 2, 5, 5), rand(1, 3, 2, 3, 3), **kwargs)
