"""How glibc's malloc serves a process that trains: freed large blocks kept for the next step.

A training step allocates the same large arrays every time: activations, gradients, the new
weights (AlexBN at batch 8: about 900 MB a step). glibc maps each block above its mmap threshold
(128 KB at first, raised by each free up to 32 MB) afresh and unmaps it when freed, so every
step pays first-touch page faults on all of it again (``benchmarks/train_step.py``: AlexBN's
step at batch 8 took 537 ms so, 424 ms with this policy, at a peak of 1,252 MB instead of
1,121; LeNet's at batch 64 16.9 and 15.9 ms). :func:`reuse_freed_blocks` raises the threshold so that
large blocks come from the heap, where a freed block serves the next step's array of the same
size, and lets the heap keep its free top (no trim) while training runs.

The window keeps the opposite policy while it explores (``ui.app.limit_heap_growth``: a 1 MB
threshold and trims, so that resident memory follows what is in use); ``convlab train`` and
``benchmarks/train_step.py`` (which measures the step as the command runs it) use this one.
glibc only: elsewhere nothing changes.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
WINDOW = (1 << 20, 8 << 20)        # (mmap threshold, trim threshold) while the window explores
TRAINING = (1 << 30, 1 << 30)      # while a network trains: blocks up to 1 GB from the heap
                                   # (set explicitly, glibc's dynamic raise to 32 MB stops), and
                                   # up to 1 GB of free heap top kept for the next step


def _libc():
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") else None
    except OSError:
        return None


def set_thresholds(mmap_threshold: int, trim_threshold: int) -> bool:
    """glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD``; True when glibc took both."""
    libc = _libc()
    if libc is None:
        return False
    try:
        return bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)
                    and libc.mallopt(M_TRIM_THRESHOLD, trim_threshold))
    except AttributeError:  # musl or another libc
        return False


GLIBC_DEFAULTS = (128 << 10, 128 << 10)  # glibc's starting thresholds (then fixed: once set,
                                          # the dynamic raise does not come back)
OLD_GLIBC_MMAP_MAX = 32 << 20             # older glibcs refuse a threshold above 32 MB


def reuse_freed_blocks() -> bool:
    """The training policy (:data:`TRAINING`, see the module); True when applied (with a 32 MB
    threshold on a glibc that refuses 1 GB)."""
    return set_thresholds(*TRAINING) or set_thresholds(OLD_GLIBC_MMAP_MAX, TRAINING[1])


@contextmanager
def training(after=GLIBC_DEFAULTS):
    """The training policy for the ``with`` block; then the thresholds ``after`` and a trim,
    so that a process that goes on (a test runner calling ``convlab train``'s ``main``, the
    window) gives the heap's free memory back."""
    applied = reuse_freed_blocks()
    try:
        yield applied
    finally:
        if applied:
            set_thresholds(*after)
            trim()


def trim() -> None:
    """glibc's ``malloc_trim(0)``: the heap's free pages back to the system."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
