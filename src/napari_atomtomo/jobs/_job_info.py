"""Qt-free bookkeeping of one :class:`~._runner.JobRunner` job.

The runner (Qt) owns the worker, the widgets and the layers; what a job has seen and
what the GUI should show next lives here, so it can be read and tested without Qt:

* :func:`as_generator_function` turns whatever the runner is given (a generator
  function, a generator object, a function returning a generator or a value) into a
  generator function for napari's ``thread_worker``;
* :class:`JobInfo` holds one job's callbacks and state: the newest yielded state waiting
  to be shown (yields in between are coalesced), the result, the error, the preview layer
  names, and when the GUI and napari's activity dock were last updated.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "COMPILING_MESSAGE",
    "MIN_UPDATE_INTERVAL_S",
    "ACTIVITY_DOCK_INTERVAL_S",
    "SEPARATE_TURN_MS",
    "LIVE_LAYER_REPAINT_SHARE",
    "JobFailed",
    "JobInfo",
    "as_generator_function",
    "default_progress",
]

#: Status shown from the start of a job until its first yield.
COMPILING_MESSAGE = "starting… (the first run compiles numba kernels: a few seconds)"

#: Shortest time between two GUI updates (progress bar, status, preview, ``yielded``) of
#: a running job; yields in between are coalesced into the newest. Every update makes Qt
#: compose the whole window, which under software OpenGL (llvmpipe) is CPU work: 50-220 ms
#: of the GUI thread on the loaded 2-core test machine (benchmarks/bench_gui_heartbeat.py).
MIN_UPDATE_INTERVAL_S = 0.5

#: Shortest time between two updates of napari's activity-dock progress bar (each one
#: calls ``QApplication.processEvents()``).
ACTIVITY_DOCK_INTERVAL_S = 2.0

#: Largest share of the GUI thread's time the repaints after live-layer frames may take.
#: Under software OpenGL a 3D view of a 100³ volume takes 0.3-0.5 s to repaint (2D: 30-50
#: ms); frames then come every ``repaint / share`` seconds instead of every
#: ``MIN_UPDATE_INTERVAL_S``, and the rest of the GUI stays usable in between.
LIVE_LAYER_REPAINT_SHARE = 0.2

#: Delay (ms) that puts a piece of GUI work after the repaint of the previous one, with
#: a turn of the event loop in between for timers and input. ``QTimer.singleShot(0)`` is
#: a posted event: Qt runs it in the same pass as the repaint just posted, so the two
#: stalls add up.
SEPARATE_TURN_MS = 15


def gui_numba_threads() -> int:
    """Numba threads a job started from the GUI may use: all cores but one.

    The GUI thread (and, under software OpenGL, the canvas repaint) needs a core of its
    own; with every core busy in numba the event loop stalls (PERFORMANCE.md, "threads
    under load"). numba's thread count is per calling thread, so this only affects the
    worker thread that sets it.
    """
    import numba

    return max(1, int(numba.config.NUMBA_NUM_THREADS) - 1)


def with_gui_threads(gen_func: Callable) -> Callable:
    """Wrap a generator function so it runs with :func:`gui_numba_threads` numba threads
    (a per-thread setting: nothing process-wide changes) and returns a :class:`JobFailed`
    instead of raising, so the runner reports the error itself (napari never sees it and
    shows no second notification).
    """

    def run(*a, **k):
        import numba

        numba.set_num_threads(gui_numba_threads())
        try:
            return (yield from gen_func(*a, **k))
        except Exception as exc:  # noqa: BLE001 (handed to the GUI as the job's outcome)
            return JobFailed(exc)

    return run


@dataclass(frozen=True)
class JobFailed:
    """What a job returns when it raised: the exception, for the runner to report."""

    error: BaseException


def default_progress(state, n_yields: int):
    """Steps done: ``state.iteration`` if the state has one, else the number of yields."""
    return getattr(state, "iteration", n_yields)


def as_generator_function(func) -> Callable:
    """A generator function running ``func`` (see :meth:`JobRunner.run`).

    A generator function is returned as is; a generator object (already validated by its
    maker) is delegated to; a plain function is called and its result delegated to when
    it is a generator (like ``iter_sirt``), else returned as the generator's value.
    """
    if inspect.isgeneratorfunction(func):
        return func
    if isinstance(func, Iterator):

        def from_iterator(*_a, **_k):
            return (yield from func)

        return from_iterator

    def from_function(*a, **k):
        out = func(*a, **k)
        if isinstance(out, Iterator):
            return (yield from out)
        return out

    return from_function


@dataclass
class JobInfo:
    """One job's callbacks (see :meth:`JobRunner.run`) and what it has delivered so far."""

    id: int
    label: str
    total: int | None
    on_yield: Callable | None = None
    on_result: Callable | None = None
    progress_of: Callable = default_progress
    describe: Callable | None = None
    keep_preview: bool = False
    n_yields: int = 0
    #: The newest yielded state (the result when the generator returns nothing).
    last_state: object = None
    #: The newest yielded state not shown yet (``None`` once shown).
    pending_state: object = None
    result: object = None
    has_result: bool = False
    error: BaseException | None = None
    done: bool = False
    #: Names of the preview layers this job made or updated.
    preview_names: set = field(default_factory=set)
    #: The job's live layers: its outputs, made (or adopted) on the click, filled in place.
    live_names: set = field(default_factory=set)
    #: Live layers this job created (not adopted from an earlier job).
    created_names: set = field(default_factory=set)
    #: Live layers a frame or the result has been written to.
    written_names: set = field(default_factory=set)
    #: Layers whose arrays only the runner holds (new frames are copied in).
    buffers: set = field(default_factory=set)
    t0: float = field(default_factory=time.perf_counter)
    updated_at: float = -float("inf")
    activity_at: float = -float("inf")
    #: When the live layers may show the next frame (see ``LIVE_LAYER_REPAINT_SHARE``).
    frames_due_at: float = -float("inf")
    #: The array each layer got as its last frame (a repeated one is not shown again).
    last_frames: dict = field(default_factory=dict)

    def record_yield(self, state) -> None:
        """Count a yielded state and keep it as the newest one to show."""
        self.n_yields += 1
        self.last_state = state
        self.pending_state = state

    def record_result(self, value) -> None:
        """Keep the generator's return value, or its last state when it returned nothing."""
        self.result = value if value is not None else self.last_state
        self.has_result = True

    def seconds_until_update(self, now: float) -> float:
        """How long to wait before the next GUI update, in [0, MIN_UPDATE_INTERVAL_S]."""
        wait = self.updated_at + MIN_UPDATE_INTERVAL_S - now
        return min(max(wait, 0.0), MIN_UPDATE_INTERVAL_S)

    def take_pending(self, now: float):
        """The state to show now (clears it and stamps the update time)."""
        state, self.pending_state = self.pending_state, None
        self.updated_at = now
        return state

    def steps_done(self, state) -> int:
        """Progress steps done at ``state``."""
        return int(self.progress_of(state, self.n_yields))

    def status_text(self, state, done: int) -> str:
        """The runner's status line for ``state``: label, progress, optional description."""
        total = self.total
        text = f"{self.label}: {done}/{total}" if total else f"{self.label}: step {done}"
        if self.describe is not None:
            text += f"  {self.describe(state)}"
        return text

    def activity_due(self, now: float, done: int, shown: int) -> bool:
        """Whether napari's activity-dock bar (now at ``shown``) should move to ``done``."""
        total = self.total
        return bool(total) and done > shown and (
            now - self.activity_at >= ACTIVITY_DOCK_INTERVAL_S or done >= total)

    def frame_due(self, now: float) -> bool:
        """Whether a progress frame may go to the layers now (a little early is fine:
        the runner's own updates come every ``MIN_UPDATE_INTERVAL_S``).
        """
        return now >= self.frames_due_at - 0.25 * MIN_UPDATE_INTERVAL_S

    def record_frame_repaint(self, shown_at: float, repaint_s: float) -> None:
        """A frame shown at ``shown_at`` took ``repaint_s`` to repaint: pace the next."""
        wait = max(MIN_UPDATE_INTERVAL_S, repaint_s / LIVE_LAYER_REPAINT_SHARE)
        self.frames_due_at = shown_at + wait
