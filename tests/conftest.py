"""Shared test set-up: Qt runs offscreen, so the suite needs no screen; the window and photo fixtures."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.ui.helpers import RESULT_MS

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CONVLAB_BACKEND", "numpy")  # the same backend on every machine


@pytest.fixture
def window(qtbot):
    """A shown MainWindow at its defaults, with its first full result painted."""
    from convlab.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(win.explorer.settled, timeout=RESULT_MS)
    yield win
    win.close()


@pytest.fixture
def photo(tmp_path):
    """Write an RGB PNG of the given (width, height) and return its path."""
    from PIL import Image

    def make(width=300, height=200, name="photo.png"):
        rng = np.random.default_rng(width * 7 + height)
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        path = tmp_path / name
        Image.fromarray(pixels).save(path)
        return path

    return make
