"""Does every visible text fit its widget? A walk over a window's labels, buttons, combo boxes
and check boxes (issue 24: clipped and overlapping text at 1280x800, found by eye)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtGui import Qt as QtGuiQt  # its mightBeRichText (QtCore's Qt lacks it)
from PySide6.QtWidgets import (QAbstractButton, QCheckBox, QComboBox, QLabel, QPushButton,
                               QStyle, QStyleOptionButton, QStyleOptionComboBox, QTableView,
                               QToolButton, QWidget)

SLACK = 1  # pixels of rounding allowed


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _shown(widget: QWidget, top: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 1 and widget.height() > 1 and (
        widget.window() is top.window())


def label_problem(label: QLabel) -> str | None:
    text = label.text()
    if not text.strip() or label.pixmap() is not None and not label.pixmap().isNull():
        return None
    if hasattr(label, "shown_text"):  # an ElidedLabel: it paints "…" where the text is cut
        return None
    room = label.contentsRect().adjusted(label.margin(), label.margin(), -label.margin(),
                                         -label.margin())
    indent = max(label.indent(), 0)
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and QtGuiQt.mightBeRichText(text))
    if rich:
        doc = QTextDocument()
        doc.setDefaultFont(label.font())
        doc.setDocumentMargin(0)
        doc.setHtml(text)
        if label.wordWrap():
            doc.setTextWidth(room.width())
            need_w, need_h = doc.idealWidth(), doc.size().height()
        else:
            need_w, need_h = doc.idealWidth(), doc.size().height()
        plain = doc.toPlainText()
    else:
        fm, plain = label.fontMetrics(), text
        if label.wordWrap():
            box = fm.boundingRect(QRect(0, 0, room.width(), 100000),
                                  int(Qt.TextFlag.TextWordWrap), text)
            need_w, need_h = box.width(), box.height()
        else:
            lines = text.split("\n")
            need_w = max(fm.horizontalAdvance(line) for line in lines)
            need_h = fm.height() * len(lines)
    if plain.rstrip().endswith("…"):
        return None  # elided on purpose (the whole text is in its tooltip)
    if need_w > room.width() - indent + SLACK and not label.wordWrap():
        return f"needs {need_w:.0f} px wide, has {room.width()}"
    if need_h > room.height() + SLACK:
        return f"needs {need_h:.0f} px high, has {room.height()}"
    return None


def button_problem(button: QAbstractButton) -> str | None:
    text = _plain(button.text())
    if not text.strip():
        return None
    fm = button.fontMetrics()
    need = fm.horizontalAdvance(text)
    if isinstance(button, QCheckBox):
        opt = QStyleOptionButton()
        button.initStyleOption(opt)
        room = button.style().subElementRect(QStyle.SubElement.SE_CheckBoxContents, opt, button)
        return f"needs {need} px, has {room.width()}" if need > room.width() + SLACK else None
    icon = button.iconSize().width() + 4 if not button.icon().isNull() else 0
    if isinstance(button, QToolButton) and button.popupMode() == QToolButton.ToolButtonPopupMode.InstantPopup:
        icon += 10  # the menu arrow
    room = button.contentsRect().width() - icon - (4 if isinstance(button, QPushButton) else 2)
    return f"needs {need} px, has {room}" if need > room + SLACK else None


def combo_problem(combo: QComboBox) -> str | None:
    text = combo.currentText()
    if not text.strip() or combo.isEditable():
        return None
    opt = QStyleOptionComboBox()
    combo.initStyleOption(opt)
    room = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                        QStyle.SubControl.SC_ComboBoxEditField, combo)
    need = combo.fontMetrics().horizontalAdvance(text)
    return f"needs {need} px, has {room.width()}" if need > room.width() + SLACK else None


def glyph_problem(widget: QWidget, text: str) -> str | None:
    """A symbol the widget's font lacks is drawn as an empty box (the Pause glyph, U+23F8)."""
    fm = widget.fontMetrics()
    missing = sorted({ch for ch in text if ord(ch) >= 0x2000 and not fm.inFontUcs4(ord(ch))})
    return f"the font has no glyph for {' '.join(f'U+{ord(c):04X}' for c in missing)}" \
        if missing else None


