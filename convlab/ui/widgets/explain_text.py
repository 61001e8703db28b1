"""The words and numbers of an explained value, as HTML (no widgets; the panel shows it).

:func:`explanation_html` turns a :class:`~convlab.pipelines.explaining.Explanation` into the
detail panel's text: conv (window, per-channel sums, bias, result; every number when the
kernel is small), BN (mean, variance, gamma, beta, result), ReLU (input, output), pooling (the
window, and for max pooling the winner's convolution, BN and ReLU; for average pooling the
mean). The map's value is written with :data:`VALUE_DIGITS` significant digits.
"""

from __future__ import annotations

import numpy as np

from convlab.pipelines.explaining import Explanation

VALUE_DIGITS = 6  # the explained value, as on the map (at least 4 significant digits)
FULL_TERMS = 75  # C*kh*kw up to this: every patch value, weight and product as a table
STAGE_TITLES = {"conv": "Convolution", "bn": "BatchNormalization", "relu": "ReLU",
                "pool": "Max pooling"}
RGB = ("R", "G", "B")


def num(v: float, digits: int = 4) -> str:
    return f"{v:.{digits}g}"


def value_text(v: float) -> str:
    return f"{v:.{VALUE_DIGITS}g}"


def channel_name(c: int, count: int) -> str:
    return RGB[c] if count == 3 else ("grey" if count == 1 else f"channel {c}")


def _span(taps: np.ndarray) -> str:
    step = int(taps[1] - taps[0]) if len(taps) > 1 else 1
    gap = f" every {step}" if step > 1 else ""
    return f"{int(taps[0])}…{int(taps[-1])}{gap}"


