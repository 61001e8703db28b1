"""``convlab export``: feature maps of a photo as PNG files with a manifest, from the shell.

Without ``--net`` it runs the explorer pipeline (conv, BN, ReLU, pool; defaults are AlexBN's
conv1 block) on the photo scaled to ``--longest`` pixels; with ``--net alexbn|alex`` it runs the
network on Chainer's ImageNet centre crop. Any failure prints ONE line and exits non-zero (2 for
a bad command line); what was in the folder before stays.

The settings records that the manifest and every PNG carry are :mod:`convlab.pipelines.records`'s; the
window builds them the same way.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from convlab.pipelines import images as imaging
from convlab.render import colour
from convlab.engine.explorer import LIMITS, ExplorerSettings
from convlab.engine.kernels import BANKS
from convlab.engine.nets import NETWORKS, build_network
from convlab.export.maps import ExportError, export_maps
from convlab.export.options import check_options, select_layers
from convlab.pipelines.network import NetworkRunner, NetworkSettings, has_batch_norm
from convlab.export.transaction import describe_error
from convlab.pipelines.records import (DEFAULTS, INT_FLAGS, SWITCHES, explorer_settings_record,
                                       image_record)
EXAMPLES = """examples:
  convlab export photo.jpg --out maps                 AlexBN's conv1 block, every stage
  convlab export photo.jpg --out maps --kernel 5 --stride 1 --bank gabor --layers pool
  convlab export photo.jpg --out net --net alexbn --layers conv1,pool5 --scale 4
"""


DESCRIPTION = ("Write every feature map of the explorer pipeline (or of a network with --net) as a "
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
    g = p.add_argument_group("explorer pipeline (without --net)")
    for key, what in INT_FLAGS.items():
        lo, hi = LIMITS[key]
        g.add_argument("--" + key.replace("_", "-"), type=int, default=None, metavar="N",
                       help=f"{what}, {lo} to {hi} (default {getattr(DEFAULTS, key)})")
    g.add_argument("--bank", choices=BANKS, default=None, help="kernel bank (default random)")
    g.add_argument("--no-bn", action="store_true", help="no BatchNormalization")
    g.add_argument("--no-relu", action="store_true", help="no ReLU")
    g.add_argument("--no-cover-all", action="store_true", help="floor pooling (PyTorch's default)")
    g.add_argument("--grayscale", action="store_true", help="convolve the grey image (1 channel)")
    g.add_argument("--longest", type=int, default=None, metavar="N",
                   help="shrink the photo to this longer side first (default 512)")
    n = p.add_argument_group("network pipeline")
    n.add_argument("--net", choices=NETWORKS, default=None, help="run a whole network instead")
    n.add_argument("--weights", metavar="FILE.npz", help="Chainer save_npz weights (default: random)")
    n.add_argument("--bn-mode", choices=("batch", "stored"), default=None,
                   help="BN statistics: of this image (batch, default) or the stored averages")
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


def _check_flags(args, parser) -> None:
    """Usage errors (exit 2) before any work."""
    if args.net is not None:
        given = [k for k in INT_FLAGS if getattr(args, k) is not None] + \
                [k for k in (*SWITCHES, "grayscale") if getattr(args, k)] + \
                [k for k in ("bank", "longest") if getattr(args, k) is not None]
        if given:
            flag = "--" + given[0].replace("_", "-")
            parser.error(f"{flag} sets the explorer pipeline; it does not apply with --net")
        if args.bn_mode is not None and not has_batch_norm(build_network(args.net, init=False)):
            parser.error(f"--bn-mode does not apply to --net {args.net}: it has no BatchNormalization layers")
    else:
        for key in ("weights", "bn_mode"):
            if getattr(args, key) is not None:
                parser.error(f"--{key.replace('_', '-')} needs --net alexbn or --net alex")
    if not args.out.strip():
        parser.error("--out needs a folder name, got an empty one")
    if args.layers is not None and not args.layers.replace(",", " ").strip():
        parser.error("--layers needs at least one layer name, as in --layers conv1,pool5 "
                     "(leave it out for every layer)")
    if args.longest is not None and not 8 <= args.longest <= 16384:
        parser.error(f"--longest must be from 8 to 16384 pixels, got {args.longest}")
    if args.seed is not None and args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}")
    try:  # the validator export_maps itself uses, so the window and the shell agree
        args.cmap, args.normalize = check_options(
            grid=args.grid, per_map=args.maps, npy=args.npy, cmap=args.cmap,
            normalize=args.normalize, scale=args.scale)
    except ValueError as exc:
        parser.error(str(exc))


def _explorer_job(args, parser):
    values = {k: getattr(args, k) for k in INT_FLAGS if getattr(args, k) is not None}
    values.update({key: False for flag, key in SWITCHES.items() if getattr(args, flag)})
    values.update(grayscale=args.grayscale, bank=args.bank or DEFAULTS.bank, seed=args.seed or 0)
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
    try:
        result = run_explorer(scaled, settings)
    except ValueError as exc:
        h, w = scaled.shape[:2]
        raise _Failure(f"these settings give no output for the {w}x{h} image: {exc}") from None
    record = explorer_settings_record(settings, image_record(path, image.shape), longest=longest,
                                      input_shape=scaled.shape)
    return {name: result.maps[name] for name in chosen}, record


def _network_job(args, parser):
    """The network pipeline through the window's own runner and record."""
    settings = NetworkSettings(net=args.net, seed=args.seed or 0, bn_mode=args.bn_mode or "batch",
                               weights=args.weights)
    chosen = _choose(build_network(args.net, init=False).layer_names, args.layers, parser)
    runner = NetworkRunner()
    try:
        runner.network(settings)  # builds it and loads the weights, or refuses the file
    except (ValueError, OSError) as exc:
        raise _Failure(f"cannot load weights from {args.weights}: {exc}") from None
    path = args.image or _default_sample()
    image = imaging.load_image(path)
    result = runner.run(image, settings)
    missing = [name for name in chosen if name not in result.outputs]
    if missing:
        why = next((r.error for r in result.rows if r.error), "")
        raise _Failure(f"{missing[0]} has no output for this input: {why}")
    record = result.settings_record(image_record(path, image.shape))
    return {name: result.outputs[name] for name in chosen}, record


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


