"""Every layer kind's backward against central finite differences in float64 (input, parameter
and intermediate-output gradients), over strides, paddings (asymmetric too), dilations, groups
and batch sizes. These need nothing but NumPy and run everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.grad import backprop
from convlab.engine.layers import KINDS

from .gradcheck import check, make_net, random_net


def conv(name, c_out, k, **kw):
    return {"name": name, "kind": "conv", "out_channels": c_out, "ksize": k, **kw}


C1 = conv("c1", 4, 3, pad=1)

CASES = {
    # convolution: stride, padding (asymmetric), dilation, groups, rectangular kernels, no bias
    "conv": ([conv("c", 4, 3)], (3, 6, 5), 2),
    "conv_stride_pad": ([conv("c", 4, 3, stride=2, pad=1)], (3, 7, 6), 3),
    "conv_asym_dilate": ([conv("c", 5, 3, pad=[[0, 1], [2, 0]], dilation=[2, 1])], (3, 7, 6), 2),
    "conv_groups": ([conv("c", 4, [2, 3], groups=2, stride=[1, 2], nobias=True)], (4, 5, 7), 2),
    "conv_depthwise": ([conv("c", 4, 3, groups=4, pad=[1, 0], stride=3, dilation=2)], (4, 8, 9), 1),
    "conv_pad_past_kernel": ([conv("c", 3, [1, 2], pad=[[2, 1], [0, 3]])], (2, 4, 5), 2),
    "conv_chain": ([C1, conv("c2", 3, 2, stride=2)], (2, 6, 6), 2),
    # transposed convolution
    "deconv": ([{"name": "d", "kind": "deconv", "out_channels": 3, "ksize": 3, "stride": 2,
                 "pad": 1}], (4, 3, 4), 2),
    "deconv_groups_outsize": ([{"name": "d", "kind": "deconv", "out_channels": 4, "ksize": [2, 3],
                                "stride": 2, "groups": 2, "dilation": [1, 2],
                                "pad": 1, "outsize": [5, 10]}], (4, 3, 4), 2),
    # normalisation and activations
    "bn": ([C1, {"name": "bn", "kind": "bn"}], (3, 4, 4), 3),
    "relu": ([C1, {"name": "r", "kind": "relu"}], (3, 4, 5), 2),
    "lrn": ([C1, {"name": "n", "kind": "lrn", "alpha": 0.5, "k": 1.0, "n": 3}], (3, 4, 4), 2),
    "lrn_chainer_defaults": ([conv("c1", 7, 1), {"name": "n", "kind": "lrn"}], (2, 3, 3), 2),
    "leaky_relu": ([C1, {"name": "l", "kind": "leaky_relu", "alpha": 0.2}], (3, 4, 4), 2),
    "clip": ([C1, {"name": "l", "kind": "clip", "min": -0.3, "max": 0.4}], (3, 4, 4), 2),
    "clip_one_side": ([C1, {"name": "l", "kind": "clip", "min": 0.1}], (3, 4, 4), 2),
    "sigmoid": ([C1, {"name": "s", "kind": "sigmoid"}], (3, 4, 4), 2),
    "softmax": ([C1, {"name": "s", "kind": "softmax"}], (3, 3, 4), 2),
    "softmax_axis3": ([C1, {"name": "s", "kind": "softmax", "axis": 3}], (3, 3, 4), 2),
    "softmax_flat": ([C1, {"name": "s", "kind": "softmax", "axis": 2, "flat": True}], (3, 3, 4), 2),
    # pooling
    "max_cover_all": ([C1, {"name": "p", "kind": "pool", "ksize": 3, "stride": 2}], (3, 8, 7), 2),
    "max_floor_pad": ([C1, {"name": "p", "kind": "pool", "ksize": 3, "stride": 2, "pad": 1,
                            "cover_all": False}], (3, 7, 8), 2),
    "max_asym": ([C1, {"name": "p", "kind": "pool", "ksize": [2, 3], "stride": [1, 2],
                       "pad": [[1, 0], [0, 1]]}], (3, 5, 6), 2),
    "avg_chainer": ([C1, {"name": "p", "kind": "pool", "mode": "avg", "ksize": 3, "stride": 2,
                          "pad": 1}], (3, 7, 6), 2),
    "avg_cover_all": ([C1, {"name": "p", "kind": "pool", "mode": "avg", "ksize": 3, "stride": 2,
                            "cover_all": True}], (3, 8, 8), 2),
    "avg_exclude_pad_asym": ([C1, {"name": "p", "kind": "pool", "mode": "avg", "ksize": 2,
                                   "stride": 2, "pad": [[1, 0], [0, 1]],
                                   "count_include_pad": False}], (3, 5, 5), 2),
    "global_avg": ([C1, {"name": "p", "kind": "pool", "mode": "avg", "ksize": [4, 5],
                         "cover_all": False}], (3, 4, 5), 3),
    "global_max": ([C1, {"name": "p", "kind": "pool", "ksize": [4, 5], "cover_all": False}],
                   (3, 4, 5), 3),
    # dense and layout
    "fc": ([C1, {"name": "f", "kind": "fc", "out_size": 5}], (2, 3, 3), 3),
    "fc_nobias_batch1": ([{"name": "f", "kind": "fc", "out_size": 4, "nobias": True}], (2, 2, 3), 1),
    "dropout": ([C1, {"name": "d", "kind": "dropout", "ratio": 0.3}], (3, 4, 4), 2),
    "flatten": ([C1, {"name": "fl", "kind": "flatten"}, {"name": "f", "kind": "fc", "out_size": 3}],
                (2, 3, 3), 2),
    "flatten_axis2": ([C1, {"name": "fl", "kind": "flatten", "axis": 2}], (2, 3, 3), 2),
    "reshape": ([C1, {"name": "r", "kind": "reshape", "shape": [2, 2, 12]}], (3, 3, 4), 2),
    "transpose": ([C1, {"name": "t", "kind": "transpose", "perm": [0, 3, 1, 2]}], (3, 3, 4), 2),
    "channel_shuffle": ([conv("c1", 6, 1), {"name": "s", "kind": "channel_shuffle", "groups": 2}],
                        (2, 3, 3), 2),
    "identity": ([C1, {"name": "i", "kind": "identity"}], (2, 3, 3), 2),
    # several inputs and stored constants
    "add_broadcast": ([C1, {"name": "g", "kind": "pool", "mode": "avg", "ksize": [3, 4]},
                       {"name": "a", "kind": "add", "inputs": ["c1", "g", "c1"]}], (2, 3, 4), 2),
    "concat": ([C1, conv("c2", 2, 1, inputs="input"),
                {"name": "k", "kind": "concat", "inputs": ["c1", "c2", "c1"]}], (2, 3, 3), 2),
    "concat_axis3": ([C1, {"name": "k", "kind": "concat", "axis": 3, "inputs": ["c1", "input"]}],
                     (4, 3, 3), 2),
    "mul": ([C1, conv("c2", 4, 1, inputs="input"),
             {"name": "m", "kind": "mul", "shape": [4, 1, 1], "inputs": ["c1", "c2", "c1"]}],
            (2, 3, 3), 2),
    "add_const": ([C1, {"name": "a", "kind": "add_const", "shape": [1, 3, 1]}], (2, 3, 3), 2),
    "matmul_const": ([C1, {"name": "m", "kind": "matmul", "shape": [4, 2]}], (2, 3, 4), 2),
    "matmul_const_first": ([C1, {"name": "m", "kind": "matmul", "shape": [5, 3],
                                 "constant_first": True}], (2, 3, 4), 2),
    "matmul_two": ([C1, {"name": "t", "kind": "transpose", "perm": [0, 1, 3, 2]},
                    {"name": "m", "kind": "matmul", "inputs": ["c1", "t"]}], (2, 3, 4), 2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_kind_matches_finite_differences(case):
    layers, shape, batch = CASES[case]
    net = make_net(layers, shape, seed=len(case))
    x = np.random.default_rng(len(case)).standard_normal((batch, *shape))
    mode = "train" if case == "dropout" else "test"
    check(net, x, mode=mode, seed=3)


@pytest.mark.parametrize("mode", ["test", "batch", "train"])
def test_bn_in_every_mode(mode):
    layers = [conv("c1", 3, 3, pad=[[1, 0], [0, 1]]), {"name": "bn", "kind": "bn"},
              {"name": "r", "kind": "relu"}, conv("c2", 2, 1)]
    net = make_net(layers, (2, 4, 4), seed=7)
    x = np.random.default_rng(7).standard_normal((3, 2, 4, 4))
    grads = check(net, x, mode=mode, seed=1)
    assert set(grads.params) == {"c1/W", "c1/b", "bn/gamma", "bn/beta", "c2/W", "c2/b"}


@pytest.mark.parametrize("seed", range(6))
def test_random_networks_match_finite_differences(seed):
    """Seeded random geometry: strides, asymmetric paddings, dilations, groups, batch sizes."""
    rng = np.random.default_rng(seed)
    net, shape = random_net(rng, act="leaky_relu")
    x = rng.standard_normal((int(rng.integers(2, 4)), *shape))
    for mode in ("test", "batch", "train"):
        check(net, x, mode=mode, seed=seed)


def test_every_registered_kind_is_covered():
    covered = {layer["kind"] for layers, _, _ in CASES.values() for layer in layers}
    assert set(KINDS) <= covered, f"kinds without a gradient check: {set(KINDS) - covered}"


def test_max_pooling_ties_go_to_the_first_in_scan_order():
    """Chainer's CPU argmax: row by row, left to right, within each window."""
    net = make_net([{"name": "p", "kind": "pool", "ksize": 2, "stride": 1, "cover_all": False}],
                   (1, 3, 3))
    x = np.array([[[[5.0, 5.0, 5.0], [5.0, 5.0, 3.0], [2.0, 5.0, 5.0]]]])   # every window ties
    grads = backprop(net, x, {"p": np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])})
    np.testing.assert_array_equal(grads.input[0, 0], [[1, 10, 0], [100, 1000, 0], [0, 0, 0]])


def test_conv_backward_in_batch_chunks_is_the_same(monkeypatch):
    """A budget of one sample per chunk gives the same gradients as the whole batch at once."""
    from convlab.engine.ops import conv_grad

    rng = np.random.default_rng(0)
    x, W = rng.standard_normal((5, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    gy = rng.standard_normal((5, 6, 3, 5))                  # OH = (7 + 1 - 3) // 2 + 1, OW 5
    kw = dict(stride=(2, 1), pad=((1, 0), (0, 1)), dilation=(1, 2), groups=2)
    whole = conv_grad.conv2d_backward(x, W, gy, **kw)
    monkeypatch.setattr(conv_grad, "GRAD_COL_BUDGET", 1)
    for a, b in zip(whole, conv_grad.conv2d_backward(x, W, gy, **kw)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
