"""The training step's faster paths against the plain ones they replace.

- ``conv2d_backward``'s input gradient by Winograd (a stride-1 convolution of ``gy`` with the
  turned, swapped weights) against the im2col GEMM and col2im (``CONV_PATH = "direct"``), and
  against float64; the padding may be asymmetric; a padding wider than ``k - 1`` keeps col2im.
- Winograd's weight transform (two GEMMs) against ``G W G^T`` in float64.
- The optimizers' blockwise rules (blocks, threads, state in place) against the array
  expressions they replace, bit for bit, with tiny blocks and several threads.
"""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.backend import freeze
from convlab.engine.ops import conv as convolution
from convlab.engine.ops import conv_grad, winograd
from convlab.engine.optim import SGD, Adam, MomentumSGD, WeightDecay, blockwise

from .optim_helpers import fake_grads, params_of, small_net


def _case(rng, n, c, h, o, k, pad):
    x = rng.standard_normal((n, c, h, h + 1)).astype(np.float32)
    W = freeze((rng.standard_normal((o, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32))
    y = convolution.conv2d(x, W, pad=pad)
    return x, W, rng.standard_normal(y.shape).astype(np.float32)


@pytest.mark.parametrize("n, c, h, o, k, pad", [     # output maps of >= PER_SAMPLE_P positions
    (2, 16, 17, 24, 3, 1), (3, 20, 16, 16, 5, 2), (1, 16, 18, 16, 3, 0),
    (2, 16, 19, 17, 5, ((0, 4), (3, 1))), (2, 32, 16, 16, 3, ((2, 0), (1, 2)))])
def test_winograd_input_gradient_matches_col2im(monkeypatch, n, c, h, o, k, pad):
    x, W, gy = _case(np.random.default_rng(c * h + k), n, c, h, o, k, pad)
    calls = []
    real = winograd.conv
    monkeypatch.setattr(winograd, "conv", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    gx, gW, gb = conv_grad.conv2d_backward(x, W, gy, pad=pad)
    assert calls, "the input gradient did not take the Winograd path"
    exact = conv_grad.conv2d_backward(x.astype(np.float64), W.astype(np.float64),
                                      gy.astype(np.float64), pad=pad)
    monkeypatch.setattr(convolution, "CONV_PATH", "direct")
    direct = conv_grad.conv2d_backward(x, W, gy, pad=pad)
    assert gx.dtype == np.float32 and gx.shape == x.shape
    scale = np.abs(exact[0]).max()
    assert np.abs(gx - exact[0]).max() <= 2e-5 * scale
    assert np.abs(direct[0] - exact[0]).max() <= 2e-5 * scale
    w_scale = np.abs(exact[1]).max()
    assert np.abs(gW - exact[1]).max() <= 5e-5 * w_scale              # Winograd's domain
    assert np.abs(direct[1] - exact[1]).max() <= 1e-5 * w_scale       # GEMMs
    np.testing.assert_array_equal(gb, direct[2])


@pytest.mark.parametrize("n, c, hw, o, k, pad", [
    (2, 16, (9, 10), 24, 3, 1), (3, 20, (16, 16), 16, 5, 2), (1, 16, (7, 7), 16, 3, 0),
    (2, 16, (19, 13), 17, 5, ((0, 4), (3, 1))), (8, 32, (13, 13), 48, 3, ((2, 0), (1, 2)))])
def test_winograd_weight_gradient_matches_float64(monkeypatch, n, c, hw, o, k, pad):
    """The weight gradient in Winograd's domain (AlexBN's conv2-conv5 and LeNet's conv2 take
    it): within 5e-5 of the largest value of the float64 GEMM result, on any map size."""
    from convlab.engine.ops import winograd_grad

    rng = np.random.default_rng(n * c + k)
    x = rng.standard_normal((n, c, *hw)).astype(np.float32)
    W = freeze((rng.standard_normal((o, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32))
    gy = rng.standard_normal(convolution.conv2d(x, W, pad=pad).shape).astype(np.float32)
    calls = []
    real = winograd_grad.weight_grad
    monkeypatch.setattr(winograd_grad, "weight_grad", lambda *a: calls.append(1) or real(*a))
    gW = conv_grad.conv2d_backward(x, W, gy, pad=pad, need_x=False, need_b=False)[1]
    assert calls and gW.dtype == np.float32 and gW.shape == W.shape
    exact = conv_grad.conv2d_backward(x.astype(np.float64), W.astype(np.float64),
                                      gy.astype(np.float64), pad=pad, need_x=False)[1]
    assert np.abs(gW - exact).max() <= 5e-5 * np.abs(exact).max()
    monkeypatch.setattr(winograd_grad, "BAND_BYTES", 1)               # one tile row a band
    banded = conv_grad.conv2d_backward(x, W, gy, pad=pad, need_x=False, need_b=False)[1]
    assert np.abs(banded - exact).max() <= 5e-5 * np.abs(exact).max()


@pytest.mark.parametrize("why, kw, side", [("stride", dict(stride=2, pad=1), 34),
                                           ("dilation", dict(dilation=2, pad=2), 18),
                                           ("padding wider than k - 1", dict(pad=3), 18),
                                           ("a small map", dict(pad=1), 12)])
def test_input_gradient_keeps_col2im_where_winograd_does_not_fit(monkeypatch, why, kw, side):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 16, side, side)).astype(np.float32)
    W = freeze(rng.standard_normal((16, 16, 3, 3)).astype(np.float32))
    y = convolution.conv2d(x, W, **kw)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    monkeypatch.setattr(winograd, "conv", lambda *a, **k: pytest.fail(f"Winograd with {why}"))
    gx = conv_grad.conv2d_backward(x, W, gy, need_W=False, need_b=False, **kw)[0]
    exact = conv_grad.conv2d_backward(x.astype(np.float64), W.astype(np.float64),
                                      gy.astype(np.float64), need_W=False, need_b=False, **kw)[0]
    assert np.abs(gx - exact).max() <= 1e-5 * np.abs(exact).max()


@pytest.mark.parametrize("n, c, hw, o, kw", [
    (5, 4, (7, 6), 6, dict(stride=(2, 1), pad=((1, 0), (0, 1)), dilation=(1, 2), groups=2)),
    (3, 6, (9, 9), 9, dict(stride=1, pad=1, groups=3)),
    (4, 3, (12, 10), 5, dict(stride=(1, 3), pad=((2, 1), (0, 3)), dilation=(2, 1))),
    (2, 16, (12, 12), 16, dict(pad=1)),
    (2, 32, (9, 9), 8, dict(pad=1, groups=2))])            # thin: gW as col @ gy^T per group
def test_folded_batch_gradients_equal_the_per_sample_ones(monkeypatch, n, c, hw, o, kw):
    """Maps under PER_SAMPLE_P positions fold the batch into the GEMMs; a threshold of 0 takes
    the per-sample GEMMs: both within float32 rounding of the float64 result."""
    rng = np.random.default_rng(n * c)
    x = rng.standard_normal((n, c, *hw)).astype(np.float32)
    W = freeze(rng.standard_normal((o, c // kw.get("groups", 1), 3, 3)).astype(np.float32))
    gy = rng.standard_normal(convolution.conv2d(x, W, **kw).shape).astype(np.float32)
    calls = []
    real = conv_grad._folded_grad
    monkeypatch.setattr(conv_grad, "_folded_grad", lambda *a: calls.append(1) or real(*a))
    folded = conv_grad.conv2d_backward(x, W, gy, **kw)
    assert calls
    exact = conv_grad.conv2d_backward(*(a.astype(np.float64) for a in (x, W, gy)), **kw)
    monkeypatch.setattr(conv_grad, "PER_SAMPLE_P", 0)
    calls.clear()
    per_sample = conv_grad.conv2d_backward(x, W, gy, **kw)
    assert not calls
    for got_f, got_s, want in zip(folded, per_sample, exact):
        scale = np.abs(want).max()
        assert np.abs(got_f - want).max() <= 1e-5 * scale
        assert np.abs(got_s - want).max() <= 1e-5 * scale


@pytest.mark.parametrize("k", [3, 5])
def test_weight_transform_is_g_w_g_transposed(k):
    W = np.random.default_rng(k).standard_normal((24, 17, k, k)).astype(np.float32)
    g = winograd.transforms(k)[1].astype(np.float64)
    a = g.shape[0]
    exact = np.einsum("ai,kcij,bj->abkc", g, W.astype(np.float64), g).reshape(a * a, 24, 17)
    u = winograd.transform_weights(W)
    assert u.dtype == np.float32 and u.shape == (a * a, 24, 17)
    assert np.abs(u - exact).max() <= 1e-6 * np.abs(exact).max()


RULES = [(SGD, {"lr": 0.1}), (MomentumSGD, {"lr": 0.05, "momentum": 0.9}),
         (Adam, {"alpha": 0.01})]


def _five_steps(cls, hp):
    net = small_net()
    opt = cls(**hp).setup(net).add_hook(WeightDecay(5e-4))
    for t in range(1, 6):
        opt.update(fake_grads(net, t))
    return params_of(net), opt.state_dict()


@pytest.mark.parametrize("cls, hp", RULES)
def test_blockwise_rules_give_the_bits_of_the_array_expressions(monkeypatch, cls, hp):
    monkeypatch.setattr(blockwise, "applies", lambda *a: False)
    plain = _five_steps(cls, hp)
    monkeypatch.undo()
    ran = []
    real_run = blockwise.run
    monkeypatch.setattr(blockwise, "run", lambda *a, **k: ran.append(1) or real_run(*a, **k))
    monkeypatch.setattr(blockwise, "BLOCK", 7)               # blocks end mid-row
    monkeypatch.setattr(blockwise, "MIN_PARALLEL", 1)        # and run on three threads
    monkeypatch.setattr(blockwise, "workers", lambda: 3)
    blocked = _five_steps(cls, hp)
    assert ran
    for part_plain, part_blocked in zip(plain, blocked):
        assert part_plain.keys() == part_blocked.keys()
        for key in part_plain:
            np.testing.assert_array_equal(part_plain[key], part_blocked[key], err_msg=key)


def test_blockwise_update_never_writes_the_gradients_or_the_old_weights():
    net = small_net()
    opt = MomentumSGD(lr=0.1).setup(net)
    grads = fake_grads(net, 1)
    before = {k: v.copy() for k, v in grads.items()}
    old = {f"{l.name}/{k}": l.params[k] for l in net.layers for k in l.learned}
    old_copies = {k: v.copy() for k, v in old.items()}
    for _ in range(2):
        opt.update(grads)
    for key in grads:
        np.testing.assert_array_equal(grads[key], before[key])
        np.testing.assert_array_equal(old[key], old_copies[key])


def test_loaded_state_is_copied_not_shared():
    net = small_net()
    opt = MomentumSGD(lr=0.1).setup(net)
    opt.update(fake_grads(net, 1))
    state = opt.state_dict()
    kept = {k: v.copy() for k, v in state.items()}
    other = MomentumSGD(lr=0.1).setup(net)
    other.load_state_dict(state)
    other.update(fake_grads(net, 2))
    for key in state:
        np.testing.assert_array_equal(state[key], kept[key])


@pytest.mark.parametrize("shape, ksize, kw", [
    ((8, 12, 15, 15), 3, dict(stride=2)),                                  # AlexBN's pools
    ((4, 20, 12, 12), 2, dict(stride=2)),                                  # LeNet's
    ((2, 40, 9, 12), 3, dict(stride=3)),                                   # tiles, 3 x 3
    ((2, 35, 4, 6), 2, dict()),                                            # tiles, stride None
    ((2, 40, 9, 11), (3, 2), dict(stride=(2, 3), pad=((1, 0), (2, 1)))),
    ((3, 30, 7, 7), 3, dict(stride=1, pad=1, cover_all=False)),
    ((2, 33, 10, 13), 4, dict(stride=3, cover_all=True))])
@pytest.mark.parametrize("values", ["normal", "ties", "infinite", "nan", "tie and nan"])
def test_channels_last_max_pool_gradient_is_the_argmax_one(monkeypatch, shape, ksize, kw, values):
    """Routing by ``x == y`` over channels-last planes gives the bits of the argmax routing:
    ties to the first in scan order, ``-inf`` inputs, and non-finite ``gy`` (the masked
    product would spread NaN)."""
    from convlab.engine.ops import max_pool2d, pool_grad

    monkeypatch.setattr(pool_grad, "TRANSPOSE_PLANES", 7)     # blocks that end mid-batch
    monkeypatch.setattr(pool_grad, "TRANSPOSE_ROWS", 3)
    rng = np.random.default_rng(shape[1])
    x = rng.standard_normal(shape).astype(np.float32)
    if values == "ties":
        x = rng.integers(0, 3, shape).astype(np.float32)
        x[0, 0] = -np.inf
    if values == "tie and nan":   # one window with two maxima, another with none equal to y
        x[0, 0, 0, :2] = 9.0
    if values in ("nan", "tie and nan"):
        x[-1, -1, -1, -1] = x[0, 1, 1, 1] = np.nan
    y = max_pool2d(x, ksize, **kw)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    if values == "infinite":
        gy[0, 0, 0, 0], gy[-1, -1, -1, -1], gy[1, 2, 0, 1] = np.inf, -np.inf, np.nan
    calls = []
    for name in ("_routed_channels_last", "_routed_tiles"):
        real = getattr(pool_grad, name)
        monkeypatch.setattr(pool_grad, name, lambda *a, real=real, name=name:
                            calls.append((name, real(*a))) or calls[-1][1])
    routed = pool_grad.max_pool2d_backward(x, gy, ksize, y=y, **kw)
    used = [name for name, out in calls if out is not None]
    tiles = kw.get("stride", ksize) in (ksize, (ksize, ksize)) and not kw.get("pad") and \
        shape[2] % ksize == 0 and shape[3] % ksize == 0
    if "nan" in values:    # x == y holds nowhere in a NaN window: the argmax routes it
        assert not calls
    else:
        assert used, "no fast route was taken"
        assert used[0] == ("_routed_tiles" if tiles and values != "ties"
                           else "_routed_channels_last")
    by_argmax = pool_grad.max_pool2d_backward(x, gy, ksize, **kw)
    np.testing.assert_array_equal(routed, by_argmax)
    assert np.signbit(routed).sum() == np.signbit(by_argmax).sum()      # no stray -0.0


def test_winograd_input_gradient_leaves_the_callers_weights_writeable():
    """A 1 x 1 kernel's turned view can be the very array: the copy must be a copy."""
    rng = np.random.default_rng(3)
    for w_shape in ((1, 16, 1, 1), (16, 1, 1, 1), (24, 16, 3, 3)):
        W = rng.standard_normal(w_shape).astype(np.float32)
        x = rng.standard_normal((2, w_shape[1], 16, 16)).astype(np.float32)
        gy = rng.standard_normal((2, w_shape[0], 19 - w_shape[2], 19 - w_shape[2]))
        conv_grad.conv2d_backward(x, W, gy.astype(np.float32), pad=1)
        assert W.flags.writeable
