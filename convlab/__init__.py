"""ConvLab: a desktop laboratory for convolutional networks."""

__version__ = "0.1.0"
