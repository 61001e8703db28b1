"""Optimizers against Chainer's update rules written out by hand in float64 NumPy (five steps,
with weight decay), and their contract: new frozen arrays, frozen layers skipped, state that
resumes bit for bit, one-sentence refusals, and no stale Winograd transforms after an update."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.nets import Network
from convlab.engine.ops import conv as convolution
from convlab.engine.optim import SGD, Adam, MomentumSGD, OptimizerError, WeightDecay

from .optim_helpers import fake_grads, params_of, small_net

RATE = 5e-4


def reference_run(kind: str, steps: int = 5, **hp):
    """Chainer's rules in float64 on the same gradients: {key: final value}."""
    net = small_net()
    p = {k: v.astype(np.float64) for k, v in params_of(net).items()}
    state = {k: [np.zeros_like(v), np.zeros_like(v)] for k, v in p.items()}
    for t in range(1, steps + 1):
        for layer in net.layers:                       # the gradients see the current weights
            for key in layer.learned:
                layer.params[key] = p[f"{layer.name}/{key}"].astype(np.float32)
        grads = fake_grads(net, t)
        for k in p:
            g = grads[k].astype(np.float64) + RATE * p[k]          # WeightDecay: g += rate * W
            if kind == "sgd":
                p[k] = p[k] - hp["lr"] * g
            elif kind == "momentum":
                state[k][0] = hp["momentum"] * state[k][0] - hp["lr"] * g
                p[k] = p[k] + state[k][0]
            else:
                m, v = state[k]
                m = m + (1 - hp["beta1"]) * (g - m)
                v = v + (1 - hp["beta2"]) * (g * g - v)
                state[k] = [m, v]
                lr_t = hp["alpha"] * math.sqrt(1 - hp["beta2"] ** t) / (1 - hp["beta1"] ** t)
                p[k] = p[k] - lr_t * m / (np.sqrt(v) + hp["eps"])
    return p


CASES = [("sgd", SGD, {"lr": 0.1}),
         ("momentum", MomentumSGD, {"lr": 0.05, "momentum": 0.9}),
         ("adam", Adam, {"alpha": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8})]


def run(cls, hp, steps=5, net=None, opt=None, first=1):
    net = net or small_net()
    if opt is None:
        opt = cls(**hp).setup(net)
        opt.add_hook(WeightDecay(RATE))
    for t in range(first, first + steps):
        opt.update(fake_grads(net, t))
    return net, opt


@pytest.mark.parametrize("kind, cls, hp", CASES, ids=[c[0] for c in CASES])
def test_five_steps_follow_chainers_rule(kind, cls, hp):
    net, _ = run(cls, hp)
    want = reference_run(kind, **hp)
    got = params_of(net)
    start = params_of(small_net())
    for k in want:
        assert np.abs(got[k] - want[k]).max() < 1e-6, k
        assert np.abs(got[k] - start[k]).max() > 1e-3, k           # and it did move


def test_adam_step_size_is_chainers_alpha_t():
    opt = Adam(alpha=0.001).setup(small_net())
    assert opt.alpha_t(1) == pytest.approx(0.001 * math.sqrt(1 - 0.999) / (1 - 0.9))
    assert opt.alpha_t(1000) == pytest.approx(0.001 * math.sqrt(1 - 0.999 ** 1000) / (1 - 0.9 ** 1000))


def test_defaults_are_chainers():
    assert SGD().lr == 0.01
    assert (MomentumSGD().lr, MomentumSGD().momentum) == (0.01, 0.9)
    a = Adam()
    assert (a.alpha, a.beta1, a.beta2, a.eps) == (0.001, 0.9, 0.999, 1e-8)


