"""Chainer's other links and functions as layers: BN, ReLU, LRN, pooling, Linear, dropout."""

from __future__ import annotations

import numpy as np

from convlab.engine import arithmetic as ar
from convlab.engine import ops
from convlab.engine.ops import dense_grad as dg
from convlab.engine.backend import array_module
from convlab.engine.wording import shape_text
from convlab.engine.layers.base import REQUIRED, Layer, inferred, need_spatial, weights


class BatchNorm(Layer):
    """``L.BatchNormalization(size)``: gamma 1, beta 0, avg_mean 0, avg_var 1, eps 2e-5."""

    kind = "bn"
    channels_only = True
    learned = ("gamma", "beta")
    spec_args = {"size": ("int?", None), "eps": ("float", 2e-5)}

    def __init__(self, name, size, *, eps=2e-5, xp=np, inputs=None):
        super().__init__(name, inputs=inputs)
        self.size, self.eps = size, eps
        self.params = {
            "gamma": xp.ones(size, dtype=np.float32),
            "beta": xp.zeros(size, dtype=np.float32),
            "avg_mean": xp.zeros(size, dtype=np.float32),
            "avg_var": xp.ones(size, dtype=np.float32),
        }

    @classmethod
    def from_args(cls, name, args, *, in_shapes, seed, xp, init):
        size = args["size"]
        if size is None:
            size = inferred(name, "size", in_shapes, lambda s: s[0])
        return cls(name, size, eps=args["eps"], xp=xp)

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

    def forward(self, inputs, *, mode="test", rng=None):
        """The stored averages ("test") or the batch's statistics; "train" also replaces
        ``avg_mean`` and ``avg_var`` by Chainer's running averages (decay 0.9, unbiased var)."""
        x, p = inputs[0], self.params
        if mode == "test":
            mean, var = p["avg_mean"], p["avg_var"]
        else:
            mean, var = dg.batch_stats(x)
            if mode == "train":
                p["avg_mean"], p["avg_var"] = dg.running_averages(
                    p["avg_mean"], p["avg_var"], mean, var, x.size // x.shape[1])
        y = ops.batch_norm(x, p["gamma"], p["beta"], mean=mean, var=var, eps=self.eps)
        return y, (mean, var, mode != "test")

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        mean, var, batch = cache
        gx, ggamma, gbeta = dg.batch_norm_backward(
            inputs[0], self.params["gamma"], gy, mean, var, eps=self.eps, batch=batch,
            need_x=need_inputs is None or need_inputs[0])
        trained = self.trained()
        return [gx], {k: g for k, g in (("gamma", ggamma), ("beta", gbeta)) if k in trained}


class ReLU(Layer):
    kind = "relu"

    def __call__(self, x, *, use_batch_stats=False):
        return ops.relu(x)

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        return [dg.relu_backward(output, gy)], {}


class LRN(Layer):
    """``F.local_response_normalization`` with Chainer's defaults n=5, k=2, alpha=1e-4, beta=0.75."""

    kind = "lrn"
    spec_args = {"n": ("int", 5), "k": ("float", 2.0), "alpha": ("float", 1e-4),
                 "beta": ("float", 0.75)}

    def __init__(self, name, *, n=5, k=2.0, alpha=1e-4, beta=0.75, inputs=None):
        super().__init__(name, inputs=inputs)
        self.n, self.k, self.alpha, self.beta = n, k, alpha, beta

    def describe(self):
        return f"n={self.n}"

    def __call__(self, x, *, use_batch_stats=False):
        return ops.local_response_norm(x, n=self.n, k=self.k, alpha=self.alpha, beta=self.beta)

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        return [dg.local_response_norm_backward(inputs[0], gy, n=self.n, k=self.k,
                                                alpha=self.alpha, beta=self.beta)], {}


class Pool(Layer):
    """``F.max_pooling_2d`` (``mode="max"``, ``cover_all=True`` by default) or
    ``F.average_pooling_2d`` (``mode="avg"``: ``cover_all=False``, the zero padding counted in the
    mean, ``count_include_pad=True``). Stride defaults to ksize. For avg, ``count_include_pad=False``
    divides by the number of window positions inside the input, and ``cover_all=True`` keeps the
    last partial window (its overhang past the padded input is not counted)."""

    kind = "pool"
    spec_args = {"mode": ("choice:max|avg", "max"), "ksize": ("pair", REQUIRED),
                 "stride": ("pair?", None), "pad": ("pad", 0), "cover_all": ("bool?", None),
                 "count_include_pad": ("bool", True)}

    def __init__(self, name, ksize, *, stride=None, pad=0, cover_all=None, mode="max",
                 count_include_pad=True, inputs=None):
        super().__init__(name, inputs=inputs)
        self.mode, self.count_include_pad = mode, count_include_pad
        self.ksize = ar.pair(ksize, "ksize")
        self.stride = self.ksize if stride is None else ar.pair(stride, "stride")
        self.pads = ar.pad_pairs(pad)
        (t, b), (l, r) = self.pads
        self.pad = (t, l) if (t, l) == (b, r) else self.pads
        self.cover_all = (mode == "max") if cover_all is None else cover_all
        self.geometry = (self.ksize, self.stride, self.pads, 1)

    def spec_values(self):
        values = {"mode": self.mode, "ksize": self.ksize, "stride": self.stride, "pad": self.pads,
                  "cover_all": self.cover_all}
        if self.mode == "avg":
            values["count_include_pad"] = self.count_include_pad
        return values

    def window(self, in_shape=None):
        return ar.Window.of(self.ksize, self.stride, self.pads, 1, cover_all=self.cover_all)

    def output_shape(self, shape):
        c, h, w = need_spatial(self, shape)
        oh = ar.conv_out_size(h, self.ksize[0], self.stride[0], self.pads[0], 1, self.cover_all,
                              what="pooling window")
        ow = ar.conv_out_size(w, self.ksize[1], self.stride[1], self.pads[1], 1, self.cover_all,
                              what="pooling window")
        return (c, oh, ow)

    def describe(self):
        text = f"{self.ksize[0]}/{self.stride[0]}" + ("" if self.mode == "max" else " avg")
        if self.cover_all != (self.mode == "max"):
            text += " floor" if self.mode == "max" else " cover_all"
        return text

    def __call__(self, x, *, use_batch_stats=False):
        if self.mode == "max":
            return ops.max_pool2d(x, self.ksize, stride=self.stride, pad=self.pad,
                                  cover_all=self.cover_all)
        if not self.cover_all and self.count_include_pad:
            return ops.avg_pool2d(x, self.ksize, stride=self.stride, pad=self.pad)
        return _avg_pool_general(x, self)

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """Max: to each window's argmax (the first in scan order on ties); avg: spread evenly."""
        x, geometry = inputs[0], dict(stride=self.stride, pad=self.pads, cover_all=self.cover_all)
        if self.mode == "max":
            return [ops.max_pool2d_backward(x, gy, self.ksize, y=output, **geometry)], {}
        return [ops.avg_pool2d_backward(x.shape, gy, self.ksize, **geometry,
                                        count_include_pad=self.count_include_pad)], {}


def _avg_pool_general(x, layer: Pool):
    """Average pooling with asymmetric padding, ``cover_all`` or ``count_include_pad=False``:
    window sums over an explicitly zero-padded input, divided by the counted positions."""
    xp = array_module(x)
    n, c, h, w = x.shape
    _, oh, ow = layer.output_shape((c, h, w))
    (kh, kw), (sh, sw), ((t, b), (l, r)) = layer.ksize, layer.stride, layer.pads
    full_h, full_w = max(h + t + b, (oh - 1) * sh + kh), max(w + l + r, (ow - 1) * sw + kw)
    padded = xp.zeros((n, c, full_h, full_w), dtype=x.dtype)
    padded[:, :, t:t + h, l:l + w] = x
    inside = np.zeros((1, 1, full_h, full_w), dtype=np.float64)      # positions that count
    if layer.count_include_pad:
        inside[:, :, :h + t + b, :w + l + r] = 1.0
    else:
        inside[:, :, t:t + h, l:l + w] = 1.0
    total, count = None, np.zeros((1, 1, oh, ow))
    for i in range(kh):
        for j in range(kw):
            rows, cols = slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw)
            window = padded[:, :, rows, cols]
            total = window.copy() if total is None else total.__iadd__(window)
            count += inside[:, :, rows, cols]
    return total / xp.asarray(np.maximum(count, 1.0).astype(x.dtype))


