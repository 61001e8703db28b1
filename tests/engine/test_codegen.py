"""The explorer's settings as Chainer and PyTorch code."""

from convlab.engine.explorer.code import chainer_code, pytorch_code
from convlab.engine.explorer import ExplorerSettings


def test_code_for_the_current_settings():
    assert "L.Convolution2D(3, 96, 11, stride=4)" in chainer_code(ExplorerSettings())
    assert "F.max_pooling_2d(h, 3, stride=2)" in chainer_code(ExplorerSettings())
    assert "cover_all=False" in chainer_code(ExplorerSettings(cover_all=False))
    torch = pytorch_code(ExplorerSettings())
    assert "nn.Conv2d(3, 96, kernel_size=11, stride=4)" in torch
    assert "nn.MaxPool2d(3, stride=2, ceil_mode=True)" in torch
    assert "ceil_mode" not in pytorch_code(ExplorerSettings(cover_all=False))
