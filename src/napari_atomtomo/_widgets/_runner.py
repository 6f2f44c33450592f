"""The one job runner shared by every dock widget.

A :class:`JobRunner` is a small Qt widget (status label, progress bar, Cancel button)
that runs a core generator (``iter_<algo>(...)``) in a napari ``thread_worker`` and

* shows progress in the widget and in napari's activity dock (``napari.utils.progress``,
  with a Cancel button there too);
  until the first yield it says that numba may be compiling (PERFORMANCE.md);
* keeps the Qt event loop responsive (issue 7: no stall over 50 ms while a job runs):
  the GUI is updated at most every :data:`MIN_UPDATE_INTERVAL_S` with the newest state
  only, layer frames are paced by the repaint they cause, napari's activity-dock bar is
  opened after the click and moved at most every :data:`ACTIVITY_DOCK_INTERVAL_S` (each
  of its updates runs ``processEvents``), its animated status-bar spinner is paused
  (under software OpenGL every GIF frame recomposes the whole window), and work that
  causes a repaint of its own waits a real event-loop turn (``SEPARATE_TURN_MS``);
* cancels with ``worker.quit()``: the generator stops at its next ``yield``;
* gives every job an id and drops anything a cancelled or superseded job still delivers;
* runs one job at a time in the whole plugin (numba's threading layer is not
  re-entrant), even across widgets;
* shows a job's output in *live layers* (:mod:`._live_layers`) made on the click or
  adopted from the previous job: from the click to the result napari makes no layer and
  removes none; optional preview layers of other names are updated in place too;
* relays exceptions as one napari notification (never a dialog) and resets the UI.

Signals: ``started(job_id)``, ``yielded(state)``, ``finished(result)``,
``errored(exception)``, ``cancelled(job_id)``. The terminal signals are emitted after the
UI is reset and the single-flight lock is released, so a test can start the next job as
soon as it has seen one of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from qtpy.QtCore import QTimer, Signal
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..jobs._job_info import (
    ACTIVITY_DOCK_INTERVAL_S,
    COMPILING_MESSAGE,
    MIN_UPDATE_INTERVAL_S,
    SEPARATE_TURN_MS,
    JobInfo,
    as_generator_function,
    default_progress,
    with_gui_threads,
)
from . import _live_layers as live
from ._activity import (
    CancelableProgress,
    make_worker,
    pause_activity_spinner,
    runner_hub,
    show_error,
    show_info,
    warm_activity_dock,
)
from ._layer_updates import _as_tuples
from ._progress_bar import ErrorLabel, LazyProgressBar
from ._runner_end import JobEndMixin

__all__ = [
    "JobRunner",
    "COMPILING_MESSAGE",
    "MIN_UPDATE_INTERVAL_S",
    "ACTIVITY_DOCK_INTERVAL_S",
    "QUICK_JOB_ACTIVITY_AFTER_S",
    "runner_hub",
]

#: ``activity_after_s`` of the docks whose jobs usually end within a second (Load,
#: Preprocess, Align, Trace): their own status line and bar show them; napari's
#: activity-dock bar, made 15 ms after the click, cost the GUI thread 0.1-0.5 s (the
#: session's first) inside a 0.5 s job (issue 14: the Load row's click stall).
QUICK_JOB_ACTIVITY_AFTER_S = 1.0


class JobRunner(JobEndMixin, QWidget):
    """Run core generators one at a time, with progress, Cancel and result layers.

    Parameters
    ----------
    viewer : napari.Viewer or None
        Where preview and result layers go (``None``: only the signals).
    parent : QWidget, optional
    """

    started = Signal(int)
    yielded = Signal(object)
    finished = Signal(object)
    errored = Signal(object)
    cancelled = Signal(int)

    #: The runner whose worker is alive (plugin-wide single flight).
    _active: JobRunner | None = None

    def __init__(self, viewer=None, parent: QWidget | None = None, *, warm: bool = True):
        super().__init__(parent)
        self._viewer = viewer
        self._job_id = 0
        self._worker = None
        self._pbar = None
        self._cancel_requested = False
        self._job: JobInfo | None = None
        self._flush_pending = False
        #: Number of GUI updates of running jobs (see ``MIN_UPDATE_INTERVAL_S``).
        self.n_updates = 0
        #: Number of napari activity-dock bar updates (see ``ACTIVITY_DOCK_INTERVAL_S``).
        self.n_activity_updates = 0

        self.status = QLabel("idle")
        self.status.setWordWrap(True)
        # Two lines, always: a status that wraps differently must not resize the dock (and
        # with it every plot in the dock area, each a full matplotlib draw).
        lines = self.status.fontMetrics().lineSpacing()
        self.status.setFixedHeight(2 * lines + 4)
        self.progress_bar = LazyProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.error = ErrorLabel()  # a failed job's whole sentence
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        if viewer is not None and warm:  # napari's first activity bar is slow: not on a click
            QTimer.singleShot(0, warm_activity_dock)

    # ------------------------------------------------------------------ state
    @property
    def job_id(self) -> int:
        """Id of the latest job this runner started (0 before the first)."""
        return self._job_id

    @property
    def busy(self) -> bool:
        """True while this runner's worker is alive (also while it is cancelling)."""
        return self._worker is not None

    @property
    def showing_result(self) -> bool:
        """True while a finished job's result goes into the layers (one step a turn), from
        the worker's end until ``finished`` (or the error) is emitted; not while it computes."""
        return self._worker is not None and self._job is not None and self._job.done

    @classmethod
    def any_busy(cls) -> bool:
        """True while any runner of the plugin has a live worker."""
        return cls._active is not None

    # ------------------------------------------------------------------ running
    def run(
        self,
        func: Callable,
        *args,
        label: str = "job",
        total: int | None = None,
        on_yield: Callable | None = None,
        on_result: Callable | None = None,
        progress_of: Callable | None = None,
        describe: Callable | None = None,
        keep_preview: bool = False,
        exclusive: bool = True,
        activity_after_s: float = 0.0,
        live_layers=None,
        **kwargs,
    ) -> int | None:
        """Start ``func(*args, **kwargs)`` in a worker thread; return the job id.

        Parameters
        ----------
        func : callable or iterator
            A generator function, or a function returning a generator (a core
            ``iter_<algo>``, which validates its input before returning it), or a
            generator object already made in the main thread. A plain function returning
            a value also works but cannot be cancelled before it returns.
        label : str
            Name of the job in the status line, the activity dock and error messages.
        total : int, optional
            Number of progress steps; ``None`` shows a busy bar.
        on_yield : callable, optional
            ``state -> layer data tuple(s) or None``, called in the main thread with the
            newest state (yields that arrive faster than the GUI are coalesced). Returned
            tuples update layers by name: live layers (only their data), or preview
            layers.
        on_result : callable, optional
            ``result -> layer data tuple(s) or None``; the result is the generator's
            return value, or its last yielded state when it returns nothing.
        progress_of : callable, optional
            ``(state, n_yields) -> steps done``; default ``state.iteration`` or the count.
        describe : callable, optional
            ``state -> str`` appended to the status line (e.g. the error metric).
        keep_preview : bool
            Keep preview layers that are not live layers after a successful result
            (default: remove them).
        exclusive : bool
            Take the plugin-wide single-flight slot (default). Pass ``False`` only for
            jobs that run no numba kernel (e.g. reading files).
        activity_after_s : float
            Open napari's activity-dock bar only if the job still runs this long after
            the click (default at once). napari's first bar of a session costs the GUI
            thread 0.1-0.5 s: not worth it for a job that is over in a second.
        live_layers : layer data tuple(s), optional
            The job's output layers, named as the result's (e.g. zeros of the result's
            shape). An image layer of that name and dimensionality that already exists is
            adopted (it shows the previous result until the first frame); any other is
            created now, one per event-loop turn. Frames from ``on_yield`` and then the
            result are copied into arrays only the runner holds, so napari neither makes
            nor removes a layer while the job runs or when it ends (either costs the GUI
            thread 0.1-0.2 s). A live layer that never got a frame is removed if the job
            fails or is cancelled; one that did keeps the last frame and says so in its
            metadata (``atomtomo.partial``).

        Returns
        -------
        int or None
            The job id, or ``None`` when another job is still running (a notification
            says so).
        """
        if self._worker is not None or (exclusive and JobRunner._active is not None):
            show_info("another atomtomo job is still running; wait for it or cancel it first")
            return None
        if total is not None and int(total) < 1:
            raise ValueError(f"total must be a positive number of steps, got {total!r}")
        gen_func = with_gui_threads(as_generator_function(func))
        self._job_id += 1
        job = self._job_id
        self._cancel_requested = False
        self._job = JobInfo(
            id=job, label=label, total=None if total is None else int(total),
            on_yield=on_yield, on_result=on_result,
            progress_of=progress_of or default_progress, describe=describe,
            keep_preview=keep_preview,
        )
        worker = make_worker(gen_func, *args, **kwargs)
        worker.yielded.connect(lambda state, j=job: self._on_yielded(j, state))
        worker.returned.connect(lambda value, j=job: self._on_returned(j, value))
        worker.errored.connect(lambda exc, j=job: self._on_errored(j, exc))
        worker.finished.connect(lambda j=job: self._on_worker_finished(j))
        self._worker = worker
        if exclusive:
            JobRunner._active = self
            runner_hub().busy_changed.emit(True)

        if live_layers is not None and self._viewer is not None:
            self._open_live_layers(self._job, _as_tuples(live_layers))
        self._pbar = None
        # The activity-dock bar runs processEvents when it is made: not inside the click.
        QTimer.singleShot(max(SEPARATE_TURN_MS, int(1000 * activity_after_s)),
                          lambda j=job: self._open_activity_progress(j))
        self.progress_bar.setRange(0, 0)  # busy until the first yield
        self.status.setText(f"{label}: {COMPILING_MESSAGE}")
        self.error.setVisible(False)
        self.cancel_button.setEnabled(True)
        self.started.emit(job)
        worker.start()
        return job

    def _open_live_layers(self, info: JobInfo, items: list) -> None:
        """Adopt or create the job's live layers: the first now, the others one per turn."""
        rest = live.layers_to_create(self._viewer, info, items)

        def create(rest, job=info.id):
            if job != self._job_id or info.done or not rest:
                return
            live.create_live_layer(self._viewer, info, rest[0])
            if rest[1:]:
                QTimer.singleShot(SEPARATE_TURN_MS, lambda: create(rest[1:]))

        create(rest)

    def _close_live_layers(self, info: JobInfo, why: str) -> None:
        if self._viewer is not None:
            live.close(self._viewer, info, why)

    def _open_activity_progress(self, job: int) -> None:
        info = self._job
        if job != self._job_id or info.done or self._pbar is not None:
            return
        # with a Cancel button in the dock: a sample's job has no dock of its own
        self._pbar = CancelableProgress(total=info.total or 0, desc=info.label,
                                        cancel_callback=self.cancel)
        if self._viewer is not None:
            pause_activity_spinner()
        if info.total and info.last_state is not None:  # yields before the bar opened
            done = info.steps_done(info.last_state)
            QTimer.singleShot(SEPARATE_TURN_MS, lambda: self._update_activity(job, done))

    def cancel(self) -> None:
        """Ask the running job to stop at its next yield; its late output is dropped."""
        if self._worker is None or self._cancel_requested or self._job.done:
            return  # nothing runs (a finished job's result is being shown)
        self._cancel_requested = True
        self._worker.quit()
        self.cancel_button.setEnabled(False)
        self.status.setText(f"{self._job.label}: cancelling…")

    # ------------------------------------------------------------------ worker slots
    def _is_current(self, job: int) -> bool:
        return job == self._job_id and not self._cancel_requested

    def _on_yielded(self, job: int, state) -> None:
        if not self._is_current(job):
            return  # stale: from a cancelled or superseded job
        info = self._job
        info.record_yield(state)
        if not self._flush_pending:
            self._flush_pending = True
            wait = info.seconds_until_update(time.perf_counter())
            QTimer.singleShot(int(1000 * wait), self._flush_yield)

    def _flush_yield(self, preview: bool = True) -> None:
        """Show the newest state only (coalesces the yields since the last update)."""
        self._flush_pending = False
        info = self._job
        if (info is None or info.pending_state is None or info.done
                or not self._is_current(info.id)):
            return
        now = time.perf_counter()
        state = info.take_pending(now)
        self.n_updates += 1
        done = info.steps_done(state)
        total = info.total
        if total:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(done, total))
        else:
            self.progress_bar.setRange(0, 0)
        self.status.setText(info.status_text(state, done))
        if preview and info.on_yield is not None and self._viewer is not None:
            frames = info.on_yield(state)
            if (frames is not None and info.frame_due(now)
                    and live.show(self._viewer, info, frames, final=False)):
                self._time_repaint(info, now)
        self.yielded.emit(state)
        # Last, in a later event-loop turn: napari's activity bar calls processEvents (a
        # whole-window repaint, and possibly the job's end re-entrantly); apart, the two
        # repaints do not add up into one stall.
        if self._pbar is not None and info.activity_due(now, done, self._pbar.n):
            info.activity_at = now
            QTimer.singleShot(SEPARATE_TURN_MS,
                              lambda job=info.id, done=done: self._update_activity(job, done))

    def _time_repaint(self, info: JobInfo, shown_at: float) -> None:
        """Measure the repaint a frame causes: a 1 ms timer runs after the posted repaint."""
        t0 = time.perf_counter()
        QTimer.singleShot(1, lambda: info.record_frame_repaint(
            shown_at, max(time.perf_counter() - t0 - 0.001, 0.0)))

    def _update_activity(self, job: int, done: int) -> None:
        """Move napari's activity-dock bar to ``done`` steps, unless the job has moved on."""
        info = self._job
        if self._pbar is None or info is None or info.done or not self._is_current(job):
            return
        total = info.total
        step = (min(done, total) if total else done) - self._pbar.n
        if step > 0:
            self.n_activity_updates += 1
            self._pbar.update(step)

    def _release(self, info: JobInfo, seconds: float, outcome: str,
                 exc: BaseException | None = None) -> None:
        """Free the single-flight slot, reset the UI, then emit the terminal signal."""
        self._worker = None
        if JobRunner._active is self:
            JobRunner._active = None
            runner_hub().busy_changed.emit(False)
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None
        self.cancel_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        label = info.label
        if outcome == "done":
            self.progress_bar.setValue(1)
            self.status.setText(f"{label}: done in {seconds:.1f} s")
            self.finished.emit(info.result)
            return
        self.progress_bar.setValue(0)
        if outcome == "cancelled":
            self._close_live_layers(info, f"cancelled after {seconds:.1f} s")
            self.status.setText(f"{label}: cancelled after {seconds:.1f} s")
            self.cancelled.emit(info.id)
            return
        if exc is info.error:  # the job itself failed
            self._close_live_layers(info, f"failed after {seconds:.1f} s: {exc}")
        self.status.setText(f"{label}: {outcome} ({type(exc).__name__})")
        self.error.show_error(exc)  # whole, where a toast cuts it off
        show_error(f"{label} {outcome}: {exc}")
        self.errored.emit(exc)
