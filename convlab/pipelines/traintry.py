"""Try a trained network on one picture (Qt-free): the top-5 classes and every layer's maps.

``try_image(run, image)`` takes a drawing or a photo (``(H, W)`` or ``(H, W, C)``, uint8 or
float in [0, 1]), brings it to the network's input as the data was brought (Pillow bilinear,
photos cropped to the middle, grey <-> RGB by BT.601 luma: ``datasets.convert.fit_image``), runs
the network with the training's input normalisation and returns :class:`Tried`: the top five
``(class name, probability)`` and one RGB picture of every layer's maps, coloured by the one
renderer (``render.tiles.picture``), stacked top to bottom in layer order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlab.engine.backend import to_numpy
from convlab.pipelines.datasets.convert import fit_image, to_pil
from convlab.pipelines.trainrun import log_softmax
from convlab.render import tiles

GAP = 6           # pixels between two layers' pictures
MAX_WIDTH = 420   # each layer's picture is enlarged up to this width


@dataclass
class Tried:
    top5: list[tuple[str, float]]
    picture: np.ndarray          # (h, w, 3) uint8: every layer's maps, top to bottom
    layers: list[str]            # the layers in the picture, in order


def as_uint8(image: np.ndarray) -> np.ndarray:
    """``image`` as uint8 ``(H, W, C)``."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3) or min(image.shape[:2]) < 1:
        raise ValueError(f"a picture to try is (H, W), (H, W, 1) or (H, W, 3), not {image.shape}.")
    if image.dtype != np.uint8:
        image = (np.clip(image.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    return image


def layer_picture(maps: np.ndarray) -> np.ndarray:
    """One layer's output ``(C, h, w)`` or ``(F,)`` as an RGB picture at most MAX_WIDTH wide."""
    maps = np.asarray(maps, dtype=np.float32)
    small = tiles.picture(maps, "viridis", "map")
    scale = max(1, min(8, MAX_WIDTH // max(small.shape[1], 1)))
    return tiles.enlarge(small, scale) if scale > 1 else small


def try_image(run, image: np.ndarray) -> Tried:
    """See the module docstring."""
    c, h, w = run.net.input_shape
    picture = as_uint8(image)
    square = picture.shape[0] == picture.shape[1]
    fitted = fit_image(to_pil(picture), c, h, w, keep_aspect=not square)  # (h, w, c) uint8
    outputs = run.net.forward(run.inputs(fitted[None]))
    logits = to_numpy(outputs[run.output]).reshape(1, -1)
    probs = np.exp(log_softmax(logits)[0])
    order = np.argsort(-probs, kind="stable")[:5]
    classes = run.dataset.classes
    top5 = [(classes[i] if i < len(classes) else str(i), float(probs[i])) for i in order]
    names = list(outputs)
    pictures = [layer_picture(to_numpy(outputs[n])[0]) for n in names]
    width = max(p.shape[1] for p in pictures)
    parts = []
    for p in pictures:
        padded = np.full((p.shape[0] + GAP, width, 3), 32, np.uint8)  # dark gap below each
        padded[:p.shape[0], :p.shape[1]] = p
        parts.append(padded)
    return Tried(top5, np.concatenate(parts, axis=0), names)
