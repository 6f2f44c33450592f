"""The shared dock-widget pattern: command lines, Run disabled while a job runs anywhere."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from magicgui.widgets import SpinBox

from napari_atomtomo._widgets._base import JobDockWidget, format_command
from napari_atomtomo._widgets.loader import DatasetLoaderWidget


@dataclass(frozen=True)
class Params:
    n_iter: int = 200
    relaxation: float = 0.25
    nonnegative: bool = True
    fast: bool = False
    elements: tuple = ("Si", "O")
    seed: int | None = None


def test_format_command_from_a_frozen_dataclass():
    cmd = format_command("sirt", ["my stack.mrc"], Params(), option_names={"n_iter": "--iterations"},
                         extra={"--out": "rec.mrc"})
    assert cmd == ("atomtomo sirt 'my stack.mrc' --iterations 200 --relaxation 0.25 "
                   "--nonnegative --elements Si,O --out rec.mrc")


def test_format_command_can_leave_options_out():
    cmd = format_command(("simulate", "silica"), ["out"], {"seed": 3, "dose": 2.2e6},
                         option_names={"dose": None})
    assert cmd == "atomtomo simulate silica out --seed 3"


def count_job(n, delay):
    for i in range(1, n + 1):
        time.sleep(delay)
        yield i
    return n


class CountWidget(JobDockWidget):
    """The smallest real widget on the base: count to ``n`` (must be ≥ 1)."""

    def __init__(self, napari_viewer):
        super().__init__(napari_viewer)
        self.n = SpinBox(label="n", value=3, min=-5, max=100_000)
        self.inputs.append(self.n)
        self.revalidate()

    def validate(self):
        if self.n.value < 1:
            raise ValueError(f"n must be ≥ 1, got {self.n.value}")
        return None

    def command_line(self):
        return format_command("count", [], {"n": self.n.value})

    def start_job(self):
        self.runner.run(count_job, self.n.value, 0.01, label="count", total=self.n.value)


@pytest.fixture
def widgets(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    first, second, loader = CountWidget(viewer), CountWidget(viewer), DatasetLoaderWidget(viewer)
    for w in (first, second, loader):
        qtbot.addWidget(w)
    yield first, second, loader
    for w in (first, second):
        if w.runner.busy:
            w.runner.cancel()
            qtbot.waitUntil(lambda w=w: not w.runner.busy, timeout=5000)


def test_invalid_input_disables_run_with_the_reason(widgets, qtbot):
    first, _, _ = widgets
    assert first.run_button.isEnabled() and first.reason.text() == ""
    first.n.value = 0
    assert not first.run_button.isEnabled()
    assert first.reason.text() == "n must be ≥ 1, got 0"
    first.n.value = 2
    with qtbot.waitSignal(first.runner.finished, timeout=10_000) as blocker:
        first.run_button.click()
    assert blocker.args == [2]


def test_run_is_disabled_while_any_job_runs(widgets, qtbot, small_tilt_series_files):
    first, second, loader = widgets
    loader.path.value = small_tilt_series_files[0]
    first.n.value = 100_000
    with qtbot.waitSignal(first.runner.yielded, timeout=10_000):
        first.run_button.click()
    for w in (first, second):
        assert not w.run_button.isEnabled()
        assert w.reason.text() == "a job is running; wait for it or cancel it"
    assert loader.run_button.isEnabled()  # reading files may go on meanwhile
    with qtbot.waitSignal(first.runner.cancelled, timeout=5000):
        first.runner.cancel_button.click()
    assert first.run_button.isEnabled() and second.run_button.isEnabled()
    assert second.reason.text() == ""


def test_copy_as_command(widgets):
    from qtpy.QtGui import QGuiApplication

    first, _, _ = widgets
    first.n.value = 7
    first.copy_button.click()
    assert QGuiApplication.clipboard().text() == "atomtomo count --n 7"


def test_invalid_input_is_outlined_and_copy_is_disabled(widgets):
    from napari_atomtomo._widgets._base import INVALID_STYLE, InputError

    first, _, _ = widgets

    def validate():
        if first.n.value < 1:
            raise InputError(f"n must be ≥ 1, got {first.n.value}", first.n)

    first.validate = validate
    first.n.value = 0
    assert first.n.native.styleSheet() == INVALID_STYLE and not first.copy_button.isEnabled()
    first.n.value = 4
    assert first.n.native.styleSheet() == "" and first.copy_button.isEnabled()


def test_a_bug_in_command_line_is_not_swallowed(widgets):
    """Only ValueError (invalid inputs) disables Copy; any other error is a bug and raises."""
    first, _, _ = widgets

    def broken():
        raise AttributeError("a bug")

    first.command_line = broken
    with pytest.raises(AttributeError, match="a bug"):
        first.revalidate()


def test_closing_the_dock_cancels_its_job(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    widget = CountWidget(viewer)
    viewer.window.add_dock_widget(widget, name="count")
    widget.n.value = 100_000
    with qtbot.waitSignal(widget.runner.yielded, timeout=10_000):
        widget.run_button.click()
    with qtbot.waitSignal(widget.runner.cancelled, timeout=10_000):
        viewer.window.remove_dock_widget(widget)  # what the dock's close button does
    assert not widget.runner.busy
