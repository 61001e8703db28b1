"""Closing the window while a computation or a read is under way ends the process at once.

Each case runs the real ``convlab`` window (``run_app``) in a subprocess, closes it mid-way and
checks the exit status (0, never Qt's abort 134 "QThread: Destroyed while thread is still
running") and that the process ended within a few seconds of the close.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

PRELUDE = """
import os, sys, threading, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from convlab.ui.app import make_app, run_app
app = make_app()
def window():
    return next(w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow")
def close_later(ms):
    def close():
        print("closing", time.time(), flush=True)
        window().close()
    QTimer.singleShot(ms, close)
"""

BLOCKED_READ = PRELUDE + """
from convlab.pipelines import sources
forever = threading.Event()
def blocked_read(*args, **kwargs):  # a read that never returns (a hung network share)
    forever.wait()
QTimer.singleShot(300, lambda: (setattr(sources, "read_and_prepare", blocked_read),
                                window().open_image("/some/hung/share/photo.jpg")))
close_later(1500)
sys.exit(run_app())
"""

HEAVY_EXPLORER = PRELUDE + """
from convlab.engine.explorer import ExplorerSettings
def heavy():
    controls = window().explorer.controls
    controls.set_settings(ExplorerSettings(kernel=15, stride=1, filters=256, pool=1, pool_stride=1))
    controls.changed.emit()
    controls.longest.setValue(2048)
QTimer.singleShot(300, heavy)
close_later(3000)
sys.exit(run_app())
"""

LONG_STAGE = PRELUDE + """
from convlab.engine import ops
real_conv2d = ops.conv2d
def slow_conv2d(*args, **kwargs):  # a stage that checks no stop flag for 20 s
    time.sleep(20)
    return real_conv2d(*args, **kwargs)
def start():
    ops.conv2d = slow_conv2d
    window().show_pane(window().network)
QTimer.singleShot(300, start)
close_later(1500)
sys.exit(run_app())
"""


def _run(script: str) -> tuple[int, float, str]:
    """Run ``script``; (exit status, seconds from the close to the process's end, stderr)."""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    ended = time.time()
    closing = [line for line in proc.stdout.splitlines() if line.startswith("closing")]
    assert closing, f"the window was never closed: {proc.stdout} {proc.stderr}"
    return proc.returncode, ended - float(closing[0].split()[1]), proc.stderr


@pytest.mark.parametrize("script", [BLOCKED_READ, LONG_STAGE, HEAVY_EXPLORER],
                         ids=["blocked-read", "long-uninterruptible-stage", "heavy-explorer"])
def test_closing_mid_compute_exits_cleanly_and_soon(script):
    code, seconds, err = _run(script)
    assert code == 0, err
    assert "Destroyed while thread" not in err
    assert seconds < 3.0, f"the process took {seconds:.1f} s to end after the close"
