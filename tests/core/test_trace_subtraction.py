"""Tracing by subtraction: light atoms on the shoulders of heavy ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from napari_atomtomo.core.trace import (
    TraceParams,
    estimate_atom_width,
    trace_atoms,
    trace_atoms_by_subtraction,
)
from napari_atomtomo.core.trace._kernels import add_isotropic_gaussians

VOXEL = 0.5
SIGMA = 0.92  # voxels: the atom width measured in the EST reconstructions of paper 000's case
SHAPE = (40, 40, 40)


def gaussians(shape, centres_zyx, amplitudes, sigma):
    """Slow reference: isotropic Gaussians evaluated on the full grid."""
    z, y, x = np.indices(shape, dtype=np.float64)
    vol = np.zeros(shape)
    for (cz, cy, cx), a in zip(centres_zyx, amplitudes):
        vol += a * np.exp(-((z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma**2))
    return vol


def bonded_pairs(seed, n_pairs=14, bond=3.2):
    """Heavy atoms (2.7) ≥ 9 voxels apart, each with one light atom (1.0) ``bond`` voxels away.

    Like Si–O at 1.61 Å with 0.5 Å voxels: the light atom sits on the heavy one's shoulder.
    """
    rng = np.random.default_rng(seed)
    heavy = []
    while len(heavy) < n_pairs:
        p = rng.uniform(6, np.array(SHAPE) - 7)
        if all(np.linalg.norm(p - q) >= 9 for q in heavy):
            heavy.append(p)
    heavy = np.array(heavy)
    d = rng.normal(size=(n_pairs, 3))
    light = heavy + bond * d / np.linalg.norm(d, axis=1, keepdims=True)
    return heavy, light


def bonded_volume(seed, noise):
    heavy, light = bonded_pairs(seed)
    centres = np.concatenate([heavy, light])
    amps = np.r_[np.full(len(heavy), 2.7), np.ones(len(light))]
    vol = gaussians(SHAPE, centres, amps, SIGMA)
    vol += np.random.default_rng(seed + 100).normal(0.0, noise, SHAPE)
    return heavy, light, vol.astype(np.float32)


def test_model_kernel_matches_the_slow_reference():
    rng = np.random.default_rng(0)
    centres = rng.uniform(3, 17, size=(6, 3))
    heights = rng.uniform(-2, 3, size=6)
    sigmas = rng.uniform(0.6, 1.5, size=6)
    out = np.zeros((20, 20, 20), dtype=np.float32)
    add_isotropic_gaussians(out, centres, heights, sigmas, 6.0)
    ref = sum(gaussians(out.shape, c[None], [h], s) for c, h, s in zip(centres, heights, sigmas))
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_light_atoms_on_heavy_shoulders_are_found_without_the_pull_towards_them():
    heavy, light, vol = bonded_volume(seed=1, noise=0.05)
    n = len(heavy) + len(light)
    params = TraceParams(min_distance_A=1.2)
    sub = trace_atoms_by_subtraction(vol, VOXEL, params, n_expected=n)
    assert sub.atoms.counts() == {"Si": len(heavy), "O": len(light)}
    pos = sub.atoms.positions_zyx(VOXEL)
    for el, truth in (("Si", heavy), ("O", light)):
        dist, idx = cKDTree(truth).query(pos[sub.atoms.elements == el])
        assert np.unique(idx).size == len(truth)
        assert dist.max() < 0.25  # voxels
    # The one-pass tracing places the light atoms nearer their heavy partner (the
    # shoulder pulls the peak); after subtraction that bias is gone.
    direct = trace_atoms(vol, VOXEL, params, n_expected=n)

    def pull(result):
        p = result.atoms.positions_zyx(VOXEL)[result.atoms.elements == "O"]
        _, i = cKDTree(light).query(p)
        bond = light[i] - heavy[i]
        return np.mean(np.sum((p - light[i]) * -bond, axis=1) / np.linalg.norm(bond, axis=1))

    assert abs(pull(sub)) < 0.1 < pull(direct)  # voxels (0.05 Å)
    assert np.all(np.diff(sub.sorted_intensities) <= 0)


def test_auto_prefilter_is_the_atom_width_over_root_two():
    heavy, light, vol = bonded_volume(seed=2, noise=0.0)
    width = estimate_atom_width(vol, VOXEL, n_expected=len(heavy) + len(light))
    assert width == pytest.approx(SIGMA, rel=0.1)
    auto = trace_atoms_by_subtraction(vol, VOXEL, n_expected=28)
    # The default measures the width on isolated atom peaks (not the brightest alone).
    assert auto.auto["atom_sigma_method"] == "measured"
    assert auto.auto["atom_sigma_vox"] == pytest.approx(SIGMA, rel=0.1)
    sigma_f = auto.auto["prefilter_sigma_vox"]
    assert sigma_f == pytest.approx(auto.auto["atom_sigma_vox"] / np.sqrt(2))
    manual = trace_atoms_by_subtraction(vol, VOXEL, n_expected=28, prefilter_sigma=sigma_f)
    np.testing.assert_allclose(auto.atoms.positions, manual.atoms.positions)


def test_without_prefilter_isolated_atoms_match_the_one_pass_tracing():
    """Far from any heavy atom the residual is the volume itself: same atoms, same places."""
    rng = np.random.default_rng(3)
    centres = np.array([[10, 10, 10], [10, 28, 12], [28, 12, 27], [27, 27, 27], [12, 27, 28],
                        [28, 28, 10]], dtype=float) + rng.uniform(-0.5, 0.5, (6, 3))
    vol = gaussians(SHAPE, centres, [2.7, 2.7, 1, 1, 1, 1], SIGMA)
    vol = (vol + rng.normal(0.0, 0.01, SHAPE)).astype(np.float32)  # a noise floor to stop the list
    one = trace_atoms(vol, VOXEL)
    sub = trace_atoms_by_subtraction(vol, VOXEL, prefilter_sigma=0.0)
    assert sub.atoms.counts() == one.atoms.counts() == {"Si": 2, "O": 4}
    np.testing.assert_allclose(np.sort(sub.atoms.positions, axis=0),
                               np.sort(one.atoms.positions, axis=0),
                               atol=0.02)


def test_one_element_is_a_single_pass():
    heavy, _, _ = bonded_volume(seed=4, noise=0.0)
    vol = gaussians(SHAPE, heavy, np.ones(len(heavy)), SIGMA).astype(np.float32)
    res = trace_atoms_by_subtraction(vol, VOXEL, TraceParams(elements=("Au",)), prefilter_sigma=0.0)
    assert res.atoms.counts() == {"Au": len(heavy)}
    assert res.split_thresholds == ()


@pytest.mark.parametrize("kwargs, match", [
    ({"prefilter_sigma": -1.0}, "prefilter_sigma"),
    ({"prefilter_sigma": "wide"}, "prefilter_sigma"),
    ({"prefilter_sigma": float("nan")}, "prefilter_sigma"),
    ({"n_expected": 0}, "n_expected"),
    ({"params": {"min_distance_A": 1.2}}, "TraceParams"),
])
def test_bad_input_raises_one_sentence(kwargs, match):
    vol = np.random.default_rng(0).random((8, 8, 8))
    with pytest.raises(ValueError, match=match):
        trace_atoms_by_subtraction(vol, VOXEL, **kwargs)
    with pytest.raises(ValueError, match="NaN"):
        trace_atoms_by_subtraction(np.full((8, 8, 8), np.nan), VOXEL)
