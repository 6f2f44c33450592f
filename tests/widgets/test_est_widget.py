"""The "EST reconstruction" dock widget, opened through the manifest like a user would."""

from __future__ import annotations

import shlex
import time

import numpy as np
import pytest
from qtpy.QtGui import QGuiApplication

from napari_atomtomo import io
from napari_atomtomo._layers import image_layer_data
from napari_atomtomo._sample_data import blob_volume
from napari_atomtomo._widgets._est_live import ErrorPlot, central_slices, with_error_history
from napari_atomtomo._widgets.est import (
    EST,
    GRIDDING,
    PREVIEW,
    EstWidget,
)
from napari_atomtomo.cli import build_parser
from napari_atomtomo.core.est import EstParams, iter_est, reconstruct_est
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project

SERIES = "blobs tilt series"


@pytest.fixture
def est(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "EST reconstruction")
    assert isinstance(widget, EstWidget)
    yield viewer, widget
    if widget.runner.busy:  # never leave a worker behind for the next test
        widget.runner.cancel()
        qtbot.waitUntil(lambda: not widget.runner.busy, timeout=5000)


def small_series(angles, shape=(24, 6, 24), voxel_size=0.5, name="small series", with_angles=True):
    """A tilt-series layer tuple: blobs projected at ``angles``."""
    blobs = (((8.0, 2.0, 10.0), 1.0, "Si"), ((15.0, 3.0, 14.0), 0.7, "O"))
    stack = forward_project(blob_volume(shape, blobs, 1.5), angles)
    return stack, image_layer_data(stack, voxel_size, name, "test", kind="tilt_series",
                                   angles_deg=angles if with_angles else None)


def test_central_slices_montage_puts_xy_xz_yz_side_by_side():
    vol = np.random.default_rng(0).random((5, 3, 4)).astype(np.float32)
    m = central_slices(vol, gap=1)
    assert m.shape == (5, 4 + 1 + 4 + 1 + 3)
    np.testing.assert_array_equal(m[:3, 0:4], vol[2])  # xy at z = 2 (rows y)
    assert not m[3:, 0:4].any()  # zero padding below the shorter panel
    top = max(vol[2].max(), vol[:, 1, :].max(), vol[:, :, 2].max())
    assert np.all(m[:, 4] == top) and np.all(m[:, 9] == top)  # bright separators
    np.testing.assert_array_equal(m[:, 5:9], vol[:, 1, :])  # xz at y = 1 (rows z)
    np.testing.assert_array_equal(m[:, 10:13], vol[:, :, 2])  # yz at x = 2 (rows z)


def test_error_history_wrapper_keeps_every_iteration_and_the_result():
    angles = equally_sloped_angles(8, 60.0)
    stack, _ = small_series(angles, shape=(16, 2, 16))
    params = EstParams(n_iter=4, n_iter_tight=3, yield_every=2)
    states = []
    gen = with_error_history(iter_est, stack, angles, params)
    while True:
        try:
            states.append(next(gen))
        except StopIteration as stop:
            result = stop.value
            break
    reference = reconstruct_est(stack, angles, params)
    assert [s.iteration for s in states] == list(range(1, 8))
    assert [s.round for s in states] == [1] * 4 + [2] * 3
    np.testing.assert_allclose(states[-1].errors, reference.errors, rtol=1e-6)
    np.testing.assert_allclose(result.volume, reference.volume, rtol=1e-5, atol=1e-6)
    assert [s.preview is not None for s in states] == [False, True] * 3 + [False]


