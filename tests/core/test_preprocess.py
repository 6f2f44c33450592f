"""Preprocessing: a vacuum offset removed from the border reconstructs like no offset."""

import numpy as np
import pytest

from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.compare import compare_atoms
from napari_atomtomo.core.preprocess import PreprocessParams, preprocess_series, vacuum_level
from napari_atomtomo.core.simulate.haadf import project_atoms
from napari_atomtomo.core.sirt import SirtParams, reconstruct_sirt
from napari_atomtomo.core.trace import TraceParams, trace_atoms

N, PIX = 48, 0.5
ANGLES = np.linspace(-70.0, 70.0, 29)


def random_atoms(n=40, seed=3, radius_A=7.0, min_dist_A=2.2) -> Atoms:
    rng = np.random.default_rng(seed)
    centre = (N - 1) / 2 * PIX
    pos = []
    while len(pos) < n:
        p = rng.uniform(-radius_A, radius_A, 3)
        if np.linalg.norm(p) < radius_A and all(np.linalg.norm(p - q) > min_dist_A for q in pos):
            pos.append(p)
    return Atoms(np.array(["Pt"] * n), np.array(pos) + centre)


@pytest.fixture(scope="module")
def series():
    atoms = random_atoms()
    clean = project_atoms(atoms, ANGLES, n_pixels=N, pixel_size=PIX)
    clean = clean / clean.max() * 40.0  # counts: a bright particle on ~1 count of vacuum
    rng = np.random.default_rng(0)
    offset = 1.0 + 0.2 * rng.random(ANGLES.size)  # a vacuum level that drifts a little
    noisy_off = rng.poisson(clean + offset[:, None, None]).astype(np.float32)
    # the offset-free series: the same counts with the true vacuum level removed
    noisy_free = (noisy_off - offset[:, None, None]).astype(np.float32)
    return atoms, noisy_free, noisy_off, offset, clean


def test_border_level_is_robust_to_the_particle_in_one_edge():
    rng = np.random.default_rng(1)
    img = rng.poisson(0.8, size=(64, 64)).astype(float)
    vacuum = np.concatenate([img[:4].ravel(), img[-4:].ravel(), img[4:-4, :4].ravel()]).mean()
    img[20:44, 52:64] += 50.0  # the particle crosses the right edge
    level, sigma, _, kept = vacuum_level(img, 4)
    assert level == pytest.approx(vacuum, abs=0.03)
    assert kept == 3 and sigma == pytest.approx(np.sqrt(0.8), rel=0.15)


def test_offset_series_reconstructs_like_offset_free(series):
    atoms, free, offset_series, offset, clean = series
    before = offset_series.copy()
    res = preprocess_series(offset_series, PreprocessParams())
    np.testing.assert_array_equal(offset_series, before)  # input untouched
    # each level from ~580 border pixels of ~1.1 counts: standard error ≈ 0.045
    err = np.asarray(res.report["background_levels"]) - offset
    assert abs(err.mean()) < 0.03 and np.abs(err).max() < 0.2, err
    params = SirtParams(n_iter=20)
    truth = reconstruct_sirt(clean, ANGLES, params).volume
    ref = reconstruct_sirt(free, ANGLES, params).volume
    pre = reconstruct_sirt(res.stack, ANGLES, params).volume
    raw = reconstruct_sirt(offset_series, ANGLES, params).volume
    err = {k: float(np.linalg.norm(v - truth) / np.linalg.norm(truth))
           for k, v in (("free", ref), ("pre", pre), ("raw", raw))}
    print(err)
    assert err["pre"] < 1.1 * err["free"] and err["raw"] > 1.5 * err["free"], err
    # the traced atoms: same count and position error as the offset-free series
    tp = TraceParams(elements=("Pt",))
    scores = []
    for vol in (ref, pre):
        traced = trace_atoms(vol, PIX, tp, n_expected=len(atoms.elements)).atoms
        cmp = compare_atoms(traced, atoms)
        scores.append((int(cmp.matched.sum()), float(np.sqrt(np.mean(cmp.deviation_A[cmp.matched] ** 2)))))
    (n_ref, rmsd_ref), (n_pre, rmsd_pre) = scores
    assert n_pre >= n_ref - 1 and rmsd_pre <= rmsd_ref + 0.05, scores


def test_hot_pixels_removed_and_atoms_kept(series):
    _, free, _, _, _ = series
    hot = free.copy()
    hot[3, 10, 11] = 5000.0
    hot[5, 30, 2] = -500.0
    res = preprocess_series(hot, PreprocessParams(background="none", hot_pixels=True))
    assert res.report["bad_pixels_replaced"][3] >= 1 and res.report["bad_pixels_replaced"][5] >= 1
    assert abs(res.stack[3, 10, 11]) < 100 and res.stack[5, 30, 2] > -5
    changed = np.count_nonzero(res.stack != free) - 2
    assert changed <= 0.001 * free.size


@pytest.mark.parametrize("denoise", ["nlmeans", "wavelet"])
def test_normalize_and_denoise_are_reported(series, denoise):
    if denoise == "wavelet":
        pytest.importorskip("pywt")
    _, free, _, _, clean = series
    scaled = free * np.linspace(0.8, 1.2, free.shape[0])[:, None, None].astype(np.float32)
    res = preprocess_series(scaled, PreprocessParams(background="none", normalize=True,
                                                     denoise=denoise))
    totals = res.stack.sum(axis=(1, 2))
    assert np.std(totals) / np.mean(totals) < 0.02
    sig = np.asarray(res.report["denoise_sigma"])
    assert sig.shape == (free.shape[0],) and np.all(sig > 0)
    assert res.report["parameters"]["denoise"] == denoise
    # denoising brings the images closer to the noise-free ones
    factors = np.asarray(res.report["normalization_factors"])
    target = clean * (np.linspace(0.8, 1.2, free.shape[0]) * factors)[:, None, None]
    # measured: 0.79 (nl-means) and 0.85 (wavelet) of the error before; both filters take one
    # noise level, from the vacuum-dominated image, and under-smooth the particle's Poisson noise
    assert np.linalg.norm(res.stack - target) < 0.9 * np.linalg.norm(free * (
        np.linspace(0.8, 1.2, free.shape[0]) * factors)[:, None, None] - target)


def test_bad_settings_are_one_sentence():
    with pytest.raises(ValueError, match="background must be"):
        PreprocessParams(background="edge")
    with pytest.raises(ValueError, match="denoise must be"):
        PreprocessParams(denoise="bm3d")
    with pytest.raises(ValueError, match="needs a vacuum mask"):
        preprocess_series(np.ones((2, 8, 8)), PreprocessParams(background="mask"))
