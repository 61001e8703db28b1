"""Layers (Chainer's links and functions) and the registry of spec kinds.

``register_kind(kind, cls)`` makes a new kind buildable by ``Network.from_spec``; the built-in
kinds are registered below.
"""

from convlab.engine.layers.base import (KINDS, REQUIRED, Layer, lecun_normal, placeholder,
                                        register_kind)
from convlab.engine.layers.conv import Conv2D, Deconv2D
from convlab.engine.layers.graph import Add, Concat, Flatten
from convlab.engine.layers.simple import LRN, BatchNorm, Dropout, Linear, MaxPool, Pool, ReLU

for _cls in (Conv2D, Deconv2D, BatchNorm, ReLU, LRN, Pool, Linear, Dropout, Add, Concat, Flatten):
    register_kind(_cls.kind, _cls)

__all__ = ["KINDS", "REQUIRED", "Layer", "lecun_normal", "placeholder", "register_kind",
           "Conv2D", "Deconv2D", "Add", "Concat", "Flatten", "LRN", "BatchNorm", "Dropout",
           "Linear", "MaxPool", "Pool", "ReLU"]

# The kinds that imported graphs need (leaky_relu, clip, sigmoid, softmax, reshape, ...) register
# themselves on import, so a JSON spec that uses them loads without convlab.models.
import convlab.engine.layers.graph_kinds  # noqa: E402,F401
