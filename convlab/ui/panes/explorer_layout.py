"""How the explorer pane is laid out: the settings column, the readout, the stage buttons,
the maps over the kernels and code tabs. Widgets only; the pane wires their signals."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QScrollArea, QSplitter, QTabWidget,
                               QToolButton, QVBoxLayout)

from convlab.ui.widgets.diagram_panel import TOOLTIP as DIAGRAM_TIP

STAGES = (("conv", "Conv"), ("bn", "BN"), ("relu", "ReLU"), ("pool", "Pool"))


def _stage_bar(pane) -> None:
    for i, (name, text) in enumerate(STAGES):
        button = QToolButton(text=text, checkable=True, objectName=f"stage_{name}")
        button.setToolTip(f"Show the maps after the {text} stage.")
        button.setStyleSheet("QToolButton { padding: 2px 8px; }"
                             "QToolButton:checked { background: #3d7fd6; color: white;"
                             " border: 1px solid #5b9be8; border-radius: 3px; }")
        pane.stage_group.addButton(button, i)
        pane.view.add_to_toolbar(button, i + 1)


def build_layout(pane) -> None:
    """Settings on the left; readout, stage buttons, maps and the code tabs on the right."""
    scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
    scroll.setWidget(pane.controls)
    scroll.setMinimumWidth(310)
    scroll.setMaximumWidth(400)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    _stage_bar(pane)
    pane.bottom = QTabWidget(objectName="bottomTabs")
    pane.bottom.addTab(pane.kernels, "Kernels")
    pane.bottom.addTab(pane.chainer_view, "Chainer code")
    pane.bottom.addTab(pane.pytorch_view, "PyTorch code")
    split = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
    pane.map_tabs = QTabWidget(objectName="mapTabs")  # the maps, and the diagram beside them
    pane.compare.split = pane.view.add_beside_canvas(pane.compare.maps_box)  # A's maps, when pinned
    pane.map_tabs.addTab(pane.view, "Feature maps")
    pane.view.title.hide()  # the tab says it: its room goes to the scaling menu (issue 24)
    pane.map_tabs.addTab(pane.diagram, "Arithmetic diagram")
    pane.map_tabs.setTabToolTip(1, DIAGRAM_TIP)
    split.addWidget(pane.map_tabs)
    split.addWidget(pane.bottom)
    split.setStretchFactor(0, 5)
    split.setStretchFactor(1, 1)
    split.setSizes([560, 170])
    pane.readout_frame = QFrame(objectName="readoutFrame")
    pane.readout_frame.setStyleSheet("#readoutFrame { background: palette(alternate-base);"
                                     " border-radius: 6px; }")
    readouts = QHBoxLayout(pane.readout_frame)  # the live readout, or (A pinned) A's beside it
    readouts.addWidget(pane.compare.readout_box, 1)  # A's and the live shapes in one table
    readouts.addWidget(pane.readout, 1)
    # Pin as A / Clear A beside the map tabs, in room the tab bar leaves (not the readout's width)
    pane.map_tabs.setCornerWidget(pane.compare.buttons(), Qt.Corner.TopRightCorner)
    right = QVBoxLayout()
    right.setContentsMargins(0, 0, 0, 0)
    right.addWidget(pane.readout_frame)
    right.addWidget(pane.explain.beside(split), 1)  # the input and the detail panel (issue 9)
    body = QHBoxLayout(pane)
    body.setContentsMargins(8, 8, 8, 4)
    body.addWidget(scroll)
    body.addLayout(right, 1)
