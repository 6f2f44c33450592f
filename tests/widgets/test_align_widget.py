"""The "Align tilt series" widget: known shifts of a simulated series, EDS maps, saved shifts."""

from __future__ import annotations

import argparse
import importlib
import shlex

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo._layers import image_layer_data, series_array
from napari_atomtomo._sample_data import silica_series_layers
from napari_atomtomo._widgets._base import add_or_replace_layers
from napari_atomtomo._widgets.align import FROM_FILE, INDEX, AlignWidget
from napari_atomtomo.core.align import apply_shifts
from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.simulate.haadf import HaadfParams, simulate_haadf_series


def parse_commands(command: str) -> list[argparse.Namespace]:
    """Parse each ``atomtomo ...`` part of a command line with the real CLI parsers."""
    parser = argparse.ArgumentParser(prog="atomtomo")
    sub = parser.add_subparsers(dest="command")
    importlib.import_module("napari_atomtomo.cli._align").register(sub)
    out = []
    for part in command.split(" && "):
        words = shlex.split(part)
        assert words[0] == "atomtomo"
        out.append(parser.parse_args(words[1:]))
    return out


@pytest.fixture(scope="module")
def simulated():
    """A noise-free series of a 12-atom cluster with known shifts (48 px of 0.5 Å)."""
    rng = np.random.default_rng(5)
    atoms = Atoms(["Si"] * 4 + ["O"] * 8, rng.uniform(-3.0, 3.0, (12, 3)))
    params = HaadfParams(n_pixels=48, shift_sigma_px=1.5, tilt_drift_deg=0.0, seed=4)
    return simulate_haadf_series(atoms, params), params


@pytest.fixture
def align(make_napari_viewer, simulated):
    sim, params = simulated
    viewer = make_napari_viewer()
    add_or_replace_layers(viewer, silica_series_layers(sim, {"seed": params.seed}))
    eds = (0.3 * sim.stack_noisy + 1.0).astype(np.float32)  # an "EDS map" of the same series
    add_or_replace_layers(viewer, image_layer_data(
        eds, 0.5, "eds_Si", "test", kind="tilt_series", angles_deg=sim.angles_nominal,
        element="Si", colormap="magenta", blending="additive"))
    viewer.add_image(np.ones((5, 48, 48), np.float32), name="other series")
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Align tilt series")
    assert isinstance(widget, AlignWidget)
    widget.series.value = viewer.layers["haadf"]
    return viewer, widget, sim


def _run(widget, qtbot):
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=30_000):
        widget.run_button.click()


@pytest.mark.slow
def test_align_recovers_shifts_applies_them_to_eds_and_matches_the_cli(align, qtbot, tmp_path):
    viewer, widget, sim = align
    assert [layer.name for layer in widget.others.choices] == ["eds_Si"]  # 5 images: not offered
    widget.others.value = [viewer.layers["eds_Si"]]
    _run(widget, qtbot)
    shifts = widget.last_result.shifts
    ref = widget.last_result.reference_index
    assert [layer.name for layer in widget.others.choices] == ["eds_Si"]  # results not offered
    assert ref == 27  # the 0° image of the 55
    truth = sim.shifts.copy()
    truth[:, 0] -= truth[ref, 0]
    assert np.sqrt(np.mean((shifts - truth) ** 2)) < 0.05
    assert "rms error vs the simulation's truth" in widget.summary.text()
    dy_line, dx_line = widget.plot.axes.lines[:2]
    np.testing.assert_allclose(dy_line.get_ydata(), shifts[:, 0])
    np.testing.assert_allclose(dx_line.get_xdata(), sim.angles_nominal)

    out = viewer.layers["haadf_aligned"]
    assert series_array(out).shape == (55, 48, 48) and tuple(out.scale[1:]) == pytest.approx((0.5,) * 3)
    rec = out.metadata["atomtomo"]
    assert rec["algorithm"] == "align" and rec["kind"] == "tilt_series"
    assert rec["parameters"] == {"method": "estimate", "reference": "zero", "upsample": 100,
                                 "background": "none", "tilt_axis": "y", "refine": 0}
    assert rec["tilt_axis_angle_deg"] == 0.0 and rec["tilt_axis_offset_px"] == 0.0
    assert rec["source_layers"] == ["haadf"] and rec["reference_index"] == 27
    np.testing.assert_allclose(rec["shifts_px"], shifts)
    np.testing.assert_allclose(rec["angles_deg"], sim.angles_nominal)
    eds = viewer.layers["eds_Si_aligned"]
    np.testing.assert_allclose(series_array(eds), apply_shifts(series_array(viewer.layers["eds_Si"]), shifts),
                               atol=1e-5)
    assert eds.metadata["atomtomo"]["element"] == "Si"
    assert eds.metadata["atomtomo"]["source_layers"] == ["eds_Si", "haadf"]
    assert eds.colormap.name == "magenta"
    # the aligned series is centred: its centre of mass sits on the detector centre in x
    com_x = (series_array(out).sum(axis=1) @ np.arange(48)) / series_array(out).sum(axis=(1, 2))
    np.testing.assert_allclose(com_x, 23.5, atol=0.02)

    # the same through the command line, from files
    for name in ("haadf", "eds_Si"):
        io.write_tilt_series(tmp_path / f"{name}.mrc", series_array(viewer.layers[name]),
                             sim.angles_nominal, 0.5)
    estimate, apply = parse_commands(widget.command_line())
    assert (estimate.reference, estimate.upsample, estimate.background) == ("zero", 100, "none")
    assert apply.apply_shifts == estimate.shifts_out == "haadf_shifts.json"
    for args in (estimate, apply):
        args.stack = str(tmp_path / args.stack)
        args.out = str(tmp_path / args.out)
    estimate.shifts_out = apply.apply_shifts = str(tmp_path / "haadf_shifts.json")
    assert estimate.func(estimate) == 0 and apply.func(apply) == 0
    np.testing.assert_allclose(io.read_shifts(tmp_path / "haadf_shifts.json"), shifts)
    np.testing.assert_allclose(io.read_mrc(tmp_path / "eds_Si_aligned.mrc")[0], series_array(eds), atol=1e-5)


