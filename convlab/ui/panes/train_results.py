"""What the Train pane paints from its thread: curves, pictures, status, the epoch's results."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidgetItem

from convlab.ui.panes.train_views import as_rgb


class ResultsMixin:
    """Needs the pane's views (``train_layout.build_views``), ``run``, ``control`` and
    ``data_worker``; the slots of :class:`~convlab.ui.train_worker.TrainWorker`'s signals."""

    # -- what the thread sends ------------------------------------------------------------------
    def _on_prepared(self, run) -> None:
        if run is not self.run:
            for plot in (self.lossPlot, self.accuracyPlot):
                plot.clear_points()
            self.confusionMatrix.setRowCount(0)
        self.run = run
        for plot in (self.lossPlot, self.accuracyPlot):
            plot.set_iterations(run.total_iterations)
        self._fill_layers(run.spec)
        self.maps_image.setMaximum(max(0, len(run.dataset.test) - 1))

    def _on_views(self, views) -> None:
        points = views.points
        self.lossPlot.add_points(points[:, 0], points[:, 1])
        self.accuracyPlot.add_points(points[:, 0], points[:, 2])
        if views.filters is not None:
            self.trainFilters.set_rgb(views.filters)
        if views.maps is not None:
            self.maps_view.set_rgb(views.maps)
            self.maps_title.setText(views.maps_title)
        rate = f"{views.images_per_s:,.0f} images/s" if views.images_per_s else "… images/s"
        left = f"{views.seconds_left:,.0f} s left" if views.seconds_left is not None else ""
        total_epochs = self.run.settings.epochs if self.run is not None else 0
        self._show_status(" · ".join(t for t in (
            f"epoch {min(views.epoch + 1, total_epochs)}/{total_epochs}",
            f"iteration {views.iteration:,}/{views.total:,}", rate, left) if t))

    def _on_epoch(self, report) -> None:
        for plot, value in ((self.lossPlot, report.loss), (self.accuracyPlot, report.accuracy)):
            plot.add_epoch(report.iteration, value)
        self.confusionMatrix.show_counts(report.confusion, self.run.dataset.classes)
        self._report = report
        classes, test = self.run.dataset.classes, self.run.dataset.test
        self.wrong.show_images(
            [as_rgb(test.images[i]) for i, *_ in report.wrong],
            [f"{classes[p]} {prob:.0%} / true: {classes[t]}" for _, p, t, prob in report.wrong],
            f"Most confidently wrong after epoch {report.epoch} (test accuracy "
            f"{report.accuracy:.1%})")
        self.epochDone.emit(report.epoch)

    def show_cell(self, true: int, predicted: int) -> None:
        """The test images of one confusion-matrix cell (up to 12)."""
        report, run = getattr(self, "_report", None), self.run
        if report is None or run is None:
            return
        test, classes = run.dataset.test, run.dataset.classes
        where = np.flatnonzero((test.labels == true) & (report.predicted == predicted))[:12]
        self.cell_images.show_images(
            [as_rgb(test.images[i]) for i in where], [f"#{i}" for i in where],
            f"{len(where)} shown: true {classes[true]}, predicted {classes[predicted]}")

    def _maps_changed(self) -> None:
        index, layer = self.maps_image.value(), self.maps_layer.currentText()
        if self.control is not None:
            self.control.maps_at = (index, layer)
        run = self.run
        if run is not None and not self.training() and layer:
            from convlab.pipelines.trainloop import maps_picture

            source = self.source()
            self.data_worker.submit(lambda j: ("maps", source, *maps_picture(run, index, layer)))

    def _fill_layers(self, spec: dict) -> None:
        frozen = set(self.frozen()) if self.layers.count() else \
            getattr(self, "_remembered_frozen", set())
        self.layers.clear()
        for layer in spec["layers"]:
            if layer.get("kind") in ("conv", "fc", "bn", "deconv"):
                item = QListWidgetItem(layer["name"])
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked if layer["name"] in frozen
                                   else Qt.CheckState.Checked)
                self.layers.addItem(item)
        names = [layer["name"] for layer in spec["layers"]]
        current = self.maps_layer.currentText()
        self.maps_layer.blockSignals(True)
        self.maps_layer.clear()
        self.maps_layer.addItems(names)
        self.maps_layer.setCurrentText(current if current in names else names[0])
        self.maps_layer.blockSignals(False)

    def frozen(self) -> tuple[str, ...]:
        items = (self.layers.item(i) for i in range(self.layers.count()))
        return tuple(i.text() for i in items if i.checkState() != Qt.CheckState.Checked)
