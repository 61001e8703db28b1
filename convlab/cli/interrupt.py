"""Ctrl+C on the command line: one line and exit status 130, never a traceback.

While a command starts (argument parsing, importing NumPy or Qt, building the window, loading
weights) nothing has been written, so SIGINT ends the process at once: :func:`quiet_start`
installs a handler that prints ``convlab: interrupted`` and calls ``os._exit(130)`` (a
``KeyboardInterrupt`` raised inside Qt's lazy imports turns into unrelated errors, and one
raised in a Qt slot is printed and lost). A command that writes files calls
:func:`raise_on_interrupt` before it starts writing, so that Ctrl+C becomes a
``KeyboardInterrupt`` again and its clean-up runs (``convlab export``, ``snapshot``'s PNG);
:func:`main <convlab.cli.commands.main>` turns one that reaches it into the same line and 130.
:func:`terminate_as_interrupt` makes SIGTERM interrupt an export as Ctrl+C does (exit 143).
"""

from __future__ import annotations

import os
import signal
import sys

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, the shells' status for Ctrl+C
MESSAGE = "convlab: interrupted\n"


def _quit_now(_signum, _frame) -> None:
    try:
        os.write(sys.stderr.fileno(), MESSAGE.encode())
    except (OSError, ValueError, AttributeError):
        pass
    os._exit(EXIT_INTERRUPTED)


def _set(handler):
    """Install ``handler`` for SIGINT unless Ctrl+C is ignored (a background job) or this is
    not the main thread; the handler it replaced, or None when nothing was installed."""
    try:
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.SIG_IGN or previous is None:
            return None
        signal.signal(signal.SIGINT, handler)
        return previous
    except (ValueError, TypeError):
        return None


def quiet_start():
    """From now on Ctrl+C ends the process at once with one line and status 130; returns the
    handler it replaced (for :func:`restore`)."""
    return _set(_quit_now)


def raise_on_interrupt():
    """From now on Ctrl+C raises ``KeyboardInterrupt`` (Python's default), for clean-up."""
    return _set(signal.default_int_handler)


def restore(previous) -> None:
    """Put back the handler :func:`quiet_start` replaced (None: nothing to put back)."""
    if previous is not None:
        _set(previous)


def say_interrupted() -> int:
    """The one line for a ``KeyboardInterrupt`` that reached the top; returns 130."""
    print(MESSAGE, end="", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


INTERRUPTED: dict[str, int] = {}  # the signal that interrupted an export (SIGINT or SIGTERM)


def terminate_as_interrupt():
    """Make SIGTERM interrupt the export as Ctrl+C does (so it cleans up); the old handler."""
    def handler(signum, _frame):
        INTERRUPTED["signal"] = signum
        raise KeyboardInterrupt

    INTERRUPTED.clear()
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave SIGTERM as it is
        return signal.getsignal(signal.SIGTERM)


def restore_terminate(previous) -> None:
    try:
        signal.signal(signal.SIGTERM, previous)
    except (ValueError, TypeError):  # not the main thread, or no Python handler to restore
        pass
