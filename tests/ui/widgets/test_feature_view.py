"""The maps view's preview badge: shown over the montage, never re-laying out the toolbar."""

import numpy as np

from convlab.render.tiles import build_montage
from convlab.ui.widgets.feature_view import FeatureView


def test_the_preview_badge_floats_over_the_maps_and_leaves_the_toolbar_alone(qtbot):
    view = FeatureView()
    qtbot.addWidget(view)
    view.resize(560, 420)
    view.show()
    qtbot.waitExposed(view)
    maps = np.random.default_rng(0).random((12, 9, 9)).astype(np.float32)
    full = build_montage(maps, aspect=view.aspect())
    preview = build_montage(maps[:, ::3, ::3], aspect=view.aspect())
    preview.preview = True
    view.show_montage(full)
    toolbar = [w.geometry() for w in (view.title, view.scaling_box, view.colormap_box)]
    view.show_montage(preview)
    assert view.badge.isVisible() and "preview" in view.badge.text()
    assert view.badge.parent() is view.canvas  # over the montage, outside every layout
    assert view.canvas.rect().contains(view.badge.geometry())
    view.show_montage(full)
    assert not view.badge.isVisible() and view.badge.text() == ""
    qtbot.wait(50)  # any layout request would have run by now
    assert [w.geometry() for w in (view.title, view.scaling_box, view.colormap_box)] == toolbar