_INTERRUPTED: dict[str, int] = {}  # the signal that interrupted the export


def _terminate_as_interrupt():
    """Make SIGTERM interrupt the export as Ctrl+C does (so it cleans up); the old handler."""
    def handler(signum, _frame):
        _INTERRUPTED["signal"] = signum
        raise KeyboardInterrupt

    _INTERRUPTED.clear()
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave SIGTERM as it is
        return signal.getsignal(signal.SIGTERM)


def _restore_terminate(previous) -> None:
    try:
        signal.signal(signal.SIGTERM, previous)
    except (ValueError, TypeError):  # not the main thread, or no Python handler to restore
        pass


def run(args) -> int:
    """Run a parsed ``convlab export`` command line; returns the exit status."""
    parser = args._export_parser
    _check_flags(args, parser)
    progress = _Progress(args.quiet)
    previous = _terminate_as_interrupt()
    try:
        layers, record = (_network_job if args.net else _explorer_job)(args, parser)
        result = export_maps(args.out, layers, settings=record, grid=args.grid, per_map=args.maps,
                             npy=args.npy, cmap=args.cmap, normalize=args.normalize,
                             scale=args.scale, progress=progress)
    except imaging.ImageLoadError as exc:
        progress.finish()
        _say(f"cannot open the image: {exc}")
        return 1
    except (ExportError, _Failure) as exc:
        progress.finish()
        _say(exc)
        return 1
    except KeyboardInterrupt as exc:  # Ctrl+C, or SIGTERM (see _terminate_as_interrupt)
        progress.finish()
        code = 128 + _INTERRUPTED.get("signal", signal.SIGINT)
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
        _restore_terminate(previous)
    progress.finish()
    if not args.quiet:
        print(f"Wrote {len(result.files)} files to {result.out_dir} in {result.seconds:.1f} s "
              f"(manifest.json lists them).")
    return 0
