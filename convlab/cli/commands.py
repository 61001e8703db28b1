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


def _shapes(p: argparse.ArgumentParser):
    p.description = ("Print every layer's output shape, parameters, multiply-adds and receptive "
                     "field, like torchinfo.")
    p.add_argument("--net", choices=("alexbn", "alex"), default="alexbn")
    p.add_argument("--input", type=int, default=227, metavar="N",
                   help="square input size in pixels (default 227)")

    def run(args):
        from convlab.cli.shapes import print_shapes

        return print_shapes(args.net, args.input)

    return run


def _bench(p: argparse.ArgumentParser):
    p.description = "Benchmark the engine: batch-1 forward per layer, against measured ceilings."
    p.add_argument("--net", choices=("alexbn", "alex"), default="alexbn")
    p.add_argument("--repeats", type=int, default=30, help="timed forwards (default 30)")
    p.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")

    def run(args):
        from convlab.cli.bench import run_bench

        return run_bench(args.net, repeats=args.repeats, threads=args.threads)

    return run


def _export(p: argparse.ArgumentParser):
    from convlab.cli import export as export_cli

    export_cli.add_arguments(p)
    return export_cli.run


def _snapshot(p: argparse.ArgumentParser):
    from convlab.cli import snapshot as snapshot_cli

    snapshot_cli.add_arguments(p)
    return snapshot_cli.run


_BUILDERS = {"shapes": _shapes, "export": _export, "snapshot": _snapshot, "bench": _bench}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        parser = argparse.ArgumentParser(prog=f"convlab {argv[0]}")
        run = _BUILDERS[argv[0]](parser)  # imports only what this command needs
        return run(parser.parse_args(argv[1:]))
    args = _gui_parser().parse_args(argv)
    from convlab.ui.app import run_app

    return run_app(args.image)
