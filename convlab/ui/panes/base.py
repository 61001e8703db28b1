"""The pane interface: what the window, export and snapshot may ask of a pane (nothing else).

A pane is a QWidget shown as one tab. The window gives it the current photo, asks whether
what it shows is final, and closes it; export asks for :class:`ExportSource`; the window
remembers and restores :meth:`Pane.state`. Nobody reaches inside a pane: its controls,
workers and views are its own business. Both ``ExplorerPane`` and ``NetworkPane`` implement
this protocol (``tests/ui/panes/test_pane_interface.py`` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from convlab.pipelines.sources import LoadedImage


@dataclass
class ExportSource:
    """What a pane has to export: every layer's maps, the shown layer, and how it looks.

    ``record()`` builds the settings record (it hashes the photo and any weights file): call
    it in a worker, not on the GUI thread. ``cmap`` and ``mode`` are the view's colormap
    (a cmap name) and scaling, so exported PNGs look as the view does. ``view`` is the
    FeatureView whose clicked map "current map" means.
    """

    layers: dict[str, np.ndarray]
    layer: str
    record: Callable[[], dict]
    cmap: str
    mode: str
    view: object


@runtime_checkable
class Pane(Protocol):
    """A tab of the main window. Panes also carry the Qt signal ``resultReady(int)``."""

    title: str  # the tab's text

    def set_image(self, loaded: LoadedImage) -> int:
        """Show this photo from now on; returns the request id of its first result (0: none)."""

    def settled(self) -> bool:
        """True when the screen shows the full result of the current state (or its refusal)."""

    def export_source(self) -> ExportSource:
        """What there is to export now; ``ValueError`` with a sentence when there is nothing."""

    def state(self) -> dict:
        """JSON-able choices the window remembers between sessions."""

    def restore(self, state: dict) -> None:
        """Apply remembered choices; anything unreadable or out of range is ignored."""

    def shutdown(self) -> None:
        """Stop the pane's workers (the window is closing)."""
