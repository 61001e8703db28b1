"""Networks: :class:`Network` (a graph of layers with shapes, summary, forward, receptive fields),
specs (JSON lists of layers) and the presets (AlexBN, Alex), Chainer ``.npz`` weights files, and
the Chainer/PyTorch code of a network."""

from convlab.engine.nets.network import NETWORKS, ForwardResult, Network, SummaryRow, build_network

__all__ = ["NETWORKS", "ForwardResult", "Network", "SummaryRow", "build_network"]
