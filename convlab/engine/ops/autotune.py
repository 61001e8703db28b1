"""Pick the faster of several ways to compute the same result, by timing them once per problem.

Which convolution path is faster depends on the machine and on its load: on a quiet CPU, or with
one BLAS thread, Winograd's many small GEMMs win; on a crowded one (BLAS threads waiting for each
other at every call) one big im2col GEMM does. So the first call of each problem (a key such as
the shapes) runs every path ``trials`` times, alternating, and the path with the lowest median
is kept for that key from then on: results stay reproducible within a process (the paths agree
only to float32 rounding, ~1e-6 relative). ``reset()`` forgets the choices (after the machine's
load changed, say).
"""

from __future__ import annotations

import statistics
import time
from typing import Callable


class PathTuner:
    """``best(key)`` (None until calibrated) and ``calibrate(key, {path: run})``."""

    def __init__(self, paths: tuple[str, ...], *, trials: int = 3):
        self.paths, self.trials = paths, trials
        self._chosen: dict[object, str] = {}
        self.seconds: dict[object, dict[str, float]] = {}  # median per path, for reports

    def best(self, key) -> str | None:
        return self._chosen.get(key)

    def calibrate(self, key, runs: dict[str, Callable[[], object]]) -> str:
        """Time each ``runs[path]()`` ``trials`` times, alternating; keep and return the fastest."""
        times: dict[str, list[float]] = {path: [] for path in self.paths}
        for _ in range(self.trials):
            for path in self.paths:
                t0 = time.perf_counter()
                runs[path]()
                times[path].append(time.perf_counter() - t0)
        medians = {path: statistics.median(values) for path, values in times.items()}
        self.seconds[key] = medians
        self._chosen[key] = min(self.paths, key=medians.__getitem__)
        return self._chosen[key]

    def reset(self) -> None:
        self._chosen.clear()
        self.seconds.clear()
