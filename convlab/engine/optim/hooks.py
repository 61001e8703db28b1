"""Optimizer hooks: called as ``hook(key, param, grad) -> grad`` before each parameter's step.

``WeightDecay(rate)`` is Chainer's ``optimizer_hooks.WeightDecay`` (L2 regularisation, timing
"pre"): ``g <- g + rate * W``, for every learned parameter (biases and BN's gamma and beta too,
as in Chainer). It equals PyTorch's ``weight_decay=rate`` for SGD, momentum SGD and Adam (not
AdamW's decoupled decay).
"""

from __future__ import annotations

from convlab.engine.optim.base import _positive


class WeightDecay:
    """``g <- g + rate * W`` (a new array; the gradient handed in is left as it was)."""

    name = "WeightDecay"

    def __init__(self, rate: float):
        self.rate = _positive("rate", rate, zero=True)

    def __call__(self, key, param, grad):
        if self.rate == 0:
            return grad
        return grad + param.dtype.type(self.rate) * param

    def __repr__(self) -> str:
        return f"WeightDecay({self.rate})"
