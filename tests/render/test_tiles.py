"""convlab.render.tiles: PNG grids, vector layouts, and the window's montage (layout, gutters, lookups)."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.render import colour as render
from convlab.render import tiles

from convlab.render.tiles import Layout, build_montage, plan_layout


def test_layout_fills_a_wide_view_with_more_columns():
    wide, tall = plan_layout(96, 63, 63, aspect=2.0), plan_layout(96, 63, 63, aspect=0.5)
    assert wide.cols > tall.cols
    assert wide.cols * wide.rows >= 96 and tall.cols * tall.rows >= 96


def test_layout_locate_finds_tiles_and_gaps():
    lay = Layout(cols=3, rows=2, tile_h=4, tile_w=5, step=1, gap=1)
    assert lay.width == 3 * 6 - 1 and lay.height == 2 * 5 - 1
    assert lay.locate(0, 0) == (0, 0, 0)
    assert lay.locate(6, 5) == (4, 0, 0)
    assert lay.locate(5, 0) is None  # the gutter
    assert lay.locate(-1, 0) is None and lay.locate(100, 0) is None


def test_montage_per_map_stretches_every_map_and_keeps_gutters():
    maps = np.stack([np.linspace(0, 1, 12).reshape(3, 4), np.linspace(10, 30, 12).reshape(3, 4),
                     np.full((3, 4), 5.0)]).astype(np.float32)
    m = build_montage(maps, cols=3)
    lay = m.layout
    tiles = [m.image[0:3, c * (lay.tile_w + lay.gap):c * (lay.tile_w + lay.gap) + 4]
             for c in range(3)]
    assert tiles[0].min() == 0 and tiles[0].max() == 255
    assert tiles[1].min() == 0 and tiles[1].max() == 255
    assert (tiles[2] == 0).all()  # a constant map is drawn at the bottom of the scale
    assert (4, 0, 1, lay.height) in m.gutters()  # the canvas paints the gutter over column 4


def test_shared_normalisation_keeps_maps_comparable():
    maps = np.stack([np.zeros((2, 2)), np.ones((2, 2)) * 2]).astype(np.float32)
    m = build_montage(maps, mode="layer", cols=2)
    assert m.image[0, 0] == 0 and m.image[0, 3] == 255


def test_gutters_cover_the_gaps_and_the_empty_cells():
    m = build_montage(np.ones((5, 3, 4), np.float32), cols=3)
    lay = m.layout
    assert (lay.cols, lay.rows, lay.gap) == (3, 2, 1)
    painted = np.zeros(m.image.shape, bool)
    for x, y, w, h in m.gutters():
        painted[y:y + h, x:x + w] = True
    for i in range(5):  # no tile is painted over; everything else is
        r, c = divmod(i, 3)
        assert not painted[r * 4:r * 4 + 3, c * 5:c * 5 + 4].any()
    assert painted.sum() == m.image.size - 5 * 3 * 4


def test_lookup_reads_the_full_resolution_value():
    maps = np.arange(2 * 6 * 8, dtype=np.float32).reshape(2, 6, 8)
    m = build_montage(maps, cols=2)
    index, r, c, value = m.lookup(m.layout.tile_w + m.layout.gap + 3, 2)
    assert (index, r, c) == (1, 2, 3) and value == maps[1, 2, 3]


def test_huge_stacks_are_subsampled_under_the_pixel_cap():
    maps = np.random.default_rng(0).random((64, 300, 300), dtype=np.float32)
    m = build_montage(maps, max_pixels=1_000_000)
    assert m.layout.step >= 2
    assert m.image.size <= 1_300_000  # the cap plus the gutters
    assert m.stats.maximum.shape == (64,)


def test_stats_count_the_zeros_of_a_relu():
    maps = np.array([[[0, 0], [1, 2]]], dtype=np.float32)
    m = build_montage(maps)
    assert m.stats.zeros[0] == pytest.approx(0.5)
    assert m.stats.mean[0] == pytest.approx(0.75)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="montage"):
        build_montage(np.zeros((4, 4), np.float32))


@pytest.mark.parametrize("n, layout", [(4096, (64, 64)), (1000, (25, 40)), (9216, (96, 96)),
                                       (997, (1, 997)), (10, (2, 5)), (1, (1, 1)), (256 * 6 * 6, (96, 96))])
def test_vector_grid_is_the_exact_near_square_factorisation(n, layout):
    values = np.arange(n, dtype=np.float32)
    grid = tiles.vector_grid(values)
    assert grid.shape == layout and not np.isnan(grid).any()
    assert grid[1, 0] == layout[1] if layout[0] > 1 else grid[0, -1] == n - 1  # row by row
    assert np.array_equal(grid.ravel(), values)
    with pytest.raises(ValueError):
        tiles.vector_grid(np.zeros((2, 3)))


def test_picture_draws_a_vector_map_and_grid_like_export():
    rgb = tiles.picture(np.arange(10, dtype=np.float32), "gray")
    assert rgb.shape == (2, 5, 3) and tuple(rgb[0, 0]) == (0, 0, 0) and tuple(rgb[1, 4]) == (255,) * 3
    maps = np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32)
    grid = tiles.picture(maps, "viridis", scale=2)
    plain = render.apply_colormap(tiles.montage(render.normalize(maps))[0], "viridis")
    assert grid.shape == (2 * 6 + 1, 3 * 8 + 2, 3)
    assert np.array_equal(grid[:6, :8], tiles.enlarge(plain[:3, :4], 2))  # a tile, enlarged
    assert np.array_equal(tiles.tile_rgb(render.apply_colormap(render.normalize(maps)))[0], plain)


def test_montage_layout_and_separators():
    maps = np.arange(10 * 3 * 4, dtype=np.float32).reshape(10, 3, 4)
    grid, (rows, cols) = tiles.montage(maps)
    assert (rows, cols) == (3, 4) and grid.shape == (3 * 3 + 2, 4 * 4 + 3)
    for i in range(10):
        r, c = divmod(i, cols)
        assert np.array_equal(grid[r * 4:r * 4 + 3, c * 5:c * 5 + 4], maps[i])
    assert np.isnan(grid[3]).all() and np.isnan(grid[:, 4]).all()   # separators
    assert np.isnan(grid[8:, 10:]).all()                             # the two empty cells
    g2, layout = tiles.montage(maps, cols=5, sep=0, fill=-1)
    assert layout == (2, 5) and g2.shape == (6, 20) and not np.isnan(g2).any()
