"""HAADF tilt-series simulator: analytic single atom, recorded truth, dose and R_noise."""

import math

import numpy as np
import pytest
from scipy.special import erf

from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.metrics import r_noise
from napari_atomtomo.core.simulate.haadf import (
    ATOM_SIGMA_A,
    PAPER_DOSES_E_PER_A2,
    HaadfParams,
    expected_r_noise,
    project_atoms,
    r_tilt,
    simulate_haadf_series,
)
from napari_atomtomo.io import read_xyz
from napari_atomtomo.io._paths import shipped_structure_path


@pytest.fixture(scope="module")
def silica():
    return read_xyz(shipped_structure_path())


def _pixel_gaussian(n, centre, sigma):
    i = np.arange(n)
    s = math.sqrt(2.0) * sigma
    return 0.5 * (erf((i + 0.5 - centre) / s) - erf((i - 0.5 - centre) / s))


@pytest.mark.parametrize("element,z", [("Si", 14), ("O", 8)])
def test_single_atom_is_a_gaussian_at_the_analytic_u(element, z):
    n, px = 40, 0.5
    c = (n - 1) / 2
    offset = np.array([2.3, -1.2, 3.1])  # (x, y, z) Å from the volume centre
    atoms = Atoms([element], [c * px + offset])
    angles = np.array([-72.6, -30.0, 0.0, 17.0, 45.0, 72.6])
    shifts = np.array([[0.3, -0.7], [0, 0], [1.2, 0.4], [0, 0], [-0.5, 2.0], [0, 0]])
    stack = project_atoms(atoms, angles, n_pixels=n, pixel_size=px, shifts=shifts)
    sigma = math.hypot(0.8 / 2.3548200450309493, ATOM_SIGMA_A[element]) / px
    for a, th in enumerate(np.radians(angles)):
        u = (offset[0] * math.cos(th) + offset[2] * math.sin(th)) / px + c + shifts[a, 1]
        v = offset[1] / px + c + shifts[a, 0]
        expected = z**1.8 * np.outer(_pixel_gaussian(n, v, sigma), _pixel_gaussian(n, u, sigma))
        np.testing.assert_allclose(stack[a], expected, rtol=1e-5, atol=1e-4 * z**1.8)
        # the centroid is the analytic position, the total is Z^1.8
        assert stack[a].sum() == pytest.approx(z**1.8, rel=1e-5)
        assert (stack[a].sum(0) @ np.arange(n)) / stack[a].sum() == pytest.approx(u, abs=1e-4)


def test_series_shapes_and_recorded_truth(silica):
    sim = simulate_haadf_series(silica, HaadfParams(dose=1e6, seed=3))
    nominal = equally_sloped_angles(32, 72.6)
    assert sim.stack_clean.shape == sim.stack_noisy.shape == (55, 100, 100)
    assert sim.stack_noisy.dtype == np.float32
    np.testing.assert_array_equal(sim.angles_nominal, nominal)
    drift = sim.angles_true - nominal
    np.testing.assert_allclose(drift, np.linspace(0, 0.5, 55), atol=1e-12)
    assert sim.shifts.shape == (55, 2) and 1.0 < sim.shifts.std() < 3.0
    truth = sim.truth_dict()
    assert truth["shifts_px"][7] == pytest.approx(list(sim.shifts[7]))
    assert truth["dose_e_per_A2"] == 1e6 and truth["probe_fwhm_A"] == 0.8
    assert truth["r_noise"] == pytest.approx(r_noise(sim.stack_noisy, sim.stack_clean)[0])
    # centre of mass (Z^1.8) at the volume centre: 24.75 Å on each axis
    w = np.where(sim.atoms.elements == "Si", 14**1.8, 8**1.8)
    np.testing.assert_allclose(w @ sim.atoms.positions / w.sum(), [24.75] * 3, atol=1e-9)
    # same seed, same series
    again = simulate_haadf_series(silica, HaadfParams(dose=1e6, seed=3))
    np.testing.assert_array_equal(again.stack_noisy, sim.stack_noisy)


@pytest.mark.parametrize("preset", [0.10, 0.25])
def test_r_noise_presets_hit_their_targets(silica, preset):
    sim = simulate_haadf_series(silica, HaadfParams(r_noise=preset, seed=1))
    assert abs(sim.r_noise - preset) <= 0.01
    assert sim.r_noise == pytest.approx(expected_r_noise(sim.stack_clean, sim.dose), abs=0.003)


def test_r_noise_falls_with_dose_like_one_over_sqrt(silica):
    clean = simulate_haadf_series(silica, HaadfParams(seed=0)).stack_clean
    r = [expected_r_noise(clean, d) for d in PAPER_DOSES_E_PER_A2.values()]
    assert all(a < b for a, b in zip(r, r[1:]))
    # 2.2e6 -> 5.5e5 is a factor of 4 in dose: about a factor of 2 in R_noise
    assert r[2] / r[0] == pytest.approx(2.0, rel=0.05)


def test_noise_free_series_and_r_tilt(silica):
    sim = simulate_haadf_series(silica, HaadfParams(seed=0, tilt_drift_deg=0.0, shift_sigma_px=0))
    np.testing.assert_array_equal(sim.stack_noisy, sim.stack_clean)
    assert sim.r_noise is None
    assert r_tilt(sim.stack_clean, 3.0 * sim.stack_clean)[0] == pytest.approx(0.0, abs=1e-6)
    drifted = simulate_haadf_series(silica, HaadfParams(seed=0, shift_sigma_px=0))
    r, per = r_tilt(sim.stack_clean, drifted.stack_clean)
    # zero drift on the first image, growing to 0.5° on the last
    assert per[0] == pytest.approx(0.0, abs=1e-6) and per[-1] > per[1] > 0 and 0 < r < 0.5


def test_bad_input_raises_one_sentence(silica):
    with pytest.raises(ValueError, match="either dose or r_noise"):
        HaadfParams(dose=1e6, r_noise=0.1)
    with pytest.raises(ValueError, match="dose must be a positive"):
        HaadfParams(dose=-5.0)
    with pytest.raises(ValueError, match="r_noise must be a fraction"):
        HaadfParams(r_noise=5.0)
    with pytest.raises(ValueError, match="n_pixels"):
        HaadfParams(n_pixels=3)
    with pytest.raises(ValueError, match="does not fit"):
        simulate_haadf_series(silica, HaadfParams(n_pixels=40))
    with pytest.raises(ValueError, match="empty"):
        simulate_haadf_series(Atoms([], np.zeros((0, 3))))
    with pytest.raises(ValueError, match="unknown element 'Xx'"):
        simulate_haadf_series(Atoms(["Xx"], [[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="NaN"):
        simulate_haadf_series(silica, angles_deg=[0.0, np.nan])
