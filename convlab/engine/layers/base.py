"""The layer base class, Chainer's initialisation, the kind registry and spec-argument checks.

A layer knows its own shape arithmetic (``output_shape(*in_shapes)`` on ``(C, H, W)`` or
``(F,)``), parameter count, multiply-adds and receptive-field window, so a summary needs no
arrays. Each kind declares its spec arguments in ``spec_args``:
``{"ksize": ("pair", REQUIRED), "stride": ("pair", 1), ...}``; :meth:`Layer.from_spec` checks
them and calls :meth:`Layer.from_args`, :meth:`Layer.to_spec` writes them back.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from convlab.engine.arithmetic import Window, pad_pairs, pair
from convlab.engine.backend import freeze
from convlab.engine.wording import shape_text

_CHUNK = 1 << 20  # elements per random stream: fixed, so results do not depend on thread count
REQUIRED = object()   # marks a spec argument without a default
KINDS: dict[str, type] = {}


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


def weights(init: bool, xp, seed, shape, fan_in):
    """LeCun-normal weights from ``seed`` (``init``), or a memory-free placeholder."""
    return freeze(xp.asarray(lecun_normal(seed, shape, fan_in))) if init else placeholder(shape)


def register_kind(kind: str, cls: type) -> type:
    """Make ``kind`` buildable by ``Network.from_spec``; ``cls`` is a :class:`Layer` subclass."""
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"a layer kind is a non-empty string, got {kind!r}")
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"kind {kind!r} must be registered with a Layer subclass, got {cls!r}")
    KINDS[kind] = cls
    return cls


# Budgets of spec arguments, checked before anything is built from them. A count of channels
# (conv out/in channels, BN size, groups, fc outputs) is at most MAX_CHANNELS; a length on the
# image (kernel, stride, padding, dilation, outsize, an axis, LRN's n) at most MAX_EXTENT; an fc
# layer's inputs at most MAX_FEATURES; a shape argument (reshape, a stored constant) at most
# MAX_RANK sizes and MAX_FEATURES values in all.
MAX_CHANNELS = 1 << 17
MAX_EXTENT = 1 << 16
MAX_FEATURES = 1 << 31
MAX_RANK = 8
BUDGETS = {"out_channels": ("channels", MAX_CHANNELS), "in_channels": ("channels", MAX_CHANNELS),
           "size": ("channels", MAX_CHANNELS), "groups": ("channels", MAX_CHANNELS),
           "out_size": ("channels", MAX_CHANNELS), "in_size": ("inputs", MAX_FEATURES)}


def _budget(name) -> tuple[str, int]:
    return BUDGETS.get(name, ("sizes", MAX_EXTENT))


def _within(value: int, name, shown) -> int:
    """``value`` when it is within the budget of argument ``name``, else one sentence naming it."""
    what, high = _budget(name)
    if value > high:
        raise ValueError(f"{name} must be at most {high:,} (a spec's budget for {what}), "
                         f"got {shown!r}")
    return value


def _positive_int(v, name, low=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {v!r}")
    if v < low:
        raise ValueError(f"{name} must be at least {low}, got {v}")
    return _within(int(v), name, v)


def _pair_checked(v, name, low=1):
    h, w = pair(v, name)
    if min(h, w) < low:
        raise ValueError(f"{name} must be at least {low}, got {v!r}")
    _within(max(h, w), name, v)
    return h, w


def _pad_checked(v, name):
    try:
        pads = pad_pairs(v)
    except ValueError:
        raise ValueError(f"{name} must be an int, an [h, w] pair or [[top, bottom], [left, right]], "
                         f"got {v!r}") from None
    if min(min(p) for p in pads) < 0:
        raise ValueError(f"{name} must be at least 0, got {v!r}")
    _within(max(max(p) for p in pads), name, v)
    return pads


def _number(v, name):
    """A finite number: NaN and infinities are refused wherever a spec gives a number."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {v!r}")
    try:
        value = float(v)
    except OverflowError:   # an int of 400 digits
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    return value


def int_list(value, name):
    """A list of at most :data:`MAX_RANK` sizes, none negative, whose product is at most
    :data:`MAX_FEATURES` (``-1`` allowed nowhere: shapes here are resolved)."""
    if not isinstance(value, (list, tuple)) or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in value):
        raise ValueError(f"{name} must be a list of integers, got {value!r}")
    if any(v < 0 for v in value):
        raise ValueError(f"{name} must hold no negative sizes, got {list(value)!r}")
    if len(value) > MAX_RANK:
        raise ValueError(f"{name} may hold at most {MAX_RANK} sizes, got {len(value)}")
    if max(value, default=0) > MAX_FEATURES or math.prod(int(v) for v in value) > MAX_FEATURES:
        raise ValueError(f"{name} may describe at most {MAX_FEATURES:,} values, got "
                         f"{[int(v) for v in value]!r}")
    return [int(v) for v in value]


def _boolean(v, name):
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{name} must be true or false, got {v!r}")
    return bool(v)


CHECKS = {
    "int": _positive_int, "int0": lambda v, n: _positive_int(v, n, 0),
    "pair": _pair_checked, "pad": _pad_checked, "float": _number, "bool": _boolean,
    "axis": lambda v, n: _positive_int(v, n, 0),
}


def check_arg(kind: str, value, name: str):
    """Normalise one argument of type ``kind`` (``"int?"``: an int or None), or raise."""
    if kind.endswith("?"):
        return None if value is None else check_arg(kind[:-1], value, name)
    if kind.startswith("choice:"):
        choices = kind[7:].split("|")
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value
    return CHECKS[kind](value, name)


