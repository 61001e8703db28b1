"""The arithmetic diagram as data (no Qt): a kernel window walking over a padded grid.

In the spirit of Dumoulin and Visin, "A guide to convolution arithmetic for deep learning"
(2016): the padded input grid, the k x k window with its dilation gaps, its path by the
stride, and the output grid, from the same numbers as the readout
(:mod:`convlab.engine.arithmetic`). Coordinates are *padded* cells: cell ``c`` of an axis is
input index ``c - before``. Per axis, output ``o``'s window starts at cell ``o * stride`` and
its taps sit at ``start + u * dilation`` (``u < k``); it spans ``dk = d(k - 1) + 1`` cells.

A transposed convolution is drawn as Dumoulin and Visin draw it: the equivalent stride-1
convolution over the input with ``s - 1`` zeros inserted between pixels and ``dk - 1 - p``
zeros of padding on each side, so the output size is ``s(in - 1) + dk - 2p``
(``arithmetic.deconv_out_size``).

Large inputs (over ``MAX_CELLS`` per axis) show only the top-left corner (or, on request, the
bottom-right one, where uncovered rows and partial windows are), to scale: enough
cells for five windows per axis (``span + 4 stride``, at least 12, at most ``MAX_CELLS``),
with the full counts written out; the window positions played are those in the corner.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from convlab.engine.arithmetic import conv_out_size, deconv_out_size, effective_kernel

MAX_CELLS = 28  # padded cells drawn per axis at most; larger inputs show their top-left corner
CORNER_STEPS, CORNER_MIN = 4, 12  # a corner holds 5 windows per axis (4 strides), >= 12 cells


@dataclass(frozen=True)
class AxisWalk:
    """One axis of the walk. ``cells`` = ``before + span + after`` where ``span`` is the input
    (``size``, or ``s(size - 1) + 1`` with inserted zeros when ``spread`` > 1)."""

    size: int  # input pixels on this axis
    kernel: int
    stride: int  # the window's step (1 for a transposed convolution, drawn as above)
    dilation: int
    before: int  # padding cells before the input
    after: int  # padding cells after it
    cover_all: bool
    out: int  # windows along this axis
    spread: int = 1  # input pixels sit every `spread` cells (a transposed stride), zeros between
    shown: int = 0  # cells drawn (the corner); set by build_axis
    first: int = 0  # the first cell drawn: 0 for the top-left corner, later for the bottom-right

    @cached_property
    def span(self) -> int:
        """Cells the kernel window spans: ``d(k - 1) + 1``."""
        return effective_kernel(self.kernel, self.dilation)

    @cached_property
    def cells(self) -> int:
        return self.before + self.spread * (self.size - 1) + 1 + self.after

    @cached_property
    def reach(self) -> int:
        """One past the last cell any window spans."""
        return (self.out - 1) * self.stride + self.span

    @cached_property
    def dropped(self) -> int:
        """Trailing cells no window spans (``axis_coverage(...).dropped``)."""
        return max(0, self.cells - self.reach)

    @cached_property
    def extra(self) -> int:
        """Cells past the padded edge that the last, partial window reaches (``cover_all``)."""
        return max(0, self.reach - self.cells)

    @cached_property
    def partial(self) -> int:
        """Windows on this axis reaching past the edge: 0 or 1 (only the last one can)."""
        return int(self.extra > 0)

    def start(self, o: int) -> int:
        return o * self.stride

    def taps(self, o: int) -> tuple[int, ...]:
        return tuple(o * self.stride + u * self.dilation for u in range(self.kernel))

    def is_input(self, cell: int) -> bool:
        """True where the cell holds an input pixel (not padding, not an inserted zero)."""
        offset = cell - self.before
        return 0 <= offset <= self.spread * (self.size - 1) and offset % self.spread == 0

    def unspanned(self) -> tuple[int, ...]:
        """Cells no window spans: the ``dropped`` trailing ones, and the gaps between windows
        when the stride exceeds the span."""
        spanned = set()
        for o in range(self.out):
            spanned.update(range(self.start(o), self.start(o) + self.span))
        return tuple(c for c in range(self.cells) if c not in spanned)

    def untapped(self) -> tuple[int, ...]:
        """Input cells that no window's tap reads (trailing ones, and dilation gaps skipped)."""
        read = {c for o in range(self.out) for c in self.taps(o)}
        return tuple(c for c in range(self.cells) if self.is_input(c) and c not in read)

    def played(self) -> range:
        """The output indices whose windows lie in the drawn cells (at least one)."""
        return self._played

    @cached_property
    def _played(self) -> range:
        if self.shown >= self.cells + self.extra:
            return range(self.out)
        if self.first == 0:
            return range(max(1, min(self.out, (self.shown - self.span) // self.stride + 1)))
        low = min(self.out - 1, -(-self.first // self.stride))  # the first start >= first
        return range(low, self.out)


def build_axis(size: int, k: int, s: int = 1, pad=(0, 0), d: int = 1, cover_all: bool = False,
               *, transposed: bool = False, max_cells: int = MAX_CELLS,
               corner: str = "top-left") -> AxisWalk:
    """The walk along one axis; ``pad`` is ``(before, after)``; ``corner`` "top-left" or
    "bottom-right" (the end of the axis, where uncovered and partial windows are). Raises ``ValueError`` (the
    arithmetic's sentence) when there is no output, or when a transposed convolution's padding
    crops more than ``dk - 1`` (not drawable as a padded convolution)."""
    before, after = pad
    if transposed:
        out = deconv_out_size(size, k, s, before, d)
        edge = effective_kernel(k, d) - 1 - before
        if edge < 0:
            raise ValueError(f"The padding {before} crops more than the kernel spans "
                             f"({effective_kernel(k, d)} - 1): no padded grid to draw.")
        walk = AxisWalk(size, k, 1, d, edge, edge, False, out, spread=s)
    else:
        out = conv_out_size(size, k, s, (before, after), d, cover_all)
        walk = AxisWalk(size, k, s, d, before, after, cover_all, out)
    full = walk.cells + walk.extra
    corner_cells = max(walk.span, min(max_cells, max(CORNER_MIN,
                                                     walk.span + CORNER_STEPS * walk.stride)))
    shown = full if full <= max_cells else corner_cells
    first = full - shown if corner == "bottom-right" else 0
    return replace(walk, shown=shown, first=first)


@dataclass(frozen=True)
class WindowBox:
    """Window number ``index`` (raster order) of the played positions."""

    index: int
    i: int  # output row
    j: int  # output column
    rows: tuple[int, ...]  # padded cells of its taps
    cols: tuple[int, ...]
    partial: bool  # it reaches past the padded edge (cover_all)

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` in padded cells, bottom/right exclusive."""
        return self.rows[0], self.cols[0], self.rows[-1] + 1, self.cols[-1] + 1


@dataclass(frozen=True)
class Diagram:
    """The two axes and the windows played (``count`` of them, in raster order)."""

    rows: AxisWalk
    cols: AxisWalk
    stage: str  # "conv", "deconv" or "pool"

    @cached_property
    def out_rows(self) -> int:
        return len(self.rows.played())

    @cached_property
    def out_cols(self) -> int:
        return len(self.cols.played())

    @cached_property
    def count(self) -> int:
        return self.out_rows * self.out_cols

    @cached_property
    def corner(self) -> bool:
        """True when only a corner (top-left or bottom-right) is drawn."""
        return self.count < self.rows.out * self.cols.out

    @cached_property
    def partial_windows(self) -> int:
        """Windows (of the whole output) reaching past the bottom or right edge."""
        ph, pw = self.rows.partial, self.cols.partial
        return ph * self.cols.out + pw * self.rows.out - ph * pw

    def window(self, index: int) -> WindowBox:
        i, j = divmod(index % self.count, self.out_cols)
        i, j = self.rows.played()[i], self.cols.played()[j]
        partial = (self.rows.partial and i == self.rows.out - 1) or (
            self.cols.partial and j == self.cols.out - 1)
        return WindowBox(index % self.count, i, j, self.rows.taps(i), self.cols.taps(j),
                         bool(partial))

    def windows(self):
        return (self.window(n) for n in range(self.count))


def diagram_for(settings, stage: str, height: int, width: int, *,
                max_cells: int = MAX_CELLS, corner: str = "top-left") -> Diagram:
    """The diagram of the explorer's ``stage`` ("conv" or "pool") for an input of
    ``height x width`` (the photo at "Explore at"); ``settings`` an ``ExplorerSettings``.
    The pool stage walks over the convolution's output. ``ValueError`` when there is no output."""
    s = settings
    if stage == "pool":
        if s.pool <= 1:
            raise ValueError("Pooling is off (window 1): no pooling windows to draw.")
        conv = diagram_for(s, "conv", height, width, max_cells=max_cells)
        h, w = conv.rows.out, conv.cols.out
        cover_all = s.cover_all and getattr(s, "pool_mode", "max") == "max"  # avg: floor
        rows, cols = (build_axis(n, s.pool, s.pool_stride, (0, 0), 1, cover_all,
                                 max_cells=max_cells, corner=corner) for n in (h, w))
        return Diagram(rows, cols, "pool")
    (top, bottom), (left, right) = s.conv_pad()
    if s.transposed:
        top, bottom, left, right = s.padding, s.padding, s.padding, s.padding
    rows = build_axis(height, s.kernel, s.stride, (top, bottom), s.dilation,
                      transposed=s.transposed, max_cells=max_cells, corner=corner)
    cols = build_axis(width, s.kernel, s.stride, (left, right), s.dilation,
                      transposed=s.transposed, max_cells=max_cells, corner=corner)
    return Diagram(rows, cols, "deconv" if s.transposed else "conv")


def axis_text(walk: AxisWalk, name: str) -> str:
    """``"rows: 341 input + 0 + 0 padding -> 83 outputs; 2 never covered"``."""
    pad = (f"{walk.before} + {walk.after} padding" if walk.spread == 1 else
           f"{walk.spread - 1} zero{'s' if walk.spread > 2 else ''} between pixels, "
           f"{walk.before} + {walk.after} padding")
    text = f"{name}: {walk.size} input, {pad} -> {walk.out} outputs"
    if walk.dropped:
        text += f"; the last {walk.dropped} never covered"
    if walk.extra:
        text += f"; the last window reaches {walk.extra} past the edge"
    return text

