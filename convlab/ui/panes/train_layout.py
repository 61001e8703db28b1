"""The Train pane's widgets and their layout (names are the UI contract tests use)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QListWidget, QPushButton,
                               QSizePolicy, QSpinBox, QSplitter, QTabWidget, QVBoxLayout,
                               QWidget)

from convlab.ui.panes.train_try import build_try
from convlab.ui.panes.train_views import ConfusionMatrix, CurvePlot, ImageStrip, Picture

DATASETS = {  # shown text -> open_dataset source
    "Built-in shapes (28x28 grey)": "shapes",
    "Built-in shapes (32x32 colour)": "shapes-rgb",
    "MNIST": "mnist",
    "Fashion-MNIST": "fashion-mnist",
    "CIFAR-10": "cifar10",
}
NETWORKS = {"A preset that fits the data": "preset", "The Network pane's network": "pane"}
OPTIMIZERS = {"Adam": "adam", "MomentumSGD": "momentum", "SGD": "sgd"}


def _button(name: str, text: str, tip: str) -> QPushButton:
    button = QPushButton(text, objectName=name)
    button.setToolTip(tip)
    return button


def _spin(name: str, low, high, value, tip: str, *, decimals: int | None = None):
    box = QDoubleSpinBox(objectName=name, decimals=decimals) if decimals else QSpinBox(objectName=name)
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tip)
    box.setKeyboardTracking(False)
    return box


def build_controls(pane) -> QWidget:
    """The left column: data, network, settings, buttons and status."""
    pane.dataset = QComboBox(objectName="trainDataset")
    pane.dataset.addItems(list(DATASETS))
    pane.dataset.setToolTip("What the network learns from. MNIST, Fashion-MNIST and CIFAR-10 "
                            "need 'convlab data get NAME' first; Folder… takes a folder of "
                            "photos (one sub-folder per class) or of MNIST/CIFAR files.")
    pane.folder_button = _button("trainDatasetFolder", "Folder…", "Train on a folder")
    pane.data_info = QLabel("", objectName="trainDataInfo", wordWrap=True)
    pane.samples = Picture("trainSamples", "")
    pane.samples.setMinimumSize(120, 40)
    pane.samples.setMaximumHeight(44)
    pane.network_box = QComboBox(objectName="trainNetwork")
    pane.network_box.addItems(list(NETWORKS))
    pane.fit_label = QLabel("", objectName="trainFit", wordWrap=True)
    pane.fix_button = _button("trainFix", "Apply the fix", "Resize the images and/or set the "
                              "output layer to the class count")
    pane.preset_button = _button("trainUsePreset", "Use the preset", "Train the preset that "
                                 "fits the data instead")
    pane.optimizer = QComboBox(objectName="trainOptimizer")
    pane.optimizer.addItems(list(OPTIMIZERS))
    pane.lr = _spin("trainLearningRate", 1e-5, 1.0, 0.001, "Learning rate (Adam's alpha)",
                    decimals=5)
    pane.lr.setSingleStep(0.0005)
    pane.batch = _spin("trainBatch", 1, 1024, 16, "Images per mini-batch")
    pane.epochs = _spin("trainEpochs", 1, 100, 2, "Passes over the training split")
    pane.seed = _spin("trainSeed", 0, 2**31 - 1, 0, "Seeds the weights, the shuffle and the "
                      "augmentation: the same seed trains the same network")
    pane.decay = _spin("trainWeightDecay", 0.0, 0.1, 0.0, "Weight decay (L2): g += rate * w",
                       decimals=5)
    pane.augment = QCheckBox("Augment (shift)", objectName="trainAugment")
    pane.augment.setToolTip("Random crops of the images padded by 1/8 of their side")
    pane.layers = QListWidget(objectName="trainLayers")
    pane.layers.setToolTip("Ticked layers learn; unticked ones keep their weights "
                           "(Chainer's disable_update)")
    pane.layers.setMaximumHeight(72)
    for name, text, tip in (("trainStart", "Start", "Train (goes on from where it stopped "
                             "unless the data, network or settings changed)"),
                            ("trainPause", "Pause", "Pause between two batches"),
                            ("trainResume", "Resume", "Go on after a pause"),
                            ("trainStop", "Stop", "Stop between two batches"),
                            ("trainReset", "Reset weights", "Random weights from the seed, "
                             "curves cleared"),
                            ("trainSave", "Save weights…", "Chainer .npz"),
                            ("trainExport", "Export curves…", "PNG and CSV")):
        setattr(pane, name.removeprefix("train").lower() + "_button", _button(name, text, tip))
    pane.status = QLabel("Ready.", objectName="trainStatus", wordWrap=True)
    pane.fix_button.setVisible(False)
    pane.preset_button.setVisible(False)
    return _controls_column(pane)


def _controls_column(pane) -> QWidget:
    column = QWidget()
    column.setMaximumWidth(330)
    layout = QVBoxLayout(column)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.setSpacing(4)
    data = QGroupBox("Data")
    box = QVBoxLayout(data)
    row = QHBoxLayout()
    row.addWidget(pane.dataset, 1)
    row.addWidget(pane.folder_button)
    box.addLayout(row)
    pane.download_row = QHBoxLayout()  # Download…, its progress and Cancel (train_download)
    box.addLayout(pane.download_row)
    box.addWidget(pane.data_info)
    box.addWidget(pane.samples)
    layout.addWidget(data)
    net = QGroupBox("Network")
    box = QVBoxLayout(net)
    box.addWidget(pane.network_box)
    box.addWidget(pane.fit_label)
    row = QHBoxLayout()
    row.addWidget(pane.fix_button)
    row.addWidget(pane.preset_button)
    box.addLayout(row)
    layout.addWidget(net)
    settings = QGroupBox("Settings")
    form = QFormLayout(settings)
    form.setVerticalSpacing(2)
    for label, widget in (("Optimizer", pane.optimizer), ("Learning rate", pane.lr),
                          ("Batch", pane.batch), ("Epochs", pane.epochs), ("Seed", pane.seed),
                          ("Weight decay", pane.decay), ("", pane.augment),
                          ("Layers that learn", pane.layers)):
        form.addRow(label, widget)
    layout.addWidget(settings)
    grid = QGridLayout()
    for i, button in enumerate((pane.start_button, pane.pause_button, pane.resume_button,
                                pane.stop_button, pane.reset_button, pane.save_button,
                                pane.export_button)):
        grid.addWidget(button, i // 3, i % 3)
    layout.addLayout(grid)
    layout.addWidget(pane.status)
    layout.addStretch(1)
    return column


def build_views(pane) -> QSplitter:
    """The right side: curves on top, filters and maps, then the confusion matrix and images."""
    pane.lossPlot = CurvePlot("lossPlot", "Loss", "softmax cross entropy")
    pane.accuracyPlot = CurvePlot("accuracyPlot", "Accuracy", "share right", y_max=1.0)
    pane.accuracyPlot.plotItem.legend.setOffset((-10, -5))  # bottom right: the curve rises
    pane.trainFilters = Picture("trainFilters", "conv1's filters appear here")
    pane.maps_view = Picture("trainMaps", "maps of a test image")
    pane.maps_layer = QComboBox(objectName="trainMapsLayer")
    pane.maps_image = _spin("trainMapsImage", 0, 999, 0, "Which test image")
    pane.maps_title = QLabel("", wordWrap=True)
    pane.confusionMatrix = ConfusionMatrix()
    pane.wrong = ImageStrip("trainWrong", "Most confidently wrong (after each epoch)")
    pane.cell_images = ImageStrip("trainCellImages", "Click a cell of the matrix")
    top = QWidget()
    row = QHBoxLayout(top)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(pane.lossPlot)
    row.addWidget(pane.accuracyPlot)
    middle = QWidget()
    grid = QGridLayout(middle)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.addWidget(QLabel("conv1's filters"), 0, 0)
    maps_bar = QHBoxLayout()
    for w in (QLabel("Maps of"), pane.maps_layer, QLabel("test image"), pane.maps_image):
        maps_bar.addWidget(w)
    maps_bar.addStretch(1)
    grid.addLayout(maps_bar, 0, 1)
    grid.addWidget(pane.trainFilters, 1, 0)
    grid.addWidget(pane.maps_view, 1, 1)
    grid.addWidget(pane.maps_title, 2, 1)
    bottom = QWidget()
    row = QHBoxLayout(bottom)
    row.setContentsMargins(0, 0, 0, 0)
    pane.confusionMatrix.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    row.addWidget(pane.confusionMatrix, 1)
    mistakes = QWidget()
    strips = QVBoxLayout(mistakes)
    strips.setContentsMargins(2, 2, 2, 2)
    strips.addWidget(pane.wrong)
    strips.addWidget(pane.cell_images)
    pane.bottom_tabs = QTabWidget(objectName="trainBottomTabs", documentMode=True)
    pane.bottom_tabs.addTab(mistakes, "Mistakes")
    pane.bottom_tabs.addTab(build_try(pane), "Try it")
    row.addWidget(pane.bottom_tabs, 1)
    split = QSplitter(Qt.Orientation.Vertical)
    for part in (top, middle, bottom):
        split.addWidget(part)
    split.setSizes([250, 170, 320])
    return split
