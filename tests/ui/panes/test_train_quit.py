"""Quitting while the Train pane trains, and the snapshot of the pane after N steps."""

from __future__ import annotations

import subprocess
import sys

from PIL import Image

from convlab.cli import main

QUIT_MID_TRAINING = """
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from convlab.ui.app import make_app, run_app
app = make_app()
def window():
    return next(w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow")
def start():
    pane = window().train
    window().show_pane(pane)
    pane.stepDone.connect(lambda i: i == 3 and close())
    pane.start_button.click()
def close():
    print("closing", pane_state(), flush=True)
    window().close()
def pane_state():
    return "training" if window().train.training() else "idle"
QTimer.singleShot(300, start)
sys.exit(run_app())
"""


def test_quitting_mid_training_stops_it_and_exits_0():
    proc = subprocess.run([sys.executable, "-c", QUIT_MID_TRAINING], capture_output=True,
                          text=True, timeout=300)
    assert "closing training" in proc.stdout, proc.stdout + proc.stderr  # closed mid-run
    assert proc.returncode == 0, proc.stderr
    assert "Destroyed while thread" not in proc.stderr


def test_snapshot_of_the_train_pane_after_some_steps(qtbot, tmp_path, capsys):
    out = tmp_path / "train.png"
    assert main(["snapshot", "--pane", "train", "--train-steps", "5", "--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.size == (1280, 800)


def test_snapshot_refuses_zero_steps(qtbot, tmp_path, capsys):
    code = main(["snapshot", "--pane", "train", "--train-steps", "0",
                 "--out", str(tmp_path / "t.png")])
    err = capsys.readouterr().err
    assert code == 1 and "--train-steps must be at least 1" in err and "\n" not in err.strip()
