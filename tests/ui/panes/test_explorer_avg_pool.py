"""Average pooling in the explorer window: the Kind control, the readout, maps, explanation,
code and the remembered settings."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QComboBox, QWidget

from convlab.engine import ops
from tests.ui.helpers import RESULT_MS


def choose_average(qtbot, window):
    """Pick "Average" in the pooling Kind box with the keyboard, as a person does."""
    combo = window.findChild(QComboBox, "poolMode")
    with qtbot.waitSignal(window.explorer.resultReady, timeout=RESULT_MS,
                          check_params_cb=lambda rid: rid == window.explorer.worker.latest_id):
        combo.setFocus()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentText() == "Average"
    return combo


def test_average_pooling_maps_readout_and_code(qtbot, window):
    explorer = window.explorer
    choose_average(qtbot, window)
    s = explorer.settings()
    assert s.pool_mode == "avg" and s.cover_all  # kept for max, but average pooling has none
    assert not window.findChild(QWidget, "coverAll").isEnabled()
    result = explorer.output.result
    want = ops.avg_pool2d(result.maps["relu"][None], 3, stride=2)[0]
    np.testing.assert_array_equal(result.maps["pool"], want)
    assert want.shape[1:] == (62, 62)  # conv 126: floor((126 - 3) / 2) + 1; max pooling's 63
    text = explorer.readout.text()
    assert "Avg pooling" in text and "⌊(126 + 2×0 − 3) / 2⌋ + 1" in text
    assert "mean of its 3×3 window" in text
    explorer.bottom.setCurrentWidget(explorer.chainer_view)
    assert "F.average_pooling_2d(h, 3, stride=2)" in explorer.chainer.toPlainText()
    assert "nn.AvgPool2d(3, stride=2)" in explorer.pytorch.toPlainText()
    explorer.map_tabs.setCurrentWidget(explorer.diagram)
    qtbot.waitUntil(lambda: explorer.diagram.stage.itemText(1) == "Avg pooling", timeout=RESULT_MS)


def test_a_pinned_average_pooled_value_is_explained_as_its_windows_mean(qtbot, window):
    explorer = window.explorer
    choose_average(qtbot, window)
    explorer.pin("pool", 3, 10, 20)
    side = explorer.explain
    qtbot.waitUntil(lambda: side.panel.explanation is not None
                    and side.panel.explanation.stage == "pool"
                    and side.panel.explanation.pool_mode == "avg", timeout=RESULT_MS)
    e = side.panel.explanation
    relu = explorer.output.result.maps["relu"]
    want = ops.avg_pool2d(relu[None], 3, stride=2)[0]
    assert e.value == float(want[3, 10, 20])
    assert e.pool.value == pytest.approx(float(relu[3, 20:23, 40:43].mean()), rel=1e-5)
    text = window.findChild(QWidget, "explainPanel").text()
    assert "Average pooling" in text and "mean = sum / (3×3)" in text and "winner" not in text


def test_the_pooling_kind_is_remembered(qtbot, tmp_path):
    from convlab.ui.main_window import MainWindow

    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=store)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitUntil(first.explorer.settled, timeout=RESULT_MS)
    choose_average(qtbot, first)
    first.close()
    second = MainWindow(settings=store)
    qtbot.addWidget(second)
    second.show()
    assert second.explorer.settings().pool_mode == "avg"
    assert second.findChild(QComboBox, "poolMode").currentText() == "Average"
    second.close()
