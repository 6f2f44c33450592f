"""Qt-free job bookkeeping of the runner: coalescing, progress text, generator adaptation."""

from dataclasses import dataclass

import pytest

from napari_atomtomo.jobs import run_to_end
from napari_atomtomo.jobs._job_info import (
    ACTIVITY_DOCK_INTERVAL_S,
    LIVE_LAYER_REPAINT_SHARE,
    MIN_UPDATE_INTERVAL_S,
    JobInfo,
    as_generator_function,
)


@dataclass(frozen=True)
class Step:
    iteration: int
    error: float


def _drain(gen):
    out = []
    return out, run_to_end(gen, out.append)


def test_yields_are_coalesced_into_the_newest():
    info = JobInfo(id=1, label="sirt", total=10, describe=lambda s: f"error {s.error:.2f}")
    assert info.seconds_until_update(now=100.0) == 0.0  # never updated: show at once
    for i in (1, 2, 3):
        info.record_yield(Step(i, 1.0 / i))
    state = info.take_pending(now=100.0)
    assert state == Step(3, 1.0 / 3) and info.pending_state is None and info.n_yields == 3
    assert info.seconds_until_update(now=100.2) == pytest.approx(MIN_UPDATE_INTERVAL_S - 0.2)
    assert info.seconds_until_update(now=200.0) == 0.0
    done = info.steps_done(state)
    assert done == 3 and info.status_text(state, done) == "sirt: 3/10  error 0.33"
    info.record_result(None)  # a generator that returns nothing: its last state
    assert info.has_result and info.result == Step(3, 1.0 / 3)


def test_live_layer_frames_are_paced_by_their_repaint_cost():
    info = JobInfo(id=1, label="sirt", total=10)
    assert info.frame_due(now=0.0)  # the first frame goes at once
    info.record_frame_repaint(shown_at=10.0, repaint_s=0.04)  # 2D under software GL
    assert info.frames_due_at == 10.0 + MIN_UPDATE_INTERVAL_S  # the usual pace
    assert info.frame_due(now=10.0 + MIN_UPDATE_INTERVAL_S)
    info.record_frame_repaint(shown_at=20.0, repaint_s=0.4)  # 3D volume, software GL
    wait = 0.4 / LIVE_LAYER_REPAINT_SHARE
    assert wait > MIN_UPDATE_INTERVAL_S and info.frames_due_at == pytest.approx(20.0 + wait)
    assert not info.frame_due(now=20.0 + MIN_UPDATE_INTERVAL_S)  # frames skipped meanwhile
    assert info.frame_due(now=20.0 + wait)


def test_progress_without_iteration_or_total():
    info = JobInfo(id=2, label="read", total=None)
    info.record_yield("a")
    info.record_yield("b")
    assert info.steps_done("b") == 2  # the number of yields
    assert info.status_text("b", 2) == "read: step 2"
    assert not info.activity_due(now=1e9, done=2, shown=0)  # a busy bar: nothing to move


def test_activity_dock_moves_at_most_every_interval_or_at_the_end():
    info = JobInfo(id=3, label="est", total=20)
    assert info.activity_due(now=0.0, done=1, shown=0)
    info.activity_at = 0.0
    assert not info.activity_due(now=ACTIVITY_DOCK_INTERVAL_S / 2, done=5, shown=1)
    assert info.activity_due(now=ACTIVITY_DOCK_INTERVAL_S / 2, done=20, shown=1)
    assert info.activity_due(now=ACTIVITY_DOCK_INTERVAL_S, done=5, shown=1)
    assert not info.activity_due(now=10.0, done=5, shown=5)


def test_as_generator_function_adapts_every_kind_of_job():
    def gen(n):
        yield from range(n)
        return "done"

    assert as_generator_function(gen) is gen
    assert _drain(as_generator_function(lambda n: gen(n))(2)) == ([0, 1], "done")
    assert _drain(as_generator_function(gen(3))()) == ([0, 1, 2], "done")
    assert _drain(as_generator_function(lambda a, b: a + b)(2, 3)) == ([], 5)


def test_gui_jobs_leave_one_core_to_the_event_loop():
    """A job's generator runs with all numba threads but one (at least one), set only in
    the thread that runs it; the caller's own setting is untouched."""
    import threading

    import numba

    from napari_atomtomo.jobs._job_info import gui_numba_threads, with_gui_threads

    def job():
        yield numba.get_num_threads()
        return "done"

    seen = []
    before = numba.get_num_threads()
    thread = threading.Thread(target=lambda: seen.extend(with_gui_threads(job)()))
    thread.start()
    thread.join()
    assert seen == [gui_numba_threads()]
    assert gui_numba_threads() == max(1, numba.config.NUMBA_NUM_THREADS - 1)
    assert numba.get_num_threads() == before
