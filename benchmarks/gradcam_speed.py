"""Grad-CAM against one forward pass: AlexBN at 227, batch 1, alternating in one process.

    python benchmarks/gradcam_speed.py [--rounds 15] [--threads 2] [--layer relu5]

Each round times one ``net.forward`` (what the Network pane runs) and one ``grad_cam`` (a
forward up to fc8 on a frozen view, then the backward from the class score down to the layer
only: fc8, fc7, fc6 and pool5's input gradients, no parameter gradient), in alternating order;
prints both medians, the median of the per-round ratios (goal: at most 2) and the backward's
share by layer. Also saliency (the backward all the way to the pixels) for comparison. Only
NumPy's threads are in this process. Speed is never asserted in a test.
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
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layer", default="relu5")
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    from convlab.engine import attribution as A
    from convlab.engine.attribution.core import target_seed, walk
    from convlab.engine.nets import build_network

    net = build_network("alexbn", seed=0)
    rng = np.random.default_rng(0)
    x = np.kron(rng.uniform(-0.5, 0.5, (1, 3, 8, 8)), np.ones((1, 1, 29, 29)))[:, :, :227, :227]
    x = np.ascontiguousarray(x, dtype=np.float32)
    cls = int(np.argmax(net.forward(x)["fc8"][0]))
    A.grad_cam(net, x, args.layer, cls)                                  # warm (Winograd weights)
    fwd, cam, sal, ratios = [], [], [], []
    for r in range(args.rounds):
        order = ("f", "c") if r % 2 == 0 else ("c", "f")
        times = {}
        for what in order:
            t0 = time.perf_counter()
            if what == "f":
                net.forward(x)
            else:
                A.grad_cam(net, x, args.layer, cls)
            times[what] = time.perf_counter() - t0
        fwd.append(times["f"])
        cam.append(times["c"])
        ratios.append(times["c"] / times["f"])
        if r < 3:
            t0 = time.perf_counter()
            A.saliency(net, x, ("fc8", cls))
            sal.append(time.perf_counter() - t0)
    grads = walk(net, x, lambda res: {"fc8": target_seed(res["fc8"].shape, ("fc8", cls, None,
                                                                            None))},
                 upto="fc8", wanted=(args.layer,), input_grad=False)
    med = statistics.median
    print(f"AlexBN at 227, batch 1, {args.threads} BLAS threads, {args.rounds} rounds "
          f"(layer {args.layer}, class {cls})")
    print(f"  one forward      {med(fwd) * 1e3:8.1f} ms (median)")
    print(f"  Grad-CAM         {med(cam) * 1e3:8.1f} ms (median)")
    print(f"  ratio            {med(ratios):8.2f} x one forward (median of per-round ratios; "
          f"goal <= 2)")
    print(f"  saliency         {med(sal) * 1e3:8.1f} ms (median of 3; backward to the pixels)")
    back = sorted(grads.seconds.items(), key=lambda kv: -kv[1])
    print("  Grad-CAM's backward by layer: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in back))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
