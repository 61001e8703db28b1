"""Backpropagation through a network's graph: a mode-aware forward, then the layers in reverse.

Modes (as Chainer's ``chainer.config.train`` and BN's ``use_batch_stats``):

- ``"test"``: BN normalises with its stored averages, dropout is the identity;
- ``"batch"``: BN normalises with the batch's statistics and leaves its averages untouched,
  dropout is the identity;
- ``"train"``: batch statistics, and BN's averages replaced by Chainer's running averages
  (decay 0.9, unbiased variance ``m / (m - 1)``); dropout keeps each value with probability
  ``1 - ratio`` and scales it by ``1 / (1 - ratio)``, masks drawn from ``rng`` in layer order.

The gradient computed is that of ``sum_l sum(seeds[l] * output_l)``; an output read by several
layers gets the sum of their gradients (residual adds, concats, branches).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from convlab.engine.nets.network import ForwardResult, Network
from convlab.engine.ops.loss import check_labels, softmax_cross_entropy_checked

MODES = ("test", "batch", "train")


@dataclass
class Gradients:
    """What :func:`backprop` found. ``params``: ``{"conv1/W": array, ...}`` for every learned
    parameter of every layer that is not frozen (zeros where no seed reaches it); ``input``:
    the gradient for ``x`` (None when not asked for); ``outputs``: ``{layer: gradient of its
    output}`` for every layer the walk reached; ``forward``: the :class:`ForwardResult` it ran
    (up to the last seeded layer); ``loss``: the loss where one was computed; ``seconds``:
    each layer's backward time."""

    params: dict
    input: object
    outputs: dict
    forward: ForwardResult
    loss: float | None = None
    seconds: dict = field(default_factory=dict)


def _generator(rng):
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer, np.random.SeedSequence)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator, a seed or None, got {type(rng).__name__}")


def _param_dtype(net: Network):
    """The dtype of the network's first learned parameter (float32 unless a test made it
    float64); None for a network without any."""
    for layer in net.layers:
        for key in layer.learned:
            if key in layer.params:
                return layer.params[key].dtype
    return None


def _as_input(net: Network, x):
    h = net.xp.asarray(x)
    dtype = _param_dtype(net) or (h.dtype if h.dtype.kind == "f" else np.dtype(np.float32))
    h = h.astype(dtype, copy=False)
    if h.ndim == 3:
        h = h[None]
    if h.ndim != 4:
        raise ValueError(f"the input must be (N, C, H, W) or (C, H, W), got shape {tuple(h.shape)}")
    if h.shape[0] == 0:  # BN's statistics of no values are NaN, and "train" would store them
        raise ValueError(f"the batch is empty: the input has shape {tuple(h.shape)}, with no "
                         "sample to compute a gradient from")
    return h


def run_forward(net: Network, x, *, mode: str = "test", rng=None, upto: int | None = None):
    """``(ForwardResult, caches, input)``: every layer (up to index ``upto``) run with
    ``Layer.forward`` in ``mode``, its cache kept by name. The input is cast to the dtype of
    the network's parameters (float32 as built; float64 where a test made them so; without
    parameters a float input keeps its dtype)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    gen = _generator(rng) if mode == "train" else None
    h = _as_input(net, x)
    values, caches, result = {"input": h}, {}, ForwardResult()
    stop = len(net.layers) if upto is None else upto + 1
    for layer in net.layers[:stop]:
        t0 = time.perf_counter()
        out, caches[layer.name] = layer.forward([values[n] for n in layer.inputs], mode=mode,
                                                rng=gen)
        result.seconds[layer.name] = time.perf_counter() - t0
        values[layer.name] = result[layer.name] = out
    return result, caches, h


def _needed(net: Network, input_grad: bool, wanted=()) -> dict[str, bool]:
    """Which values need a gradient: the input (if asked), the outputs in ``wanted``, and every
    output that a trained parameter or a needed value lies upstream of."""
    need = {"input": bool(input_grad)}
    for layer in net.layers:
        need[layer.name] = (bool(layer.trained()) or layer.name in wanted
                            or any(need[n] for n in layer.inputs))
    return need


def _out_shape(net: Network, h, name: str):
    """``(N, ...)`` of layer ``name``'s output for input ``h``, or None where a layer fails
    (the forward then says why)."""
    shape = net.shapes(tuple(h.shape[1:]))[name]
    return None if shape is None else (h.shape[0], *shape)


def _checked_seeds(net: Network, h, seeds) -> dict:
    """The seeds as arrays in the input's dtype, their shapes checked before anything runs (a
    "train" step must not move BN's averages and then refuse)."""
    if not isinstance(seeds, dict) or not seeds:
        raise ValueError("seeds must be a non-empty {layer name: array} dict")
    out = {}
    for name, seed in seeds.items():
        if name not in net.layer_names:
            raise ValueError(f"there is a seed for {name!r}, which is not a layer of {net.name}")
        g = net.xp.asarray(seed, dtype=h.dtype)
        want = _out_shape(net, h, name)
        if want is not None and tuple(g.shape) != want:
            raise ValueError(f"the seed for {name} has shape {tuple(g.shape)} but its output "
                             f"has {want}")
        out[name] = g
    return out


