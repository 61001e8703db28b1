"""conv2d's should_stop: asked between row tiles, small tiles, ops.Cancelled; the explorer's run."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.ops import conv as convolution
from convlab.engine.explorer import ExplorerSettings, run_explorer

from . import reference as ref


def rand(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


class Counter:
    """A should_stop that answers True from its ``stop_at``-th question on (never when None)."""

    def __init__(self, stop_at=None):
        self.asked, self.stop_at = 0, stop_at

    def __call__(self):
        self.asked += 1
        return self.stop_at is not None and self.asked >= self.stop_at


def test_never_stopping_gives_the_same_result_in_small_tiles(monkeypatch):
    x, W, b = rand(1, 1, 2, 11, 9), rand(2, 3, 2, 3, 3), rand(3, 3)
    row_flops = 2 * 3 * 2 * 9 * 4                                      # out, in, 3x3, 4 columns
    monkeypatch.setattr(convolution, "STOP_TILE_FLOPS", 2 * row_flops)         # two output rows a tile
    ask = Counter()
    y = ops.conv2d(x, W, b, pad=((1, 0), (0, 1)), stride=(1, 2), should_stop=ask)
    np.testing.assert_allclose(y, ref.conv2d(x, W, b, pad=((1, 0), (0, 1)), stride=(1, 2)),
                               rtol=1e-5, atol=1e-5)
    assert ask.asked == 5                                              # 10 rows, 2 a tile


def test_stopping_raises_cancelled_between_tiles(monkeypatch):
    x, W = rand(4, 1, 3, 40, 40), rand(5, 8, 3, 5, 5)
    monkeypatch.setattr(convolution, "STOP_TILE_FLOPS", 1)                     # one row a tile
    ask = Counter(stop_at=4)
    with pytest.raises(ops.Cancelled, match="after 3 of 36 output rows"):
        ops.conv2d(x, W, should_stop=ask)
    assert ask.asked == 4


def test_heavy_explorer_tiles_are_small_enough_to_stop_quickly():
    """512 px, kernel 15, stride 1, 256 filters: each tile is at most STOP_TILE_FLOPS of work."""
    row_flops = 2 * 256 * 3 * 15 * 15 * 498
    rows = max(1, convolution.STOP_TILE_FLOPS // row_flops)
    assert rows * row_flops <= convolution.STOP_TILE_FLOPS and 498 // rows >= 50


def test_explorer_run_stops_inside_the_convolution():
    image = np.random.default_rng(6).random((64, 64, 3), dtype=np.float32)
    settings = ExplorerSettings(kernel=15, stride=1, filters=256, pool=2, pool_stride=1)
    full = run_explorer(image, settings)
    assert full.completed and list(full.maps) == ["conv", "bn", "relu", "pool"]
    saved = convolution.STOP_TILE_FLOPS
    convolution.STOP_TILE_FLOPS = 1                                            # one row a tile
    try:
        ask = Counter(stop_at=3)                                       # 1: before conv; 2, 3: tiles
        stopped = run_explorer(image, settings, should_stop=ask)
    finally:
        convolution.STOP_TILE_FLOPS = saved
    assert not stopped.completed and stopped.maps == {} and ask.asked == 3


def test_a_stoppable_convolution_gives_the_same_bits_as_a_plain_one():
    """The window passes should_stop and convlab export does not: their maps must be equal."""
    import numpy as np

    from convlab.engine import ops

    rng = np.random.default_rng(0)
    x = rng.random((1, 3, 512, 512), dtype=np.float32)
    W = rng.standard_normal((96, 3, 11, 11)).astype(np.float32)
    plain = ops.conv2d(x, W, stride=4)
    stoppable = ops.conv2d(x, W, stride=4, should_stop=lambda: False)
    assert np.array_equal(plain, stoppable)
