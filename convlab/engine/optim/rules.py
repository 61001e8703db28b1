"""Chainer's update rules, to the operation (``chainer/optimizers/{sgd,momentum_sgd,adam}.py``,
v7, the CPU kernels), each computing a new array in the parameter's dtype:

- ``SGD(lr=0.01)``: ``W <- W - lr * g``.
- ``MomentumSGD(lr=0.01, momentum=0.9)`` (``train_imagenet.py``'s): ``v <- momentum * v - lr * g``;
  ``W <- W + v``. PyTorch's ``SGD(momentum=mu)`` keeps ``b <- mu * b + g``, ``W <- W - lr * b``:
  ``v = -lr * b``, the same weights while lr is constant.
- ``Adam(alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8)`` (Kingma and Ba 2015):
  ``m <- m + (1 - beta1)(g - m)``, ``v <- v + (1 - beta2)(g^2 - v)``,
  ``lr_t = alpha * sqrt(1 - beta2^t) / (1 - beta1^t)``, ``W <- W - lr_t * m / (sqrt(v) + eps)``.
  PyTorch's ``Adam`` adds ``eps`` to ``sqrt(v) / sqrt(1 - beta2^t)`` instead, which is
  Chainer's rule with ``eps * sqrt(1 - beta2^t)`` in place of ``eps``: a difference that matters
  only where ``sqrt(v)`` is near ``eps``.
"""

from __future__ import annotations

import math

import numpy as np

from convlab.engine.backend import array_module
from convlab.engine.optim import blockwise
from convlab.engine.optim.base import Optimizer, _positive


def _flat(*arrays):
    return [a.reshape(-1) for a in arrays]


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``W <- W - lr * g``."""

    def __init__(self, lr: float = 0.01):
        super().__init__()
        self.lr = _positive("lr", lr)

    @property
    def hyperparams(self):
        return {"lr": self.lr}

    def step(self, param, grad, state, t):
        lr = param.dtype.type(self.lr)
        if not blockwise.applies(param, grad):
            return param - lr * grad
        out = np.empty_like(param)
        p, g, o = _flat(param, grad, out)

        def body(lo, hi, bufs):
            s = np.multiply(lr, g[lo:hi], out=bufs[0])
            np.subtract(p[lo:hi], s, out=o[lo:hi])

        blockwise.run(p.size, body, 1, param.dtype)
        return out


class MomentumSGD(Optimizer):
    """``v <- momentum * v - lr * g``; ``W <- W + v`` (Chainer's ``MomentumSGD``)."""

    slots = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__()
        self.lr = _positive("lr", lr)
        self.momentum = _positive("momentum", momentum, upper=1.0, zero=True)

    @property
    def hyperparams(self):
        return {"lr": self.lr, "momentum": self.momentum}

    def step(self, param, grad, state, t):
        f = param.dtype.type
        mu, lr = f(self.momentum), f(self.lr)
        if not blockwise.applies(param, grad, state["v"]):
            v = state["v"] * mu                        # v *= momentum
            v -= lr * grad                              # v -= lr * grad
            state["v"] = v
            return param + v                            # param += v (a new array)
        out = np.empty_like(param)
        p, g, v, o = _flat(param, grad, state["v"], out)

        def body(lo, hi, bufs):
            vb = v[lo:hi]
            vb *= mu
            vb -= np.multiply(lr, g[lo:hi], out=bufs[0])
            np.add(p[lo:hi], vb, out=o[lo:hi])

        blockwise.run(p.size, body, 1, param.dtype)
        return out


class Adam(Optimizer):
    """Chainer's ``Adam`` (see the module for the rule and how PyTorch's differs)."""

    slots = ("m", "v")

    def __init__(self, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        super().__init__()
        self.alpha = _positive("alpha", alpha)
        self.beta1 = _positive("beta1", beta1, upper=1.0, zero=True)
        self.beta2 = _positive("beta2", beta2, upper=1.0, zero=True)
        self.eps = _positive("eps", eps)

    @property
    def hyperparams(self):
        return {"alpha": self.alpha, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    @property
    def lr(self) -> float:
        """The step size of the last update (Chainer's ``Adam.lr``; ``alpha`` before any)."""
        return self.alpha_t(max(self.t, 1))

    def alpha_t(self, t: int) -> float:
        """``alpha * sqrt(1 - beta2^t) / (1 - beta1^t)`` in double precision, as Chainer."""
        return self.alpha * math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t)

    def step(self, param, grad, state, t):
        xp, f = array_module(param), param.dtype.type
        b1, b2, lr, eps = f(1 - self.beta1), f(1 - self.beta2), f(self.alpha_t(t)), f(self.eps)
        if not blockwise.applies(param, grad, state["m"], state["v"]):
            m = state["m"] + b1 * (grad - state["m"])              # m += (1-b1)(g - m)
            v = state["v"] + b2 * (grad * grad - state["v"])       # v += (1-b2)(g^2 - v)
            state["m"], state["v"] = m, v
            return param - lr * m / (xp.sqrt(v) + eps)
        out = np.empty_like(param)
        p, g, m, v, o = _flat(param, grad, state["m"], state["v"], out)

        def body(lo, hi, bufs):
            s, u = bufs
            mb, vb, gb = m[lo:hi], v[lo:hi], g[lo:hi]
            np.subtract(gb, mb, out=s)
            mb += np.multiply(b1, s, out=s)
            np.multiply(gb, gb, out=s)
            np.subtract(s, vb, out=s)
            vb += np.multiply(b2, s, out=s)
            np.sqrt(vb, out=s)
            s += eps
            np.multiply(lr, mb, out=u)
            np.divide(u, s, out=u)
            np.subtract(p[lo:hi], u, out=o[lo:hi])

        blockwise.run(p.size, body, 2, param.dtype)
        return out
