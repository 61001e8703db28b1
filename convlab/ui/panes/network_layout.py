"""The Network pane's widgets (made here so the pane's module holds behaviour, not layout)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QSplitter, QTableView, QTabWidget,
                               QToolButton, QVBoxLayout, QWidget)

from convlab.ui.panes import spec_edits
from convlab.ui.panes.network_parts import BN_MODES, MODELS, PREP_CAPTIONS
from convlab.ui.widgets.code_view import CodeView
from convlab.ui.widgets.crop_view import CropView
from convlab.ui.widgets.feature_view import FeatureView
from convlab.ui.widgets.layer_table import COLUMNS
from convlab.ui.widgets.spec_editor import SpecEditor


class LayerTableView(QTableView):
    """The layer table; its columns fit their contents from the first time it is shown.

    A hidden table sized to its contents would ask every cell its text, font and alignment
    whenever the rows or the selection change (about 2,200 questions at start-up, while the
    window opens on another pane); until shown, its columns keep the default width.
    """

    def showEvent(self, event) -> None:
        header = self.horizontalHeader()
        if header.sectionResizeMode(0) != QHeaderView.ResizeMode.ResizeToContents:
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        super().showEvent(event)


def build_controls(pane) -> None:
    """The model menu, input size, BN mode, seed, conv1 choices, weights buttons and notes."""
    pane.model_box = QComboBox(objectName="netModel")
    pane.model_box.addItems(list(MODELS))
    pane.model_box.setToolTip("AlexBN: Chainer's alexbn.py, the seed article's model. Alex: the "
                              "original with local response normalisation; 2 groups: conv2, 4 "
                              "and 5 split as on the original two GPUs. Empty stack: build "
                              "your own with the layer editor below the table.")
    pane.insize = QSpinBox(objectName="inputSize", minimum=16, maximum=512, value=227,
                           suffix=" px", keyboardTracking=False)
    pane.insize.setToolTip("The crop fed to the network. 227 is AlexBN's insize; 224 still "
                           "reaches 6x6 at pool5 thanks to cover_all pooling.")
    pane.bn_box = QComboBox(objectName="bnMode")
    pane.bn_box.addItems(list(BN_MODES))
    pane.seed = QSpinBox(objectName="netSeed", minimum=0, maximum=2**31 - 1, value=0,
                         keyboardTracking=False)
    pane.seed.setToolTip("Seed of the random (LeCun normal) initialisation.")
    pane.handmade = QCheckBox("hand-made conv1", objectName="handmadeConv1")
    pane.handmade.setToolTip("Replace conv1's random weights with hand-made Gabor edge and "
                             "colour-opponent filters (not learned), so that untrained maps "
                             "still show edges and colours.")
    pane.learned = QCheckBox("conv1 learned from photos", objectName="learnedConv1")
    pane.learned.setToolTip(
        "Replace the first convolution's weights with kernels learned without labels by "
        "independent component analysis (FastICA) of patches of the bundled photos: oriented "
        "edges, gratings and colour blobs, the kinds of filters a trained AlexNet's conv1 "
        "holds (Krizhevsky et al. 2012, Fig. 3; Bell and Sejnowski 1997). Not trained for "
        "any task: the later layers stay random. The first use takes a few seconds.")
    pane.load_button = QPushButton("Load Chainer weights (.npz)…", objectName="loadWeights")
    pane.load_button.setToolTip("A file written by Chainer's serializers.save_npz (a trainer "
                                "snapshot works too). A file that does not fit is refused "
                                "and the current weights stay.")
    pane.random_button = QPushButton("Random weights", objectName="randomWeights")
    pane.weights_label = QLabel(objectName="weightsLabel")
    pane.bn_label = QLabel(objectName="bnExplain", wordWrap=True)
    pane.input_note = QLabel(objectName="inputNote", wordWrap=True)
    pane.top5 = QLabel(objectName="top5", wordWrap=True)
    for label in (pane.bn_label, pane.input_note, pane.top5, pane.weights_label):
        label.setStyleSheet("color: palette(placeholder-text);")


def build_split(pane) -> QSplitter:
    """Preprocessing pictures, the table, the layer editor and notes | maps and code tabs."""
    pane.crop_view = CropView(pane)
    pane.crop_view.setFixedHeight(220)
    pane.prep_labels = [QLabel(alignment=Qt.AlignCenter), pane.crop_view,
                        QLabel(alignment=Qt.AlignCenter)]
    prep = QHBoxLayout()
    pane.prep_captions = [QLabel(caption, alignment=Qt.AlignCenter) for caption in PREP_CAPTIONS]
    for label, caption in zip(pane.prep_labels, pane.prep_captions):
        box = QVBoxLayout()
        box.addWidget(label, 1)
        box.addWidget(caption)
        prep.addLayout(box)
    pane.table = LayerTableView(objectName="layerTable")
    pane.table.setModel(pane.model)
    pane.table.setSelectionBehavior(QTableView.SelectRows)
    pane.table.setSelectionMode(QTableView.SingleSelection)
    pane.table.verticalHeader().setVisible(False)
    pane.table.verticalHeader().setDefaultSectionSize(20)
    pane.table.horizontalHeader().moveSection(COLUMNS.index("inputs"), 2)  # beside the kind
    pane.table.selectionModel().currentRowChanged.connect(pane._row_changed)
    pane.editor = SpecEditor(list(spec_edits.NEW_LAYER), pane)
    left = QWidget()
    column = QVBoxLayout(left)
    column.setContentsMargins(0, 0, 0, 0)
    column.addLayout(prep)
    column.addWidget(pane.table, 1)
    column.addWidget(pane.editor)
    column.addWidget(pane.input_note)
    column.addWidget(pane.top5)
    pane.view = FeatureView(pane, title="Maps of conv1")
    pane.view.hint = "Hover: values · click: the receptive field on the crop"
    pane.view.info.setText(pane.view.hint)
    pane.open_map_button = QToolButton(text="Open map", objectName="netOpenMap")
    pane.open_map_button.setToolTip("The map last clicked, large, with its kernel and histogram; "
                                    "a click in it moves the receptive field too.")
    pane.open_map_button.clicked.connect(lambda: pane.open_clicked_map())
    pane.view.add_to_footer(pane.open_map_button)  # the toolbar keeps its room for the title
    pane.chainer_code = CodeView("netChainerCode", "Chainer")
    pane.pytorch_code = CodeView("netPytorchCode", "PyTorch")
    pane.right = QTabWidget(objectName="networkTabs", documentMode=True)
    pane.right.addTab(pane.view, "Maps")
    pane.right.addTab(pane.chainer_code, "Chainer code")
    pane.right.addTab(pane.pytorch_code, "PyTorch code")
    split = QSplitter(Qt.Horizontal)
    split.addWidget(left)
    split.addWidget(pane.right)
    split.setStretchFactor(1, 1)
    split.setSizes([800, 480])  # every column of the table on screen at 1280 px (issue 24)
    return split
