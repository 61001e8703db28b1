"""The single-layer laboratory as data: settings, a shape plan with formulas, and the run.

The pipeline is the seed article's conv1 block: convolution, BatchNormalization (batch
statistics), ReLU, max pooling. The UI and ``convlab export`` both call :func:`run_explorer`;
the readout is :func:`plan_explorer`, which needs no arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Callable, Collection

import numpy as np

from convlab.engine.arithmetic import effective_kernel
from convlab.engine.backend import get_backend
from convlab.engine.explorer_blocks import (  # noqa: F401 (the in-place ops are re-exported)
    batch_norm_in_place, filter_blocks, filter_maps, relu_in_place, run_blocks, transposed_weights)
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
            recompute=lambda i, name=name: filter_maps(x, s, weights, i, (name,), xp)[name],
            materialize=lambda name=name: run_blocks(
                ExplorerResult(s, plan), x, s, weights, filter_blocks(s, plan), (name,), {},
                None, xp).maps[name])
    return run_blocks(result, x, s, weights, filter_blocks(s, plan), keep, samplers,
                       should_stop, xp)
