"""Stateless array functions, as Chainer's ``functions``: convolution (im2col GEMM or Winograd,
the path tuned by shape), transposed convolution, pooling, dense and normalisation ops. NumPy or
CuPy arrays, NCHW float32; every public name of the engine's ops is importable from here."""

from convlab.engine.ops.conv import conv2d, im2col
from convlab.engine.ops.deconv import deconv2d
from convlab.engine.ops.dense import batch_norm, linear, local_response_norm, relu, softmax
from convlab.engine.ops.pooling import avg_pool2d, max_pool2d
from convlab.engine.ops.utils import Cancelled

__all__ = ["Cancelled", "avg_pool2d", "batch_norm", "conv2d", "deconv2d", "im2col", "linear",
           "local_response_norm", "max_pool2d", "relu", "softmax"]
