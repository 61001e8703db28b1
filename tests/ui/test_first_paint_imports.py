"""The window's first paint imports nothing it does not show (onnx, the export writer, superqt)."""

from __future__ import annotations

import os
import subprocess
import sys

# opens the window offscreen in a fresh process, waits for its first paint, lists what is loaded
FIRST_PAINT = """
import sys
from PySide6.QtCore import QEvent, QObject
from convlab.ui.app import make_app
from convlab.ui.main_window import MainWindow

app = make_app()
window = MainWindow()
painted = []

class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            painted.append(True)
        return False

watch = Watch()
window.installEventFilter(watch)
window.show()
while not painted:
    app.processEvents()
print(sorted(m for m in ("onnx", "google.protobuf", "convlab.export.maps", "superqt",
                         "convlab.models.onnx_import") if m in sys.modules))
print(window.network.model.rowCount() > 0)
sys.stdout.flush()
import os
os._exit(0)
"""


def test_the_first_paint_loads_no_onnx_and_no_export_writer(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", FIRST_PAINT], capture_output=True, text=True,
                         env=env, timeout=120, check=True)
    loaded, table_filled = out.stdout.split("\n")[:2]
    assert loaded == "[]"
    assert table_filled == "True"  # the network pane's table is there at once, for its tests

