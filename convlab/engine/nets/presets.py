"""The built-in networks as specs (``Network.from_spec`` builds them; see SPEC_FORMAT).

- ``alexbn``: Chainer's ``examples/imagenet/alexbn.py``, AlexNet with BatchNormalization.
- ``alex``: Chainer v7's ``alex.py``: ReLU then LRN after conv1 and conv2.
- ``alex2g``: "AlexNet, 2 groups", the original two-GPU split (Krizhevsky et al., 2012): conv2,
  conv4 and conv5 see only half the channels (``groups=2``), so they hold half the weights.
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


PRESETS = {
    "alexbn": {"name": "alexbn", "input_shape": INPUT_SHAPE, "layers": _alexnet("bn")},
    "alex": {"name": "alex", "input_shape": INPUT_SHAPE, "layers": _alexnet("lrn")},
    "alex2g": {"name": "alex2g", "input_shape": INPUT_SHAPE, "layers": _alexnet("lrn", groups=2)},
}
TITLES = {"alexbn": "AlexBN (BatchNormalization)", "alex": "Alex (LRN)",
          "alex2g": "AlexNet, 2 groups"}


def preset(name: str) -> dict:
    """A fresh copy of a built-in spec (``"alexbn"``, ``"alex"``, ``"alex2g"``)."""
    key = name.strip().lower()
    if key not in PRESETS:
        raise ValueError(f"unknown network {name!r}; choose one of {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[key])