@pytest.mark.slow
def test_saved_shifts_are_reused_for_another_signal(align, qtbot, tmp_path):
    viewer, widget, _ = align
    widget.reference.value = INDEX
    widget.ref_index.value = 10
    _run(widget, qtbot)
    shifts = widget.last_result.shifts
    assert widget.last_result.reference_index == 10 and shifts[10, 0] == 0.0
    path = widget.save_shifts(tmp_path / "shifts.json")
    np.testing.assert_allclose(io.read_shifts(path, n_images=55), shifts)
    with pytest.raises(FileExistsError, match="exists"):
        widget.save_shifts(path)

    widget.series.value = viewer.layers["eds_Si"]
    widget.method.value = FROM_FILE
    assert widget.reason.text() == "choose the JSON file of saved shifts"
    widget.shifts_file.value = path
    _run(widget, qtbot)
    np.testing.assert_allclose(series_array(viewer.layers["eds_Si_aligned"]),
                               apply_shifts(series_array(viewer.layers["eds_Si"]), shifts), atol=1e-6)
    rec = viewer.layers["eds_Si_aligned"].metadata["atomtomo"]
    assert rec["parameters"] == {"method": "file", "shifts_file": str(path)}
    (args,) = parse_commands(widget.command_line())
    assert args.apply_shifts == str(path) and args.out == "eds_Si_aligned.mrc"


@pytest.mark.slow
def test_invalid_inputs_disable_run_with_the_reason(align, qtbot, tmp_path):
    viewer, widget, _ = align
    widget.reference.value = INDEX
    widget.ref_index.value = 55
    assert not widget.run_button.isEnabled()
    assert widget.reason.text() == "reference index must be in 0..54, got 55"
    widget.series.value = viewer.layers["other series"]
    assert widget.reason.text() == "layer 'other series' has no tilt angles; choose its .tlt file"
    widget.angles_file.value = io.write_tlt(tmp_path / "five.tlt", [-40, -20, 0, 20, 40])
    widget.reference.value = "zero"
    _run(widget, qtbot)  # the angles of the .tlt file go with the aligned layer
    rec = viewer.layers["other series_aligned"].metadata["atomtomo"]
    np.testing.assert_allclose(rec["angles_deg"], [-40, -20, 0, 20, 40])
    assert rec["reference_index"] == 2
    widget.method.value = FROM_FILE
    bad = io.write_shifts(tmp_path / "three.json", np.zeros((3, 2)))
    widget.shifts_file.value = bad
    assert widget.reason.text() == f"{bad} has 3 shifts but the tilt series has 5 images"
    viewer.layers.clear()
    assert widget.series.value is None
    assert widget.reason.text() == "add or open a tilt-series image layer (angle, y, x)"
    assert not widget.run_button.isEnabled()


