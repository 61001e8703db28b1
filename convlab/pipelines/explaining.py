"""One value of the explorer explained: the numbers behind ``maps[stage][c, i, j]`` (no Qt).

The explorer's pipeline is conv -> (BN) -> (ReLU) -> (max or average pool). :func:`explain_value` answers,
for one output position of any stage, with the real numbers, from
:mod:`convlab.engine.explain` and the maps the run already computed:

- conv: ``value = bias + sum_c per_channel[c]``, ``per_channel[c] = sum_{u,v} W[o,c,u,v] *
  x[c, rows[u], cols[v]]`` (:func:`~convlab.engine.explain.conv_terms`; the explorer's conv
  has no bias, so ``bias = 0``).
- BN (batch statistics, as the explorer runs it): ``y = gamma * (x - mean) / sqrt(var + eps) +
  beta`` with ``mean``, ``var`` (biased) of the conv map's channel, ``gamma = 1``, ``beta = 0``,
  ``eps = 2e-5``.
- ReLU: ``y = max(x, 0)``.
- pool: the window over the previous stage's map (:func:`~convlab.engine.explain.pool_terms`);
  max pooling: the winner, with its whole chain: its convolution, BN and ReLU
  (``pooled = relu(bn(conv))`` at the argmax); average pooling (Chainer's
  ``F.average_pooling_2d``): ``value = sum(window) / (k * k)``, no winner.

``field`` is the input box the position sees (:func:`~convlab.engine.explain.receptive_field`
through the conv and, for pool, the pooling window). Heavy settings keep only the shown
stage's maps; a stage that is missing is recomputed for the one channel needed (a
single-filter convolution), so call this off the GUI thread.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from convlab.engine import ops
from convlab.engine.arithmetic import Window, pad_pairs
from convlab.engine.explain import ConvTerms, Field, PoolTerms, conv_terms, pool_terms, receptive_field
from convlab.engine.explorer import ExplorerResult, prepare_input

BN_EPS = 2e-5  # ops.batch_norm's default, as the explorer runs it
BEFORE_POOL = ("relu", "bn", "conv")  # the stage pooling reads is the last of these present
CACHED_CHANNELS = 8  # recomputed channels kept between calls (hovering stays on a map)
_recomputed: OrderedDict = OrderedDict()  # (id(result), c) -> (result, {stage: (h, w) map})


@dataclass(frozen=True)
class BatchNormTerms:
    """``value = gamma * (x - mean) / sqrt(var + eps) + beta`` for one position."""

    x: float
    mean: float
    var: float
    eps: float
    gamma: float
    beta: float
    value: float


@dataclass(frozen=True)
class Explanation:
    """How ``maps[stage][channel, i, j]`` is made. ``value`` is the map's own value."""

    stage: str
    channel: int
    i: int
    j: int
    value: float
    field: Field  # the input box it sees (unclipped, with ``clipped``)
    conv: ConvTerms | None = None  # conv, bn, relu: the convolution at this position
    bn: BatchNormTerms | None = None  # bn, relu (when BN is on)
    relu_input: float | None = None  # relu: what the ReLU received
    pool: PoolTerms | None = None  # pool: the window over ``pooled``'s map
    pooled: str = ""  # the stage the pooling reads
    winner: ConvTerms | None = None  # pool: the convolution at the winning position
    winner_bn: BatchNormTerms | None = None  # pool with BN: BN at the winning position
    winner_relu: float | None = None  # pool with ReLU: what the ReLU received there
    input_hw: tuple[int, int] = (0, 0)
    padding: int = 0
    pooled_hw: tuple[int, int] = (0, 0)  # pool: the size of the map it pools
    pool_mode: str = "max"  # pool: "max" (a winner) or "avg" (the window's mean)


def transposed(s) -> bool:
    """Whether the explorer's convolution stage is a transposed one (settings that have it)."""
    return bool(getattr(s, "transposed", False))


