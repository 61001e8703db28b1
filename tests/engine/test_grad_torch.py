"""ConvLab's gradients against PyTorch autograd (skipped where torch is not installed, as in CI).

Every layer kind in all three modes, in float64, on the finite-difference cases and on seeded
random networks (shapes, strides, asymmetric paddings, dilations, groups, batch sizes): the
forward outputs, the input's, every parameter's and every layer output's gradients, dropout
against ConvLab's own masks, and BN's running averages after a "train" step against PyTorch's
(``momentum=0.1``). AlexBN end to end in float32: the loss and every parameter's gradient
within 1e-4 of the largest value.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from convlab.engine.grad import backprop, loss_and_grads  # noqa: E402
from convlab.engine.grad.backprop import run_forward  # noqa: E402
from convlab.engine.nets import build_network  # noqa: E402

from .gradcheck import make_net, random_net  # noqa: E402
from .test_grad_kinds import CASES  # noqa: E402
from .torch_ref import TorchRun  # noqa: E402

MODES = ["test", "batch", "train"]


def _masks(net, x, mode, seed):
    """The dropout masks a run with ``rng=seed`` draws (BN's averages restored after)."""
    saved = [(layer, dict(layer.params)) for layer in net.layers]
    _, caches, _ = run_forward(net, x, mode=mode, rng=seed)
    for layer, params in saved:
        layer.params = params
    return {layer.name: caches[layer.name] for layer in net.layers
            if layer.kind == "dropout" and caches[layer.name] is not None}


def _close(what, got, want, rel):
    want = want.detach().numpy() if hasattr(want, "detach") else want
    scale = max(1.0, float(np.abs(want).max(initial=0)))
    err = float(np.abs(np.asarray(got) - want).max(initial=0))
    assert err <= rel * scale, f"{what}: off by {err:.3g} (largest value {scale:.3g})"


def compare(net, x, mode, *, seed=0, rel=1e-9):
    """Seed every layer's output at once; compare all of it with PyTorch."""
    masks = _masks(net, x, mode, seed)
    ref = TorchRun(net, x, mode, masks)
    rng = np.random.default_rng(seed)
    seeds = {name: rng.standard_normal(tuple(out.shape)) for name, out in ref.outputs.items()}
    sum(float(0) + (out * torch.tensor(seeds[name])).sum() for name, out in ref.outputs.items()
        ).backward()
    grads = backprop(net, x, seeds, mode=mode, rng=seed)
    for name, out in ref.outputs.items():
        _close(f"{name} output", grads.forward[name], out, rel)
        _close(f"{name} output gradient", grads.outputs[name], out.grad, rel)
    _close("input gradient", grads.input, ref.input.grad, rel)
    assert set(grads.params) == set(ref.params)
    for key, leaf in ref.params.items():
        _close(key, grads.params[key], leaf.grad, rel)
    for name, (mean, var) in ref.running.items():
        _close(f"{name} avg_mean", net[name].params["avg_mean"], mean, rel)
        _close(f"{name} avg_var", net[name].params["avg_var"], var, rel)
    return grads


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_kind_matches_torch(case, mode):
    layers, shape, batch = CASES[case]
    net = make_net(layers, shape, seed=len(case))
    x = np.random.default_rng(len(case)).standard_normal((batch, *shape))
    compare(net, x, mode, seed=5)


@pytest.mark.parametrize("seed", range(12))
def test_random_networks_match_torch(seed):
    rng = np.random.default_rng(seed)
    net, shape = random_net(rng)
    x = rng.standard_normal((int(rng.integers(1, 5)), *shape))
    for mode in MODES:
        if mode != "test" and x.shape[0] == 1 and net.shapes()["c1"][1:] == (1, 1):
            continue                                 # one value per channel: no batch variance
        compare(net, x, mode, seed=seed)


@pytest.mark.parametrize("mode", MODES)
def test_alexbn_end_to_end_float32(mode):
    net = build_network("alexbn", seed=2)
    x = np.random.default_rng(2).standard_normal((2, 3, 227, 227)).astype(np.float32)
    labels = np.array([7, 420])
    masks = _masks(net, x, mode, 3)
    ref = TorchRun(net, x, mode, masks)
    torch_loss = torch.nn.functional.cross_entropy(ref.outputs["fc8"], torch.tensor(labels))
    torch_loss.backward()
    loss, grads = loss_and_grads(net, x, labels, mode=mode, rng=3)
    assert loss == pytest.approx(torch_loss.detach().item(), rel=1e-4)
    assert set(grads.params) == set(ref.params) and len(grads.params) == 20
    for key, leaf in ref.params.items():
        _close(key, grads.params[key], leaf.grad, 1e-4)
    for name, (mean, var) in ref.running.items():
        _close(f"{name} avg_var", net[name].params["avg_var"], var, 1e-4)
