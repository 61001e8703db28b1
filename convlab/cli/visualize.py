"""``convlab visualize``: why a network said what it said, and what its units want, as PNGs.

- ``--method M``: saliency, SmoothGrad, guided backpropagation, deconvnet, Grad-CAM or guided
  Grad-CAM of a class (``--class K``, default the top-1) or a unit (``--unit LAYER:C``), over
  the photo's input crop with a colour bar, to ``--out FILE.png``;
- ``--features LAYER``: the first ``--channels`` units' feature visualisations as a grid;
- ``--top-patches LAYER:C --data SOURCE``: the ``--k`` patches of a dataset that excite a unit.

The network comes from ``--net``, ``--spec`` or ``--model`` as in ``convlab export``
(:mod:`.export_network`); every PNG carries the command that made it (``convlab:settings``).
A bad command line, spec, model, target or dataset is one sentence and exit 2.
"""

from __future__ import annotations

import argparse
import sys

from convlab.cli.export_network import (BadFile, add_network_arguments, check_network_flags,
                                        network_flag)
from convlab.pipelines import attribution as views

EXAMPLES = """examples:
  convlab visualize photo.jpg --net alexbn --method gradcam --out cam.png
  convlab visualize photo.jpg --net alexbn --weights alexbn.npz --method guided --class 281 \
      --out g.png
  convlab visualize photo.jpg --spec net.json --method saliency --unit conv5:12 --out s.png
  convlab visualize --spec net.json --weights trained.npz --features conv1 --out pictures
  convlab visualize --spec net.json --weights trained.npz --top-patches conv2:3 \
      --data shapes-rgb --out patches
"""


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.usage = ("%(prog)s [IMAGE] (--net|--spec|--model) "
               "(--method M|--features L|--top-patches L:C) --out PATH")
    p.epilog, p.formatter_class = EXAMPLES, argparse.RawDescriptionHelpFormatter
    p.add_argument("image", nargs="?", help="the photo (--method; default the bundled astronaut)")
    p.add_argument("--out", "-o", required=True, metavar="PATH",
                   help="FILE.png for --method, a folder (created if missing) otherwise")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="seed of the random weights, SmoothGrad's noise and the pictures (0)")
    add_network_arguments(p)
    v = p.add_argument_group("what to show (one of --method, --features, --top-patches)")
    what = v.add_mutually_exclusive_group(required=True)
    what.add_argument("--method", choices=tuple(views.METHODS))
    what.add_argument("--features", metavar="LAYER", help="pictures of LAYER's units")
    what.add_argument("--top-patches", metavar="LAYER:C", help="a unit's top dataset patches")
    target = v.add_mutually_exclusive_group()
    target.add_argument("--class", dest="class_index", type=int, metavar="K",
                        help="--method: the class to explain (default the top-1)")
    target.add_argument("--unit", metavar="LAYER:C", help="--method: a unit instead of a class")
    v.add_argument("--layer", help="Grad-CAM's layer (default the last convolution's ReLU)")
    v.add_argument("--data", metavar="SOURCE", help="--top-patches: a dataset (name or folder)")
    v.add_argument("--k", type=int, default=9, help="--top-patches: how many (9)")
    v.add_argument("--limit", type=int, default=500, help="--top-patches: images looked at (500)")
    v.add_argument("--channels", type=int, default=16, help="--features: the first N units (16)")
    v.add_argument("--steps", type=int, default=128, help="--features: ascent steps (128)")
    v.add_argument("--scale", type=int, default=1, metavar="N",
                   help="enlarge every pixel of the PNG to N x N (1-16; default 1)")
    v.add_argument("--size", type=int, default=None,
                   help="--features: picture side (default the network's input size)")
    p.set_defaults(run=run, _parser=p)
    return p


def _check(args, parser) -> None:
    check_network_flags(args, parser)
    if network_flag(args) is None:
        parser.error("choose a network: --net, --spec or --model")
    only = {"class_index": "--method", "unit": "--method", "layer": "--method",
            "data": "--top-patches"}
    chosen = {"--method": args.method, "--top-patches": args.top_patches}
    for key, needs in only.items():
        if getattr(args, key) is not None and chosen[needs] is None:
            parser.error(f"--{key.replace('_index', '')} applies to {needs} only")
    if args.layer is not None and args.method not in ("gradcam", "guided-gradcam"):
        parser.error("--layer applies to --method gradcam and guided-gradcam only")
    if args.top_patches is not None and args.data is None:
        parser.error("--top-patches needs --data SOURCE (a dataset name or folder)")
    if args.image is not None and args.method is None:
        parser.error("IMAGE applies to --method only (--features and --top-patches need none)")
    if not 1 <= args.scale <= 16:
        parser.error(f"--scale must be from 1 to 16, got {args.scale}")
    for key, low in (("k", 1), ("limit", 1), ("channels", 1), ("steps", 0), ("size", 8)):
        value = getattr(args, key)
        if value is not None and value < low:
            parser.error(f"--{key} must be at least {low}, got {value}")


def _say(line) -> None:
    print("convlab visualize: " + " ".join(str(line).split()), file=sys.stderr)


def run(args) -> int:
    """Run a parsed ``convlab visualize`` command line; returns the exit status."""
    from convlab.cli import visualize_jobs as jobs
    from convlab.pipelines.datasets import DatasetError
    from convlab.pipelines.images import ImageLoadError

    _check(args, args._parser)
    try:
        job = jobs.method_job if args.method else (
            jobs.features_job if args.features else jobs.patches_job)
        written, line = job(args, _say)
    except ImageLoadError as exc:
        _say(f"cannot open the image: {exc}")
        return 1
    except (BadFile, DatasetError, ValueError) as exc:   # one sentence: spec, target, data
        _say(exc)
        return 2
    except OSError as exc:
        _say(exc)
        return 1
    print(f"Wrote {written}: {line}")
    return 0
