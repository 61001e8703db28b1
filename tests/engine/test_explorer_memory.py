"""The explorer's run holds one copy of a heavy stage that nobody keeps, with the same bits."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from convlab.engine import ops
from convlab.engine.explorer import blocks as engine
from convlab.engine.explorer import (ExplorerSettings, batch_norm_in_place, relu_in_place,
                                     run_explorer)


@pytest.mark.parametrize("shape, block", [((1, 7, 13, 11), 1 << 20), ((1, 9, 40, 30), 4800),
                                          ((1, 1, 5, 5), 1), ((2, 5, 6, 4), 200)])
def test_batch_norm_in_place_gives_the_bits_of_ops_batch_norm(shape, block):
    x = (np.random.default_rng(1).standard_normal(shape) * 3 + 1).astype(np.float32)
    c = shape[1]
    want = ops.batch_norm(x, np.ones(c, np.float32), np.zeros(c, np.float32))
    got = batch_norm_in_place(x.copy(), block_bytes=block)  # block 1: a channel at a time
    np.testing.assert_array_equal(got, want)


def test_stages_nobody_keeps_are_worked_in_place_same_values():
    image = np.random.default_rng(2).random((60, 70, 3), dtype=np.float32)
    s = ExplorerSettings(kernel=3, stride=1, filters=16, pool=1)
    full = run_explorer(image, s)
    kept = run_explorer(image, s, keep=("relu",))
    assert list(kept.maps) == ["relu"]
    np.testing.assert_array_equal(kept.maps["relu"], full.maps["relu"])
    np.testing.assert_array_equal(full.maps["bn"], ops.batch_norm(
        full.maps["conv"][None], np.ones(16, np.float32), np.zeros(16, np.float32))[0])


def test_a_heavy_run_keeping_one_stage_peaks_near_one_stage(monkeypatch):
    """conv -> BN -> ReLU keeping ReLU: BN and ReLU overwrite the conv output (before: the
    variance's temporary, BN's output and ReLU's output came on top, about 3 stages). The run
    takes 4 MB blocks of filters here (``BLOCK_BYTES``): besides the kept stage, it holds
    about one block at a time."""
    monkeypatch.setattr(engine, "BLOCK_BYTES", 4 << 20)
    monkeypatch.setattr(engine, "DEPTH_PER_FILTER", 1 << 30)
    image = np.random.default_rng(3).random((256, 256, 3), dtype=np.float32)
    s = ExplorerSettings(kernel=1, stride=1, filters=128, pool=1)
    stage = 128 * 256 * 256 * 4  # bytes of one stage's float32 maps, 32 MB
    run_explorer(image, s, keep=("relu",))  # warm: the bank and the kernels' caches
    tracemalloc.start()
    try:
        result = run_explorer(image, s, keep=("relu",))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.maps["relu"].nbytes == stage
    assert peak < 1.5 * stage, f"peak {peak / 2**20:.0f} MB for a {stage / 2**20:.0f} MB stage"


def test_relu_in_place_gives_the_bits_of_ops_relu():
    x = np.random.default_rng(4).standard_normal((1, 3, 300, 301)).astype(np.float32)
    x.reshape(-1)[:5] = [np.nan, -0.0, 0.0, np.inf, -np.inf]
    want = ops.relu(x)
    got = relu_in_place(x.copy(), block=1000)
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))
