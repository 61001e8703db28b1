"""retile: a montage picture's tiles moved into another grid, pixel for pixel."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.render.montage import build_montage, layout_gutters, retile


@pytest.mark.parametrize("count, aspect", [(96, 0.6), (7, 3.0), (1, 0.5), (40, 1.0)])
def test_every_tile_keeps_its_pixels_in_the_new_grid(count, aspect):
    maps = np.random.default_rng(count).random((count, 13, 9), dtype=np.float32)
    wide = build_montage(maps, aspect=4.0)
    image, lay = retile(wide.image, wide.layout, count, aspect)
    want = build_montage(maps, aspect=aspect)  # what a montage built for that view would be
    assert lay == want.layout
    np.testing.assert_array_equal(image, want.image)
    assert layout_gutters(lay, count) == want.gutters()


def test_the_same_grid_is_returned_as_it_is():
    maps = np.zeros((6, 5, 5), np.float32)
    m = build_montage(maps, aspect=1.6)
    image, lay = retile(m.image, m.layout, 6, 1.6)
    assert image is m.image and lay == m.layout
