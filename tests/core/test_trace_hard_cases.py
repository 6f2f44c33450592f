"""Hard cases: a single-element amorphous particle at 0.2 Å voxels, with a vacuum level.

35 Si atoms ≥ 2.3 Å apart, 60 tilts from 0° to 177° in 3° steps, a flat vacuum level of
1 count per pixel (subtracted as a preprocessing step would), SIRT (100 iterations), then
the default tracing with only the element given. Noise maxima outnumber atoms ~100:1.
"""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from napari_atomtomo.core.simulate.haadf import (
    HAADF_CROSS_SECTION_PER_Z18,
    HaadfParams,
    simulate_haadf_series,
)
from napari_atomtomo.core.simulate.particles import amorphous_particle
from napari_atomtomo.core.sirt import SirtParams, reconstruct_sirt
from napari_atomtomo.core.trace import TraceParams, trace_atoms_by_subtraction

VOXEL = 0.2
ANGLES = np.arange(0.0, 178.0, 3.0)


def reconstruct(dose, seed=0, vacuum=1.0, support_radius_A=None):
    atoms = amorphous_particle("Si", 35, 2.3, 4.6, seed)
    sim = simulate_haadf_series(atoms, HaadfParams(
        pixel_size=VOXEL, n_pixels=64, dose=dose, tilt_drift_deg=0.0, shift_sigma_px=0.0,
        probe_fwhm=0.5, seed=seed, vacuum_counts=vacuum), angles_deg=ANGLES)
    level = vacuum / (dose / ANGLES.size * HAADF_CROSS_SECTION_PER_Z18)  # known vacuum level
    support = None
    if support_radius_A is not None:  # a sphere about the volume centre (sirt --support)
        g = (np.indices((64, 64, 64)) - 31.5) * VOXEL
        support = np.sqrt((g**2).sum(axis=0)) < support_radius_A
    vol = reconstruct_sirt(sim.stack_noisy - level, ANGLES, SirtParams(n_iter=100),
                           support=support).volume
    return sim.atoms.positions, vol


def matched_and_false(truth, traced, tol=0.5):
    d, _ = cKDTree(traced).query(truth)
    d_back, _ = cKDTree(truth).query(traced)
    return float(np.mean(d < tol)), int(np.sum(d_back >= tol))


def test_vacuum_level_is_kept_in_the_noisy_stack():
    atoms = amorphous_particle("Si", 5, 2.3, 3.0, 0)
    p = HaadfParams(pixel_size=VOXEL, n_pixels=48, dose=1e5, vacuum_counts=2.0, seed=0)
    sim = simulate_haadf_series(atoms, p, angles_deg=ANGLES[:4])
    level = 2.0 / (1e5 / 4 * HAADF_CROSS_SECTION_PER_Z18)
    corner = sim.stack_noisy[:, :5, :5]  # vacuum: no atom signal
    assert corner.mean() == pytest.approx(level, rel=0.1)
    with pytest.raises(ValueError, match="vacuum_counts"):
        HaadfParams(vacuum_counts=-1.0, dose=1e5)


@pytest.mark.slow
def test_high_dose_default_route_traces_every_atom_and_no_false_atom():
    truth, vol = reconstruct(1.6e5)
    res = trace_atoms_by_subtraction(vol, VOXEL, TraceParams(elements=("Si",)))
    matched, false = matched_and_false(truth, res.atoms.positions)
    assert matched >= 0.99 and false <= 0.02 * len(truth)
    g = res.counts
    # honest gates: noise maxima far outnumber atoms; the classification removed them
    assert g["n_local_maxima"] > 20 * len(truth)
    assert g["n_local_maxima"] >= g["n_above_floor"] >= g["n_after_min_distance"]
    assert g["n_after_min_distance"] == g["n_atoms"] + g["n_rejected_non_atoms"]
    assert len(res.rejected) == g["n_rejected_non_atoms"] > 0
    # automatic values are numbers, from physics and the data
    assert res.auto["min_distance_A"] == pytest.approx(0.7 * 2.22)
    assert res.auto["prefilter_sigma_vox"] > 0.5
    assert res.auto["classification_separation"] >= 4.0


@pytest.mark.slow
def test_low_dose_loses_gracefully_and_says_so():
    """Without a vacuum level, at 20× less dose: most atoms, few false ones, a warning."""
    truth, vol = reconstruct(8e3, vacuum=0.0)
    res = trace_atoms_by_subtraction(vol, VOXEL, TraceParams(elements=("Si",)))
    matched, false = matched_and_false(truth, res.atoms.positions)
    assert matched >= 0.6 and false <= 0.3 * len(truth)
    assert res.counts["n_after_min_distance"] < 0.2 * res.counts["n_local_maxima"]
    assert any("overlap" in w or "no clear gap" in w for w in res.warnings)


