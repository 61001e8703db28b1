"""A network's summary as text: receptive fields and the aligned table of ``convlab shapes``.

Shapes are written by :func:`convlab.render.tiles.shape_text`, the one shape formatter (this
table, the window's layer table and readout, and the Network pane's titles).
"""

from __future__ import annotations

from convlab.engine.nets import SummaryRow
from convlab.render.tiles import shape_text


def rf_text(row: SummaryRow) -> str:
    if row.rf is None:
        return ""
    return f"{row.rf:g} / {row.jump:g}"


def summary_table(rows: list[SummaryRow], input_shape) -> str:
    """Rows as aligned columns (layer, kind, config, output, params, mult-adds, RF / jump) + totals."""
    head = ("layer", "kind", "config", "output", "params", "mult-adds", "RF / jump")
    body = [("input", "", "", shape_text(input_shape), "", "", "1 / 1")]
    for r in rows:
        body.append((r.name, r.kind, r.detail, shape_text(r.output_shape), f"{r.params:,}",
                     f"{r.macs:,}" if r.output_shape is not None else "", rf_text(r)))
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]
    right = {4, 5}

    def fmt(line):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(line, widths))).rstrip()

    rule = "-" * len(fmt(head))
    out = [fmt(head), rule] + [fmt(line) for line in body] + [rule]
    params = sum(r.params for r in rows)
    macs = sum(r.macs for r in rows)
    out.append(f"Total params: {params:,}   Total mult-adds: {macs:,} ({macs / 1e9:.3f} G)")
    errors = [r.error for r in rows if r.error]
    if errors:
        out.append(f"The input does not pass: {errors[0]}")
    return "\n".join(out)
