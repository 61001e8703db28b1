"""``convlab shapes``: a network summary as an aligned text table with a totals line.

The network is a built-in one (``--net``), a spec file (``--spec FILE.json``, SPEC_FORMAT) or an
ONNX model (``--model FILE.onnx``, with the ``onnx`` extra). A file that cannot be read or built
is one sentence naming the layer or node, exit 2; a layer that cannot take the input prints the
table, says why, and exits 1 (2 when it is the file's own input shape that fails).
"""

from __future__ import annotations

import argparse
import sys

from convlab.engine.nets import NETWORKS, build_network
from convlab.engine.nets.presets import input_size
from convlab.engine.wording import count_noun, shape_text
from convlab.pipelines.summary import graph_inputs, summary_table

INSTALL_LINE = 'Reading ONNX models needs the onnx package: pip install "convlab[onnx]".'


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``p`` the shapes command's arguments."""
    p.description = ("Print every layer's output shape, parameters, multiply-adds and receptive "
                     "field, like torchinfo.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--net", choices=NETWORKS, default=None,
                       help="a built-in network (default alexbn; alex2g: AlexNet, 2 groups)")
    which.add_argument("--spec", metavar="FILE.json", help="a network spec file (SPEC_FORMAT)")
    which.add_argument("--model", metavar="FILE.onnx", help="an ONNX model (pip install \"convlab[onnx]\")")
    p.add_argument("--input", type=int, default=None, metavar="N",
                   help="square input size in pixels (default: the network's own, 227 for AlexNet)")
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    """Run a parsed ``convlab shapes`` command line; returns the exit status."""
    if args.input is not None and args.input < 1:
        return _fail(f"--input must be a positive number of pixels, got {args.input}")
    if args.spec is None and args.model is None:
        name = args.net or "alexbn"
        return print_shapes(name, args.input or input_size(name))
    try:
        net, title = _open(args)
    except ValueError as exc:
        return _fail(exc)
    shape = tuple(net.input_shape)
    if args.input is not None:
        shape = (shape[0], args.input, args.input)
    rows = net.summary(shape)
    print(f"{title} at {_size(shape)}")
    print(summary_table(rows, shape, graph_inputs(net)))
    if not any(r.error for r in rows):
        return 0
    return 1 if args.input is not None else 2  # the file's own input shape fails: a bad file


def _open(args):
    """``(network built shapes-only, title line)`` for ``--spec`` or ``--model``."""
    from convlab.pipelines import netfiles

    if args.spec is not None:
        spec = netfiles.read_spec(args.spec)
        net = netfiles.spec_network(spec, args.spec)
        return net, f"{net.name} ({args.spec})"
    from convlab.models import OnnxUnavailable

    shape = (3, args.input, args.input) if args.input is not None else None
    try:
        net = netfiles.open_model(args.model, input_shape=shape)
    except OnnxUnavailable:
        raise ValueError(INSTALL_LINE) from None
    return net, f"{net.name} ({args.model})"


def _fail(message) -> int:
    print("convlab shapes: " + " ".join(str(message).split()), file=sys.stderr)
    return 2


def _size(shape) -> str:
    c, h, w = shape
    return shape_text((h, w), "x") + ("" if c == 3 else f", {count_noun(c, 'channel')}")


def print_shapes(net_name: str, size: int) -> int:
    net = build_network(net_name, init=False)  # shapes only: no 250 MB of random weights
    shape = (net.input_shape[0], size, size)
    rows = net.summary(shape)
    print(f"{net_name} at {size}x{size}")
    print(summary_table(rows, shape))
    return 0 if not any(r.error for r in rows) else 1
