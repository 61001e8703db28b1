"""``convlab shapes``: a network summary as an aligned text table with a totals line."""

from __future__ import annotations

import argparse
import sys

from convlab.engine.nets import SummaryRow, build_network


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``p`` the shapes command's arguments."""
    p.description = ("Print every layer's output shape, parameters, multiply-adds and receptive "
                     "field, like torchinfo.")
    p.add_argument("--net", choices=("alexbn", "alex"), default="alexbn")
    p.add_argument("--input", type=int, default=227, metavar="N",
                   help="square input size in pixels (default 227)")
    p.set_defaults(run=lambda args: print_shapes(args.net, args.input))
    return p


def format_shape(shape) -> str:
    return "—" if shape is None else "x".join(str(v) for v in shape)


def format_rf(row: SummaryRow) -> str:
    if row.rf is None:
        return ""
    return f"{row.rf:g} / {row.jump:g}"


def summary_table(rows: list[SummaryRow], input_shape) -> str:
    """Rows as aligned columns (layer, kind, config, output, params, mult-adds, RF / jump) + totals."""
    head = ("layer", "kind", "config", "output", "params", "mult-adds", "RF / jump")
    body = [("input", "", "", format_shape(input_shape), "", "", "1 / 1")]
    for r in rows:
        body.append((r.name, r.kind, r.detail, format_shape(r.output_shape), f"{r.params:,}",
                     f"{r.macs:,}" if r.output_shape is not None else "", format_rf(r)))
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


def print_shapes(net_name: str, size: int) -> int:
    if size < 1:
        print(f"convlab shapes: --input must be a positive number of pixels, got {size}",
              file=sys.stderr)
        return 2
    net = build_network(net_name, init=False)  # shapes only: no 250 MB of random weights
    shape = (3, size, size)
    rows = net.summary(shape)
    print(f"{net_name} at {size}x{size}")
    print(summary_table(rows, shape))
    return 0 if not any(r.error for r in rows) else 1
