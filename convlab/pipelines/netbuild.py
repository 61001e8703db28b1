"""Building the network a :class:`~convlab.pipelines.network.NetworkSettings` asks for, and
preparing the photo for it (worker side, Qt-free).

- Presets and custom specs: ``Network.from_spec`` with LeCun-normal weights from the seed (the
  presets give ``build_network``'s weights bit for bit), or a Chainer ``.npz``.
- ONNX models: :func:`convlab.models.load_onnx` (parsing never runs on the GUI thread).
- conv1 "handmade" (:func:`~convlab.engine.explorer.kernels.handmade_conv1`) or "learned"
  (:func:`~convlab.engine.explorer.kernels.learned_conv1`: FastICA on patches of the bundled
  photos, learned once per process, kernel shape and seed: the first use takes seconds, minutes on a
  busy machine): the first convolution's weights are replaced, the learned ones scaled to the
  random weights' norm so the following layers see inputs of the usual size.
"""

from __future__ import annotations

import copy
import os

import numpy as np

from convlab.engine.backend import get_backend, to_numpy
from convlab.engine.explorer.kernels import handmade_conv1, learned_conv1
from convlab.engine.nets import Network
from convlab.pipelines import images
from convlab.pipelines.images import load_image, scale_to_longest
from convlab.pipelines import samples

ICA_SIDE = 256  # photos are scaled to this longest side before patches are drawn


def build(s) -> Network:
    """The network for settings ``s``; ``ValueError`` (one sentence) for a bad spec, model or file."""
    if s.net == "onnx":
        from convlab.models import load_onnx

        net = load_onnx(s.model)
        net.weights_source = f"ONNX model {os.path.basename(s.model)}"
        return net
    net = Network.from_spec(s.network_spec(), seed=s.seed, init=not s.weights)
    net.weights_source = f"random (LeCun normal, seed {s.seed})"
    if s.weights:
        net.load_npz(s.weights)  # refuses the whole file, or loads it all
    return net


def first_conv(net: Network):
    return next((layer for layer in net.layers if layer.kind == "conv"), None)


def replace_conv1(net: Network, mode: str, seed: int = 0) -> None:
    """Give the first convolution hand-made or learned kernels (``mode``), norm kept per filter.

    ``seed`` seeds the learning (FastICA's patches and start) as it seeds the random weights."""
    conv = first_conv(net)
    if conv is None or mode == "random":
        return
    out, c_in, kh, kw = conv.params["W"].shape
    if mode == "handmade":
        kernels = handmade_conv1(out, c_in, kh) if kh == kw else None
        source = "a hand-made"
    else:
        kernels = learned_conv1(ica_images(), out, c_in, kh, seed=seed) if kh == kw and c_in in (1, 3) \
            else None
        source = "a learned-from-photos (ICA)"
    if kernels is None:
        net.weights_source += f" ({conv.name} is {kh}x{kw}x{c_in}: no {mode} kernels for it)"
        return
    old = to_numpy(conv.params["W"]).astype(np.float32)
    scale = np.sqrt((old ** 2).sum() / max(float((kernels ** 2).sum()), 1e-12)) if \
        mode == "learned" and np.any(old) else 1.0
    xp = get_backend().xp
    conv.params["W"] = xp.asarray((kernels * scale).astype(np.float32))
    if "b" in conv.params:
        conv.params["b"] = xp.zeros(out, dtype=np.float32)
    net.weights_source += f" with {source} {conv.name}"


def ica_images() -> list[np.ndarray]:
    """The bundled sample photos, each scaled to 256 pixels on its longest side."""
    found = []
    for item in samples.list_samples():
        try:
            found.append(load_image(item))
        except (OSError, ValueError):
            continue
    return [np.clip(scale_to_longest(im, ICA_SIDE)[0], 0, 1).astype(np.float32) for im in found]


def prepare(image: np.ndarray, s, net: Network) -> dict:
    """The photo as the network's input, with the pictures of each step (``prep`` dict of
    :func:`~convlab.pipelines.images.center_crop_imagenet`; ``resized`` None for ONNX presets)."""
    if s.net == "onnx":
        from convlab.models.preprocess import preprocess

        p = preprocess(image, net.input_shape, s.preprocess)
        return {"input": p.input, "crop": p.crop, "box": p.box, "resized": None,
                "box_resized": None, "preset": s.preprocess}
    prep = images.center_crop_imagenet(image, s.insize, shorter=max(256, s.insize))
    if net.input_shape[0] == 1:  # a one-channel spec: BT.601 luma of the centred input
        luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)[None, :, None, None]
        prep["input"] = (prep["input"] * luma).sum(axis=1, keepdims=True).astype(np.float32)
    return prep


def without_weights(net: Network) -> Network:
    """A copy of ``net`` for its geometry (shapes, fields, code): the same layers, each weight
    a zero-stride placeholder of its shape (:func:`convlab.engine.layers.base.placeholder`), so
    a kept :class:`NetworkResult` never holds a second copy of the weights."""
    from convlab.engine.layers.base import placeholder

    geometry = copy.copy(net)
    geometry.layers = []
    for layer in net.layers:
        shell = copy.copy(layer)
        params = getattr(layer, "params", None)
        if isinstance(params, dict):
            shell.params = {k: placeholder(tuple(v.shape)) if hasattr(v, "shape") else v
                            for k, v in params.items()}
        geometry.layers.append(shell)
    return geometry
