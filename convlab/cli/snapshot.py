"""``convlab snapshot``: the real window rendered offscreen to a PNG once its results are painted.

    convlab snapshot --out docs/explorer.png
    convlab snapshot photo.jpg --out shot.png --size 1920x1080 --pane network

The window is the one ``convlab`` opens, at its defaults (remembered settings are not used),
so snapshots are reproducible. Any failure prints one line and exits non-zero. ``--out`` may not
be a symbolic link. Ctrl+C or SIGTERM while the PNG is written removes its temporary file
(exit 130 or 143); one left by a killed snapshot is removed by the next one to the same path.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time

from convlab.cli.interrupt import (INTERRUPTED, raise_on_interrupt, restore_terminate,
                                   terminate_as_interrupt)
from convlab.export.atomic import WriteFailed, atomic_path, refuse_link
from convlab.pipelines import guard

PANES = ("explorer", "network")
STAGES = ("conv", "bn", "relu", "pool")


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"size must look like 1280x800, got {text!r}")
    w, h = int(match[1]), int(match[2])
    if not (320 <= w <= 7680 and 240 <= h <= 4320):
        raise argparse.ArgumentTypeError(f"size {w}x{h} is outside 320x240 to 7680x4320")
    return w, h


def parse_explain(text: str) -> tuple[str, int, int, int]:
    """``"STAGE:C,I,J"`` or ``"I,J"`` (conv stage, channel 0) -> ``(stage, channel, i, j)``."""
    match = re.fullmatch(r"\s*(?:(\w+)\s*:\s*(\d+)\s*,)?\s*(\d+)\s*,\s*(\d+)\s*", text)
    if not match or (match[1] is not None and match[1].lower() not in STAGES):
        raise argparse.ArgumentTypeError(f"--explain takes STAGE:C,I,J (STAGE one of "
                                         f"{', '.join(STAGES)}) or I,J; got {text!r}")
    stage = (match[1] or "conv").lower()
    return stage, int(match[2] or 0), int(match[3]), int(match[4])


DESCRIPTION = ("Render ConvLab's window offscreen, after its results are painted, to a PNG "
               "(for README screenshots and bug reports).")


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give ``p`` the snapshot command's arguments."""
    p.description = DESCRIPTION
    p.set_defaults(run=run)
    p.add_argument("image", nargs="?", help="photo to open (default: the bundled sample)")
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to write the PNG")
    p.add_argument("--pane", choices=PANES, default="explorer", help="which tab to show")
    p.add_argument("--size", type=parse_size, default=(1280, 800), metavar="WxH",
                   help="window size in pixels (default 1280x800)")
    p.add_argument("--explain", type=parse_explain, metavar="STAGE:C,I,J",
                   help="explorer: pin output (I, J) of map C of STAGE (conv, bn, relu, pool; "
                        "I,J alone: conv, map 0) and show how it is made")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="give up if the results take longer than this (default 60 s)")
    return p


def _wait(app, ready, timeout: float) -> bool:
    """Run the event loop until ``ready()`` holds twice in a row 50 ms apart, or time runs out."""
    deadline = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < deadline:
        app.processEvents()
        streak = streak + 1 if ready() else 0
        if streak >= 2:
            return True
        time.sleep(0.05)
    return False


def _pane_ready(window, pane_name: str):
    """Bring the chosen pane to the front (it computes when first shown); its ``settled``."""
    for pane in window.panes():
        if pane.title.lower() == pane_name:
            window.show_pane(pane)
            return pane.settled
    raise OSError(f"the window has no {pane_name} pane")


def render(window, out: str) -> None:
    """Grab the window (menus, panes, status bar) and write it atomically as PNG."""
    pixmap = window.grab()
    raise_on_interrupt()  # Ctrl+C from here removes the temporary file (atomic_path)
    previous = terminate_as_interrupt()  # and so does SIGTERM
    try:
        with atomic_path(out) as tmp:  # refuses folders, devices, pipes, links; no temporary left
            if not pixmap.save(str(tmp), "PNG"):
                raise WriteFailed(f"could not write {out} (Qt's PNG writer failed: is the disk "
                                  "full?); it was left as it was and no temporary file remains.")
    finally:
        restore_terminate(previous)


def size_problem(window, size: tuple[int, int]) -> str:
    """"" when the window took ``size``, else a sentence naming the smallest size it can take."""
    got = window.size()
    if (got.width(), got.height()) == tuple(size):
        return ""
    least = window.minimumSizeHint().expandedTo(window.minimumSize())
    w, h = max(least.width(), size[0]), max(least.height(), size[1])
    return (f"the window cannot be as small as {size[0]}x{size[1]}: its controls need at least "
            f"{w}x{h}; use --size {w}x{h} or larger.")


def explain_problem(window, stage: str, c: int, i: int, j: int) -> str:
    """"" when ``stage`` has map ``c`` and position ``(i, j)`` in the explorer's result, else a
    sentence giving the ranges that it has (from the result's own plan of shapes)."""
    out = getattr(window.explorer, "output", None)
    shapes = {st.name: st.shape for st in getattr(getattr(out, "result", None), "plan", ())
              if st.shape}
    if stage not in shapes:
        return ""  # the pane itself says that these settings have no such stage
    f, h, w = shapes[stage][-3:]
    if c < f and i < h and j < w:
        return ""
    return (f"--explain {stage}:{c},{i},{j} is outside the {stage} stage, which has "
            f"{f} map{'s' * (f != 1)} of {h}x{w}: use a map from 0 to {f - 1}, a row from 0 to "
            f"{h - 1} and a column from 0 to {w - 1}.")


def run(args) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        refuse_link(args.out)
        out = guard.check_output_path(args.out, "snapshot")
    except ValueError as exc:
        print(f"convlab snapshot: {exc}", file=sys.stderr)
        return 1
    if not os.path.isdir(os.path.dirname(out)):
        print(f"convlab snapshot: the folder {os.path.dirname(out)} does not exist", file=sys.stderr)
        return 1
    from convlab.pipelines import sources
    from convlab.ui.app import make_app

    app = make_app()
    loaded = None
    if args.image:
        try:
            loaded = sources.read_and_prepare(args.image, sources.DEFAULT_LONGEST)
        except ValueError as exc:
            print(f"convlab snapshot: {exc}", file=sys.stderr)
            return 1
    from convlab.ui.main_window import MainWindow

    window = MainWindow(loaded)
    window.resize(*args.size)
    window.show()
    try:
        problem = size_problem(window, args.size)
        if problem:
            raise ValueError(problem)
        ready = _pane_ready(window, args.pane)
        if not _wait(app, ready, args.timeout):
            print(f"convlab snapshot: the {args.pane} pane was not ready after {args.timeout:g} s",
                  file=sys.stderr)
            return 1
        if getattr(args, "explain", None) is not None:
            if args.pane != "explorer":
                raise OSError("--explain needs --pane explorer")
            problem = explain_problem(window, *args.explain)
            if problem:
                print(f"convlab snapshot: {problem}", file=sys.stderr)
                return 2
            window.explorer.pin(*args.explain)
            if not _wait(app, ready, args.timeout):
                raise OSError("the explained value was not ready in time")
        render(window, out)
    except (OSError, ValueError) as exc:
        print(f"convlab snapshot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if INTERRUPTED.get("signal") != signal.SIGTERM:
            raise  # Ctrl+C: the one line and 130 of convlab.cli.commands.main
        print(f"convlab snapshot: terminated; {out} was left as it was", file=sys.stderr)
        return 128 + signal.SIGTERM
    finally:
        window.close()  # stops its worker threads
    print(out)
    return 0
