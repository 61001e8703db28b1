"""``convlab shapes``: a network summary as an aligned text table with a totals line."""

from __future__ import annotations

import argparse
import sys

from convlab.engine.nets import build_network
from convlab.pipelines.summary import summary_table


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``p`` the shapes command's arguments."""
    p.description = ("Print every layer's output shape, parameters, multiply-adds and receptive "
                     "field, like torchinfo.")
    p.add_argument("--net", choices=("alexbn", "alex"), default="alexbn")
    p.add_argument("--input", type=int, default=227, metavar="N",
                   help="square input size in pixels (default 227)")
    p.set_defaults(run=lambda args: print_shapes(args.net, args.input))
    return p


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
