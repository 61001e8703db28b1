"""The single-layer laboratory: settings on the left, the shape readout, the maps and kernels.

Every change reads the settings once, plans the shapes once (integer arithmetic: the readout,
at once) and sends one request, carrying that plan, to the worker; the newest request wins.
``resultReady(request_id)`` is emitted once the full result for the current settings has been
painted (previews do not emit it). The pane offers :class:`~convlab.ui.panes.base.Pane`;
its requests and results are handled in :mod:`~convlab.ui.panes.explorer_results`.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QButtonGroup, QWidget

from convlab.engine.explorer.code import chainer_code, pytorch_code
from convlab.engine.wording import shape_text
from convlab.engine.explorer import ExplorerSettings, plan_explorer
from convlab.engine.explorer.kernels import IMAGE_BANKS
from convlab.ui.widgets.code_view import CodeView
from convlab.ui.widgets.diagram_panel import DiagramPanel
from convlab.ui.widgets.controls import ControlPanel
from convlab.pipelines import records
from convlab.pipelines.explorer import CostModel, ExplorerOutput, first_error
from convlab.pipelines.sources import DEFAULT_LONGEST, LoadedImage
from convlab.ui.panes.base import ExportSource
from convlab.ui.panes.explorer_compare import CompareSide
from convlab.ui.panes.explorer_explain import ExplainSide
from convlab.ui.panes.explorer_undo import SettingsHistory
from convlab.ui.panes.explorer_layout import STAGES, build_layout
from convlab.ui.panes.explorer_results import PAINT_FALLBACK_MS, WorkerTraffic
from convlab.ui.widgets.feature_view import FeatureView, KernelStrip
from convlab.ui.widgets.readout import TOOLTIP, ShapeReadout, readout_html
from convlab.ui.worker import LatestWorker


class ExplorerPane(WorkerTraffic, QWidget):
    """See the module docstring. ``set_image`` gives it a photo; the controls do the rest."""

    title = "Explorer"
    resultReady = Signal(int)  # request id, once the full result is painted
    previewReady = Signal(int)  # request id, once a reduced-size preview is painted
    statusChanged = Signal(str)  # "compute 28 ms (conv 22, bn 2, …)"
    failed = Signal(str)  # a one-line reason for the message area

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("explorer")
        self.loaded: LoadedImage | None = None
        self.stage: str | None = None  # None = the last stage of the pipeline
        self.output: ExplorerOutput | None = None  # the last full output on screen
        self._image_key = 0
        self._paint_pending: tuple[int, bool] | None = None  # (request id, is a preview)
        self._aspect = 1.6  # the view shape the last montage was laid out for
        self.last_ready_id = 0  # the last request whose full result was painted
        self.last_failed_id = 0  # the last request the worker refused
        self._inflight, self._inflight_since, self._deferred = 0, 0.0, False
        self.no_output = ""  # why the current settings give no output ("" when they do)
        self._learned: set[tuple] = set()  # learned banks already computed (image, sizes, seed)
        self.cost = CostModel()
        self.worker = LatestWorker("explorer", self, heavy=True)
        self.worker.preview.connect(self._on_preview)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.controls = ControlPanel()
        self.readout = ShapeReadout()
        self.readout.setToolTip(TOOLTIP)
        self.view = FeatureView(self)
        self.kernels = KernelStrip(self)
        self.chainer_view = CodeView("chainerCode", "Chainer")
        self.pytorch_view = CodeView("pytorchCode", "PyTorch")
        self.chainer, self.pytorch = self.chainer_view.box, self.pytorch_view.box
        self.diagram = DiagramPanel(self)
        self.stage_group = QButtonGroup(self)
        self._code_shown = False  # the code tabs have been filled once
        self.explain = ExplainSide(self, self.view)  # the input, hover/pin and the detail panel
        self.compare = CompareSide(self)  # "Pin as A": A's readout and maps beside the live ones
        build_layout(self)
        self.stage_group.idClicked.connect(self._stage_clicked)
        self.bottom.currentChanged.connect(lambda _: self._show_code())
        self._paint_timer = QTimer(self, singleShot=True, interval=PAINT_FALLBACK_MS)
        self._paint_timer.timeout.connect(self._painted)
        self._relayout_timer = QTimer(self, singleShot=True, interval=200)
        self._relayout_timer.timeout.connect(self._relayout)
        self.view.painted.connect(self._painted)
        self.view.modeChanged.connect(lambda _: self.submit())
        self.view.relayoutWanted.connect(self.refresh)  # a splitter moved: the grid again
        self.kernels.kernelClicked.connect(self.view.open_map)
        self.controls.changed.connect(self.refresh)
        for slider in self.controls.sliders.values():
            slider.sliderReleased.connect(self._released)
        self.controls.resetRequested.connect(self.reset)
        self.history = SettingsHistory(self.controls, self)  # undo/redo of every setting
        self.refresh()

    # -- state -----------------------------------------------------------------------------------
    def settings(self) -> ExplorerSettings:
        return self.controls.settings()

    def set_settings(self, settings: ExplorerSettings) -> None:
        self.controls.set_settings(settings)

    def reset(self) -> None:
        """Every explorer control back to its default: settings, "Explore at", colormap, scaling."""
        self.stage = None
        self.view.restore({"colormap": "viridis", "scaling": "scale per map"})  # as at start
        with self.history.one_step("reset to defaults"):  # one undo step
            if self.controls.longest.value() != DEFAULT_LONGEST:
                self.controls.longest.setValue(DEFAULT_LONGEST)  # the photo is read again at 512
            self.controls.set_settings(ExplorerSettings())

    def undo_stack(self):
        """The settings' QUndoStack (the window's Edit > Undo acts on it while this pane is in front)."""
        return self.history.stack

    def set_image(self, loaded: LoadedImage) -> int:
        """Explore ``loaded`` from now on; returns the request id of its first result."""
        self.loaded = loaded
        self._image_key += 1
        self.controls.set_image_name(loaded.describe())
        return self.refresh()

    def refresh(self) -> int:
        """Readout and code at once, then the maps from the worker. Returns the request id.

        The settings are read once and the shapes planned once; the request carries the plan."""
        s = self.settings()
        self._show_code(s)
        if self.loaded is None:
            return 0
        h, w = self.loaded.image.shape[:2]
        plan = plan_explorer(s, h, w)
        names = [st.name for st in plan if st.shape and st.name != "input"]
        shown = (self.stage if self.stage in names else names[-1]) if names else None
        self.readout.setText(readout_html(plan, s, image_note=self._image_note(s), shown=shown))
        self.diagram.set_state(s, h, w, self.loaded.image)  # geometry only: never waits
        self._say_if_learning(s)
        self._sync_stage_buttons(names, shown)
        self.explain.settings_changed(self.loaded, self._image_key, s, names, shown)
        self.compare.live(plan, s)
        error = self.no_output = first_error(plan)
        if error:
            self.worker.cancel()
            self._inflight, self._deferred = 0, False
            self.view.clear(f"No output for these settings: {error}")
            return 0
        return self.submit(settings=s, plan=plan)

    def _learned_key(self, s: ExplorerSettings, image_key: int) -> tuple:
        return image_key, s.kernel, s.filters, s.in_channels // s.groups, s.seed

    def _say_if_learning(self, s: ExplorerSettings) -> None:
        """Progress text while the worker learns kernels from photos (seconds, once)."""
        if s.bank in IMAGE_BANKS and self._learned_key(s, self._image_key) not in self._learned:
            self.controls.set_kernel_note(
                "Learning kernels from the sample photos and this one (FastICA on 20,000 "
                "patches): a few seconds, once; then they are cached.")
            if self.output is not None and self.output.image_key != self._image_key:
                # the maps on screen are the last photo's: never show them under the new one
                self.view.clear("Learning kernels from the photos (FastICA); this photo's maps "
                                "follow in a few seconds.")
            self.statusChanged.emit("learning kernels from photos (FastICA)…")

    def _show_code(self, s: ExplorerSettings | None = None) -> None:
        """The code tabs follow the settings while one of them is in front (or when shown)."""
        if self.bottom.currentWidget() in (self.chainer_view, self.pytorch_view) or not self._code_shown:
            s = s or self.settings()
            self.chainer_view.set_code(chainer_code(s))
            self.pytorch_view.set_code(pytorch_code(s))
            self._code_shown = True

    def not_pinnable(self) -> str:
        """Why there is no result to pin as A now ("" when there is)."""
        out = self.output
        if self.loaded is None:
            return "Nothing to pin as A yet: no photo is open."
        if self.no_output:
            return f"Nothing to pin as A: these settings give no output ({self.no_output})."
        if (out is None or out.image_key != self._image_key
                or out.result.settings != self.settings()):
            return "Nothing to pin as A yet: the maps of these settings are still being computed."
        return ""

    def _image_note(self, s: ExplorerSettings) -> str:
        img = self.loaded
        mode = "grayscale (luma)" if s.grayscale else "RGB"
        h, w = img.image.shape[:2]
        if img.factor < 1.0:
            oh, ow = img.original_shape
            return (f"{mode} · {img.name}, {shape_text((ow, oh))} scaled ×{img.factor:.3g} to "
                    f"{shape_text((w, h))} for "
                    f"exploring (longest side {max(h, w)})")
        return f"{mode} · {img.name}, {shape_text((w, h))}"

    def _sync_stage_buttons(self, names, shown) -> None:
        self.stage_group.setExclusive(False)  # so that no button is checked when none applies
        for i, (name, _) in enumerate(STAGES):
            button = self.stage_group.button(i)
            button.setEnabled(name in names)
            button.setChecked(name == shown)
        self.stage_group.setExclusive(True)

    def show_stage(self, stage: str) -> int:
        """Show ``stage``'s maps ("conv", "bn", "relu" or "pool"); returns the request id."""
        self.stage = stage
        self.diagram.show_stage(stage)
        return self.refresh()

    def pin(self, stage: str, channel: int, i: int, j: int) -> None:
        """Explain ``stage``'s map ``channel`` at row ``i``, column ``j`` and pin it (a click)."""
        self.explain.pin(stage, channel, i, j)

    def _stage_clicked(self, index: int) -> None:
        self.stage = STAGES[index][0]
        self.diagram.show_stage(self.stage)
        self.refresh()

    # -- the pane interface (convlab.ui.panes.base.Pane) ------------------------------------------
    def export_source(self) -> ExportSource:
        out, loaded = self.output, self.loaded
        if out is None or loaded is None:
            raise ValueError("Nothing to export yet: no feature maps have been computed.")
        if self.no_output:  # the screen says "No output": the last maps belong to other settings
            raise ValueError(f"Nothing to export: these settings give no output ({self.no_output}).")
        if out.image_key != self._image_key:
            raise ValueError("Nothing to export yet: the maps of this photo are still being computed.")
        longest = self.controls.longest.value()

        def record():
            return records.explorer_settings_record(out.result.settings, loaded.record(),
                                                    longest=longest, input_shape=loaded.image.shape)

        cmap, mode = self.view.look()
        return ExportSource(out.result.maps, out.stage, record, cmap, mode, self.view)

    def state(self) -> dict:
        return {"settings": self.settings().as_dict(), "longest": self.controls.longest.value(),
                "view": self.view.state()}

    def restore(self, state: dict) -> None:
        with self.history.quietly():  # the remembered settings are where the history starts
            try:
                self.set_settings(ExplorerSettings(**state.get("settings", {})).validate())
            except (TypeError, ValueError, AttributeError):
                pass
            self.controls.set_longest(state.get("longest", DEFAULT_LONGEST))
        self.history.stack.clear()
        self.view.restore(state.get("view", {}))

    # -- housekeeping ----------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout_timer.start()

    def _relayout(self) -> None:
        """Lay the montage out again when the view's shape changed a lot (no recompute)."""
        if self.output is not None and abs(self.view.aspect() / self._aspect - 1) > 0.15:
            self.refresh()

    def shutdown(self) -> None:
        self.worker.shutdown()
        self.explain.shutdown()
        self.compare.shutdown()
