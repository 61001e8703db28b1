"""The Network pane's "Why?" tab: gradient views of the shown run, and a unit's own picture.

- **Why?**: a method (saliency, SmoothGrad, guided backpropagation, deconvnet, Grad-CAM, guided
  Grad-CAM) for a class (the top-1, any of the top-5, or a number) over the input crop, with a
  colour bar of the heat's range (:mod:`convlab.pipelines.attribution`).
- **Unit picture**: a layer and channel's feature visualisation, made step by step in the
  worker (progress bar, the picture so far every few steps), stoppable, the last pictures
  kept (same network, unit and steps: shown again at once). **Whole layer**: its first
  ``GRID`` units as a grid that fills in as each picture is done (kept ones are not made again).

Both run in one heavy :class:`~convlab.ui.worker.LatestWorker`, taking turns with the pane's
forward passes (``worker.HEAVY``), so the pane's :class:`NetworkRunner` is only ever touched by
one job at a time; the GUI thread only shows pictures.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtWidgets import (QComboBox, QGridLayout, QLabel, QProgressBar, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from convlab.engine.attribution import feature_visualization
from convlab.pipelines import attribution as views
from convlab.render import colour
from convlab.render.tiles import tile_rgb
from convlab.ui.panes.network_parts import rgb_pixmap
from convlab.ui.widgets.colour_bar import ColourBar
from convlab.ui.worker import LatestWorker

SHOWN = 260          # pixels: the height of the pictures
PREVIEW_EVERY = 8    # steps between previews of a unit picture
KEPT = 64            # unit pictures remembered
GRID = 16            # units in a layer's grid


class WhyView(QWidget):
    """The tab; ``attach(pane)`` adds it to the pane's right-hand tabs."""

    def __init__(self, pane):
        super().__init__(objectName="whyView")
        self.pane = pane
        self.worker = LatestWorker("network-why", self, heavy=True)
        self.worker.finished.connect(self._on_finished)
        self.worker.preview.connect(self._on_preview)
        self.worker.failed.connect(self._on_failed)
        self._pictures: OrderedDict = OrderedDict()
        self._build()

    def _build(self) -> None:
        self.method = QComboBox(objectName="whyMethod", minimumContentsLength=12)
        self.method.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        for key, text in views.METHODS.items():
            self.method.addItem(text, key)
        self.target = QComboBox(objectName="whyClass", editable=True)
        self.target.setToolTip("The class to explain: one of the top-5, or type a class number "
                               "or a top-5 class's name.")
        self.run_button = QPushButton("Why?", objectName="whyRun")
        self.heat = QLabel(objectName="whyPicture")
        self.bar = ColourBar(self, lut=colour.lut(views.COLORMAP))
        self.note = QLabel(objectName="whyNote", wordWrap=True)
        self.layer = QComboBox(objectName="unitLayer")
        self.channel = QSpinBox(objectName="unitChannel", minimum=0, maximum=4095)
        self.steps = QSpinBox(objectName="unitSteps", minimum=1, maximum=2048, value=64)
        self.picture_button = QPushButton("Unit picture", objectName="unitRun")
        self.grid_button = QPushButton("Whole layer", objectName="unitGrid")
        self.stop_button = QPushButton("Stop", objectName="unitStop", enabled=False)
        self.progress = QProgressBar(objectName="unitProgress")
        self.picture = QLabel(objectName="unitPicture")
        self.channel.setPrefix("channel ")
        grid = QGridLayout()  # three columns, so the tab stays as narrow as the Maps tab
        rows = ((QLabel("Method"), self.method, None), (QLabel("Class"), self.target, self.run_button),
                (QLabel("Unit"), self.layer, self.channel), (QLabel("Steps"), self.steps, None),
                (self.picture_button, self.grid_button, self.stop_button))
        for r, row in enumerate(rows):
            for col, w in enumerate(row):
                if w is not None:
                    span = 2 if w is self.method else 1
                    grid.addWidget(w, r, col, 1, span)
        box = QVBoxLayout(self)
        box.addLayout(grid)
        for w in (self.heat, self.bar, self.note, self.progress, self.picture):
            box.addWidget(w)
        box.addStretch(1)
        self.run_button.clicked.connect(self.explain)
        self.method.currentIndexChanged.connect(lambda _: self._rerun())
        self.picture_button.clicked.connect(self.unit_picture)
        self.grid_button.clicked.connect(self.layer_grid)
        self.stop_button.clicked.connect(self.stop)

    # -- state from the pane ---------------------------------------------------------------
    def result_shown(self, result) -> None:
        """A new forward is on screen: offer its top-5 and layers; clear an old explanation."""
        names = [name for name in result.outputs] if result is not None else []
        self.layer.blockSignals(True)
        current = self.layer.currentText()
        self.layer.clear()
        self.layer.addItems(names)
        self.layer.setCurrentText(current if current in names else (names[0] if names else ""))
        self.layer.blockSignals(False)
        self.target.clear()
        self.target.addItem("top-1", None)
        for index, name, p in getattr(result, "top5", []) or []:
            self.target.addItem(f"{index}: {name} ({p:.1%})", index)
        self.heat.clear()
        self.bar.clear()

    def _class_choice(self):
        """The chosen class (None: the top-1): a top-5 entry, a class number, or a top-5
        class's name typed."""
        text = self.target.currentText().strip()
        if text in ("", "top-1"):
            return None
        head = text.split(":")[0].strip()
        if head.isdigit():
            return int(head)
        for row in range(1, self.target.count()):
            if text.lower() in self.target.itemText(row).lower():
                return self.target.itemData(row)
        raise ValueError(f"the class must be a number or one of the top-5, got {text!r}.")

    # -- jobs ------------------------------------------------------------------------------
    def _rerun(self) -> None:
        if self.heat.pixmap() is not None and not self.heat.pixmap().isNull():
            self.explain()

    def explain(self) -> int:
        """Run the chosen method on the shown result's photo (in the worker)."""
        result, runner = self.pane.result, self.pane._runner
        if result is None:
            self.note.setText("Nothing to explain yet: the network has not run on a photo.")
            return 0
        try:
            class_index = self._class_choice()
        except ValueError as exc:
            self.note.setText(str(exc))
            return 0
        method, s, prep = self.method.currentData(), result.settings, result.prep
        self.note.setText(f"Computing {views.METHODS[method]}…")

        def job(j):
            net = runner.network(s)
            found = views.explain_photo(net, prep["input"], method, class_index=class_index,
                                        mode=views.engine_mode(s), should_stop=j.should_stop)
            top = views.display_top(found)
            return "why", found, top, views.overlay(prep["crop"], found.heat, top=top, bar=False)

        return self.worker.submit(job)

    def unit_picture(self) -> int:
        """Make (or show again) the chosen unit's feature visualisation, in the worker."""
        result, runner = self.pane.result, self.pane._runner
        if result is None or not self.layer.currentText():
            return 0
        s, layer, channel = result.settings, self.layer.currentText(), self.channel.value()
        steps = self.steps.value()
        key = self._key(s, layer, channel, steps)
        if key in self._pictures:
            self._show_picture(self._pictures[key],
                               f"What {layer} channel {channel} wants (kept)")
            return 0
        mean, std = views.preprocessing(s)
        self.stop_button.setEnabled(True)
        self.progress.setRange(0, steps)
        self.progress.setValue(0)

        def job(j):
            net = runner.network(s)

            def step(done, total, pic):
                if done % PREVIEW_EVERY == 0 or done == total:
                    j.preview(("step", done, _rgb(pic)))

            pic = feature_visualization(
                net, (layer, channel), size=picture_size(net, layer, s.insize), steps=steps,
                seed=0, mean=mean, std=std, mode=views.engine_mode(s), on_step=step,
                should_stop=j.should_stop)
            return "unit", key, f"What {layer} channel {channel} wants", _rgb(pic)

        return self.worker.submit(job)

    def _key(self, s, layer, channel, steps) -> tuple:
        return (s.weights_key, s.bn_mode, s.insize, layer, channel, steps)

    def layer_grid(self) -> int:
        """The layer's first ``GRID`` units' pictures, one after the other, as a grid that
        fills in (the kept ones taken as they are)."""
        result, runner = self.pane.result, self.pane._runner
        layer = self.layer.currentText()
        if result is None or not layer:
            return 0
        s, steps = result.settings, self.steps.value()
        count = min(GRID, result.outputs.shape_of(layer)[0])
        keys = [self._key(s, layer, c, steps) for c in range(count)]
        kept = {k: self._pictures[k] for k in keys if k in self._pictures}
        mean, std = views.preprocessing(s)
        self.stop_button.setEnabled(True)
        self.progress.setRange(0, count * steps)
        self.progress.setValue(0)

        def job(j):
            net, tiles = runner.network(s), []
            for c, key in enumerate(keys):
                rgb = kept.get(key)
                if rgb is None:
                    pic = feature_visualization(
                        net, (layer, c), size=picture_size(net, layer, s.insize), steps=steps,
                        seed=0, mean=mean, std=std, mode=views.engine_mode(s),
                        should_stop=j.should_stop, on_step=lambda d, n, p, c=c: j.preview(
                            ("step", c * steps + d, None)) if d % PREVIEW_EVERY == 0 else None)
                    if j.should_stop():
                        return None
                    rgb = _rgb(pic)
                tiles.append(rgb)
                j.preview(("grid", (c + 1) * steps, tile_rgb(np.stack(tiles), sep=2)[0], key, rgb))
            return "grid", f"What {layer}'s first {count} units want", tile_rgb(np.stack(tiles),
                                                                                 sep=2)[0]

        return self.worker.submit(job)

    def stop(self) -> None:
        """Stop the unit picture being made (the picture so far stays)."""
        self.worker.cancel()
        self.stop_button.setEnabled(False)
        self.note.setText("Stopped.")

    # -- results (GUI thread) --------------------------------------------------------------
    def _on_preview(self, request_id, payload) -> None:
        if not self.worker.is_current(request_id):
            return
        self.progress.setValue(payload[1])
        if payload[2] is not None:
            self.picture.setPixmap(rgb_pixmap(payload[2], SHOWN))
        if payload[0] == "grid":                    # one unit done: kept for a second ask
            self._keep(payload[3], payload[4])

    def _on_finished(self, request_id, payload) -> None:
        if not self.worker.is_current(request_id):
            return
        if payload[0] == "why":
            _, found, top, rgb = payload
            self.heat.setPixmap(rgb_pixmap(rgb, SHOWN))
            self.bar.set_levels(0.0, top, "|gradient|" if found.method != "gradcam" else "CAM")
            where = f" at {found.cam_layer}" if found.cam_layer else ""
            self.note.setText(f"{views.METHODS[found.method]} of {found.what}{where}")
            return
        if payload[0] == "grid":
            self._show_picture(payload[2], payload[1])
            return
        _, key, what, rgb = payload
        self._keep(key, rgb)
        self._show_picture(rgb, what)

    def _keep(self, key, rgb) -> None:
        self._pictures[key] = rgb
        self._pictures.move_to_end(key)
        while len(self._pictures) > KEPT:
            self._pictures.popitem(last=False)

    def _show_picture(self, rgb, sentence: str) -> None:
        self.picture.setPixmap(rgb_pixmap(rgb, SHOWN))
        self.progress.setValue(self.progress.maximum())
        self.stop_button.setEnabled(False)
        self.note.setText(sentence)

    def _on_failed(self, request_id, reason: str) -> None:
        self.stop_button.setEnabled(False)
        self.note.setText(reason)

    def shutdown(self) -> None:
        self.worker.shutdown()


def picture_size(net, layer: str, insize: int) -> int:
    """128 pixels when the layer is reached at that size (a convolution's units: four times
    fewer pixels than 227 to climb), else the network's own input size (after an fc layer)."""
    side = min(128, insize)
    reached = net.shapes((net.input_shape[0], side, side)).get(layer) is not None
    return side if reached else net.input_shape[1]


def _rgb(pic: np.ndarray) -> np.ndarray:
    rgb = np.rint(np.clip(pic, 0, 1).transpose(1, 2, 0) * 255)          # (H, W, 3)
    return np.ascontiguousarray(rgb.astype(np.uint8))


def attach(pane) -> WhyView:
    """Add the "Why?" tab to the pane's right-hand tabs; it follows every result shown."""
    view = WhyView(pane)
    pane.right.addTab(view, "Why?")
    pane.resultReady.connect(lambda _rid: view.result_shown(pane.result))
    return view
