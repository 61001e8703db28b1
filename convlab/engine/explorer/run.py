"""The explorer's run: the filter bank for the settings, the input prepared, and the stages
computed in blocks of filters.

The pipeline is the seed article's conv1 block: convolution, BatchNormalization (batch
statistics), ReLU, max or average pooling. The UI and ``convlab export`` both call
:func:`run_explorer`; the readout is :func:`plan_explorer`, which needs no arrays.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Collection

import numpy as np

from convlab.engine.backend import get_backend
from convlab.engine.explorer.blocks import filter_blocks, filter_maps, run_blocks
from convlab.engine.explorer.kernels import IMAGE_BANKS, make_bank
from convlab.engine.explorer.plan import StagePlan, plan_explorer
from convlab.engine.explorer.sampled import SampledMaps
from convlab.engine.explorer.settings import LUMA, ExplorerResult, ExplorerSettings


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
    :class:`~convlab.engine.explorer.sampled.SampledMaps` (every step-th pixel and the statistics; the
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
            recompute=lambda i, name=name: filter_maps(x, s, weights, i, (name,), xp)[name],
            materialize=lambda name=name: run_blocks(
                ExplorerResult(s, plan), x, s, weights, filter_blocks(s, plan), (name,), {},
                None, xp).maps[name])
    return run_blocks(result, x, s, weights, filter_blocks(s, plan), keep, samplers,
                       should_stop, xp)
