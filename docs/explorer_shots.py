"""Render the explorer's README screenshots that need a few clicks first (1280x800, offscreen).

    python docs/explorer_shots.py compare   # docs/explorer-compare.png: A at stride 4, now 2
    python docs/explorer_shots.py avg       # docs/explorer-avg.png: average pooling, a value pinned

(``docs/explorer.png`` is ``convlab snapshot --out docs/explorer.png``.)
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = os.path.dirname(os.path.abspath(__file__))


def compare(window, settle):
    from PySide6.QtWidgets import QPushButton, QWidget

    window.findChild(QPushButton, "pinA").click()  # the defaults: AlexBN's conv1 block
    window.findChild(QWidget, "stride").setValue(2)
    settle()


def avg(window, settle):
    from PySide6.QtWidgets import QComboBox

    window.findChild(QComboBox, "poolMode").setCurrentIndex(1)  # Average
    settle()
    window.explorer.pin("pool", 3, 10, 20)
    settle()


def main(which: str) -> int:
    from convlab.cli.snapshot import _pane_ready, _wait
    from convlab.ui.app import make_app
    from convlab.ui.main_window import MainWindow

    app = make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    ready = _pane_ready(window, "explorer")
    settle = lambda: _wait(app, ready, 600)  # noqa: E731
    settle()
    {"compare": compare, "avg": avg}[which](window, settle)
    for _ in range(20):
        app.processEvents()
    out = os.path.join(HERE, f"explorer-{which}.png")
    window.grab().save(out, "PNG")
    window.close()
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "compare"))
