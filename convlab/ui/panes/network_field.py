"""Receptive fields in the Network pane (a mixin of :class:`~convlab.ui.panes.network.NetworkPane`).

Click a position in any layer's map (or call :meth:`pin`): the input box that position sees,
``Network.receptive_field(layer, i, j, input_shape)`` (through a graph, the union over paths), is
computed in a small worker and drawn on the input crop (:class:`~convlab.ui.widgets.crop_view.CropView`):
dashed where it reaches into the padding, solid over the pixels it really sees, with its size
and jump written under it (AlexBN's pool5 at 227: 195 pixels, jump 32).
"""

from __future__ import annotations

from convlab.engine.wording import shape_text
from convlab.pipelines.network import input_shape


def field_text(layer: str, i: int, j: int, field) -> str:
    """``"pool5 (3, 3): 195 px, jump 32 (131 × 131 inside the crop)"``."""
    h, w = field.bottom - field.top, field.right - field.left
    size = f"{h}" if h == w else shape_text((h, w))
    jh, jw = field.jump
    jump = f"{jh:g}" if jh == jw else shape_text((f"{jh:g}", f"{jw:g}"))
    c = field.clipped
    inside = "" if (c.top, c.left, c.bottom, c.right) == (field.top, field.left, field.bottom,
                                                           field.right) else \
        f" ({shape_text((c.bottom - c.top, c.right - c.left))} inside the crop)"
    return f"{layer} ({i}, {j}): {size} px, jump {jump}{inside}"


class FieldMixin:
    """Needs the pane's ``view``, ``crop_view``, ``field_worker``, ``net_shapes``, ``requested``."""

    def pin(self, layer: str, channel: int, i: int, j: int) -> int:
        """Do what a click on map ``channel`` of ``layer`` at row ``i``, column ``j`` does: draw
        that position's receptive field on the crop. Returns the worker's request id
        (``fieldShown`` follows with it)."""
        if self.selected_layer() != layer:
            self.select_layer(layer)
        net, shape = self.net_shapes, None
        if net is None:
            return 0
        shape = input_shape(net, self.requested)
        self._pinned = (layer, channel, i, j)
        return self.field_worker.submit(
            lambda job: (layer, i, j, net.receptive_field(layer, i, j, shape)))

    def receptiveField(self):  # noqa: N802 (Qt-style accessor, as the issue names it)
        """The drawn box ``(top, left, bottom, right)`` in crop pixels, unclipped; None if none."""
        field = getattr(self, "_field", None)
        return None if field is None else (field.top, field.left, field.bottom, field.right)

    def _map_clicked(self, index: int, r: int, c: int) -> None:
        """A click on the montage or in the one-map window: draw that position's field (the
        one-map window no longer opens on a click: it covered the crop and its box)."""
        montage = self.view.montage
        name = montage.title if montage is not None else None
        if self.result is None or name not in self.result.outputs:
            return
        if len(self.result.outputs.shape_of(name)) != 3:
            self._field = None
            self.crop_view.clear_field(f"{name} is not spatial: every unit sees the whole input.")
            return
        self._clicked_map = index
        self.pin(name, index, r, c)

    def open_clicked_map(self) -> None:
        """"Open map": the map last clicked (else the first) large, right of the crop, so the
        receptive field its clicks draw stays in sight."""
        dialog = self.view.open_map(getattr(self, "_clicked_map", 0))
        if dialog is None:
            return
        crop = self.crop_view.mapToGlobal(self.crop_view.rect().topRight())
        window = self.window().frameGeometry()
        left = crop.x() + 8
        width = max(window.right() - left, 420)
        dialog.setGeometry(left, window.top() + 40, min(width, 840),
                           min(dialog.height(), max(window.height() - 60, 400)))

    def _on_field(self, request_id: int, payload) -> None:
        if not self.field_worker.is_current(request_id):
            return
        layer, i, j, field = payload
        self._field = field
        self.crop_view.set_field((field.top, field.left, field.bottom, field.right),
                                 (field.clipped.top, field.clipped.left, field.clipped.bottom,
                                  field.clipped.right), field_text(layer, i, j, field))
        self.fieldShown.emit(request_id)

    def _on_field_failed(self, request_id: int, reason: str) -> None:
        self._field = None
        self.crop_view.clear_field(reason)
        self.fieldShown.emit(request_id)

    def clear_field(self) -> None:
        """The network or input changed: the drawn field no longer applies."""
        self._field = None
        self.field_worker.cancel()
        self.crop_view.clear_field("Click a map position: its receptive field is drawn here.")
