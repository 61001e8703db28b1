"""Gradient views for a network run (Qt-free): what ``convlab visualize`` and the Network pane's
"Why?" view and unit pictures share.

- :func:`explain_photo`: one method of :data:`METHODS` on the prepared photo, as a heat map
  ``(H, W)`` >= 0 over the input crop (gradient methods: ``max_c |g_c|``, Simonyan et al.'s
  saliency map; Grad-CAM: its map upsampled), for a class (default the top-1) or a unit.
- :func:`overlay` / :func:`colour_bar`: the heat over the crop through the one colour table.
- :func:`unit_pictures` / :func:`picture_grid`: feature visualisations of a layer's channels.
- :func:`dataset_inputs` / :func:`patch_grid`: a dataset as network inputs, top patches tiled.
- :func:`visualize_command`: the ``convlab visualize`` line a picture records.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import numpy as np

from convlab.engine import attribution as A
from convlab.engine.backend import to_numpy
from convlab.engine.grad.backprop import run_forward
from convlab.pipelines.images import IMAGENET_MEAN
from convlab.render import colour
from convlab.render.tiles import tile_rgb

METHODS = {"saliency": "saliency (gradient)", "smoothgrad": "SmoothGrad",
           "guided": "guided backpropagation", "deconvnet": "deconvnet (Zeiler & Fergus)",
           "gradcam": "Grad-CAM", "guided-gradcam": "guided Grad-CAM"}
COLORMAP = "inferno"
BAR = 14           # colour bar width in pixels, after a 4-pixel gap


@dataclass
class Explanation:
    """``heat`` ``(H, W)`` float32 >= 0 over the input crop; what it explains, in words."""

    heat: np.ndarray
    method: str
    target: tuple
    what: str
    cam_layer: str | None = None


def engine_mode(settings) -> str:
    """The backward's BN mode for the pane's setting: "batch" statistics or "test" (stored)."""
    return "batch" if getattr(settings, "bn_mode", "stored") == "batch" else "test"


def parse_unit(text: str) -> tuple[str, int]:
    """``"conv5:12"`` -> ``("conv5", 12)``; ValueError with one sentence otherwise."""
    layer, sep, channel = str(text).rpartition(":")
    if not sep or not layer or not channel.strip().isdigit():
        raise ValueError(f"a unit is LAYER:CHANNEL, as in conv5:12; got {text!r}.")
    return layer, int(channel)


def top_class(net, x, mode: str = "test") -> int:
    """The class with the largest score (the score layer's argmax)."""
    score = A.score_layer(net)
    result = run_forward(net, x, mode=mode, upto=net.layer_names.index(score))[0]
    return int(np.argmax(to_numpy(result[score])[0]))


def explain_photo(net, x, method: str, *, class_index=None, unit=None, cam_layer=None,
                  mode: str = "test", seed: int = 0, should_stop=None) -> Explanation:
    """``method`` on the network input ``x`` ``(1, C, H, W)``: for ``unit`` (``(layer,
    channel)``) or the class ``class_index`` of the score layer (default: the top-1)."""
    if method not in METHODS:
        raise ValueError(f"the method must be one of {', '.join(METHODS)}; got {method!r}.")
    score = A.score_layer(net)
    if unit is None:
        class_index = top_class(net, x, mode) if class_index is None else class_index
        target, what = (score, int(class_index)), f"class {class_index}"
    else:
        target, what = tuple(unit), f"{unit[0]} channel {unit[1]}"
    if method in ("gradcam", "guided-gradcam"):
        if len(net.shapes(x.shape[1:])[target[0]]) != 1:
            raise A.AttributionError(f"Grad-CAM explains a score, and {target[0]} is not a "
                                     "vector layer; choose a class or an fc unit.")
        cam_layer = cam_layer or A.default_cam_layer(net, x.shape[1:])
        fn = A.grad_cam if method == "gradcam" else A.guided_grad_cam
        out = fn(net, x, cam_layer, target[1], output=target[0], mode=mode)
        heat = (A.upsample(out, *x.shape[2:]) if method == "gradcam"
                else np.abs(out[0]).max(axis=0))
        return Explanation(heat.astype(np.float32), method, target, what, cam_layer)
    if method == "smoothgrad":
        g = A.smoothgrad(net, x, target, seed=seed, mode=mode, should_stop=should_stop)
    else:
        fn = {"saliency": A.saliency, "guided": A.guided_backprop, "deconvnet": A.deconvnet}
        g = fn[method](net, x, target, mode=mode)
    return Explanation(np.abs(g[0]).max(axis=0).astype(np.float32), method, target, what)


def colour_bar(height: int, colormap: str = COLORMAP) -> np.ndarray:
    """``(height, BAR, 3)`` uint8: the table from its top colour (largest) to the bottom."""
    levels = np.linspace(1.0, 0.0, height, dtype=np.float32)[:, None].repeat(BAR, axis=1)
    return colour.apply_colormap(levels, colormap)


def display_top(found: Explanation) -> float:
    """Where the colour bar ends: Grad-CAM's largest value; for pixel gradients, whose few
    largest values would leave the rest black, their 99.5th percentile (larger ones clip)."""
    heat = found.heat
    top = float(heat.max()) if found.method == "gradcam" else float(np.percentile(heat, 99.5))
    return top if top > 0 else float(heat.max())


def overlay(crop: np.ndarray, heat: np.ndarray, colormap: str = COLORMAP, *,
            top: float | None = None, bar: bool = True) -> np.ndarray:
    """The heat over ``[0, top]`` (default its largest value) coloured and blended over the
    crop ``(H, W, 3)`` in [0, 1] (40 % photo, 60 % colour); with a colour bar at the right
    (0 at the bottom, ``top`` at the top)."""
    top = float(heat.max()) if top is None else float(top)
    rgb = colour.apply_colormap(heat / top if top > 0 else heat, colormap).astype(np.float32)
    base = np.clip(crop, 0, 1).astype(np.float32) * 255.0
    if base.shape[:2] != heat.shape:
        base = np.full(heat.shape + (3,), 128.0, np.float32)
    blended = np.rint(0.4 * base + 0.6 * rgb).astype(np.uint8)
    if not bar:
        return blended
    gap = np.full((heat.shape[0], 4, 3), 255, np.uint8)
    return np.concatenate([blended, gap, colour_bar(heat.shape[0], colormap)], axis=1)


def preprocessing(settings) -> tuple[tuple, tuple]:
    """``(mean, std)`` per RGB channel that turn a picture in [0, 1] into this network's
    input (Chainer's crop: ImageNet's means / 255, std 1; an ONNX model: its preset's)."""
    if getattr(settings, "net", "") == "onnx":
        from convlab.models.preprocess import CHAINER_MEAN, IMAGENET_STD
        from convlab.models.preprocess import IMAGENET_MEAN as TORCH_MEAN

        return {"imagenet": (TORCH_MEAN, IMAGENET_STD),
                "chainer": (tuple(m / 255 for m in CHAINER_MEAN), (1.0,) * 3),
                "unit": ((0.0,) * 3, (1.0,) * 3)}[settings.preprocess]
    return tuple(m / 255 for m in IMAGENET_MEAN), (1.0, 1.0, 1.0)


def unit_pictures(net, layer: str, channels, *, size=None, steps: int = 128, seed: int = 0,
                  mean=(0, 0, 0), std=(1, 1, 1), mode: str = "test", on_picture=None,
                  should_stop=None, on_step=None) -> list:
    """Feature visualisations ``(3, H, W)`` of ``layer``'s ``channels``, one after the other
    (``on_picture(index, picture)`` as each is done; ``should_stop()`` ends the grid early)."""
    pictures = []
    for index, channel in enumerate(channels):
        if should_stop is not None and should_stop():
            break
        step = None if on_step is None else (lambda d, n, p, i=index: on_step(i, d, n))
        pic = A.feature_visualization(net, (layer, int(channel)), size=size, steps=steps,
                                      seed=seed, mean=mean, std=std, mode=mode, on_step=step,
                                      should_stop=should_stop)
        pictures.append(pic)
        if on_picture is not None:
            on_picture(index, pic)
    return pictures


def picture_grid(pictures, *, scale: int = 1, sep: int = 2) -> np.ndarray:
    """``(3, H, W)`` pictures in [0, 1] tiled into one uint8 RGB image."""
    tiles = np.stack([np.rint(np.clip(p, 0, 1).transpose(1, 2, 0) * 255) for p in pictures])
    return tile_rgb(tiles.astype(np.uint8), scale=scale, sep=sep)[0]


def dataset_inputs(source, in_shape, mean, std, *, limit: int = 500):
    """``(inputs (N, C, H, W) float32, pictures (N, H, W, 3) uint8)``: the first ``limit``
    images of the dataset's test split (its train split if it has none), at the network's
    input size; DatasetError (one sentence) for a bad source."""
    from convlab.pipelines.datasets import open_dataset

    data = open_dataset(source, input_shape=tuple(in_shape))
    split = data.test if len(data.test) else data.train
    images = split.images[:limit]                                          # (N, H, W, C)
    x = images.astype(np.float32).transpose(0, 3, 1, 2) / 255.0            # (N, C, H, W)
    m, s = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    if in_shape[0] == 1:
        m, s = m.mean(keepdims=True), s.mean(keepdims=True)
    inputs = ((x - m[:, None, None]) / s[:, None, None]).astype(np.float32)
    pictures = images if images.shape[3] == 3 else np.repeat(images, 3, axis=3)
    return inputs, pictures


def patch_grid(pictures, patches, *, scale: int = 1) -> np.ndarray:
    """The top patches cut from ``pictures`` ``(N, H, W, 3)``, each on a tile of the largest
    patch's size (grey beyond a patch clipped at the border), enlarged ``scale`` times."""
    h = max(b - t for _, (t, l, b, r), _ in patches)
    w = max(r - l for _, (t, l, b, r), _ in patches)
    tiles = np.full((len(patches), h, w, 3), colour.NAN_COLOR, np.uint8)
    for k, (n, (t, l, b, r), _) in enumerate(patches):
        tiles[k, :b - t, :r - l] = pictures[n, t:b, l:r]
    return tile_rgb(tiles, scale=scale, sep=1)[0]


def visualize_command(export_command: str, image_path, extra: list[str]) -> str:
    """``convlab visualize`` with the network flags of a record's ``convlab export`` command
    (``records.network_settings_record``: ``convlab export WHERE --out DIR FLAGS``)."""
    flags = export_command.split(" --out DIR", 1)[1].strip()
    where = [shlex.quote(str(image_path))] if image_path else []
    return " ".join(["convlab visualize", *where, *([flags] if flags else []), *extra])
