"""The convolution's mode, groups and "same" controls, and the readout that follows them."""

from convlab.engine.explorer import ExplorerSettings, plan_explorer
from convlab.ui.widgets.controls import ControlPanel
from convlab.ui.widgets.readout import readout_html


def test_mode_groups_and_same_round_trip_through_the_panel(qtbot):
    panel = ControlPanel()
    qtbot.addWidget(panel)
    groups = panel.findChild(type(panel.groups), "groups")
    assert groups is panel.groups and (groups.minimum(), groups.maximum()) == (1, 3)
    wanted = ExplorerSettings(kernel=10, stride=1, same=True, groups=3)
    panel.set_settings(wanted)
    got = panel.settings()
    assert (got.same, got.groups, got.transposed) == (True, 3, False)
    assert got.conv_pad() == ((4, 5), (4, 5))
    assert panel.sliders["padding"].value() == 4 and not panel.sliders["padding"].isEnabled()
    groups.stepUp()  # steps of 2: 1 or 3 only
    assert groups.value() == 3
    groups.stepDown()
    assert groups.value() == 1
    panel.set_settings(ExplorerSettings(transposed=True, kernel=4, stride=2))
    assert panel.settings().transposed and not panel.same.isEnabled()
    panel.input_mode.setCurrentIndex(1)  # grey: one channel, so groups 1 only
    assert panel.groups.maximum() == 1 and panel.settings().groups == 1


def test_readout_shows_transposed_cost_and_asymmetric_padding():
    s = ExplorerSettings(transposed=True, kernel=4, stride=2, padding=1, filters=8, pool=1)
    html = readout_html(plan_explorer(s, 300, 451), s)
    assert "Transposed conv" in html and "8 × 600 × 902" in html
    assert f"{8 * 3 * 16 * 300 * 451 / 1e6:,.0f} M multiply-adds" in html  # per input pixel
    s = ExplorerSettings(kernel=10, stride=1, same=True, groups=3, pool=1)
    html = readout_html(plan_explorer(s, 300, 451), s)
    assert "96 × 300 × 451" in html and "300 + 4 + 5 − 10" in html
    assert f"{96 * 1 * 100 + 96:,} parameters" in html


def test_learned_bank_is_offered_with_where_its_kernels_come_from(qtbot):
    from convlab.engine.explorer.kernels import LEARNED_TOOLTIP
    from convlab.ui.panes.explorer import ExplorerPane
    from PySide6.QtCore import Qt

    pane = ExplorerPane()
    qtbot.addWidget(pane)
    bank = pane.controls.bank
    index = bank.findData("learned")
    assert bank.itemText(index) == "Learned from photos (ICA)"
    assert "Krizhevsky" in bank.itemData(index, Qt.ItemDataRole.ToolTipRole)
    pane.controls.set_settings(ExplorerSettings(bank="learned"))
    assert pane.settings().bank == "learned" and bank.toolTip() == LEARNED_TOOLTIP
    with qtbot.waitSignal(pane.statusChanged) as said:
        pane._say_if_learning(pane.settings())  # before the worker's first learned result
    assert "learning kernels" in said.args[0]
    assert "Learning kernels from the sample photos" in pane.controls.kernel_note.text()
    pane.shutdown()
