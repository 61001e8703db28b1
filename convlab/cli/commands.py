"""``convlab``: argparse sub-commands, each configured by its own module; no command opens the window.

``convlab shapes``    the network summary as an aligned table with totals (:mod:`.shapes`)
``convlab export``    feature maps as PNG files with a manifest (:mod:`.export`)
``convlab snapshot``  the real window rendered offscreen to a PNG (:mod:`.snapshot`)
``convlab bench``     the engine benchmark (:mod:`.bench`)
``convlab data``      download or list training datasets (:mod:`.data`)
``convlab train``     train a network on a dataset (:mod:`.train`)
``convlab [IMAGE]``   the window (:mod:`.window`)

Only the chosen command's module is imported (``convlab bench`` must set the BLAS thread
count before NumPy loads), and it adds its own flags with ``add_arguments(parser)``, which
also sets ``run`` as the parser's default: ``args.run(args)`` is the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from convlab import __version__
from convlab.cli.interrupt import quiet_start, restore, say_interrupted

COMMANDS = {  # name: (module, one line of help)
    "shapes": ("convlab.cli.shapes", "every layer's output shape, parameters, mult-adds and RF"),
    "export": ("convlab.cli.export", "feature maps as PNG files with a manifest"),
    "snapshot": ("convlab.cli.snapshot", "the window rendered offscreen to a PNG"),
    "bench": ("convlab.cli.bench", "the engine benchmark against this machine's ceilings"),
    "data": ("convlab.cli.data", "download MNIST, Fashion-MNIST or CIFAR-10; list datasets"),
    "train": ("convlab.cli.train", "train a network on a dataset (Chainer's optimizers)"),
    "visualize": ("convlab.cli.visualize", "saliency, Grad-CAM, unit pictures, top patches as PNGs"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """``convlab``'s parser with every sub-command; only ``command`` gets its flags (imported)."""
    parser = argparse.ArgumentParser(
        prog="convlab", description="ConvLab: see what kernel size, stride, padding and pooling do "
        "to a photo. Without a command, 'convlab [IMAGE]' opens the window.")
    parser.add_argument("--version", action="version", version=f"convlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (module, text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=text, description=text)
        if name == command:
            importlib.import_module(module).add_arguments(command_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The ``convlab`` entry point; returns the exit status (argparse exits 2 on a bad line).

    Ctrl+C prints one line and returns 130 (:mod:`convlab.cli.interrupt`)."""
    previous = quiet_start()  # until a command starts writing, Ctrl+C just ends the process
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        return say_interrupted()
    finally:
        restore(previous)  # a caller in the same process gets its own Ctrl+C back


def _main(argv: list[str]) -> int:
    if argv and argv[0] in COMMANDS:
        args = build_parser(argv[0]).parse_args(argv)
        return args.run(args)
    if argv and argv[0] in ("-h", "--help", "--version"):
        build_parser().parse_args(argv)  # prints and exits 0
    from convlab.cli import window

    return window.main(argv, commands=tuple(COMMANDS))
