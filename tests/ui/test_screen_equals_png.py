"""One renderer: what the window hands pyqtgraph is, pixel for pixel, what export writes.

For every colormap and scaling mode, each tile of the explorer's montage, as pyqtgraph
renders it at 1:1 (``ImageItem.qimage``), equals the same map in the layer grid PNG that
File > Export writes; the one-map window equals the single-map PNG.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from convlab.render.colour import DISPLAY_COLORMAPS
from convlab.render.tiles import grid_layout
from convlab.ui.widgets.feature_view import SCALINGS
from tests.ui.helpers import RESULT_MS

EXPORT_MS = max(RESULT_MS, 60_000)


def rendered_rgb(item) -> np.ndarray:
    """The RGB pyqtgraph paints for an ImageItem, before any view scaling: (H, W, 3) uint8."""
    item.render()
    q = item.qimage.convertToFormat(QImage.Format.Format_RGB888)
    buf = np.frombuffer(q.constBits(), np.uint8, count=q.bytesPerLine() * q.height())
    rows = buf.reshape(q.height(), q.bytesPerLine())[:, :q.width() * 3]
    return rows.reshape(q.height(), q.width(), 3).copy()  # a copy: q owns the bits


def export_and_read(qtbot, window, action, path, **kw) -> np.ndarray:
    with qtbot.waitSignal(window.exporter.exported, timeout=EXPORT_MS):
        action(str(path), **kw)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize("scaling", list(SCALINGS))
def test_every_montage_tile_on_screen_equals_its_png(qtbot, window, tmp_path, scaling):
    view = window.explorer.view
    if view.scaling_box.currentText() != scaling:
        with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS):
            view.scaling_box.setCurrentText(scaling)
    for name in DISPLAY_COLORMAPS:
        qtbot.waitUntil(window.explorer.settled, timeout=RESULT_MS)  # a dialog may relayout it
        montage = view.montage
        assert montage.layout.step == 1 and montage.mode == SCALINGS[scaling]  # 1:1, this mode
        n, h, w = montage.maps.shape
        rows, cols = grid_layout(n)
        lay = montage.layout
        view.set_colormap(name)
        screen = rendered_rgb(view.canvas.item)
        grid = export_and_read(qtbot, window, window.exporter.export_grid, tmp_path / f"{name}.png")
        for i in range(n):
            r, c = divmod(i, lay.cols)
            on_screen = screen[r * (h + lay.gap):r * (h + lay.gap) + h, c * (w + lay.gap):c * (w + lay.gap) + w]
            r, c = divmod(i, cols)
            in_png = grid[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w]
            assert np.array_equal(on_screen, in_png), f"{name}, {scaling}: map {i} differs"
        index = 5 + len(name)  # a different map for each colormap
        dialog = view.open_map(index)
        single = export_and_read(qtbot, window, window.exporter.export_map, tmp_path / f"{name}-1.png",
                                 index=index)
        assert np.array_equal(rendered_rgb(dialog.canvas.item), single), f"{name}: one-map window"
        dialog.close()
