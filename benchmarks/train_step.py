"""One training step (forward, backward, update), ConvLab against PyTorch, each in its own process.

Cases: the LeNet preset at batch 64 (1 x 28 x 28, 10 classes) and AlexBN at batch 8 (3 x 227 x
227, 1000 classes). A step is, on both sides: the forward in training mode (BN on the batch's
statistics and its running averages updated, dropout on), mean softmax cross entropy, the
backward (no gradient for the input: nothing reads it), and a MomentumSGD update (lr 0.01,
momentum 0.9, as Chainer's ``train_imagenet.py``; PyTorch's ``SGD(momentum=0.9)``). Both sides
start from the same weights, batch and labels (one temporary ``.npz``). ConvLab's worker sets
glibc's heap as ``convlab train`` does (``pipelines/heap.reuse_freed_blocks``: freed blocks reused
by the next step instead of unmapped and faulted in again); ``--default-heap`` leaves glibc's
defaults, to see what that is worth.

As in ``compare_torch.py`` (read its docstring for why): each library runs in its own warm
worker process with the same thread count (``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` and
``torch.set_num_threads``); the parent alternates them, waiting ``--gap`` seconds before each
turn. Printed per case: each side's median step (ms), the median of the per-round ratios
(ConvLab / PyTorch), each side's float32 GEMM rate measured in its own process (2048^3), its
resident memory before the first step and its peak (VmHWM) after the last, and where ConvLab's
step goes per layer (forward and backward, median ms). Speed is never asserted in a test.

    /work/venv-torch/bin/python benchmarks/train_step.py [--rounds 6] [--threads 2]
    (``--convlab-python`` / ``--torch-python`` pick other interpreters for each side)
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

CASES = {"lenet": (64, 10), "alexbn": (8, 1000)}   # net: (batch, classes)


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def gemm_rate(matmul, make) -> float:
    """GFLOP/s of a 2048^3 float32 matmul, median of 5 after one warm-up."""
    a = make()
    times = []
    for i in range(6):
        t0 = time.perf_counter()
        matmul(a)
        if i:
            times.append(time.perf_counter() - t0)
    return 2 * 2048**3 / statistics.median(times) / 1e9


# --------------------------------------------------------------------------- the workers
def _convlab_step(data: str, net_name: str):
    import numpy as np

    from convlab.engine.grad import loss_and_grads
    from convlab.engine.nets import Network
    from convlab.engine.optim import MomentumSGD
    from convlab.pipelines import heap

    if not os.environ.get("TRAIN_STEP_DEFAULT_HEAP"):
        heap.reuse_freed_blocks()   # as `convlab train` and the Train pane run (pipelines/heap.py)

    arrays = np.load(data)
    net = Network.from_spec(json.loads(bytes(arrays["spec"]).decode()), init=False)
    net.load_npz(data)
    opt = MomentumSGD(lr=0.01, momentum=0.9).setup(net)
    x, labels = arrays["x"], arrays["labels"]
    rng = np.random.default_rng(0)
    layers: dict[str, list] = {}

    def step():
        loss, grads = loss_and_grads(net, x, labels, mode="train", rng=rng, input_grad=False)
        opt.update(grads)
        for name, sec in grads.forward.seconds.items():
            layers.setdefault(name, [[], []])[0].append(sec)
        for name, sec in grads.seconds.items():
            layers.setdefault(name, [[], []])[1].append(sec)
        return loss

    rate = gemm_rate(lambda a: a @ a,
                     lambda: np.random.default_rng(1).standard_normal((2048, 2048), np.float32))
    return step, rate, layers


def _torch_model(spec: dict, arrays):
    import torch
    from torch import nn

    t = lambda key: torch.from_numpy(arrays[key].copy())  # noqa: E731
    mods = []
    for layer in spec["layers"]:
        kind, name = layer["kind"], layer["name"]
        if kind == "conv":
            w = t(f"{name}/W")
            m = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), stride=layer.get("stride", 1),
                          padding=layer.get("pad", 0))
            m.weight.data, m.bias.data = w, t(f"{name}/b")
        elif kind == "bn":
            m = nn.BatchNorm2d(layer["size"], eps=2e-5, momentum=0.1)
            m.weight.data, m.bias.data = t(f"{name}/gamma"), t(f"{name}/beta")
        elif kind == "relu":
            m = nn.ReLU()
        elif kind == "pool":   # Chainer's cover_all is ceil_mode
            m = nn.MaxPool2d(layer["ksize"], stride=layer.get("stride"), ceil_mode=True)
        elif kind == "fc":
            w = t(f"{name}/W")
            lin = nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data, lin.bias.data = w, t(f"{name}/b")
            m = nn.Sequential(nn.Flatten(), lin)
        elif kind == "dropout":
            m = nn.Dropout(layer.get("ratio", 0.5))
        else:
            raise SystemExit(f"train_step.py has no PyTorch twin for kind {kind!r}")
        mods.append(m)
    return nn.Sequential(*mods).train()


def _torch_step(data: str, net_name: str):
    import numpy as np
    import torch

    arrays = np.load(data)
    model = _torch_model(json.loads(bytes(arrays["spec"]).decode()), arrays)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, labels = torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["labels"])
    x.requires_grad_(False)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        return float(loss.detach())

    rate = gemm_rate(lambda a: torch.mm(a, a), lambda: torch.randn(2048, 2048))
    return step, rate, {}


def worker(side: str, data: str, net_name: str, threads: int) -> int:
    """Answer each line ``run K`` with the K step times (JSON); ``end`` with the summary."""
    if side == "torch":
        import torch

        torch.set_num_threads(threads)
    step, rate, layers = (_torch_step if side == "torch" else _convlab_step)(data, net_name)
    before = rss_mb()
    first_loss = step()
    print(json.dumps({"ready": True, "loss": first_loss}), flush=True)
    for line in sys.stdin:
        if line.startswith("end"):
            per_layer = {n: [statistics.median(f) * 1e3 if f else 0.0,
                             statistics.median(b) * 1e3 if b else 0.0]
                         for n, (f, b) in layers.items()}
            print(json.dumps({"gemm": rate, "rss_before": before, "peak": rss_mb("VmHWM"),
                              "layers": per_layer}), flush=True)
            break
        times = []
        for _ in range(int(line.split()[1])):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        print(json.dumps(times), flush=True)
    return 0


# ---------------------------------------------------------------------------- the parent
def write_data(path: str, net_name: str, seed: int) -> None:
    """LeCun weights (ConvLab's initialisation), one batch of random images and labels."""
    import numpy as np

    from convlab.engine.nets import build_network

    batch, classes = CASES[net_name]
    net = build_network(net_name, seed=seed)
    rng = np.random.default_rng(seed)
    arrays = {f"{layer.name}/{k}": np.asarray(v) for layer in net.layers
              for k, v in layer.params.items()}
    arrays["x"] = rng.random((batch, *net.input_shape), dtype=np.float32) - 0.5
    arrays["labels"] = rng.integers(0, classes, batch).astype(np.int64)
    arrays["spec"] = np.frombuffer(json.dumps(net.to_spec()).encode(), np.uint8)
    np.savez(path, **arrays)


def start(python: str, side: str, data: str, net_name: str, threads: int,
          default_heap: bool = False) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if default_heap:
        env["TRAIN_STEP_DEFAULT_HEAP"] = "1"
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    proc = subprocess.Popen([python, os.path.abspath(__file__), "--worker", side, "--data", data,
                             "--net", net_name, "--threads", str(threads)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    line = proc.stdout.readline()
    if not line.startswith("{"):
        raise SystemExit(f"the {side} worker ({python}) failed to start")
    return proc


def ask(proc: subprocess.Popen, line: str):
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def compare(net_name: str, args) -> None:
    times, ratios, ends = {"convlab": [], "torch": []}, [], {}
    k = args.per_turn or (5 if net_name == "lenet" else 2)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, f"{net_name}.npz")
        write_data(data, net_name, args.seed)
        pythons = {"convlab": args.convlab_python, "torch": args.torch_python}
        procs = {}
        try:
            for side in pythons:   # one at a time: each side's start-up alone on the cores
                procs[side] = start(pythons[side], side, data, net_name, args.threads,
                                    args.default_heap)
            for r in range(args.rounds):
                order = ("convlab", "torch") if r % 2 == 0 else ("torch", "convlab")
                medians = {}
                for side in order:
                    time.sleep(args.gap)
                    got = ask(procs[side], f"run {k}")
                    times[side] += got
                    medians[side] = statistics.median(got)
                ratios.append(medians["convlab"] / medians["torch"])
            for side, proc in procs.items():
                ends[side] = ask(proc, "end")
        finally:
            for proc in procs.values():
                proc.stdin.close()
                proc.wait(timeout=60)
    report(net_name, args, k, times, ratios, ends)


def report(net_name, args, k, times, ratios, ends) -> None:
    batch, _ = CASES[net_name]
    c, t = (statistics.median(times[s]) * 1e3 for s in ("convlab", "torch"))
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    print(f"\n{net_name} batch {batch}: one step (forward, backward, MomentumSGD update), float32, "
          f"{args.threads} thread{'s' if args.threads != 1 else ''}, {args.rounds} alternating rounds "
          f"of {k} steps; ConvLab's heap: "
          f"{'glibc defaults' if args.default_heap else 'as convlab train sets it'}")
    for side, label, ms in (("convlab", "ConvLab", c), ("torch", "PyTorch", t)):
        e = ends[side]
        print(f"  {label:8} median {ms:8.1f} ms (min {min(times[side]) * 1e3:.1f})   "
              f"GEMM {e['gemm']:5.0f} GFLOP/s   RSS before {e['rss_before']:6.0f} MB, "
              f"peak {e['peak']:6.0f} MB")
    print(f"  ratio ConvLab / PyTorch: median of per-round ratios {statistics.median(ratios):.2f} "
          f"(quartiles {q[0]:.2f}-{q[2]:.2f}); ratio of medians {c / t:.2f}")
    layers = ends["convlab"]["layers"]
    top = sorted(layers.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))
    total = sum(f + b for f, b in layers.values())
    print("  ConvLab per layer, median ms (forward + backward; the update and the loss are the rest):")
    print("    " + ", ".join(f"{n} {f:.1f}+{b:.1f}" for n, (f, b) in top if f + b >= 0.02 * total))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=tuple(CASES) + ("both",), default="both")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-turn", type=int, default=None,
                        help="steps per turn (default 5 for lenet, 2 for alexbn)")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds idle before each turn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--default-heap", action="store_true",
                        help="leave glibc's heap settings as they are in ConvLab's worker")
    parser.add_argument("--convlab-python", default=sys.executable)
    parser.add_argument("--torch-python", default=sys.executable)
    parser.add_argument("--worker", choices=("convlab", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.data, args.net, args.threads)
    print(f"load before: {os.getloadavg()[0]:.2f} (1-minute average; {os.cpu_count()} CPUs)")
    for net_name in (CASES if args.net == "both" else (args.net,)):
        compare(net_name, args)
    print(f"\nload after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
