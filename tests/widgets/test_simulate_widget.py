"""The "Simulate tilt series" widget: SiO2 (paper 000) and Ag–Au (paper 002) through the manifest.

The layers the widget makes are compared with what its "Copy as command" line writes
when run through the real ``atomtomo`` argument parser, which proves both use the same
parameters.
"""

from __future__ import annotations

import argparse
import importlib
import shlex

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from napari_atomtomo import io
from napari_atomtomo._layers import series_array
from napari_atomtomo._widgets.simulate import AGAU, GENERATE, XYZ_FILE, SimulateWidget
from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.geometry import equally_sloped_angles


def parse_commands(command: str) -> list[argparse.Namespace]:
    """Parse each ``atomtomo ...`` part of a command line with the real CLI parsers."""
    parser = argparse.ArgumentParser(prog="atomtomo")
    sub = parser.add_subparsers(dest="command")
    for name in ("_simulate", "_align"):
        importlib.import_module(f"napari_atomtomo.cli.{name}").register(sub)
    out = []
    for part in command.split(" && "):
        words = shlex.split(part)
        assert words[0] == "atomtomo"
        out.append(parser.parse_args(words[1:]))
    return out


@pytest.fixture
def simulate(make_napari_viewer):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Simulate tilt series")
    assert isinstance(widget, SimulateWidget)
    return viewer, widget


def _run(widget, qtbot, timeout=60_000):
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=timeout):
        widget.run_button.click()


@pytest.mark.slow
def test_silica_series_matches_the_command_line(simulate, qtbot, tmp_path):
    viewer, widget = simulate
    widget.noise.value = ("preset", 25)
    widget.seed.value = 3
    _run(widget, qtbot)
    haadf = viewer.layers["haadf"]
    assert series_array(haadf).shape == (55, 100, 100)
    assert tuple(haadf.scale[1:]) == pytest.approx((0.5, 0.5, 0.5))
    assert haadf.axis_labels == ("angle", "z", "y", "x")
    rec = haadf.metadata["atomtomo"]
    assert rec["algorithm"] == "simulate.silica" and rec["kind"] == "tilt_series"
    assert rec["parameters"]["r_noise"] == 0.25 and rec["parameters"]["seed"] == 3
    assert rec["parameters"]["structure"] == "silica_1002.xyz"
    nominal = equally_sloped_angles(32, 72.6)
    np.testing.assert_allclose(rec["angles_deg"], nominal)
    truth = rec["truth"]
    drift = np.asarray(truth["angles_true_deg"]) - nominal  # 0 -> 0.5° through the series
    np.testing.assert_allclose(drift, np.linspace(0.0, 0.5, 55), atol=1e-12)
    assert np.shape(truth["shifts_px"]) == (55, 2)
    assert rec["r_noise"] == pytest.approx(0.25, abs=0.01)
    assert "R_noise 2" in widget.summary.text()

    atoms = viewer.layers["atoms_true"]
    elements = np.asarray(atoms.features["element"])
    assert len(atoms.data) == 1002 and (elements == "Si").sum() == 334
    assert (elements == "O").sum() == 668
    np.testing.assert_allclose(atoms.face_color[elements == "Si"], [to_rgba("#f0c000")] * 334)
    np.testing.assert_allclose(atoms.face_color[elements == "O"], [to_rgba("#e00000")] * 668)
    assert atoms.metadata["atomtomo"]["algorithm"] == "simulate.silica"

    (args,) = parse_commands(widget.command_line())
    assert args.preset == 25 and args.seed == 3 and args.structure is None
    args.out_dir = str(tmp_path / "cli")
    assert args.func(args) == 0
    data, vs = io.read_mrc(tmp_path / "cli" / "haadf.mrc")
    assert vs == pytest.approx(0.5)
    np.testing.assert_array_equal(data, series_array(haadf))
    np.testing.assert_allclose(io.read_xyz(tmp_path / "cli" / "atoms_true.xyz").positions,
                               atoms.data[:, ::-1], atol=1e-5)


