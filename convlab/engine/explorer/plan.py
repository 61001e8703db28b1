"""The explorer's readout as data: every stage's shape with its formula, numbers filled in.

Integer arithmetic only (no arrays), so the window draws it at once on every slider step.
``plan_explorer(settings, height, width)`` takes an
:class:`~convlab.engine.explorer.ExplorerSettings` (read through its attributes and
``conv_pad()``; this module does not import it). Per axis::

    convolution     ⌊(in + before + after − dk) / s⌋ + 1      dk = d(k − 1) + 1
    transposed      s(in − 1) + dk − 2p                        (Chainer's Deconvolution2D)
    pooling         ⌈(in − k) / s⌉ + 1 with cover_all, ⌊(in − k) / s⌋ + 1 without
                    (average pooling, Chainer's F.average_pooling_2d, has no cover_all: floor)
"""

from __future__ import annotations

from dataclasses import dataclass

from convlab.engine.arithmetic import axis_coverage, deconv_out_size, effective_kernel
from convlab.engine.wording import count_noun

MAX_TRANSPOSED_VALUES = 1 << 27  # 512 MB of float32 per stage: larger transposed outputs refused


@dataclass
class StagePlan:
    """One stage of the readout: its output shape and the arithmetic that gives it."""

    name: str  # "input", "conv", "bn", "relu", "pool"
    shape: tuple[int, int, int] | None
    formula: str = ""
    note: str = ""
    error: str = ""


def _pad_terms(before: int, after: int) -> str:
    """``2×3`` for equal sides, ``4 + 5`` for PyTorch's "same" with an even kernel."""
    return f"2×{before}" if before == after else f"{before} + {after}"


def _axis_formula(size, k, s, pads, d, cover_all, axis, what="kernel"):
    """``(coverage, "H: ⌊(512 + 2×0 − 11) / 4⌋ + 1 = ⌊501/4⌋ + 1 = 126")`` for one axis."""
    before, after = pads
    cov = axis_coverage(size, k, s, (before, after), d, cover_all, what=what)
    dk = effective_kernel(k, d)
    num = size + before + after - dk
    left = f"({size} + {_pad_terms(before, after)} − {dk})"
    if cover_all:
        text = f"⌈{left} / {s}⌉ + 1 = ⌈{num}/{s}⌉ + 1 = {cov.out}"
    else:
        text = f"⌊{left} / {s}⌋ + 1 = ⌊{num}/{s}⌋ + 1 = {cov.out}"
    return cov, f"{axis}: {text}"


def _rows_cols(rows: int, cols: int) -> str:
    """"2 rows and 1 column", "1 column": only the axes that have any."""
    return " and ".join(count_noun(n, word) for n, word in ((rows, "row"), (cols, "column")) if n)


def _last_rows_cols(rows: int, cols: int) -> str:
    """"the last row is", "the last 3 rows are", "the last row and the last column are"."""
    parts = [f"the last {word}" if n == 1 else f"the last {count_noun(n, word)}"
             for n, word in ((rows, "row"), (cols, "column")) if n]
    many = len(parts) > 1 or max(rows, cols) > 1
    return " and ".join(parts) + (" are" if many else " is")


def _coverage_note(cov_h, cov_w, cover_all: bool, what: str) -> str:
    if cover_all:
        if cov_h.extra or cov_w.extra:
            return (f"cover_all keeps a last partial {what} window that reaches "
                    f"{_rows_cols(cov_h.extra, cov_w.extra)} past the edge (PyTorch: ceil_mode=True).")
        return ""
    if cov_h.dropped or cov_w.dropped:
        return (f"The stride does not divide evenly: {_last_rows_cols(cov_h.dropped, cov_w.dropped)} "
                f"never covered by any {what} window.")
    return ""


def _joined(name, channels, fh, fw, out_h, out_w, note="") -> StagePlan:
    """One stage from its two axis formulas ("H = W: ..." when they read the same)."""
    formula = "H = W" + fh[1:] if fh[1:] == fw[1:] else f"{fh};  {fw}"
    return StagePlan(name, (channels, out_h, out_w), formula, note)


def _stage(name, shape, k, s, pads, d, cover_all, what) -> StagePlan:
    """A convolution or pooling stage; ``pads`` is ``((top, bottom), (left, right))``."""
    c, h, w = shape
    try:
        window = "pooling window" if what == "pooling" else what
        cov_h, fh = _axis_formula(h, k, s, pads[0], d, cover_all, "H", window)
        cov_w, fw = _axis_formula(w, k, s, pads[1], d, cover_all, "W", window)
    except ValueError as exc:
        return StagePlan(name, None, error=str(exc))
    return _joined(name, c, fh, fw, cov_h.out, cov_w.out,
                   _coverage_note(cov_h, cov_w, cover_all, what))