def test_error_plot_blits_curves_and_redraws_axes_only_for_a_new_decade(qtbot):
    plot = ErrorPlot()
    qtbot.addWidget(plot)
    with qtbot.waitExposed(plot):
        plot.show()
    qtbot.wait(100)  # first layout and resize done
    draws = []
    plot.canvas.mpl_connect("draw_event", draws.append)
    plot.start(4, 3)
    assert len(draws) == 1 and plot.axes.get_yscale() == "log"
    qtbot.wait(50)
    n_draws = len(draws)
    plot.update_errors([1.0, 0.5, 0.2])
    qtbot.wait(50)
    assert len(draws) == n_draws  # blitted onto the saved background
    r1, r2 = (ln for ln in plot.axes.get_lines() if ln.get_label().startswith("round"))
    np.testing.assert_allclose(r1.get_ydata(), [1.0, 0.5, 0.2])
    plot.update_errors([1.0, 0.5, 0.2, 0.1, 5e-5])  # below 1e-3: a new decade
    qtbot.waitUntil(lambda: len(draws) == n_draws + 1, timeout=2000)
    assert plot.axes.get_ylim()[0] == pytest.approx(1e-5)
    np.testing.assert_allclose(r2.get_xdata(), [5])
    plot.finish()
    assert not r1.get_animated() and not r2.get_animated()  # stays drawn after the job


def test_est_on_the_blob_sample_makes_the_est_layer(est, qtbot):
    viewer, widget = est
    viewer.open_sample("napari-atomtomo", "blob_tilt_series")
    assert widget.series.value is viewer.layers[SERIES]  # volumes are not offered
    assert list(widget.series.choices) == [viewer.layers[SERIES]]
    assert widget.method.value == EST and widget.angles_file.native.isHidden()
    text = widget.lines_view.toPlainText()
    assert text.startswith("55 projections fill lines of the equally sloped set N_s=32 on the "
                           "N=64 pseudopolar grid (largest angle offset 0.000°)")
    assert "projection 27 at 0.000° fills the basically horizontal line l=+0" in text
    widget.n_iter.value, widget.n_iter_tight.value = 30, 20
    seen = []
    widget.runner.yielded.connect(lambda s: seen.append((s.iteration, PREVIEW in viewer.layers)))
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=60_000):
        widget.run_button.click()
    assert seen and all(has_preview for _, has_preview in seen)  # preview made on the click
    its = [it for it, _ in seen]
    assert its == sorted(its) and its[-1] == 50  # nothing stale after the end (runner fix)
    assert "done" in widget.runner.status.text()
    layer = viewer.layers["est"]
    assert layer.data.shape == (40, 32, 40) and layer.data.dtype == np.float32
    assert tuple(layer.scale) == pytest.approx((0.5, 0.5, 0.5))
    assert layer.axis_labels == ("z", "y", "x")
    rec = layer.metadata["atomtomo"]
    assert rec["algorithm"] == "est" and rec["source_layers"] == [SERIES]
    assert rec["parameters"]["n_iter"] == 30 and rec["parameters"]["n_iter_tight"] == 20
    assert rec["parameters"]["oversampling"] == 2 and rec["n_slopes"] == 32
    assert len(rec["errors"]) == 50 and rec["final_error"] == rec["errors"][-1] < 0.05
    assert rec["command"].startswith("atomtomo est")
    assert PREVIEW not in viewer.layers  # the preview goes when the result arrives
    truth = viewer.layers["blobs truth"].data
    assert np.corrcoef(layer.data.ravel(), truth.ravel())[0, 1] > 0.95
    # the plot shows both rounds, on a log scale
    lines = [ln for ln in widget.plot.axes.get_lines() if ln.get_label().startswith("round")]
    assert [len(ln.get_xdata()) for ln in lines] == [30, 20]
    np.testing.assert_allclose(np.concatenate([ln.get_ydata() for ln in lines]), rec["errors"])
    assert widget.plot.axes.get_yscale() == "log"
    assert widget.runner.progress_bar.value() == widget.runner.progress_bar.maximum()


