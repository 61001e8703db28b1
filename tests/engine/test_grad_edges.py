"""Edges of the backward pass found in review (issue 21): an empty batch, and dropout ratios
that Chainer's ``F.dropout`` refuses."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.grad import backprop, loss_and_grads
from convlab.engine.nets import Network

LAYERS = [{"name": "c1", "kind": "conv", "out_channels": 4, "ksize": 3, "pad": 1},
          {"name": "bn", "kind": "bn"}, {"name": "fl", "kind": "flatten"},
          {"name": "fc", "kind": "fc", "out_size": 3}]


def _net(layers=LAYERS):
    return Network.from_spec({"name": "t", "input_shape": [3, 6, 5], "layers": layers}, seed=3,
                             xp=np)


@pytest.mark.parametrize("mode", ["test", "batch", "train"])
def test_an_empty_batch_is_refused_before_bn_averages_move(mode):
    """N = 0: one sentence, and BN's averages untouched (a "train" step over no samples made
    them NaN, then failed in a later layer with NumPy's own message)."""
    net = _net()
    before = {k: np.array(v) for k, v in net["bn"].params.items()}
    x = np.zeros((0, 3, 6, 5), np.float32)
    with pytest.raises(ValueError, match="batch is empty") as info:
        loss_and_grads(net, x, np.zeros((0,), np.int64), mode=mode)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="batch is empty"):
        backprop(net, x, {"bn": np.zeros((0, 4, 6, 5), np.float32)}, mode=mode)
    for key, value in before.items():
        np.testing.assert_array_equal(net["bn"].params[key], value, err_msg=key)


@pytest.mark.parametrize("ratio,words", [
    (1.0, r"dropout ratio must be in \[0, 1\)"), (1.5, r"dropout ratio must be in \[0, 1\)"),
    (-0.1, r"dropout ratio must be in \[0, 1\)"),
    (float("nan"), r"ratio must be a finite number"),  # refused where every number is read
])
def test_a_dropout_ratio_outside_0_1_is_refused(ratio, words):
    """Chainer: ``ratio must be >= 0 and < 1``; 1.0 zeroed every value (and gradient) and a
    negative ratio scaled the whole layer down silently in "train" mode."""
    layers = [*LAYERS, {"name": "dr", "kind": "dropout", "ratio": ratio}]
    with pytest.raises(ValueError, match=words):
        _net(layers)


def test_add_broadcasts_when_a_later_input_is_the_largest():
    """``add`` of (4, 1, 1), (4, 1, 1) and (4, 5, 5): the shapes say (4, 5, 5), but the forward
    added the third input in place into the first two's (N, 4, 1, 1) sum and failed."""
    from .gradcheck import check, make_net

    layers = [{"name": "c1", "kind": "conv", "out_channels": 4, "ksize": 1},
              {"name": "gp", "kind": "pool", "mode": "avg", "ksize": 5},
              {"name": "a", "kind": "add", "inputs": ["gp", "gp", "c1"]}]
    net = make_net(layers, (3, 5, 5), seed=2)
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 5))
    grads = check(net, x, seed=1)
    assert grads.forward["a"].shape == (2, 4, 5, 5)
