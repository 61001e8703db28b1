"""convlab.render.colour: colormap names and tables, normalisation, the one quantiser."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.render import colour as render


def test_display_colormaps_are_one_table_of_valid_names(caplog):
    assert list(render.DISPLAY_COLORMAPS)[:6] == ["viridis", "magma", "grey", "cividis", "red-blue", "turbo"]
    for display, name in render.DISPLAY_COLORMAPS.items():
        assert render.check_colormap(display) == name == render.check_colormap(name)
        assert render.lut(display).shape == (256, 3)
    assert render.check_colormap("grey") == "gray"  # cmap's own "grey" is another map ("cmap:white")
    red_blue = render.lut("red-blue")
    assert tuple(red_blue[0]) == (5, 48, 97) and tuple(red_blue[-1]) == (103, 0, 31)  # blue -> red
    assert np.array_equal(render.lut("RdBu_r"), red_blue)
    assert not [r for r in caplog.records if r.name.startswith("cmap")]  # no alias warning for "RdBu_r"


def test_normalize_modes():
    maps = np.stack([np.array([[0.0, 2.0]]), np.array([[5.0, 5.0]]), np.array([[-1.0, 1.0]])]).astype(np.float32)
    per_map = render.normalize(maps, "map")
    assert per_map.dtype == np.float32 and per_map.shape == maps.shape
    assert np.allclose(per_map[0], [[0, 1]]) and np.allclose(per_map[1], 0) and np.allclose(per_map[2], [[0, 1]])
    layer = render.normalize(maps, "layer")
    assert np.allclose(layer[0], [[1 / 6, 3 / 6]]) and np.allclose(layer[1], 1.0)
    fixed = render.normalize(maps, ("fixed", 0, 4))
    assert np.allclose(fixed[0], [[0, 0.5]]) and np.allclose(fixed[1], 1) and np.allclose(fixed[2], [[0, 0.25]])
    assert render.parse_normalize("fixed:0,4") == ("fixed", 0.0, 4.0)
    for bad in ("fixed:4,0", "fixed:a,b", "global"):
        with pytest.raises(ValueError):
            render.parse_normalize(bad)


def test_colormaps():
    table = render.lut("viridis")
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert tuple(table[0]) == (68, 1, 84) and tuple(table[-1]) == (253, 231, 37)
    rgb = render.apply_colormap(np.array([[0.0, 1.0, np.nan]]), "gray")
    assert rgb.shape == (1, 3, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == (0, 0, 0) and tuple(rgb[0, 1]) == (255, 255, 255)
    assert tuple(rgb[0, 2]) == render.NAN_COLOR
    with pytest.raises(ValueError, match="unknown colormap"):
        render.check_colormap("no-such-map")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), mode=st.sampled_from(["map", "layer", ("fixed", -0.5, 0.7)]))
def test_quantize_is_colour_index_of_normalize_bit_for_bit(seed, mode):
    """The montage's fused path gives exactly the indices PNGs get (ties, NaN, inf, constants)."""
    from convlab.render.colour import colour_index, normalize, normalize_bounds, quantize
    from convlab.render.tiles import MapStats, _bounds

    rng = np.random.default_rng(seed)
    f, h, w = rng.integers(1, 7, size=3)
    maps = (rng.standard_normal((f, h, w)) * rng.choice([1e-3, 1.0, 1e4])).astype(np.float32)
    maps = np.round(maps * 4) / 4 if seed % 2 else maps  # many exact ties at .5 steps
    maps[0] = 1.5 if seed % 3 == 0 else maps[0]  # a constant map
    maps.flat[rng.integers(0, maps.size, size=2)] = [np.nan, np.inf][seed % 2]
    expected = colour_index(normalize(maps, mode, bounds=normalize_bounds(maps, mode)))
    assert np.array_equal(quantize(maps, mode), expected)
    if mode in ("map", "layer"):
        bounds = _bounds(maps, mode, MapStats.of(maps))
        assert np.array_equal(quantize(maps, mode, bounds=bounds), expected)
