"""``convlab train``: train a network on a dataset (:mod:`convlab.pipelines.training`).

``convlab train (--net NAME | --spec FILE | --model FILE.onnx) [--data SOURCE] [--epochs N]
[--batch B] [--optimizer sgd|momentum|adam] [--lr X] [--weight-decay X] [--freeze LAYERS]
[--seed S] [--limit N] [--no-augment] [--out DIR] [--resume]``

``--data`` defaults to the built-in ``shapes`` (grey networks) or ``shapes-rgb`` (colour); the
images are fitted to the network's input. A built-in network's last layer is sized to the
dataset's classes. Each epoch prints a progress bar (tqdm, on a terminal) and one line: train
and test loss and accuracy, images per second. After each epoch ``DIR`` holds ``weights.npz``
(Chainer's ``save_npz`` layout), ``network.json`` (the spec, for ``convlab export --spec
DIR/network.json --weights DIR/weights.npz`` and the Network pane), ``log.json`` (Chainer's
``LogReport``) and ``snapshot.npz`` (for ``--resume``), each written whole or not at all.

Ctrl+C stops after the batch under way, writes the snapshot, says where and exits 130 (a second
Ctrl+C stops at once, keeping the last epoch's files). Bad values: one sentence, exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from convlab.cli import train_run
from convlab.engine.nets import NETWORKS

EXIT_REFUSED = 2
# flag: (low, high, type) -- each stated in --help
RANGES = {"epochs": (1, 10_000, int), "batch": (1, 4096, int), "lr": (1e-8, 10.0, float),
          "weight_decay": (0.0, 0.1, float), "seed": (0, 2**32 - 1, int),
          "limit": (1, 10_000_000, int)}
DEFAULTS = {"epochs": 5, "batch": 64, "optimizer": "adam", "lr": None, "weight_decay": 0.0,
            "seed": 0, "limit": None, "freeze": "", "augment": True}


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = ("Train a network on a dataset with Chainer's optimizers; writes weights, "
                     "log and a snapshot to --out after every epoch.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--net", choices=NETWORKS, help="a built-in network (lenet: 28x28 grey; "
                       "cifar-small: 32x32 colour)")
    which.add_argument("--spec", metavar="FILE.json", help="a network spec file (SPEC_FORMAT)")
    which.add_argument("--model", metavar="FILE.onnx", help="an ONNX model (convlab[onnx])")
    p.add_argument("--data", metavar="SOURCE", help="a built-in name (shapes, shapes-rgb), "
                   "mnist/fashion-mnist/cifar10 after 'convlab data get', or a folder "
                   "(default: shapes, or shapes-rgb for colour networks)")
    n = p.add_argument_group("numbers (each within its range)")
    n.add_argument("--epochs", type=int, metavar="N", help="1 to 10000 (default 5)")
    n.add_argument("--batch", type=int, metavar="B", help="images per batch, 1 to 4096 (default 64)")
    n.add_argument("--optimizer", choices=("sgd", "momentum", "adam"),
                   help="Chainer's SGD, MomentumSGD (momentum 0.9) or Adam (default adam)")
    n.add_argument("--lr", type=float, metavar="X", help="learning rate (Adam's alpha), 1e-8 to "
                   "10 (default: Chainer's, 0.001 for adam, 0.01 otherwise)")
    n.add_argument("--weight-decay", type=float, metavar="X", help="Chainer's WeightDecay hook "
                   "rate, 0 to 0.1 (default 0)")
    n.add_argument("--seed", type=int, metavar="S", help="weights, order, crops, flips and "
                   "dropout, 0 to 4294967295 (default 0)")
    n.add_argument("--limit", type=int, metavar="N", help="use at most N images of each split, "
                   "1 to 10000000 (quick runs)")
    p.add_argument("--freeze", metavar="LAYERS", help="comma-separated layers not to train "
                   "(Chainer's disable_update), e.g. conv1,conv2")
    p.add_argument("--no-augment", dest="augment", action="store_false", default=None,
                   help="no random crops and flips")
    p.add_argument("--out", metavar="DIR", default="result",
                   help="where to write weights.npz, network.json, log.json and snapshot.npz "
                   "(default ./result, as Chainer's examples)")
    p.add_argument("--resume", action="store_true", help="continue the run whose snapshot is "
                   "in --out (its own settings, unless given again)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)
    return p


def check_numbers(args) -> str | None:
    """The sentence for the first flag outside its range, or None."""
    for key, (low, high, _) in RANGES.items():
        value = getattr(args, key)
        if value is not None and not (low <= value <= high):
            flag = "--" + key.replace("_", "-")
            return f"{flag} must be from {low:g} to {high:g}, not {value:g}."
    return None


def given_settings(args) -> dict:
    """The settings given on the command line (None: not given)."""
    freeze = None if args.freeze is None else tuple(n.strip() for n in args.freeze.split(",")
                                                    if n.strip())
    return {"epochs": args.epochs, "batch": args.batch, "optimizer": args.optimizer,
            "lr": args.lr, "weight_decay": args.weight_decay, "seed": args.seed,
            "limit": args.limit, "freeze": freeze, "augment": args.augment}


def run(args) -> int:
    """Run a parsed ``convlab train`` command line; returns the exit status."""
    problem = check_numbers(args)
    if problem is None and not args.resume and not (args.net or args.spec or args.model):
        problem = "say which network to train: --net NAME, --spec FILE.json or --model FILE.onnx."
    if problem:
        return fail(problem)
    try:
        return train_run.train(args, given_settings(args), DEFAULTS)
    except ValueError as exc:  # DatasetError, TrainingError, SnapshotError, PathRefused, spec
        return fail(exc)
    except OSError as exc:
        return fail(f"could not write to {args.out}: {(exc.strerror or str(exc)).lower()}.")


def fail(message) -> int:
    text = " ".join(str(message).split())
    print(f"convlab train: {text if text.endswith('.') else text + '.'}", file=sys.stderr)
    return EXIT_REFUSED


def snapshot_path(out: str) -> str:
    return os.path.join(out, "snapshot.npz")
