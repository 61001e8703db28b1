"""Node patterns imported as one layer, so that the engine can follow them.

ShuffleNet's channel shuffle is three ONNX nodes, ``Reshape (N, g, C/g, H, W)``, ``Transpose
[0, 2, 1, 3, 4]`` and ``Reshape (N, C, H, W)``; as three layers its 5-D middle would stop the
receptive fields (they need C x H x W). It becomes one ``channel_shuffle`` layer named after
the last node, when the two middle values feed nothing else.
"""

from __future__ import annotations

from collections import Counter

from convlab.models.onnx_fold import reshape_target

SHUFFLE_OPS = ("Reshape", "Transpose", "Reshape")


def consumers_of(graph) -> Counter:
    """How many node inputs and graph outputs read each value."""
    counts = Counter(name for node in graph.node for name in node.input)
    counts.update(out.name for out in graph.output)
    return counts


def _target(imp, node):
    if imp.opset < 5:
        return imp.attrs(node).get("shape")
    found = imp.values.get(node.input[1]) if len(node.input) > 1 else None
    return None if found is None else found.const


def channel_shuffle(imp, nodes, i: int, consumers: Counter) -> int:
    """Emit one ``channel_shuffle`` layer for ``nodes[i:i + 3]`` and return 3, or return 0
    when they are not a channel shuffle."""
    first, middle, last = nodes[i:i + 3] if i + 3 <= len(nodes) else (None,) * 3
    if first is None or tuple(n.op_type for n in (first, middle, last)) != SHUFFLE_OPS:
        return 0
    if middle.input[0] != first.output[0] or last.input[0] != middle.output[0]:
        return 0
    if consumers[first.output[0]] != 1 or consumers[middle.output[0]] != 1:
        return 0
    x = imp.values.get(first.input[0])
    before, after = _target(imp, first), _target(imp, last)
    if x is None or x.const is not None or len(x.shape) != 3 or before is None or after is None:
        return 0
    c, h, w = x.shape
    try:
        split = reshape_target((1, c, h, w), before)
        back = reshape_target((1, split[2], split[1], h, w), after)
    except ValueError:
        return 0
    perm = [int(p) for p in imp.attrs(middle).get("perm", [])]
    if len(split) != 5 or split[3:] != (h, w) or perm != [0, 2, 1, 3, 4] or back != (1, c, h, w):
        return 0
    imp.emit(last, {"kind": "channel_shuffle", "groups": int(split[1])}, [x])
    return 3
