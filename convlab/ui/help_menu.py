"""The Help menu: keyboard shortcuts, "What am I looking at?" and About, each a non-modal window.

The shortcuts page is read from the window's own actions (so it never lists a key that does not
work), plus the keys that panes handle themselves. "What am I looking at?" says what each view
of the pane in front shows, with the formulas it computes (Dumoulin and Visin, "A guide to
convolution arithmetic for deep learning", 2016; Ioffe and Szegedy, 2015; Chainer's
``F.max_pooling_2d`` with ``cover_all``). About gives the version, the licences and the array
backend in use.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout

from convlab import __version__

PANE_KEYS = (
    ("Explorer: ← → ↑ ↓", "move the pinned value by one output pixel"),
    ("Explorer: Escape", "unpin the value (the panel follows the mouse again)"),
    ("Arithmetic diagram: Space", "play or pause the walk"),
    ("Arithmetic diagram: ← →", "one window back or forward"),
    ("One-map window: ← → ↑ ↓", "the previous or next map"),
    ("Layer editor: Ctrl+Z, Ctrl+Shift+Z", "undo or redo the layer edit, also from a number box"),
    ("Any view: wheel, drag, double-click", "zoom, pan, fit"),
)

EXPLORER_PAGE = """
<h3>The Explorer: one convolution layer on your photo</h3>
<p><b>Shape readout</b> (top): every stage's output shape with its formula filled in. A
convolution with kernel <i>k</i>, stride <i>s</i>, padding <i>p</i> and dilation <i>d</i> gives
<br><code>out = &lfloor;(in + 2p &minus; d(k &minus; 1) &minus; 1) / s&rfloor; + 1</code>;
with max pooling's <code>cover_all</code> (Chainer's default) a last partial window counts:
<code>out = &lceil;(in + 2p &minus; k) / s&rceil; + 1</code>.</p>
<p><b>Feature maps</b>: one tile per filter, the output of the stage chosen above them
(Conv, BN, ReLU, Pool). Bright is a strong response. Each output value is
<code>y[o, i, j] = b[o] + &Sigma;<sub>c,u,v</sub> W[o, c, u, v] &middot;
x[c, s&middot;i + d&middot;u &minus; p, s&middot;j + d&middot;v &minus; p]</code>.
BatchNormalization: <code>y = &gamma;(x &minus; &mu;)/&radic;(&sigma;&sup2; + &epsilon;) + &beta;</code>
with this map's mean and variance; ReLU: <code>max(x, 0)</code>; max pooling: the largest value
in each window; average pooling (Pooling &gt; Kind): its mean, <code>&Sigma; / k&sup2;</code>, with
no <code>cover_all</code> (the size rounds down).</p>
<p><b>Pin as A</b> (Ctrl+Shift+A): keeps the shapes and maps on screen as A, beside the live
ones, so you see what one change did; Clear A removes it. Ctrl+Z undoes any setting.</p>
<p><b>Input and "One value"</b> (right): hover or click a map position; its input window is drawn
on the photo and the panel shows the arithmetic with the real numbers, down to the pooled
value through the winner's convolution, BN and ReLU.</p>
<p><b>Arithmetic diagram</b>: the window walking over the padded input, cell by cell, as in
Dumoulin and Visin's figures. <b>Kernels</b>: the weights themselves (grey 0). <b>Chainer /
PyTorch code</b>: the same layer in either framework.</p>
"""

NETWORK_PAGE = """
<h3>The Network pane: a whole network, layer by layer</h3>
<p><b>Pictures</b> (top): the photo resized (shorter side 256) with the centre crop, the crop the
network reads, and the input after the mean is subtracted.</p>
<p><b>Table</b>: one row per layer. <i>output</i> is C &times; H &times; W;
<i>params</i> = C<sub>out</sub>&middot;C<sub>in</sub>&middot;k&sup2; (+ C<sub>out</sub> biases)
for a convolution; <i>mult-adds</i> = params &times; H<sub>out</sub> &times; W<sub>out</sub>;
<i>RF</i> and <i>jump</i> follow the recurrence
<code>RF<sub>l</sub> = RF<sub>l&minus;1</sub> + (k<sub>l</sub> &minus; 1)&middot;d<sub>l</sub>&middot;jump<sub>l&minus;1</sub></code>,
<code>jump<sub>l</sub> = jump<sub>l&minus;1</sub>&middot;s<sub>l</sub></code>;
<i>ms</i> is the time the layer took; <i>dead</i> the share of zeros after a ReLU;
<i>act mem</i> and <i>param mem</i> the float32 bytes of its output and weights.</p>
<p><b>Maps</b>: the selected layer's output. Click a position: its receptive field is drawn on
the crop, dashed where it reaches into the padding. <b>Layer editor</b>: change any layer; the
table follows at once, and Ctrl+Z undoes it.</p>
"""

LIBRARIES = (("PySide6 (Qt for Python)", "LGPL-3.0"), ("NumPy", "BSD-3-Clause"),
             ("pyqtgraph", "MIT"), ("superqt", "BSD-3-Clause"), ("cmap", "BSD-3-Clause"),
             ("Pillow", "MIT-CMU (HPND)"), ("onnx (optional)", "Apache-2.0"))


class HelpWindow(QDialog):
    """A non-modal window holding one page of HTML."""

    def __init__(self, parent, name: str, title: str):
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setModal(False)
        self.resize(560, 520)
        self.browser = QTextBrowser(openExternalLinks=True)
        QVBoxLayout(self).addWidget(self.browser)

    def show_html(self, text: str) -> None:
        self.browser.setHtml(text)
        self.show()
        self.raise_()

    def text(self) -> str:
        return self.browser.toPlainText()


def shortcuts_html(window) -> str:
    """Every action of the window that has a key, then the keys panes handle themselves."""
    rows = {}
    for action in window.findChildren(QAction):
        key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&", "").rstrip("…").strip()
        if key and text:
            rows.setdefault(key, text)
    cells = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(t)}</td></tr>"
                    for k, t in sorted(rows.items(), key=lambda kv: kv[1].lower()))
    cells += "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(t)}</td></tr>"
                     for k, t in PANE_KEYS)
    return f"<h3>Keyboard shortcuts</h3><table cellspacing='2' cellpadding='3'>{cells}</table>"


def about_html() -> str:
    from convlab.engine.backend import get_backend

    backend = get_backend()
    why = f" ({html.escape(backend.reason)})" if backend.reason else ""
    libs = "".join(f"<li>{name}: {licence}</li>" for name, licence in LIBRARIES)
    return (f"<h3>ConvLab {__version__}</h3><p>A desktop laboratory for convolution, with its "
            f"own NumPy engine.</p><p><b>Backend in use</b>: {html.escape(backend.description)}"
            f"{why}</p><p><b>Licence</b>: ConvLab is MIT-licensed. The sample photos come from "
            f"scikit-image's sample data and carry no copyright restriction (see "
            f"resources/samples/LICENSE.md).</p><p><b>Libraries</b></p><ul>{libs}</ul>")


class HelpMenu:
    """Builds the Help menu of ``window`` and keeps one window per page."""

    def __init__(self, window):
        self.window = window
        self.windows: dict[str, HelpWindow] = {}
        menu = window.menuBar().addMenu("&Help")
        for text, slot, key, name in (
                ("&Keyboard shortcuts", self.show_shortcuts, "F1", "actionShortcuts"),
                ("&What am I looking at?", self.show_guide, "Shift+F1", "actionWhatIsThis"),
                ("&About ConvLab", self.show_about, None, "actionAbout")):
            action = QAction(text, window, objectName=name)
            if key:
                action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _=False, s=slot: s())
            menu.addAction(action)

    def _page(self, name: str, title: str, text: str) -> HelpWindow:
        page = self.windows.get(name)
        if page is None:
            page = self.windows[name] = HelpWindow(self.window, name, title)
            page.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        page.show_html(text)
        return page

    def show_shortcuts(self) -> HelpWindow:
        return self._page("helpShortcuts", "Keyboard shortcuts", shortcuts_html(self.window))

    def show_guide(self) -> HelpWindow:
        network = self.window.current_pane() is getattr(self.window, "network", None)
        first, second = (NETWORK_PAGE, EXPLORER_PAGE) if network else (EXPLORER_PAGE, NETWORK_PAGE)
        return self._page("helpGuide", "What am I looking at?", first + "<hr>" + second)

    def show_about(self) -> HelpWindow:
        return self._page("helpAbout", "About ConvLab", about_html())
