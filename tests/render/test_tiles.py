"""Montage building (NumPy only): layout, normalisation, gutters, lookups, kernels."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.render.tiles import (GAP, TOP, Layout, block_mean, build_kernel_strip, build_montage,
                                colormap_lut, kernel_rgb, plan_layout)


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
    assert tiles[0].min() == 0 and tiles[0].max() == TOP
    assert tiles[1].min() == 0 and tiles[1].max() == TOP
    assert (tiles[2] == 0).all()  # a constant map is drawn at the bottom of the scale
    assert (m.image[:, 4] == GAP).all()


def test_shared_normalisation_keeps_maps_comparable():
    maps = np.stack([np.zeros((2, 2)), np.ones((2, 2)) * 2]).astype(np.float32)
    m = build_montage(maps, normalise="shared", cols=2)
    assert m.image[0, 0] == 0 and m.image[0, 3] == TOP


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


def test_kernels_become_rgb_with_zero_at_grey():
    k = np.zeros((2, 3, 3, 3), np.float32)
    k[1, 0, 1, 1] = 1.0  # a red centre
    rgb = kernel_rgb(k)
    assert rgb.shape == (2, 3, 3, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0, 0]) == (128, 128, 128)
    assert tuple(rgb[1, 1, 1]) == (255, 128, 128)
    grey = kernel_rgb(np.ones((1, 1, 3, 3), np.float32))
    assert grey.shape == (1, 3, 3, 3)


def test_kernel_strip_holds_every_kernel():
    image, lay = build_kernel_strip(np.random.default_rng(1).normal(size=(96, 3, 11, 11)))
    assert image.shape == (lay.height, lay.width, 3)
    assert lay.cols * lay.rows >= 96


def test_colormap_lut_reserves_the_gutter_colour():
    lut = colormap_lut("viridis", gap_rgb=(1, 2, 3))
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert tuple(lut[GAP]) == (1, 2, 3)


def test_block_mean_shrinks_by_whole_blocks():
    img = np.arange(4 * 6 * 3, dtype=np.float32).reshape(4, 6, 3)
    small = block_mean(img, 2)
    assert small.shape == (2, 3, 3)
    assert small[0, 0, 0] == pytest.approx(img[:2, :2, 0].mean())
