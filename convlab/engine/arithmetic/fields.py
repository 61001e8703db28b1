"""Receptive fields: the input box that one output position sees through a stack of sliding
windows (:func:`receptive_field`) or through a network's graph (:func:`network_field`), unclipped
(padding included) and clipped (the pixels that can actually reach it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlab.engine.arithmetic.sizes import Window, conv_out_size, deconv_out_size, pair


def check_position(op: str, shape, where: dict):
    """Raise ValueError unless every index in ``where`` lies inside ``shape`` (in that order)."""
    for (name, value), size in zip(where.items(), shape):
        if not 0 <= value < size:
            raise ValueError(f"{op}: {name}={value} is outside the output's 0..{size - 1}")


# ------------------------------------------------------------------------------ receptive field
@dataclass(frozen=True)
class Box:
    """Rows ``top..bottom-1``, columns ``left..right-1``; empty when bottom <= top or right <= left."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return max(0, self.bottom - self.top)

    @property
    def width(self) -> int:
        return max(0, self.right - self.left)

    @property
    def empty(self) -> bool:
        return self.height == 0 or self.width == 0


@dataclass(frozen=True)
class Field(Box):
    """The unclipped receptive field (it may reach outside the input, into the padding), with
    ``clipped``: the box of the input pixels that can actually reach the position, and ``jump``
    ``(h, w)``: how far it moves in input pixels per output step."""

    clipped: Box = Box(0, 0, 0, 0)
    jump: tuple[float, float] = (1.0, 1.0)


