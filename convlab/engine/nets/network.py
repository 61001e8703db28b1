"""Networks as data: a graph of named layers made from a spec, and the built-in presets.

``build_network("alexbn")`` is Chainer's ``examples/imagenet/alexbn.py`` (the seed article's
model); ``"alex"`` is ``alex.py`` of Chainer v7 (ReLU then LRN after conv1, conv2); ``"alex2g"``
the original two-group AlexNet. Each is a spec in :mod:`convlab.engine.nets.presets`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from convlab.engine import layers as L
from convlab.engine.arithmetic.fields import network_field
from convlab.engine.arithmetic.sizes import ReceptiveField
from convlab.engine.backend import get_backend
from convlab.engine.nets import presets as specs
from convlab.engine.nets import spec as netspec
from convlab.engine.nets.weights import load_npz, save_npz

NETWORKS = tuple(specs.PRESETS)
HINT_STEPS = 2_000_000   # layer steps the search for fitting input sizes may take (about 2 s)


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
    """Named layers in topological order, each reading the outputs named in ``layer.inputs``
    (``"input"`` is the network's input; by default the previous layer): summary, forward,
    receptive fields, specs and Chainer-layout weights."""

    def __init__(self, name: str, layers: list[L.Layer], insize: int = 227, in_channels: int = 3,
                 xp=np, input_shape: tuple[int, int, int] | None = None):
        self.name, self.layers, self.xp = name, list(layers), xp  # xp: where the weights live
        self.input_shape = tuple(input_shape or (in_channels, insize, insize))
        self.in_channels, self.insize = self.input_shape[0], self.input_shape[1]
        self.weights_source = "random"
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names) or "input" in names:
            raise ValueError(f"layer names must be unique and not 'input', got {names}")
        seen, previous = {"input"}, "input"   # a set: linear in the number of layers
        for layer in self.layers:
            if layer.inputs is None:
                layer.inputs = [previous]
            missing = [n for n in layer.inputs if n not in seen]
            if missing:
                raise ValueError(f"{layer.name} reads {missing[0]!r}, which is not an earlier layer")
            seen.add(layer.name)
            previous = layer.name

    @classmethod
    def from_spec(cls, spec, *, weights=None, seed: int = 0, xp=None, init: bool = True) -> "Network":
        """Build from a spec (a dict or a bare list of layer dicts; SPEC_FORMAT.md). ``weights``:
        ``{"conv1/W": array, ...}`` (Chainer's keys); the rest LeCun normal from ``seed``, or
        shapes-only placeholders with ``init=False``. ``ValueError`` naming the layer if bad."""
        xp = xp or get_backend().xp
        name, input_shape, layers = netspec.build(spec, weights=weights, seed=seed, xp=xp, init=init)
        return cls(name, layers, xp=xp, input_shape=input_shape)

    def to_spec(self) -> dict:
        """The JSON-able dict form: ``Network.from_spec(net.to_spec())`` builds the same network."""
        return netspec.to_spec(self)

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

    def shapes(self, input_shape=None) -> dict[str, tuple | None]:
        """Every output shape by name (``"input"`` too), None from the first failing layer on."""
        shapes = {"input": tuple(input_shape or self.input_shape)}
        failed = False
        for layer in self.layers:
            shapes[layer.name] = None
            if not failed:
                try:
                    shapes[layer.name] = tuple(layer.output_shape(*(shapes[n] for n in layer.inputs)))
                except ValueError:
                    failed = True
        return shapes

    def summary(self, input_shape: tuple[int, int, int] | None = None) -> list[SummaryRow]:
        """One row per layer: output shape, params, multiply-adds, receptive field and jump
        (along the height; None where the output is not spatial or after a transposed
        convolution). Never raises for a bad input size: the first failing row's ``error`` says
        why and which square input sizes would pass; later rows have ``output_shape`` None."""
        shapes = {"input": tuple(input_shape or self.input_shape)}
        fields: dict[str, ReceptiveField | None] = {"input": ReceptiveField()}
        rows, failed = [], False
        for index, layer in enumerate(self.layers):
            row = SummaryRow(layer.name, layer.kind, None, layer.param_count(), 0, None, None,
                             detail=layer.describe())
            rows.append(row)
            if failed:
                continue
            in_shapes = [shapes[n] for n in layer.inputs]
            try:
                out = tuple(layer.output_shape(*in_shapes))
            except ValueError as exc:
                reason = str(exc)
                if not reason.startswith(layer.name):
                    reason = f"{layer.name}: {reason}"
                row.error = reason + self._fitting_sizes_hint(index)
                failed = True
                continue
            shapes[layer.name] = out
            fields[layer.name] = rf = _field_through(layer, [fields[n] for n in layer.inputs],
                                                     in_shapes, out)
            if rf is not None:
                row.rf, row.jump = rf.size, rf.jump
            row.output_shape, row.macs = out, layer.macs(in_shapes, out)
        return rows

    def _fitting_sizes_hint(self, failing: int) -> str:
        """Name the square input sizes (1 to 1024) that get through the failing layer; nothing
        when that would take over ``HINT_STEPS`` layer steps (1024 sizes x the layers up to it)."""
        if 1024 * (failing + 1) > HINT_STEPS:
            return ""
        memo: dict = {}       # (layer, input shapes) -> output shape or None: sizes collapse
        fits = [s for s in range(1, 1025) if self._passes((self.in_channels, s, s), failing, memo)]
        if not fits:
            return ""
        runs, start = [], fits[0]
        for a, b in zip(fits, fits[1:] + [None]):
            if b != a + 1:
                runs.append(f"{start}" if start == a else f"{start}-{a}")
                start = b
        return f" Square inputs that reach it: {', '.join(runs)} pixels."

    def _passes(self, shape, upto: int, memo: dict) -> bool:
        shapes = {"input": shape}
        for index, layer in enumerate(self.layers[:upto + 1]):
            key = (index, *(shapes[n] for n in layer.inputs))
            if key not in memo:
                try:
                    memo[key] = tuple(layer.output_shape(*key[1:]))
                except ValueError:
                    memo[key] = None
            if memo[key] is None:
                return False
            shapes[layer.name] = memo[key]
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
        values = {"input": h}
        sync = getattr(xp.cuda, "Device", None) if xp is not np else None
        for layer in self.layers:
            if should_stop is not None and should_stop():
                result.completed = False
                break
            t0 = time.perf_counter()
            h = layer(*(values[n] for n in layer.inputs), use_batch_stats=use_batch_stats)
            if sync is not None:
                sync().synchronize()
            dt = time.perf_counter() - t0
            values[layer.name] = result[layer.name] = h
            result.seconds[layer.name] = dt
            if on_layer is not None:
                on_layer(layer.name, h, dt)
        return result

    def receptive_field(self, layer: str, i: int, j: int, input_shape=None):
        """The input box that output ``(i, j)`` of ``layer`` sees: :class:`explain.Field`
        (unclipped and clipped; through a graph, the union over paths)."""
        return network_field(self, layer, i, j, input_shape)

    def load_npz(self, path) -> None:
        load_npz(self, path)

    def save_npz(self, path) -> None:
        save_npz(self, path)


def _field_through(layer, in_fields, in_shapes, out_shape) -> ReceptiveField | None:
    """Size, jump and start after ``layer`` along the height; the union over several inputs."""
    if len(out_shape) != 3 or any(f is None for f in in_fields) or any(
            len(s) != 3 for s in in_shapes):
        return None
    window = layer.window(in_shapes[0])
    if window is not None:
        if window.transposed:
            return None
        return in_fields[0].through(window.kernel[0], window.stride[0], window.pad[0][0],
                                    window.dilation[0])
    if len(in_fields) == 1:
        return in_fields[0]
    low = min(f.start - f.size / 2 for f in in_fields)
    high = max(f.start + f.size / 2 for f in in_fields)
    return ReceptiveField(size=high - low, jump=max(f.jump for f in in_fields), start=(low + high) / 2)


def build_network(name: str, *, seed: int = 0, xp=None, init: bool = True) -> Network:
    """A built-in network: ``"alexbn"`` (AlexNet with BatchNormalization, insize 227), ``"alex"``
    (LRN AlexNet) or ``"alex2g"`` (AlexNet, 2 groups).

    Chainer v7 initialisation: LeCun normal weights, zero biases, BN gamma 1, beta 0,
    avg_mean 0, avg_var 1, eps 2e-5. The same seed gives identical weights. With
    ``init=False`` the conv and fc weights are zero-stride placeholders that take no memory:
    enough for ``summary()``, or to be filled by ``load_npz``.
    """
    net = Network.from_spec(specs.preset(name), seed=seed, xp=xp, init=init)
    net.weights_source = f"random (LeCun normal, seed {seed})" if init else "none (shapes only)"
    return net