MaxPool = Pool  # the name AlexBN's code used before pooling had modes


class Linear(Layer):
    """``L.Linear(in, out)``: weight ``(out, in)``, LeCun normal, zero bias; input flattened."""

    kind = "fc"
    parametrised = True
    spec_args = {"out_size": ("int", REQUIRED), "in_size": ("int?", None), "nobias": ("bool", False)}

    def __init__(self, name, n_in, n_out, *, nobias=False, seed=0, xp=np, init=True, inputs=None):
        super().__init__(name, inputs=inputs)
        self.n_in, self.n_out, self.nobias = n_in, n_out, nobias
        self.params = {"W": weights(init, xp, seed, (n_out, n_in), n_in)}
        if not nobias:
            self.params["b"] = xp.zeros(n_out, dtype=np.float32)
        self.learned = tuple(self.params)

    @classmethod
    def from_args(cls, name, args, *, in_shapes, seed, xp, init):
        n_in = args["in_size"]
        if n_in is None:
            n_in = inferred(name, "in_size", in_shapes, lambda s: np.prod(s))
        return cls(name, n_in, args["out_size"], nobias=args["nobias"], seed=seed, xp=xp, init=init)

    def spec_values(self):
        return {"out_size": self.n_out, "in_size": self.n_in, "nobias": self.nobias}

    def output_shape(self, shape):
        n = int(np.prod(shape))
        if n != self.n_in:
            raise ValueError(f"{self.name} expects {self.n_in:,} inputs but receives "
                             f"{shape_text(shape)} = {n:,}.")
        return (self.n_out,)

    def macs(self, in_shapes, out_shape):
        return self.n_in * self.n_out

    def describe(self):
        return f"{self.n_in}->{self.n_out}"

    def __call__(self, x, *, use_batch_stats=False):
        return ops.linear(x, self.params["W"], self.params.get("b"))

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        trained = self.trained()
        gx, gW, gb = dg.linear_backward(inputs[0], self.params["W"], gy,
                                        need_x=need_inputs is None or need_inputs[0],
                                        need_W="W" in trained, need_b="b" in trained)
        return [gx], {k: g for k, g in (("W", gW), ("b", gb)) if k in trained}


class Dropout(Layer):
    """``F.dropout``: the identity at inference and in "batch" mode; in "train" mode
    ``x * mask``, ``mask = (u >= ratio) / (1 - ratio)`` with ``u`` from the seeded generator."""

    kind = "dropout"
    spec_args = {"ratio": ("float", 0.5)}

    def __init__(self, name, ratio=0.5, *, inputs=None):
        super().__init__(name, inputs=inputs)
        if not 0.0 <= ratio < 1.0:  # as Chainer's F.dropout; NaN fails too
            raise ValueError(f"the dropout ratio must be in [0, 1) (the share of values "
                             f"dropped, as Chainer's F.dropout), got {ratio}")
        self.ratio = ratio

    def describe(self):
        return f"{self.ratio}"

    def __call__(self, x, *, use_batch_stats=False):
        return x

    def forward(self, inputs, *, mode="test", rng=None):
        if mode != "train" or self.ratio == 0:
            return inputs[0], None
        mask = dg.dropout_mask(inputs[0], self.ratio, rng)
        return inputs[0] * mask, mask

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        return [gy if cache is None else gy * cache], {}
