"""What keeps the event loop responsive while a job runs (issue 7).

The stalls themselves are measured in ``benchmarks/bench_gui_heartbeat.py`` (never as
timed assertions); these tests prove the mechanisms: GUI updates are coalesced to a few
per second, napari's activity-dock bar moves rarely and its spinner is paused, live plot curves
keep their artists and are blitted instead of redrawing the figure, and a job's output
layers are made on the click and filled in place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest
from qtpy.QtGui import QMovie
from qtpy.QtWidgets import QApplication, QLabel

from napari_atomtomo._layers import image_layer_data
from napari_atomtomo._widgets._base import add_or_replace_layers, overwrite_image_data
from napari_atomtomo._widgets._plot import PlotWidget
from napari_atomtomo._widgets._runner import (
    ACTIVITY_DOCK_INTERVAL_S,
    MIN_UPDATE_INTERVAL_S,
)
from napari_atomtomo._widgets.sirt_hebt import SIRT
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project

#: Whole-GUI runs of every job (≈ 5 s together): in `make test`, not in `make test-fast`.
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Frame:
    iteration: int
    image: np.ndarray


def frames(n, delay, shape=(4, 5)):
    for i in range(1, n + 1):
        time.sleep(delay)
        yield Frame(i, np.full(shape, float(i), np.float32))
    return np.full(shape, float(n), np.float32)


def preview(state):
    return image_layer_data(state.image, 0.5, "job preview", "frames", {})


def spinners():
    """napari's status-bar activity spinners (labels with a movie)."""
    return [label for top in QApplication.topLevelWidgets() for label in top.findChildren(QLabel)
            if label.movie() is not None and type(label.parent()).__name__ == "ActivityToggleItem"]


def test_yields_are_coalesced_to_a_few_gui_updates_per_second(runner, qtbot):
    shown = []
    runner.yielded.connect(shown.append)
    n = 300
    t0 = time.perf_counter()
    with qtbot.waitSignal(runner.finished, timeout=30_000):
        runner.run(frames, n, 0.002, label="frames", total=n, on_yield=preview,
                   keep_preview=True)
    elapsed = time.perf_counter() - t0
    # at most one update per interval (plus the first and the last), never one per yield
    assert 1 <= runner.n_updates == len(shown) <= elapsed / MIN_UPDATE_INTERVAL_S + 2 < n
    assert runner.n_activity_updates <= elapsed / ACTIVITY_DOCK_INTERVAL_S + 2
    its = [s.iteration for s in shown]
    assert its == sorted(its) and its[-1] == n  # the newest state, and the last one shown
    assert runner.progress_bar.value() == 1 and runner.progress_bar.maximum() == 1


def test_activity_spinner_is_paused_while_a_job_runs(runner, qtbot):
    with qtbot.waitSignal(runner.yielded, timeout=10_000):
        runner.run(frames, 100_000, 0.01, label="long", total=100_000)
    qtbot.waitUntil(lambda: runner._pbar is not None, timeout=5000)
    found = spinners()
    assert found, "napari's activity spinner was not found"
    assert not any(label.movie().state() == QMovie.MovieState.Running for label in found)
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.cancel()


def result_frame(state):
    return image_layer_data(state.image, 0.5, "job result", "frames", {"final": False})


def final_frame(image):
    return image_layer_data(image, 0.5, "job result", "frames", {"final": True})


def test_live_layers_are_made_on_the_click_and_filled_in_place(runner, qtbot):
    """From the click to the result napari makes no layer and removes none: frames and
    the result are copied into the live layer's own array (each layer change costs the
    GUI thread 0.1-0.2 s); a later job adopts the layer without writing into the earlier
    result, and a frame of another shape gets new data."""
    viewer = runner._viewer
    changes = []
    viewer.layers.events.inserted.connect(lambda e: changes.append(("inserted", e.value.name)))
    viewer.layers.events.removed.connect(lambda e: changes.append(("removed", e.value.name)))
    buffer = np.zeros((4, 5), np.float32)
    shown = []
    runner.yielded.connect(lambda s: shown.append(s.image.copy()))
    runner.started.connect(lambda _: changes.append(("started", None)))
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.run(frames, 5, 0.05, label="frames", total=5, on_yield=result_frame,
                   on_result=final_frame, live_layers=final_frame(buffer))
    assert changes == [("inserted", "job result"), ("started", None)]  # on the click only
    layer = viewer.layers["job result"]
    assert layer.data is buffer  # the same array all along: no new data, no dims update
    np.testing.assert_array_equal(buffer, 5.0)  # the result, copied in
    assert layer.metadata["atomtomo"]["parameters"] == {"final": True}
    assert layer.contrast_limits[0] <= 5.0 <= layer.contrast_limits[1]

    # the next job adopts the layer; the first result array is never written to again
    changes.clear()
    first = layer.data
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.run(frames, 3, 0.05, label="frames", total=3, on_yield=result_frame,
                   on_result=final_frame, live_layers=final_frame(np.zeros((4, 5), np.float32)))
    assert changes == [("started", None)]
    assert viewer.layers["job result"] is layer and layer.data is not first
    np.testing.assert_array_equal(first, 5.0)
    np.testing.assert_array_equal(layer.data, 3.0)

    # a frame of another shape is not forced into the buffer: the layer gets new data
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.run(frames, 2, 0.0, (3, 3), label="frames", total=2, on_yield=result_frame,
                   on_result=final_frame, live_layers=final_frame(np.zeros((4, 5), np.float32)))
    assert viewer.layers["job result"].data.shape == (3, 3)
    np.testing.assert_array_equal(viewer.layers["job result"].data, 2.0)