def jsonable(value):
    """Pairs back to an int when square, tuples to lists: the compact spec form."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, tuple) for v in value):
        (t, b), (l, r) = value
        if t == b and l == r:
            return jsonable((t, l))
        return [[t, b], [l, r]]
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return value[0]
    if isinstance(value, tuple):
        return list(value)
    return value


class Layer:
    """Base: a named layer without parameters; the identity on one input."""

    kind = "layer"
    spec_args: dict[str, tuple[str, object]] = {}
    parametrised = False            # draws one SeedSequence child in Network.from_spec
    min_inputs, max_inputs = 1, 1
    channels_only = False           # infers its arguments from channel counts only (conv, bn)
    geometry: tuple | None = None   # (kernel, stride, pad, dilation) for receptive fields
    learned: tuple[str, ...] = ()

    def __init__(self, name: str, *, inputs: list[str] | None = None):
        self.name = name
        self.inputs = None if inputs is None else list(inputs)
        self.params: dict[str, object] = {}

    def output_shape(self, *shapes: tuple[int, ...]) -> tuple[int, ...]:
        return shapes[0]

    def param_count(self) -> int:
        """Learned parameters (BatchNorm's running averages are not learned, so not counted)."""
        return sum(int(np.prod(self.params[k].shape)) for k in self.learned if k in self.params)

    def macs(self, in_shapes, out_shape: tuple[int, ...]) -> int:
        return 0

    def describe(self) -> str:
        return ""

    def window(self, in_shape: tuple[int, ...] | None = None) -> Window | None:
        """The sliding window for receptive fields; None for identity-like or non-spatial layers."""
        return None if self.geometry is None else Window.of(*self.geometry)

    def __call__(self, *xs, use_batch_stats: bool = False):
        return xs[0]

    # --- learning (Chainer's FunctionNode: forward keeps what backward needs) ---------------
    update_enabled = True   # False after disable_update(): no parameter gradients

    def disable_update(self) -> None:
        """Freeze this layer (Chainer's ``Link.disable_update``): its parameters get no
        gradients, so ``Gradients.params`` leaves them out and an optimizer keeps them."""
        self.update_enabled = False

    def enable_update(self) -> None:
        """Undo :meth:`disable_update`."""
        self.update_enabled = True

    def trained(self) -> tuple[str, ...]:
        """The learned parameters that get gradients: ``learned``, or none when frozen."""
        return tuple(k for k in self.learned if k in self.params) if self.update_enabled else ()

    def forward(self, inputs, *, mode: str = "test", rng=None):
        """``(output, cache)`` for ``mode`` ("test", "batch" or "train"; see ``convlab.engine.grad``):
        the output as ``__call__`` gives it (batch statistics unless "test") and whatever
        :meth:`backward` needs besides the inputs and output (None here)."""
        return self(*inputs, use_batch_stats=mode != "test"), None

    def backward(self, inputs, output, gy, cache, *, need_inputs=None):
        """``(input_grads, param_grads)``: the gradient of ``sum(gy * output)`` for each input (a
        list in input order; None where ``need_inputs`` says it is not needed) and for each of
        :meth:`trained`'s parameters (``{name: array}``). The base layer is the identity."""
        if type(self).__call__ is not Layer.__call__:
            raise ValueError(f"{self.name}: layer kind {self.kind!r} has no backward, so no "
                             "gradient can flow through it.")
        return [gy], {}

    def spec_values(self) -> dict:
        """This layer's spec arguments (normalised), by argument name."""
        return {arg: getattr(self, arg) for arg in self.spec_args}

    def to_spec(self) -> dict:
        spec = {"name": self.name, "kind": self.kind}
        spec.update({k: jsonable(v) for k, v in self.spec_values().items()})
        if self.inputs is not None:
            spec["inputs"] = list(self.inputs)
        return spec

    @classmethod
    def from_spec(cls, spec: dict, *, in_shapes, seed=None, xp=np, init=True) -> "Layer":
        """Check ``spec``'s arguments against ``spec_args`` and build; ``ValueError`` saying what
        is wrong (the caller adds the layer's index and name). ``in_shapes``: the input shapes
        at the network's input size (None where unknown), for arguments left to inference."""
        known = set(cls.spec_args) | {"name", "kind", "inputs"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"unknown argument{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(map(repr, unknown))} for kind {cls.kind!r}")
        args = {}
        for arg, (kind, default) in cls.spec_args.items():
            if arg not in spec:
                if default is REQUIRED:
                    raise ValueError(f"missing argument {arg!r}, which kind {cls.kind!r} needs")
                args[arg] = default
            else:
                args[arg] = check_arg(kind, spec[arg], arg)
        return cls.from_args(spec["name"], args, in_shapes=in_shapes, seed=seed, xp=xp, init=init)

    @classmethod
    def from_args(cls, name: str, args: dict, *, in_shapes, seed, xp, init) -> "Layer":
        return cls(name, **args)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.describe()})"


def need_spatial(layer: Layer, shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(f"{layer.name} needs a C x H x W input, got {shape_text(shape)}.")
    return shape


def inferred(layer_name: str, arg: str, in_shapes, pick) -> int:
    """An argument left to inference (Chainer's ``None``): ``pick(in_shape)``, or a sentence."""
    if not in_shapes or in_shapes[0] is None:
        raise ValueError(f"cannot infer {arg} because its input has no shape at the network's "
                         "input size; give it explicitly")
    return int(pick(in_shapes[0]))
