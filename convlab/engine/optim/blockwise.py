"""Update rules run over a parameter in blocks, on the CPU's cores, with no temporary arrays.

Written as array expressions, an update makes a new array for each operation: MomentumSGD's
``v * mu``, ``lr * g``, ``v - ...`` and ``W + v`` are four passes over memory and three fresh
arrays, each paid for again in page faults. AlexBN's fc6 (37.7 M weights) took 71 ms that way.
Here the rule runs on blocks of ``BLOCK`` elements that stay in the core's cache, the
optimizer's own state (``v``, Adam's ``m``) is updated in place (nothing outside the optimizer
sees it: ``state_dict`` copies), the new weight goes into one fresh array (weights are still
replaced, never edited), and the blocks are shared between ``workers()`` threads (NumPy releases
the GIL in its loops): fc6 in 23 ms at two threads. Every element sees the same operations in
the same order as the array expression, so the bits do not depend on the block size or the
thread count.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

BLOCK = 1 << 18          # elements per block: 1 MB of float32 per operand (256 K: 22.6 ms for
                         # fc6 at two threads, 64 K: 24.1 ms, 16 K: 36.9 ms)
MIN_PARALLEL = 1 << 20   # below this many elements one thread (a pool hand-off costs ~50 us)

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def workers() -> int:
    """Threads for the blocks: the BLAS thread count where the environment sets one
    (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, as ``convlab bench --threads`` does), else the
    CPU count."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        try:
            n = int(os.environ.get(var, ""))
        except ValueError:
            continue
        if n >= 1:
            return min(n, 64)
    try:
        return max(1, len(os.sched_getaffinity(0)))   # the cores this process may use
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def applies(*arrays) -> bool:
    """Whether the blockwise form can run: NumPy arrays of one float dtype and shape, each
    C-contiguous (the gradient is made so by the caller)."""
    first = arrays[0]
    return all(isinstance(a, np.ndarray) and a.flags.c_contiguous and a.dtype == first.dtype
               and a.shape == first.shape for a in arrays) and first.dtype.kind == "f"


def run(size: int, body, scratch: int = 1, dtype=np.float32) -> None:
    """Call ``body(lo, hi, bufs)`` over ``[0, size)`` in blocks of at most ``BLOCK``; ``bufs`` is
    ``scratch`` private arrays of ``hi - lo`` elements. Parallel above ``MIN_PARALLEL``."""
    n_threads = min(workers(), max(1, size // MIN_PARALLEL))

    def part(i: int) -> None:
        lo_part, hi_part = i * size // n_threads, (i + 1) * size // n_threads
        bufs = np.empty((scratch, min(BLOCK, max(hi_part - lo_part, 1))), dtype=dtype)
        for lo in range(lo_part, hi_part, BLOCK):
            hi = min(hi_part, lo + BLOCK)
            body(lo, hi, [b[:hi - lo] for b in bufs])

    if n_threads == 1:
        part(0)
        return
    list(_executor(n_threads).map(part, range(n_threads)))


def _executor(n: int) -> ThreadPoolExecutor:
    """One pool of at least ``n`` threads for the process. A smaller one is replaced but never
    shut down (an update on another thread may still be handing it blocks; its idle threads
    end with the process)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="convlab-update")
            _pool_size = n
        return _pool
