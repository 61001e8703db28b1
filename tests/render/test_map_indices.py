"""A montage colours only what it shows and makes a map's full indices when asked."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from convlab.render.colour import colour_index, normalize
from convlab.render.tiles import MapIndices, build_montage


@pytest.mark.parametrize("mode", ["map", "layer"])
def test_map_indices_are_the_one_quantiser_of_the_full_maps(mode):
    maps = np.random.default_rng(0).standard_normal((5, 17, 23)).astype(np.float32)
    maps[2] = 1.5  # a constant map
    want = colour_index(normalize(maps, mode))
    indices = MapIndices(maps, mode)
    for i in range(-1, 5):
        np.testing.assert_array_equal(indices[i], want[i])
    for step in (1, 2, 3):
        np.testing.assert_array_equal(indices.subsampled(step, block_bytes=64),
                                      want[:, ::step, ::step])
    np.testing.assert_array_equal(indices.subsampled(1, 1, 3), want[1:3])


def test_a_montage_holds_no_full_index_copy_and_peaks_below_its_maps():
    maps = np.random.default_rng(1).standard_normal((64, 512, 512)).astype(np.float32)
    build_montage(maps[:2, :8, :8])  # warm
    tracemalloc.start()
    try:
        montage = build_montage(maps)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # before: an (F, h, w) uint8 copy held and the normaliser's 3-4 float copies at once
    assert not isinstance(montage.indices, np.ndarray)
    assert peak < maps.nbytes, f"peak {peak / 2**20:.0f} MB for {maps.nbytes / 2**20:.0f} MB maps"
    i = 7
    np.testing.assert_array_equal(montage.indices[i], colour_index(normalize(maps, "map"))[i])
