"""What the explorer's worker runs: the pipeline, a quick preview first when it is heavy, and
the montages, all NumPy, no Qt. The GUI thread only builds an :class:`ExplorerRequest`, with
the shape plan it already made for the readout, so one slider step plans the explorer once.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from convlab.engine.explorer import (ExplorerResult, ExplorerSettings, StagePlan, plan_explorer,
                                     run_explorer)
from convlab.engine.explorer.kernels import IMAGE_BANKS
from convlab.pipelines.images import load_image, scale_to_longest
from convlab.pipelines.samples import list_samples
from convlab.render.kernels import build_kernel_strip
from convlab.render.tiles import Montage, build_montage, plan_layout, sample_step

HEAVY_MS = 80.0  # a full run estimated above this shows a reduced-size preview first
PREVIEW_BUDGET_MS = 35.0  # what the preview itself may cost
PREVIEW_FACTORS = (2, 3, 4, 6, 8, 12)
KEEP_ALL_BYTES = 24 << 20  # all stages' maps together above this: only the shown stage's
SETTLE_S = 0.12  # after a preview, wait this long for a newer request before the full run
STAGE_TITLES = {"conv": "convolution", "bn": "BatchNormalization", "relu": "ReLU",
                "pool": "max pooling"}


def stage_title(stage: str, settings: ExplorerSettings) -> str:
    """"convolution", ..., "max pooling" or "average pooling" (the settings' pooling kind)."""
    if stage == "pool" and settings.pool_mode == "avg":
        return "average pooling"
    return STAGE_TITLES[stage]


class CostModel:
    """Work units per millisecond, learnt from finished runs (the worker writes, the GUI reads).

    A unit is one multiply-add of the convolution; each output element of BN, ReLU and pooling
    counts as a few more, as they are memory-bound passes.
    """

    def __init__(self, rate: float = 20e6):
        self.rate = rate

    @staticmethod
    def units(settings: ExplorerSettings, height: int, width: int,
              plan: list[StagePlan] | None = None) -> float:
        """Work units of one run; ``plan`` is ``plan_explorer(settings, height, width)`` if known."""
        plan = plan if plan is not None else plan_explorer(settings, height, width)
        conv = next((st for st in plan if st.name == "conv"), None)
        if conv is None or conv.shape is None:
            return 0.0
        f, oh, ow = conv.shape
        c_group = settings.in_channels // settings.groups
        elements = f * oh * ow
        passes = 1 + 6 * settings.batch_norm + settings.relu + settings.pool ** 2
        # a transposed convolution multiplies once per weight per *input* position
        positions = height * width if settings.transposed else oh * ow
        return f * c_group * settings.kernel ** 2 * positions + 4.0 * passes * elements

    def learn(self, units: float, ms: float) -> None:
        if units > 1e6 and ms > 2.0:
            self.rate = 0.6 * self.rate + 0.4 * units / ms


@dataclass(frozen=True)
class ExplorerRequest:
    """Everything one run needs; built on the GUI thread from plain state (no arrays copied)."""

    image: np.ndarray  # (H, W, 3) float32
    image_key: int  # changes whenever the image does
    settings: ExplorerSettings
    stage: str | None = None  # which stage's maps to show; None = the last
    mode: str = "map"  # normalisation: "map" or "layer"
    aspect: float = 1.6
    cached: ExplorerResult | None = None  # the last full result, reused when it still fits;
    # held weakly (``previous()``): the pane lets go of a result a preview replaced, and a
    # running job must not keep its hundreds of MB beside the new result's
    cached_key: int = -1
    allow_preview: bool = True
    dragging: bool = False  # a slider is held: after a preview, wait for the next request
    plan: list[StagePlan] | None = None  # plan_explorer(settings, *image.shape[:2]), if made
    strip_aspect: float | None = None  # the kernel strip's view, width / height

    def __post_init__(self):
        cached = self.cached
        object.__setattr__(self, "_previous", weakref.ref(cached) if cached is not None else None)
        object.__setattr__(self, "cached", None)

    def previous(self) -> ExplorerResult | None:
        """The result given as ``cached``, while someone else (the pane) still holds it."""
        return self._previous() if self._previous is not None else None

    def shape_plan(self) -> list[StagePlan]:
        return self.plan if self.plan is not None else plan_explorer(self.settings,
                                                                     *self.image.shape[:2])


@dataclass
class ExplorerOutput:
    """A result ready to paint: the engine result, its montage and kernel strip, and timings."""

    result: ExplorerResult
    stage: str
    montage: Montage
    strip: tuple | None  # (image, layout) for KernelStrip.show_strip
    preview: bool
    factor: int  # preview reduction (1 for the full result)
    compute_ms: float
    display_ms: float
    image_key: int


@lru_cache(maxsize=1)
def _sample_photos() -> tuple:
    """The bundled sample photos, each scaled to a longest side of 512 (read once, read-only)."""
    photos = []
    for item in list_samples():
        try:
            photo = scale_to_longest(load_image(item), 512)[0]
        except (OSError, ValueError):
            continue  # a damaged install: learn from what is there
        photo.setflags(write=False)
        photos.append(photo)
    return tuple(photos)


def learning_photos(image: np.ndarray) -> list[np.ndarray]:
    """What the "Learned from photos (ICA)" bank learns from: the samples and the current photo.

    FastICA caches per photos, so the window, a preview and ``convlab export`` agree."""
    return [*_sample_photos(), image]


def _photos_for(settings: ExplorerSettings, image: np.ndarray):
    return learning_photos(image) if settings.bank in IMAGE_BANKS else None


def first_error(plan: list[StagePlan]) -> str:
    """Why these settings give no output ("" when they do)."""
    return next((st.error for st in plan if st.error), "")


def stages_to_keep(plan: list[StagePlan], wanted: str | None, budget: int | None = None):
    """None (every stage) while all stages' float32 maps together fit ``budget`` (default
    ``KEEP_ALL_BYTES``, 24 MB); else only the shown one (another stage is then computed again
    when it is asked for). The pane keeps one result on screen and the worker makes the next,
    so two results at most are resident."""
    plan = [st for st in plan if st.shape and st.name != "input"]
    budget = KEEP_ALL_BYTES if budget is None else budget
    if not plan or sum(4 * int(np.prod(st.shape)) for st in plan) <= budget:
        return None
    names = [st.name for st in plan]
    return (wanted if wanted in names else names[-1],)


def run_plan(plan: list[StagePlan], wanted: str | None) -> tuple[tuple | None, dict | None]:
    """``(keep, sample)`` for :func:`~convlab.engine.explorer.run_explorer`: the stages to keep
    (:func:`stages_to_keep`), and the shown stage sampled every ``step`` pixels when its
    montage shows no more than that (more maps than ``MAX_PIXELS``, 6 M pixels, 24 MB): then
    the result holds that sample and the statistics, not the stage (at most 290 MB)."""
    keep = stages_to_keep(plan, wanted)
    if keep is None:
        return None, None
    shape = next(st.shape for st in plan if st.name == keep[0])
    step = sample_step(*shape)
    return keep, ({keep[0]: step} if step > 1 else None)


def _stage(result: ExplorerResult, wanted: str | None) -> str:
    return wanted if wanted in result.maps else next(reversed(result.maps))


def _montage(req: ExplorerRequest, result: ExplorerResult, stage: str, *, cols=None,
             display_size=None, preview=False) -> Montage:
    m = build_montage(result.maps[stage], names=result.kernel_names, kernels=result.kernels,
                      mode=req.mode, aspect=req.aspect, cols=cols,
                      title=f"{stage_title(stage, result.settings)} output")
    m.preview, m.display_size = preview, display_size
    return m


def preview_factor(estimate_ms: float, budget_ms: float = PREVIEW_BUDGET_MS) -> int:
    """The smallest shrink factor whose run (cost / factor²) fits the budget."""
    for f in PREVIEW_FACTORS:
        if estimate_ms / (f * f) <= budget_ms:
            return f
    return PREVIEW_FACTORS[-1]


def passable_factor(settings: ExplorerSettings, height: int, width: int, wanted: int) -> int:
    """The largest factor up to ``wanted`` whose shrunk image still gives output (1 if none)."""
    for f in sorted((f for f in PREVIEW_FACTORS if f <= wanted), reverse=True):
        h, w = height // f, width // f
        if min(h, w) >= 8 and not any(st.error for st in plan_explorer(settings, h, w)):
            return f
    return 1


def _preview(req: ExplorerRequest, factor: int, job) -> None:
    t0 = time.perf_counter()
    small = block_mean(req.image, factor)
    try:
        small_plan = plan_explorer(req.settings, *small.shape[:2])
        keep, sample = run_plan(small_plan, req.stage)
        result = run_explorer(small, req.settings, should_stop=job.should_stop, keep=keep,
                              sample=sample, plan=small_plan,
                              images=_photos_for(req.settings, req.image))
    except ValueError:
        return  # the small image cannot pass the layer; the full one still can
    if not result.completed:
        return
    stage = _stage(result, req.stage)
    shape = next(st.shape for st in req.shape_plan() if st.name == stage)
    layout = plan_layout(shape[0], shape[1], shape[2], req.aspect)
    compute_ms = (time.perf_counter() - t0) * 1e3
    m = _montage(req, result, stage, cols=layout.cols, preview=True,
                 display_size=(layout.width, layout.height))
    job.preview(ExplorerOutput(result, stage, m, None, True, factor, compute_ms,
                               (time.perf_counter() - t0) * 1e3 - compute_ms, req.image_key))


def explorer_job(req: ExplorerRequest, cost: CostModel, job) -> ExplorerOutput | None:
    """Run in the worker: reuse or compute the result, preview first if heavy, build montages."""
    s, plan = req.settings, req.shape_plan()
    h, w = req.image.shape[:2]
    keep, sample = run_plan(plan, req.stage)
    previous = req.previous()
    result = previous if (previous is not None and req.cached_key == req.image_key
                          and previous.settings == s
                          and (keep is None or set(keep) <= set(previous.maps))) else None
    shown = previous.kernels if previous is not None else None  # the kernel strip on screen
    del previous  # held here, a replaced result would stay resident through the whole run
    t0 = time.perf_counter()
    if result is None:
        units = cost.units(s, h, w, plan)
        estimate = units / cost.rate
        heavy = req.allow_preview and estimate > HEAVY_MS
        factor = passable_factor(s, h, w, preview_factor(estimate)) if heavy else 1
        if factor > 1:
            _preview(req, factor, job)
            if job.wait_for_newer(SETTLE_S if req.dragging else 0.0):
                return None  # a newer request came (the drag goes on): skip the long run
            t0 = time.perf_counter()
        result = run_explorer(req.image, s, should_stop=job.should_stop, keep=keep,
                              sample=sample, plan=plan, images=_photos_for(s, req.image))
        if not result.completed:
            return None
        cost.learn(units, (time.perf_counter() - t0) * 1e3)
    compute_ms = sum(result.seconds.values()) * 1e3
    t1 = time.perf_counter()
    stage = _stage(result, req.stage)
    montage = _montage(req, result, stage)
    strip = (build_kernel_strip(result.kernels, aspect=req.strip_aspect)  # None: the strip on screen shows these kernels
             if result.kernels is not None and result.kernels is not shown else None)
    return ExplorerOutput(result, stage, montage, strip, False, 1, compute_ms,
                          (time.perf_counter() - t1) * 1e3, req.image_key)


def block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """Shrink an ``(H, W, C)`` image by an integer factor, averaging factor x factor blocks."""
    if factor <= 1:
        return image
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    if h == 0 or w == 0:
        return image
    blocks = image[:h, :w].reshape(h // factor, factor, w // factor, factor, -1)
    return np.ascontiguousarray(blocks.mean(axis=(1, 3), dtype=np.float32))
