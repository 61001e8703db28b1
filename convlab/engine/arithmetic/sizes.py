"""Shape arithmetic of convolution and pooling: plain ints, no arrays.

Output size (Chainer's ``get_conv_outsize``)::

    floor((size + 2p - dk) / s) + 1          dk = d(k - 1) + 1   (cover_all=False)
    (size + 2p - dk + s - 1) // s + 1                             (cover_all=True)

``cover_all=True`` is the default of ``F.max_pooling_2d`` in every Chainer version: the last,
partial window is kept, so no input row or column is left out.

Receptive field (Araujo et al., "Computing Receptive Fields of Convolutional Neural Networks",
Distill 2019): through a layer with kernel k, stride s, padding p and dilation d::

    rf'    = rf + (dk - 1) * jump
    jump'  = jump * s
    start' = start + ((dk - 1) / 2 - p) * jump
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _integer(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def pair(value, name: str = "value") -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 5) -> (3, 5)``. Refuses anything else (2.7 too) with a ``ValueError``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return _integer(value[0], name), _integer(value[1], name)
    return _integer(value, name), _integer(value, name)


def pad_pairs(pad, name: str = "pad") -> tuple[tuple[int, int], tuple[int, int]]:
    """Padding as ``((top, bottom), (left, right))``.

    ``1 -> ((1, 1), (1, 1))``; ``(1, 2) -> ((1, 1), (2, 2))`` (an ``(h, w)`` pair, each side
    the same); ``((0, 1), (0, 1)) -> ((0, 1), (0, 1))`` (PyTorch's ``padding="same"`` for an even
    kernel puts the extra row and column at the bottom and right). Anything else raises a
    ``ValueError`` with a sentence. Negative values pass here; :func:`conv_out_size` refuses them.
    """
    if isinstance(pad, (tuple, list)) and len(pad) == 2 and all(
            isinstance(side, (tuple, list)) for side in pad):
        sides = []
        for side, axis in zip(pad, ("(top, bottom)", "(left, right)")):
            if len(side) != 2:
                raise ValueError(f"{name} must be an int, an (h, w) pair or "
                                 f"((top, bottom), (left, right)); its {axis} part is {side!r}")
            sides.append((_integer(side[0], name), _integer(side[1], name)))
        return sides[0], sides[1]
    if isinstance(pad, (tuple, list)) and any(isinstance(side, (tuple, list)) for side in pad):
        raise ValueError(f"{name} must be an int, an (h, w) pair or "
                         f"((top, bottom), (left, right)), got {pad!r}")
    try:
        ph, pw = pair(pad, name)
    except ValueError:
        raise ValueError(f"{name} must be an int, an (h, w) pair or "
                         f"((top, bottom), (left, right)), got {pad!r}") from None
    return (ph, ph), (pw, pw)


def pad_total(p, name: str = "padding") -> tuple[int, int]:
    """``p`` (an int, each side, or a ``(before, after)`` pair) as ``(before, after)``."""
    if isinstance(p, (tuple, list)):
        if len(p) != 2:
            raise ValueError(f"The {name} must be an int or a (before, after) pair, got {p!r}.")
        before, after = _integer(p[0], name), _integer(p[1], name)
    else:
        before = after = _integer(p, name)
    return before, after


def effective_kernel(k: int, d: int = 1) -> int:
    """The extent a dilated kernel spans: ``d(k-1) + 1`` (Chainer v7's ``dk``)."""
    return d * (k - 1) + 1


def conv_out_size(size: int, k: int, s: int = 1, p=0, d: int = 1,
                  cover_all: bool = False, *, what: str = "kernel") -> int:
    """Output length along one axis; ``ValueError`` with a sentence when it would be < 1.

    ``p`` is the padding on each side (an int) or ``(before, after)``; the formulas above hold
    with ``2p`` read as ``before + after``. ``what`` names the window in that sentence
    ("kernel", or "pooling window" for a pooling layer).
    """
    for value, label in ((size, "input size"), (k, "kernel size"), (s, "stride"), (d, "dilation")):
        if value < 1:
            raise ValueError(f"The {label} must be at least 1, got {value}.")
    before, after = pad_total(p)
    if before < 0 or after < 0:
        raise ValueError(f"The padding must be at least 0, got {p}.")
    dk = effective_kernel(k, d)
    padded = size + before + after
    if cover_all:
        out = (padded - dk + s - 1) // s + 1
    else:
        out = (padded - dk) // s + 1
    if out < 1:
        span = f"{what} {k}" if d == 1 else f"{what} {k} at dilation {d} (spans {dk})"
        raise ValueError(
            f"The {span} is larger than the padded input ({size} + {_pad_text(before, after)} = "
            f"{padded}), "
            "so there is no position to place it.")
    return out


def _pad_text(before: int, after: int) -> str:
    return f"2*{before}" if before == after else f"{before} + {after}"


@dataclass(frozen=True)
class AxisCoverage:
    """How one axis is walked: outputs, the last input index read, what is dropped or padded."""

    out: int
    used: int        # input + padding positions touched by some window
    dropped: int     # trailing input positions never read (cover_all=False)
    extra: int       # positions past the padded input that the last partial window reaches


def axis_coverage(size: int, k: int, s: int = 1, p: int = 0, d: int = 1,
                  cover_all: bool = False, *, what: str = "kernel") -> AxisCoverage:
    """Explain an axis: how many trailing rows are never covered, or how far ``cover_all`` overhangs."""
    out = conv_out_size(size, k, s, p, d, cover_all, what=what)
    dk = effective_kernel(k, d)
    padded = size + sum(pad_total(p))
    reach = (out - 1) * s + dk  # one past the last padded position touched
    dropped = max(0, padded - reach)
    extra = max(0, reach - padded)
    return AxisCoverage(out=out, used=min(reach, padded), dropped=dropped, extra=extra)


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field size, jump (stride in input pixels) and centre of the first output."""

    size: float = 1
    jump: float = 1
    start: float = 0.5

    def through(self, k: int, s: int = 1, p: int = 0, d: int = 1) -> "ReceptiveField":
        """The receptive field after one more layer with this kernel, stride, padding, dilation."""
        dk = effective_kernel(k, d)
        return ReceptiveField(
            size=self.size + (dk - 1) * self.jump,
            jump=self.jump * s,
            start=self.start + ((dk - 1) / 2 - p) * self.jump,
        )


def conv_params(c_in: int, c_out: int, kh: int, kw: int, groups: int = 1, bias: bool = True) -> int:
    """Weights ``c_out * c_in/groups * kh * kw`` plus ``c_out`` biases."""
    return c_out * (c_in // groups) * kh * kw + (c_out if bias else 0)


def conv_macs(c_in: int, c_out: int, kh: int, kw: int, oh: int, ow: int, groups: int = 1) -> int:
    """Multiply-adds of one convolution: one per weight per output position."""
    return c_out * (c_in // groups) * kh * kw * oh * ow


def linear_params(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def deconv_out_size(size: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length of a transposed convolution (Chainer's ``get_deconv_outsize``)::

        s(size - 1) + d(k - 1) + 1 - 2p

    ``ValueError`` with a sentence when it would be < 1 (too much padding).
    """
    for value, label in ((size, "input size"), (k, "kernel size"), (s, "stride"), (d, "dilation")):
        if value < 1:
            raise ValueError(f"The {label} must be at least 1, got {value}.")
    if p < 0:
        raise ValueError(f"The padding must be at least 0, got {p}.")
    out = s * (size - 1) + effective_kernel(k, d) - 2 * p
    if out < 1:
        raise ValueError(
            f"The padding {p} removes the whole transposed output "
            f"({s}*({size} - 1) + {effective_kernel(k, d)} - 2*{p} = {out}).")
    return out


def deconv_outsize_range(size: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> range:
    """The ``outsize`` values a transposed convolution accepts: those a convolution with the same
    k, s, p, d maps back to ``size`` (Chainer's check), i.e. ``deconv_out_size`` up to ``s - 1`` more."""
    low = deconv_out_size(size, k, s, p, d)
    return range(low, low + s)


@dataclass(frozen=True)
class Window:
    """One layer's window on each axis, for receptive fields: pairs ``(h, w)``, ``pad`` as
    ``((top, bottom), (left, right))``. ``transposed``: a transposed convolution, whose output
    position ``o`` gathers input ``q`` where ``o = q*s - p + u*d``."""

    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    pad: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0))
    dilation: tuple[int, int] = (1, 1)
    cover_all: bool = False
    transposed: bool = False

    @classmethod
    def of(cls, kernel, stride=1, pad=0, dilation=1, cover_all=False, transposed=False) -> "Window":
        """Build from ints, ``(h, w)`` pairs or (pad only) ``((top, bottom), (left, right))``."""
        return cls(pair(kernel, "kernel"), pair(stride, "stride"), pad_pairs(pad),
                   pair(dilation, "dilation"), bool(cover_all), bool(transposed))
