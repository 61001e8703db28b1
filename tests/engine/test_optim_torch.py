"""Five steps of each optimizer, with weight decay, against ``torch.optim`` on the same
gradients: within 1e-5 of the largest parameter.

Chainer's MomentumSGD (``v <- mu v - lr g; W <- W + v``) and PyTorch's SGD with momentum
(``b <- mu b + g; W <- W - lr b``) give the same weights at a constant rate. Chainer's Adam adds
``eps`` to ``sqrt(v)``, PyTorch's to ``sqrt(v) / sqrt(1 - beta2^t)``; with these gradients
``sqrt(v)`` is far above ``eps``, so the two agree to float32 rounding (the exact Chainer rule is
checked against NumPy in test_optim.py). Chainer's WeightDecay hook (``g += rate W``) is
PyTorch's ``weight_decay``.
"""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine.optim import SGD, Adam, MomentumSGD, WeightDecay

from .optim_helpers import fake_grads, params_of, small_net

torch = pytest.importorskip("torch")

RATE = 5e-4
CASES = [
    ("sgd", lambda: SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=RATE)),
    ("momentum", lambda: MomentumSGD(lr=0.05, momentum=0.9),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=RATE)),
    ("adam", lambda: Adam(alpha=0.01), lambda p: torch.optim.Adam(
        p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=RATE)),
]


@pytest.mark.parametrize("make, make_torch", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_five_steps_equal_torch_optim(make, make_torch):
    net = small_net()
    opt = make().setup(net)
    opt.add_hook(WeightDecay(RATE))
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params_of(net).items()}
    topt = make_torch(list(tensors.values()))
    for t in range(1, 6):
        grads = fake_grads(net, t)                    # from ConvLab's current weights
        for k, tensor in tensors.items():
            np.testing.assert_allclose(tensor.detach().numpy(), params_of(net)[k], atol=1e-5)
            tensor.grad = torch.tensor(grads[k])
        topt.step()
        opt.update(grads)
    start = params_of(small_net())
    for k, tensor in tensors.items():
        got, want = params_of(net)[k], tensor.detach().numpy()
        scale = max(np.abs(want).max(), 1.0)
        assert np.abs(got - want).max() <= 1e-5 * scale, k
        assert np.abs(got - start[k]).max() > 1e-3, k