@pytest.mark.slow
def test_live_layers_of_a_cancelled_job_are_kept_only_when_they_got_a_frame(runner, qtbot):
    viewer = runner._viewer
    # cancelled before its first frame: the empty layer made on the click goes
    with qtbot.waitSignal(runner.started, timeout=2000):
        runner.run(frames, 100_000, 0.05, label="slow", total=100_000,
                   live_layers=final_frame(np.zeros((4, 5), np.float32)))
    assert "job result" in viewer.layers
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.cancel()
    assert "job result" not in viewer.layers
    # cancelled after frames: the last frame stays, marked as partial
    with qtbot.waitSignal(runner.yielded, timeout=5000):
        runner.run(frames, 100_000, 0.01, label="long", total=100_000, on_yield=result_frame,
                   live_layers=final_frame(np.zeros((4, 5), np.float32)))
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.cancel()
    layer = viewer.layers["job result"]
    assert layer.data.min() >= 1.0
    assert layer.metadata["atomtomo"]["partial"].startswith("cancelled after ")


def test_overwrite_image_data_only_into_matching_writable_arrays(make_napari_viewer):
    viewer = make_napari_viewer()
    buffer = np.zeros((3, 4), np.float32)
    (layer,) = add_or_replace_layers(viewer, image_layer_data(buffer, 1.0, "p", "t", {}))
    frame = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert overwrite_image_data(layer, frame)
    assert layer.data is buffer and np.array_equal(buffer, frame)
    assert tuple(layer.contrast_limits) == (0.0, 11.0)
    frame[0, 0] = 99.0  # a copy: the caller's frame is not kept
    assert buffer[0, 0] == 0.0
    assert not overwrite_image_data(layer, np.zeros((4, 3), np.float32))  # shape
    assert not overwrite_image_data(layer, np.zeros((3, 4), np.float64))  # dtype
    buffer.flags.writeable = False
    assert not overwrite_image_data(layer, np.ones((3, 4), np.float32))  # read-only
    assert np.array_equal(buffer, np.arange(12).reshape(3, 4))
    # names not listed in ``overwrite`` get new data, as before
    add_or_replace_layers(viewer, image_layer_data(np.ones((3, 4), np.float32), 1.0, "p", "t", {}))
    assert viewer.layers["p"].data is not buffer


@pytest.fixture
def plot(qtbot):
    w = PlotWidget(height=2.2)
    w.resize(400, 150)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_live_curves_are_blitted_without_redrawing_the_figure(plot, qtbot, settle):
    before = plot.n_full_draws
    plot.start_curves(["a", "b"], x_max=40, ylabel="error")
    qtbot.waitUntil(lambda: plot.n_full_draws > before, timeout=5000)
    lines = plot.curves
    draws = plot.n_full_draws
    a = 0.9 ** np.arange(1, 41)
    for k in range(1, 41):
        assert plot.update_curves({"a": a[:k], "b": 0.5 * a[:k], "other": a[:k]})
    settle()  # a full draw the updates asked for would run now
    assert plot.n_full_draws == draws  # blits only
    assert plot.curves == lines and all(plot.curves[k] is lines[k] for k in lines)
    assert [line.get_label() for line in plot.axes.lines] == ["a", "b"]  # no new artists
    np.testing.assert_allclose(lines["b"].get_ydata(), 0.5 * a)
    np.testing.assert_array_equal(lines["a"].get_xdata(), np.arange(1, 41))

    # a value below the axes: they grow by whole decades, with one full draw
    assert not plot.update_curves({"a": np.append(a, 2e-5)})
    qtbot.waitUntil(lambda: plot.n_full_draws == draws + 1, timeout=5000)
    assert plot.axes.get_ylim()[0] == pytest.approx(1e-5)
    assert plot.axes.get_xlim()[1] >= 42
    assert plot.update_curves({"a": np.append(a, 3e-5)})  # blitting again
    plot.finish_curves()
    assert plot.curves == {} and not any(line.get_animated() for line in plot.axes.lines)
    assert len(plot.axes.lines) == 2


