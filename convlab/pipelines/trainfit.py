"""Does a network fit a dataset? Which layer does not, and the fix (Qt-free).

A network fits a dataset when its input is the images' ``(C, H, W)`` and its last layer gives
one score per class. Where it does not, :func:`fit_problems` says which layer and why, one
sentence each, and :func:`fitted` makes the two fixes the Train pane offers: the data is
resized (and converted grey <-> RGB) to the network's input by
:func:`convlab.pipelines.datasets.open_dataset` with ``input_shape``, and the last layer's
output is set to the class count (a new spec; that layer starts again from random weights).

:func:`preset_for` gives the preset that fits a dataset as it is: ``"lenet"`` (28 x 28 grey)
or the small colour net (32 x 32 RGB) of ``convlab.engine.nets.presets`` where they exist,
else the specs below (same idea: LeNet-5's two 5 x 5 convolutions with max pooling, then two
fully connected layers; LeCun et al. 1998, with ReLU in place of tanh as in Chainer's MNIST
example).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from convlab.engine.nets import Network
from convlab.engine.nets import presets as specs


def _small_net(name: str, channels: int, side: int, widths=(16, 32), hidden: int = 128) -> dict:
    """conv 5x5 (pad 2) -> ReLU -> max pool 2 -> conv 5x5 -> ReLU -> max pool 2 -> fc -> ReLU -> fc."""
    c1, c2 = widths
    layers = [
        {"name": "conv1", "kind": "conv", "in_channels": channels, "out_channels": c1,
         "ksize": 5, "pad": 2},
        {"name": "relu1", "kind": "relu"},
        {"name": "pool1", "kind": "pool", "mode": "max", "ksize": 2, "stride": 2},
        {"name": "conv2", "kind": "conv", "in_channels": c1, "out_channels": c2, "ksize": 5},
        {"name": "relu2", "kind": "relu"},
        {"name": "pool2", "kind": "pool", "mode": "max", "ksize": 2, "stride": 2},
        {"name": "fc3", "kind": "fc", "out_size": hidden},
        {"name": "relu3", "kind": "relu"},
        {"name": "fc4", "kind": "fc", "out_size": 10},
    ]
    return {"name": name, "input_shape": [channels, side, side], "layers": layers}


FALLBACK = {"lenet": _small_net("lenet", 1, 28), "colournet": _small_net("colournet", 3, 32)}
COLOUR_NAMES = ("cifar-small",)


@dataclass(frozen=True)
class FitProblem:
    """One way a network does not fit the data: ``layer`` (its name, or "input"), a sentence,
    and which fix applies: ``"resize"`` (the data to the network's input) or ``"classes"``."""

    layer: str
    text: str
    fix: str


def _preset(names) -> dict | None:
    for name in names:
        try:
            return specs.preset(name)
        except (ValueError, KeyError):
            continue
    return None


def preset_for(input_shape, n_classes: int) -> dict:
    """The preset spec for images of ``input_shape`` ``(C, H, W)``: LeNet for grey, the small
    colour net for RGB; its last layer set to ``n_classes`` outputs."""
    colour = input_shape[0] == 3
    spec = _preset(COLOUR_NAMES if colour else ("lenet",))
    spec = copy.deepcopy(spec or FALLBACK["colournet" if colour else "lenet"])
    return with_classes(spec, n_classes)


def output_layer(spec: dict) -> dict:
    """The last layer with learned outputs (an ``fc`` or a ``conv``): where the classes come out."""
    for layer in reversed(spec["layers"]):
        if layer.get("kind") in ("fc", "conv"):
            return layer
    raise ValueError("the network has no fully connected or convolution layer to give class scores.")


def with_classes(spec: dict, n_classes: int) -> dict:
    """A copy of ``spec`` whose output layer gives ``n_classes`` scores."""
    spec = copy.deepcopy(spec)
    layer = output_layer(spec)
    layer["out_size" if layer["kind"] == "fc" else "out_channels"] = int(n_classes)
    return spec


def fit_problems(spec: dict, data_shape, n_classes: int) -> list[FitProblem]:
    """Why ``spec`` cannot train on images of ``data_shape`` with ``n_classes`` classes ([] if it can)."""
    net = Network.from_spec(spec, init=False)
    problems = []
    want = tuple(net.input_shape)
    data_shape = tuple(int(v) for v in data_shape)
    first = net.layers[0].name if net.layers else "input"
    if want != data_shape:
        what = []
        if want[0] != data_shape[0]:
            what.append(f"{first} reads {want[0]} channel{'s' * (want[0] != 1)} but the images "
                        f"have {data_shape[0]}")
        if want[1:] != data_shape[1:]:
            what.append(f"the network takes {want[1]}x{want[2]} pixels but the images are "
                        f"{data_shape[1]}x{data_shape[2]}")
        problems.append(FitProblem(first, "; ".join(what) + ".", "resize"))
    rows = net.summary(want)
    failing = next((r for r in rows if r.error), None)
    if failing is not None:
        problems.append(FitProblem(failing.name, failing.error, "none"))
        return problems
    last = rows[-1]
    outputs = 1
    for v in last.output_shape or ():
        outputs *= int(v)
    if outputs != n_classes:
        problems.append(FitProblem(
            last.name, f"{last.name} gives {outputs} scores but the data has {n_classes} "
                       f"classes.", "classes"))
    return problems


def fitted(spec: dict, problems: list[FitProblem], n_classes: int) -> tuple[dict, tuple | None]:
    """``(spec, input_shape)`` after the fixes: the output set to ``n_classes`` where that was a
    problem; ``input_shape`` is the network's input, to resize the data to (None: as it is)."""
    if any(p.fix == "none" for p in problems):
        raise ValueError(next(p.text for p in problems if p.fix == "none"))
    if any(p.fix == "classes" for p in problems):
        spec = with_classes(spec, n_classes)
    resize = any(p.fix == "resize" for p in problems)
    return spec, (tuple(Network.from_spec(spec, init=False).input_shape) if resize else None)


def fix_text(problems: list[FitProblem]) -> str:
    """The fixes as one sentence ("" when none applies)."""
    parts = []
    if any(p.fix == "resize" for p in problems):
        parts.append("resize the images to the network's input")
    for p in problems:
        if p.fix == "classes":
            parts.append(f"set {p.layer}'s output to the class count (it starts again from random)")
    return ("Fix: " + " and ".join(parts) + ".") if parts else ""
