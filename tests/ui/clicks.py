"""Pressing the window as a person does: a click on a map position, on a button, a key."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt


def canvas_point(canvas, x: float, y: float):
    """Image pixel (x, y) of an ImageCanvas -> a point of its viewport (widget coordinates)."""
    sx, sy = canvas.scale()
    scene = canvas.box.mapViewToScene(QPointF(x * sx, y * sy))
    return canvas.mapFromScene(scene)


def click_map(qtbot, view, index: int, r: int, c: int) -> None:
    """Click map ``index`` of a FeatureView at row ``r``, column ``c`` with the mouse."""
    lay = view.montage.layout
    x = (index % lay.cols) * (lay.tile_w + lay.gap) + c // lay.step + 0.5
    y = (index // lay.cols) * (lay.tile_h + lay.gap) + r // lay.step + 0.5
    point = canvas_point(view.canvas, x, y)
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=point)
