"""Stateless array functions, as Chainer's ``functions``: convolution (im2col GEMM or Winograd,
the path tuned by shape), transposed convolution, pooling, dense and normalisation ops, their
gradients (``*_backward``) and the softmax cross-entropy loss. NumPy or CuPy arrays, NCHW; every
public name of the engine's ops is importable from here."""

from convlab.engine.ops.conv import conv2d, im2col
from convlab.engine.ops.conv_grad import col2im, conv2d_backward, deconv2d_backward
from convlab.engine.ops.deconv import deconv2d
from convlab.engine.ops.dense import batch_norm, linear, local_response_norm, relu, softmax
from convlab.engine.ops.loss import softmax_cross_entropy
from convlab.engine.ops.pool_grad import avg_pool2d_backward, max_pool2d_backward
from convlab.engine.ops.pooling import avg_pool2d, max_pool2d
from convlab.engine.ops.utils import Cancelled

__all__ = ["Cancelled", "avg_pool2d", "avg_pool2d_backward", "batch_norm", "col2im", "conv2d",
           "conv2d_backward", "deconv2d", "deconv2d_backward", "im2col", "linear",
           "local_response_norm", "max_pool2d", "max_pool2d_backward", "relu", "softmax",
           "softmax_cross_entropy"]
