"""Between the Train pane and the Network pane: which spec to train, and the trained weights back.

The window wires these (the panes never reach into each other): the Train pane asks
:func:`spec_of` for the Network pane's network, and :func:`hand_to_network` shows a finished
run's network in the Network pane, as an undoable "trained network" edit with its weights
loaded from the run's ``.npz`` (BN with the stored averages the training kept).
"""

from __future__ import annotations

from convlab.ui.panes.train import TrainPane

__all__ = ["TrainPane", "hand_to_network", "spec_of"]


def spec_of(network) -> dict | None:
    """The Network pane's spec (a copy), or None for an imported ONNX model."""
    if network.requested.net == "onnx":
        return None
    return network.current_spec()


def hand_to_network(network, spec: dict, path: str) -> int:
    """Show ``spec`` with the weights in ``path`` in the Network pane; its request id."""
    network.edits.start_from(spec, "trained network")
    side = int(spec.get("input_shape", [3, 227, 227])[1])
    return network.apply(insize=side, weights=path, bn_mode="stored")