@pytest.mark.slow
def test_own_xyz_noise_free_conserves_the_signal(simulate, qtbot, tmp_path):
    viewer, widget = simulate
    model = Atoms(["Si", "Si", "O"], [[0.0, 0.0, 0.0], [2.0, 1.0, -1.0], [-1.5, 0.5, 1.0]])
    path = io.write_xyz(tmp_path / "tiny.xyz", model)
    widget.structure.value = XYZ_FILE
    assert widget.reason.text() == "choose the XYZ file of the atom model"
    widget.xyz.value = path
    widget.noise.value = ("none", None)
    widget.n_pixels.value = 48
    widget.shifts.value = 1.0
    _run(widget, qtbot)
    haadf = viewer.layers["haadf"]
    assert series_array(haadf).shape == (55, 48, 48)
    # every image holds the whole Z^1.8 signal of the three atoms (pixel-integrated Gaussians)
    np.testing.assert_allclose(series_array(haadf).sum(axis=(1, 2)), 2 * 14**1.8 + 8**1.8, rtol=1e-5)
    assert haadf.metadata["atomtomo"]["r_noise"] is None
    assert list(viewer.layers["atoms_true"].features["element"]) == ["Si", "Si", "O"]
    (args,) = parse_commands(widget.command_line())
    assert args.structure == str(path) and args.dose is None and args.r_noise is None
    assert (args.n_pixels, args.shift_sigma) == (48, 1.0)


@pytest.mark.slow
def test_agau_dataset_matches_the_command_line(simulate, qtbot, tmp_path):
    viewer, widget = simulate
    widget.kind.value = AGAU
    assert widget.structure.native.isHidden() and not widget.solid_angle.native.isHidden()
    widget.seed.value = 2
    widget.eds_filter.value = False
    _run(widget, qtbot)
    names = [layer.name for layer in viewer.layers]
    assert names == ["haadf", "eds_Ag", "eds_Au", "phantom_Ag", "phantom_Au"]
    for name in ("haadf", "eds_Ag", "eds_Au"):
        layer = viewer.layers[name]
        assert series_array(layer).shape == (31, 1, 97) and layer.data.shape == (31, 1, 97)
        assert layer.metadata["atomtomo"]["display"] == "sinogram"
        # rows spread over the maps' 96 × 15 Å, 15 Å a column; beside the maps along x
        assert tuple(layer.scale) == pytest.approx((96 * 15.0 / 30, 15.0, 15.0))
        assert layer.translate[2] > (97 - 1) * 15.0
        np.testing.assert_allclose(layer.metadata["atomtomo"]["angles_deg"], np.arange(-75, 76, 5))
    assert viewer.layers["eds_Au"].metadata["atomtomo"]["element"] == "Au"
    phantom = viewer.layers["phantom_Ag"]
    assert phantom.data.shape == (97, 1, 97) and tuple(phantom.scale) == pytest.approx((15.0,) * 3)
    rec = viewer.layers["haadf"].metadata["atomtomo"]
    assert rec["algorithm"] == "simulate.agau" and rec["parameters"]["gaussian_sigma"] == 0.0
    assert rec["truth"]["seed"] == 2

    (args,) = parse_commands(widget.command_line())
    assert args.seed == 2 and args.no_filter
    args.out = str(tmp_path / "agau")
    assert args.func(args) == 0
    ds = io.read_dataset(tmp_path / "agau")
    np.testing.assert_array_equal(ds.haadf, series_array(viewer.layers["haadf"]))
    np.testing.assert_array_equal(ds.eds["Ag"], series_array(viewer.layers["eds_Ag"]))
    np.testing.assert_array_equal(ds.phantoms["Au"], viewer.layers["phantom_Au"].data)


@pytest.mark.slow
def test_invalid_inputs_disable_run_with_the_reason(simulate, tmp_path):
    _, widget = simulate
    assert widget.run_button.isEnabled()
    widget.structure.value = XYZ_FILE
    assert not widget.run_button.isEnabled()
    widget.xyz.value = tmp_path / "missing.xyz"
    assert widget.reason.text() == f"XYZ file {tmp_path / 'missing.xyz'} does not exist"
    widget.structure.value = GENERATE
    assert widget.run_button.isEnabled()
    widget.n_pixels.value = 16
    assert not widget.run_button.isEnabled()
    assert widget.reason.text().startswith("shift_sigma_px must be in [0, n_pixels/10 = 1.6]")
    widget.n_pixels.value = 100
    assert widget.run_button.isEnabled()
    # a new structure is made by its own command, then simulated
    widget.structure_seed.value = 7
    make, series = parse_commands(widget.command_line())
    assert make.kind == "silica-structure" and make.seed == 7
    assert series.kind == "silica" and series.structure == make.out == "silica_seed7.xyz"
    widget.noise.value = ("dose", 2.2e6)  # the paper's dose for its R_noise 10 %
    assert widget.haadf_params().dose == 2.2e6 and widget.haadf_params().r_noise is None
    _, series = parse_commands(widget.command_line())
    assert series.dose == 2.2e6 and series.preset is None and series.r_noise is None


