"""AlexBN batch 1 per layer, direct im2col path against the fast paths, alternating in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/layer_times.py [--threads 1]

Each round runs one forward with ``ops.CONV_PATH = "direct"`` (every convolution through im2col
and one GEMM) and one with ``--fast`` (default ``"winograd"``: Winograd for conv2-conv5;
``"auto"``: whichever the tuner finds faster now), in alternating order; prints per layer the
two medians and the median of the per-round ratios (direct / fast), and the fc8 difference. Only NumPy's threads are in this process, so one process is fine
here (unlike a comparison with PyTorch: see compare_torch.py). Speed is never asserted in a test.

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
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu needs --threads 1 (other BLAS threads' time would be left out)")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    from convlab.engine import nets, ops
    from convlab.engine.nets import build_network

    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    nets.time = _Clock(clock)                                 # the layer times forward() records

    net = build_network("alexbn", xp=np)
    x = np.random.default_rng(0).random((1, 3, 227, 227), dtype=np.float32)
    runs = {False: [], True: []}
    outs = {}
    for r in range(args.rounds + 2):
        for fast in ((False, True) if r % 2 == 0 else (True, False)):
            ops.CONV_PATH = args.fast if fast else "direct"
            t0 = clock()
            result = net.forward(x)
            total = clock() - t0
            outs[fast] = result["fc8"]
            if r >= 2:                                        # two warm-up rounds
                runs[fast].append(dict(result.seconds, total=total))
    ops.CONV_PATH = "winograd"
    err = float(np.abs(outs[True] - outs[False]).max() / np.abs(outs[False]).max())
    print(f"alexbn batch 1, {args.threads} threads, direct against {args.fast}, "
          f"{args.rounds} alternating rounds, {args.clock} clock; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'layer':8}{'direct ms':>11}{'fast ms':>10}{'ratio':>8}")
    for name in list(runs[False][0]):
        slow = [run[name] for run in runs[False]]
        fast = [run[name] for run in runs[True]]
        ratio = statistics.median(a / b for a, b in zip(slow, fast) if b > 0)
        print(f"{name:8}{statistics.median(slow) * 1e3:11.2f}{statistics.median(fast) * 1e3:10.2f}"
              f"{ratio:8.2f}")
    print(f"fc8 max |fast - direct| / max |direct| = {err:.1e}")
    return 0


class _Clock:
    """Stands in for the ``time`` module inside ``convlab.engine.nets``: ``perf_counter`` = ``clock``."""

    def __init__(self, clock):
        self.perf_counter = clock


if __name__ == "__main__":
    sys.exit(main())
