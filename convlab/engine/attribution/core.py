"""What every gradient view shares: targets, their seeds, a frozen view of the network and the
walk from a target down to the input (or to an inner layer).

A target is ``(layer, channel)``, the sum of that channel's map (for an fc layer, one output),
or ``(layer, channel, i, j)``, one value of the map. Its seed is the cotangent of the layer's
output that picks it: ones on the channel, or one at ``(i, j)``; every image of a batch gets
the same seed, so the gradient of each image is that image's own.
"""

from __future__ import annotations

import copy

import numpy as np

from convlab.engine.backend import to_numpy
from convlab.engine.grad.backprop import run_backward, run_forward
from convlab.engine.nets.network import Network


class AttributionError(ValueError):
    """A target, layer or input that a gradient view cannot use; the text is one sentence."""


def frozen_view(net: Network) -> Network:
    """``net`` with every layer frozen (``disable_update`` on shallow copies): the same weight
    arrays, but the backward walk computes no parameter gradient (for AlexBN at batch 1 those
    are 58 M values written per call). ``net`` itself is left untouched."""
    view = copy.copy(net)
    view.layers = []
    for layer in net.layers:
        shell = copy.copy(layer)
        shell.update_enabled = False
        view.layers.append(shell)
    return view


def as_batch(x) -> tuple[np.ndarray, bool]:
    """``(x as (N, C, H, W) with a float dtype, whether a batch axis was added)``."""
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float32)
    if arr.ndim == 3:
        return arr[None], True
    if arr.ndim != 4:
        raise AttributionError(f"the input must be (C, H, W) or (N, C, H, W), got shape "
                               f"{tuple(arr.shape)}.")
    return arr, False


def output_shapes(net: Network, in_shape, need: str) -> dict:
    """Every layer's output shape (without N) at ``in_shape``; a sentence if the input cannot
    reach layer ``need`` (layers after it may fail: they are not run)."""
    shapes = net.shapes(tuple(in_shape))
    if shapes.get(need, ()) is None:
        failed = next(name for name, shape in shapes.items() if shape is None)
        raise AttributionError(f"an input of {' x '.join(map(str, in_shape))} cannot pass "
                               f"{failed} of {net.name}, so it never reaches {need}.")
    return shapes


def check_target(net: Network, target, in_shape) -> tuple:
    """``(layer, channel, i, j)`` (``i, j`` None for a whole channel) checked against the
    layer's output at ``in_shape``; a sentence saying what is wrong otherwise."""
    if not isinstance(target, (tuple, list)) or len(target) not in (2, 4):
        raise AttributionError(f"a target is (layer, channel) or (layer, channel, i, j), got "
                               f"{target!r}.")
    layer, channel, *where = target
    if layer not in net.layer_names:
        raise AttributionError(f"{layer!r} is not a layer of {net.name}.")
    shape = output_shapes(net, in_shape, layer)[layer]
    if len(shape) not in (1, 3):
        raise AttributionError(f"{layer}'s output {shape} is neither a vector nor C x H x W maps.")
    if not (isinstance(channel, (int, np.integer)) and 0 <= channel < shape[0]):
        raise AttributionError(f"{layer} has channels 0 to {shape[0] - 1}, not {channel!r}.")
    if not where:
        return layer, int(channel), None, None
    if len(shape) == 1:
        raise AttributionError(f"{layer} is a vector: its target is (layer, channel), "
                               "without i, j.")
    i, j = where
    if not all(isinstance(v, (int, np.integer)) for v in (i, j)) or not (
            0 <= i < shape[1] and 0 <= j < shape[2]):
        raise AttributionError(f"{layer}'s maps are {shape[1]} x {shape[2]}: position "
                               f"({i!r}, {j!r}) is outside them.")
    return layer, int(channel), int(i), int(j)


def target_seed(shape, checked, dtype=np.float32) -> np.ndarray:
    """The cotangent of an output ``(N, ...)`` that picks the checked target in every image."""
    _, channel, i, j = checked
    seed = np.zeros(shape, dtype=dtype)
    if i is None:
        seed[:, channel] = 1
    else:
        seed[:, channel, i, j] = 1
    return seed


def walk(net: Network, x, seeds_for, *, upto: str, mode: str = "test", rules=None,
         wanted=(), input_grad: bool = True):
    """Forward up to layer ``upto`` on a frozen view, then backward from
    ``seeds_for(forward_result)`` (a ``{layer: seed}`` dict): the :class:`Gradients`."""
    view = frozen_view(net)
    result, caches, h = run_forward(view, x, mode=mode, upto=view.layer_names.index(upto))
    seeds = {name: view.xp.asarray(s, dtype=result[name].dtype)
             for name, s in seeds_for(result).items()}
    return run_backward(view, result, caches, h, seeds, input_grad=input_grad, wanted=wanted,
                        rules=rules)


def input_gradient(net: Network, x, target, *, mode: str = "test", rules=None) -> np.ndarray:
    """The gradient of the target's value (summed over a channel's map) for the input ``x``,
    shaped like ``x``; ``rules`` replace layer kinds' backward (guided ReLUs)."""
    batch, added = as_batch(x)
    checked = check_target(net, target, batch.shape[1:])
    grads = walk(net, batch, lambda r: {checked[0]: target_seed(r[checked[0]].shape, checked)},
                 upto=checked[0], mode=mode, rules=rules)
    g = to_numpy(grads.input)
    return g[0] if added else g
