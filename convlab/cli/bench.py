"""``convlab bench``: batch-1 AlexBN forward, per layer, against this machine's own ceilings.

Everything is measured in the same run: the float32 GEMM rate (a 2048^3 matmul), the rate at
which the fully connected weights can be read (one GEMV over each fc weight, the best of
several), and the network itself. The roofline floor is conv FLOPs at the GEMM rate plus the
fc weights at the read rate; the total is reported as a fraction of that floor.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time


def _set_threads(threads: int) -> str:
    """Ask the BLAS for ``threads`` threads; must run before NumPy is first imported to be sure."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    if "numpy" in sys.modules:
        return "NumPy was already imported; the BLAS thread count may differ from --threads."
    return ""


def _median_seconds(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_ceilings(xp, fc_weights, sync) -> tuple[float, float]:
    """(GEMM FLOP/s on a 2048^3 float32 matmul, fc-weight read rate in bytes/s via GEMV)."""
    import numpy as np

    n = 2048
    # random data: a constant matrix flips fewer bits and runs measurably faster on some CPUs
    a = xp.asarray(np.random.default_rng(1).standard_normal((n, n), dtype=np.float32))

    def gemm():
        a @ a
        sync()

    gemm_rate = 2 * n**3 / _median_seconds(gemm, 7)
    total_bytes = sum(w.nbytes for w in fc_weights)
    vecs = [xp.asarray(np.random.default_rng(2).standard_normal(w.shape[1], dtype=np.float32))
            for w in fc_weights]

    def gemv():
        for w, v in zip(fc_weights, vecs):
            w @ v
        sync()

    read_rate = total_bytes / _median_seconds(gemv, 15)
    return gemm_rate, read_rate


def run_bench(net_name: str = "alexbn", *, repeats: int = 30, threads: int = 2) -> int:
    for flag, value, (low, high) in (("repeats", repeats, REPEATS), ("threads", threads, THREADS)):
        if not low <= value <= high:
            raise ValueError(f"{flag} must be from {low:,} to {high:,}, got {value}")
    warning = _set_threads(threads)
    import numpy as np

    from convlab.engine.backend import get_backend
    from convlab.engine.nets import build_network

    backend = get_backend()
    xp = backend.xp
    sync = (lambda: xp.cuda.Device().synchronize()) if backend.name == "cupy" else (lambda: None)
    print(f"convlab bench: {net_name}, batch 1, float32, {backend.description}, {threads} threads")
    if backend.reason:
        print(f"  ({backend.reason})")
    if warning:
        print(f"  warning: {warning}")
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    if coretype and backend.name == "numpy":
        print(f"  note: OPENBLAS_CORETYPE={coretype} forces OpenBLAS's {coretype} kernels; on newer "
              "CPUs that can halve the GEMM rate. Compare with: env -u OPENBLAS_CORETYPE "
              "-u OPENBLAS_L2_SIZE convlab bench")
    net = build_network(net_name)
    rows = {r.name: r for r in net.summary()}
    x = xp.asarray(np.random.default_rng(0).random((1, 3, net.insize, net.insize), dtype=np.float32))
    per_layer = {name: [] for name in rows}
    totals = []
    for i in range(repeats + 3):
        t0 = time.perf_counter()
        result = net.forward(x, use_batch_stats=True)
        sync()
        if i >= 3:  # warm-up runs fill caches and the allocator
            totals.append(time.perf_counter() - t0)
            for name, sec in result.seconds.items():
                per_layer[name].append(sec)
    fc = [layer.params["W"] for layer in net.layers if layer.kind == "fc"]
    gemm_rate, read_rate = measure_ceilings(xp, fc, sync)
    print(f"\n{'layer':8}{'ms':>8}{'GFLOP/s':>10}")
    for name, times in per_layer.items():
        ms = statistics.median(times) * 1e3
        flops = 2 * rows[name].macs
        rate = f"{flops / (ms / 1e3) / 1e9:10.1f}" if flops else f"{'':10}"
        print(f"{name:8}{ms:8.2f}{rate}")
    total = statistics.median(totals)
    conv_flops = 2 * sum(r.macs for r in rows.values() if r.kind == "conv")
    fc_bytes = sum(w.nbytes for w in fc)
    floor = conv_flops / gemm_rate + fc_bytes / read_rate
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\ntotal (median of {repeats}): {total * 1e3:.2f} ms  "
          f"(min {min(totals) * 1e3:.2f}, max {max(totals) * 1e3:.2f})")
    print(f"ceilings measured now: GEMM {gemm_rate / 1e9:.0f} GFLOP/s (2048^3 float32); "
          f"fc weights read at {read_rate / 1e9:.1f} GB/s (GEMV over {fc_bytes / 1e6:.0f} MB)")
    print(f"roofline floor: {conv_flops / 1e9:.2f} GFLOP of direct-method conv at the GEMM rate + "
          f"fc weights at the read rate = {floor * 1e3:.2f} ms; this run is {floor / total:.0%} of "
          f"the roofline ({total / floor:.2f}x the floor). Winograd layers (conv2-conv5) do fewer "
          f"multiplications, so above 100% is possible.")
    print("against PyTorch: run benchmarks/compare_torch.py (each library in its own process; "
          "in one process their idle threads take each other's cores)")
    print(f"peak resident memory: {peak_mb:.0f} MB")
    return 0


REPEATS = (1, 10_000)   # timed forwards: at least one for a median; 10,000 is hours already
THREADS = (1, 1024)     # BLAS threads: more than any machine ConvLab runs on


def bounded_int(flag: str, low: int, high: int):
    """An argparse ``type`` accepting the integers ``low..high``; anything else is one sentence
    naming the flag and its range (argparse then exits 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{flag} takes a whole number from {low:,} to {high:,}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{flag} must be from {low:,} to {high:,}, got {text}")
        return value
    parse.__name__ = "integer"  # argparse names the type in its own errors
    return parse


def add_arguments(p):
    """Give ``p`` (an argparse parser) the bench command's arguments; NumPy is not imported here."""
    p.description = "Benchmark the engine: batch-1 forward per layer, against measured ceilings."
    p.add_argument("--net", choices=("alexbn", "alex"), default="alexbn")
    p.add_argument("--repeats", type=bounded_int("--repeats", *REPEATS), default=30, metavar="N",
                   help=f"timed forwards, {REPEATS[0]} to {REPEATS[1]:,} (default 30)")
    p.add_argument("--threads", type=bounded_int("--threads", *THREADS), default=2, metavar="N",
                   help=f"BLAS threads, {THREADS[0]} to {THREADS[1]:,} (default 2)")
    p.set_defaults(run=lambda args: run_bench(args.net, repeats=args.repeats, threads=args.threads))
    return p
