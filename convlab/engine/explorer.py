"""The single-layer laboratory as data: settings, a shape plan with formulas, and the run.

The pipeline is the seed article's conv1 block: convolution, BatchNormalization (batch
statistics), ReLU, max pooling. The UI and ``convlab export`` both call :func:`run_explorer`;
the readout is :func:`plan_explorer`, which needs no arrays.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Callable, Collection

import numpy as np

from convlab.engine import ops
from convlab.engine.arithmetic import effective_kernel
from convlab.engine.backend import array_module, get_backend, to_numpy
from convlab.engine.explorer_plan import StagePlan, plan_explorer  # noqa: F401 (re-exported)
from convlab.engine.kernels import BANKS, IMAGE_BANKS, make_bank
from convlab.engine.sampled import SampledMaps

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601, as Pillow's "L"

# name: (minimum, maximum) of every integer setting, as the sliders and the CLI enforce them
LIMITS = {"kernel": (1, 15), "stride": (1, 8), "padding": (0, 10), "dilation": (1, 4),
          "filters": (1, 256), "pool": (1, 6), "pool_stride": (1, 6)}


@dataclass(frozen=True)
class ExplorerSettings:
    """Defaults are AlexBN's conv1 block: ``L.Convolution2D(3, 96, 11, stride=4)``, BN, ReLU, pool 3/2."""

    kernel: int = 11
    stride: int = 4
    padding: int = 0
    dilation: int = 1
    filters: int = 96
    pool: int = 3  # 1 = no pooling
    pool_stride: int = 2
    batch_norm: bool = True
    relu: bool = True
    cover_all: bool = True
    grayscale: bool = False
    bank: str = "random"
    seed: int = 0
    same: bool = False  # "same" padding: d(k-1) in all, the extra row/column bottom/right
    transposed: bool = False  # the convolution stage is a transposed one (Deconvolution2D)
    groups: int = 1  # 1, or 3 on an RGB input: each group of filters sees one colour

    @property
    def in_channels(self) -> int:
        return 1 if self.grayscale else 3

    def conv_pad(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The convolution's padding ``((top, bottom), (left, right))``.

        With ``same`` (not for the transposed mode), ``d(k-1)`` rows and columns in all, the
        odd one at the bottom and right, as PyTorch's ``padding="same"``: at stride 1 the output
        keeps the input's size for every kernel. Otherwise ``padding`` on every side.
        """
        if self.same and not self.transposed:
            total = effective_kernel(self.kernel, self.dilation) - 1
            return (total // 2, total - total // 2), (total // 2, total - total // 2)
        return (self.padding, self.padding), (self.padding, self.padding)

    def replace(self, **changes) -> "ExplorerSettings":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> "ExplorerSettings":
        """Raise ``ValueError`` with a sentence for any value out of range; return self."""
        for name, (lo, hi) in LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
                raise ValueError(f"{name.replace('_', ' ')} must be an integer from {lo} to {hi}, "
                                 f"got {value!r}.")
        if self.pool > 1 and self.pool_stride > self.pool:
            raise ValueError(f"pool stride {self.pool_stride} is larger than the pool window "
                             f"{self.pool}: whole rows would be skipped between windows.")
        if self.bank not in BANKS + IMAGE_BANKS:
            raise ValueError(f"unknown kernel bank {self.bank!r}; choose one of "
                             f"{', '.join(BANKS + IMAGE_BANKS)}.")
        g = self.groups
        if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or g < 1:
            raise ValueError(f"groups must be a positive integer, got {g!r}.")
        if self.in_channels % g or self.filters % g:
            raise ValueError(f"groups {g} must divide the {self.in_channels} input channels and "
                             f"the {self.filters} filters.")
        return self


@dataclass
class ExplorerResult:
    """Every stage's maps as NumPy ``(F, h, w)`` float32, the kernels, and timings."""

    settings: ExplorerSettings
    plan: list[StagePlan]
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    kernels: np.ndarray | None = None
    kernel_names: list[str] = field(default_factory=list)
    kernel_note: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    completed: bool = True

    @property
    def final(self) -> np.ndarray:
        return next(reversed(self.maps.values()))


@lru_cache(maxsize=8)
def _cached_bank(bank, filters, in_channels, k, seed):
    weights, names, note = make_bank(bank, filters, in_channels, k, seed=seed)
    weights.setflags(write=False)
    return weights, tuple(names), note


def explorer_bank(s: ExplorerSettings, images=None):
    """``(weights (F, C/groups, k, k), names, note)`` for ``s``; the learned bank learns from
    ``images`` (``(H, W, 3)`` photos; FastICA caches per photos and sizes, so a repeat is free)."""
    c_group = s.in_channels // s.groups
    if s.bank in IMAGE_BANKS:
        weights, names, note = make_bank(s.bank, s.filters, c_group, s.kernel, seed=s.seed,
                                         images=images)
        weights.setflags(write=False)
        return weights, tuple(names), note
    return _cached_bank(s.bank, s.filters, c_group, s.kernel, s.seed)


def transposed_weights(weights: np.ndarray, groups: int) -> np.ndarray:
    """A conv bank ``(F, C/G, k, k)`` as deconvolution weights ``(C, F/G, k, k)``: filter ``f``
    still makes output map ``f`` (Chainer's ``Deconvolution2D`` and PyTorch lay W out so)."""
    f, cg, kh, kw = weights.shape
    w = weights.reshape(groups, f // groups, cg, kh, kw)                # (G, F/G, C/G, kh, kw)
    return np.ascontiguousarray(w.transpose(0, 2, 1, 3, 4)).reshape(groups * cg, f // groups, kh, kw)


def prepare_input(image: np.ndarray, grayscale: bool) -> np.ndarray:
    """``(H, W, 3)`` RGB in [0, 1] -> ``(1, C, H, W)`` float32, C-contiguous (C = 1 when grey)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"explorer: expected an (H, W, 3) RGB image, got shape {image.shape}")
    if grayscale:
        grey = image.astype(np.float32, copy=False) @ LUMA                # (H, W)
        return np.ascontiguousarray(grey[None, None])                       # (1, 1, H, W)
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)  # (1, 3, H, W)


def run_explorer(image: np.ndarray, settings: ExplorerSettings, *, xp=None,
                 should_stop: Callable[[], bool] | None = None,
                 keep: Collection[str] | None = None, sample: dict[str, int] | None = None,
                 plan: list[StagePlan] | None = None, images=None) -> ExplorerResult:
    """Run conv (or transposed conv) -> BN -> ReLU -> pool on ``image`` (``(H, W, 3)`` in [0, 1]).

    ``images``: the photos the "learned" bank learns from (default: ``image`` alone).
    ``should_stop`` is asked between stages and between the convolution's row tiles; an
    abandoned run returns ``completed=False``.
    ``keep`` names the stages whose maps are returned (default all): at heavy settings each
    stage is hundreds of MB. ``sample`` maps a kept stage to a step: that stage is returned as
    :class:`~convlab.engine.sampled.SampledMaps` (every step-th pixel and the statistics; the
    full maps are never all resident). ``plan`` is ``plan_explorer(settings, H, W)`` when the
    caller already made it (the window plans once per slider step). Raises ``ValueError``
    (with the plan's sentence) when the settings give no output.

    The filters run in blocks (:func:`filter_blocks`, by shape alone), each block through every
    stage, so a run holds one block of each stage besides what it keeps, and every caller
    (window, preview, ``convlab export``) gets the same bits for the same settings.
    """
    s = settings.validate()
    plan = plan if plan is not None else plan_explorer(s, image.shape[0], image.shape[1])
    failed = next((st for st in plan if st.error), None)
    if failed is not None:
        raise ValueError(failed.error)
    xp = xp or get_backend().xp
    weights, names, note = explorer_bank(s, [image] if images is None else images)
    result = ExplorerResult(s, plan, kernels=weights, kernel_names=list(names), kernel_note=note)
    x = xp.asarray(prepare_input(image, s.grayscale))
    shapes = {st.name: st.shape for st in plan if st.shape and st.name != "input"}
    samplers = {}
    for name, step in (sample or {}).items():
        if keep is not None and name not in keep:
            raise ValueError(f"sample: stage {name!r} is not kept")
        samplers[name] = SampledMaps(
            shapes[name], step,
            recompute=lambda i, name=name: _one_filter(x, s, weights, i, name, xp),
            materialize=lambda name=name: _run_blocks(
                ExplorerResult(s, plan), x, s, weights, filter_blocks(s, plan), (name,), {},
                None, xp).maps[name])
    return _run_blocks(result, x, s, weights, filter_blocks(s, plan), keep, samplers,
                       should_stop, xp)


BLOCK_BYTES = 16 << 20  # a run takes as many filters at a time as fit this in its largest stage
DEPTH_PER_FILTER = 10  # ... but at least 1 filter per this many multiply-adds of one output


def filter_blocks(s: ExplorerSettings, plan: list[StagePlan]) -> list[tuple[int | None, int, int]]:
    """``(group, first, stop)`` filter ranges a run takes at a time: all filters at once
    (group None) while the largest stage fits ``BLOCK_BYTES``, else blocks that do, each within
    one group. By shapes alone, so the same settings always give the same bits.

    Each block makes its own im2col matrix (``C/groups * k * k`` rows), so a deep one gets
    at least a tenth of its depth in filters: 64 for a 15 x 15 RGB kernel, as fast as one
    block, where 32-filter blocks took 25% more (a 3 x 3 kernel's 16 MB blocks are 25% faster
    than one block, as they stay in cache)."""
    per_map = max(4 * st.shape[1] * st.shape[2] for st in plan if st.shape and st.name != "input")
    depth = s.in_channels // s.groups * s.kernel * s.kernel
    per = max(1, BLOCK_BYTES // per_map, depth // DEPTH_PER_FILTER)
    if per > 16:  # whole 16-row panels of BLAS's kernels: 67 filters took 8% more than 64
        per -= per % 16
    if per >= s.filters:
        return [(None, 0, s.filters)]
    per_group = s.filters // s.groups
    return [(g, f0, min(f0 + per, (g + 1) * per_group)) for g in range(s.groups)
            for f0 in range(g * per_group, (g + 1) * per_group, per)]


def _steps(s: ExplorerSettings, weights: np.ndarray, group: int | None, f0: int, f1: int, xp,
           should_stop):
    """``[(name, fn(h, own))]`` for filters ``f0:f1`` (of ``group``; None: all, grouped)."""
    groups = s.groups if group is None else 1
    per_group = len(weights) // s.groups
    if s.transposed:
        w_t = transposed_weights(weights, s.groups)                    # (C, F/G, k, k)
        if group is not None:
            c_group = w_t.shape[0] // s.groups
            w_t = w_t[group * c_group:(group + 1) * c_group,
                      f0 - group * per_group:f1 - group * per_group]
        w_t = xp.asarray(np.ascontiguousarray(w_t))
        steps = [("conv", lambda v, own: ops.deconv2d(v, w_t, stride=s.stride, pad=s.padding,
                                                      dilation=s.dilation, groups=groups))]
    else:
        w = xp.asarray(weights if (f0, f1) == (0, len(weights))
                       else np.ascontiguousarray(weights[f0:f1]))
        steps = [("conv", lambda v, own: ops.conv2d(v, w, stride=s.stride, pad=s.conv_pad(),
                                                    dilation=s.dilation, groups=groups,
                                                    should_stop=should_stop))]
    if s.batch_norm:
        ones, zeros = xp.ones(f1 - f0, np.float32), xp.zeros(f1 - f0, np.float32)
        steps.append(("bn", lambda v, own: (batch_norm_in_place(v) if own else
                                            ops.batch_norm(v, ones, zeros))))
    if s.relu:
        steps.append(("relu", lambda v, own: relu_in_place(v) if own else ops.relu(v)))
    if s.pool > 1:
        steps.append(("pool", lambda v, own: max_pool_in_chunks(v, s.pool, s.pool_stride,
                                                                 s.cover_all)))
    return steps


def max_pool_in_chunks(x, ksize: int, stride: int, cover_all: bool, chunk_bytes: int = 4 << 20):
    """``ops.max_pool2d`` over ``x`` ``(N, C, H, W)`` a few channels (``chunk_bytes``) at a
    time, into one output: the same values (a maximum is exact), but its running maxima's
    temporary is one chunk's, not half of ``x``."""
    per = max(1, chunk_bytes // max(1, x[:, :1].nbytes))
    pool = lambda v: ops.max_pool2d(v, ksize, stride=stride, cover_all=cover_all)  # noqa: E731
    c = x.shape[1]
    if per >= c:
        return pool(x)
    first = pool(x[:, :per])
    out = array_module(x).empty(first.shape[:1] + (c,) + first.shape[2:], first.dtype)
    out[:, :per] = first
    for c0 in range(per, c, per):
        out[:, c0:c0 + per] = pool(x[:, c0:c0 + per])
    return out


def _run_blocks(result: ExplorerResult, x, s, weights, blocks, keep, samplers, should_stop,
                xp) -> ExplorerResult:
    """Each block of filters through every stage, its maps put where ``keep``/``samplers`` say.

    A stage's block that nobody keeps whole (``own``) may be overwritten by the next stage:
    BN and ReLU then work in place, so a heavy stage costs no second copy (the values are bit
    for bit those of the copying ops)."""
    filters = s.filters
    for group, f0, f1 in blocks:
        if group is None or s.groups == 1:
            h = x
        else:
            c_group = x.shape[1] // s.groups
            h = x[:, group * c_group:(group + 1) * c_group]
        own = False  # the first step's input is the caller's
        steps = _steps(s, weights, group, f0, f1, xp, should_stop)
        if keep is not None:  # nothing past the last stage kept
            last = max((i for i, (name, _) in enumerate(steps) if name in keep), default=-1)
            steps = steps[:last + 1]
        for name, fn in steps:
            if should_stop is not None and should_stop():
                result.completed = False
                return result
            t0 = time.perf_counter()
            try:
                h = fn(h, own)
            except ops.Cancelled:  # the convolution asks should_stop between row tiles too
                result.completed = False
                return result
            kept = keep is None or name in keep
            whole = kept and name not in samplers and (f0, f1) == (0, filters)
            if kept:
                block = to_numpy(h)[0]                                  # (B, h, w)
                if name in samplers:
                    result.maps.setdefault(name, samplers[name]).add(f0, block)
                elif whole:
                    result.maps[name] = block
                else:
                    if name not in result.maps:
                        result.maps[name] = np.empty((filters,) + block.shape[1:], np.float32)
                    result.maps[name][f0:f1] = block
            own = not whole
            result.seconds[name] = result.seconds.get(name, 0.0) + time.perf_counter() - t0
            block = None
        h = None  # let this block go before the next one is made
    return result


def _one_filter(x, s: ExplorerSettings, weights: np.ndarray, i: int, stage: str, xp) -> np.ndarray:
    """Map ``i`` of ``stage``, ``(h, w)``, from a run of filter ``i`` alone (BN's statistics are
    per channel, so the same values to float32 rounding)."""
    per_group = len(weights) // s.groups
    g = i // per_group
    c_group = x.shape[1] // s.groups
    one = s.replace(filters=1, groups=1)
    result = ExplorerResult(one, [])
    _run_blocks(result, x[:, g * c_group:(g + 1) * c_group], one, weights[i:i + 1],
                [(None, 0, 1)], (stage,), {}, None, xp)
    return result.maps[stage][0]


def relu_in_place(x, block: int = 1 << 16):
    """``max(x, 0)`` written over ``x`` (the bits of :func:`convlab.engine.ops.relu`). A
    contiguous NumPy array is taken ``block`` elements at a time against a block of zeros
    (NumPy's ``maximum`` is several times slower with a scalar operand, as ``ops.relu`` notes)."""
    xp = array_module(x)
    if xp is not np or x.dtype.kind != "f" or not x.flags.c_contiguous:
        return xp.maximum(x, x.dtype.type(0), out=x)
    flat = x.reshape(-1)                                                # (size,) view
    zeros = np.zeros(min(block, flat.size), x.dtype)
    for start in range(0, flat.size, block):
        stop = min(flat.size, start + block)
        np.maximum(flat[start:stop], zeros[:stop - start], out=flat[start:stop])
    return x


def batch_norm_in_place(x, eps: float = 2e-5, block_bytes: int = 4 << 20):
    """``ops.batch_norm(x, 1, 0)`` (batch statistics, gamma 1, beta 0) written over ``x``.

    ``y = (x - mean) / sqrt(var + eps)`` per channel over ``(N, H, W)``, the same operations
    in the same order as :func:`convlab.engine.ops.batch_norm` (so the same bits), but the
    variance is taken over blocks of channels of at most ``block_bytes`` (default 8 MB), so
    the temporary ``(x - mean)^2`` is one block, not a second copy of ``x``."""
    xp = array_module(x)
    c, axes = x.shape[1], (0,) + tuple(range(2, x.ndim))
    mean = x.mean(axis=axes)                                            # (C,)
    var = xp.empty_like(mean)
    per = max(1, block_bytes // max(1, x[:, :1].nbytes))
    for c0 in range(0, c, per):
        var[c0:c0 + per] = x[:, c0:c0 + per].var(axis=axes)
    gamma, beta = xp.ones(c, np.float32), xp.zeros(c, np.float32)
    scale = gamma / xp.sqrt(var + x.dtype.type(eps))
    shift = beta - mean * scale
    shape = (1, c) + (1,) * (x.ndim - 2)
    x *= scale.astype(x.dtype).reshape(shape)
    x += shift.astype(x.dtype).reshape(shape)
    return x