def _transposed_stage(s, height: int, width: int) -> StagePlan:
    """The transposed convolution: ``s(in − 1) + dk − 2p`` per axis; huge outputs refused."""
    dk = effective_kernel(s.kernel, s.dilation)
    try:
        out_h, out_w = (deconv_out_size(n, s.kernel, s.stride, s.padding, s.dilation)
                        for n in (height, width))
    except ValueError as exc:
        return StagePlan("conv", None, error=str(exc))
    fh, fw = (f"{axis}: {s.stride}×({n} − 1) + {dk} − 2×{s.padding} = {out}"
              for axis, n, out in (("H", height, out_h), ("W", width, out_w)))
    values = s.filters * out_h * out_w
    if values > MAX_TRANSPOSED_VALUES:
        return StagePlan("conv", None, error=(
            f"The transposed output would hold {s.filters} × {out_h} × {out_w} = {values:,} "
            f"values ({4 * values / 2**30:.1f} GB); lower the stride, the filters or "
            "'Explore at'."))
    plan = _joined("conv", s.filters, fh, fw, out_h, out_w)
    plan.note = (f"Transposed convolution: every input pixel stamps the {s.kernel}×{s.kernel} "
                 f"kernel, scaled by its value, onto the output {s.stride} pixels apart, and "
                 "overlapping stamps add up"
                 + (" (unevenly when the stride does not divide the kernel: checkerboard "
                    "artefacts)" if s.stride > 1 and s.kernel % s.stride else "")
                 + (f"; padding {s.padding} crops {s.padding} from every side." if s.padding
                    else "."))
    return plan


def _conv_notes(s, conv: StagePlan) -> None:
    """Padding, dilation and groups explained in the conv stage's note."""
    (top, bottom), (left, right) = s.conv_pad()
    notes = []
    if s.same and not s.transposed:
        notes.append(f"'same' padding: {count_noun(top, 'row')} on top and {bottom} at the "
                     f"bottom, {count_noun(left, 'column')} on the left and {right} on "
                     "the right" + (" (the extra one bottom/right, as PyTorch's padding=\"same\")"
                                    if (top, left) != (bottom, right) else "") + ".")
    elif s.padding and not s.transposed:
        notes.append(f"Padding {s.padding} adds {_rows_cols(s.padding, s.padding)} of zeros on "
                     "every side.")
    if s.dilation > 1:
        notes.append(f"Dilation {s.dilation} spreads the {s.kernel}x{s.kernel} kernel over "
                     f"{effective_kernel(s.kernel, s.dilation)} pixels.")
    if s.groups > 1:
        notes.append(f"Groups {s.groups}: the {s.filters} filters split into {s.groups} groups of "
                     f"{s.filters // s.groups}, each seeing {s.in_channels // s.groups} of the "
                     f"{s.in_channels} input channels (1/{s.groups} of the weights).")
    conv.note = " ".join(notes + ([conv.note] if conv.note else []))


def plan_explorer(settings, height: int, width: int) -> list[StagePlan]:
    """The readout: input, conv, (bn), (relu), (pool) shapes with formulas, never raising.

    A stage that cannot produce output has ``error`` set and no shape; later stages are omitted.
    """
    s = settings
    c_in = s.in_channels
    stages = [StagePlan("input", (c_in, height, width), note="grayscale" if s.grayscale else "RGB")]
    if c_in % s.groups or s.filters % s.groups:
        conv = StagePlan("conv", None, error=(
            f"Groups {s.groups} must divide both the {count_noun(c_in, 'input channel')} "
            f"and the {count_noun(s.filters, 'filter')}."))
    elif s.transposed:
        conv = _transposed_stage(s, height, width)
    else:
        conv = _stage("conv", (s.filters, height, width), s.kernel, s.stride, s.conv_pad(),
                      s.dilation, False, "kernel")
    if conv.shape:
        _conv_notes(s, conv)
    stages.append(conv)
    if conv.shape is None:
        return stages
    if s.batch_norm:
        stages.append(StagePlan("bn", conv.shape, note="shape unchanged; each map scaled to mean 0, variance 1"))
    if s.relu:
        stages.append(StagePlan("relu", conv.shape, note="shape unchanged; negatives set to 0"))
    if s.pool > 1:
        pool = _stage("pool", conv.shape, s.pool, s.pool_stride, ((0, 0), (0, 0)), 1,
                      s.pool_cover_all, "pooling")
        if s.pool_mode == "avg" and pool.shape:
            mean = (f"Average pooling: each output is the mean of its {s.pool}×{s.pool} window "
                    f"(sum / {s.pool * s.pool}); no cover_all, so the size rounds down.")
            pool.note = f"{mean} {pool.note}" if pool.note else mean
        stages.append(pool)
    return stages
