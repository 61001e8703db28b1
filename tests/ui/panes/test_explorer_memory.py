"""At heavy settings the explorer keeps only the shown stage's maps, and still shows any stage."""

from __future__ import annotations

from tests.ui.helpers import RESULT_MS


def test_big_stages_keep_only_the_shown_one_and_switching_recomputes(qtbot, window, monkeypatch):
    from convlab.pipelines import explorer as explorer_jobs
    from convlab.ui.panes.explorer import STAGES

    monkeypatch.setattr(explorer_jobs, "KEEP_ALL_BYTES", 1)  # every result counts as big
    explorer = window.explorer
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        explorer.set_settings(explorer.settings().replace(filters=8))
    assert list(explorer.output.result.maps) == ["pool"]
    conv = [i for i, (name, _) in enumerate(STAGES) if name == "conv"][0]
    with qtbot.waitSignal(explorer.resultReady, timeout=RESULT_MS):
        explorer.stage_group.button(conv).click()
    assert list(explorer.output.result.maps) == ["conv"] and explorer.output.stage == "conv"
    assert explorer.view.montage.count == 8
