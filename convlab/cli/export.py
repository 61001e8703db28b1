"""``convlab export``: feature maps of a photo as PNG files with a manifest, from the shell.

Without a network it runs the explorer pipeline (conv, BN, ReLU, pool; defaults are AlexBN's
conv1 block) on the photo scaled to ``--longest`` pixels; with ``--net alexbn|alex|alex2g``,
``--spec FILE.json`` or ``--model FILE.onnx`` it runs that network (:mod:`.export_network`) on
Chainer's ImageNet centre crop (an ONNX model: its ``--preprocess`` preset). Any failure prints
ONE line and exits non-zero (2 for a bad command line, spec or model); what was in the folder
before stays.

The settings records that the manifest and every PNG carry are :mod:`convlab.pipelines.records`'s; the
window builds them the same way.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import time

from convlab.engine.wording import count_noun
from convlab.pipelines import images as imaging
from convlab.render import colour
from convlab.engine.explorer import LIMITS, POOL_MODES, ExplorerSettings
from convlab.engine.explorer.kernels import BANKS, IMAGE_BANKS
from convlab.export.maps import ExportError, export_maps
from convlab.export.options import check_options, select_layers
from convlab.cli.interrupt import (INTERRUPTED, raise_on_interrupt, restore_terminate,
                                   terminate_as_interrupt)
from convlab.cli.export_network import (BadFile, add_network_arguments, check_network_flags,
                                        network_flag, network_settings)
from convlab.export.transaction import describe_error
from convlab.pipelines.records import (DEFAULTS, INT_FLAGS, SWITCHES, explorer_settings_record,
                                       image_record)

OUTPUT_DEFAULTS = {"cmap": "viridis", "normalize": "map", "scale": 1}  # the output group's
EXAMPLES = """examples:
  convlab export photo.jpg --out maps                 AlexBN's conv1 block, every stage
  convlab export photo.jpg --out maps --kernel 5 --stride 1 --bank gabor --layers pool
  convlab export photo.jpg --out maps --kernels learned --seed 3   kernels learned from photos
  convlab export photo.jpg --out net --net alexbn --layers conv1,pool5 --scale 4
  convlab export photo.jpg --out net --spec mynet.json --conv1 learned
  convlab export photo.jpg --out net --model resnet50.onnx --preprocess imagenet --layers n0,n3
"""


DESCRIPTION = ("Write every feature map of the explorer pipeline (or of a network with --net, --spec "
               "or --model) as a "
               "PNG, one grid per layer, and manifest.json describing every file.")


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``p`` (whose prog is ``convlab export``) the export command's arguments."""
    p.description = DESCRIPTION
    p.usage = "%(prog)s [IMAGE] --out DIR [options]  (see --help)"
    p.epilog, p.formatter_class = EXAMPLES, argparse.RawDescriptionHelpFormatter
    p.add_argument("image", nargs="?", help="the photo (default: the bundled astronaut)")
    p.add_argument("--out", "-o", required=True, metavar="DIR",
                   help="folder to write into (created if missing)")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="seed of the random kernels / weights (default 0)")
    _add_explorer_arguments(p)
    add_network_arguments(p)
    o = p.add_argument_group("output")
    o.add_argument("--layers", metavar="A,B", help="layers (or explorer stages) to export (default all)")
    o.add_argument("--grid", action=argparse.BooleanOptionalAction, default=True,
                   help="one grid PNG per layer (default on)")
    o.add_argument("--maps", action=argparse.BooleanOptionalAction, default=True,
                   help="one PNG per map (default on)")
    o.add_argument("--npy", action="store_true", help="also the raw float32 values as .npy")
    o.add_argument("--cmap", default="viridis", metavar="NAME",
                   help=f"colormap: {', '.join(colour.DISPLAY_COLORMAPS)} or any cmap name (default viridis)")
    o.add_argument("--normalize", default="map", metavar="MODE",
                   help="map, layer or fixed:LO,HI (default map: each map min..max)")
    o.add_argument("--scale", type=int, default=1, metavar="N", help="enlarge each pixel N times (1-64)")
    o.add_argument("--quiet", "-q", action="store_true", help="no progress or summary lines")
    p.set_defaults(_export_parser=p, run=run)
    return p


