"""The built-in networks as specs (``Network.from_spec`` builds them; see SPEC_FORMAT).

- ``alexbn``: Chainer's ``examples/imagenet/alexbn.py``, AlexNet with BatchNormalization.
- ``alex``: Chainer v7's ``alex.py``: ReLU then LRN after conv1 and conv2.
- ``alex2g``: "AlexNet, 2 groups", the original two-GPU split (Krizhevsky et al., 2012): conv2,
  conv4 and conv5 see only half the channels (``groups=2``), so they hold half the weights.
- ``lenet``: LeNet for 28 x 28 grey images as Caffe's ``examples/mnist/lenet.prototxt`` (after
  LeCun et al. 1998): conv 20 5x5, max pool 2, conv 50 5x5, max pool 2, fc 500, ReLU, fc 10.
  Chainer's pooling (``cover_all``) gives 24 -> 12 and 8 -> 4, as floor pooling does here.
- ``cifar-small``: for 32 x 32 colour images: three blocks of conv 3x3 (pad 1), BN, ReLU and
  max pool 2 (32, 64 and 128 filters: 32 -> 16 -> 8 -> 4), then fc 2048 -> 10. Its 3x3 layers of
  16 channels and more take the Winograd path.

``lenet`` and ``cifar-small`` end in 10 classes (MNIST's, CIFAR-10's); ``convlab train`` sizes
the last layer to the dataset's classes (:func:`with_classes`).
"""

from __future__ import annotations

import copy

INPUT_SHAPE = [3, 227, 227]


def _alexnet(norm: str, groups: int = 1) -> list[dict]:
    """AlexNet's five convolutions with BN (``norm="bn"``) or ReLU-then-LRN (``"lrn"``)."""
    layers: list[dict] = []
    for i, (c_in, c_out, k, s, p) in enumerate([(3, 96, 11, 4, 0), (96, 256, 5, 1, 2)], start=1):
        conv = {"name": f"conv{i}", "kind": "conv", "in_channels": c_in, "out_channels": c_out,
                "ksize": k, "stride": s, "pad": p}
        if i == 2 and groups > 1:
            conv["groups"] = groups
        layers.append(conv)
        if norm == "bn":
            layers += [{"name": f"bn{i}", "kind": "bn", "size": c_out},
                       {"name": f"relu{i}", "kind": "relu"}]
        else:
            layers += [{"name": f"relu{i}", "kind": "relu"}, {"name": f"norm{i}", "kind": "lrn"}]
        layers.append({"name": f"pool{i}", "kind": "pool", "mode": "max", "ksize": 3, "stride": 2})
    for i, (c_in, c_out) in enumerate([(256, 384), (384, 384), (384, 256)], start=3):
        conv = {"name": f"conv{i}", "kind": "conv", "in_channels": c_in, "out_channels": c_out,
                "ksize": 3, "pad": 1}
        if i > 3 and groups > 1:
            conv["groups"] = groups
        layers += [conv, {"name": f"relu{i}", "kind": "relu"}]
    layers.append({"name": "pool5", "kind": "pool", "mode": "max", "ksize": 3, "stride": 2})
    for i, (n_in, n_out) in enumerate([(9216, 4096), (4096, 4096)], start=6):
        layers += [{"name": f"fc{i}", "kind": "fc", "in_size": n_in, "out_size": n_out},
                   {"name": f"relu{i}", "kind": "relu"}, {"name": f"drop{i}", "kind": "dropout"}]
    layers.append({"name": "fc8", "kind": "fc", "in_size": 4096, "out_size": 1000})
    return layers


def _lenet() -> list[dict]:
    return [
        {"name": "conv1", "kind": "conv", "in_channels": 1, "out_channels": 20, "ksize": 5},
        {"name": "pool1", "kind": "pool", "mode": "max", "ksize": 2, "stride": 2},
        {"name": "conv2", "kind": "conv", "in_channels": 20, "out_channels": 50, "ksize": 5},
        {"name": "pool2", "kind": "pool", "mode": "max", "ksize": 2, "stride": 2},
        {"name": "fc3", "kind": "fc", "in_size": 800, "out_size": 500},
        {"name": "relu3", "kind": "relu"},
        {"name": "fc4", "kind": "fc", "in_size": 500, "out_size": 10},
    ]


def _cifar_small() -> list[dict]:
    layers: list[dict] = []
    for i, (c_in, c_out) in enumerate([(3, 32), (32, 64), (64, 128)], start=1):
        layers += [{"name": f"conv{i}", "kind": "conv", "in_channels": c_in,
                    "out_channels": c_out, "ksize": 3, "pad": 1},
                   {"name": f"bn{i}", "kind": "bn", "size": c_out},
                   {"name": f"relu{i}", "kind": "relu"},
                   {"name": f"pool{i}", "kind": "pool", "mode": "max", "ksize": 2, "stride": 2}]
    layers.append({"name": "fc4", "kind": "fc", "in_size": 128 * 4 * 4, "out_size": 10})
    return layers


PRESETS = {
    "alexbn": {"name": "alexbn", "input_shape": INPUT_SHAPE, "layers": _alexnet("bn")},
    "alex": {"name": "alex", "input_shape": INPUT_SHAPE, "layers": _alexnet("lrn")},
    "alex2g": {"name": "alex2g", "input_shape": INPUT_SHAPE, "layers": _alexnet("lrn", groups=2)},
    "lenet": {"name": "lenet", "input_shape": [1, 28, 28], "layers": _lenet()},
    "cifar-small": {"name": "cifar-small", "input_shape": [3, 32, 32], "layers": _cifar_small()},
}
TITLES = {"alexbn": "AlexBN (BatchNormalization)", "alex": "Alex (LRN)",
          "alex2g": "AlexNet, 2 groups", "lenet": "LeNet (28x28 grey)",
          "cifar-small": "Small CIFAR net (32x32 colour)"}


def preset(name: str) -> dict:
    """A fresh copy of a built-in spec (``"alexbn"``, ``"alex"``, ``"alex2g"``, ``"lenet"``,
    ``"cifar-small"``)."""
    key = name.strip().lower()
    if key not in PRESETS:
        raise ValueError(f"unknown network {name!r}; choose one of {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[key])


def input_size(name: str) -> int:
    """A preset's own square input size in pixels (227 for AlexNet, 28 for LeNet)."""
    return int(preset(name)["input_shape"][1])


def with_classes(spec: dict, classes: int) -> dict:
    """A copy of ``spec`` whose last layer, a fully connected one, gives ``classes`` outputs
    (a new head: its weights are drawn afresh when built). ValueError when the last layer is
    not ``fc``."""
    out = copy.deepcopy(spec)
    last = out["layers"][-1]
    if last.get("kind") != "fc":
        raise ValueError(f"the last layer {last.get('name')!r} is {last.get('kind')!r}, not a "
                         f"fully connected layer that could give {classes} classes")
    last["out_size"] = int(classes)
    return out
