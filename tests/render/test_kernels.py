"""convlab.render.kernels: kernels as RGB pictures and the kernel strip."""

import numpy as np

from convlab.render.kernels import build_kernel_strip, kernel_rgb


def test_kernels_become_rgb_with_zero_at_grey():
    k = np.zeros((2, 3, 3, 3), np.float32)
    k[1, 0, 1, 1] = 1.0  # a red centre
    rgb = kernel_rgb(k)
    assert rgb.shape == (2, 3, 3, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0, 0]) == (128, 128, 128)
    assert tuple(rgb[1, 1, 1]) == (255, 128, 128)
    grey = kernel_rgb(np.ones((1, 1, 3, 3), np.float32))
    assert grey.shape == (1, 3, 3, 3)


def test_kernel_strip_holds_every_kernel():
    image, lay = build_kernel_strip(np.random.default_rng(1).normal(size=(96, 3, 11, 11)))
    assert image.shape == (lay.height, lay.width, 3)
    assert lay.cols * lay.rows >= 96
