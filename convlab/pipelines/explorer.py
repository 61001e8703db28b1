"""What the explorer's worker runs: the pipeline, a quick preview first when it is heavy, and
the montages, all NumPy, no Qt. The GUI thread only builds an :class:`ExplorerRequest`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from convlab.engine.explorer import ExplorerResult, ExplorerSettings, plan_explorer, run_explorer
from convlab.render.tiles import Montage, block_mean, build_kernel_strip, build_montage, plan_layout

HEAVY_MS = 80.0  # a full run estimated above this shows a reduced-size preview first
PREVIEW_BUDGET_MS = 35.0  # what the preview itself may cost
PREVIEW_FACTORS = (2, 3, 4, 6, 8, 12)
STAGE_BYTES = 128 << 20  # above this per stage, only the shown stage's maps are kept
SETTLE_S = 0.12  # after a preview, wait this long for a newer request before the full run
STAGE_TITLES = {"conv": "convolution", "bn": "BatchNormalization", "relu": "ReLU",
                "pool": "max pooling"}


class CostModel:
    """Work units per millisecond, learnt from finished runs (the worker writes, the GUI reads).

    A unit is one multiply-add of the convolution; each output element of BN, ReLU and pooling
    counts as a few more, as they are memory-bound passes.
    """

    def __init__(self, rate: float = 20e6):
        self.rate = rate

    @staticmethod
    def units(settings: ExplorerSettings, height: int, width: int) -> float:
        plan = plan_explorer(settings, height, width)
        conv = next((st for st in plan if st.name == "conv"), None)
        if conv is None or conv.shape is None:
            return 0.0
        f, oh, ow = conv.shape
        c_in = 1 if settings.grayscale else 3
        elements = f * oh * ow
        passes = 1 + 6 * settings.batch_norm + settings.relu + settings.pool ** 2
        return f * c_in * settings.kernel ** 2 * oh * ow + 4.0 * passes * elements

    def estimate_ms(self, settings, height, width) -> float:
        return self.units(settings, height, width) / self.rate

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
    normalise: str = "map"
    aspect: float = 1.6
    cached: ExplorerResult | None = None  # the last full result, reused when it still fits
    cached_key: int = -1
    allow_preview: bool = True
    dragging: bool = False  # a slider is held: after a preview, wait for the next request


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


def stages_to_keep(s: ExplorerSettings, height: int, width: int, wanted: str | None):
    """None (every stage) unless one stage's maps exceed STAGE_BYTES; then only the shown one."""
    plan = [st for st in plan_explorer(s, height, width) if st.shape and st.name != "input"]
    if not plan or 4 * int(np.prod(plan[0].shape)) <= STAGE_BYTES:
        return None
    names = [st.name for st in plan]
    return (wanted if wanted in names else names[-1],)


def _stage(result: ExplorerResult, wanted: str | None) -> str:
    return wanted if wanted in result.maps else next(reversed(result.maps))


def _montage(req: ExplorerRequest, result: ExplorerResult, stage: str, *, cols=None,
             display_size=None, preview=False) -> Montage:
    m = build_montage(result.maps[stage], names=result.kernel_names, kernels=result.kernels,
                      normalise=req.normalise, aspect=req.aspect, cols=cols,
                      title=f"{STAGE_TITLES[stage]} output")
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
        result = run_explorer(small, req.settings, should_stop=job.should_stop)
    except ValueError:
        return  # the small image cannot pass the layer; the full one still can
    if not result.completed:
        return
    stage = _stage(result, req.stage)
    full = plan_explorer(req.settings, *req.image.shape[:2])
    shape = next(st.shape for st in full if st.name == stage)
    layout = plan_layout(shape[0], shape[1], shape[2], req.aspect)
    compute_ms = (time.perf_counter() - t0) * 1e3
    m = _montage(req, result, stage, cols=layout.cols, preview=True,
                 display_size=(layout.width, layout.height))
    job.preview(ExplorerOutput(result, stage, m, None, True, factor, compute_ms,
                               (time.perf_counter() - t0) * 1e3 - compute_ms, req.image_key))


def explorer_job(req: ExplorerRequest, cost: CostModel, job) -> ExplorerOutput | None:
    """Run in the worker: reuse or compute the result, preview first if heavy, build montages."""
    s = req.settings
    h, w = req.image.shape[:2]
    keep = stages_to_keep(s, h, w, req.stage)
    result = req.cached if (req.cached is not None and req.cached_key == req.image_key
                            and req.cached.settings == s
                            and (keep is None or set(keep) <= set(req.cached.maps))) else None
    t0 = time.perf_counter()
    if result is None:
        units = cost.units(s, h, w)
        estimate = units / cost.rate
        heavy = req.allow_preview and estimate > HEAVY_MS
        factor = passable_factor(s, h, w, preview_factor(estimate)) if heavy else 1
        if factor > 1:
            _preview(req, factor, job)
            if job.wait_for_newer(SETTLE_S if req.dragging else 0.0):
                return None  # a newer request came (the drag goes on): skip the long run
            t0 = time.perf_counter()
        result = run_explorer(req.image, s, should_stop=job.should_stop, keep=keep)
        if not result.completed:
            return None
        cost.learn(units, (time.perf_counter() - t0) * 1e3)
    compute_ms = sum(result.seconds.values()) * 1e3
    t1 = time.perf_counter()
    stage = _stage(result, req.stage)
    montage = _montage(req, result, stage)
    strip = build_kernel_strip(result.kernels) if result.kernels is not None else None
    return ExplorerOutput(result, stage, montage, strip, False, 1, compute_ms,
                          (time.perf_counter() - t1) * 1e3, req.image_key)
