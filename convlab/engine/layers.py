"""Parametrised layers (Chainer's links): hold arrays, call :mod:`convlab.engine.ops`.

Every layer knows its own shape arithmetic (``output_shape`` on ``(C, H, W)`` or ``(F,)``), its
parameter count, its multiply-adds and its receptive-field geometry, so a network summary needs
no arrays at all.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from convlab.engine import arithmetic as ar
from convlab.engine import ops
from convlab.engine.arithmetic import pair
from convlab.engine.backend import freeze


_CHUNK = 1 << 20  # elements per random stream: fixed, so results do not depend on thread count


def lecun_normal(seed: np.random.SeedSequence | int, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """Chainer's default initialiser: normal with std ``sqrt(1 / fan_in)``, float32.

    Filled in fixed chunks, one random stream each, spread over the CPU cores (NumPy's
    generators release the GIL): AlexBN's 62 M weights take about half a second on 2 cores.
    """
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    w = np.empty(int(np.prod(shape)), dtype=np.float32)
    starts = range(0, w.size, _CHUNK)
    streams = [np.random.default_rng(s) for s in seq.spawn(len(starts))]
    scale = np.float32(np.sqrt(1.0 / fan_in))

    def fill(i: int) -> None:
        part = w[starts[i]:starts[i] + _CHUNK]
        streams[i].standard_normal(out=part, dtype=np.float32)
        part *= scale

    if len(streams) == 1:
        fill(0)
    else:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(fill, range(len(streams))))
    return w.reshape(shape)


def placeholder(shape: tuple[int, ...]) -> np.ndarray:
    """A read-only zero-stride array of ``shape``: the shape of a weight without its memory."""
    return np.broadcast_to(np.float32(0), shape)


def _weights(init: bool, xp, seed, shape, fan_in):
    """Frozen (read-only) weights: replaced, never edited in place (see ``backend.freeze``)."""
    return freeze(xp.asarray(lecun_normal(seed, shape, fan_in))) if init else placeholder(shape)


class Layer:
    """Base: a named, stateless-by-default layer with no parameters."""

    kind = "layer"
    geometry: tuple[int, int, int, int] | None = None  # (k, s, p, d) for receptive fields

    def __init__(self, name: str):
        self.name = name
        self.params: dict[str, object] = {}

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape

    def param_count(self) -> int:
        """Learned parameters (BatchNorm's running averages are not learned, so not counted)."""
        return sum(int(np.prod(self.params[k].shape)) for k in self.learned)

    learned: tuple[str, ...] = ()

    def macs(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
        return 0

    def describe(self) -> str:
        return ""

    def __call__(self, x, *, use_batch_stats: bool = False):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.describe()})"


