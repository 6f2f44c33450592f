"""The "EST reconstruction" dock widget, opened through the manifest like a user would."""

from __future__ import annotations

import shlex

import numpy as np
import pytest
from qtpy.QtGui import QGuiApplication

from napari_atomtomo import io
from napari_atomtomo._layers import image_layer_data
from napari_atomtomo._sample_data import blob_volume
from napari_atomtomo._widgets._est_live import (
    ROUND_1,
    ROUND_2,
    central_slices,
    curve_layout,
    error_curves,
)
from napari_atomtomo._widgets._plot import PlotWidget
from napari_atomtomo._widgets.est import EST, GRIDDING, EstWidget
from napari_atomtomo.cli import build_parser
from napari_atomtomo.core.est import EstParams, iter_est, reconstruct_est
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project
from napari_atomtomo.jobs.est import with_error_history

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


@pytest.mark.slow
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
    # the newest volume rides along until the next one (yields are coalesced in the GUI)
    assert [s.snapshot for s in states] == [0, 1, 1, 2, 2, 3, 3]
    assert states[0].preview is None and states[2].preview is states[1].preview
    assert states[3].preview is not states[2].preview


def test_error_curves_of_both_rounds_are_blitted_after_the_axes_were_prepared(qtbot, settle):
    plot = PlotWidget(height=2.2)
    qtbot.addWidget(plot)
    with qtbot.waitExposed(plot):
        plot.show()
    labels, layout = curve_layout(4, 3)
    assert labels == [ROUND_1, ROUND_2] and layout["marks"] == (4.5,)
    plot.prepare_curves(labels, **layout)
    qtbot.waitUntil(lambda: plot.n_full_draws >= 1, timeout=2000)
    settle()  # first layout and resize done
    draws = plot.n_full_draws
    plot.start_curves(labels, **layout)  # the prepared axes: no draw
    errors = [1.0, 0.5, 0.2, 0.1, 0.3, 0.2]
    assert plot.update_curves(error_curves(errors, 4))
    settle()  # a full draw the update asked for would run now
    assert plot.n_full_draws == draws and plot.axes.get_yscale() == "log"
    r1, r2 = plot.curves[ROUND_1], plot.curves[ROUND_2]
    np.testing.assert_allclose(r1.get_ydata(), errors[:4])
    np.testing.assert_allclose(r2.get_xdata(), [5, 6])  # round 2 continues the x axis
    assert not plot.update_curves(error_curves(errors + [5e-5], 4))  # a new decade
    qtbot.waitUntil(lambda: plot.n_full_draws == draws + 1, timeout=2000)
    assert plot.axes.get_ylim()[0] == pytest.approx(1e-5)
    plot.finish_curves()
    assert not r1.get_animated() and not r2.get_animated()  # stays drawn after the job
    early = error_curves(errors[:3], 4)  # still in round 1
    assert list(early) == [ROUND_1] and early[ROUND_1].tolist() == errors[:3]
    assert curve_layout(5, 0) == ([ROUND_1], dict(x_max=5, ylabel="relative error",
                                                  x_starts={ROUND_2: 5}, marks=()))


@pytest.mark.slow
def test_est_on_the_blob_sample_makes_the_est_layer(est, qtbot, open_sample):
    viewer, widget = est
    open_sample(viewer, "blob_tilt_series")
    assert widget.series.value is viewer.layers[SERIES]  # volumes are not offered
    assert list(widget.series.choices) == [viewer.layers[SERIES]]
    assert widget.method.value == EST and widget.angles_file.native.isHidden()
    text = widget.lines_view.toPlainText()
    assert text.startswith("55 projections fill lines of the equally sloped set N_s=32 on the "
                           "N=64 pseudopolar grid (largest angle offset 0.000°)")
    assert "projection 27 at 0.000° fills the basically horizontal line l=+0" in text
    widget.n_iter.value, widget.n_iter_tight.value = 30, 20
    qtbot.waitUntil(lambda: widget.plot.axes.get_xlim()[1] == 51  # axes of 30 + 20 drawn
                    and widget.plot._curve_background is not None, timeout=5000)
    draws = widget.plot.n_full_draws
    seen = []

    def look(state):
        layer = viewer.layers["est"]
        seen.append((state.iteration, id(layer.data), layer.data.shape))

    widget.runner.yielded.connect(look)
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=60_000):
        widget.run_button.click()
        assert "est" in viewer.layers  # the result layer is made on the click
        made = viewer.layers["est"]
    assert seen and {shape for *_, shape in seen} == {(40, 32, 40)}
    assert len({ident for _, ident, _ in seen}) == 1  # one array, filled in place
    assert viewer.layers["est"] is made  # no layer made or removed at the end
    assert widget.plot.n_full_draws == draws  # the curves were only blitted
    assert widget.thumbnail.image is not None
    assert widget.thumbnail.image.shape == central_slices(made.data).shape
    its = [it for it, *_ in seen]
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
    assert rec["command"].startswith("atomtomo est") and "partial" not in rec
    assert [lyr.name for lyr in viewer.layers] == [SERIES, "blobs truth", "blob centres", "est"]
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
    assert rec["algorithm"] == "gridding" and "interpolation_radius" in rec["parameters"]
    assert 0 < rec["fourier_coverage"] <= 1 and len(rec["errors"]) == 15
    # an equally sloped layer switches the suggestion back to EST
    _, eq_data = small_series(equally_sloped_angles(8, 60.0), name="equally sloped")
    viewer._add_layer_from_data(*eq_data)
    widget.series.value = viewer.layers["equally sloped"]
    assert widget.method.value == EST and widget.run_button.isEnabled()


