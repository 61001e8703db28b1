"""The shape readout's text: integer arithmetic, filled in at once on the GUI thread."""

from convlab.engine.explorer import ExplorerSettings, plan_explorer
from convlab.pipelines.explorer import first_error
from convlab.ui.widgets.readout import readout_html


def test_readout_fills_the_numbers_in_at_the_defaults():
    s = ExplorerSettings()
    html = readout_html(plan_explorer(s, 512, 512), s, shown="pool")
    assert "3 × 512 × 512" in html
    assert "96 × 126 × 126" in html and "⌊501/4⌋ + 1 = 126" in html
    assert "96 × 63 × 63" in html and "⌈123/2⌉ + 1 = 63" in html
    assert "never covered" in html  # 501 is not a multiple of 4
    assert "34,944 parameters" in html


def test_readout_explains_a_setting_without_output():
    s = ExplorerSettings(kernel=15, dilation=4, pool=1)
    plan = plan_explorer(s, 40, 40)
    assert first_error(plan)
    assert "no output" in readout_html(plan, s)


def test_readout_grows_at_once_and_gives_a_line_back_only_after_the_steps_settle(qtbot):
    """A note line that comes and goes with every slider step must not re-lay out the pane
    below on every step: the height grows at once and shrinks SHRINK_MS later."""
    from convlab.ui.widgets import readout as readout_module
    from convlab.ui.widgets.readout import ShapeReadout

    view = ShapeReadout()
    qtbot.addWidget(view)
    view.resize(700, 40)
    view.show()
    view._shrink.setInterval(150)  # SHRINK_MS, shortened for the test
    view.setText("one line")
    qtbot.waitUntil(lambda: not view._shrink.isActive())
    short = view.height()
    view.setText("one line<br>two<br>three<br>four")
    tall = view.height()
    assert tall > short  # at once
    view.setText("one line")
    assert view.height() == tall and view._shrink.isActive()  # the spare lines stay a while
    view.setText("one line<br>two<br>three<br>four")
    assert view.height() == tall and not view._shrink.isActive()  # needed again: no move
    view.setText("one line")
    qtbot.waitUntil(lambda: view.height() == short, timeout=2000)
    assert readout_module.SHRINK_MS >= 500  # long enough to outlast a step between two settings
