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
from convlab.engine.arithmetic import axis_coverage, effective_kernel
from convlab.engine.backend import get_backend, to_numpy
from convlab.engine.kernels import BANKS, make_bank

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
        if self.bank not in BANKS:
            raise ValueError(f"unknown kernel bank {self.bank!r}; choose one of {', '.join(BANKS)}.")
        return self


@dataclass
class StagePlan:
    """One stage of the readout: its output shape and the arithmetic that gives it."""

    name: str  # "input", "conv", "bn", "relu", "pool"
    shape: tuple[int, int, int] | None
    formula: str = ""
    note: str = ""
    error: str = ""


def _axis_formula(size, k, s, p, d, cover_all, axis):
    """``(out, "H: ⌊(512 + 2×0 − 11) / 4⌋ + 1 = 126", note)`` for one axis."""
    cov = axis_coverage(size, k, s, p, d, cover_all)
    dk = effective_kernel(k, d)
    span = str(k) if d == 1 else f"{dk}"
    num = size + 2 * p - dk
    if cover_all:
        text = f"⌈({size} + 2×{p} − {span}) / {s}⌉ + 1 = ⌈{num}/{s}⌉ + 1 = {cov.out}"
    else:
        text = f"⌊({size} + 2×{p} − {span}) / {s}⌋ + 1 = ⌊{num}/{s}⌋ + 1 = {cov.out}"
    return cov, f"{axis}: {text}"


def _rows_cols(rows: int, cols: int) -> str:
    """"2 rows and 1 column", "1 column": only the axes that have any."""
    parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in ((rows, "row"), (cols, "column")) if n]
    return " and ".join(parts)


def _coverage_note(cov_h, cov_w, cover_all: bool, what: str) -> str:
    if cover_all:
        if cov_h.extra or cov_w.extra:
            return (f"cover_all keeps a last partial {what} window that reaches "
                    f"{_rows_cols(cov_h.extra, cov_w.extra)} past the edge (PyTorch: ceil_mode=True).")
        return ""
    if cov_h.dropped or cov_w.dropped:
        return (f"The stride does not divide evenly: the last {_rows_cols(cov_h.dropped, cov_w.dropped)} "
                f"are never covered by any {what} window.")
    return ""


def _stage(name, shape, k, s, p, d, cover_all, what) -> StagePlan:
    c, h, w = shape
    try:
        cov_h, fh = _axis_formula(h, k, s, p, d, cover_all, "H")
        cov_w, fw = _axis_formula(w, k, s, p, d, cover_all, "W")
    except ValueError as exc:
        return StagePlan(name, None, error=str(exc))
    formula = fh if h == w else f"{fh};  {fw}"
    if h == w:
        formula = "H = W" + formula[1:]
    note = _coverage_note(cov_h, cov_w, cover_all, what)
    return StagePlan(name, (c, cov_h.out, cov_w.out), formula, note)


def plan_explorer(settings: ExplorerSettings, height: int, width: int) -> list[StagePlan]:
    """The readout: input, conv, (bn), (relu), (pool) shapes with formulas, never raising.

    A stage that cannot produce output has ``error`` set and no shape; later stages are omitted.
    """
    s = settings
    c_in = 1 if s.grayscale else 3
    stages = [StagePlan("input", (c_in, height, width), note="grayscale" if s.grayscale else "RGB")]
    conv = _stage("conv", (s.filters, height, width), s.kernel, s.stride, s.padding, s.dilation,
                  False, "kernel")
    if s.padding and conv.shape:
        conv.note = (f"Padding {s.padding} adds {_rows_cols(s.padding, s.padding)} of zeros on every side. "
                     + conv.note).strip()
    if s.dilation > 1 and conv.shape:
        conv.note = (f"Dilation {s.dilation} spreads the {s.kernel}x{s.kernel} kernel over "
                     f"{effective_kernel(s.kernel, s.dilation)} pixels. " + conv.note).strip()
    stages.append(conv)
    if conv.shape is None:
        return stages
    if s.batch_norm:
        stages.append(StagePlan("bn", conv.shape, note="shape unchanged; each map scaled to mean 0, variance 1"))
    if s.relu:
        stages.append(StagePlan("relu", conv.shape, note="shape unchanged; negatives set to 0"))
    if s.pool > 1:
        stages.append(_stage("pool", conv.shape, s.pool, s.pool_stride, 0, 1, s.cover_all, "pooling"))
    return stages


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
                 keep: Collection[str] | None = None,
                 plan: list[StagePlan] | None = None) -> ExplorerResult:
    """Run conv -> BN -> ReLU -> pool on ``image`` (``(H, W, 3)`` in [0, 1]).

    ``should_stop`` is asked between stages and between the convolution's row tiles; an
    abandoned run returns ``completed=False``.
    ``keep`` names the stages whose maps are returned (default all): at heavy settings each
    stage is hundreds of MB. ``plan`` is ``plan_explorer(settings, H, W)`` when the caller
    already made it (the window plans once per slider step). Raises ``ValueError`` (with the
    plan's sentence) when the settings give no output.
    """
    s = settings.validate()
    plan = plan if plan is not None else plan_explorer(s, image.shape[0], image.shape[1])
    failed = next((st for st in plan if st.error), None)
    if failed is not None:
        raise ValueError(failed.error)
    xp = xp or get_backend().xp
    weights, names, note = _cached_bank(s.bank, s.filters, 1 if s.grayscale else 3, s.kernel, s.seed)
    result = ExplorerResult(s, plan, kernels=weights, kernel_names=list(names), kernel_note=note)
    h = xp.asarray(prepare_input(image, s.grayscale))
    steps = [("conv", lambda v: ops.conv2d(v, xp.asarray(weights), stride=s.stride, pad=s.padding,
                                           dilation=s.dilation, should_stop=should_stop))]
    if s.batch_norm:
        ones, zeros = xp.ones(s.filters, np.float32), xp.zeros(s.filters, np.float32)
        steps.append(("bn", lambda v: ops.batch_norm(v, ones, zeros)))
    if s.relu:
        steps.append(("relu", ops.relu))
    if s.pool > 1:
        steps.append(("pool", lambda v: ops.max_pool2d(v, s.pool, stride=s.pool_stride,
                                                        cover_all=s.cover_all)))
    for name, fn in steps:
        if should_stop is not None and should_stop():
            result.completed = False
            break
        t0 = time.perf_counter()
        try:
            h = fn(h)
        except ops.Cancelled:  # the convolution asks should_stop between row tiles too
            result.completed = False
            break
        if keep is None or name in keep:
            result.maps[name] = to_numpy(h)[0]
        result.seconds[name] = time.perf_counter() - t0
    return result