def test_cancel_drops_the_result(align, qtbot):
    viewer, widget, _ = align
    with qtbot.waitSignal(widget.runner.cancelled, timeout=30_000):
        widget.run_button.click()
        widget.runner.cancel()
    assert "haadf_aligned" not in viewer.layers
    assert widget.last_result is None and not widget.save_button.isEnabled()
    qtbot.waitUntil(widget.run_button.isEnabled, timeout=5_000)


@pytest.mark.slow
def test_opens_on_the_newest_series_to_align(make_napari_viewer, simulated, qtbot):
    """Issue 14: Align opened with no series although ``haadf`` was open, and Run said
    "add or open a tilt-series image layer"."""
    sim, params = simulated
    viewer = make_napari_viewer()
    add_or_replace_layers(viewer, silica_series_layers(sim, {"seed": params.seed}))
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Align tilt series")
    assert widget.series.value is viewer.layers["haadf"]
    assert widget.run_button.isEnabled(), widget.reason.text()
    assert "add or open" not in widget.reason.text()
    # An EDS map and a series without angles opened later do not take its place ...
    add_or_replace_layers(viewer, image_layer_data(
        sim.stack_noisy, 0.5, "eds_Si", "test", kind="tilt_series",
        angles_deg=sim.angles_nominal, element="Si"))
    viewer.add_image(np.ones((5, 48, 48), np.float32), name="other series")
    assert widget.series.value is viewer.layers["haadf"]
    # ... a newer HAADF series does, and its aligned result does not.
    add_or_replace_layers(viewer, image_layer_data(
        sim.stack_noisy, 0.5, "haadf_pre", "preprocess", source_layers=["haadf"],
        kind="tilt_series", angles_deg=sim.angles_nominal))
    assert widget.series.value is viewer.layers["haadf_pre"]
    _run(widget, qtbot)
    assert "haadf_pre_aligned" in viewer.layers
    assert widget.series.value is viewer.layers["haadf_pre"]
    # A layer the user chose stays chosen while it exists.
    widget.series.value = viewer.layers["haadf"]
    viewer.add_image(np.ones((5, 48, 48), np.float32), name="another series")
    assert widget.series.value is viewer.layers["haadf"]


def test_align_opens_napari_activity_bar_only_after_a_second(align, monkeypatch):
    """A quick job: napari's activity-dock bar (0.1-0.5 s of GUI thread) only if it still
    runs a second after the click (issue 14)."""
    from napari_atomtomo._widgets._runner import QUICK_JOB_ACTIVITY_AFTER_S

    _, widget, _ = align
    seen = {}
    monkeypatch.setattr(widget.runner, "run", lambda *a, **k: seen.update(k))
    widget.run_button.click()
    assert seen["activity_after_s"] == QUICK_JOB_ACTIVITY_AFTER_S


def test_shift_plot_comes_in_its_own_turn_after_the_layers(align, qtbot, monkeypatch):
    """The aligned layers, then the shift plot, each in an event-loop turn of its own (the
    plot's full draw had fallen into the first layer's add_layer stall), before
    ``finished``."""
    from qtpy.QtCore import QTimer

    from napari_atomtomo._widgets import align as align_module

    viewer, widget, _ = align
    widget.others.value = [viewer.layers["eds_Si"]]
    turn, seen = [0], []
    ticker = QTimer()
    ticker.setInterval(0)  # fires on every pass of the event loop
    ticker.timeout.connect(lambda: turn.__setitem__(0, turn[0] + 1))
    viewer.layers.events.inserted.connect(lambda e: seen.append((e.value.name, turn[0])))
    plot_shifts = align_module.plot_shifts

    def spy(*args, **kwargs):
        seen.append(("plot", turn[0]))
        return plot_shifts(*args, **kwargs)

    monkeypatch.setattr(align_module, "plot_shifts", spy)
    ticker.start()
    _run(widget, qtbot)
    ticker.stop()
    assert [n for n, _ in seen] == ["haadf_aligned", "eds_Si_aligned", "plot"]
    assert len({t for _, t in seen}) == 3
    assert "rms shift" in widget.summary.text() and len(widget.plot.axes.lines) >= 2
