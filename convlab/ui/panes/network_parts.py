"""Pieces of the Network pane that hold no state: pictures built in the worker, and sentences."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap

from convlab.engine.backend import to_numpy
from convlab.engine.wording import count_noun
from convlab.pipelines.network import NetworkResult, NetworkSettings
from convlab.render.tiles import build_montage, vector_grid

MODELS = {"AlexBN (BatchNormalization)": "alexbn", "Alex (LRN)": "alex",
          "AlexNet, 2 groups": "alex2g", "LeNet (28x28 grey)": "lenet",
          "Small CIFAR net (32x32 colour)": "cifar-small", "Empty stack": "empty", "Your network (edited)": "custom",
          "ONNX model": "onnx"}
BN_MODES = {"batch statistics": "batch", "stored averages": "stored"}
MODEL_CAPTIONS = ("centre crop at the model's input size", "the crop, padding hatched",
                  "the model's input, stretched to show")
PREP_CAPTIONS = ("shorter side 256, centre crop", "the crop, padding hatched", "minus ImageNet mean, / 255 (0 = grey)")


PER_CHANNEL = ("bn", "relu", "pool", "lrn", "dropout")  # map i still belongs to filter i


def layer_kernels(net, name: str, count: int):
    """The ``(F, C, k, k)`` weights behind ``name``'s ``count`` maps, as the explorer shows them
    in the one-map window: the convolution itself, or the one that per-channel layers (BN,
    ReLU, pooling) follow, when it reads a photo (C = 1 or 3); else None."""
    layers = list(getattr(net, "layers", ()))
    index = next((i for i, layer in enumerate(layers) if layer.name == name), None)
    while index is not None and index >= 0 and layers[index].kind in PER_CHANNEL:
        index -= 1
    if index is None or index < 0 or layers[index].kind != "conv":
        return None
    weights = layers[index].params.get("W")
    weights = to_numpy(weights) if weights is not None else np.zeros(0)
    if weights.ndim != 4 or len(weights) != count or weights.shape[1] not in (1, 3):
        return None
    return weights


def layer_montage(name: str, arr: np.ndarray, mode: str, aspect: float, net=None):
    """Worker side: the montage of one layer's output (fully connected outputs as one tile),
    with the kernels behind its maps where :func:`layer_kernels` finds them."""
    if arr.ndim not in (1, 3):
        arr = arr.reshape(-1)                                           # (F,): shown as units
    if arr.ndim == 1:  # laid out as convlab export draws it: unit i at divmod(i, cols)
        tile = vector_grid(arr)[None]                                   # (1, rows, cols)
        label = f"{name}: {count_noun(arr.size, 'unit')}, unit = row × {tile.shape[2]} + column"
        return build_montage(tile, names=[label], mode=mode, aspect=aspect, title=name)
    kernels = layer_kernels(net, name, len(arr))
    names = [f"filter {i}" for i in range(len(arr))] if kernels is not None else None
    return build_montage(arr, names=names, kernels=kernels, mode=mode, aspect=aspect, title=name)


def prep_images(prep: dict) -> list[np.ndarray]:
    """Worker side: the resized photo with the crop box, the crop, and the mean-subtracted input."""
    crop = (np.clip(prep["crop"], 0, 1) * 255).astype(np.uint8)
    centred = prep["input"][0].transpose(1, 2, 0)                      # (H, W, C)
    if centred.shape[2] == 1:
        centred = np.repeat(centred, 3, axis=2)                        # (H, W, 3) grey
    if prep.get("resized") is None:  # a model's preset: its input stretched to 0..255 to show
        low, high = float(centred.min()), float(centred.max())
        shown = ((centred - low) / max(high - low, 1e-12) * 255).astype(np.uint8)
        return [crop, crop, shown]
    resized = (np.clip(prep["resized"], 0, 1) * 255).astype(np.uint8)
    left, top, right, bottom = prep["box_resized"]
    boxed = resized.copy()
    for t in range(2):  # a 2-pixel yellow frame
        boxed[top + t, left:right] = boxed[bottom - 1 - t, left:right] = (255, 200, 0)
        boxed[top:bottom, left + t] = boxed[top:bottom, right - 1 - t] = (255, 200, 0)
    shown = (np.clip(centred + 0.5, 0, 1) * 255).astype(np.uint8)      # 0 as mid-grey
    return [boxed, crop, shown]


def rgb_pixmap(rgb: np.ndarray, height: int) -> QPixmap:
    """(H, W, 3) uint8 -> a pixmap scaled to ``height`` (small images only: GUI thread)."""
    rgb = np.ascontiguousarray(rgb)
    image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format_RGB888)
    return QPixmap.fromImage(image.copy()).scaledToHeight(height, Qt.SmoothTransformation)


def key_of(mapping: dict, value: str) -> str:
    return next(k for k, v in mapping.items() if v == value)


def bn_explanation(s: NetworkSettings, has_bn: bool = True, *, model_note=None) -> str:
    """The BN line under the controls. For a model, ``model_note`` is None while it loads, else
    what its weights are ("" for real ones; see :mod:`convlab.pipelines.weight_check`)."""
    if s.net == "onnx":
        if model_note is None:
            return "Loading the model…"
        bn = ("Its BatchNormalization layers use their stored running averages." if has_bn
              else "It has no BatchNormalization layer.")
        return f"{model_note} {bn}" if model_note else f"A trained model. {bn}"
    if not has_bn:
        if s.net in ("alex", "alex2g"):
            return "Alex has no BatchNormalization: ReLU then LRN after conv1 and conv2."
        return "This network has no BatchNormalization layer."
    if s.bn_mode == "batch":
        why = ("the weights are untrained, so the stored averages (mean 0, variance 1) would not "
               "normalise anything" if not s.weights else "chosen by you; the loaded file also "
               "holds trained running averages")
        return f"BN normalises with this image's statistics over (N, H, W): {why}."
    why = ("the loaded weights' trained running averages" if s.weights else
           "untrained: mean 0, variance 1, so BN barely changes the maps")
    return f"BN uses the stored running averages ({why})."


def top5_text(result: NetworkResult) -> str:
    if not result.settings.weights and result.settings.net != "onnx":
        return "Top-5 classes appear with trained weights; random weights predict nothing."
    if not result.top5:
        return ""
    return "Top-5: " + ",  ".join(f"{name} {p:.1%}" for _, name, p in result.top5)


def timing_text(result: NetworkResult) -> str:
    total = sum(result.seconds.values()) * 1e3
    slowest = sorted(result.seconds.items(), key=lambda kv: -kv[1])[:3]
    return (f"{result.settings.net} forward {total:.0f} ms ("
            + ", ".join(f"{name} {sec * 1e3:.1f}" for name, sec in slowest) + ")")