def _add_explorer_arguments(p: argparse.ArgumentParser) -> None:
    """The explorer pipeline's flags (an argument group of ``p``)."""
    g = p.add_argument_group("explorer pipeline (without a network)")
    for key, what in INT_FLAGS.items():
        lo, hi = LIMITS[key]
        g.add_argument("--" + key.replace("_", "-"), type=int, default=None, metavar="N",
                       help=f"{what}, {lo} to {hi} (default {getattr(DEFAULTS, key)})")
    g.add_argument("--bank", "--kernels", dest="bank", choices=BANKS + IMAGE_BANKS, default=None,
                   help="kernel bank (default random; learned: FastICA on patches of the bundled "
                        "photos and this one, seeded by --seed)")
    g.add_argument("--no-bn", action="store_true", help="no BatchNormalization")
    g.add_argument("--no-relu", action="store_true", help="no ReLU")
    g.add_argument("--no-cover-all", action="store_true", help="floor pooling (PyTorch's default)")
    g.add_argument("--pool-mode", choices=POOL_MODES, default=None,
                   help="max (default) or avg: average pooling, Chainer's F.average_pooling_2d "
                        "(no cover_all: floor size)")
    g.add_argument("--grayscale", action="store_true", help="convolve the grey image (1 channel)")
    g.add_argument("--same", action="store_true",
                   help='"same" padding (PyTorch\'s padding="same"; replaces --padding)')
    g.add_argument("--transposed", action="store_true",
                   help="a transposed convolution (Chainer's Deconvolution2D) upsamples instead")
    g.add_argument("--groups", type=int, default=None, metavar="N",
                   help="filter groups: 1, or 3 on an RGB photo (each group sees one colour)")
    g.add_argument("--longest", type=int, default=None, metavar="N",
                   help="shrink the photo to this longer side first (default 512)")


def _check_flags(args, parser) -> None:
    """Usage errors (exit 2) before any work."""
    chosen = network_flag(args)
    if chosen is not None:
        given = [k for k in INT_FLAGS if getattr(args, k) is not None] + \
                [k for k in (*SWITCHES, "grayscale", "same", "transposed") if getattr(args, k)] + \
                [k for k in ("bank", "longest", "groups", "pool_mode") if getattr(args, k) is not None]
        if given:
            flag = "--" + given[0].replace("_", "-")
            parser.error(f"{flag} sets the explorer pipeline; it does not apply with {chosen}")
    check_network_flags(args, parser)
    if not args.out.strip():
        parser.error("--out needs a folder name, got an empty one")
    if args.layers is not None and not args.layers.replace(",", " ").strip():
        parser.error("--layers needs at least one layer name, as in --layers conv1,pool5 "
                     "(leave it out for every layer)")
    if args.longest is not None and not 8 <= args.longest <= 16384:
        parser.error(f"--longest must be from 8 to 16384 pixels, got {args.longest}")
    if args.seed is not None and args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}")
    args.given_look = {"cmap": args.cmap, "normalize": args.normalize}  # as typed, for the record
    try:  # the validator export_maps itself uses, so the window and the shell agree
        args.cmap, args.normalize = check_options(
            grid=args.grid, per_map=args.maps, npy=args.npy, cmap=args.cmap,
            normalize=args.normalize, scale=args.scale)
    except ValueError as exc:
        parser.error(str(exc))