def conv_geometry(s) -> dict:
    """The explorer's convolution as keyword arguments of ``conv2d``/``conv_terms``: ``stride``,
    ``pad`` (``((top, bottom), (left, right))``; "same" padding where the settings have it; a
    transposed convolution's int crop), ``dilation``, ``groups``."""
    if transposed(s):
        pad = s.padding
    else:
        pad = pad_pairs(s.conv_pad() if hasattr(s, "conv_pad") else s.padding)
    return dict(stride=s.stride, pad=pad, dilation=s.dilation, groups=getattr(s, "groups", 1))


def conv_window(s) -> Window:
    """The explorer's convolution as a receptive-field window."""
    g = conv_geometry(s)
    return Window.of(s.kernel, g["stride"], g["pad"], g["dilation"], False, transposed(s))


def pool_window(s) -> Window:
    """The explorer's pooling (max or average) as a receptive-field window."""
    return Window.of(s.pool, s.pool_stride, 0, 1, pool_cover_all(s))


def pool_cover_all(s) -> bool:
    """``cover_all`` as the pooling runs it (average pooling has none)."""
    return bool(s.cover_all) and getattr(s, "pool_mode", "max") == "max"


def _transposed_weights(result: ExplorerResult) -> np.ndarray:
    """``(C, F/groups, k, k)``: the bank as the transposed convolution uses it."""
    from convlab.engine import explorer  # its transposed_weights, where the settings have them

    return explorer.transposed_weights(result.kernels, conv_geometry(result.settings)["groups"])


def stage_names(result: ExplorerResult) -> list[str]:
    """The stages the run has, in order (from its plan: the maps may hold only one)."""
    return [st.name for st in result.plan if st.shape and st.name != "input"]


class StageMaps:
    """One channel of each stage, from the run's maps or recomputed when they were not kept."""

    def __init__(self, x: np.ndarray, result: ExplorerResult):
        self.x, self.result, self.s = x, result, result.settings

    def channel(self, stage: str, c: int) -> np.ndarray:
        """``(h, w)`` float32: channel ``c`` of ``stage``'s output."""
        maps = self.result.maps.get(stage)
        if maps is not None:
            return maps[c]
        key = (id(self.result), c)
        if key not in _recomputed:  # the result is held with its maps, so its id stays its own
            _recomputed[key] = (self.result, self._recompute(c))
            while len(_recomputed) > CACHED_CHANNELS:
                _recomputed.popitem(last=False)
        _recomputed.move_to_end(key)
        return _recomputed[key][1][stage]

    def _recompute(self, c: int) -> dict[str, np.ndarray]:
        """Conv -> BN -> ReLU for one filter only; BN's statistics are per channel, so exact."""
        s, geo = self.s, conv_geometry(self.s)
        groups, filters, channels = geo.pop("groups"), len(self.result.kernels), self.x.shape[1]
        per_group, c_group = filters // groups, channels // groups
        g = c // per_group
        x = self.x[:, g * c_group:(g + 1) * c_group]  # (1, C/groups, H, W): this filter's group
        if transposed(s):
            o = c - g * per_group
            w = _transposed_weights(self.result)[g * c_group:(g + 1) * c_group, o:o + 1]
            h = ops.deconv2d(x, np.ascontiguousarray(w), **geo)  # w: (C/groups, 1, k, k)
        else:
            h = ops.conv2d(x, np.ascontiguousarray(self.result.kernels[c:c + 1]), **geo)
        out = {"conv": h[0, 0]}
        if s.batch_norm:
            one = np.ones(1, np.float32)
            h = ops.batch_norm(h, one, np.zeros(1, np.float32))
            out["bn"] = h[0, 0]
        if s.relu:
            h = ops.relu(h)
            out["relu"] = h[0, 0]
        return out


def input_array(image: np.ndarray, grayscale: bool) -> np.ndarray:
    """What the explorer's convolution read: ``(1, C, H, W)`` float32."""
    return prepare_input(image, grayscale)


def _conv(x, result, c, i, j) -> ConvTerms:
    """The convolution's terms (a transposed one's: the input positions that write (i, j))."""
    s = result.settings
    if transposed(s):
        from convlab.engine.explain.layers import deconv_terms

        return deconv_terms(x, _transposed_weights(result), **conv_geometry(s), o=c, i=i, j=j)
    return conv_terms(x, result.kernels, **conv_geometry(s), o=c, i=i, j=j)


