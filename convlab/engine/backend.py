"""Choose the array module once: NumPy by default, CuPy when it is installed and a device answers.

The same op code runs on both, because every op asks :func:`array_module` for the module that
owns its input (``cupy.get_array_module`` semantics) instead of importing NumPy directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import numpy as np


@dataclass(frozen=True)
class Backend:
    """The array module in use, a one-line description for the UI, and why CuPy is not used."""

    xp: ModuleType
    name: str  # "numpy" or "cupy"
    description: str  # "NumPy 2.4.6 (CPU)" or "CuPy 13.3 on NVIDIA H200"
    reason: str = ""  # why not CuPy, as a sentence; empty when CuPy is in use


def _probe_cupy() -> tuple[ModuleType | None, str, str]:
    """Return (cupy, device description, reason it cannot be used)."""
    try:
        import cupy
    except ImportError:
        return None, "", "CuPy is not installed (pip install 'convlab[gpu]')."
    except Exception as exc:  # a broken CUDA install raises all sorts at import time
        return None, "", f"CuPy failed to import: {exc}."
    try:
        if not cupy.is_available():
            return None, "", "CuPy is installed but no CUDA device answers."
        cupy.zeros(1, dtype=cupy.float32)  # the first allocation is what really fails
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    except Exception as exc:  # CUDARuntimeError is a RuntimeError; drivers raise others
        return None, "", f"CuPy is installed but the CUDA device failed: {exc}."
    return cupy, name, ""


@lru_cache(maxsize=1)
def get_backend() -> Backend:
    """The backend for this process, chosen once. ``CONVLAB_BACKEND=numpy`` forces NumPy."""
    forced = os.environ.get("CONVLAB_BACKEND", "").strip().lower()
    numpy_desc = f"NumPy {np.__version__} (CPU)"
    if forced == "numpy":
        return Backend(np, "numpy", numpy_desc, "NumPy chosen by CONVLAB_BACKEND=numpy.")
    cupy, device, reason = _probe_cupy()
    if cupy is None:
        return Backend(np, "numpy", numpy_desc, reason)
    return Backend(cupy, "cupy", f"CuPy {cupy.__version__} on {device}")


def array_module(x) -> ModuleType:
    """NumPy or CuPy, whichever owns ``x`` (NumPy for anything that is not a CuPy array)."""
    if type(x).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def freeze(x):
    """Make a NumPy array read-only down to the memory it views (its ``base`` chain); return it.

    Weights are frozen so that caches of transformed weights (:mod:`convlab.engine.ops.winograd`)
    can never go stale: a frozen array is replaced, never edited in place. CuPy arrays have no
    read-only flag and are returned as they are.
    """
    arr = x
    while isinstance(arr, np.ndarray):
        arr.setflags(write=False)
        arr = arr.base
    return x


def to_numpy(x) -> np.ndarray:
    """Bring an array to the host as NumPy (a no-op for NumPy arrays)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get"):
        return x.get()
    return np.asarray(x)
