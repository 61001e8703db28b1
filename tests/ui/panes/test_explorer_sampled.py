"""A stage too big to keep is held as its montage's sample: the window still shows the run's
values, the one-map window a recomputed map, and export writes the run's bits."""

from __future__ import annotations

import numpy as np
from PIL import Image

from convlab.engine.explorer import run_explorer
from convlab.engine.explorer.sampled import SampledMaps
from convlab.render import colour, tiles
from tests.ui.helpers import RESULT_MS

EXPORT_MS = max(RESULT_MS, 60_000)


def test_a_sampled_stage_shows_and_exports_the_run(qtbot, window, tmp_path):
    explorer = window.explorer
    settings = explorer.settings().replace(kernel=3, stride=1, padding=1, filters=64, pool=1)
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        explorer.set_settings(settings)
    qtbot.waitUntil(lambda: explorer.output is not None and not explorer.output.preview,
                    timeout=RESULT_MS)
    out = explorer.output
    maps = out.result.maps[out.stage]
    full = run_explorer(explorer.loaded.image, settings).maps[out.stage]
    assert isinstance(maps, SampledMaps) and maps.shape == full.shape
    assert maps.nbytes < 0.3 * full.nbytes, "the result holds the stage"
    montage = explorer.view.montage
    assert montage.layout.step == maps.step > 1
    lay = montage.layout
    for index, ty, tx in ((0, 0, 0), (5, 7, 3), (63, lay.tile_h - 1, lay.tile_w - 1)):
        row, col = divmod(index, lay.cols)
        x, y = col * (lay.tile_w + lay.gap) + tx, row * (lay.tile_h + lay.gap) + ty
        i, r, c, value = montage.lookup(x, y)
        assert (i, r, c) == (index, ty * lay.step, tx * lay.step)
        assert value == full[i, r, c]  # the run's own value, not a recomputed one

    dialog = explorer.view.open_map(9)  # recomputed alone: the same to float32 rounding
    lo, hi = colour.normalize_bounds(full, montage.mode)
    want = colour.quantize(full[9:10], montage.mode, bounds=(lo[9:10], hi[9:10]))[0]
    got = montage.indices[9]
    assert got.shape == want.shape and np.abs(got.astype(int) - want).max() <= 1
    assert np.mean(got != want) < 1e-3
    dialog.close()

    path = tmp_path / "map9.png"
    with qtbot.waitSignal(window.exporter.exported, timeout=EXPORT_MS):
        window.exporter.export_map(str(path), index=9)
    cmap, mode = explorer.view.look()
    picture = tiles.picture(full[9], cmap, mode, bounds=(lo[9:10], hi[9:10]))
    with Image.open(path) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), picture)  # the run's bits
