"""A network's summary as text: receptive fields and the aligned table of ``convlab shapes``.

Shapes and costs are written by :mod:`convlab.engine.wording`, as in the window (its layer
table, readout and titles); this plain-text table keeps shapes compact (``96x55x55``), with
exact multiply-adds and their M/G figure in the totals.
"""

from __future__ import annotations

from convlab.engine.nets import SummaryRow
from convlab.engine.wording import macs_text, shape_text

SHAPE_SEP = "x"  # a terminal table: 96x55x55


def rf_text(row: SummaryRow) -> str:
    if row.rf is None:
        return ""
    return f"{row.rf:g} / {row.jump:g}"


def graph_inputs(net) -> dict[str, str] | None:
    """``{layer: "a, b"}`` when some layer reads other than the previous one (a graph), else None."""
    previous, inputs, graph = "input", {}, False
    for layer in net.layers:
        names = list(layer.inputs or [previous])
        graph = graph or names != [previous]
        inputs[layer.name], previous = ", ".join(names), layer.name
    return inputs if graph else None


def summary_table(rows: list[SummaryRow], input_shape, inputs: dict[str, str] | None = None) -> str:
    """Rows as aligned columns (layer, kind, config, output, params, mult-adds, RF / jump) + totals;
    with ``inputs`` (:func:`graph_inputs`) a column of the layers each one reads, after kind."""
    head = ("layer", "kind", "config", "output", "params", "mult-adds", "RF / jump")
    body = [("input", "", "", shape_text(input_shape, SHAPE_SEP), "", "", "1 / 1")]
    for r in rows:
        body.append((r.name, r.kind, r.detail, shape_text(r.output_shape, SHAPE_SEP), f"{r.params:,}",
                     f"{r.macs:,}" if r.output_shape is not None else "", rf_text(r)))
    if inputs is not None:  # (layer, kind, inputs, config, ...)
        head = head[:2] + ("inputs",) + head[2:]
        body = [line[:2] + ("" if line[0] == "input" else inputs.get(line[0], ""),) + line[2:]
                for line in body]
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]
    right = {len(head) - 3, len(head) - 2}

    def fmt(line):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(line, widths))).rstrip()

    rule = "-" * len(fmt(head))
    out = [fmt(head), rule] + [fmt(line) for line in body] + [rule]
    params = sum(r.params for r in rows)
    macs = sum(r.macs for r in rows)
    out.append(f"Total params: {params:,}   Total mult-adds: {macs:,} ({macs_text(macs)})")
    errors = [r.error for r in rows if r.error]
    if errors:
        out.append(f"The input does not pass: {errors[0]}")
    return "\n".join(out)
