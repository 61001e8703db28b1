"""Learn AlexNet-sized conv1 kernels (96 of 11 x 11 x 3) from the bundled photos; print the seconds.

    python benchmarks/learn_kernels.py [--repeats 5] [--k 11] [--n 96] [--channels 3]

Target: a median of at most 5 s on a 2-core machine (FastICA on 20,000 patches; the cache is
cleared before every run, so each run computes from scratch). Also printed: the FastICA
iteration count and the median orientation selectivity of the learned kernels beside that of
LeCun-normal random kernels of the same shape (share of the spectral energy within +-22.5
degrees of the dominant orientation; an isotropic kernel gives about 0.25).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from convlab.pipelines import images as imaging
from convlab.engine.explorer import ica
from convlab.pipelines.samples import list_samples


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--k", type=int, default=11)
    p.add_argument("--n", type=int, default=96)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--patches", type=int, default=20000)
    args = p.parse_args()
    photos = [imaging.load_image(item) for item in list_samples()]
    sizes = ", ".join(f"{img.shape[1]}x{img.shape[0]}" for img in photos)
    print(f"{len(photos)} photos ({sizes}); {args.n} kernels of {args.k}x{args.k}x{args.channels} "
          f"from {args.patches:,} patches")
    wall, cpu = [], []
    for _ in range(args.repeats):
        ica._CACHE.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        learned = ica.learn_kernels(photos, k=args.k, n=args.n, channels=args.channels,
                                    patches=args.patches)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    t0 = time.perf_counter()
    ica.learn_kernels(photos, k=args.k, n=args.n, channels=args.channels, patches=args.patches)
    cached = time.perf_counter() - t0
    print(f"median {statistics.median(wall):.2f} s wall (min {min(wall):.2f}, "
          f"max {max(wall):.2f}), median {statistics.median(cpu):.2f} s CPU; "
          f"from the cache {cached * 1e3:.1f} ms")
    random = np.random.default_rng(0).standard_normal(learned.shape)
    print(f"median orientation selectivity: learned "
          f"{np.median(ica.orientation_selectivity(learned)):.3f}, random "
          f"{np.median(ica.orientation_selectivity(random)):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
