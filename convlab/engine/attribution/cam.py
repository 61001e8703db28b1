"""Grad-CAM and guided Grad-CAM (Selvaraju et al., "Grad-CAM: visual explanations from deep
networks via gradient-based localization", ICCV 2017).

For a class score ``y^c`` (the output layer's value, before any softmax) and a layer's maps
``A`` ``(C, h, w)``::

    alpha_c = (1 / hw) sum_{i,j} d y^c / d A_c[i, j]          (eq. 1)
    cam     = ReLU(sum_c alpha_c A_c)                         (eq. 2), at the layer's h x w

Guided Grad-CAM multiplies guided backpropagation by the cam upsampled (bilinearly) to the
input. One forward up to the output and one backward from it down to the layer (frozen
weights: no parameter gradient, nothing below the layer).
"""

from __future__ import annotations

import numpy as np

from convlab.engine.attribution.core import (AttributionError, as_batch, output_shapes,
                                             target_seed, walk)
from convlab.engine.attribution.gradients import guided_backprop
from convlab.engine.backend import to_numpy


def score_layer(net) -> str:
    """The layer whose values are class scores: the last one, or its input if it is a softmax."""
    last = net.layers[-1]
    if last.kind == "softmax" and len(last.inputs) == 1 and last.inputs[0] != "input":
        return last.inputs[0]
    return last.name


def default_cam_layer(net, in_shape=None) -> str:
    """The rectified maps of the last convolution (Selvaraju et al.'s choice): the convolution,
    followed through a BN and a ReLU that read it alone. (A BN with the image's own statistics
    removes each map's mean, so right after it Grad-CAM's alpha would be 0.) A sentence if the
    network has no convolution with spatial maps."""
    shapes = output_shapes(net, in_shape or net.input_shape, score_layer(net))
    convs = [layer for layer in net.layers if layer.kind == "conv" and len(shapes[layer.name]) == 3]
    if not convs:
        raise AttributionError(f"{net.name} has no convolution with spatial maps for Grad-CAM.")
    name = convs[-1].name
    for kind in ("bn", "relu"):
        readers = [layer for layer in net.layers if name in layer.inputs]
        if len(readers) == 1 and readers[0].kind == kind:
            name = readers[0].name
        elif kind == "bn":
            continue
    return name


def _checked_class(net, shapes, output, class_index) -> str:
    output = output or score_layer(net)
    if output not in shapes:
        raise AttributionError(f"{output!r} is not a layer of {net.name}.")
    classes = int(np.prod(shapes[output]))
    if len(shapes[output]) != 1:
        raise AttributionError(f"{output}'s output {shapes[output]} is not a vector of class "
                               "scores.")
    if not (isinstance(class_index, (int, np.integer)) and 0 <= class_index < classes):
        raise AttributionError(f"{output} has classes 0 to {classes - 1}, not {class_index!r}.")
    return output


def grad_cam(net, x, layer: str | None, class_index: int, *, output: str | None = None,
             mode: str = "test") -> np.ndarray:
    """``ReLU(sum_c alpha_c A_c)`` ``(h, w)`` float32 for one image ``x`` (``(C, H, W)`` or
    ``(1, C, H, W)``), ``A`` the maps of ``layer`` (None: :func:`default_cam_layer`) and
    ``alpha_c`` the spatial mean of ``d score / d A_c``; ``score`` is ``output``'s (default
    :func:`score_layer`) value ``class_index``."""
    batch, _ = as_batch(x)
    if batch.shape[0] != 1:
        raise AttributionError(f"Grad-CAM explains one image, got a batch of {batch.shape[0]}.")
    shapes = output_shapes(net, batch.shape[1:], output or score_layer(net))
    layer = layer or default_cam_layer(net, batch.shape[1:])
    if layer not in shapes:
        raise AttributionError(f"{layer!r} is not a layer of {net.name}.")
    if len(shapes[layer]) != 3:
        raise AttributionError(f"{layer}'s output {shapes[layer]} has no maps for Grad-CAM.")
    output = _checked_class(net, shapes, output, class_index)
    if net.layer_names.index(layer) >= net.layer_names.index(output):
        raise AttributionError(f"{layer} does not lie before {output}, so the score does not "
                               "depend on it.")
    grads = walk(net, batch, lambda r: {output: target_seed(r[output].shape,
                                                            (output, class_index, None, None))},
                 upto=output, mode=mode, wanted=(layer,), input_grad=False)
    maps = to_numpy(grads.forward[layer][0])                          # (C, h, w)
    g = grads.outputs.get(layer)
    if g is None:                                                      # no path to the score
        return np.zeros(maps.shape[1:], dtype=np.float32)
    alpha = to_numpy(g[0]).mean(axis=(1, 2))                           # (C,)
    cam = np.tensordot(alpha, maps, axes=1)                            # (h, w)
    return np.maximum(cam, 0).astype(np.float32)


def upsample(cam: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of ``(h, w)`` to ``(height, width)`` with half-pixel centres (PyTorch's
    ``F.interpolate(mode="bilinear", align_corners=False)``, OpenCV's ``resize``)."""
    h, w = cam.shape

    def axis(n_in, n_out):
        pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(pos).astype(np.int64)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, (pos - low).astype(np.float32)

    r0, r1, fr = axis(h, height)
    c0, c1, fc = axis(w, width)
    rows = cam[r0] * (1 - fr)[:, None] + cam[r1] * fr[:, None]          # (height, w)
    return (rows[:, c0] * (1 - fc) + rows[:, c1] * fc).astype(np.float32)


def guided_grad_cam(net, x, layer: str | None, class_index: int, *, output: str | None = None,
                    mode: str = "test") -> np.ndarray:
    """Selvaraju et al.'s guided Grad-CAM: guided backpropagation of the class score times the
    Grad-CAM map upsampled to the input; shaped like ``x``."""
    batch, added = as_batch(x)
    out = output or score_layer(net)
    cam = grad_cam(net, batch, layer, class_index, output=out, mode=mode)
    guided = guided_backprop(net, batch, (out, class_index), mode=mode)
    result = guided * upsample(cam, *batch.shape[2:])[None, None]
    return result[0] if added else result