def _bn(maps: StageMaps, c: int, i: int, j: int) -> BatchNormTerms:
    conv = maps.channel("conv", c).astype(np.float64)
    mean, var = float(conv.mean()), float(conv.var())
    x = float(conv[i, j])
    value = (x - mean) / np.sqrt(var + BN_EPS)
    return BatchNormTerms(x, mean, var, BN_EPS, 1.0, 0.0, float(value))


def _winner_chain(x, result, maps: StageMaps, c: int, argmax, names) -> dict:
    """The pooling winner's convolution, BN and ReLU input: ``winner``, ``winner_bn``,
    ``winner_relu`` (None where the stage is off or no cell of the window lies in the map)."""
    if argmax is None:
        return {}
    r, col = (int(v) for v in argmax)
    chain = {"winner": _conv(x, result, c, r, col)}
    if "bn" in names:
        chain["winner_bn"] = _bn(maps, c, r, col)
    if "relu" in names:
        chain["winner_relu"] = float(maps.channel("bn" if "bn" in names else "conv", c)[r, col])
    return chain


def explain_value(image: np.ndarray, result: ExplorerResult, stage: str, c: int, i: int,
                  j: int) -> Explanation:
    """Explain ``result.maps[stage][c, i, j]``; ``image`` is the ``(H, W, 3)`` photo explored.

    Raises ``ValueError`` with a sentence for a stage the run lacks or a position outside it."""
    names = stage_names(result)
    if stage not in names:
        raise ValueError(f"these settings have no {stage} stage (they have {', '.join(names)})")
    s = result.settings
    x = input_array(image, s.grayscale)
    maps = StageMaps(x, result)
    shown = maps.channel(stage, c)
    if not (0 <= i < shown.shape[0] and 0 <= j < shown.shape[1]):
        raise ValueError(f"position ({i}, {j}) is outside the {shown.shape[0]}×{shown.shape[1]} map")
    hw = tuple(x.shape[2:])
    common = dict(stage=stage, channel=c, i=i, j=j, value=float(shown[i, j]), input_hw=hw,
                  padding=s.padding)
    if stage == "pool":
        pooled = next(name for name in BEFORE_POOL if name in names)
        plane = maps.channel(pooled, c)  # (h, w)
        terms = pool_terms(plane[None, None], ksize=s.pool, stride=s.pool_stride,
                           cover_all=pool_cover_all(s), c=0, i=i, j=j,
                           mode=getattr(s, "pool_mode", "max"))
        chain = _winner_chain(x, result, maps, c, terms.argmax, names)
        field = receptive_field([conv_window(s), pool_window(s)], i, j, hw)
        return Explanation(**common, field=field, pool=terms, pooled=pooled, **chain,
                           pooled_hw=tuple(plane.shape), pool_mode=getattr(s, "pool_mode", "max"))
    conv = _conv(x, result, c, i, j)
    bn = _bn(maps, c, i, j) if stage != "conv" and s.batch_norm else None
    relu_input = None
    if stage == "relu":
        relu_input = float(maps.channel("bn" if s.batch_norm else "conv", c)[i, j])
    field = receptive_field([conv_window(s)], i, j, hw)
    return Explanation(**common, field=field, conv=conv, bn=bn, relu_input=relu_input)


def input_taps(e: Explanation, s) -> tuple[np.ndarray, np.ndarray]:
    """The input taps ``(rows, cols)`` a value reads: the convolution's taps, or for pooling the
    union of the convolution taps under the pooling window (cells past the map's edge left out)."""
    if e.conv is not None:
        return e.conv.rows, e.conv.cols
    if transposed(s) and e.winner is not None:
        return e.winner.rows, e.winner.cols  # a transposed window is scattered: the winner's
    (top, _), (left, _) = pad_pairs(conv_geometry(s)["pad"])
    taps = []
    for window, size, before in zip((e.pool.rows, e.pool.cols), e.pooled_hw, (top, left)):
        inside = window[(window >= 0) & (window < size)]  # positions in the conv map
        starts = inside[:, None] * s.stride - before  # (n, 1)
        taps.append(np.unique((starts + s.dilation * np.arange(s.kernel)[None, :]).ravel()))
    return taps[0], taps[1]