@pytest.mark.parametrize("cls, hp", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_update_replaces_each_weight_with_a_new_frozen_array(cls, hp):
    net = small_net()
    before = {f"{l.name}/{k}": l.params[k] for l in net.layers for k in l.learned}
    copies = {k: np.array(v) for k, v in before.items()}
    grads = fake_grads(net, 1)
    grad_copies = {k: v.copy() for k, v in grads.items()}
    cls(**hp).setup(net).update(grads)
    for layer in net.layers:
        for key in layer.learned:
            name = f"{layer.name}/{key}"
            new = layer.params[key]
            assert new is not before[name] and not new.flags.writeable
            np.testing.assert_array_equal(before[name], copies[name])   # old arrays untouched
            np.testing.assert_array_equal(grads[name], grad_copies[name])


def test_running_averages_are_not_touched():
    net = small_net()
    mean, var = net["bn1"].params["avg_mean"], net["bn1"].params["avg_var"]
    run(SGD, {"lr": 0.1}, net=net)
    assert net["bn1"].params["avg_mean"] is mean and net["bn1"].params["avg_var"] is var


def test_a_layer_whose_updates_are_disabled_keeps_its_weights():
    net = small_net()
    net["conv1"].disable_update()
    W, b = net["conv1"].params["W"], net["conv1"].params["b"]
    run(MomentumSGD, {"lr": 0.1}, net=net)           # conv1's gradients are given, and ignored
    assert net["conv1"].params["W"] is W and net["conv1"].params["b"] is b
    assert not np.array_equal(net["fc2"].params["W"], small_net()["fc2"].params["W"])


def test_adam_counts_steps_per_parameter_as_chainer():
    """A parameter frozen for the first two steps starts its bias correction at t=1."""
    net = small_net()
    opt = Adam(alpha=0.01).setup(net)
    net["fc2"].disable_update()
    for t in (1, 2):
        opt.update(fake_grads(net, t))
    net["fc2"].enable_update()
    start = np.array(net["fc2"].params["W"])
    g = fake_grads(net, 3)["fc2/W"]
    opt.update(fake_grads(net, 3))
    assert opt.t == 3 and opt.state_dict()["fc2/W/t"] == 1 and opt.state_dict()["conv1/W/t"] == 3
    m, v = 0.1 * g.astype(np.float64), 0.001 * g.astype(np.float64) ** 2
    want = start - opt.alpha_t(1) * m / (np.sqrt(v) + 1e-8)
    assert np.abs(net["fc2"].params["W"] - want).max() < 1e-6


@pytest.mark.parametrize("cls, hp", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_state_resumes_bit_for_bit(cls, hp, tmp_path):
    whole, _ = run(cls, hp, steps=5)
    net, opt = run(cls, hp, steps=3)
    np.savez(tmp_path / "opt.npz", **opt.state_dict())
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as f:
        state = dict(f)
    resumed = small_net()
    for layer in resumed.layers:
        layer.params.update({k: net[layer.name].params[k] for k in layer.learned})
    opt2 = cls(**hp).setup(resumed)
    opt2.add_hook(WeightDecay(RATE))
    opt2.load_state_dict(state)
    run(cls, hp, steps=2, net=resumed, opt=opt2, first=4)
    for k, v in params_of(whole).items():
        np.testing.assert_array_equal(params_of(resumed)[k], v)


def test_state_that_does_not_fit_is_refused_whole():
    net, opt = run(MomentumSGD, {"lr": 0.1}, steps=2)
    state = opt.state_dict()
    other = MomentumSGD().setup(small_net())
    bad = dict(state, **{"fc2/W/v": np.zeros((3, 3), np.float32)})
    with pytest.raises(OptimizerError, match="fc2/W/v"):
        other.load_state_dict(bad)
    with pytest.raises(OptimizerError, match="no place"):
        Adam().setup(small_net()).load_state_dict(dict(state, **{"conv1/W/x": state["conv1/W/v"]}))
    assert other.t == 0 and other.state == {}


@pytest.mark.parametrize("make, words", [
    (lambda: SGD(lr=-1), "lr must satisfy 0 < lr"),
    (lambda: SGD(lr="fast"), "lr must be a number"),
    (lambda: MomentumSGD(momentum=1.0), "momentum must satisfy 0 <= momentum < 1"),
    (lambda: Adam(beta2=float("nan")), "beta2"),
    (lambda: WeightDecay(-0.1), "rate"),
    (lambda: SGD().update({}), "call setup"),
    (lambda: SGD().setup(small_net()).update({"conv9/W": np.zeros(1)}), "conv9/W"),
    (lambda: SGD().setup(small_net()).update({"conv1/W": np.zeros(1, np.float32)}), "conv1/W"),
    (lambda: SGD().setup(small_net()).update([1, 2]), "Gradients or a dict"),
    (lambda: SGD().setup("net"), "needs a Network"),
])
def test_refusals_are_one_sentence(make, words):
    with pytest.raises(OptimizerError) as info:
        make()
    text = str(info.value)
    assert words in text and "\n" not in text and text.endswith(".")


def test_gradients_object_is_accepted():
    class Gradients:  # the shape of convlab.engine.grad.Gradients that update reads
        def __init__(self, params):
            self.params = params

    a, b = small_net(), small_net()
    SGD(lr=0.1).setup(a).update(Gradients(fake_grads(a, 1)))
    SGD(lr=0.1).setup(b).update(fake_grads(b, 1))
    for k, v in params_of(a).items():
        np.testing.assert_array_equal(v, params_of(b)[k])


def test_winograd_never_serves_a_stale_transform(monkeypatch):
    """A 3x3 stride-1 conv with 16 channels runs on the Winograd path, whose transformed
    weights are cached by the weight array's identity: after an update the output must be the
    new weights' (checked against the im2col path), not the cached old transform's."""
    from convlab.engine.ops import winograd

    monkeypatch.setattr(convolution, "CONV_PATH", "winograd")
    spec = {"name": "w", "input_shape": [16, 10, 10], "layers": [
        {"name": "conv1", "kind": "conv", "in_channels": 16, "out_channels": 16, "ksize": 3,
         "pad": 1}]}
    net = Network.from_spec(spec, seed=3, xp=np)
    x = np.random.default_rng(0).standard_normal((2, 16, 10, 10)).astype(np.float32)
    seen = []
    real = winograd.conv
    monkeypatch.setattr(winograd, "conv", lambda *a, **k: (seen.append(1), real(*a, **k))[1])
    before = net.forward(x)["conv1"]
    SGD(lr=0.5).setup(net).update({"conv1/W": np.ones((16, 16, 3, 3), np.float32)})
    after = net.forward(x)["conv1"]
    assert len(seen) == 2                              # both forwards took the Winograd path
    layer = net["conv1"]
    monkeypatch.setattr(convolution, "CONV_PATH", "direct")
    want = ops.conv2d(x, layer.params["W"], layer.params["b"], pad=1)
    assert np.abs(after - before).max() > 1.0
    np.testing.assert_allclose(after, want, atol=1e-4)


def test_adam_adds_eps_to_sqrt_v_as_chainer_not_as_pytorch():
    """With a gradient of 1e-7, sqrt(v) is near eps: Chainer's placement and PyTorch's differ by
    a factor of about 2.5 in the step, and ConvLab takes Chainer's."""
    net = small_net()
    opt = Adam(alpha=0.01).setup(net)
    start = np.array(net["fc2"].params["b"], dtype=np.float64)
    g = np.full(5, 1e-7, np.float32)
    opt.update({"fc2/b": g})
    m, v, bc1, bc2 = 0.1 * 1e-7, 0.001 * 1e-14, 0.1, 0.001
    chainer = start - 0.01 * math.sqrt(bc2) / bc1 * m / (math.sqrt(v) + 1e-8)
    pytorch = start - 0.01 / bc1 * m / (math.sqrt(v) / math.sqrt(bc2) + 1e-8)
    got = net["fc2"].params["b"]
    np.testing.assert_allclose(got, chainer, rtol=0, atol=1e-7)
    assert np.abs(got - pytorch).min() > 1e-4


@pytest.mark.parametrize("kind, cls, hp", CASES, ids=[c[0] for c in CASES])
def test_updates_stay_on_the_device_with_the_cupy_double(kind, cls, hp):
    from convlab.engine.backend import array_module, to_numpy

    from . import fakecupy
    from .optim_helpers import SPEC

    host, _ = run(cls, hp, steps=2)
    with fakecupy.installed() as cp:
        net = Network.from_spec(SPEC, seed=0, xp=cp)
        start = small_net()
        for layer in net.layers:
            for key in layer.learned:
                layer.params[key] = cp.asarray(start[layer.name].params[key])
        opt = cls(**hp).setup(net)
        opt.add_hook(WeightDecay(RATE))
        for t in (1, 2):
            for layer in start.layers:       # the host copy follows, for the next gradients
                for key in layer.learned:
                    layer.params[key] = to_numpy(net[layer.name].params[key])
            grads = {k: cp.asarray(v) for k, v in fake_grads(start, t).items()}
            fakecupy.reset_pulls()
            opt.update(grads)
            assert fakecupy.pulls == 0
        for layer in net.layers:
            for key in layer.learned:
                value = layer.params[key]
                assert array_module(value) is cp
                np.testing.assert_allclose(to_numpy(value), host[layer.name].params[key],
                                           rtol=1e-6, atol=1e-7)
        assert all(array_module(v) is np for v in opt.state_dict().values())


@pytest.mark.parametrize("source, target", [(MomentumSGD, Adam), (SGD, MomentumSGD),
                                            (SGD, Adam)], ids=["momentum-adam", "sgd-momentum",
                                                               "sgd-adam"])
def test_the_state_of_another_rule_is_refused(source, target):
    """MomentumSGD's velocity 'v' loaded into Adam became Adam's second moment (negative, so
    sqrt gave NaN weights); SGD's state (step counts only) loaded into MomentumSGD or Adam
    restarted their moments at zero as if they had taken no step. Both were accepted silently."""
    _, opt = run(source, {}, steps=2)
    other = target().setup(small_net())
    with pytest.raises(OptimizerError) as info:
        other.load_state_dict(opt.state_dict())
    text = str(info.value)
    assert "\n" not in text and text.endswith(".") and "conv1/W" in text
    assert other.t == 0 and other.state == {} and other.steps == {}
