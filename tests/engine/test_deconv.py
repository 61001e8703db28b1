"""ops.deconv2d (Chainer's F.deconvolution_2d) against a scatter loop and PyTorch's conv_transpose2d."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.engine import ops
from convlab.engine.arithmetic import conv_out_size, deconv_out_size, deconv_outsize_range

from . import reference as ref

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def deconv_cases(draw):
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    full_h, full_w = sh * (h - 1) + dh * (kh - 1) + 1, sw * (w - 1) + dw * (kw - 1) + 1
    ph, pw = draw(st.integers(0, (full_h - 1) // 2)), draw(st.integers(0, (full_w - 1) // 2))
    extra = (draw(st.integers(0, sh - 1)), draw(st.integers(0, sw - 1)))
    seed = draw(st.integers(0, 2**32 - 1))
    return dict(n=draw(st.integers(1, 2)), groups=groups, c_in=c_in, c_out=c_out, hw=(h, w),
                k=(kh, kw), stride=(sh, sw), pad=(ph, pw), dilation=(dh, dw), extra=extra,
                bias=draw(st.booleans()), seed=seed)


def arrays(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c_in"]) + case["hw"]).astype(np.float32)
    W = rng.standard_normal((case["c_in"], case["c_out"] // case["groups"]) + case["k"]).astype(np.float32)
    b = rng.standard_normal(case["c_out"]).astype(np.float32) if case["bias"] else None
    return x, W, b


def outsize_of(case):
    return tuple(deconv_out_size(case["hw"][a], case["k"][a], case["stride"][a], case["pad"][a],
                                 case["dilation"][a]) + case["extra"][a] for a in (0, 1))


@SETTINGS
@given(case=deconv_cases())
def test_deconv2d_matches_the_scatter_loop(case):
    x, W, b = arrays(case)
    outsize = outsize_of(case) if any(case["extra"]) else None
    kw = dict(stride=case["stride"], pad=case["pad"], dilation=case["dilation"], groups=case["groups"])
    y = ops.deconv2d(x, W, b, outsize=outsize, **kw)
    expected = ref.deconv2d(x, W, b, outsize=outsize, **kw)
    assert y.dtype == np.float32 and y.shape == expected.shape
    assert y.shape[2:] == outsize_of(case)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@SETTINGS
@given(case=deconv_cases())
def test_deconv2d_matches_torch_conv_transpose2d(case):
    torch = pytest.importorskip("torch")
    x, W, b = arrays(case)
    kw = dict(stride=case["stride"], padding=case["pad"], dilation=case["dilation"],
              groups=case["groups"])
    expected = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x), torch.from_numpy(W), None if b is None else torch.from_numpy(b),
        output_padding=case["extra"], **kw).numpy()
    y = ops.deconv2d(x, W, b, stride=case["stride"], pad=case["pad"], dilation=case["dilation"],
                     groups=case["groups"], outsize=outsize_of(case))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@SETTINGS
@given(case=deconv_cases())
def test_deconv2d_is_the_adjoint_of_conv2d(case):
    """<conv2d(y, W), x> == <y, deconv2d(x, W)>: the transpose, for the same k, s, p, d, groups."""
    x, W, _ = arrays(case)
    kw = dict(stride=case["stride"], pad=case["pad"], dilation=case["dilation"], groups=case["groups"])
    out_hw = outsize_of(case)
    y = np.random.default_rng(case["seed"] + 1).standard_normal(
        (case["n"], case["c_out"]) + out_hw).astype(np.float64)
    # the deconvolution's (in, out/groups, k) is the (out, in/groups, k) of a conv from out to in
    down = ops.conv2d(y, W.astype(np.float64), **kw)
    assert down.shape == x.shape
    up = ops.deconv2d(x.astype(np.float64), W.astype(np.float64), outsize=out_hw, **kw)
    assert np.vdot(down, x) == pytest.approx(np.vdot(y, up), rel=1e-9, abs=1e-9)


@given(size=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 5), d=st.integers(1, 3),
       p=st.integers(0, 6))
@settings(max_examples=200, deadline=None)
def test_deconv_out_size_is_inverted_by_conv_out_size(size, k, s, d, p):
    try:
        allowed = deconv_outsize_range(size, k, s, p, d)
    except ValueError as exc:
        assert s * (size - 1) + d * (k - 1) + 1 - 2 * p < 1 and str(exc).endswith(".")
        return
    assert allowed.start == s * (size - 1) + d * (k - 1) + 1 - 2 * p
    for out in allowed:
        assert conv_out_size(out, k, s, p, d) == size
    assert len(allowed) == s


def test_deconv2d_refuses_bad_arguments_with_the_op_named():
    x = np.zeros((1, 4, 3, 3), np.float32)
    with pytest.raises(ValueError, match="deconv2d.*channels"):
        ops.deconv2d(x, np.zeros((3, 2, 2, 2), np.float32))
    with pytest.raises(ValueError, match="deconv2d.*groups"):
        ops.deconv2d(x, np.zeros((4, 2, 2, 2), np.float32), groups=3)
    with pytest.raises(ValueError, match="deconv2d.*bias"):
        ops.deconv2d(x, np.zeros((4, 2, 2, 2), np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="deconv2d: outsize 9"):
        ops.deconv2d(x, np.zeros((4, 2, 2, 2), np.float32), stride=2, outsize=9)
    with pytest.raises(ValueError, match="deconv2d.*padding"):
        ops.deconv2d(x, np.zeros((4, 2, 2, 2), np.float32), pad=3)


def test_deconv2d_known_small_case():
    """One input pixel stamps the kernel; two pixels at stride 2 overlap by one column."""
    x = np.array([[[[1.0, 2.0]]]], np.float32)                       # (1, 1, 1, 2)
    W = np.array([[[[1.0, 10.0, 100.0]]]], np.float32)               # (1, 1, 1, 3)
    y = ops.deconv2d(x, W, stride=2)
    np.testing.assert_array_equal(y, [[[[1.0, 10.0, 102.0, 20.0, 200.0]]]])
    np.testing.assert_array_equal(ops.deconv2d(x, W, stride=2, pad=(0, 1)), [[[[10.0, 102.0, 20.0]]]])
