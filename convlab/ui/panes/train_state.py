"""The Train pane's remembered settings and its files: Save weights… and Export curves…."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QFileDialog

from convlab.ui.panes import train_jobs
from convlab.ui.panes.train_layout import DATASETS, NETWORKS, OPTIMIZERS

NUMBERS = ("lr", "batch", "epochs", "seed", "decay")  # spin boxes remembered by attribute


class StateMixin:
    """Needs the pane's controls (``train_layout``), ``data_worker`` and ``run``."""

    def state(self) -> dict:
        source = self.source()
        return {"dataset": source, "network": self.network_choice(),
                "optimizer": OPTIMIZERS[self.optimizer.currentText()],
                **{name: getattr(self, name).value() for name in NUMBERS},
                "augment": self.augment.isChecked(), "frozen": list(self.frozen())}

    def restore(self, state: dict) -> None:
        """Apply remembered choices; anything unreadable or out of range is ignored."""
        state = state if isinstance(state, dict) else {}
        source = state.get("dataset")
        if isinstance(source, str):
            named = [k for k, v in DATASETS.items() if v == source]
            if named:
                self.dataset.setCurrentText(named[0])
            elif os.path.isdir(source):
                self.add_folder(source)
        choice = [k for k, v in NETWORKS.items() if v == state.get("network")]
        if choice:
            self.network_box.setCurrentText(choice[0])
        optimizer = [k for k, v in OPTIMIZERS.items() if v == state.get("optimizer")]
        if optimizer:
            self.optimizer.setCurrentText(optimizer[0])
        for name in NUMBERS:
            value, box = state.get(name), getattr(self, name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                    box.minimum() <= value <= box.maximum():
                box.setValue(value)
        if isinstance(state.get("augment"), bool):
            self.augment.setChecked(state["augment"])
        frozen = state.get("frozen")
        if isinstance(frozen, list):
            self._remembered_frozen = {str(n) for n in frozen}

    def use_source(self, source: str) -> None:
        """Train on ``source``: a built-in or downloadable name, or a folder."""
        named = [k for k, v in DATASETS.items() if v == source]
        if named:
            self.dataset.setCurrentText(named[0])
        else:
            self.add_folder(source)

    def train_steps(self, steps: int) -> None:
        """Start, and stop once ``steps`` iterations are done (``convlab snapshot``)."""
        self.start()
        if self.control is not None:
            self.control.stop_at = int(steps)

    # -- files ----------------------------------------------------------------------------------
    def save_weights_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the trained weights", "weights.npz",
                                              "Chainer weights (*.npz)")
        if path:
            self.save_weights(path)

    def save_weights(self, path: str) -> int:
        """Write the trained network's weights as Chainer's ``.npz`` (in the worker)."""
        run = self.run
        if run is None:
            self._say("There are no trained weights yet: press Start first.")
            return 0
        if not path.endswith(".npz"):
            path += ".npz"

        source = self.source()

        def job(j):
            from convlab.pipelines import guard

            full = guard.check_output_path(path, "weights file")  # ValueError: one sentence
            try:
                run.net.save_npz(full)  # atomic: a temporary file, then a rename
            except OSError as exc:
                raise ValueError(f"could not write {full}: {exc.strerror or exc}.") from None
            return ("saved", source, full)

        return self.data_worker.submit(job)

    def export_curves_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the curves", "curves.csv",
                                              "CSV and PNG (*.csv)")
        if path:
            self.export_curves(path)

    def export_curves(self, path: str) -> list[str]:
        """``NAME.csv`` (every point) and ``NAME-loss.png`` / ``NAME-accuracy.png`` (the plots
        as shown) beside it."""
        base = path[:-4] if path.lower().endswith(".csv") else path
        try:
            written = train_jobs.write_curves(base, self.lossPlot, self.accuracyPlot)
            for plot, suffix in ((self.lossPlot, "loss"), (self.accuracyPlot, "accuracy")):
                png = f"{base}-{suffix}.png"
                if not plot.grab().save(png, "PNG"):
                    raise OSError(f"could not write {png}")
                written.append(png)
        except OSError as exc:
            self._say(f"The curves were not exported: {exc}.")
            return []
        self._say(f"Curves written: {', '.join(os.path.basename(p) for p in written)}.", "info")
        return written
