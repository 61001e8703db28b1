"""Networks as data: an ordered stack of named layers, and Chainer's AlexBN and Alex.

``build_network("alexbn")`` is Chainer's ``examples/imagenet/alexbn.py`` (the seed article's
model); ``build_network("alex")`` is ``alex.py`` of Chainer v7 (ReLU then LRN after conv1, conv2).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from convlab.engine import layers as L
from convlab.engine.arithmetic import ReceptiveField
from convlab.engine.backend import get_backend

NETWORKS = ("alexbn", "alex")


@dataclass
class SummaryRow:
    """One layer of :meth:`Network.summary`. ``output_shape`` is None after a failing row."""

    name: str
    kind: str
    output_shape: tuple[int, ...] | None
    params: int
    macs: int
    rf: float | None
    jump: float | None
    error: str = ""
    detail: str = ""


class ForwardResult(OrderedDict):
    """``name -> output array`` in layer order, with ``.seconds`` (``name -> float``)."""

    def __init__(self):
        super().__init__()
        self.seconds: dict[str, float] = {}
        self.completed = True


class Network:
    """An ordered stack of named layers with summary, forward and Chainer-layout weights."""

    def __init__(self, name: str, layers: list[L.Layer], insize: int = 227, in_channels: int = 3,
                 xp=np):
        self.name, self.layers, self.xp = name, list(layers), xp  # xp: where the weights live
        self.insize, self.in_channels = insize, in_channels
        self.weights_source = "random"
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ValueError(f"layer names must be unique, got {names}")

    def __getitem__(self, name: str) -> L.Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def param_count(self) -> int:
        return sum(layer.param_count() for layer in self.layers)

    def summary(self, input_shape: tuple[int, int, int] | None = None) -> list[SummaryRow]:
        """One row per layer: output shape, params, multiply-adds, receptive field and jump.

        Never raises for a bad input size: the first failing row's ``error`` says why.
        """
        shape = tuple(input_shape or (self.in_channels, self.insize, self.insize))
        rows, rf, failed = [], ReceptiveField(), False
        for layer in self.layers:
            row = SummaryRow(layer.name, layer.kind, None, layer.param_count(), 0, None, None,
                             detail=layer.describe())
            rows.append(row)
            if failed:
                continue
            try:
                out = layer.output_shape(shape)
            except ValueError as exc:
                reason = str(exc)
                if not reason.startswith(layer.name):
                    reason = f"{layer.name}: {reason}"
                row.error = reason + self._fitting_sizes_hint(layer, shape)
                failed = True
                continue
            if layer.geometry is not None:
                rf = rf.through(*layer.geometry)
            if len(out) == 3:
                row.rf, row.jump = rf.size, rf.jump
            row.output_shape, row.macs = out, layer.macs(shape, out)
            shape = out
        return rows

    def _fitting_sizes_hint(self, failing: L.Layer, shape) -> str:
        """For a too-small or mismatched input, name the square input sizes that do pass."""
        if not isinstance(failing, L.Linear):
            return ""
        fits = [s for s in range(1, 1025) if self._passes((self.in_channels, s, s))]
        if not fits:
            return ""
        runs, start = [], fits[0]
        for a, b in zip(fits, fits[1:] + [None]):
            if b != a + 1:
                runs.append(f"{start}" if start == a else f"{start}-{a}")
                start = b
        return f" Square inputs that reach it: {', '.join(runs)} pixels."

    def _passes(self, shape) -> bool:
        try:
            for layer in self.layers:
                shape = layer.output_shape(shape)
        except ValueError:
            return False
        return True

    def forward(self, x, *, use_batch_stats: bool = False,
                should_stop: Callable[[], bool] | None = None,
                on_layer: Callable[[str, object, float], None] | None = None) -> ForwardResult:
        """Run every layer on ``x`` (``(N, C, H, W)``); keep each output, time each layer.

        ``should_stop`` is asked between layers (the run is abandoned, ``completed`` False);
        ``on_layer(name, output, seconds)`` is called as each layer finishes.
        """
        xp = self.xp
        h = xp.asarray(x, dtype=np.float32)
        if h.ndim == 3:
            h = h[None]
        result = ForwardResult()
        sync = getattr(xp.cuda, "Device", None) if xp is not np else None
        for layer in self.layers:
            if should_stop is not None and should_stop():
                result.completed = False
                break
            t0 = time.perf_counter()
            h = layer(h, use_batch_stats=use_batch_stats)
            if sync is not None:
                sync().synchronize()
            dt = time.perf_counter() - t0
            result[layer.name], result.seconds[layer.name] = h, dt
            if on_layer is not None:
                on_layer(layer.name, h, dt)
        return result

    def load_npz(self, path) -> None:
        from convlab.engine.weights import load_npz

        load_npz(self, path)

    def save_npz(self, path) -> None:
        from convlab.engine.weights import save_npz

        save_npz(self, path)


def _conv_stack(xp, seed: int, norm: str, init: bool = True) -> list[L.Layer]:
    """AlexNet's five convolutions with BN (``norm="bn"``) or ReLU-then-LRN (``norm="lrn"``)."""
    seeds = iter(np.random.SeedSequence(seed).spawn(8))  # one stream per parametrised layer
    conv = lambda *a, **k: L.Conv2D(*a, seed=next(seeds), xp=xp, init=init, **k)  # noqa: E731
    out: list[L.Layer] = []
    for i, (c_in, c_out, k, s, p) in enumerate([(3, 96, 11, 4, 0), (96, 256, 5, 1, 2)], start=1):
        out.append(conv(f"conv{i}", c_in, c_out, k, stride=s, pad=p))
        if norm == "bn":
            out += [L.BatchNorm(f"bn{i}", c_out, xp=xp), L.ReLU(f"relu{i}")]
        else:
            out += [L.ReLU(f"relu{i}"), L.LRN(f"norm{i}")]
        out.append(L.MaxPool(f"pool{i}", 3, stride=2))
    for i, (c_in, c_out) in enumerate([(256, 384), (384, 384), (384, 256)], start=3):
        out += [conv(f"conv{i}", c_in, c_out, 3, pad=1), L.ReLU(f"relu{i}")]
    out.append(L.MaxPool("pool5", 3, stride=2))
    for i, (n_in, n_out) in enumerate([(9216, 4096), (4096, 4096)], start=6):
        out += [L.Linear(f"fc{i}", n_in, n_out, seed=next(seeds), xp=xp, init=init),
                L.ReLU(f"relu{i}"), L.Dropout(f"drop{i}")]
    out.append(L.Linear("fc8", 4096, 1000, seed=next(seeds), xp=xp, init=init))
    return out


def build_network(name: str, *, seed: int = 0, xp=None, init: bool = True) -> Network:
    """``"alexbn"`` (AlexNet with BatchNormalization, insize 227) or ``"alex"`` (LRN AlexNet).

    Chainer v7 initialisation: LeCun normal weights, zero biases, BN gamma 1, beta 0,
    avg_mean 0, avg_var 1, eps 2e-5. The same seed gives identical weights. With
    ``init=False`` the conv and fc weights are zero-stride placeholders that take no memory:
    enough for ``summary()``, or to be filled by ``load_npz``.
    """
    key = name.strip().lower()
    if key not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; choose one of {', '.join(NETWORKS)}")
    xp = xp or get_backend().xp
    layers = _conv_stack(xp, seed, "bn" if key == "alexbn" else "lrn", init)
    net = Network(key, layers, xp=xp)
    net.weights_source = f"random (LeCun normal, seed {seed})" if init else "none (shapes only)"
    return net
