"""Where AlexBN's Winograd convolutions spend their time: per phase, conv2-conv5, batch 1.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/winograd_phases.py [--threads 1]

Runs the steps of ``winograd.conv`` one by one on each layer's shapes (random input, frozen
LeCun weights) and prints the median milliseconds of each: ``pad`` (channels-last padded input),
``gather`` (the tile copy), ``in`` (input transform), ``gemm`` (the ``a*a`` point GEMMs),
``out`` (inverse transform), ``scatter`` (tiles into the NCHW output). With ``--threads 1`` the
clock is this thread's CPU time (steady on a shared machine), else the wall clock. Isolated
layers start with colder caches than inside a forward, so ``pad`` reads high here.

Before timing, one large GEMM runs: in a fresh process OpenBLAS ran the small-N point GEMMs
with a leading dimension of 256 (conv3) 2x slower until a large GEMM had run (in a forward,
conv1 is that GEMM). Speed is never asserted in a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

LAYERS = {"conv2": ((1, 96, 27, 27), (256, 96, 5, 5), 2),     # x shape, W shape, pad
          "conv3": ((1, 256, 13, 13), (384, 256, 3, 3), 1),
          "conv4": ((1, 384, 13, 13), (384, 384, 3, 3), 1),
          "conv5": ((1, 384, 13, 13), (256, 384, 3, 3), 1)}
PHASES = ("pad", "gather", "in", "gemm", "out", "scatter")


def phases(x, W, pads, out, clock, np, wg):
    """One ``winograd.conv`` (a single band) with a clock reading after each phase."""
    r = W.shape[2]
    at, _, bt = wg.transforms(r)
    kron_at, kron_bt = wg.kron_transforms(r)
    a, k = at.shape[1], W.shape[0]
    marks = [clock()]
    xpad = wg.padded_input(x, pads, r, out.shape[2:])                   # (N, Hp, Wp, C)
    u = wg.weights(W)                                                   # (a*a, K, C), cached
    marks.append(clock())
    tiles = wg.gather_tiles(xpad, r)                                    # (a, a, N, th, tw, C)
    _, _, n, th, tw, c = tiles.shape
    marks.append(clock())
    v = wg._both_sides(bt, kron_bt, tiles)                              # (a, a, N, th, tw, C)
    marks.append(clock())
    prod = np.matmul(u, v.reshape(a * a, -1, c).transpose(0, 2, 1))    # (a*a, K, N*th*tw)
    marks.append(clock())
    y = wg._both_sides(at, kron_at, prod.reshape(a, a, k, n, th, tw))   # (m, m, K, N, th, tw)
    marks.append(clock())
    wg.scatter_tiles(y, out, 0)
    marks.append(clock())
    return [later - earlier for earlier, later in zip(marks, marks[1:])]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    from convlab.engine.ops import winograd as wg
    from convlab.engine.backend import freeze

    clock = time.thread_time if args.threads == 1 else time.perf_counter
    big = np.ones((1000, 1000), np.float32)
    big @ big                                                           # see the docstring
    rng = np.random.default_rng(0)
    print(f"AlexBN Winograd layers, batch 1, {args.threads} threads, median ms of {args.rounds} "
          f"({'CPU' if args.threads == 1 else 'wall'} clock); load {os.getloadavg()[0]:.1f}")
    print(f"{'layer':8}" + "".join(f"{name:>9}" for name in PHASES) + f"{'sum':>9}")
    for name, (x_shape, w_shape, pad) in LAYERS.items():
        x = rng.random(x_shape, dtype=np.float32)
        fan_in = w_shape[1] * w_shape[2] * w_shape[3]
        W = freeze((rng.standard_normal(w_shape) * fan_in ** -0.5).astype(np.float32))
        side = x_shape[2] + 2 * pad - w_shape[2] + 1
        out = np.empty((1, w_shape[0], side, side), np.float32)
        pads = ((pad, pad), (pad, pad))
        runs = [phases(x, W, pads, out, clock, np, wg) for _ in range(args.rounds + 3)][3:]
        medians = [statistics.median(run[i] for run in runs) * 1e3 for i in range(len(PHASES))]
        check = np.empty_like(out)
        wg.conv(x, W, pads, check)
        assert np.array_equal(check, out), "the phases differ from winograd.conv"
        print(f"{name:8}" + "".join(f"{t:9.2f}" for t in medians) + f"{sum(medians):9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
