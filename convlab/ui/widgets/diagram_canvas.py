"""Painting the arithmetic diagram (:mod:`convlab.render.diagram`) with QPainter.

Two pictures of the same walk: the *grid* (Dumoulin and Visin's figures: padded input cells,
the window with its dilation gaps, the stride path, the output grid filling in) and the
*photo* (the window walking over the real input while the output map fills in). Pure geometry
on the GUI thread: nothing here waits for the worker; the photo's output map appears once a
result has arrived.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from convlab.render.colour import apply_colormap, normalize
from convlab.render.diagram import Diagram, WindowBox

BG = QColor(30, 32, 36)
INPUT = QColor(91, 143, 214)
PADDING = QColor(70, 76, 88)
INSERTED = QColor(150, 158, 172)  # the zeros a transposed convolution spreads its input by
UNCOVERED = QColor(217, 83, 79)
WINDOW = QColor(255, 176, 0)
DONE = QColor(63, 170, 150)
TEXT = QColor(220, 224, 230)
MUTED = QColor(139, 149, 163)


def rgb_image(rgb: np.ndarray) -> QImage:
    """``(h, w, 3)`` uint8 -> a QImage owning its copy of the pixels."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def map_image(values: np.ndarray) -> QImage:
    """One map ``(h, w)`` as a viridis picture scaled to its own min..max."""
    unit = normalize(values[None].astype(np.float32), "map")[0]
    return rgb_image(apply_colormap(unit, "viridis"))


