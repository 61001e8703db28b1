"""The shape readout as rich text: every stage's C × H × W with its formula, numbers filled in.

Built from :func:`convlab.engine.explorer.plan_explorer` (integer arithmetic only), so it is
instant on the GUI thread and always matches the settings, even before the maps arrive.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser

from convlab.engine.arithmetic import conv_macs, conv_params
from convlab.engine.explorer import ExplorerSettings, StagePlan
from convlab.engine.wording import count_noun, macs_text, shape_text

LABELS = {"input": "Input", "conv": "Convolution", "bn": "BN", "relu": "ReLU",
          "pool": "Max pooling"}
MUTED = "#8b95a3"
ACCENT = "#7cc4ff"
ERROR = "#ff7b72"
SHOWN = "rgba(124, 196, 255, 0.13)"
TIMES = " × "  # the readout's shape separator


TOOLTIP = ("Output shapes as channels × height × width. Per side, out = ⌊(in + 2·pad − span) / "
           "stride⌋ + 1, where span = dilation·(k − 1) + 1 (with 'same' padding of an even "
           "span the two sides differ by one: in + top + bottom); max pooling with cover_all "
           "rounds up (average pooling has no cover_all: it rounds down); a transposed "
           "convolution gives stride·(in − 1) + span − 2·pad. "
           "The layer's arguments alone do not fix the number of output pixels: the input size "
           "decides it too.")


def _cost(s: ExplorerSettings, stage: StagePlan, input_hw: tuple[int, int]) -> str:
    """Parameters and multiply-adds; a transposed convolution does one per weight per input pixel."""
    c_in, g = s.in_channels, s.groups
    params = conv_params(c_in, s.filters, s.kernel, s.kernel, groups=g)
    h, w = input_hw if s.transposed else stage.shape[1:]
    macs = conv_macs(c_in, s.filters, s.kernel, s.kernel, h, w, groups=g)
    return f"{count_noun(params, 'parameter')} · {macs_text(macs)} multiply-adds"


def _row(label: str, shape: str, first: str, notes: list[str], shown: bool,
         colour: str = "") -> str:
    bg = f" style='background:{SHOWN}'" if shown else ""
    style = f"color:{colour};" if colour else ""
    extra = "".join(f"<br><span style='color:{MUTED}'>{n}</span>" for n in notes)
    return (f"<tr{bg}><td style='padding:2px 10px 2px 6px;{style}'><b>{label}</b></td>"
            f"<td style='padding:2px 14px 2px 0; font-family:monospace; font-size:15px;"
            f" white-space:nowrap;{style}'><b>{shape}</b></td>"
            f"<td style='padding:2px 6px 2px 0;{style}'>{first}{extra}</td></tr>")


def _formula_line(s: ExplorerSettings, st: StagePlan, input_hw: tuple[int, int]) -> str:
    text = f"<span style='font-family:monospace; color:{ACCENT}'>{escape(st.formula)}</span>"
    if st.name == "conv":
        text += f"<span style='color:{MUTED}'> · {_cost(s, st, input_hw)}</span>"
    return text


def _merged(plan: list[StagePlan]) -> list[tuple[list[StagePlan], str]]:
    """Stages to show, with BN and ReLU (shape unchanged) on one row."""
    rows, same = [], [st for st in plan if st.name in ("bn", "relu") and not st.error]
    for st in plan:
        if st in same:
            if st is same[0]:
                rows.append((same, " + ".join(LABELS[x.name] for x in same)))
            continue
        rows.append(([st], LABELS.get(st.name, st.name)))
    return rows


def readout_html(plan: list[StagePlan], settings: ExplorerSettings, *, image_note: str = "",
                 shown: str | None = None) -> str:
    """The whole readout; ``shown`` marks the stage whose maps are on screen."""
    rows = []
    input_hw = plan[0].shape[1:] if plan and plan[0].shape else (0, 0)
    for stages, label in _merged(plan):
        st = stages[0]
        if st.name == "conv" and settings.transposed:
            label = "Transposed conv"
        if st.name == "pool" and settings.pool_mode == "avg":
            label = "Avg pooling"
        is_shown = any(x.name == shown for x in stages)
        if st.error:
            rows.append(_row(label, "no output", escape(st.error), [], False, ERROR))
        elif st.name == "input":
            rows.append(_row(label, shape_text(st.shape, TIMES), escape(image_note or st.note), [],
                             is_shown))
        elif st.formula:
            notes = [escape(st.note)] if st.note else ["&nbsp;"]  # its line kept: nothing moves
            rows.append(_row(label, shape_text(st.shape, TIMES), _formula_line(settings, st, input_hw),
                             notes,
                             is_shown))
        else:
            what = "; ".join(f"{LABELS[x.name]}: {x.note.replace('shape unchanged; ', '')}"
                             for x in stages)
            rows.append(_row(label, shape_text(st.shape, TIMES),
                             f"<span style='color:{MUTED}'>shape unchanged · {escape(what)}</span>",
                             [], is_shown))
    if settings.pool == 1 and plan and not any(st.error for st in plan):
        rows.append(_row("Avg pooling" if settings.pool_mode == "avg" else LABELS["pool"], "off", f"<span style='color:{MUTED}'>a window of 1 keeps "
                         "every value: no pooling (raise Window to pool)</span>", [], False))
    return "<table cellspacing='0'>" + "".join(rows) + "</table>"


def first_error(plan: list[StagePlan]) -> str:
    return next((st.error for st in plan if st.error), "")


class ShapeReadout(QTextBrowser):
    """The readout widget. ``text()`` is the rich text last set, as with a QLabel.

    A read-only QTextBrowser rather than a QLabel: relaying out the table costs it about a
    quarter of what a word-wrapping rich-text label costs on every slider step. Its height
    follows the content but never shrinks at one width, so the maps below it do not jump when
    a note (cover_all's, the stride's) comes or goes; every formula keeps a line for its note.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("shapeReadout")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setOpenLinks(False)
        self.setAcceptDrops(False)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.document().setDocumentMargin(2)
        self._html = ""
        self._tallest = (0, 0)  # (viewport width, the most height the text needed at it)

    def text(self) -> str:
        return self._html

    def setText(self, html: str) -> None:
        if html == self._html:
            return
        self._html = html
        self.setHtml(html)
        self._fit()

    def _fit(self) -> None:
        width = self.viewport().width()
        self.document().setTextWidth(width)
        needed = int(self.document().size().height()) + 2 * self.frameWidth() + 2
        height = max(needed, self._tallest[1]) if self._tallest[0] == width else needed
        self._tallest = (width, height)
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit()