@pytest.mark.slow
def test_cancel_drops_the_result(simulate, qtbot):
    viewer, widget = simulate
    with qtbot.waitSignal(widget.runner.cancelled, timeout=60_000):
        widget.run_button.click()
        widget.runner.cancel()
    assert "haadf" not in viewer.layers and "atoms_true" not in viewer.layers
    assert "cancelled" in widget.runner.status.text()
    qtbot.waitUntil(widget.run_button.isEnabled, timeout=5_000)


@pytest.mark.slow
def test_silica_sample_data_is_the_preset_10_series(make_napari_viewer, open_sample):
    viewer = make_napari_viewer()
    open_sample(viewer, "silica_tilt_series")
    assert [layer.name for layer in viewer.layers] == ["haadf", "atoms_true"]
    rec = viewer.layers["haadf"].metadata["atomtomo"]
    assert series_array(viewer.layers["haadf"]).shape == (55, 100, 100)
    assert rec["algorithm"] == "simulate.silica" and rec["parameters"]["r_noise"] == 0.10
    assert rec["r_noise"] == pytest.approx(0.10, abs=0.005)
    (args,) = parse_commands(rec["command"])
    assert args.preset == 10 and args.seed == 0
    assert not viewer.layers["atoms_true"].visible


@pytest.mark.slow
def test_a_particle_that_does_not_fit_the_field_disables_run(simulate):
    _, widget = simulate
    widget.n_pixels.value = 40  # 20 Å across: the 24.7 Å shipped particle cannot fit
    reason = widget.reason.text()
    assert not widget.run_button.isEnabled()
    assert reason.startswith("the particle (radius") and "does not fit the 40 × 0.5 Å field" in reason
    need = int(reason.rsplit("at least ", 1)[1].split()[0])
    widget.n_pixels.value = need
    assert widget.run_button.isEnabled(), widget.reason.text()


@pytest.mark.parametrize("kind", [AGAU, "silica"])
def test_simulate_asks_for_napari_activity_bar_only_after_a_second(simulate, monkeypatch,
                                                                   kind):
    """The Ag-Au data set is simulated in under a second; napari's first activity-dock bar,
    opened 15 ms after the click, cost the GUI thread 0.15 s of it (issue 14). Simulate
    asks the runner for it only if the job still runs a second later, as Load does."""
    from napari_atomtomo._widgets._runner import QUICK_JOB_ACTIVITY_AFTER_S

    _, widget = simulate
    if kind == AGAU:
        widget.kind.value = AGAU
    seen = []
    monkeypatch.setattr(widget.runner, "run", lambda *a, **k: seen.append(k))
    assert widget.run_button.isEnabled(), widget.reason.text()
    widget.run_button.click()
    assert len(seen) == 1
    assert seen[0]["activity_after_s"] == QUICK_JOB_ACTIVITY_AFTER_S >= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("kind", [AGAU, "silica"])
def test_simulate_makes_its_layer_tuples_in_the_worker(simulate, qtbot, monkeypatch, kind):
    """The SiO2 series' atoms tuple imports pandas (0.2-0.6 s the first time in a session)
    and napari scans images without contrast limits: both ran in the GUI thread when the
    tuples were made in on_result (issue 14)."""
    import threading

    from napari_atomtomo._widgets import simulate as simulate_module

    viewer, widget = simulate
    name = "agau_dataset_layers" if kind == AGAU else "silica_series_layers"
    real, threads = getattr(simulate_module, name), []
    monkeypatch.setattr(simulate_module, name,
                        lambda *a, **k: threads.append(threading.current_thread()) or real(*a, **k))
    if kind == AGAU:
        widget.kind.value = AGAU
    _run(widget, qtbot)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    haadf = viewer.layers["haadf"]
    assert haadf.contrast_limits == pytest.approx(
        [float(series_array(haadf).min()), float(series_array(haadf).max())])
    assert widget.summary.text()  # on_result still writes the summary from the result