class DiagramCanvas(QWidget):
    """Paints ``diagram`` at window ``index``; ``photo``/``output`` used in photo mode."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("diagramCanvas")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 40)  # small windows keep their layout; the grid scales
        self.diagram: Diagram | None = None
        self.index = 0
        self.on_photo = False
        self.photo: QImage | None = None  # the input the walk runs over (photo or conv map)
        self.output: QImage | None = None  # the stage's first output map, once computed
        self.message = ""
        self.last_cell = 0.0  # cell size of the last grid painted (tests read it)
        self.titles: list = []  # (text, QRectF) of the titles last painted (tests read them)
        self._background = None  # (key, QPixmap): the grid's still part, drawn once per layout

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), BG)
        if self.diagram is None:
            p.setPen(MUTED)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.message)
        elif self.on_photo:
            self._paint_photo(p, self.diagram, self.diagram.window(self.index))
        else:
            self._paint_grid(p, self.diagram, self.diagram.window(self.index))
        p.end()

    # -- the grid ------------------------------------------------------------------------------
    def _layout(self, d: Diagram) -> tuple[float, QPointF, QPointF]:
        """Cell size and the top-left corners of the input and output grids."""
        rows_in = d.rows.shown + 1
        cols_in, cols_out = d.cols.shown + 1, d.out_cols + 1
        width, height = self.width() - 40, self.height() - 50
        cell = min(width / (cols_in + cols_out + 2), height / max(rows_in, d.out_rows + 1), 34.0)
        left = 20 + (width - cell * (cols_in + cols_out + 2)) / 2
        top = 34 + (height - cell * rows_in) / 2
        return cell, QPointF(left, top), QPointF(left + cell * (cols_in + 2), top)

    def _paint_grid(self, p: QPainter, d: Diagram, win: WindowBox) -> None:
        """The still part (cells, labels, legend) from a cached picture, then what moves."""
        cell, origin, out_origin = self._layout(d)
        self.last_cell = cell

        def rect(r, c, at=origin):  # padded cell (r, c) on screen
            return QRectF(at.x() + (c - d.cols.first) * cell, at.y() + (r - d.rows.first) * cell,
                          cell, cell)

        key = (d, self.width(), self.height(), self.devicePixelRatioF())
        if self._background is None or self._background[0] != key:
            picture = QPixmap(self.size() * self.devicePixelRatioF())
            picture.setDevicePixelRatio(self.devicePixelRatioF())
            picture.fill(BG)
            still = QPainter(picture)
            self._paint_cells(still, d, rect)
            self._paint_overhang(still, d, rect)
            self._grid_labels(still, d, origin, out_origin, cell)
            still.end()
            self._background = (key, picture, self.titles)
        p.drawPixmap(0, 0, self._background[1])
        self.titles = self._background[2]
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_path(p, d, win, rect, cell)
        self._paint_window(p, win, rect)
        self._paint_output(p, d, win, cell, out_origin)

    def _paint_cells(self, p, d: Diagram, rect) -> None:
        """Input, padding, inserted zeros and never-covered cells."""
        unspanned_r, unspanned_c = set(d.rows.unspanned()), set(d.cols.unspanned())
        for r in range(d.rows.first, min(d.rows.first + d.rows.shown, d.rows.cells)):
            for c in range(d.cols.first, min(d.cols.first + d.cols.shown, d.cols.cells)):
                real = d.rows.is_input(r) and d.cols.is_input(c)
                pad = not (d.rows.before <= r < d.rows.cells - d.rows.after
                           and d.cols.before <= c < d.cols.cells - d.cols.after)
                colour = INPUT if real else (PADDING if pad else INSERTED)
                if (r in unspanned_r or c in unspanned_c) and real:
                    colour = UNCOVERED
                p.fillRect(rect(r, c).adjusted(1, 1, -1, -1), colour)

    def _paint_overhang(self, p, d: Diagram, rect) -> None:
        """Cells past the padded edge that the last partial window (cover_all) reaches."""
        pen = QPen(MUTED, 1, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        rows = range(d.rows.first, min(d.rows.first + d.rows.shown, d.rows.cells + d.rows.extra))
        cols = range(d.cols.first, min(d.cols.first + d.cols.shown, d.cols.cells + d.cols.extra))
        for r in rows:
            for c in cols:
                if r >= d.rows.cells or c >= d.cols.cells:
                    p.drawRect(rect(r, c).adjusted(2, 2, -2, -2))

    def _paint_path(self, p, d: Diagram, win: WindowBox, rect, cell) -> None:
        """The stride path: a dot at every window's first tap, visited ones brighter."""
        visited, ahead = QColor(WINDOW), QColor(MUTED)
        visited.setAlpha(200)
        ahead.setAlpha(110)
        p.setPen(Qt.PenStyle.NoPen)
        n = 0
        for i in d.rows.played():
            for j in d.cols.played():
                p.setBrush(visited if n <= win.index else ahead)
                p.drawEllipse(rect(d.rows.start(i), d.cols.start(j)).center(), cell * 0.12, cell * 0.12)
                n += 1

    def _paint_window(self, p, win: WindowBox, rect) -> None:
        fill = QColor(WINDOW)
        fill.setAlpha(225)
        for r in win.rows:
            for c in win.cols:
                cell = rect(r, c)
                inset = cell.width() * 0.16
                p.fillRect(cell.adjusted(inset, inset, -inset, -inset), fill)
        top_left, bottom_right = rect(win.rows[0], win.cols[0]), rect(win.rows[-1], win.cols[-1])
        pen = QPen(WINDOW, 2.5, Qt.PenStyle.DashLine if win.partial else Qt.PenStyle.SolidLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(top_left.topLeft(), bottom_right.bottomRight()))

    def _paint_output(self, p, d: Diagram, win: WindowBox, cell, at: QPointF) -> None:
        done = win.index  # raster order: everything before the current window is computed
        for i in range(d.out_rows):
            for j in range(d.out_cols):
                n = i * d.out_cols + j
                r = QRectF(at.x() + j * cell, at.y() + i * cell, cell, cell).adjusted(1, 1, -1, -1)
                if n == done:
                    p.fillRect(r, WINDOW)
                elif n < done:
                    p.fillRect(r, DONE)
                else:
                    p.setPen(QPen(MUTED, 1))
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawRect(r)

    def _grid_labels(self, p, d: Diagram, origin: QPointF, out_origin: QPointF, cell) -> None:
        p.setPen(TEXT)
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF()))
        p.setFont(font)
        what = {"conv": "padded input", "deconv": "input with zeros inserted, padded",
                "pool": "convolution output"}[d.stage]
        end = d.rows.first or d.cols.first
        where = (" (bottom-right corner)" if end else " (top-left corner)") if d.corner else ""
        self.titles = []
        room = out_origin.x() - origin.x() - 10  # the left title must end before the right one
        if where and p.fontMetrics().horizontalAdvance(what + where) > room:
            where = ""  # no room beside the output's title: the line under the diagram says it
        self._title(p, QPointF(origin.x(), origin.y() - 8), what + where, room)
        self._title(p, QPointF(out_origin.x(), out_origin.y() - 8),
                    f"output {d.rows.out} × {d.cols.out}")  # the corner is said once, on the left
        if d.corner:
            p.setPen(MUTED)
            if end:
                p.drawText(QPointF(origin.x() - 14, origin.y() + cell * 0.7), "…")
            else:
                p.drawText(QPointF(origin.x() + d.cols.shown * cell + 4, origin.y() + cell * 0.7), "…")
                p.drawText(QPointF(origin.x() - 12, origin.y() + (d.rows.shown - 0.3) * cell), "⋮")
        self._legend(p, 12, self.height() - 10)

    def _legend(self, p, x: float, y: float) -> None:
        """What the colours mean, one swatch each."""
        items = (("input", INPUT), ("padding", PADDING), ("inserted zero", INSERTED),
                 ("never covered", UNCOVERED), ("window taps", WINDOW), ("computed", DONE))
        for text, colour in items:
            p.fillRect(QRectF(x, y - 10, 10, 10), colour)
            p.setPen(MUTED)
            p.drawText(QPointF(x + 14, y), text)
            x += 24 + p.fontMetrics().horizontalAdvance(text)
        p.setPen(QPen(MUTED, 1, Qt.PenStyle.DashLine))
        p.drawRect(QRectF(x, y - 10, 10, 10))
        p.drawText(QPointF(x + 14, y), "past the edge (cover_all)")

    # -- the photo -----------------------------------------------------------------------------
    def _paint_photo(self, p, d: Diagram, win: WindowBox) -> None:
        if self.photo is None:
            p.setPen(MUTED)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No input to play on yet.")
            return
        half = QRectF(10, 30, self.width() / 2 - 20, self.height() - 40)
        target = _fit(half, self.photo.width(), self.photo.height())
        p.drawImage(target, self.photo)
        scale = target.width() / self.photo.width()
        top, left, bottom, right = win.box

        def to_photo(r, c):  # padded cell -> photo pixel (inserted zeros squeeze together)
            return QPointF(target.x() + (c - d.cols.before) / d.cols.spread * scale,
                           target.y() + (r - d.rows.before) / d.rows.spread * scale)

        p.setPen(QPen(WINDOW, 2, Qt.PenStyle.DashLine if win.partial else Qt.PenStyle.SolidLine))
        p.setBrush(QColor(255, 176, 0, 60))
        p.drawRect(QRectF(to_photo(top, left), to_photo(bottom, right)))
        out_half = QRectF(self.width() / 2 + 10, 30, self.width() / 2 - 20, self.height() - 40)
        out_rect = _fit(out_half, d.cols.out, d.rows.out)
        self._paint_filling(p, d, win, out_rect)
        p.setPen(TEXT)
        self.titles = []
        self._title(p, QPointF(target.x(), 22), "input" if d.stage != "pool" else "convolution map 0",
                    out_rect.x() - target.x() - 10)
        self._title(p, QPointF(out_rect.x(), 22), f"output map 0: {d.rows.out} × {d.cols.out}")

    def _title(self, p, at: QPointF, text: str, room: float | None = None) -> None:
        """Draw a title at baseline ``at``, elided to ``room`` pixels; kept in ``titles`` as
        ``(text drawn, QRectF)`` for the tests (maps count from 0, as everywhere)."""
        fm = p.fontMetrics()
        room = self.width() - at.x() - 4 if room is None else min(room, self.width() - at.x() - 4)
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(int(room), 1))
        p.drawText(at, text)
        self.titles.append((text, QRectF(at.x(), at.y() - fm.ascent(),
                                         fm.horizontalAdvance(text), fm.height())))

    def _paint_filling(self, p, d: Diagram, win: WindowBox, out_rect: QRectF) -> None:
        """The output map up to the current window (raster order); the rest dark."""
        if self.output is not None and (self.output.height(), self.output.width()) == (
                d.rows.out, d.cols.out):
            p.drawImage(out_rect, self.output)
        else:
            p.fillRect(out_rect, DONE.darker(200))
        sx, sy = out_rect.width() / d.cols.out, out_rect.height() / d.rows.out
        dark = QBrush(QColor(20, 21, 24, 235))
        row_y = out_rect.y() + win.i * sy
        p.fillRect(QRectF(out_rect.x() + (win.j + 1) * sx, row_y,
                          out_rect.width() - (win.j + 1) * sx, sy), dark)
        p.fillRect(QRectF(out_rect.x(), row_y + sy, out_rect.width(),
                          out_rect.bottom() - row_y - sy), dark)
        p.setPen(QPen(WINDOW, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(out_rect.x() + win.j * sx, row_y, max(sx, 3), max(sy, 3)))


def _fit(area: QRectF, w: int, h: int) -> QRectF:
    """The largest ``w:h`` rectangle centred in ``area``."""
    scale = min(area.width() / max(w, 1), area.height() / max(h, 1))
    return QRectF(area.x() + (area.width() - w * scale) / 2,
                  area.y() + (area.height() - h * scale) / 2, w * scale, h * scale)
