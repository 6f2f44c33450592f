"""Atom tracing: analytic Gaussians, NumPy references for the kernels, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree

from napari_atomtomo.core.trace import (
    NOISE_FLOOR_SIGMAS,
    TraceParams,
    estimate_noise_floor,
    find_local_maxima,
    refine_peaks,
    split_elements,
    suppress_close_peaks,
    trace_atoms,
)

SHAPE = (32, 32, 32)
VOXEL = 0.5


def gaussian_volume(shape, centres_zyx, amplitudes, sigma, noise=0.0, seed=0):
    """Isotropic Gaussians (σ in voxels) evaluated on the grid, plus white noise."""
    vol = np.zeros(shape)
    r = int(np.ceil(5 * sigma))
    for p, a in zip(centres_zyx, amplitudes):
        c = np.round(p).astype(int)
        sl = tuple(slice(max(ci - r, 0), min(ci + r + 1, n)) for ci, n in zip(c, shape))
        g = np.ogrid[sl]
        vol[sl] += a * np.exp(-sum((gi - pi) ** 2 for gi, pi in zip(g, p)) / (2 * sigma**2))
    if noise:
        vol += np.random.default_rng(seed).normal(0.0, noise, shape)
    return vol.astype(np.float32)


def separated_centres(n, shape, min_dist, margin, seed):
    rng = np.random.default_rng(seed)
    pts = []
    while len(pts) < n:
        p = rng.uniform(margin, np.array(shape) - 1 - margin)
        if all(np.linalg.norm(p - q) >= min_dist for q in pts):
            pts.append(p)
    return np.array(pts)


def two_class_case(sigma, noise, seed, n=30, n_heavy=10):
    centres = separated_centres(n, SHAPE, 6.0, 4.0, seed)
    amps = np.where(np.arange(n) < n_heavy, 2.0, 1.0)
    return centres, amps, gaussian_volume(SHAPE, centres, amps, sigma, noise, seed)


@pytest.mark.parametrize(
    "refine, sigma, noise",
    [("gaussian", 0.8, 0.0), ("gaussian", 0.8, 0.01), ("gaussian", 1.2, 0.01),
     ("quadratic", 1.0, 0.0), ("quadratic", 1.5, 0.0)],
)
def test_traces_every_atom_with_subvoxel_error_and_right_split(refine, sigma, noise):
    centres, amps, vol = two_class_case(sigma, noise, seed=3)
    res = trace_atoms(vol, VOXEL, TraceParams(min_distance_A=2.0, refine=refine))
    assert len(res.atoms) == len(centres)
    dist, idx = cKDTree(centres).query(res.atoms.positions_zyx(VOXEL))
    assert np.unique(idx).size == len(centres)
    assert dist.max() < 0.1  # voxels
    assert res.atoms.counts() == {"Si": 10, "O": 20}
    np.testing.assert_array_equal(res.atoms.elements == "Si", amps[idx] == 2.0)
    assert 1.0 < res.split_threshold < 2.0
    # Fig. 3: the list is sorted by peak intensity, brightest first.
    assert np.all(np.diff(res.sorted_intensities) <= 0)
    np.testing.assert_allclose(res.atoms.features["intensity"], res.sorted_intensities)


def test_gaussian_fit_is_exact_for_a_rotated_anisotropic_gaussian():
    rot = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    cov = rot @ np.diag([0.7, 1.0, 1.4]) ** 2 @ rot.T
    inv = np.linalg.inv(cov)
    centre = np.array([5.3, 4.8, 5.45])
    g = np.stack(np.meshgrid(*[np.arange(11)] * 3, indexing="ij"), axis=-1) - centre
    vol = 3.0 * np.exp(-0.5 * np.einsum("...i,ij,...j->...", g, inv, g))
    pos, inten, height, width, r2 = refine_peaks(vol, [[5, 5, 5]], "gaussian")
    np.testing.assert_allclose(pos[0], centre, atol=1e-6)
    np.testing.assert_allclose(height[0], 3.0, rtol=1e-6)
    assert vol.max() < inten[0] < 3.0  # the ranking intensity: the quadratic's height
    np.testing.assert_allclose(width[0], np.linalg.det(cov) ** (1 / 6), rtol=1e-6)
    assert r2[0] > 0.999999


def test_quadratic_refinement_is_exact_for_a_separable_quadratic():
    centre = np.array([4.2, 3.7, 4.4])
    k = np.array([0.5, 0.8, 1.1])
    g = np.stack(np.meshgrid(*[np.arange(9)] * 3, indexing="ij"), axis=-1) - centre
    vol = 10.0 - np.sum(k * g**2, axis=-1)
    pos, inten, height, _, _ = refine_peaks(vol, [[4, 4, 4]], "quadratic")
    np.testing.assert_allclose(pos[0], centre, atol=1e-12)
    np.testing.assert_allclose([inten[0], height[0]], 10.0, atol=1e-12)


def test_refinement_bias_of_each_model_on_gaussians():
    """Random sub-voxel offsets of a σ = 1 voxel Gaussian: the documented bias bounds."""
    rng = np.random.default_rng(1)
    offsets = rng.uniform(-0.5, 0.5, (200, 3))
    vols = [gaussian_volume((7, 7, 7), [3 + o], [1.0], 1.0) for o in offsets]
    for method, bound in (("gaussian", 1e-5), ("quadratic", 0.05)):
        err = [np.abs(refine_peaks(v, [[3, 3, 3]], method)[0][0] - 3 - o).max()
               for v, o in zip(vols, offsets)]
        assert max(err) < bound, method


def test_positions_follow_the_conventions_frame():
    # Voxel (k, j, i) has its centre at (x, y, z) = (i, j, k) · voxel_size.
    vol = gaussian_volume((12, 14, 16), [[5.0, 7.0, 9.0]], [1.0], 1.0)
    res = trace_atoms(vol, 0.5, TraceParams(elements=("Au",)))
    np.testing.assert_allclose(res.atoms.positions, [[4.5, 3.5, 2.5]], atol=1e-6)
    assert res.atoms.elements.tolist() == ["Au"]
    assert res.split_thresholds == ()


@pytest.mark.parametrize("connectivity", [6, 26])
def test_local_maxima_match_a_maximum_filter_reference(connectivity):
    rng = np.random.default_rng(2)
    vol = ndimage.gaussian_filter(rng.normal(size=(20, 22, 24)), 1.0).astype(np.float32)
    floor = float(np.percentile(vol, 60))
    footprint = ndimage.generate_binary_structure(3, 1 if connectivity == 6 else 3)
    ref = (vol == ndimage.maximum_filter(vol, footprint=footprint, mode="nearest")) & (vol > floor)
    interior = np.zeros_like(ref)
    interior[1:-1, 1:-1, 1:-1] = True
    expected = np.argwhere(ref & interior)
    got = find_local_maxima(vol, floor, connectivity)
    np.testing.assert_array_equal(got, expected)


def test_a_flat_plateau_gives_one_maximum():
    vol = np.zeros((7, 7, 7), np.float32)
    vol[2:5, 2:5, 2:5] = 1.0
    assert len(find_local_maxima(vol, 0.5, 26)) == 1


def slow_greedy_suppression(pos, inten, dmin):
    kept = []
    for a in np.argsort(-inten, kind="stable"):
        if all(np.linalg.norm(pos[a] - pos[b]) >= dmin for b in kept):
            kept.append(a)
    return np.array(kept)


def test_suppression_matches_a_slow_greedy_reference():
    rng = np.random.default_rng(4)
    pos = rng.uniform(0, 10, (300, 3))
    inten = rng.uniform(0, 1, 300)
    for dmin in (0.5, 1.2, 2.0):
        np.testing.assert_array_equal(suppress_close_peaks(pos, inten, dmin),
                                      slow_greedy_suppression(pos, inten, dmin))


def test_split_finds_the_gap_between_imbalanced_classes():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(115, 8, 334), rng.normal(42, 6, 668)])
    s = split_elements(x, 2)
    assert s.method == "mixture"
    truth = np.r_[np.zeros(334, int), np.ones(668, int)]
    assert np.mean(s.labels != truth) < 0.002
    assert 60 < s.thresholds[0] < 95
    user = split_elements(x, 2, thresholds=70.0)
    assert user.method == "user" and user.thresholds == (70.0,)
    np.testing.assert_array_equal(user.labels, (x <= 70).astype(int))


def test_split_otsu_start_is_the_exact_two_class_optimum():
    from napari_atomtomo.core.trace._split import _otsu_thresholds

    rng = np.random.default_rng(6)
    x = np.sort(np.concatenate([rng.normal(3, 1, 40), rng.normal(7, 1.5, 25)]))

    def within(t):
        lo, hi = x[x < t], x[x >= t]
        return lo.var() * lo.size + hi.var() * hi.size

    best = min((0.5 * (a + b) for a, b in zip(x[:-1], x[1:])), key=within)
    assert _otsu_thresholds(x, 2)[0] == pytest.approx(best)


def test_split_three_classes_and_degenerate_inputs():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(v, 1.0, 50) for v in (30, 20, 10)])
    s = split_elements(x, 3)
    np.testing.assert_array_equal(s.labels, np.repeat([0, 1, 2], 50))
    assert s.thresholds[0] > s.thresholds[1]
    same = split_elements(np.full(5, 2.0), 2)
    assert same.method == "none" and same.labels.tolist() == [0] * 5
    assert split_elements(np.zeros(0), 2).labels.size == 0


def test_estimate_noise_floor_of_gaussian_background_with_bright_minority():
    rng = np.random.default_rng(8)
    v = rng.normal(2.0, 0.5, 200_000)
    v[:20_000] += 50.0  # 10 % atom voxels
    floor = estimate_noise_floor(v)
    assert floor == pytest.approx(2.0 + NOISE_FLOOR_SIGMAS * 0.5, rel=0.1)
    clipped = np.maximum(rng.normal(0.0, 1.0, 100_000), 0.0)
    assert 0.5 < estimate_noise_floor(clipped) < 10.0


def test_noise_floor_stops_the_list_and_user_overrides():
    centres, _, vol = two_class_case(1.0, 0.02, seed=9)
    auto = trace_atoms(vol, VOXEL, TraceParams(min_distance_A=2.0))
    assert len(auto.atoms) == 30  # no noise peak passes the automatic floor
    assert auto.n_local_maxima >= 30
    only_si = trace_atoms(vol, VOXEL, TraceParams(min_distance_A=2.0, noise_floor=1.5,
                                                  elements=("Si",)))
    assert len(only_si.atoms) == 10 and only_si.noise_floor == 1.5
    low = trace_atoms(vol, VOXEL, TraceParams(min_distance_A=2.0, noise_floor=0.0))
    assert len(low.atoms) > 30  # a floor at the background lets noise peaks in


def test_expected_count_and_max_atoms_keep_the_brightest():
    _, amps, vol = two_class_case(1.0, 0.0, seed=10)
    res = trace_atoms(vol, VOXEL, TraceParams(min_distance_A=2.0), n_expected=12)
    assert len(res.atoms) == 12
    # The count stops the list, so the automatic floor drops from 5 to 3 robust σ.
    assert res.noise_floor == pytest.approx(estimate_noise_floor(vol, 3.0))
    capped = trace_atoms(vol, VOXEL, TraceParams(min_distance_A=2.0, max_atoms=5), n_expected=12)
    assert len(capped.atoms) == 5
    assert capped.atoms.features["intensity"].min() > 1.5
    forced = trace_atoms(vol, VOXEL, TraceParams(min_distance_A=2.0, split=0.5))
    assert forced.split_thresholds == (0.5,) and forced.atoms.counts() == {"Si": 30}


def test_min_distance_in_angstrom_merges_close_peaks():
    vol = gaussian_volume((20, 20, 20), [[10, 10, 7.0], [10, 10, 12.0]], [2.0, 1.0], 1.0)
    # The peaks are 5 voxels apart: 2.5 Å at 0.5 Å voxels, 5 Å at 1 Å voxels.
    assert len(trace_atoms(vol, 0.5, TraceParams(min_distance_A=3.0)).atoms) == 1
    assert len(trace_atoms(vol, 1.0, TraceParams(min_distance_A=3.0)).atoms) == 2


def test_params_round_trip_to_plain_dict():
    p = TraceParams(elements="Au, Ag", split=(5.0,), max_atoms=10)
    assert p.elements == ("Au", "Ag")
    assert TraceParams(**p.to_dict() | {"elements": tuple(p.elements)}) == p


@pytest.mark.parametrize(
    "volume, match",
    [
        (np.zeros((8, 8, 8)), "constant"),
        (np.zeros((0, 8, 8)), "at least 3 voxels"),
        (np.full((8, 8, 8), np.nan), "NaN"),
        (np.zeros((8, 8)), "must be 3D"),
        (np.zeros((2, 8, 8, 8)), "must be 3D"),
    ],
)
def test_bad_volumes_raise_one_sentence(volume, match):
    with pytest.raises(ValueError, match=match):
        trace_atoms(volume, 0.5)


def test_one_nan_and_bad_voxel_size_raise():
    vol = np.ones((8, 8, 8))
    vol[3, 3, 3] = np.nan
    with pytest.raises(ValueError, match="1 NaN"):
        trace_atoms(vol, 0.5)
    with pytest.raises(ValueError, match="voxel_size"):
        trace_atoms(np.random.rand(8, 8, 8), 0.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_distance_A": 0.0}, "min_distance_A must be a positive"),
        ({"min_distance_A": -1.0}, "min_distance_A must be a positive"),
        ({"elements": ("Si", "Xx")}, "unknown element 'Xx'"),
        ({"elements": ()}, "elements is empty"),
        ({"elements": ("O", "O")}, "repeats"),
        ({"noise_floor": "high"}, "noise_floor"),
        ({"split": (1.0, 2.0)}, "2 thresholds but 2 elements need 1"),
        ({"refine": "spline"}, "refine must be one of"),
        ({"max_atoms": 0}, "max_atoms"),
        ({"connectivity": 18}, "connectivity"),
    ],
)
def test_bad_parameters_raise_one_sentence(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TraceParams(**kwargs)


def test_bad_split_and_expected_count_raise():
    with pytest.raises(ValueError, match="need 1 finite thresholds"):
        split_elements([1.0, 2.0], 2, thresholds=[1.0, 1.5])
    with pytest.raises(ValueError, match="NaN"):
        split_elements([1.0, np.nan], 2)
    with pytest.raises(ValueError, match="n_expected"):
        trace_atoms(np.random.rand(8, 8, 8), 0.5, n_expected=0)


def test_a_peak_without_positive_voxels_falls_back_instead_of_failing():
    """A maximum of a negative region (a signed volume traced with a floor below zero) gives
    the Gaussian fit no weight at all: the parabola (or the voxel centre) is used."""
    from napari_atomtomo.core.trace import refine_peaks

    v = -np.ones((5, 5, 5))
    v[2, 2, 2] = -0.5
    pos, inten, *_ = refine_peaks(v, np.array([[2, 2, 2]]), "gaussian")
    np.testing.assert_allclose(pos, [[2, 2, 2]], atol=1e-9)
    assert inten[0] == pytest.approx(-0.5)
