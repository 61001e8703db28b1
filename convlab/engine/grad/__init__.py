"""Learning's first half: gradients through a :class:`~convlab.engine.nets.Network`.

``backprop(net, x, seeds, *, mode="test", rng=None)`` and ``loss_and_grads(net, x, labels)``
give :class:`Gradients` (Chainer's ``.npz`` keys for the parameters). Each layer kind knows its
forward and its backward (``Layer.forward`` / ``Layer.backward``, as Chainer's
``FunctionNode``); this package runs the forward keeping what backward needs, then walks the
graph backwards, summing the gradients of outputs that several layers read.
"""

from convlab.engine.grad.backprop import MODES, Gradients, backprop, loss_and_grads

__all__ = ["MODES", "Gradients", "backprop", "loss_and_grads"]
