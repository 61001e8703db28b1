"""Fixtures shared by the tests of the window's parts."""

from __future__ import annotations

import pytest


@pytest.fixture
def worker(qtbot):
    """A started LatestWorker, shut down after the test."""
    from convlab.ui.worker import LatestWorker

    w = LatestWorker("test")
    yield w
    w.shutdown()
