"""The explorer's settings (validated, with the sliders' limits) and its result: the seed
article's conv1 block as data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from convlab.engine.arithmetic.sizes import effective_kernel
from convlab.engine.explorer.kernels import BANKS, IMAGE_BANKS
from convlab.engine.explorer.plan import StagePlan

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601, as Pillow's "L"

# name: (minimum, maximum) of every integer setting, as the sliders and the CLI enforce them
LIMITS = {"kernel": (1, 15), "stride": (1, 8), "padding": (0, 10), "dilation": (1, 4),
          "filters": (1, 256), "pool": (1, 6), "pool_stride": (1, 6)}
# pooling kinds: Chainer's F.max_pooling_2d and F.average_pooling_2d (zero padding counted, and
# no cover_all: its output size is always the floor formula)
POOL_MODES = ("max", "avg")


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
    pool_mode: str = "max"  # "max" or "avg" (average pooling: no cover_all)

    @property
    def in_channels(self) -> int:
        return 1 if self.grayscale else 3

    @property
    def pool_cover_all(self) -> bool:
        """``cover_all`` as the pooling runs it: average pooling has none (Chainer's
        ``F.average_pooling_2d`` sizes its output by the floor formula), max pooling the setting."""
        return self.cover_all and self.pool_mode == "max"

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
        if self.pool_mode not in POOL_MODES:
            raise ValueError(f"pool mode must be one of {', '.join(POOL_MODES)}, "
                             f"got {self.pool_mode!r}.")
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