def output_flags(args) -> list[str]:
    """The output flags of this command line that differ from their defaults, so that the
    recorded command writes the same files again (``--layers``, ``--no-grid``, ``--no-maps``,
    ``--npy``, ``--cmap``, ``--normalize``, ``--scale``)."""
    look = getattr(args, "given_look", {"cmap": args.cmap, "normalize": args.normalize})
    flags = [f"--layers {shlex.quote(args.layers)}"] * (args.layers is not None)
    flags += ["--no-grid"] * (not args.grid) + ["--no-maps"] * (not args.maps) + ["--npy"] * args.npy
    flags += [f"--{key} {shlex.quote(str(value))}" for key, value in look.items()
              if value != OUTPUT_DEFAULTS[key]]
    return flags + [f"--scale {args.scale}"] * (args.scale != OUTPUT_DEFAULTS["scale"])


def with_output_flags(record: dict, args) -> dict:
    """``record`` whose command carries :func:`output_flags` too."""
    if "command" not in record:
        return record
    return {**record, "command": " ".join([record["command"], *output_flags(args)])}


def _explorer_job(args, parser):
    values = {k: getattr(args, k) for k in INT_FLAGS if getattr(args, k) is not None}
    values.update({key: False for flag, key in SWITCHES.items() if getattr(args, flag)})
    values.update(grayscale=args.grayscale, bank=args.bank or DEFAULTS.bank, seed=args.seed or 0,
                  same=args.same, transposed=args.transposed, groups=args.groups or 1,
                  pool_mode=args.pool_mode or DEFAULTS.pool_mode)
    if args.same and args.transposed:
        parser.error("--same does not apply with --transposed (a transposed convolution "
                     "pads by --padding)")
    try:
        settings = ExplorerSettings(**values).validate()
    except ValueError as exc:
        parser.error(str(exc))
    stages = ["conv"] + ["bn"] * settings.batch_norm + ["relu"] * settings.relu
    stages += ["pool"] * (settings.pool > 1)
    chosen = _choose(stages, args.layers, parser)
    from convlab.engine.explorer import run_explorer

    path = args.image or _default_sample()
    image = imaging.load_image(path)
    longest = args.longest or 512
    scaled, _ = imaging.scale_to_longest(image, longest)
    images = None
    if settings.bank in IMAGE_BANKS:  # the window learns from the same photos
        from convlab.pipelines.explorer import learning_photos

        images = learning_photos(scaled)
    try:
        result = run_explorer(scaled, settings, images=images)
    except ValueError as exc:
        h, w = scaled.shape[:2]
        raise _Failure(f"these settings give no output for the {w}x{h} image: {exc}") from None
    record = explorer_settings_record(settings, image_record(path, image.shape), longest=longest,
                                      input_shape=scaled.shape)
    return {name: result.maps[name] for name in chosen}, record, []


def _network_job(args, parser):
    """The network pipeline through the window's own runner and record."""
    from convlab.pipelines.network import NetworkRunner, has_batch_norm

    settings, _ = network_settings(args)
    runner = NetworkRunner()
    try:
        net = runner.network(settings)  # builds it and loads the weights, or refuses the file
    except ValueError as exc:
        if settings.net == "onnx":
            raise BadFile(str(exc)) from None
        raise _Failure(f"cannot load weights from {args.weights}: {exc}") from None
    if args.bn_mode is not None and not has_batch_norm(net):
        parser.error(f"--bn-mode does not apply to {network_flag(args)} "
                     f"{args.net or args.spec or args.model}: it has no BatchNormalization layers")
    chosen = _choose(net.layer_names, args.layers, parser)
    path = args.image or _default_sample()
    image = imaging.load_image(path)
    try:
        result = runner.run(image, settings)
    except ValueError as exc:  # outputs over budget at this input size: nothing was written
        raise BadFile(str(exc)) from None
    if settings.net == "onnx" and result.note:  # e.g. a labels file beside the model was ignored
        _say(f"note: {result.note}")
    missing = [name for name in chosen if name not in result.outputs]
    if missing:
        why = next((r.error for r in result.rows if r.error), "")
        raise _Failure(f"{missing[0]} has no output for this input: {why}")
    record = result.settings_record(image_record(path, image.shape), spec_path=args.spec)
    return {name: result.outputs[name] for name in chosen}, record, result.top5


