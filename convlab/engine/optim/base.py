"""The optimizer base: Chainer's ``Optimizer`` / ``UpdateRule`` split, for ConvLab's networks.

``opt.setup(net)`` binds a :class:`~convlab.engine.nets.Network`; ``opt.update(grads)`` takes
:class:`convlab.engine.grad.Gradients` (or its ``params`` dict, ``{"conv1/W": array, ...}``:
Chainer's ``.npz`` keys) and moves every parameter it names. One update is, per parameter and in
Chainer's order (``Optimizer.update`` -> ``UpdateRule.update``):

1. ``t += 1``: the optimizer's step count, and each parameter's own (Chainer keeps one per
   update rule: a parameter frozen for a while has taken fewer steps, which Adam's bias
   correction sees); a parameter without a gradient this time still counts the step, as in
   Chainer (its ``update_core`` returns early);
2. each hook in the order added (``WeightDecay``: ``g = g + rate * p``, timing "pre");
3. the rule's own step (:meth:`Optimizer.step`: SGD, MomentumSGD, Adam).

Weights stay frozen arrays (:func:`convlab.engine.backend.freeze`): the step computes a new
array and the layer's ``params`` entry is REPLACED by it, frozen, never written in place, so a
cache keyed on a weight's identity (Winograd's transformed kernels) can never serve a stale
transform. The gradients handed in are never modified either. A layer whose updates are
disabled (Chainer's ``disable_update()``: ``layer.update_enabled`` False) is skipped, even when
its gradients are given.

State (``state_dict()`` / ``load_state_dict(state)``): a flat ``{name: numpy array}`` dict,
``"t"`` plus, per parameter, its step count and state slots (``"conv1/W/t"``, ``"conv1/W/v"``:
Chainer's names, ``v`` for MomentumSGD's velocity, ``m`` and ``v`` for Adam's moments), savable
with ``np.savez``.
"""

from __future__ import annotations

import numpy as np

from convlab.engine.backend import array_module, freeze, to_numpy


class OptimizerError(ValueError):
    """An optimizer used wrongly; ``str(exc)`` is one sentence."""


