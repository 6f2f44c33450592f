"""``atomtomo align --tilt-axis auto|DEG`` writes the axis to the shifts JSON; --apply-shifts reuses it."""

import json

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.simulate.haadf import HaadfParams, simulate_haadf_series
from napari_atomtomo.core.tiltaxis import apply_tilt_axis
from napari_atomtomo.io._paths import shipped_structure_path

PHI, OFF = 3.5, 2.3


def write_rotated(folder, shift_sigma_px):
    sim = simulate_haadf_series(io.read_xyz(shipped_structure_path()),
                                HaadfParams(r_noise=0.25, seed=3, tilt_drift_deg=0.0,
                                            shift_sigma_px=shift_sigma_px))
    raw = apply_tilt_axis(sim.stack_noisy, PHI, OFF)
    io.write_tilt_series(folder / "haadf.mrc", raw, sim.angles_nominal, 0.5)
    io.write_tilt_series(folder / "eds.mrc", 0.5 * raw, sim.angles_nominal, 0.5)
    return folder


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    return write_rotated(tmp_path_factory.mktemp("rot"), 0.0)


@pytest.mark.slow
def test_align_tilt_axis_auto_and_apply_shifts(rotated, tmp_path, capsys):
    out, js = tmp_path / "ali.mrc", tmp_path / "shifts.json"
    assert main(["align", str(rotated / "haadf.mrc"), "--out", str(out), "--shifts-out", str(js),
                 "--tilt-axis", "auto"]) == 0
    text = capsys.readouterr().out
    assert "tilt axis:" in text and "from +y towards +x" in text
    saved = json.loads(js.read_text())
    assert abs(saved["tilt_axis_angle_deg"] - PHI) < 0.2
    assert abs(saved["tilt_axis_offset_px"] - OFF) < 0.5
    assert saved["tilt_axis"] == "auto" and "offset_standard_error_px" in saved["tilt_axis_quality"]
    # the same transform on another signal of the series
    eds_out = tmp_path / "eds_ali.mrc"
    assert main(["align", str(rotated / "eds.mrc"), "--out", str(eds_out),
                 "--apply-shifts", str(js)]) == 0
    ali, _ = io.read_mrc(out)
    eds, _ = io.read_mrc(eds_out)
    np.testing.assert_allclose(eds, 0.5 * ali, rtol=1e-4, atol=1e-4 * float(ali.max()))
    # sirt refuses shifts that only hold after the axis resampling
    assert main(["sirt", str(rotated / "haadf.mrc"), "--out", str(tmp_path / "v.mrc"),
                 "--shifts", str(js), "--quiet"]) == 2
    assert "also moves the tilt axis" in capsys.readouterr().err


@pytest.mark.slow
def test_align_tilt_axis_given_angle_and_bad_value(rotated, tmp_path, capsys):
    js = tmp_path / "s.json"
    assert main(["align", str(rotated / "haadf.mrc"), "--out", str(tmp_path / "a.mrc"),
                 "--shifts-out", str(js), "--tilt-axis", "3.5"]) == 0
    saved = json.loads(js.read_text())
    assert saved["tilt_axis_angle_deg"] == 3.5 and abs(saved["tilt_axis_offset_px"] - OFF) < 0.5
    capsys.readouterr()
    assert main(["align", str(rotated / "haadf.mrc"), "--out", str(tmp_path / "b.mrc"),
                 "--tilt-axis", "sideways"]) == 2
    assert "--tilt-axis must be 'auto' or an angle" in capsys.readouterr().err


@pytest.mark.slow
def test_drift_along_x_makes_the_offset_uncertain_and_says_so(tmp_path, capsys):
    folder = write_rotated(tmp_path, 2.0)
    js = tmp_path / "s.json"
    assert main(["align", str(folder / "haadf.mrc"), "--out", str(tmp_path / "a.mrc"),
                 "--shifts-out", str(js), "--tilt-axis", "auto"]) == 0
    assert "warning: the centre of mass departs" in capsys.readouterr().out
    saved = json.loads(js.read_text())
    assert abs(saved["tilt_axis_angle_deg"] - PHI) < 0.2  # the angle ignores drift
    assert saved["tilt_axis_quality"]["offset_fit_rms_px"] > 0.5


@pytest.mark.slow
def test_align_refine_prints_rounds_and_records_them(tmp_path, capsys):
    rng = np.random.default_rng(2)
    angles = np.linspace(-60, 60, 9)
    yy, xx = np.mgrid[:32, :32]
    blobs = sum(np.exp(-((yy - y0) ** 2 + (xx - x0) ** 2) / 3.0)
                for y0, x0 in rng.uniform(10, 22, (6, 2)))
    stack = np.repeat(blobs[None], angles.size, axis=0).astype(np.float32)
    io.write_tilt_series(tmp_path / "s.mrc", stack, angles, 1.0)
    js = tmp_path / "s.json"
    assert main(["align", str(tmp_path / "s.mrc"), "--out", str(tmp_path / "a.mrc"),
                 "--shifts-out", str(js), "--refine", "2"]) == 0
    out = capsys.readouterr().out
    assert "refine 1/2: shift change" in out and "residual" in out
    saved = json.loads(js.read_text())
    assert saved["refine"]["parameters"]["n_iter"] == 2
    assert 1 <= len(saved["refine"]["iterations"]) <= 2
    assert saved["tilt_axis_angle_deg"] == 0.0 and saved["tilt_axis_offset_px"] == 0.0
    assert main(["align", str(tmp_path / "s.mrc"), "--out", str(tmp_path / "b.mrc"),
                 "--refine", "-1"]) == 2
    assert "--refine must be" in capsys.readouterr().err