def run_backward(net: Network, result: ForwardResult, caches: dict, x, seeds: dict, *,
                 input_grad: bool = True, wanted=(), rules: dict | None = None) -> Gradients:
    """Walk the layers run in ``result`` backwards from ``seeds`` (checked cotangents).

    ``wanted``: layer names whose output gradients are wanted even where no parameter or the
    input needs them (a frozen network's inner layer, for Grad-CAM). ``rules``: ``{kind:
    backward}`` used in place of ``Layer.backward`` for layers of that kind, called as
    ``backward(layer, inputs, output, gy, cache, need_inputs=...)`` and returning what
    ``Layer.backward`` returns (guided backpropagation's and the deconvnet's ReLU rules)."""
    values = dict(result, input=x)
    need = _needed(net, input_grad, frozenset(wanted))
    rules = rules or {}
    grads = dict(seeds)
    params, outputs, seconds = {}, {}, {}
    for layer in reversed(net.layers[:len(result)]):
        gy = grads.pop(layer.name, None)
        if gy is None:
            continue
        outputs[layer.name] = gy
        if not need[layer.name]:
            continue
        t0 = time.perf_counter()
        need_in = [need[n] for n in layer.inputs]
        rule = rules.get(layer.kind)
        args = ([values[n] for n in layer.inputs], values[layer.name], gy, caches[layer.name])
        gxs, gps = (layer.backward(*args, need_inputs=need_in) if rule is None
                    else rule(layer, *args, need_inputs=need_in))
        seconds[layer.name] = time.perf_counter() - t0
        for name, g, want in zip(layer.inputs, gxs, need_in):
            if want and g is not None:
                grads[name] = g if name not in grads else grads[name] + g
        params.update({f"{layer.name}/{k}": g for k, g in gps.items()})
    ordered = {}                                   # in layer order; unreached ones are zero
    for layer in net.layers:
        for k in layer.trained():
            key = f"{layer.name}/{k}"
            ordered[key] = params[key] if key in params else net.xp.zeros(
                layer.params[k].shape, x.dtype)
    return Gradients(ordered, grads.get("input") if input_grad else None, outputs, result,
                     seconds=seconds)


def backprop(net: Network, x, seeds: dict, *, mode: str = "test", rng=None,
             input_grad: bool = True, wanted=(), rules: dict | None = None) -> Gradients:
    """The gradients of ``sum_l sum(seeds[l] * output_l)`` (``seeds``: ``{layer name:
    cotangent of its output}``) for ``net``'s trained parameters, its input ``x`` and every
    output on the way. Runs the layers up to the last seeded one, in ``mode`` ("test",
    "batch" or "train"; see the module docstring); ``rng`` (a NumPy Generator or a seed; fresh
    entropy when None) draws "train"'s dropout masks. ``input_grad=False`` skips the input's
    gradient (the first layer's col2im, in training). ``wanted`` and ``rules``: as
    :func:`run_backward`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    h = _as_input(net, x)
    seeds = _checked_seeds(net, h, seeds)
    upto = max(net.layer_names.index(n) for n in seeds)
    result, caches, h = run_forward(net, h, mode=mode, rng=rng, upto=upto)
    return run_backward(net, result, caches, h, seeds, input_grad=input_grad, wanted=wanted,
                        rules=rules)


def loss_and_grads(net: Network, x, labels, *, mode: str = "train", rng=None,
                   input_grad: bool = True) -> tuple[float, Gradients]:
    """``(loss, Gradients)``: Chainer's mean softmax cross entropy of the last layer's output
    (``(N, classes)``) against ``labels`` (``(N,)`` integers, ``-1`` ignored), and its
    gradients as :func:`backprop` gives them (``mode`` "train" by default)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    h = _as_input(net, x)
    last = net.layers[-1].name
    out = _out_shape(net, h, last)
    if out is not None:                              # labels refused before BN's averages move
        labels = check_labels(labels, out, net.xp)
    result, caches, h = run_forward(net, h, mode=mode, rng=rng)
    if out is None:
        labels = check_labels(labels, result[last].shape, net.xp)
    loss, dlogits = softmax_cross_entropy_checked(result[last], labels)
    grads = run_backward(net, result, caches, h, {last: dlogits}, input_grad=input_grad)
    grads.loss = float(loss)
    return grads.loss, grads
