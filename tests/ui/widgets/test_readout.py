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
