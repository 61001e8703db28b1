"""Convolution layers: Chainer's ``L.Convolution2D`` and ``L.Deconvolution2D``."""

from __future__ import annotations

import numpy as np

from convlab.engine import arithmetic as ar
from convlab.engine import ops
from convlab.engine.layers.base import REQUIRED, Layer, inferred, need_spatial, weights


def _short(hw):
    """``(2, 2) -> "2"``, ``(2, 3) -> "2x3"``."""
    return f"{hw[0]}" if hw[0] == hw[1] else f"{hw[0]}x{hw[1]}"


def _pads(pad):
    return ar.pad_pairs(pad)


def _pad_arg(pads):
    """The form ops take: an int pair when symmetric, else ``((top, bottom), (left, right))``."""
    (t, b), (l, r) = pads
    return (t, l) if t == b and l == r else pads


class Conv2D(Layer):
    """``L.Convolution2D(in, out, ksize, stride, pad, nobias, dilate, groups)``: LeCun-normal
    weights ``(out, in/groups, kh, kw)``, zero bias. ``pad`` also takes
    ``((top, bottom), (left, right))`` (asymmetric, as PyTorch's ``padding="same"``)."""

    kind = "conv"
    channels_only = True
    parametrised = True
    spec_args = {"out_channels": ("int", REQUIRED), "ksize": ("pair", REQUIRED),
                 "in_channels": ("int?", None), "stride": ("pair", 1), "pad": ("pad", 0),
                 "dilation": ("pair", 1), "groups": ("int", 1), "nobias": ("bool", False)}

    def __init__(self, name, c_in, c_out, ksize, *, stride=1, pad=0, dilation=1, groups=1,
                 nobias=False, seed=0, xp=np, init=True, inputs=None):
        super().__init__(name, inputs=inputs)
        if c_in % groups or c_out % groups:
            raise ValueError(f"groups={groups} must divide both in_channels ({c_in}) and "
                             f"out_channels ({c_out})")
        self.c_in, self.c_out, self.groups, self.nobias = c_in, c_out, groups, nobias
        self.ksize, self.stride = ar.pair(ksize, "ksize"), ar.pair(stride, "stride")
        self.pads, self.dilation = _pads(pad), ar.pair(dilation, "dilation")
        self.pad = _pad_arg(self.pads)
        self.params = self._make_params(init, xp, seed)
        self.learned = tuple(self.params)
        self.geometry = (self.ksize, self.stride, self.pads, self.dilation)

    def _make_params(self, init, xp, seed):
        kh, kw = self.ksize
        fan_in = self.c_in // self.groups * kh * kw
        params = {"W": weights(init, xp, seed, (self.c_out, self.c_in // self.groups, kh, kw), fan_in)}
        if not self.nobias:
            params["b"] = xp.zeros(self.c_out, dtype=np.float32)
        return params

    @classmethod
    def from_args(cls, name, args, *, in_shapes, seed, xp, init, **extra):
        c_in = args["in_channels"]
        if c_in is None:
            c_in = inferred(name, "in_channels", in_shapes, lambda s: s[0])
        return cls(name, c_in, args["out_channels"], args["ksize"], stride=args["stride"],
                   pad=args["pad"], dilation=args["dilation"], groups=args["groups"],
                   nobias=args["nobias"], seed=seed, xp=xp, init=init, **extra)

    def spec_values(self):
        return {"out_channels": self.c_out, "ksize": self.ksize, "in_channels": self.c_in,
                "stride": self.stride, "pad": self.pads, "dilation": self.dilation,
                "groups": self.groups, "nobias": self.nobias}

    def _check_channels(self, shape):
        c, h, w = need_spatial(self, shape)
        if c != self.c_in:
            raise ValueError(f"{self.name} expects {self.c_in} input channels but receives {c}.")
        return h, w

    def output_shape(self, shape):
        h, w = self._check_channels(shape)
        oh = ar.conv_out_size(h, self.ksize[0], self.stride[0], self.pads[0], self.dilation[0])
        ow = ar.conv_out_size(w, self.ksize[1], self.stride[1], self.pads[1], self.dilation[1])
        return (self.c_out, oh, ow)

    def macs(self, in_shapes, out_shape):
        return ar.conv_macs(self.c_in, self.c_out, *self.ksize, *out_shape[1:], self.groups)

    def describe(self):
        kh, kw = self.ksize
        text = f"{self.c_in}->{self.c_out} k{kh if kh == kw else f'{kh}x{kw}'}"
        if self.stride != (1, 1):
            text += f" s{_short(self.stride)}"
        if self.pads != ((0, 0), (0, 0)):
            (t, b), (l, r) = self.pads
            text += f" p{_short((t, l))}" if (t, l) == (b, r) else f" p{t},{b},{l},{r}"
        if self.dilation != (1, 1):
            text += f" d{_short(self.dilation)}"
        if self.groups != 1:
            text += f" g{self.groups}"
        return text

    def __call__(self, x, *, use_batch_stats=False):
        return ops.conv2d(x, self.params["W"], self.params.get("b"), stride=self.stride,
                          pad=self.pad, dilation=self.dilation, groups=self.groups)

    _grad_op = staticmethod(ops.conv2d_backward)

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """im2col / col2im GEMMs (:mod:`convlab.engine.ops.conv_grad`); ``W`` and ``b`` only when
        not frozen, the input's gradient only when needed."""
        trained = self.trained()
        gx, gW, gb = self._grad_op(
            inputs[0], self.params["W"], gy, stride=self.stride, pad=self.pad,
            dilation=self.dilation, groups=self.groups,
            need_x=need_inputs is None or need_inputs[0], need_W="W" in trained,
            need_b="b" in trained)
        return [gx], {k: g for k, g in (("W", gW), ("b", gb)) if k in trained}


class Deconv2D(Conv2D):
    """``L.Deconvolution2D(in, out, ksize, stride, pad, nobias, outsize, dilate, groups)``:
    weights ``(in, out/groups, kh, kw)``, LeCun normal with Chainer's fan-in (W's axes 1 on:
    ``out/groups * kh * kw``), zero bias. Output size
    ``s(H - 1) + d(k - 1) + 1 - 2p``, or ``outsize``."""

    kind = "deconv"
    spec_args = dict(Conv2D.spec_args, outsize=("pair?", None))

    def __init__(self, name, c_in, c_out, ksize, *, outsize=None, **kw):
        self.outsize = None if outsize is None else ar.pair(outsize, "outsize")
        super().__init__(name, c_in, c_out, ksize, **kw)
        if self.pads[0][0] != self.pads[0][1] or self.pads[1][0] != self.pads[1][1]:
            raise ValueError("a transposed convolution takes symmetric padding only")
        self.geometry = None

    def _make_params(self, init, xp, seed):
        kh, kw = self.ksize
        per_group = self.c_out // self.groups
        params = {"W": weights(init, xp, seed, (self.c_in, per_group, kh, kw), per_group * kh * kw)}
        if not self.nobias:
            params["b"] = xp.zeros(self.c_out, dtype=np.float32)
        return params

    @classmethod
    def from_args(cls, name, args, *, in_shapes, seed, xp, init, **extra):
        return super().from_args(name, args, in_shapes=in_shapes, seed=seed, xp=xp, init=init,
                                 outsize=args["outsize"])

    def spec_values(self):
        return dict(super().spec_values(), outsize=self.outsize)

    def window(self, in_shape=None):
        return ar.Window.of(self.ksize, self.stride, self.pads, self.dilation, transposed=True)

    def output_shape(self, shape):
        h, w = self._check_channels(shape)
        out = []
        for axis, size in enumerate((h, w)):
            allowed = ar.deconv_outsize_range(size, self.ksize[axis], self.stride[axis],
                                              self.pads[axis][0], self.dilation[axis])
            want = None if self.outsize is None else self.outsize[axis]
            if want is not None and want not in allowed:
                raise ValueError(f"{self.name}: outsize {want} cannot come from input {size} "
                                 f"(it must be {allowed.start} to {allowed.stop - 1}).")
            out.append(allowed.start if want is None else want)
        return (self.c_out, *out)

    def macs(self, in_shapes, out_shape):
        _, h, w = in_shapes[0]
        return ar.conv_macs(self.c_out, self.c_in, *self.ksize, h, w, self.groups)

    def describe(self):
        return "T " + super().describe()

    def __call__(self, x, *, use_batch_stats=False):
        return ops.deconv2d(x, self.params["W"], self.params.get("b"), stride=self.stride,
                            pad=self.pad, dilation=self.dilation, groups=self.groups,
                            outsize=self.outsize)

    _grad_op = staticmethod(ops.deconv2d_backward)
