"""Fixtures shared by the widget tests."""

from __future__ import annotations

import threading

import pytest

from napari_atomtomo._widgets._runner import JobRunner


def _settle() -> None:
    """Deliver every event already posted (layouts, resizes, repaints), and those they post
    in turn, and run the plots' pending idle draws (they wait a turn, see
    ``_plot_canvas``): the state to assert on, reached without waiting for any amount of
    time."""
    from qtpy.QtWidgets import QApplication

    from napari_atomtomo._widgets._plot_canvas import _IDLE_DRAWS, _draw_next_idle

    app = QApplication.instance()
    for _ in range(10):  # each round may post the next (a resize posts a repaint)
        app.sendPostedEvents()
        app.processEvents()
        while _IDLE_DRAWS:
            _draw_next_idle()


@pytest.fixture
def settle(qtbot):
    """``settle()``: run the pending Qt events now (see :func:`_settle`)."""
    return _settle


@pytest.fixture
def runner(make_napari_viewer, qtbot):
    """A bare :class:`JobRunner` on a fresh viewer (``runner._viewer``)."""
    viewer = make_napari_viewer()
    r = JobRunner(viewer)
    qtbot.addWidget(r)
    yield r
    if r.busy:  # never leave a worker behind for the next test
        r.cancel()
        qtbot.waitUntil(lambda: not r.busy, timeout=5000)


class JobProbe:
    """Wraps a job's generator function so a test sees and steers its progress, never
    its timing.

    ``produced`` counts the states the real generator has produced so far (read it in the
    GUI thread to know how far the worker got). With ``hold_after=k`` the job stops after
    handing over its ``k``-th state, before it asks the real generator for the next one,
    until ``release`` is set: a test can look at the GUI while the job is known to be at a
    given state, whatever the machine's load. ``held`` is set when the job waits there.
    """

    def __init__(self, func, hold_after: int | None = None):
        self.func = func
        self.hold_after = hold_after
        self.produced = 0
        self.states: list = []  # what the real generator produced, in order
        self.held = threading.Event()
        self.release = threading.Event()

        def probed(*args, **kwargs):
            outcome = []

            def states():  # the real generator's states; its result goes to outcome
                outcome.append((yield from func(*args, **kwargs)))

            for state in states():
                self.states.append(state)
                self.produced += 1
                yield state
                if self.produced == self.hold_after:
                    self.held.set()
                    self.release.wait(120)
            return outcome[0]

        self.job = probed


@pytest.fixture
def job_probe(monkeypatch):
    """``job_probe(module, name, hold_after=None)`` swaps ``module.name`` (a job's
    generator function as a widget calls it) for a :class:`JobProbe` of it; every probe is
    released at the end of the test so no worker is left waiting."""
    probes = []

    def make(module, name, hold_after=None):
        probe = JobProbe(getattr(module, name), hold_after)
        monkeypatch.setattr(module, name, probe.job)
        probes.append(probe)
        return probe

    yield make
    for probe in probes:
        probe.release.set()


@pytest.fixture
def open_sample(qtbot):
    """``open_sample(viewer, key)``: open an atomtomo sample as the File menu does and wait
    until its worker is done and every layer is in the viewer (samples compute in a
    worker; ``viewer.open_sample`` returns their placeholder at once)."""
    from napari_atomtomo._widgets._sample_worker import running_samples

    def open_(viewer, key, timeout=120_000):
        viewer.open_sample("napari-atomtomo", key)
        qtbot.waitUntil(lambda: not running_samples(), timeout=timeout)
        return viewer.layers

    return open_
