"""A heavy explorer run does not keep the result it replaces: a preview lets the old one go."""

from __future__ import annotations

import gc
import weakref

from tests.ui.helpers import RESULT_MS


def test_the_replaced_result_is_released_once_a_preview_shows(qtbot, window, monkeypatch):
    from convlab.pipelines import explorer as explorer_jobs

    explorer = window.explorer
    old = explorer.output.result
    maps = [weakref.ref(m) for m in old.maps.values()]
    result = weakref.ref(old)
    del old
    monkeypatch.setattr(explorer_jobs, "HEAVY_MS", 0.0)  # every run shows a preview first
    released = []

    def on_preview(_request_id):
        gc.collect()
        released.append(result() is None and all(ref() is None for ref in maps))

    explorer.previewReady.connect(on_preview)
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        explorer.set_settings(explorer.settings().replace(filters=48, stride=2))
    assert released and released[0], "the replaced result was still held while the next ran"
    assert explorer.output is not None and explorer.output.result.settings.filters == 48
