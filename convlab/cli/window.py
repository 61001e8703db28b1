"""``convlab [IMAGE]``: the window, launched only where Qt can open one.

A first argument that is no file but looks like a sub-command (``convlab shape``) is a usage
error with a suggestion (exit 2), never an image to open. Without a display, one sentence says
so (and names the system package Qt's X11 plugin lacks, when that is the cause) and the exit
status is 1, instead of Qt's abort. The Qt code itself is :func:`convlab.ui.app.run_app`.
"""

from __future__ import annotations

import argparse
import ctypes.util
import difflib
import os
import sys

# libraries Qt's xcb platform plugin loads at start-up -> the Debian/Ubuntu package with them
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xkbcommon-x11": "libxkbcommon-x11-0",
                 "xcb-icccm": "libxcb-icccm4", "xcb-keysyms": "libxcb-keysyms1"}


def display_problem(environ=None, platform: str | None = None, find_library=None) -> str:
    """"" when the window can open here, else one sentence saying why it cannot."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    find = find_library or ctypes.util.find_library
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if not platform.startswith("linux") or qpa not in ("", "xcb", "wayland", "wayland-egl"):
        return ""  # macOS, Windows, offscreen, vnc, eglfs ...: Qt decides
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return ("the window needs a display and none is set (neither DISPLAY nor WAYLAND_DISPLAY); "
                "run it in a desktop session or over ssh -X, or use a command that needs none, "
                "such as 'convlab export' or 'convlab snapshot' (see convlab --help).")
    if qpa in ("", "xcb") and env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        missing = [package for lib, package in XCB_LIBRARIES.items() if not find(lib)]
        if missing:
            return (f"the window cannot start: Qt's X11 (xcb) plugin needs the system package "
                    f"{missing[0]}, which is not installed (Debian/Ubuntu: sudo apt install "
                    f"{' '.join(missing)}).")
    return ""


def _parser(commands) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="convlab", description="Open ConvLab's window. Commands that need no display: "
        f"{', '.join(commands)} (convlab COMMAND --help).")
    p.add_argument("image", nargs="?", help="an image to open (default: a bundled sample photo)")
    return p


def main(argv: list[str], *, commands: tuple[str, ...]) -> int:
    parser = _parser(commands)
    first = argv[0] if argv else None
    if first is not None and not first.startswith("-") and not os.path.exists(first):
        close = difflib.get_close_matches(first, commands, n=1, cutoff=0.6)
        if close:  # before parsing: "convlab exprot --out x" is a typo, not unknown flags
            parser.error(f"{first!r} is neither a file nor a command; did you mean {close[0]!r}?")
    args = parser.parse_args(argv)
    problem = display_problem()
    if problem:
        print(f"convlab: {problem}", file=sys.stderr)
        return 1
    from convlab.ui.app import run_app

    return run_app(args.image)