@pytest.mark.slow
def test_cancel_stops_the_job_at_its_next_yield(est, qtbot, job_probe, open_sample):
    """Cancel reaches EST between two iterations; the volume shown stays, marked partial.
    (How long Cancel takes is measured in benchmarks/bench_gui_heartbeat.py.)"""
    from napari_atomtomo._widgets import est as est_module

    viewer, widget = est
    probe = job_probe(est_module, "with_error_history")
    open_sample(viewer, "blob_tilt_series")
    widget.n_iter.value, widget.n_iter_tight.value = 100_000, 0
    with qtbot.waitSignal(widget.runner.yielded, timeout=60_000):
        widget.run_button.click()
    qtbot.waitUntil(lambda: widget.thumbnail.image is not None, timeout=60_000)  # a volume
    assert not widget.run_button.isEnabled()
    assert widget.reason.text() == "a job is running; wait for it or cancel it"
    with qtbot.waitSignal(widget.runner.cancelled, timeout=60_000):
        at_cancel = probe.produced
        widget.runner.cancel_button.click()
    assert probe.produced <= at_cancel + 1  # stopped at the first yield after Cancel
    # the result layer keeps the last volume shown, marked as partial
    assert viewer.layers["est"].metadata["atomtomo"]["partial"].startswith("cancelled after")
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
                       "--oversampling 3 --support-margin 2 --tight-threshold 0.05 --out est.mrc")
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert (args.iterations, args.tight_iterations, args.oversampling, args.support_margin,
            args.method) == (150, 200, 3, 2, "est")
    widget.method.value = GRIDDING
    assert "--method gridding" in widget.command_line()


def _cancel_after_the_first_set_up_step(est, qtbot, job_probe, open_sample, method, note):
    """Run the dock (``method``, or its default) on the blob series with the job held after
    its first state, Cancel there and check that the set-up stopped at the end of the step
    running when Cancel came (one more step; the rest of the set-up and every iteration
    never ran), the dock showing ``note`` meanwhile. Returns the first state."""
    from napari_atomtomo._widgets import est as est_module
    from napari_atomtomo.core.est import EstSetupStep

    viewer, widget = est
    open_sample(viewer, "blob_tilt_series")
    if method is not None:
        widget.method.value = method
    # the job halts after handing over its first state, whatever the machine's load
    probe = job_probe(est_module, "with_error_history", hold_after=1)
    widget.n_iter.value, widget.n_iter_tight.value = 100_000, 0
    widget.run_button.click()
    qtbot.waitUntil(probe.held.is_set, timeout=120_000)
    (first,) = probe.states
    assert isinstance(first, EstSetupStep)
    with qtbot.waitSignal(widget.runner.cancelled, timeout=120_000):
        widget.runner.cancel_button.click()
        assert widget.setup_note.text() == note
        assert not widget.setup_note.isHidden()
        probe.release.set()
    assert probe.produced == 2
    assert all(isinstance(s, EstSetupStep) for s in probe.states)
    assert widget.setup_note.isHidden() and not widget.runner.busy
    return first


@pytest.mark.slow
def test_cancel_during_the_set_up_stops_it_at_the_end_of_the_current_stage(
        est, qtbot, job_probe, open_sample):
    """EST's set-up yields between its stages: Cancel reaches it there (issue 14 point 5),
    not only once the whole set-up is done; the dock says so meanwhile."""
    from napari_atomtomo._widgets.est import SETUP_STAGE_NOTE

    first = _cancel_after_the_first_set_up_step(est, qtbot, job_probe, open_sample, None,
                                                SETUP_STAGE_NOTE)
    assert first.stage == "measured lines"
    assert first.n_steps >= 4  # lines, >= 2 chunks of the back projection, operator


@pytest.mark.slow
def test_cancel_during_the_gridding_set_up_stops_it_at_the_end_of_the_current_chunk(
        est, qtbot, job_probe, open_sample):
    """Fourier gridding's set-up yields after each chunk of slices it grids: Cancel reaches
    it there instead of only once the whole set-up is done; the dock says so meanwhile."""
    from napari_atomtomo._widgets.est import GRIDDING, SETUP_CANCEL_NOTE

    first = _cancel_after_the_first_set_up_step(est, qtbot, job_probe, open_sample, GRIDDING,
                                                SETUP_CANCEL_NOTE)
    assert first.stage == "gridding"
    assert (first.step, first.n_steps >= 3) == (1, True)  # the blobs have > 16 slices
