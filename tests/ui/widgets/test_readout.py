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


def test_readout_grows_at_once_and_keeps_its_height_while_notes_come_and_go(qtbot):
    """A note line that comes and goes with the slider steps (kernel 10, 11, 12 at stride 4)
    must not re-lay out and repaint the pane below on every step: at one width the readout
    grows at once and never shrinks; a new width fits the text afresh."""
    from convlab.ui.widgets.readout import ShapeReadout

    view = ShapeReadout()
    qtbot.addWidget(view)
    view.resize(700, 40)
    view.show()
    view.setText("one line")
    short = view.height()
    view.setText("one line<br>two<br>three<br>four")
    tall = view.height()
    assert tall > short  # at once
    view.setText("one line")
    assert view.height() == tall  # the spare lines stay: nothing below moves
    view.resize(650, tall)
    qtbot.waitUntil(lambda: view.height() < tall)  # a new width: fitted to the text again
