"""Tilt-axis finding: a simulated series with its axis rotated and offset is recovered."""

import numpy as np
import pytest

from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.simulate.haadf import (
    HaadfParams,
    centre_atoms,
    project_atoms,
    simulate_haadf_series,
)
from napari_atomtomo.core.tiltaxis import (
    TiltAxisParams,
    apply_tilt_axis,
    estimate_axis_offset,
    estimate_tilt_axis,
    remove_tilt_axis,
)
from napari_atomtomo.io import read_xyz
from napari_atomtomo.io._paths import shipped_structure_path


@pytest.fixture(scope="module")
def silica():
    return read_xyz(shipped_structure_path())


def test_axis_convention_known_answer():
    """A ridge along y through the centre, given the axis (φ, offset), runs along
    (cos φ, sin φ) through centre + offset · (−sin φ, cos φ)."""
    n = 65
    x = np.arange(n)[None, :] - (n - 1) / 2 + np.zeros((n, 1))
    ridge = np.exp(-(x**2) / 8.0)[None].astype(np.float32)
    phi, off = 20.0, 4.0
    out = apply_tilt_axis(ridge, phi, off)[0]
    p = np.radians(phi)
    for t in (-15.0, 0.0, 15.0):
        cy, cx = t * np.cos(p) - off * np.sin(p), t * np.sin(p) + off * np.cos(p)
        row = round(cy + (n - 1) / 2)
        prof = out[row]
        # on this row the ridge's centre is where the line crosses it
        x_line = np.tan(p) * (row - (n - 1) / 2 - cy) + cx
        xs = np.arange(n) - (n - 1) / 2
        near = np.abs(xs - x_line) < 6
        assert (prof[near] @ xs[near]) / prof[near].sum() == pytest.approx(x_line, abs=0.05)
    back = remove_tilt_axis(apply_tilt_axis(ridge, phi, off), phi, off)
    inner = slice(15, -15)
    np.testing.assert_allclose(back[0, inner, inner], ridge[0, inner, inner], atol=0.02)


@pytest.mark.parametrize("r_noise", [None, 0.25])
@pytest.mark.parametrize("phi,off", [(3.5, 2.3), (-4.0, -1.6)])
@pytest.mark.slow
def test_recovers_rotated_offset_axis(silica, r_noise, phi, off):
    sim = simulate_haadf_series(silica, HaadfParams(r_noise=r_noise, seed=7, shift_sigma_px=0.0,
                                                    tilt_drift_deg=0.0))
    raw = apply_tilt_axis(sim.stack_noisy, phi, off)
    res = estimate_tilt_axis(raw, sim.angles_nominal)
    assert abs(res.angle_deg - phi) < 0.2 and abs(res.offset_px - off) < 0.5, res
    assert res.quality["offset_fit_rms_px"] < 0.5 and not res.warnings


def test_offset_of_an_off_centre_object(silica):
    """The offset fit separates the axis offset from the object's own position."""
    angles = np.linspace(-70, 70, 29)
    frame = centre_atoms(silica, 100, 0.5)
    moved = Atoms(frame.elements, frame.positions + np.array([2.0, 0.0, -1.5]))  # Å: X 4 px, Z -3 px
    stack = project_atoms(moved, angles)
    raw = apply_tilt_axis(stack, 2.0, 3.0)
    offset, fit = estimate_axis_offset(raw, angles, 2.0)
    assert offset == pytest.approx(3.0, abs=0.2)
    np.testing.assert_allclose(fit["object_com_px"], [4.0, -3.0], atol=0.3)


def test_bad_settings_are_one_sentence():
    with pytest.raises(ValueError, match="search_deg"):
        TiltAxisParams(search_deg=120)
    with pytest.raises(ValueError, match="within ±90"):
        remove_tilt_axis(np.ones((3, 8, 8)), 100.0)


@pytest.mark.slow
def test_axis_near_x_found_with_a_wide_search(silica):
    """A horizontal-ish axis (80° from y), as many microscopes have, with search ±90°."""
    sim = simulate_haadf_series(silica, HaadfParams(r_noise=0.25, seed=7, shift_sigma_px=0.0,
                                                    tilt_drift_deg=0.0),
                                angles_deg=np.linspace(-70, 70, 29))
    raw = apply_tilt_axis(sim.stack_noisy, 80.0, 1.0)
    res = estimate_tilt_axis(raw, sim.angles_nominal, TiltAxisParams(search_deg=90))
    assert abs(res.angle_deg - 80.0) < 0.2 and abs(res.offset_px - 1.0) < 0.5, res
