"""Top patches (Zeiler & Fergus, 2014, figure 2): the input patches that excite a unit most.

For a target ``(layer, channel, i, j)`` an image's value is that output and its patch the
receptive field of ``(i, j)``; for ``(layer, channel)`` (a whole map) each image contributes
its strongest position (the first in scan order on ties) and that position's field. Fields
come from :meth:`Network.receptive_field` (through a graph, the union over paths), clipped to
the pixels that can reach the position; a vector layer's unit sees the whole image.
"""

from __future__ import annotations

import numpy as np

from convlab.engine.attribution.core import AttributionError, as_batch, check_target
from convlab.engine.backend import to_numpy
from convlab.engine.grad.backprop import run_forward

BATCH = 16


def _values(net, images, checked, mode, should_stop):
    """``(values (N,), flat positions (N,))`` of the target in each image, in batches."""
    layer, channel, i, j = checked
    upto = net.layer_names.index(layer)
    chunk = 1 if mode != "test" else BATCH        # batch statistics must not mix images
    values, where = [], []
    for start in range(0, len(images), chunk):
        if should_stop is not None and should_stop():
            raise InterruptedError("top patches stopped")
        batch, _ = as_batch(np.stack([np.asarray(im) for im in images[start:start + chunk]]))
        result, _, _ = run_forward(net, batch, mode=mode, upto=upto)
        out = to_numpy(result[layer])[:, channel]                      # (n,) or (n, h, w)
        if out.ndim == 1 or i is not None:
            values.append(out if out.ndim == 1 else out[:, i, j])
            where.append(np.full(len(out), -1 if out.ndim == 1 else i * out.shape[2] + j))
        else:
            flat = out.reshape(len(out), -1)                           # (n, h*w)
            best = flat.argmax(axis=1)
            values.append(flat[np.arange(len(flat)), best])
            where.append(best)
    return np.concatenate(values), np.concatenate(where)


def top_patches(net, target, dataset, k: int = 9, *, mode: str = "test",
                should_stop=None) -> list:
    """``[(image_index, (top, left, bottom, right), value)]``, the ``k`` highest first (ties:
    the lower image index first). ``dataset``: network inputs, an ``(N, C, H, W)`` array or a
    sequence of ``(C, H, W)`` arrays of one size. The box is in input pixels, bottom/right
    exclusive, clipped to the input."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise AttributionError(f"k must be a whole number >= 1, got {k!r}.")
    if len(dataset) == 0:
        raise AttributionError("the dataset has no images.")
    in_shape = tuple(np.shape(dataset[0]))
    if len(in_shape) != 3:
        raise AttributionError(f"each image must be (C, H, W), got shape {in_shape}.")
    checked = check_target(net, target, in_shape)
    values, where = _values(net, dataset, checked, mode, should_stop)
    order = np.lexsort((np.arange(len(values)), -values.astype(np.float64)))[:k]
    maps = net.shapes(in_shape)[checked[0]]
    out = []
    for n in order:
        if where[n] < 0:
            box = (0, 0, in_shape[1], in_shape[2])
        else:
            i, j = divmod(int(where[n]), maps[2])
            c = net.receptive_field(checked[0], i, j, in_shape).clipped
            box = (c.top, c.left, c.bottom, c.right)
        out.append((int(n), box, float(values[n])))
    return out