def test_hold_size_keeps_the_canvas_height(plot):
    height = plot.canvas.height()
    plot.hold_size(True)
    assert plot.canvas.minimumHeight() == plot.canvas.maximumHeight() == height
    plot.hold_size(False)
    assert plot.canvas.maximumHeight() > height


@pytest.mark.slow
def test_sirt_widget_fills_its_result_layer_in_place_and_keeps_its_curve(
        make_napari_viewer, qtbot, job_probe):
    """A 3D SIRT job through the widget: the result layer ``sirt`` is made on the click
    and shows the newest volume in place; the residual curve is one artist from start to
    end, drawn on axes prepared before the click (no full figure draw during the job)."""
    from napari_atomtomo._widgets import sirt_hebt

    # the real job, held after its first state until the GUI has shown it, so at least
    # one update comes before the end whatever the machine's load
    probe = job_probe(sirt_hebt, "iter_reconstruction", hold_after=1)
    viewer = make_napari_viewer()
    _, w = viewer.window.add_plugin_dock_widget("napari-atomtomo", "SIRT / HEBT")
    angles = equally_sloped_angles(8, 60.0)
    volume = np.zeros((12, 6, 12), np.float32)
    volume[4:8, 2:4, 3:9] = 1.0
    stack = forward_project(volume, angles)
    add_or_replace_layers(viewer, image_layer_data(stack, 2.0, "series", "test", {},
                                                   kind="tilt_series", angles_deg=angles))
    w.mode.value = SIRT
    w.haadf.value = viewer.layers["series"]
    w.n_iter.value = 30
    qtbot.waitUntil(lambda: w.plot.axes.get_xlim()[1] == 31
                    and w.plot._curve_background is not None, timeout=5000)
    draws = w.plot.n_full_draws
    seen = []

    def look(state):
        layer = viewer.layers["sirt"]
        seen.append((id(layer.data), state.maps["sirt"].copy(), layer.data.copy()))

    w.runner.yielded.connect(look)
    assert w.run_button.isEnabled(), w.reason.text()
    with qtbot.waitSignal(w.runner.yielded, timeout=60_000):
        w.run_button.click()
        made = viewer.layers["sirt"]
        assert made.data.shape == (12, 6, 12) and not made.data.any()
        line = w.plot.curves["sirt"]
    with qtbot.waitSignal(w.runner.finished, timeout=60_000):
        probe.release.set()
    assert len(seen) >= 2  # the first update, and the last progress at the end
    assert len({s[0] for s in seen}) == 1  # one buffer, overwritten
    for _, frame, shown in seen[:-1]:  # the end shows the result instead of a preview
        np.testing.assert_array_equal(shown, frame)
    assert viewer.layers["sirt"] is made and made.data.shape == (12, 6, 12)
    assert [lyr.name for lyr in viewer.layers] == ["series", "sirt"]
    assert list(w.plot.axes.lines) == [line]  # the same artist, now with all 30 residuals
    assert len(line.get_ydata()) == 30 and not line.get_animated()
    assert w.plot.n_full_draws == draws  # only blits from the click to the result
    assert w.plot.canvas.maximumHeight() > w.plot.canvas.minimumHeight()  # released


def test_progress_bar_value_changes_do_not_repaint_synchronously(qtbot, settle):
    """QProgressBar.setValue repaints at once when its text changes; ours only schedules
    an update, so the repaint joins the window's next regular (coalesced) repaint."""
    from qtpy.QtCore import QEvent, QObject
    from qtpy.QtWidgets import QProgressBar

    from napari_atomtomo._widgets._progress_bar import LazyProgressBar

    class PaintCounter(QObject):
        n = 0

        def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
            if event.type() == QEvent.Type.Paint:
                PaintCounter.n += 1
            return False

    def paints_during_set_value(bar):
        qtbot.addWidget(bar)
        bar.setRange(0, 100)
        bar.show()
        qtbot.waitExposed(bar)
        settle()
        counter = PaintCounter()
        bar.installEventFilter(counter)
        PaintCounter.n = 0
        bar.setValue(37)
        during = PaintCounter.n
        settle()  # the scheduled repaint happens here
        bar.removeEventFilter(counter)
        return during, PaintCounter.n

    plain_during, _ = paints_during_set_value(QProgressBar())
    lazy_during, lazy_after = paints_during_set_value(LazyProgressBar())
    assert plain_during >= 1  # Qt's own bar repaints inside setValue
    assert lazy_during == 0 and lazy_after >= 1
