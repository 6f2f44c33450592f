"""The end of a :class:`~._runner.JobRunner` job: its result, error or cancellation.

A mixin of the runner (it uses the runner's ``_job``, ``_job_id``, ``_viewer``,
``_cancel_requested``, ``_flush_yield`` and ``_release``): the worker's terminal signals,
and the result put into the layers one layer per event-loop turn before the UI is reset.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from qtpy.QtCore import QTimer

from ..jobs._job_info import SEPARATE_TURN_MS, JobFailed, JobInfo
from . import _live_layers as live
from ._layer_updates import _as_tuples

__all__ = ["JobEndMixin"]


class JobEndMixin:
    """The worker's ``returned``/``errored``/``finished`` slots and the result path."""

    def _on_returned(self, job: int, value) -> None:
        if isinstance(value, JobFailed):  # the job raised (see with_gui_threads)
            self._on_errored(job, value.error)
            return
        if not self._is_current(job):
            return
        self._job.record_result(value)

    def _on_errored(self, job: int, exc: BaseException) -> None:
        if job == self._job_id:
            self._job.error = exc

    def _on_worker_finished(self, job: int) -> None:
        if job != self._job_id:
            return
        info = self._job
        if info.pending_state is not None and not self._cancel_requested:
            # last progress; its preview only if it stays (else the result replaces it)
            self._flush_yield(preview=info.keep_preview)
        info.done = True
        seconds = time.perf_counter() - info.t0
        if info.error is not None and not self._cancel_requested:
            self._release(info, seconds, "failed", info.error)
        elif self._cancel_requested or not info.has_result:
            self._release(info, seconds, "cancelled")
        else:
            # The result goes into the layers one layer per event-loop turn, the UI is
            # reset a turn after the last: napari makes a new layer in 0.1-0.2 s, so a data
            # set of five layers in one turn stalled 0.65 s; apart, the repaints (each
            # layer's, then the dock's) do not add up into one stall.
            self._show_result(info, lambda problem: QTimer.singleShot(
                SEPARATE_TURN_MS, lambda: self._release(
                    info, seconds, "done" if problem is None
                    else "failed while showing its result", problem)))

    def _show_result(self, info: JobInfo, then: Callable) -> None:
        """The result into its layers, one per event-loop turn; then ``then(exception or
        None)`` (the exception is shown on release). ``on_result`` may also return
        zero-argument callables among its layer data: each runs in a turn of its own.
        The first layer waits a turn too: ``on_result`` itself may draw plots and compute
        read-outs (Quantify: 0.1-0.2 s), which with napari making a layer in the same
        turn added up to one 0.4-0.5 s stall."""
        try:
            items = None if info.on_result is None else info.on_result(info.result)
            items = [] if items is None else _as_tuples(items)
            if self._viewer is None:
                for item in items:
                    if callable(item):
                        item()
                then(None)
                return
        except Exception as exc:  # a bad result must not leave the UI half-updated
            then(exc)
            return
        made: list = []

        def step(rest):
            try:
                if rest:
                    if callable(rest[0]):  # a widget's own step (e.g. a layer it makes)
                        rest[0]()
                    else:
                        made.extend(live.show(self._viewer, info, [rest[0]], final=True))
                    if rest[1:]:
                        QTimer.singleShot(SEPARATE_TURN_MS, lambda: step(rest[1:]))
                        return
                if not info.keep_preview:
                    keep = {layer.name for layer in made}
                    for name in info.preview_names - keep:
                        if name in self._viewer.layers:
                            self._viewer.layers.remove(name)
            except Exception as exc:  # a bad result must not leave the UI half-updated
                then(exc)
                return
            then(None)

        QTimer.singleShot(SEPARATE_TURN_MS, lambda: step(items))