@pytest.mark.slow
def test_support_masked_reconstruction_keeps_every_atom():
    """After sirt --support the voxels outside are exactly 0 and the floor is measured on
    the particle's interior; the classification, not the floor, removes the noise peaks."""
    truth, vol = reconstruct(4e4, vacuum=0.0, support_radius_A=5.6)
    assert np.mean(vol == 0) > 0.5
    res = trace_atoms_by_subtraction(vol, VOXEL, TraceParams(elements=("Si",)))
    matched, false = matched_and_false(truth, res.atoms.positions)
    assert matched >= 0.99 and false == 0
    floor_only = trace_atoms_by_subtraction(vol, VOXEL, TraceParams(elements=("Si",),
                                                                    classify="none"))
    assert len(floor_only.atoms) == len(res.atoms) + res.counts["n_rejected_non_atoms"]
    assert matched_and_false(truth, floor_only.atoms.positions)[1] > 0


@pytest.mark.slow
def test_mixed_metal_oxide_particle_default_route():
    """14 Ti + 28 O (Ti–O ≥ 1.9 Å), 0.25 Å voxels: `trace --elements Ti,O`, no tuning."""
    from napari_atomtomo.core.compare import compare_atoms

    els = ["Ti"] * 14 + ["O"] * 28
    atoms = amorphous_particle(els, 42, {("Ti", "Ti"): 2.9, ("Ti", "O"): 1.9, ("O", "O"): 2.5},
                               5.5, 0)
    sim = simulate_haadf_series(atoms, HaadfParams(
        pixel_size=0.25, n_pixels=64, dose=1.6e5, tilt_drift_deg=0.0, shift_sigma_px=0.0,
        probe_fwhm=0.5, seed=0), angles_deg=ANGLES)
    vol = reconstruct_sirt(sim.stack_noisy, ANGLES, SirtParams(n_iter=100)).volume
    res = trace_atoms_by_subtraction(vol, 0.25, TraceParams(elements=("Ti", "O")))
    c = compare_atoms(res.atoms, sim.atoms, resolution_A=0.5).to_dict()
    assert c["counts_traced"] == c["counts_true"] == {"Ti": 14, "O": 28}
    assert sum(c["misplaced_by_element"].values()) == 0
    # the residual (O) pass classified its candidates: noise peaks rejected, kept in the result
    assert res.counts["light_n_rejected_non_atoms"] > 0
    assert len(res.rejected) >= res.counts["light_n_rejected_non_atoms"]


@pytest.mark.slow
def test_noise_only_candidates_are_all_rejected_and_said_so():
    """4e4 e/Å² on 1 count/px of vacuum, after the border background subtraction: the
    candidates above the floor pile up just above it with no gap (noise maxima; ~10 % of
    them near atoms). The default trace keeps none of them as atoms and warns."""
    from napari_atomtomo.core.preprocess import preprocess_series

    atoms = amorphous_particle("Si", 35, 2.3, 4.6, 0)
    sim = simulate_haadf_series(atoms, HaadfParams(
        pixel_size=VOXEL, n_pixels=64, dose=4e4, tilt_drift_deg=0.0, shift_sigma_px=0.0,
        probe_fwhm=0.5, seed=0, vacuum_counts=1.0), angles_deg=ANGLES)
    vol = reconstruct_sirt(preprocess_series(sim.stack_noisy).stack, ANGLES,
                           SirtParams(n_iter=100)).volume
    res = trace_atoms_by_subtraction(vol, VOXEL, TraceParams(elements=("Si",)))
    assert len(res.atoms) == 0 and res.counts["n_atoms"] == 0
    assert len(res.rejected) == res.counts["n_rejected_non_atoms"] == res.counts["n_after_min_distance"]
    assert res.auto["classification_median_over_floor"] < 1.5
    assert any("pile up" in w for w in res.warnings)
    # the floor alone would have kept them: mostly false atoms
    floor_only = trace_atoms_by_subtraction(vol, VOXEL, TraceParams(elements=("Si",),
                                                                    classify="none"))
    assert matched_and_false(sim.atoms.positions, floor_only.atoms.positions)[1] > 35


@pytest.mark.slow
def test_faint_atoms_of_a_signed_reconstruction_are_kept():
    """Same data at 8e4 e/Å², reconstructed without positivity (sirt --allow-negative): the
    few candidates above the 5 σ floor also sit just above it, but the volume's lower side
    (its local minima, mirrored) says noise explains few of them, so they are kept."""
    from napari_atomtomo.core.preprocess import preprocess_series

    atoms = amorphous_particle("Si", 35, 2.3, 4.6, 0)
    sim = simulate_haadf_series(atoms, HaadfParams(
        pixel_size=VOXEL, n_pixels=64, dose=8e4, tilt_drift_deg=0.0, shift_sigma_px=0.0,
        probe_fwhm=0.5, seed=0, vacuum_counts=1.0), angles_deg=ANGLES)
    vol = reconstruct_sirt(preprocess_series(sim.stack_noisy).stack, ANGLES,
                           SirtParams(n_iter=100, nonnegative=False)).volume
    assert np.mean(vol < 0) > 0.2
    res = trace_atoms_by_subtraction(vol, VOXEL, TraceParams(elements=("Si",)))
    assert res.auto["classification_median_over_floor"] < 1.5
    assert res.auto["noise_maxima_mirrored_above_floor"] < 0.5 * len(res.atoms)
    _, false = matched_and_false(sim.atoms.positions, res.atoms.positions)
    assert len(res.atoms) > 0 and false == 0
