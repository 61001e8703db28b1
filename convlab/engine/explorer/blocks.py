"""How the explorer's run goes: its filters in blocks, each block through every stage.

:func:`convlab.engine.explorer.run_explorer` plans and calls :func:`run_blocks`; the blocks
are chosen by shape alone (:func:`filter_blocks`), so every caller gets the same bits. A stage
block nobody keeps whole is overwritten by the next (BN and ReLU in place, same bits as the
copying ops); a sampled stage goes to its :class:`~convlab.engine.explorer.sampled.SampledMaps`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Collection

import numpy as np

from convlab.engine import ops
from convlab.engine.backend import array_module, to_numpy
from convlab.engine.explorer.settings import ExplorerResult

if TYPE_CHECKING:
    from convlab.engine.explorer.plan import StagePlan
    from convlab.engine.explorer.settings import ExplorerSettings


def transposed_weights(weights: np.ndarray, groups: int) -> np.ndarray:
    """A conv bank ``(F, C/G, k, k)`` as deconvolution weights ``(C, F/G, k, k)``: filter ``f``
    still makes output map ``f`` (Chainer's ``Deconvolution2D`` and PyTorch lay W out so)."""
    f, cg, kh, kw = weights.shape
    w = weights.reshape(groups, f // groups, cg, kh, kw)                # (G, F/G, C/G, kh, kw)
    return np.ascontiguousarray(w.transpose(0, 2, 1, 3, 4)).reshape(groups * cg, f // groups, kh, kw)


BLOCK_BYTES = 16 << 20  # a run takes as many filters at a time as fit this in its largest stage
DEPTH_PER_FILTER = 10  # ... but at least 1 filter per this many multiply-adds of one output
DEEP_BLOCK_BYTES = 48 << 20  # ... while that fits this: a 15 x 15 RGB kernel's 64 filters at
                             # 470 x 470 made two 56 MB blocks (conv and pool), the soak's
                             # highest peak (612 MB beside AlexBN); 48 filters make 42 MB ones in
                             # the same 0.42 s (32 filters: 28 MB, but 0.57 s)


def filter_blocks(s: ExplorerSettings, plan: list[StagePlan]) -> list[tuple[int | None, int, int]]:
    """``(group, first, stop)`` filter ranges a run takes at a time: all filters at once
    (group None) while the largest stage fits ``BLOCK_BYTES``, else blocks that do, each within
    one group. By shapes alone, so the same settings always give the same bits.

    Each block makes its own im2col matrix (``C/groups * k * k`` rows), so a deep one gets
    at least a tenth of its depth in filters: 64 for a 15 x 15 RGB kernel, as fast as one
    block, where 32-filter blocks took 25% more (a 3 x 3 kernel's 16 MB blocks are 25% faster
    than one block, as they stay in cache), as long as such a block fits ``DEEP_BLOCK_BYTES``."""
    per_map = max(4 * st.shape[1] * st.shape[2] for st in plan if st.shape and st.name != "input")
    depth = s.in_channels // s.groups * s.kernel * s.kernel
    deep = min(depth // DEPTH_PER_FILTER, DEEP_BLOCK_BYTES // per_map)
    per = max(1, BLOCK_BYTES // per_map, deep)
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
        steps.append(("pool", lambda v, own: max_pool_in_chunks(
            v, s.pool, s.pool_stride, s.pool_cover_all, mode=s.pool_mode)))
    return steps


def max_pool_in_chunks(x, ksize: int, stride: int, cover_all: bool, chunk_bytes: int = 4 << 20,
                       *, mode: str = "max"):
    """``ops.max_pool2d`` (``mode="avg"``: ``ops.avg_pool2d``, which has no ``cover_all``) over
    ``x`` ``(N, C, H, W)`` a few channels (``chunk_bytes``) at a time, into one output: the same
    values (each channel is pooled on its own), but the op's temporaries are one chunk's, not
    half of ``x``."""
    per = max(1, chunk_bytes // max(1, x[:, :1].nbytes))
    if mode == "avg":
        pool = lambda v: ops.avg_pool2d(v, ksize, stride=stride)  # noqa: E731
    else:
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


def run_blocks(result: ExplorerResult, x, s, weights, blocks, keep, samplers, should_stop,
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


def filter_maps(x, s: ExplorerSettings, weights: np.ndarray, i: int, stages: Collection[str],
                xp=np) -> dict[str, np.ndarray]:
    """``{stage: (h, w)}`` of filter ``i`` run alone on ``x`` ``(1, C, H, W)`` through the
    named ``stages`` (those the settings have). BN's statistics are per channel, so these are
    the run's values to float32 rounding (BLAS sums a one-row product in another order)."""

    per_group = len(weights) // s.groups
    g = i // per_group
    c_group = x.shape[1] // s.groups
    one = s.replace(filters=1, groups=1)
    result = ExplorerResult(one, [])
    run_blocks(result, x[:, g * c_group:(g + 1) * c_group], one, weights[i:i + 1],
                [(None, 0, 1)], tuple(stages), {}, None, xp)
    return {name: maps[0] for name, maps in result.maps.items()}


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
