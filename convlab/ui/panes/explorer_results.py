"""The explorer pane's traffic with its worker: sending the state, and what the GUI thread does
when a preview, a full result or a refusal arrives (show it, announce it once painted).

:class:`WorkerTraffic` is a mixin of :class:`~convlab.ui.panes.explorer.ExplorerPane`; it uses
the pane's ``worker``, ``view``, ``kernels``, ``controls``, ``diagram``, ``explain`` and the
request bookkeeping set up in its ``__init__``.
"""

from __future__ import annotations

import time
from functools import partial

from convlab.engine.explorer import ExplorerSettings
from convlab.engine.explorer.kernels import IMAGE_BANKS
from convlab.pipelines.explorer import ExplorerOutput, ExplorerRequest, explorer_job

PAINT_FALLBACK_MS = 300  # emit resultReady even if the view is never painted (hidden window)


class WorkerTraffic:
    """Requests out, results in (GUI thread); see the module docstring."""

    def submit(self, *, allow_preview: bool = True, settings: ExplorerSettings | None = None,
               plan=None) -> int:
        """Send the current state to the worker (a cached result is reused for re-display).

        ``settings`` and ``plan`` are the ones :meth:`refresh` just read and made; without them
        (a re-display) the worker plans for itself.

        While a slider is dragged and a request is still on its way, the new state waits for
        that request's first picture instead: otherwise requests faster than the worker would
        abandon each other and nothing would be drawn until the mouse stops.
        """
        if self.loaded is None:
            return 0
        dragging = self.controls.dragging()
        if dragging and self._inflight and time.monotonic() - self._inflight_since < 1.0:
            self._deferred = True
            return self.worker.latest_id
        last = self.output.result if self.output is not None else None
        self._aspect = self.view.aspect()
        request = ExplorerRequest(self.loaded.image, self._image_key, settings or self.settings(),
                                  self.stage, self.view.mode, self._aspect, last,
                                  self.output.image_key if self.output else -1, allow_preview,
                                  dragging, plan if settings is not None else None,
                                  self.kernels.aspect())
        self._deferred = False
        self._inflight = self.worker.submit(partial(explorer_job, request, self.cost))
        self._inflight_since = time.monotonic()
        return self._inflight

    def _arrived(self, request_id: int) -> None:
        """The in-flight request delivered something: send what waited during a drag."""
        if request_id == self._inflight:
            self._inflight = 0
            if self._deferred:
                self.submit()

    def _show(self, out: ExplorerOutput) -> None:
        self.view.show_montage(out.montage)
        if out.strip is not None and out.result.kernels is not self.kernels.kernels:
            self.kernels.show_strip(*out.strip, out.result.kernels, out.result.kernel_names)
        self.controls.set_kernel_note(out.result.kernel_note)
        if out.result.settings.bank in IMAGE_BANKS:
            self._learned.add(self._learned_key(out.result.settings, out.image_key))

    def _on_preview(self, request_id: int, out: ExplorerOutput) -> None:
        if self.worker.is_current(request_id):
            self._show(out)
            # the full result it replaces is off screen: let it go now (it may be hundreds of
            # MB, and the full run that follows needs as much again; the request holds it weakly)
            self.output = None
            self.statusChanged.emit(f"preview at 1/{out.factor} size in {out.compute_ms:.0f} ms; "
                                    "full result follows")
            self._await_paint(request_id, preview=True)
        self._arrived(request_id)

    def _on_finished(self, request_id: int, out: ExplorerOutput) -> None:
        if not self.worker.is_current(request_id):
            self._arrived(request_id)
            return  # a newer request is on its way: never show a stale result
        self.output = out
        self._show(out)
        self.diagram.set_maps(out.result.maps, out.result.settings)
        self.explain.result_shown(out)
        if abs(self.view.aspect() / self._aspect - 1) > 0.15:
            self._relayout_timer.start()  # laid out before the view had its size (at start)
        self.statusChanged.emit(self._timing(out))
        self._await_paint(request_id, preview=False)
        self._arrived(request_id)  # during a drag the waiting state goes out: this one is stale

    def _await_paint(self, request_id: int, *, preview: bool) -> None:
        """Announce the result once the view has painted it (at once if the view is hidden)."""
        self._paint_pending = (request_id, preview)
        if self.view.canvas.isVisible():
            self._paint_timer.start()
        else:
            self._painted()

    def _painted(self) -> None:
        pending, self._paint_pending = self._paint_pending, None
        self._paint_timer.stop()
        if pending is None:
            return
        request_id, preview = pending
        if preview:
            self.previewReady.emit(request_id)  # a drag may have moved on: still its picture
        elif self.worker.is_current(request_id):
            self.last_ready_id = request_id
            self.resultReady.emit(request_id)

    def _on_failed(self, request_id: int, reason: str) -> None:
        self._arrived(request_id)
        if self.worker.is_current(request_id):
            self.last_failed_id = request_id
            self.view.clear(f"No result: {reason}")
            self.failed.emit(reason)

    def _timing(self, out: ExplorerOutput) -> str:
        parts = ", ".join(f"{k} {v * 1e3:.1f}" for k, v in out.result.seconds.items())
        return f"compute {out.compute_ms:.0f} ms ({parts}) · montage {out.display_ms:.0f} ms"

    def _released(self) -> None:
        """The mouse let go of a slider: what waited goes now, and a full result follows."""
        if self._deferred:
            self._inflight = 0
            self.submit()

    def settled(self) -> bool:
        """True when what is on screen is the full result of the current state (or its refusal)."""
        if self.loaded is None or self._relayout_timer.isActive() or self.view.relayout_pending():
            return False
        if self.no_output:
            return True
        done = self.worker.latest_id in (self.last_ready_id, self.last_failed_id)
        return (done and not self._deferred and not self.worker.busy()
                and self.explain.settled())
