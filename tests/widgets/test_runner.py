"""The shared job runner: progress, result layers, cancel, stale results, errors, single flight.

The jobs are small real generator functions shaped like the core's ``iter_<algo>``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest
from napari.utils.notifications import NotificationSeverity, notification_manager
from qtpy.QtWidgets import QApplication

from napari_atomtomo._layers import image_layer_data
from napari_atomtomo._widgets._runner import COMPILING_MESSAGE, JobRunner


@dataclass(frozen=True)
class State:
    iteration: int
    volume: np.ndarray | None = None


def count_up(n, delay=0.0, shape=(4, 5, 6)):
    vol = np.zeros(shape, np.float32)
    for i in range(1, n + 1):
        if delay:
            time.sleep(delay)
        vol += 1.0
        yield State(i, vol.copy())
    return vol


def fail_after(n_ok):
    for i in range(1, n_ok + 1):
        yield State(i)
    raise ValueError("relaxation must be in (0, 2], got 3")


def gated(go: threading.Event, end: threading.Event, queued: threading.Event | None = None):
    yield State(1, np.full((2, 3, 4), 1.0, np.float32))
    go.wait(60)
    yield State(2, np.full((2, 3, 4), 2.0, np.float32))
    if queued is not None:  # the worker has sent state 2 and asks for the next one
        queued.set()
    end.wait(60)
    yield State(3, np.full((2, 3, 4), 3.0, np.float32))
    return np.full((2, 3, 4), 3.0, np.float32)


def preview(state):
    return image_layer_data(state.volume, 0.5, "job preview", "count", {"n": state.iteration})


def result(volume):
    return image_layer_data(volume, 0.5, "job result", "count", {"n": float(volume.max())})


@pytest.fixture
def bare_runner(qtbot):
    """A runner without a viewer (signals only): for tests that need no layers."""
    r = JobRunner(None)
    qtbot.addWidget(r)
    yield r
    if r.busy:
        r.cancel()
        qtbot.waitUntil(lambda: not r.busy, timeout=5000)


@pytest.fixture
def notifications():
    seen = []
    notification_manager.notification_ready.connect(seen.append)
    yield seen
    notification_manager.notification_ready.disconnect(seen.append)


@pytest.mark.slow
def test_progress_preview_and_result_layer(runner, qtbot):
    viewer = runner._viewer
    states = []
    runner.yielded.connect(states.append)
    with qtbot.waitSignal(runner.started, timeout=2000):
        job = runner.run(count_up, 6, 0.01, label="count", total=6,
                         on_yield=preview, on_result=result)
    assert job == 1
    assert COMPILING_MESSAGE in runner.status.text()  # until the first yield
    assert runner.progress_bar.maximum() == 0  # busy bar
    assert runner.cancel_button.isEnabled()
    with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
        pass
    final = blocker.args[0]
    np.testing.assert_array_equal(final, np.full((4, 5, 6), 6.0, np.float32))
    its = [s.iteration for s in states]
    assert its and its == sorted(its) and its[-1] == 6
    assert runner.progress_bar.maximum() == 1 and runner.progress_bar.value() == 1
    assert "done" in runner.status.text()
    assert not runner.cancel_button.isEnabled() and not runner.busy
    layer = viewer.layers["job result"]
    np.testing.assert_array_equal(layer.data, final)
    assert tuple(layer.scale) == (0.5, 0.5, 0.5)
    assert layer.metadata["atomtomo"]["algorithm"] == "count"
    assert "job preview" not in viewer.layers  # previews go when the result arrives

    # a second run replaces the result layer of the same name
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        assert runner.run(count_up, 3, label="count", total=3, on_result=result) == 2
    assert [lyr.name for lyr in viewer.layers].count("job result") == 1
    assert viewer.layers["job result"].data.max() == 3.0
    assert viewer.layers["job result"].metadata["atomtomo"]["parameters"] == {"n": 3.0}


@pytest.mark.slow
def test_cancel_stops_the_job_at_its_next_yield(runner, qtbot):
    """Cancel reaches the worker between two states: the generator produces at most the
    state it was computing when Cancel came, and nothing it makes after is delivered.
    (How long that takes is measured in benchmarks/bench_gui_heartbeat.py, not here.)"""
    viewer = runner._viewer
    made, gate = [], threading.Event()

    def counted(n, delay):
        for state in count_up(n, delay):
            made.append(state.iteration)
            yield state
            # held after each state until the test has read ``made`` and cancelled, so
            # the count below does not depend on how fast the worker runs meanwhile
            gate.wait(60)

    with qtbot.waitSignal(runner.yielded, timeout=10_000):
        runner.run(counted, 100_000, 0.01, label="long", total=100_000,
                   on_yield=preview, on_result=result)
    late = []
    with qtbot.waitSignal(runner.cancelled, timeout=60_000) as blocker:
        runner.yielded.connect(late.append)
        at_cancel = len(made)
        runner.cancel()
        gate.set()
    assert len(made) <= at_cancel + 1  # stopped at the first yield after Cancel
    assert blocker.args == [1]
    assert late == []  # nothing delivered after Cancel
    assert not runner.busy and not JobRunner.any_busy()
    assert "cancelled" in runner.status.text()
    assert "job result" not in viewer.layers
    assert "job preview" in viewer.layers  # the last preview stays to look at


@pytest.mark.slow
def test_output_queued_before_cancel_is_dropped(runner, qtbot):
    viewer = runner._viewer
    go, end, queued = threading.Event(), threading.Event(), threading.Event()
    states = []
    runner.yielded.connect(states.append)
    with qtbot.waitSignal(runner.yielded, timeout=10_000):
        runner.run(gated, go, end, queued, label="gated", total=3, on_yield=preview,
                   on_result=result)
    go.set()
    assert queued.wait(60)  # state 2 is queued while the GUI thread is not looking
    runner.cancel()
    end.set()
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        pass
    QApplication.processEvents()  # deliver whatever the worker queued before the cancel
    assert [s.iteration for s in states] == [1]
    np.testing.assert_array_equal(viewer.layers["job preview"].data, 1.0)
    assert "job result" not in viewer.layers
    # the next job gets a new id and its results are delivered
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        assert runner.run(count_up, 2, label="count", total=2, on_result=result) == 2
    assert viewer.layers["job result"].data.max() == 2.0


def test_exception_becomes_one_notification_and_resets_ui(bare_runner, qtbot, notifications):
    runner = bare_runner
    with qtbot.waitSignal(runner.errored, timeout=10_000) as blocker:
        runner.run(fail_after, 2, label="sirt", total=5, on_result=result)
    exc = blocker.args[0]
    assert isinstance(exc, ValueError)
    errors = [n for n in notifications if n.severity == NotificationSeverity.ERROR]
    assert [n.message for n in errors] == ["sirt failed: relaxation must be in (0, 2], got 3"]
    assert not runner.busy and not JobRunner.any_busy()
    assert not runner.cancel_button.isEnabled()
    assert runner.progress_bar.value() == 0 and "failed" in runner.status.text()
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.run(count_up, 1, label="again", on_result=result)


def test_one_job_at_a_time_across_runners(bare_runner, qtbot, notifications):
    runner = bare_runner
    other = JobRunner(None)
    qtbot.addWidget(other)
    with qtbot.waitSignal(runner.yielded, timeout=10_000):
        runner.run(count_up, 100_000, 0.01, label="long", total=100_000)
    assert JobRunner.any_busy()
    assert other.run(count_up, 1, label="second") is None
    assert any("still running" in n.message for n in notifications)
    # jobs that run no numba kernel (file reading) may pass with exclusive=False
    with qtbot.waitSignal(other.finished, timeout=10_000):
        assert other.run(count_up, 1, label="read", exclusive=False) is not None
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.cancel()
    with qtbot.waitSignal(other.finished, timeout=10_000):
        assert other.run(count_up, 1, label="second") is not None


def test_plain_function_job_returns_its_value(bare_runner, qtbot):
    runner = bare_runner
    made = []

    def add(a, b):
        return np.full((2, 2, 2), a + b, np.float32)

    with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
        runner.run(add, 1.0, b=2.0, label="add", on_result=made.append)
    assert blocker.args[0].max() == 3.0
    assert len(made) == 1 and made[0] is blocker.args[0]


def test_bad_total_is_refused(bare_runner):
    runner = bare_runner
    with pytest.raises(ValueError, match="total must be a positive number of steps, got 0"):
        runner.run(count_up, 1, total=0)
    assert not runner.busy


def validated_count(n):
    """Shaped like core ``iter_sirt``: validate now, return the generator."""
    if n < 1:
        raise ValueError(f"n must be ≥ 1, got {n}")
    return count_up(n)


def test_function_returning_a_generator_is_iterated(bare_runner, qtbot, notifications):
    runner = bare_runner
    states = []
    runner.yielded.connect(states.append)
    with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
        runner.run(validated_count, 4, label="count", total=4)
    assert blocker.args[0].max() == 4.0
    assert states[-1].iteration == 4
    with qtbot.waitSignal(runner.errored, timeout=10_000):
        runner.run(validated_count, 0, label="count")
    assert notifications[-1].message == "count failed: n must be ≥ 1, got 0"


def test_generator_object_made_in_the_main_thread(bare_runner, qtbot):
    runner = bare_runner
    with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
        runner.run(validated_count(3), label="count", total=3)
    assert blocker.args[0].max() == 3.0


@pytest.mark.slow
def test_cancel_while_the_result_is_shown_does_nothing(runner, qtbot):
    """The result goes into its layers one event-loop turn before the UI is reset; a
    Cancel in between must not turn a finished job into a cancelled one."""
    outcome = []
    runner.cancelled.connect(lambda job: outcome.append("cancelled"))
    runner.finished.connect(lambda res: outcome.append("finished"))

    def result_then_cancel(volume):
        assert runner.busy  # the slot is still taken while the result is shown
        runner.cancel()
        return result(volume)

    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.run(count_up, 2, label="count", total=2, on_result=result_then_cancel)
    assert outcome == ["finished"]
    assert "done" in runner.status.text() and not runner.busy
    assert runner._viewer.layers["job result"].data.max() == 2.0


LONG_SENTENCE = ("angles has 54 entries but the tilt series has 55 images; give one angle per "
                 "image in stack order (IMOD's .tlt convention), or open the series again "
                 "with its own .tlt file")


def fail_with_a_long_sentence(n_ok):
    for i in range(1, n_ok + 1):
        yield State(i)
    raise ValueError(LONG_SENTENCE)


@pytest.mark.slow
def test_a_failed_job_shows_its_whole_sentence_in_the_dock(make_napari_viewer, qtbot,
                                                           notifications):
    """Issue 14: the dock said only "failed (ValueError)"; the sentence was cut off in a toast."""
    viewer = make_napari_viewer()
    viewer.add_image(np.ones((5, 8, 8), np.float32), name="series")
    _, dock = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Preprocess tilt series")
    runner = dock.runner
    assert runner.error.isHidden()
    with qtbot.waitSignal(runner.errored, timeout=10_000):
        runner.run(fail_with_a_long_sentence, 2, label="preprocess series", total=3)
    assert runner.error.text() == LONG_SENTENCE
    assert not runner.error.isHidden() and runner.error.isVisibleTo(dock)
    assert runner.error.wordWrap()  # wrapped, never cut
    assert runner.status.text() == "preprocess series: failed (ValueError)"
    assert notifications[-1].message == f"preprocess series failed: {LONG_SENTENCE}"
    # The next job clears it, and a successful one leaves none behind.
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.run(count_up, 1, label="again")
    assert runner.error.isHidden()
    assert "done" in runner.status.text()


@pytest.mark.slow
def test_the_first_result_layer_waits_a_turn_after_on_result(runner, qtbot):
    """``on_result`` (plots, read-outs) and napari making the first layer are two turns:
    in one they added up to one long stall (Quantify, issue 14)."""
    from qtpy.QtCore import QTimer

    viewer = runner._viewer
    seen = []

    def on_result(volume):
        seen.append("on_result")
        # runs in the next event-loop turn: before the first step only if that waits
        QTimer.singleShot(0, lambda: seen.append("next turn"))
        return [lambda: seen.append("first step"), result(volume)]

    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.run(count_up, 1, label="count", on_result=on_result)
    assert seen == ["on_result", "next turn", "first step"]
    assert "job result" in viewer.layers


def test_a_job_over_before_activity_after_s_opens_no_activity_bar(runner, qtbot, monkeypatch):
    from napari_atomtomo._widgets import _runner

    bars = []
    monkeypatch.setattr(_runner, "CancelableProgress", lambda *a, **k: bars.append(k) or None)
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.run(count_up, 2, label="quick", total=2, activity_after_s=3600)
    assert bars == []  # its timer is still pending; when it fires the job is done
    runner._open_activity_progress(runner.job_id)  # as the timer would, an hour later
    assert bars == [] and runner._pbar is None