def _positive(name: str, value, *, upper: float | None = None, zero: bool = False) -> float:
    """``value`` as a float in (0, upper) ([0, upper) with ``zero``), or OptimizerError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OptimizerError(f"{name} must be a number, not {value!r}.") from None
    low_ok = v >= 0 if zero else v > 0
    if not (np.isfinite(v) and low_ok and (upper is None or v < upper)):
        bound = f"{'0 <=' if zero else '0 <'} {name}" + (f" < {upper}" if upper else "")
        raise OptimizerError(f"{name} must satisfy {bound}, not {value!r}.")
    return v


def trainable(net) -> dict[str, tuple[object, str]]:
    """``{"conv1/W": (layer, "W"), ...}`` for every learned parameter of every layer whose
    updates are enabled, in layer order (BN's running averages are not learned)."""
    out = {}
    for layer in net.layers:
        if not getattr(layer, "update_enabled", True):
            continue
        for key in getattr(layer, "learned", ()):
            if key in layer.params:
                out[f"{layer.name}/{key}"] = (layer, key)
    return out


class Optimizer:
    """Chainer's optimizer protocol; subclasses give :attr:`slots` and :meth:`step`."""

    slots: tuple[str, ...] = ()       # per-parameter state arrays, zeros at the first update

    def __init__(self):
        self.net = None
        self.t = 0
        self.hooks: list = []
        self.state: dict[str, dict[str, object]] = {}    # "conv1/W" -> {"v": array}
        self.steps: dict[str, int] = {}                    # "conv1/W" -> its own t

    # -- set-up ------------------------------------------------------------------------------
    def setup(self, net) -> "Optimizer":
        """Bind ``net`` (Chainer's ``optimizer.setup(model)``); returns self."""
        if not hasattr(net, "layers"):
            raise OptimizerError(f"setup needs a Network, not {type(net).__name__}.")
        self.net, self.t, self.state, self.steps = net, 0, {}, {}
        return self

    def add_hook(self, hook) -> "Optimizer":
        """Run ``hook(key, param, grad) -> grad`` on every gradient before the step, in the
        order added (Chainer's ``add_hook``, timing "pre")."""
        if not callable(hook):
            raise OptimizerError(f"a hook must be callable, not {hook!r}.")
        self.hooks.append(hook)
        return self

    @property
    def hyperparams(self) -> dict[str, float]:
        """The rule's numbers by name (``{"lr": 0.01}``), for logs and snapshots."""
        return {}

    # -- one update --------------------------------------------------------------------------
    def update(self, grads) -> None:
        """One step with ``grads`` (Gradients or ``{"conv1/W": array}``): see the module."""
        if self.net is None:
            raise OptimizerError("call setup(net) before update(grads).")
        given = getattr(grads, "params", grads)
        if not isinstance(given, dict):
            raise OptimizerError(f"update needs Gradients or a dict of arrays, not {type(grads).__name__}.")
        params = trainable(self.net)
        unknown = [k for k in given if k not in params and not self._frozen_key(k)]
        if unknown:
            raise OptimizerError(f"the gradient {unknown[0]!r} belongs to no trainable parameter "
                                 f"of {getattr(self.net, 'name', 'this network')}.")
        self.t += 1
        for key, (layer, slot) in params.items():
            self.steps[key] = self.steps.get(key, 0) + 1
            if key in given and given[key] is not None:
                layer.params[slot] = self._updated(key, layer.params[slot], given[key])

    def _frozen_key(self, key: str) -> bool:
        layer_name = key.rsplit("/", 1)[0]
        return any(l.name == layer_name for l in self.net.layers)

    def _updated(self, key: str, param, grad):
        xp = array_module(param)
        if tuple(grad.shape) != tuple(param.shape):
            raise OptimizerError(f"the gradient of {key} is {tuple(grad.shape)} but the "
                                 f"parameter is {tuple(param.shape)}.")
        g = xp.ascontiguousarray(grad, dtype=param.dtype)
        for hook in self.hooks:
            g = hook(key, param, g)
        state = self.state.setdefault(key, {})
        for slot in self.slots:
            if slot not in state:
                state[slot] = xp.zeros_like(param)
        return freeze(self.step(param, g, state, self.steps[key]))

    def step(self, param, grad, state: dict, t: int):
        """The new value of ``param`` (a new array) at this parameter's step ``t`` (1 first);
        may replace entries of ``state``."""
        raise NotImplementedError

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """``{"t": int64, "conv1/W/v": array, ...}`` as NumPy arrays (see the module)."""
        out = {"t": np.asarray(self.t, dtype=np.int64)}
        for key, t in self.steps.items():
            out[f"{key}/t"] = np.asarray(t, dtype=np.int64)
        for key, slots in self.state.items():
            for slot, value in slots.items():
                out[f"{key}/{slot}"] = np.array(to_numpy(value))
        return out

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s output; every array must fit a parameter of the bound
        network (the whole state is checked before anything changes)."""
        if self.net is None:
            raise OptimizerError("call setup(net) before load_state_dict(state).")
        if "t" not in state:
            raise OptimizerError("the optimizer state has no step count 't'.")
        params = {k: layer.params[s] for k, (layer, s) in trainable(self.net).items()}
        restored: dict[str, dict[str, object]] = {}
        steps: dict[str, int] = {}
        for name, value in state.items():
            if name == "t":
                continue
            key, _, slot = name.rpartition("/")
            if key in params and slot == "t":
                steps[key] = int(np.asarray(value))
                continue
            if key not in params or slot not in self.slots:
                raise OptimizerError(f"the optimizer state holds {name!r}, which this "
                                     f"{type(self).__name__} on this network has no place for.")
            if tuple(np.shape(value)) != tuple(params[key].shape):
                raise OptimizerError(f"the optimizer state {name!r} is {tuple(np.shape(value))} "
                                     f"but the parameter is {tuple(params[key].shape)}.")
            xp = array_module(params[key])
            # a copy: the rules update their state in place, never the caller's arrays
            restored.setdefault(key, {})[slot] = xp.asarray(np.array(value, dtype=np.float32))
        self._check_complete(restored, steps)
        self.t, self.state, self.steps = int(np.asarray(state["t"])), restored, steps

    def _check_complete(self, restored: dict, steps: dict) -> None:
        """OptimizerError when the state is another rule's: a parameter with some of this
        rule's slots but not all (MomentumSGD's ``v`` alone, for Adam), or steps taken with no
        slot at all where this rule keeps some (SGD's state, for MomentumSGD or Adam)."""
        rule = type(self).__name__
        for key, slots in restored.items():
            missing = [s for s in self.slots if s not in slots]
            if missing:
                raise OptimizerError(f"the optimizer state has no {key}/{missing[0]} beside "
                                     f"{key}/{next(iter(slots))}: it is not {rule}'s state.")
        stepped = [k for k, t in steps.items() if t > 0]
        if self.slots and stepped and not restored:
            raise OptimizerError(f"the optimizer state has {stepped[0]} at step "
                                 f"{steps[stepped[0]]} but no {stepped[0]}/{self.slots[0]}: "
                                 f"it is not {rule}'s state.")
