"""Command line: ``convlab [IMAGE]`` opens the window; sub-commands work without a display.

``convlab shapes``    the network summary as an aligned table with totals
``convlab export``    feature maps as PNG files with a manifest
``convlab snapshot``  the real window rendered offscreen to a PNG
``convlab bench``     the engine benchmark
"""

from __future__ import annotations

import argparse
import sys

from convlab import __version__

COMMANDS = ("shapes", "export", "snapshot", "bench")


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="convlab",
        description="ConvLab: see what kernel size, stride, padding and pooling do to a photo. "
                    f"Sub-commands: {', '.join(COMMANDS)} (convlab COMMAND --help).")
    p.add_argument("image", nargs="?", help="an image to open (default: a bundled sample photo)")
    p.add_argument("--version", action="version", version=f"convlab {__version__}")
    return p


def _shapes_parser(sub) -> None:
    p = sub.add_parser("shapes", help="print a network's layer table with totals",
                       description="Print every layer's output shape, parameters, multiply-adds "
                                   "and receptive field, like torchinfo.")
    p.add_argument("--net", choices=("alexbn", "alex"), default="alexbn")
    p.add_argument("--input", type=int, default=227, metavar="N",
                   help="square input size in pixels (default 227)")


def _bench_parser(sub) -> None:
    p = sub.add_parser("bench", help="benchmark the engine (batch-1 AlexBN forward)")
    p.add_argument("--net", choices=("alexbn", "alex"), default="alexbn")
    p.add_argument("--repeats", type=int, default=30, help="timed forwards (default 30)")
    p.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")


def _sub_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="convlab")
    p.add_argument("--version", action="version", version=f"convlab {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    _shapes_parser(sub)
    _bench_parser(sub)
    from convlab import export_cli

    export_cli.add_parser(sub)
    from convlab import snapshot_cli

    snapshot_cli.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        args = _sub_parser().parse_args(argv)
        if args.command == "shapes":
            from convlab.shapes import print_shapes

            return print_shapes(args.net, args.input)
        if args.command == "bench":
            from convlab.bench import run_bench

            return run_bench(args.net, repeats=args.repeats, threads=args.threads)
        if args.command == "export":
            from convlab import export_cli

            return export_cli.run(args)
        from convlab import snapshot_cli

        return snapshot_cli.run(args)
    args = _gui_parser().parse_args(argv)
    from convlab.ui.app import run_app

    return run_app(args.image)
