"""Render the Network pane's README screenshots (1280x800, offscreen).

    python docs/network_shots.py edited      # docs/network-edited.png: AlexBN, conv1 at stride 2
    python docs/network_shots.py rf          # docs/network-rf.png: a pool5 receptive field
    python docs/network_shots.py onnx        # docs/network-onnx.png: the light ResNet50
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = os.path.dirname(os.path.abspath(__file__))


def _window():
    from convlab.cli.snapshot import _pane_ready, _wait
    from convlab.ui.app import make_app
    from convlab.ui.main_window import MainWindow

    app = make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    ready = _pane_ready(window, "network")
    return app, window, window.network, lambda: _wait(app, ready, 600)


def edited(pane, settle):
    settle()
    pane.select_row(0)
    pane.editor.controls["stride"].setValue(2)
    settle()
    row = next(i for i in range(pane.model.rowCount()) if pane.model.layer_at(i).error)
    pane.select_row(row - 1)   # pool5's maps on the right
    settle()
    pane.select_row(0)         # conv1 in the editor (stride 2) ...
    pane.table.scrollTo(pane.model.index(row + 1, 0))   # ... and fc6, marked, in the table


def rf(pane, settle):
    settle()
    pane.select_layer("pool5")
    settle()
    pane.pin("pool5", 7, 1, 1)
    _until(lambda: pane.receptiveField() is not None)


def _until(ready, seconds=600):
    import time

    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + seconds
    while not ready() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)


def onnx_model(pane, settle):
    import onnx

    settle()
    path = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light",
                        "light_resnet50.onnx")
    request = pane.open_model(path)
    _until(lambda: pane.result is not None and pane.result.settings.net == "onnx")
    settle()
    pane.select_layer("n88")
    _until(lambda: pane.view.montage is not None and pane.view.montage.title == "n88")
    pane.pin("n88", 0, 6, 7)
    _until(lambda: pane.receptiveField() is not None)
    return request


def main(which: str) -> int:
    app, window, pane, settle = _window()
    {"edited": edited, "rf": rf, "onnx": onnx_model}[which](pane, settle)
    settle()
    for _ in range(20):
        app.processEvents()
    out = os.path.join(HERE, f"network-{which}.png")
    window.grab().save(out, "PNG")
    window.close()
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "edited"))
