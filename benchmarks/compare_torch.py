"""ConvLab's engine against PyTorch on batch-1 AlexBN, side by side in one run.

PyTorch is not a dependency: run this with a Python that has torch installed and can import
ConvLab's engine (NumPy only), e.g.::

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/torchvenv/bin/python benchmarks/compare_torch.py

Both run on the same weights (copied from ConvLab's network into torch) with the same thread
count; the runs alternate, so machine noise hits both alike. The outputs are compared too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def torch_alexbn(net):
    import torch
    from torch import nn

    layers = []
    for layer in net.layers:
        if layer.kind == "conv":
            m = nn.Conv2d(layer.c_in, layer.c_out, layer.ksize, stride=layer.stride, padding=layer.pad)
        elif layer.kind == "bn":
            m = nn.BatchNorm2d(layer.size, eps=layer.eps)
            m.running_mean.copy_(torch.from_numpy(layer.params["avg_mean"]))
            m.running_var.copy_(torch.from_numpy(layer.params["avg_var"]))
        elif layer.kind == "relu":
            m = nn.ReLU()
        elif layer.kind == "lrn":  # Chainer's alpha is not divided by n; PyTorch's is
            m = nn.LocalResponseNorm(layer.n, alpha=layer.alpha * layer.n, beta=layer.beta, k=layer.k)
        elif layer.kind == "pool":
            m = nn.MaxPool2d(layer.ksize, stride=layer.stride, ceil_mode=layer.cover_all)
        elif layer.kind == "fc":
            m = nn.Sequential(nn.Flatten(), nn.Linear(layer.n_in, layer.n_out))
            lin = m[1]
        elif layer.kind == "dropout":
            m = nn.Dropout(layer.ratio)
        with torch.no_grad():
            if layer.kind == "conv":
                m.weight.copy_(torch.from_numpy(layer.params["W"]))
                m.bias.copy_(torch.from_numpy(layer.params["b"]))
            elif layer.kind == "fc":
                lin.weight.copy_(torch.from_numpy(layer.params["W"]))
                lin.bias.copy_(torch.from_numpy(layer.params["b"]))
        layers.append(m)
    return nn.Sequential(*layers).eval()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="alexbn", choices=("alexbn", "alex"))
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    import numpy as np
    import torch

    from convlab.engine.nets import build_network

    torch.set_num_threads(args.threads)
    net = build_network(args.net, xp=np)
    model = torch_alexbn(net)
    x = np.random.default_rng(0).random((1, 3, 227, 227), dtype=np.float32)
    xt = torch.from_numpy(x)
    with torch.inference_mode():
        ref = model(xt).numpy()
    ours = net.forward(x)["fc8"]
    err = float(np.abs(ours - ref).max() / (np.abs(ref).max() + 1e-12))
    t_ours, t_torch = [], []
    with torch.inference_mode():
        for i in range(args.repeats + 3):
            t0 = time.perf_counter()
            net.forward(x)
            t1 = time.perf_counter()
            model(xt)
            t2 = time.perf_counter()
            if i >= 3:
                t_ours.append(t1 - t0)
                t_torch.append(t2 - t1)
    ours_ms, torch_ms = statistics.median(t_ours) * 1e3, statistics.median(t_torch) * 1e3
    ratios = [a / b for a, b in zip(t_ours, t_torch)]
    print(f"{args.net} batch 1, float32, {args.threads} threads, median of {args.repeats} alternating runs")
    print(f"  ConvLab (NumPy {np.__version__}): {ours_ms:7.2f} ms")
    print(f"  PyTorch {torch.__version__}:        {torch_ms:7.2f} ms")
    print(f"  ratio ConvLab / PyTorch: {ours_ms / torch_ms:.2f} (median of per-pair ratios "
          f"{statistics.median(ratios):.2f})")
    print(f"  fc8 max relative difference: {err:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
