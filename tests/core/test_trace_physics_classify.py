"""Physical defaults and the atom / non-atom classification, on known answers."""

import numpy as np
import pytest

from napari_atomtomo.core.trace import (
    classify_candidates,
    measure_atom_width,
    physical_min_distance_A,
)
from napari_atomtomo.core.trace._physics import ATOM_SIGMA_FLOOR_A, shortest_bond_A


def test_min_distance_is_a_fraction_of_the_shortest_bond():
    assert shortest_bond_A(["Si", "O"]) == (pytest.approx(1.11 + 0.66), "Si-O")
    assert shortest_bond_A(["Si"]) == (pytest.approx(2.22), "Si-Si")
    assert physical_min_distance_A(["Si", "O"], 0.5) == pytest.approx(0.7 * 1.77)
    # never below 1.5 voxels: two neighbouring voxels cannot hold two atoms
    assert physical_min_distance_A(["Si", "O"], 1.0) == pytest.approx(1.5)


def gaussian_volume(shape, centres, sigma, amp=1.0):
    g = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), axis=-1)
    vol = np.zeros(shape)
    for c in centres:
        vol += amp * np.exp(-np.sum((g - c) ** 2, axis=-1) / (2 * sigma**2))
    return vol


def test_atom_width_is_measured_on_isolated_atoms_and_falls_back_on_noise():
    rng = np.random.default_rng(0)
    centres = [c for c in rng.uniform(4, 36, size=(400, 3))]
    keep = []
    for c in centres:  # ≥ 8 voxels apart: isolated
        if all(np.linalg.norm(c - k) >= 8 for k in keep):
            keep.append(c)
    sigma = 1.6  # voxels; 0.32 Å at 0.2 Å voxels, above the 0.25 Å floor
    vol = gaussian_volume((40, 40, 40), keep, sigma) + rng.normal(0, 0.03, (40, 40, 40))
    est = measure_atom_width(vol.astype(np.float32), 0.2, 1.55)
    assert est.method == "measured" and est.n_peaks >= 8
    assert est.sigma_vox == pytest.approx(sigma, rel=0.1)
    noise = rng.normal(0, 1, (40, 40, 40)).astype(np.float32)
    fb = measure_atom_width(noise, 0.2, 1.55)
    assert fb.method == "floor" and fb.warning
    assert fb.sigma_vox == pytest.approx(ATOM_SIGMA_FLOOR_A / 0.2)


def test_classification_separates_atoms_from_many_noise_peaks():
    rng = np.random.default_rng(1)
    n_atoms, n_noise = 30, 300
    inten = np.r_[rng.normal(1.0, 0.1, n_atoms), np.exp(rng.normal(np.log(0.15), 0.3, n_noise))]
    width = np.r_[rng.normal(1.5, 0.1, n_atoms), rng.normal(1.0, 0.1, n_noise)]
    c = classify_candidates(inten, inten, width)
    truth = np.r_[np.ones(n_atoms, bool), np.zeros(n_noise, bool)]
    assert np.array_equal(c.is_atom, truth)
    assert c.separation >= 4.0 and c.warning is None


def test_identical_atoms_of_a_clean_volume_are_never_split():
    rng = np.random.default_rng(2)
    inten = rng.uniform(0.8, 1.0, 50)  # sub-voxel sampling differences only
    c = classify_candidates(inten, inten, np.full(50, 1.2))
    assert c.is_atom.all() and c.method == "no gap" and c.warning


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_pure_noise_gives_no_atoms_and_says_why(seed):
    """A positive (clipped) noise volume: its maxima above the floor pile up just above it
    with no gap and no measurable width; the default one-element trace keeps none of them."""
    from scipy import ndimage

    from napari_atomtomo.core.trace import TraceParams, trace_atoms_by_subtraction

    rng = np.random.default_rng(seed)
    vol = np.maximum(ndimage.gaussian_filter(rng.normal(size=(48, 48, 48)), 1.0), 0)
    res = trace_atoms_by_subtraction(vol.astype(np.float32), 0.2, TraceParams(elements=("Si",)))
    assert len(res.atoms) == 0
    assert len(res.rejected) == res.counts["n_rejected_non_atoms"] == res.counts["n_after_min_distance"] > 0
    assert res.auto["classification_method"] == "no gap (noise pile-up)"
    assert res.auto["classification_median_over_floor"] < 1.5
    assert sum("pile up" in w for w in res.warnings) == 1
    assert not any("every candidate above the floor is kept" in w for w in res.warnings)
