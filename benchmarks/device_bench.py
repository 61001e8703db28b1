"""AlexBN forward at batch 1 and 64 and the explorer's heavy setting, on the chosen backend.

    python benchmarks/device_bench.py [--repeats 20] [--batches 1 64] [--json out.json]

Runs on whatever ``get_backend()`` picks (CuPy on a GPU, else NumPy; ``CONVLAB_BACKEND=numpy``
forces NumPy). On CuPy every timed region ends with a device synchronisation, so the figures
are the device's real time, not the launch time. Prints medians (and min) in ms:

- ``alexbn batch N``: one forward of N images (227 x 227), inference form, every layer kept;
- ``explorer heavy``: ``run_explorer`` at 512 x 512, kernel 15, stride 1, padding 10,
  256 filters, BN, ReLU, pool 2/1, returning the final maps to the host (what the window draws);
- ``explorer cancel``: how long a running heavy convolution takes to stop once ``should_stop``
  turns True (from the flag to ``ops.Cancelled``).

Targets from issue 13: AlexBN batch 1 <= 2 ms on a data-centre GPU, explorer heavy <= 50 ms.
Never part of the test suite; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def timed(fn, sync, repeats: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
        sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def cancel_latency(xp, sync, image, settings, repeats: int) -> list[float]:
    """Seconds from should_stop turning True (set by a timer thread) to ops.Cancelled."""
    from convlab.engine import ops
    from convlab.engine.explorer import prepare_input
    from convlab.engine.explorer.kernels import make_bank

    weights, _, _ = make_bank(settings.bank, settings.filters, 3, settings.kernel, seed=0)
    x, w = xp.asarray(prepare_input(image, False)), xp.asarray(weights)
    out = []
    for _ in range(repeats):
        flag, when = threading.Event(), []

        def stop_soon():
            time.sleep(0.05)
            when.append(time.perf_counter())
            flag.set()

        timer = threading.Thread(target=stop_soon)
        timer.start()
        try:
            ops.conv2d(x, w, stride=settings.stride, pad=settings.padding, should_stop=flag.is_set)
            sync()
        except ops.Cancelled:
            sync()
            out.append(time.perf_counter() - when[0])
        timer.join()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--json", help="also write the figures (ms) to this file")
    args = parser.parse_args(argv)
    import numpy as np

    from convlab.engine.backend import get_backend
    from convlab.engine.explorer import ExplorerSettings, run_explorer
    from convlab.engine.nets import build_network

    backend = get_backend()
    xp = backend.xp
    sync = (lambda: xp.cuda.Device().synchronize()) if backend.name == "cupy" else (lambda: None)
    print(f"device_bench: {backend.description}" + (f" ({backend.reason})" if backend.reason else ""))
    figures = {"backend": backend.description}
    net = build_network("alexbn", xp=xp)
    rng = np.random.default_rng(0)
    for n in args.batches:
        x = xp.asarray(rng.random((n, 3, 227, 227), dtype=np.float32))
        times = timed(lambda: net.forward(x), sync, args.repeats)
        figures[f"alexbn_batch{n}_ms"] = report(f"alexbn batch {n}", times, per=n)
    image = rng.random((512, 512, 3), dtype=np.float32)
    heavy = ExplorerSettings(kernel=15, stride=1, padding=10, filters=256, pool=2, pool_stride=1)
    times = timed(lambda: run_explorer(image, heavy, xp=xp, keep=("pool",)), sync,
                  max(3, args.repeats // 4), warmup=1)
    figures["explorer_heavy_ms"] = report("explorer heavy", times)
    figures["explorer_cancel_ms"] = report("explorer cancel", cancel_latency(xp, sync, image, heavy, 5))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=1)
    return 0


def report(label: str, times: list[float], per: int = 1) -> float | None:
    if not times:
        print(f"  {label:18} no measurement (the run finished before it could be stopped)")
        return None
    ms = statistics.median(times) * 1e3
    extra = f", {ms / per:.3f} ms per image" if per > 1 else ""
    print(f"  {label:18} {ms:9.2f} ms median of {len(times)} (min {min(times) * 1e3:.2f}){extra}")
    return ms


if __name__ == "__main__":
    sys.exit(main())