class _Axis:
    """One axis of a field on its way down: the positions reached, unclipped (``reach``, which
    may lie in the padding or beyond) and clipped (``inside``), as sorted unique int arrays."""

    def __init__(self, reach: np.ndarray, inside: np.ndarray, jump: float):
        self.reach, self.inside, self.jump = reach, inside, jump

    @staticmethod
    def _down(positions, k, s, before, d, transposed):
        taps = d * np.arange(k)[None, :]
        if not transposed:        # output t reads input t*s - before + u*d
            return np.unique(positions[:, None] * s - before + taps)
        num = positions[:, None] + before - taps      # transposed: q*s - before + u*d = o
        return np.unique(num[num % s == 0] // s)

    def back(self, n_in: int, k: int, s: int, before: int, d: int, transposed: bool) -> "_Axis":
        """Through one layer, from its output to its input of length ``n_in``."""
        inside = self._down(self.inside, k, s, before, d, transposed)
        inside = inside[(inside >= 0) & (inside < n_in)]
        reach = self._down(self.reach, k, s, before, d, transposed)
        return _Axis(reach, inside, self.jump / s if transposed else self.jump * s)


def _start(i: int, j: int) -> tuple[_Axis, _Axis]:
    return _Axis(np.array([i]), np.array([i]), 1.0), _Axis(np.array([j]), np.array([j]), 1.0)


def _back(axes, window: Window, in_hw) -> tuple[_Axis, _Axis]:
    return tuple(axes[a].back(in_hw[a], window.kernel[a], window.stride[a], window.pad[a][0],
                              window.dilation[a], window.transposed) for a in (0, 1))


def _reaches(axes) -> bool:
    return all(len(a.inside) for a in axes)


def _union(mine, theirs):
    """Two-axis union; a path that reaches no input pixel adds nothing to the clipped sets."""
    if theirs is None:
        return mine
    use_mine, use_theirs = _reaches(mine), _reaches(theirs)
    out = []
    for m, t in zip(mine, theirs):
        inside = [a.inside for a, use in ((m, use_mine), (t, use_theirs)) if use]
        out.append(_Axis(np.union1d(m.reach, t.reach),
                         np.unique(np.concatenate(inside)) if inside else m.inside[:0],
                         max(m.jump, t.jump)))
    return tuple(out)


def _hull(positions) -> tuple[int, int]:
    return (int(positions[0]), int(positions[-1]) + 1) if len(positions) else (0, 0)


def _field(axes) -> Field:
    (top, bottom), (left, right) = (_hull(a.reach) for a in axes)
    if _reaches(axes):
        (ct, cb), (cl, cr) = (_hull(a.inside) for a in axes)
        clipped = Box(ct, cl, cb, cr)
    else:
        clipped = Box(0, 0, 0, 0)
    return Field(top, left, bottom, right, clipped, (axes[0].jump, axes[1].jump))


def receptive_field(layers, i: int, j: int, input_hw) -> Field:
    """The input box output ``(i, j)`` of the last layer sees. ``layers``, from the input up:
    ``(kernel, stride, pad, dilation)`` tuples (ints, ``(h, w)`` pairs; pad also
    ``((top, bottom), (left, right))``), with an optional fifth ``cover_all``, or
    :class:`~convlab.engine.arithmetic.Window` objects.

    Traced tap by tap, layer by layer down (output ``t`` reads ``t*s - top + u*d``). Unclipped:
    the bounding box of every position reached, padding included; for sliding windows it is
    ``[a*s - top, (b - 1)*s - top + d(k - 1) + 1)`` for outputs ``[a, b)``, of size ``rf`` as in
    :class:`~convlab.engine.arithmetic.ReceptiveField`. Clipped: the bounding box of the input
    pixels connected to ``(i, j)``, clipped to each layer's input on the way down (padding
    carries nothing). A transposed convolution whose stride exceeds its kernel can leave a
    position without any input: both boxes are then empty.
    """
    windows = [w if isinstance(w, Window) else Window.of(*w) for w in layers]
    sizes = [tuple(pair(input_hw, "input_hw"))]
    for win in windows:
        sizes.append(tuple(_out_len(sizes[-1][a], win, a) for a in (0, 1)))
    check_position("receptive_field", sizes[-1], {"i": i, "j": j})
    axes = _start(i, j)
    for win, in_hw in zip(reversed(windows), reversed(sizes[:-1])):
        axes = _back(axes, win, in_hw)
    return _field(axes)


def _out_len(size: int, win: Window, a: int) -> int:
    k, s, pads, d = win.kernel[a], win.stride[a], win.pad[a], win.dilation[a]
    if win.transposed:
        return deconv_out_size(size, k, s, pads[0], d)
    return conv_out_size(size, k, s, pads, d, win.cover_all)


def network_field(net, layer: str, i: int, j: int, input_shape=None) -> Field:
    """:func:`receptive_field` for output ``(i, j)`` of ``net``'s layer ``layer``: traced back
    through every path of the graph (the union); layers without a window pass positions
    through unchanged, and must keep H and W to do so."""
    shapes = net.shapes(input_shape)
    if layer not in shapes or layer == "input":
        raise ValueError(f"{net.name} has no layer named {layer!r}")
    out = shapes[layer]
    if out is None or len(out) != 3:
        why = "cannot take this input" if out is None else "is not spatial"
        raise ValueError(f"{layer} {why}, so it has no receptive field")
    check_position("receptive_field", out[1:], {"i": i, "j": j})
    state = {layer: _start(i, j)}
    order = net.layer_names
    for node in reversed(order[:order.index(layer) + 1]):
        if node not in state:
            continue
        axes, lay = state.pop(node), net[node]
        for name in lay.inputs:
            in_shape = shapes[name]
            window = lay.window(in_shape)
            if len(in_shape) != 3:
                raise ValueError(f"{node} reads the non-spatial {name}, so the field stops there")
            if window is None and tuple(in_shape[1:]) != tuple(shapes[node][1:]):
                raise ValueError(f"{node} changes the size without a sliding window, so the "
                                 "receptive field cannot be traced through it")
            mapped = axes if window is None else _back(axes, window, in_shape[1:])
            state[name] = _union(mapped, state.get(name))
    return _field(state["input"])
