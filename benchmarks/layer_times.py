"""AlexBN batch 1 per layer, direct im2col path against the fast paths, alternating in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/layer_times.py [--threads 1]

Each round runs one forward with ``ops.CONV_PATH = "direct"`` (every convolution through im2col
and one GEMM) and one with ``--fast`` (default ``"winograd"``: Winograd for conv2-conv5;
``"auto"``: whichever the tuner finds faster now), in alternating order; prints per layer the
two medians and the median of the per-round ratios (direct / fast), and the fc8 difference. Only NumPy's threads are in this process, so one process is fine
here (unlike a comparison with PyTorch: see compare_torch.py). Speed is never asserted in a test.

``--baseline 3:2,5:3`` puts Winograd with those tile sizes (here the earlier F(2x2, 3x3) and
F(3x3, 5x5)) in the place of the direct path, to weigh tile sizes on a given machine.
``--baseline path/to/winograd.py`` puts another version of the module there, to weigh a change
to it (``git show main:convlab/engine/ops/winograd.py > /tmp/winograd_main.py``).

``--clock cpu`` (with ``--threads 1``) times each layer by this thread's CPU time instead of the
wall clock: on a machine shared with other work the wall clock mostly measures the others, while
one BLAS thread's CPU time stays within a few per cent (figures are then per core, not per forward).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fast", default="winograd", choices=("winograd", "auto"))
    parser.add_argument("--clock", default="wall", choices=("wall", "cpu"))
    parser.add_argument("--baseline", default="direct",
                        help='"direct" (im2col), Winograd tile sizes by kernel size such as '
                             '"3:2,5:3" (F(2x2, 3x3), F(3x3, 5x5)) to weigh tile choices, or '
                             'the path of another winograd.py to weigh a change to it')
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu needs --threads 1 (other BLAS threads' time would be left out)")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    from convlab.engine.nets import network as nets
    from convlab.engine.ops import conv as ops
    from convlab.engine.ops import winograd
    from convlab.engine.nets import build_network

    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    nets.time = _Clock(clock)                                 # the layer times forward() records
    sides = {"fast": (args.fast, winograd)}
    if args.baseline == "direct":
        sides["base"] = ("direct", winograd)
    else:
        sides["base"] = ("winograd", _winograd_with_tiles(args.baseline))
    net = build_network("alexbn", xp=np)
    x = np.random.default_rng(0).random((1, 3, 227, 227), dtype=np.float32)
    runs, outs = _alternate(net, x, sides, args.rounds, clock, ops)
    err = float(np.abs(outs["fast"] - outs["base"]).max() / np.abs(outs["base"]).max())
    print(f"alexbn batch 1, {args.threads} threads, {args.baseline} against {args.fast} "
          f"(tiles {winograd.TILE}), {args.rounds} alternating rounds, {args.clock} clock; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'layer':8}{'base ms':>11}{'fast ms':>10}{'ratio':>8}")
    for name in list(runs["base"][0]):
        slow = [run[name] for run in runs["base"]]
        fast = [run[name] for run in runs["fast"]]
        ratio = statistics.median(a / b for a, b in zip(slow, fast) if b > 0)
        print(f"{name:8}{statistics.median(slow) * 1e3:11.2f}{statistics.median(fast) * 1e3:10.2f}"
              f"{ratio:8.2f}")
    print(f"fc8 max |fast - base| / max |base| = {err:.1e}")
    return 0


def _alternate(net, x, sides, rounds, clock, ops):
    """Forwards alternating between the sides (CONV_PATH, winograd module); two warm-up rounds."""
    runs, outs = {name: [] for name in sides}, {}
    real = ops.winograd
    try:
        for r in range(rounds + 2):
            for name in (("base", "fast") if r % 2 == 0 else ("fast", "base")):
                ops.CONV_PATH, ops.winograd = sides[name]
                t0 = clock()
                result = net.forward(x)
                total = clock() - t0
                outs[name] = result["fc8"]
                if r >= 2:
                    runs[name].append(dict(result.seconds, total=total))
    finally:
        ops.CONV_PATH, ops.winograd = "winograd", real
    return runs, outs


def _winograd_with_tiles(spec: str):
    """A second copy of ``convlab.engine.ops.winograd`` (its own caches): the file ``spec`` when it
    ends in ``.py``, else this one with tile sizes ``spec`` (``"r:m,..."``), its points the
    first ``m + r - 2`` of 0, 1, -1, 2, -2, 1/2, -1/2, 3, -3."""
    import importlib.util

    from convlab.engine.ops import winograd

    path = spec if spec.endswith(".py") else winograd.__file__
    module_spec = importlib.util.spec_from_file_location("winograd_baseline", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if spec.endswith(".py"):
        return module
    points = (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0)
    for item in spec.split(","):
        r, m = (int(v) for v in item.split(":"))
        module.TILE[r], module.POINTS[r] = m, points[:m + r - 2]
    return module


class _Clock:
    """Stands in for the ``time`` module inside ``convlab.engine.nets``: ``perf_counter`` = ``clock``."""

    def __init__(self, clock):
        self.perf_counter = clock


if __name__ == "__main__":
    sys.exit(main())
