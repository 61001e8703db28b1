"""The backend choice on this machine (no CuPy) and the host transfer helpers."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from convlab.engine import backend
from convlab.engine.backend import get_backend, to_numpy


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None and get_backend().name == "cupy",
                    reason="a CUDA device answers here; tests/engine/test_gpu.py covers CuPy")
def test_numpy_backend_with_a_reason():
    b = get_backend()
    assert b.name == "numpy"
    assert b.xp is np
    assert isinstance(b.reason, str) and len(b.reason.split()) >= 3
    assert "numpy" in b.description.lower()


def test_backend_is_chosen_once():
    assert get_backend() is get_backend()


def test_to_numpy_is_identity_on_numpy():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert to_numpy(x) is x


def test_to_numpy_converts_array_likes():
    y = to_numpy([[1.0, 2.0]])
    assert isinstance(y, np.ndarray) and y.shape == (1, 2)


def test_numpy_forced_by_environment(monkeypatch):
    monkeypatch.setenv("CONVLAB_BACKEND", "numpy")
    backend.get_backend.cache_clear()
    try:
        b = backend.get_backend()
        assert b.name == "numpy" and b.xp is np and b.reason
    finally:
        monkeypatch.delenv("CONVLAB_BACKEND")
        backend.get_backend.cache_clear()
    assert backend.get_backend().name == "numpy"


def test_ops_keep_numpy_arrays_numpy():
    from convlab.engine import ops

    x = np.ones((1, 2, 5, 5), np.float32)
    W = np.ones((3, 2, 3, 3), np.float32)
    assert isinstance(ops.conv2d(x, W), np.ndarray)
    assert isinstance(ops.max_pool2d(x, 2), np.ndarray)
