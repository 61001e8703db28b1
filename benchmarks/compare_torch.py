"""ConvLab's engine against PyTorch on batch-1 AlexBN, each in its own process, as a user runs them.

PyTorch is not a dependency: run this with a Python that has torch installed and can import
ConvLab's engine (NumPy only), e.g.::

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/torchvenv/bin/python benchmarks/compare_torch.py

``--convlab-python`` runs ConvLab's side under another interpreter (the project's own venv, with
the NumPy it really uses); ``--torch-python`` likewise for PyTorch's.

Why two processes, not one: in one process NumPy's OpenBLAS threads keep spinning for a while
after each GEMM, and PyTorch's OpenMP threads after each op; alternating the two in one process
makes each side's threads fight the other's spinning threads for the same cores. On a two-core
machine that slowed PyTorch from about 26 ms to 38-44 ms and made ConvLab look 0.7x PyTorch when
it was 1.1x. Here each library runs in its own warm worker process with the same thread count;
the parent alternates them (the first worker changes every round) and waits ``--gap`` seconds
between turns, so the idle side's spinning threads have gone to sleep before the other side runs.

Both load the same weights and input from one temporary ``.npz`` (random LeCun weights, random
BatchNorm statistics), and their fc8 outputs are compared. Reported: each side's median over
every timed forward, and the median of the per-round ratios (ConvLab / PyTorch, each round's
turn medians), which cancels slow drifts in machine load. Speed is never asserted in a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)  # the engine needs NumPy only: no install needed in the torch venv


# --------------------------------------------------------------------------- the workers
def _convlab_model(data: str, net_name: str):
    import numpy as np

    from convlab.engine.nets import build_network

    net = build_network(net_name, xp=np, init=False)
    net.load_npz(data)
    return lambda x: net.forward(x)["fc8"], np.load(data)["x"]


def _torch_model(data: str, net_name: str):
    """The same layers in ``torch.nn``, filled from the ``.npz`` (Chainer layout = PyTorch's)."""
    import numpy as np
    import torch
    from torch import nn

    from convlab.engine.nets import build_network

    arrays = np.load(data)
    t = lambda key: torch.from_numpy(arrays[key])  # noqa: E731
    mods = []
    for layer in build_network(net_name, xp=np, init=False).layers:   # shapes only, no memory
        if layer.kind == "conv":
            m = nn.Conv2d(layer.c_in, layer.c_out, layer.ksize, stride=layer.stride,
                          padding=layer.pad, dilation=layer.dilation, groups=layer.groups)
            m.weight.data, m.bias.data = t(f"{layer.name}/W"), t(f"{layer.name}/b")
        elif layer.kind == "bn":
            m = nn.BatchNorm2d(layer.size, eps=layer.eps)
            m.weight.data, m.bias.data = t(f"{layer.name}/gamma"), t(f"{layer.name}/beta")
            m.running_mean.copy_(t(f"{layer.name}/avg_mean"))
            m.running_var.copy_(t(f"{layer.name}/avg_var"))
        elif layer.kind == "relu":
            m = nn.ReLU()
        elif layer.kind == "lrn":  # Chainer's alpha is not divided by n; PyTorch's is
            m = nn.LocalResponseNorm(layer.n, alpha=layer.alpha * layer.n, beta=layer.beta, k=layer.k)
        elif layer.kind == "pool":
            m = nn.MaxPool2d(layer.ksize, stride=layer.stride, padding=layer.pad,
                             ceil_mode=layer.cover_all)
        elif layer.kind == "fc":
            lin = nn.Linear(layer.n_in, layer.n_out)
            lin.weight.data, lin.bias.data = t(f"{layer.name}/W"), t(f"{layer.name}/b")
            m = nn.Sequential(nn.Flatten(), lin)
        else:  # dropout: the identity at inference
            m = nn.Identity()
        mods.append(m)
    model = nn.Sequential(*mods).eval()
    torch.set_grad_enabled(False)
    x = torch.from_numpy(arrays["x"])
    return lambda v: model(v).numpy(), x


def worker(side: str, data: str, net_name: str, threads: int) -> int:
    """Answer each line ``run K`` on stdin with the K forward times (JSON) on stdout."""
    if side == "torch":
        import torch

        torch.set_num_threads(threads)
        forward, x = _torch_model(data, net_name)
    else:
        forward, x = _convlab_model(data, net_name)
    import numpy as np

    np.save(data.replace(".npz", f"-{side}.npy"), np.asarray(forward(x)))
    print("ready", flush=True)
    for line in sys.stdin:
        times = []
        for _ in range(int(line.split()[1])):
            t0 = time.perf_counter()
            forward(x)
            times.append(time.perf_counter() - t0)
        print(json.dumps(times), flush=True)
    return 0


# ---------------------------------------------------------------------------- the parent
def write_data(path: str, net_name: str, seed: int) -> None:
    """Random weights (LeCun, as ConvLab initialises), random BN statistics, one input image."""
    import numpy as np

    from convlab.engine.nets import build_network

    net = build_network(net_name, xp=np, seed=seed)
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if layer.kind == "bn":
            c = layer.size
            layer.params["gamma"][...] = rng.uniform(0.5, 1.5, c)
            layer.params["beta"][...] = rng.uniform(-0.2, 0.2, c)
            layer.params["avg_mean"][...] = rng.uniform(-0.2, 0.2, c)
            layer.params["avg_var"][...] = rng.uniform(0.5, 2.0, c)
    arrays = {f"{layer.name}/{k}": v for layer in net.layers for k, v in layer.params.items()}
    arrays["x"] = rng.random((1, 3, net.insize, net.insize), dtype=np.float32)
    np.savez(path, **arrays)


def start(python: str, side: str, data: str, args) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    proc = subprocess.Popen([python, os.path.abspath(__file__), "--worker", side, "--data", data,
                             "--net", args.net, "--threads", str(args.threads)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit(f"the {side} worker ({python}) failed to start")
    return proc


def turn(proc: subprocess.Popen, k: int) -> list[float]:
    proc.stdin.write(f"run {k}\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def compare(args) -> int:
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "alexbn.npz")
        write_data(data, args.net, args.seed)
        procs = {"convlab": start(args.convlab_python, "convlab", data, args),
                 "torch": start(args.torch_python, "torch", data, args)}
        ours, theirs = np.load(data.replace(".npz", "-convlab.npy")), np.load(data.replace(".npz", "-torch.npy"))
        times = {"convlab": [], "torch": []}
        ratios = []
        try:
            for side in procs:                                         # warm both
                turn(procs[side], args.per_turn)
            for r in range(args.rounds):
                order = ("convlab", "torch") if r % 2 == 0 else ("torch", "convlab")
                medians = {}
                for side in order:
                    time.sleep(args.gap)                               # let the other's threads sleep
                    got = turn(procs[side], args.per_turn)
                    times[side] += got
                    medians[side] = statistics.median(got)
                ratios.append(medians["convlab"] / medians["torch"])
        finally:
            for proc in procs.values():
                proc.stdin.close()
                proc.wait(timeout=30)
    report(args, times, ratios, ours, theirs)
    return 0


def report(args, times, ratios, ours, theirs) -> None:
    import numpy as np

    err = float(np.abs(ours - theirs).max() / (np.abs(theirs).max() + 1e-12))
    c, t = (statistics.median(times[s]) * 1e3 for s in ("convlab", "torch"))
    n = args.rounds * args.per_turn
    print(f"{args.net} batch 1, float32, {args.threads} threads, separate processes, "
          f"{args.rounds} alternating rounds of {args.per_turn} forwards each ({args.gap} s gaps)")
    print(f"  ConvLab  median of {n}: {c:7.2f} ms  (min {min(times['convlab']) * 1e3:.2f})")
    print(f"  PyTorch  median of {n}: {t:7.2f} ms  (min {min(times['torch']) * 1e3:.2f})")
    print(f"  ratio ConvLab / PyTorch: median of per-round ratios {statistics.median(ratios):.3f} "
          f"(quartiles {np.percentile(ratios, 25):.3f}-{np.percentile(ratios, 75):.3f}); "
          f"ratio of medians {c / t:.3f}")
    print(f"  fc8 max |ConvLab - PyTorch| / max |PyTorch|: {err:.1e}")
    print(f"  load: {os.getloadavg()[0]:.2f} (1-minute average at the end)")
    if err > 1e-4:
        print("  WARNING: the outputs disagree beyond 1e-4", file=sys.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="alexbn", choices=("alexbn", "alex"))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-turn", type=int, default=3, help="forwards per turn (default 3)")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds idle before each turn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--convlab-python", default=sys.executable)
    parser.add_argument("--torch-python", default=sys.executable)
    parser.add_argument("--worker", choices=("convlab", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.data, args.net, args.threads)
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
