"""Chainer's optimizers for ConvLab's networks: ``SGD``, ``MomentumSGD``, ``Adam`` and the
``WeightDecay`` hook; ``opt.setup(net)``, ``opt.add_hook(hook)``, ``opt.update(grads)``.

An update replaces each weight with a new frozen array (never edits one in place) and skips
layers whose updates are disabled (``layer.disable_update()``). See :mod:`.base` for the order
of one update and the state format, :mod:`.rules` for the formulas.
"""

from convlab.engine.optim.base import Optimizer, OptimizerError, trainable
from convlab.engine.optim.hooks import WeightDecay
from convlab.engine.optim.rules import SGD, Adam, MomentumSGD

OPTIMIZERS = {"sgd": SGD, "momentum": MomentumSGD, "adam": Adam}

__all__ = ["OPTIMIZERS", "Adam", "MomentumSGD", "Optimizer", "OptimizerError", "SGD",
           "WeightDecay", "trainable"]