def _table(values: np.ndarray, bold=None, pad=None) -> str:
    """A small numeric grid; ``bold`` (r, c) is emphasised, ``pad`` marks cells in the padding."""
    rows = []
    for r, line in enumerate(values):
        cells = []
        for c, v in enumerate(line):
            style = "color:#e0963c;" if pad is not None and pad[r, c] else ""
            text = "·" if not np.isfinite(v) else num(float(v), 3)
            if bold == (r, c):
                text, style = f"<b>{text}</b>", style + "background:#7a2e2e;"
            cells.append(f"<td align='right' style='{style}'>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table cellspacing='0' cellpadding='2'>" + "".join(rows) + "</table>"


def conv_html(e: Explanation, terms, *, title: str = "") -> str:
    """The convolution part: taps, per-channel sums (all terms when small), bias, sum."""
    kh, kw = len(terms.rows), len(terms.cols)
    h, w = e.input_hw
    pad = ~(((terms.rows >= 0) & (terms.rows < h))[:, None] & ((terms.cols >= 0) & (terms.cols < w))[None, :])
    n_pad = int(pad.sum())
    count = len(terms.per_channel)
    parts = [title or f"<b>Window</b>: rows {_span(terms.rows)}, columns {_span(terms.cols)} "
             f"({kh}×{kw} taps × {count} channel{'s' * (count != 1)})"
             + (f"; {n_pad} taps in the padding (value 0)" if n_pad else "")]
    if count * kh * kw <= FULL_TERMS:
        for c in range(count):
            name = channel_name(c, count)
            parts.append(f"<br><b>{name}</b>: patch<br>{_table(terms.patch[c], pad=pad)}"
                         f"× kernel<br>{_table(terms.weights[c])}"
                         f"= products<br>{_table(terms.patch[c] * terms.weights[c], pad=pad)}")
    sums = " + ".join(f"{num(float(v))} <small>({channel_name(c, count)})</small>"
                      for c, v in enumerate(terms.per_channel[:8]))
    if count > 8:
        sums += f" + … ({count - 8} more channels)"
    parts.append(f"<br><b>Sum of products per channel</b>: {sums}")
    parts.append(f"<br>+ bias {num(terms.bias)} = <b>{num(terms.value, VALUE_DIGITS)}</b>")
    return "".join(parts)


def bn_html(bn) -> str:
    return (f"<b>BatchNormalization</b> (batch statistics of this map)<br>"
            f"x = {num(bn.x)} (the convolution's output)<br>"
            f"mean μ = {num(bn.mean)}, variance σ² = {num(bn.var)}, γ = {num(bn.gamma)}, "
            f"β = {num(bn.beta)}, ε = {bn.eps:g}<br>"
            f"y = γ·(x − μ)/√(σ² + ε) + β = {num(bn.gamma)}·({num(bn.x)} − {num(bn.mean)})"
            f"/√({num(bn.var)} + {bn.eps:g}) + {num(bn.beta)} = <b>{num(bn.value, VALUE_DIGITS)}</b>")


def relu_html(x: float) -> str:
    verdict = "negative: switched off" if x < 0 else "passed through"
    return (f"<b>ReLU</b>: y = max(x, 0); input x = {num(x, VALUE_DIGITS)} ({verdict}), "
            f"output <b>{num(max(x, 0.0), VALUE_DIGITS)}</b>")


def avg_pool_html(e: Explanation) -> str:
    """Average pooling (Chainer's ``F.average_pooling_2d``): the window and its mean."""
    p = e.pool
    n = p.window.size
    total = float(np.sum(p.window, dtype=np.float64))
    return (f"<b>Average pooling</b> over {STAGE_TITLES[e.pooled]} outputs, rows {_span(p.rows)}, "
            f"columns {_span(p.cols)}<br>{_table(p.window)}"
            f"mean = sum / ({len(p.rows)}×{len(p.cols)}) = {num(total)} / {n} = "
            f"<b>{num(p.value, VALUE_DIGITS)}</b>")


def pool_html(e: Explanation) -> str:
    if e.pool_mode == "avg":
        return avg_pool_html(e)
    p = e.pool
    best = None
    if p.argmax is not None:
        best = (int(np.flatnonzero(p.rows == p.argmax[0])[0]),
                int(np.flatnonzero(p.cols == p.argmax[1])[0]))
    outside = int((~np.isfinite(p.window)).sum())
    note = f"; {outside} cells past the edge (cover_all) take no part" if outside else ""
    won = (f"the winner: row {p.argmax[0]}, column {p.argmax[1]} = <b>{num(p.value, VALUE_DIGITS)}</b>"
           if p.argmax is not None else "no value inside the input")
    return (f"<b>Max pooling</b> over {STAGE_TITLES[e.pooled]} outputs, rows {_span(p.rows)}, "
            f"columns {_span(p.cols)}{note}<br>{_table(p.window, bold=best)}{won}")


def header_html(e: Explanation, count: int) -> str:
    title = "Average pooling" if e.stage == "pool" and e.pool_mode == "avg" else \
        STAGE_TITLES[e.stage]
    return (f"<b>{title}</b>, map {e.channel}, row {e.i}, column {e.j}: "
            f"value <b>{value_text(e.value)}</b>"
            f"<br><small>sees input rows {e.field.top}…{e.field.bottom - 1}, columns "
            f"{e.field.left}…{e.field.right - 1} ({e.field.height}×{e.field.width})</small>")


def explanation_html(e: Explanation) -> str:
    """The detail panel's text for ``e``."""
    count = len(e.conv.per_channel) if e.conv is not None else 0
    parts = [header_html(e, count)]
    if e.stage == "pool":
        parts.append(pool_html(e))
        if e.winner is not None:
            parts.append(conv_html(e, e.winner, title="<b>The winner's convolution</b>"))
        if e.winner_bn is not None:
            parts.append(bn_html(e.winner_bn))
        if e.winner_relu is not None:
            parts.append(relu_html(e.winner_relu))
        if e.winner is not None:
            parts.append(f"= the winner, pooled: <b>{value_text(e.value)}</b>")
        if e.pool_mode == "avg":
            parts.append(f"= the window's mean, the map's value <b>{value_text(e.value)}</b>")
        return "<br><br>".join(parts)
    parts.append(conv_html(e, e.conv))
    if e.bn is not None:
        parts.append(bn_html(e.bn))
    if e.stage == "relu":
        parts.append(relu_html(e.relu_input))
    parts.append(f"= the map's value <b>{value_text(e.value)}</b>")
    return "<br><br>".join(parts)