def _need_spatial(layer: Layer, shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(f"{layer.name} needs a C x H x W input, got {'x'.join(map(str, shape))}.")
    return shape


class Conv2D(Layer):
    """``L.Convolution2D(in, out, ksize, stride, pad)``: LeCun-normal weights, zero bias."""

    kind = "conv"
    learned = ("W", "b")

    def __init__(self, name, c_in, c_out, ksize, *, stride=1, pad=0, dilation=1, groups=1,
                 seed=0, xp=np, init=True):
        super().__init__(name)
        self.c_in, self.c_out, self.groups = c_in, c_out, groups
        self.ksize, self.stride = pair(ksize, "ksize"), pair(stride, "stride")
        self.pad, self.dilation = pair(pad, "pad"), pair(dilation, "dilation")
        kh, kw = self.ksize
        fan_in = c_in // groups * kh * kw
        self.params = {
            "W": _weights(init, xp, seed, (c_out, c_in // groups, kh, kw), fan_in),
            "b": xp.zeros(c_out, dtype=np.float32),
        }
        self.geometry = (kh, self.stride[0], self.pad[0], self.dilation[0])

    def output_shape(self, shape):
        c, h, w = _need_spatial(self, shape)
        if c != self.c_in:
            raise ValueError(f"{self.name} expects {self.c_in} input channels but receives {c}.")
        oh = ar.conv_out_size(h, self.ksize[0], self.stride[0], self.pad[0], self.dilation[0])
        ow = ar.conv_out_size(w, self.ksize[1], self.stride[1], self.pad[1], self.dilation[1])
        return (self.c_out, oh, ow)

    def macs(self, in_shape, out_shape):
        return ar.conv_macs(self.c_in, self.c_out, *self.ksize, *out_shape[1:], self.groups)

    def describe(self):
        kh, kw = self.ksize
        text = f"{self.c_in}->{self.c_out} k{kh if kh == kw else f'{kh}x{kw}'}"
        if self.stride != (1, 1):
            text += f" s{self.stride[0]}"
        if self.pad != (0, 0):
            text += f" p{self.pad[0]}"
        if self.dilation != (1, 1):
            text += f" d{self.dilation[0]}"
        return text

    def __call__(self, x, *, use_batch_stats=False):
        p = self.params
        return ops.conv2d(x, p["W"], p["b"], stride=self.stride, pad=self.pad,
                          dilation=self.dilation, groups=self.groups)


class BatchNorm(Layer):
    """``L.BatchNormalization(size)``: gamma 1, beta 0, avg_mean 0, avg_var 1, eps 2e-5."""

    kind = "bn"
    learned = ("gamma", "beta")

    def __init__(self, name, size, *, eps=2e-5, xp=np):
        super().__init__(name)
        self.size, self.eps = size, eps
        self.params = {
            "gamma": xp.ones(size, dtype=np.float32),
            "beta": xp.zeros(size, dtype=np.float32),
            "avg_mean": xp.zeros(size, dtype=np.float32),
            "avg_var": xp.ones(size, dtype=np.float32),
        }

    def output_shape(self, shape):
        if shape[0] != self.size:
            raise ValueError(f"{self.name} normalises {self.size} channels but receives {shape[0]}.")
        return shape

    def describe(self):
        return f"{self.size}"

    def __call__(self, x, *, use_batch_stats=False):
        p = self.params
        if use_batch_stats:
            return ops.batch_norm(x, p["gamma"], p["beta"], eps=self.eps)
        return ops.batch_norm(x, p["gamma"], p["beta"], mean=p["avg_mean"], var=p["avg_var"],
                              eps=self.eps)


class ReLU(Layer):
    kind = "relu"

    def __call__(self, x, *, use_batch_stats=False):
        return ops.relu(x)


class LRN(Layer):
    """``F.local_response_normalization`` with Chainer's defaults n=5, k=2, alpha=1e-4, beta=0.75."""

    kind = "lrn"

    def __init__(self, name, *, n=5, k=2.0, alpha=1e-4, beta=0.75):
        super().__init__(name)
        self.n, self.k, self.alpha, self.beta = n, k, alpha, beta

    def describe(self):
        return f"n={self.n}"

    def __call__(self, x, *, use_batch_stats=False):
        return ops.local_response_norm(x, n=self.n, k=self.k, alpha=self.alpha, beta=self.beta)


class MaxPool(Layer):
    """``F.max_pooling_2d(h, ksize, stride)`` with Chainer's ``cover_all=True`` by default."""

    kind = "pool"

    def __init__(self, name, ksize, *, stride=None, pad=0, cover_all=True):
        super().__init__(name)
        self.ksize = pair(ksize, "ksize")
        self.stride = self.ksize if stride is None else pair(stride, "stride")
        self.pad, self.cover_all = pair(pad, "pad"), cover_all
        self.geometry = (self.ksize[0], self.stride[0], self.pad[0], 1)

    def output_shape(self, shape):
        c, h, w = _need_spatial(self, shape)
        oh = ar.conv_out_size(h, self.ksize[0], self.stride[0], self.pad[0], 1, self.cover_all)
        ow = ar.conv_out_size(w, self.ksize[1], self.stride[1], self.pad[1], 1, self.cover_all)
        return (c, oh, ow)

    def describe(self):
        return f"{self.ksize[0]}/{self.stride[0]}" + ("" if self.cover_all else " floor")

    def __call__(self, x, *, use_batch_stats=False):
        return ops.max_pool2d(x, self.ksize, stride=self.stride, pad=self.pad,
                              cover_all=self.cover_all)


class Linear(Layer):
    """``L.Linear(in, out)``: weight ``(out, in)``, LeCun normal, zero bias; input flattened."""

    kind = "fc"
    learned = ("W", "b")

    def __init__(self, name, n_in, n_out, *, seed=0, xp=np, init=True):
        super().__init__(name)
        self.n_in, self.n_out = n_in, n_out
        self.params = {
            "W": _weights(init, xp, seed, (n_out, n_in), n_in),
            "b": xp.zeros(n_out, dtype=np.float32),
        }

    def output_shape(self, shape):
        n = int(np.prod(shape))
        if n != self.n_in:
            given = "x".join(map(str, shape))
            raise ValueError(f"{self.name} expects {self.n_in:,} inputs but receives {given} = {n:,}.")
        return (self.n_out,)

    def macs(self, in_shape, out_shape):
        return self.n_in * self.n_out

    def describe(self):
        return f"{self.n_in}->{self.n_out}"

    def __call__(self, x, *, use_batch_stats=False):
        return ops.linear(x, self.params["W"], self.params["b"])


class Dropout(Layer):
    """``F.dropout``: the identity at inference."""

    kind = "dropout"

    def __init__(self, name, ratio=0.5):
        super().__init__(name)
        self.ratio = ratio

    def describe(self):
        return f"{self.ratio}"

    def __call__(self, x, *, use_batch_stats=False):
        return x
