"""Input-gradient views: saliency, SmoothGrad, guided backpropagation and the deconvnet.

Each returns an array shaped like ``x``: the gradient of the target's value (a channel's map
summed, or one value; see :mod:`convlab.engine.attribution.core`) with respect to the input,
through the network's own backward, with ReLU's backward rule replaced where the method says:

==================  =====================================================  ======================
method              ReLU backward, ``y = max(x, 0)``                       source
==================  =====================================================  ======================
saliency            ``gx = gy * [y > 0]``                                  Simonyan et al., 2014
guided backprop     ``gx = gy * [y > 0] * [gy > 0]``                       Springenberg et al., 2015
deconvnet           ``gx = gy * [gy > 0]`` (the forward's sign ignored)    Zeiler & Fergus, 2014
==================  =====================================================  ======================

SmoothGrad (Smilkov et al., 2017) averages the saliency of ``n`` noisy copies,
``x + N(0, (sigma * (max x - min x))^2)``, drawn from ``seed``.
"""

from __future__ import annotations

import numpy as np

from convlab.engine.attribution.core import AttributionError, as_batch, input_gradient


def guided_relu(layer, inputs, output, gy, cache, *, need_inputs=None):
    """Guided backpropagation's ReLU: ``gx = gy * [y > 0] * [gy > 0]`` (Springenberg et al.,
    "Striving for simplicity", 2015, eq. for "guided backpropagation")."""
    return [gy * ((output > 0) & (gy > 0))], {}


def deconvnet_relu(layer, inputs, output, gy, cache, *, need_inputs=None):
    """Zeiler & Fergus's deconvnet ReLU ("Visualizing and understanding convolutional
    networks", 2014, sec. 2.1 "Rectification"): ``gx = max(gy, 0)``, whatever the forward's
    input was."""
    return [gy * (gy > 0)], {}


GUIDED = {"relu": guided_relu}
DECONVNET = {"relu": deconvnet_relu}


def saliency(net, x, target, *, mode: str = "test") -> np.ndarray:
    """Simonyan et al. (2014): ``d target / d x``, shaped like ``x`` (``mode``: BN's "test"
    averages or the "batch" statistics, as :func:`convlab.engine.grad.backprop`)."""
    return input_gradient(net, x, target, mode=mode)


def guided_backprop(net, x, target, *, mode: str = "test") -> np.ndarray:
    """Springenberg et al. (2015): the gradient with guided ReLUs (:func:`guided_relu`)."""
    return input_gradient(net, x, target, mode=mode, rules=GUIDED)


def deconvnet(net, x, target, *, mode: str = "test") -> np.ndarray:
    """Zeiler & Fergus (2014): the target projected back to pixels with deconvnet ReLUs
    (:func:`deconvnet_relu`); max pooling's switches are the forward's argmax, as theirs."""
    return input_gradient(net, x, target, mode=mode, rules=DECONVNET)


def smoothgrad(net, x, target, *, n: int = 16, sigma: float = 0.15, seed: int = 0,
               mode: str = "test", should_stop=None) -> np.ndarray:
    """Smilkov et al. (2017): ``(1/n) sum_k saliency(x + eps_k)``, ``eps_k ~ N(0, s^2)`` with
    ``s = sigma * (max x - min x)`` (their 10-20 %), drawn from ``seed``: the same seed gives
    the same bits. ``should_stop()`` (optional) is asked between samples; a stopped run
    returns the mean of the samples done."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise AttributionError(f"SmoothGrad needs n >= 1 samples, got {n!r}.")
    if not (isinstance(sigma, (int, float)) and np.isfinite(sigma) and sigma >= 0):
        raise AttributionError(f"SmoothGrad's sigma must be a number >= 0, got {sigma!r}.")
    batch, added = as_batch(x)
    rng = np.random.default_rng(seed)
    spread = float(batch.max() - batch.min()) * sigma
    total, done = np.zeros(batch.shape, dtype=np.float64), 0
    for _ in range(int(n)):
        if should_stop is not None and done and should_stop():
            break
        noisy = (batch + rng.normal(0.0, spread, batch.shape)).astype(batch.dtype)
        total += input_gradient(net, noisy, target, mode=mode)
        done += 1
    mean = (total / done).astype(batch.dtype)
    return mean[0] if added else mean
