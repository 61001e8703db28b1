"""Pick the faster of several ways to compute the same result, by timing them now and then.

Which convolution path is faster depends on the machine and on its load right now: on a quiet
CPU Winograd's many small GEMMs win, on a crowded one (BLAS threads waiting for each other
at every call) one big im2col GEMM does. So, per problem (a key such as the shapes), the first
calls try each path ``trials`` times; after that the path with the lowest median of its last
``keep`` times is used, and every ``explore_every``-th call tries another path once, so a
change of load is noticed. The paths give the same result within float32 rounding.
"""

from __future__ import annotations

import statistics
from collections import deque


class PathTuner:
    """``choose(key) -> path``; ``record(key, path, seconds)`` after each timed call."""

    def __init__(self, paths: tuple[str, ...], *, trials: int = 3, keep: int = 5,
                 explore_every: int = 32):
        self.paths, self.trials, self.keep, self.explore_every = paths, trials, keep, explore_every
        self._times: dict[object, dict[str, deque]] = {}
        self._calls: dict[object, int] = {}

    def choose(self, key) -> str:
        times = self._times.setdefault(key, {p: deque(maxlen=self.keep) for p in self.paths})
        untried = min(self.paths, key=lambda p: len(times[p]))
        if len(times[untried]) < self.trials:
            return untried
        calls = self._calls[key] = self._calls.get(key, 0) + 1
        ranked = sorted(self.paths, key=lambda p: statistics.median(times[p]))
        if calls % self.explore_every == 0:
            return ranked[1 + (calls // self.explore_every) % (len(ranked) - 1)]
        return ranked[0]

    def record(self, key, path: str, seconds: float) -> None:
        self._times.setdefault(key, {p: deque(maxlen=self.keep) for p in self.paths})[path].append(seconds)

    def best(self, key) -> str | None:
        """The path now preferred for ``key`` (None before every path was tried enough)."""
        times = self._times.get(key)
        if not times or any(len(t) < self.trials for t in times.values()):
            return None
        return min(self.paths, key=lambda p: statistics.median(times[p]))
