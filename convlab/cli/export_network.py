"""``convlab export`` with a network: a built-in one (``--net``), a spec file (``--spec``) or an
ONNX model (``--model``), run by the window's own :class:`~convlab.pipelines.network.NetworkRunner`
and recorded by its :meth:`~convlab.pipelines.network.NetworkResult.settings_record`.

A spec or model that cannot be read or built, or whose layer cannot take the input, is one
sentence naming the layer or node, exit 2, before anything is written.
"""

from __future__ import annotations

import argparse

from convlab.engine.nets import NETWORKS

CONV1 = ("random", "handmade", "learned")
INSTALL_LINE = 'Reading ONNX models needs the onnx package: pip install "convlab[onnx]".'


class BadFile(Exception):
    """A spec, model or labels file refused; its text is the whole sentence (exit 2)."""


def add_network_arguments(p: argparse.ArgumentParser) -> None:
    """The network pipeline's flags (an argument group of ``p``)."""
    from convlab.models.preprocess import PRESETS

    n = p.add_argument_group("network pipeline (one of --net, --spec, --model)")
    which = n.add_mutually_exclusive_group()
    which.add_argument("--net", choices=NETWORKS, default=None,
                       help="a built-in network (alex2g: AlexNet, 2 groups)")
    which.add_argument("--spec", metavar="FILE.json", help="a network spec file (SPEC_FORMAT)")
    which.add_argument("--model", metavar="FILE.onnx",
                       help='an ONNX model (needs pip install "convlab[onnx]")')
    n.add_argument("--weights", metavar="FILE.npz", help="Chainer save_npz weights (default: random)")
    n.add_argument("--bn-mode", choices=("batch", "stored"), default=None,
                   help="BN statistics: of this image (batch, default) or the stored averages "
                        "(stored, the default for --model)")
    n.add_argument("--conv1", choices=CONV1, default=None,
                   help="replace the first convolution's kernels: hand-made Gabor and colour "
                        "blobs, or learned from the bundled photos (ICA) (default random)")
    n.add_argument("--input", type=int, default=None, metavar="N",
                   help="square input size (default: the network's own, 227 for AlexNet); not for --model")
    n.add_argument("--preprocess", choices=tuple(PRESETS), default=None,
                   help="--model only: " + "; ".join(f"{k}: {v}" for k, v in PRESETS.items())
                        + " (default imagenet)")
    n.add_argument("--labels", metavar="FILE.txt",
                   help="--model only: class names, one a line (default: a labels file beside "
                        "the model)")


def network_flag(args) -> str | None:
    """The flag that chose a network (``"--net"``, ``"--spec"``, ``"--model"``), or None."""
    return next((f"--{k}" for k in ("net", "spec", "model") if getattr(args, k) is not None), None)


def check_network_flags(args, parser) -> None:
    """Usage errors of the network flags (exit 2) before any work."""
    chosen = network_flag(args)
    if chosen is None:
        for key in ("weights", "bn_mode", "conv1", "input", "preprocess", "labels"):
            if getattr(args, key) is not None:
                parser.error(f"--{key.replace('_', '-')} needs a network: --net, --spec or --model")
        return
    if args.model is None:
        for key in ("preprocess", "labels"):
            if getattr(args, key) is not None:
                parser.error(f"--{key} applies to --model only (an ONNX model's input)")
    else:
        for key, why in (("weights", "an ONNX model holds its own weights"),
                         ("input", "an ONNX model runs at its own input size")):
            if getattr(args, key) is not None:
                parser.error(f"--{key} does not apply to --model: {why}")
    if args.input is not None and not 1 <= args.input <= 4096:
        parser.error(f"--input must be from 1 to 4096 pixels, got {args.input}")


def network_settings(args):
    """``(NetworkSettings, spec dict or None)`` for the command line, the files read safely;
    :class:`BadFile` with one sentence for a spec, model or labels file that cannot be used."""
    from convlab.pipelines import netfiles
    from convlab.pipelines.network import NetworkSettings, spec_text

    conv1 = args.conv1 or "random"
    trained = "stored" if args.model is not None else "batch"  # a trained model's BN averages
    common = dict(seed=args.seed or 0, bn_mode=args.bn_mode or trained, weights=args.weights,
                  handmade_conv1=conv1 == "handmade", learned_conv1=conv1 == "learned")
    try:
        if args.spec is not None:
            spec = netfiles.read_spec(args.spec)
            net = netfiles.spec_network(spec, args.spec)
            insize = args.input or net.input_shape[1]
            failure = netfiles.first_failure(net, (net.input_shape[0], insize, insize))
            if failure:
                raise BadFile(f"{_base(args.spec)}: at {insize}x{insize} pixels, {failure}")
            canonical = net.to_spec()
            return NetworkSettings(net="custom", spec=spec_text(canonical), insize=insize,
                                   **common), canonical
        if args.model is not None:
            return _model_settings(args, common), None
    except ValueError as exc:
        raise BadFile(str(exc)) from None
    from convlab.engine.nets.presets import input_size

    return NetworkSettings(net=args.net, insize=args.input or input_size(args.net), **common), None


def _model_settings(args, common):
    from convlab.models import onnx_available
    from convlab.models.preprocess import read_labels
    from convlab.pipelines import guard
    from convlab.pipelines.network import NetworkSettings

    if not onnx_available():
        raise BadFile(INSTALL_LINE)
    guard.require_regular_file(args.model, "ONNX model")
    if args.labels is not None:
        guard.require_regular_file(args.labels, "labels")
        read_labels(args.labels)  # a binary or huge file is refused here, not after the run
    return NetworkSettings(net="onnx", model=args.model, preprocess=args.preprocess or "imagenet",
                           labels=args.labels, **common)


def _base(path) -> str:
    import os

    return os.path.basename(os.fspath(path))