def test_arbitrary_angles_select_gridding_and_explain_why_not_est(est, qtbot):
    viewer, widget = est
    angles = np.linspace(-70.0, 70.0, 15)
    _, layer_data = small_series(angles)
    viewer._add_layer_from_data(*layer_data)
    assert widget.method.value == GRIDDING  # suggested automatically
    assert widget.lines_view.toPlainText().startswith(
        "The angles are not an equally sloped set (the angles are not an equally sloped set: ")
    assert widget.run_button.isEnabled(), widget.reason.text()
    widget.method.value = EST
    assert not widget.run_button.isEnabled()
    assert widget.reason.text().startswith("EST needs equally sloped angles: the angles are not")
    assert widget.reason.text().endswith("; choose Fourier gridding")
    widget.method.value = GRIDDING
    widget.n_iter.value, widget.n_iter_tight.value = 10, 5
    with qtbot.waitSignal(widget.runner.finished, timeout=60_000):
        widget.run_button.click()
    layer = viewer.layers["est"]
    assert layer.data.shape == (24, 6, 24)
    rec = layer.metadata["atomtomo"]
    assert rec["algorithm"] == "fourier_gridding" and "interpolation_radius" in rec["parameters"]
    assert 0 < rec["fourier_coverage"] <= 1 and len(rec["errors"]) == 15
    # an equally sloped layer switches the suggestion back to EST
    _, eq_data = small_series(equally_sloped_angles(8, 60.0), name="equally sloped")
    viewer._add_layer_from_data(*eq_data)
    widget.series.value = viewer.layers["equally sloped"]
    assert widget.method.value == EST and widget.run_button.isEnabled()


def test_cancel_stops_within_half_a_second(est, qtbot):
    viewer, widget = est
    viewer.open_sample("napari-atomtomo", "blob_tilt_series")
    widget.n_iter.value, widget.n_iter_tight.value = 100_000, 0
    with qtbot.waitSignal(widget.runner.yielded, timeout=60_000):
        widget.run_button.click()
    assert not widget.run_button.isEnabled()
    assert widget.reason.text() == "a job is running; wait for it or cancel it"
    with qtbot.waitSignal(widget.runner.cancelled, timeout=5000):
        t0 = time.perf_counter()
        widget.runner.cancel_button.click()
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.5, f"cancel took {elapsed:.2f} s"
    assert "est" not in viewer.layers and PREVIEW in viewer.layers
    assert not widget.runner.busy and widget.run_button.isEnabled()


def test_invalid_input_disables_run_with_the_reason(est, tmp_path):
    viewer, widget = est
    assert not widget.run_button.isEnabled()
    assert widget.reason.text() == "add or open a tilt-series image layer (angle, y, x)"
    angles = equally_sloped_angles(8, 60.0)
    _, layer_data = small_series(angles, with_angles=False)
    viewer._add_layer_from_data(*layer_data)
    assert not widget.angles_file.native.isHidden()
    assert widget.reason.text() == "layer 'small series' has no tilt angles; choose its .tlt file"
    widget.angles_file.value = io.write_tlt(tmp_path / "short.tlt", angles[:-1])
    assert widget.reason.text().endswith(
        f"angles has {angles.size - 1} entries but the tilt series has {angles.size} images")
    widget.angles_file.value = io.write_tlt(tmp_path / "good.tlt", angles)
    assert widget.run_button.isEnabled(), widget.reason.text()
    assert widget.method.value == EST
    widget.n_iter.value, widget.n_iter_tight.value = 0, 0
    assert widget.reason.text() == "n_iter + n_iter_tight must be at least 1"
    widget.n_iter.value = 5
    widget.margin.value = 12
    assert widget.reason.text() == (
        "support margin 12 px leaves no support inside the 24-px wide images")
    assert not widget.run_button.isEnabled()
    widget.margin.value = 2
    assert widget.run_button.isEnabled()


def test_copy_as_command_gives_a_valid_atomtomo_line(est, tmp_path):
    viewer, widget = est
    angles = equally_sloped_angles(8, 60.0)
    stack, _ = small_series(angles)
    mrc, _ = io.write_tilt_series(tmp_path / "my series.mrc", stack, angles, 0.5)
    viewer.open(mrc, plugin="napari-atomtomo")
    widget.series.value = viewer.layers["my series"]
    widget.n_iter.value, widget.oversampling.value, widget.margin.value = 150, 3, 2
    widget.copy_button.click()
    command = QGuiApplication.clipboard().text()
    assert command == (f"atomtomo est '{mrc}' --iterations 150 --tight-iterations 200 "
                       "--oversampling 3 --support-margin 2 --out est.mrc")
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert (args.iterations, args.tight_iterations, args.oversampling, args.support_margin,
            args.method) == (150, 200, 3, 2, "est")
    widget.method.value = GRIDDING
    assert "--method gridding" in widget.command_line()
