"""Make the README's "Why did it say that?" figures with ``convlab visualize``.

    python docs/why_figures.py TRAINED_DIR

TRAINED_DIR holds ``network.json`` and ``weights.npz`` from ``convlab train --net cifar-small``
(the built-in ``shapes-rgb`` data). Writes ``docs/why-input.png`` (test image 7 of shapes-rgb,
centred on a 256-pixel canvas, so that the network's 32-pixel centre crop is exactly that
image), then ``docs/gradcam.png``, ``docs/guided-gradcam.png``, ``docs/features.png`` (conv1's
units after their ReLU), ``docs/features-fc4.png`` (the 8 class scores) and
``docs/top-patches.png`` (relu3 channel 5), each by the command line.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from convlab.cli import main  # noqa: E402
from convlab.pipelines.datasets import open_dataset  # noqa: E402
from convlab.render.png import write_png  # noqa: E402

INDEX = 7


def input_picture() -> str:
    test = open_dataset("shapes-rgb").test
    image = test.images[INDEX]                                           # (32, 32, 3) uint8
    canvas = np.empty((256, 256, 3), np.uint8)
    canvas[...] = image[0, 0]
    canvas[112:144, 112:144] = image
    path = os.path.join(HERE, "why-input.png")
    write_png(path, canvas)
    print(f"test image {INDEX}: label {test.labels[INDEX]}")
    return path


def run(*argv) -> None:
    code = main(["visualize", *argv])
    if code:
        raise SystemExit(code)


def figures(trained: str) -> None:
    net = ["--spec", os.path.join(trained, "network.json"),
           "--weights", os.path.join(trained, "weights.npz"), "--input", "32"]
    photo = input_picture()
    for method, name in (("gradcam", "gradcam"), ("guided-gradcam", "guided-gradcam")):
        run(photo, *net, "--method", method, "--scale", "8",
            "--out", os.path.join(HERE, f"{name}.png"))
    with tempfile.TemporaryDirectory() as tmp:
        for layer, name, channels in (("relu1", "features", 32), ("fc4", "features-fc4", 8)):
            run(*net, "--features", layer, "--channels", str(channels), "--steps", "256",
                "--scale", "3", "--out", tmp)
            shutil.copy(os.path.join(tmp, f"features_{layer}.png"),
                        os.path.join(HERE, f"{name}.png"))
        run(*net, "--top-patches", "relu3:5", "--data", "shapes-rgb", "--k", "16",
            "--scale", "4", "--out", tmp)
        shutil.copy(os.path.join(tmp, "top_patches_relu3_5.png"),
                    os.path.join(HERE, "top-patches.png"))


if __name__ == "__main__":
    figures(sys.argv[1])