def table_problems(table: QTableView, scrolling: bool = False) -> list[str]:
    """Header and cell texts wider than their column, and columns cut at the table's right
    edge (the Network table's "act men"); with ``scrolling``, cut columns are allowed where the
    table shows its horizontal scroll bar (a window at its minimum size)."""
    model, header, found = table.model(), table.horizontalHeader(), []
    if model is None:
        return found
    fm, pad = table.fontMetrics(), 8
    viewport = table.viewport().width()
    for col in range(model.columnCount()):
        if table.isColumnHidden(col):
            continue
        width = header.sectionSize(col)
        title = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
        reachable = scrolling and table.horizontalScrollBar().isVisible()
        if header.sectionViewportPosition(col) + width > viewport + SLACK and not reachable:
            found.append(f"{table.objectName()} column {title!r} is cut at the table's right "
                         f"edge ({header.sectionViewportPosition(col) + width} > {viewport} px)")
            continue
        fits = header.sectionResizeMode(col) == header.ResizeMode.ResizeToContents
        if not fits and header.fontMetrics().horizontalAdvance(title) + pad + 2 * SLACK > width:
            found.append(f"{table.objectName()} header {title!r}: wider than its column ({width} px)")
        for row in range(model.rowCount()):
            text = model.data(model.index(row, col))
            if text is not None and fm.horizontalAdvance(str(text)) + pad > width + SLACK:
                found.append(f"{table.objectName()} row {row} column {title!r}: {str(text)!r} "
                             f"wider than {width} px")
                break
    return found


def _describe(widget: QWidget) -> str:
    text = widget.text() if hasattr(widget, "text") else widget.currentText()
    name = widget.objectName() or type(widget).__name__
    return f"{name} {text[:40]!r}"


def text_problems(top: QWidget, *, scrolling: bool = False) -> list[str]:
    """Every visible text under ``top`` that does not fit its widget, and overlapping labels;
    ``scrolling``: see :func:`table_problems`."""
    problems = []
    labels = []
    for widget in top.findChildren(QWidget):
        if not _shown(widget, top):
            continue
        if isinstance(widget, QLabel):
            why = label_problem(widget)
            if widget.text().strip():
                labels.append(widget)
        elif isinstance(widget, QAbstractButton):
            why = button_problem(widget)
        elif isinstance(widget, QComboBox):
            why = combo_problem(widget)
        elif hasattr(widget, "needed_width"):  # a painted widget that knows what it needs
            need = widget.needed_width()
            why = f"needs {need} px, has {widget.width()}" if need > widget.width() + SLACK else None
            if why:
                problems.append(f"{widget.objectName()}: {why}")
            continue
        elif isinstance(widget, QTableView):
            problems += table_problems(widget, scrolling)
            continue
        else:
            continue
        text = widget.text() if hasattr(widget, "text") else widget.currentText()
        why = why or glyph_problem(widget, text)
        if why:
            problems.append(f"{_describe(widget)}: {why}")
    problems += overlapping(labels)
    return problems


def _global_rect(widget: QWidget) -> QRect:
    """The part of ``widget`` that is on screen (a scroll area clips), in global coordinates."""
    seen = widget.visibleRegion().boundingRect()
    return QRect(widget.mapToGlobal(seen.topLeft()), seen.size())


def overlapping(labels: list[QLabel]) -> list[str]:
    found = []
    rects = [(label, _global_rect(label)) for label in labels]
    for n, (a, ra) in enumerate(rects):
        for b, rb in rects[n + 1:]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue
            inter = ra.intersected(rb)
            if inter.width() > 2 and inter.height() > 2:
                found.append(f"{_describe(a)} overlaps {_describe(b)}")
    return found