class _Failure(Exception):
    """A failure the user can act on; its text is the whole message."""


def _choose(names, wanted, parser):
    try:
        return select_layers(names, "all" if wanted is None else wanted)
    except ValueError as exc:
        _say(f"error: {exc}")
        raise SystemExit(2) from None


def _default_sample():
    from convlab.pipelines.samples import default_sample

    return default_sample()


def _printable(path) -> str:
    from convlab.export.names import printable

    return printable(str(path))


def _say(line: str) -> None:
    print("convlab export: " + " ".join(str(line).split()), file=sys.stderr)


class _Progress:
    """A progress line on stderr (rewritten in place on a terminal), at most a few times a second."""

    def __init__(self, quiet: bool):
        self.quiet, self.tty = quiet, sys.stderr.isatty()
        self.start = self.last = time.perf_counter()
        self.shown, self.line = False, ""

    def __call__(self, done: int, total: int) -> bool:
        now = time.perf_counter()
        gap = 0.2 if self.tty else 2.0
        if not self.quiet and now - self.last >= gap and now - self.start >= 0.5:
            self.last, self.shown = now, True
            end = "\r" if self.tty else "\n"
            self.line = f"convlab export: {done}/{total} files"
            print(self.line, end=end, file=sys.stderr, flush=True)
        return True

    def finish(self) -> None:
        if self.shown and self.tty:  # wipe the progress line
            print("\r" + " " * len(self.line) + "\r", end="", file=sys.stderr, flush=True)


def run(args) -> int:
    """Run a parsed ``convlab export`` command line; returns the exit status."""
    parser = args._export_parser
    started = time.perf_counter()  # the summary counts the whole run: learning kernels too
    _check_flags(args, parser)
    progress = _Progress(args.quiet)
    raise_on_interrupt()  # from here Ctrl+C cleans up and says what was left (below)
    previous = terminate_as_interrupt()
    try:
        job = _network_job if network_flag(args) else _explorer_job
        layers, record, top5 = job(args, parser)
        record = with_output_flags(record, args)
        result = export_maps(args.out, layers, settings=record, grid=args.grid, per_map=args.maps,
                             npy=args.npy, cmap=args.cmap, normalize=args.normalize,
                             scale=args.scale, progress=progress)
    except imaging.ImageLoadError as exc:
        progress.finish()
        _say(f"cannot open the image: {exc}")
        return 1
    except BadFile as exc:  # a spec or model that cannot be used: nothing was written
        progress.finish()
        _say(exc)
        return 2
    except (ExportError, _Failure) as exc:
        progress.finish()
        _say(exc)
        return 1
    except KeyboardInterrupt as exc:  # Ctrl+C, or SIGTERM (see terminate_as_interrupt)
        progress.finish()
        code = 128 + INTERRUPTED.get("signal", signal.SIGINT)
        if getattr(exc, "export_complete", False):
            _say(f"interrupted after the export was complete; every file is in place in {args.out}")
        else:
            _say("interrupted; the output folder was left as it was")
        return code
    except Exception as exc:  # noqa: BLE001 - never a traceback on the command line
        progress.finish()
        _say(f"failed: {describe_error(exc)}")
        return 1
    finally:
        restore_terminate(previous)
    progress.finish()
    result.out_dir = _printable(result.out_dir)  # a name that is not UTF-8: odd bytes as \xff

    if not args.quiet:
        print(f"Wrote {count_noun(len(result.files), 'file')} to {result.out_dir} in "
              f"{time.perf_counter() - started:.1f} s (manifest.json lists them).")
        for rank, (index, label, score) in enumerate(top5, start=1):
            name = label if label == f"class {index}" else f"{label} (class {index})"
            print(f"  top-{rank}: {name}  {score:.3f}")
    return 0
