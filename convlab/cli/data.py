"""``convlab data get NAME [--mirror URL] [--dir DIR]`` and ``convlab data list``.

``get`` downloads MNIST, Fashion-MNIST or CIFAR-10 into the user's data folder
(``platformdirs.user_data_dir("convlab")/datasets/NAME``, or ``$CONVLAB_DATA_DIR/NAME``, or
``--dir``), with a progress bar on a terminal, resuming an interrupted download, and uses a
file only when its published SHA-256 matches (:mod:`convlab.pipelines.datasets.download`).
Exit status: 0 done, 2 one sentence on stderr (no network, checksum mismatch, refused
archive), 130 Ctrl+C (the partial file is kept for the next run). ``list`` says what is where.
"""

from __future__ import annotations

import argparse
import sys

from convlab.cli.interrupt import EXIT_INTERRUPTED, raise_on_interrupt, restore
from convlab.pipelines.datasets import catalogue as _catalogue

EXIT_REFUSED = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    actions.required = True
    get = actions.add_parser("get", help="download a dataset, checked by SHA-256",
                             description="Download a dataset into the user's data folder.")
    get.add_argument("name", choices=sorted(_catalogue.CATALOGUE), metavar="NAME",
                     help=f"one of: {', '.join(sorted(_catalogue.CATALOGUE))}")
    get.add_argument("--mirror", metavar="URL", help="another server folder holding the same files")
    get.add_argument("--dir", metavar="DIR", help="put the dataset in DIR instead of the data folder")
    get.add_argument("--quiet", action="store_true", help="no progress bar")
    get.set_defaults(run=run_get)
    listing = actions.add_parser("list", help="what is downloaded where",
                                 description="Datasets ConvLab knows, and where they are.")
    listing.set_defaults(run=run_list)


def run_get(args) -> int:
    from convlab.pipelines.datasets.download import DownloadError, fetch_dataset, is_complete

    entry = _catalogue.CATALOGUE[args.name]
    folder = args.dir if args.dir else _catalogue.dataset_dir(args.name)
    if is_complete(folder):
        print(f"{entry.title} is already in {folder}")
        return 0
    previous = raise_on_interrupt()  # Ctrl+C from here: keep the .part file, say so
    try:
        folder = fetch_dataset(args.name, dest=folder, mirror=args.mirror,
                               progress=False if args.quiet else None)
    except DownloadError as exc:
        print(f"convlab data get: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("convlab: interrupted; run the same command again to resume the download.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        restore(previous)
    print(f"{entry.title} is in {folder}")
    print(f"train on it with: convlab train --data {args.name if not args.dir else folder}")
    return 0


def run_list(args) -> int:
    from convlab.pipelines.datasets.builtin import BUILTIN, TEST_SIZE, TRAIN_SIZE
    from convlab.pipelines.datasets.download import catalogue_status

    rows = [("dataset", "state", "size", "folder")]
    for name, folder, complete, size in catalogue_status():
        state = "downloaded" if complete else ("partial" if size else "not downloaded")
        rows.append((name, state, f"{size / 1e6:.1f} MB" if size else "", str(folder)))
    for name, (side, channels) in BUILTIN.items():
        kind = "grey" if channels == 1 else "colour"
        rows.append((name, "built in", "", f"{side}x{side} {kind}, {TRAIN_SIZE}/{TEST_SIZE} images"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3])
    return 0
