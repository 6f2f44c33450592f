"""The HAADF resolution match of the ratio fit: one check of the data, one EDS × EDS
normal matrix for every σ, and the numbers of a plain per-σ refit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from scipy.ndimage import gaussian_filter

from napari_atomtomo.core import ratios
from napari_atomtomo.core.ratios import (
    MATCH_SIGMA_STEP,
    MAX_MATCH_SIGMA,
    choose_ratios,
    match_resolution,
)


def naive_fit(haadf, eds):
    """Eq. 15 refitted from scratch: the whole ``[I_1..I_k, I_H, 1]`` normal matrix at once,
    NNLS on its Cholesky factor, and R² (the computation the resolution search used to
    repeat for every σ)."""
    k = len(eds)
    cols = np.stack([s.ravel() for s in eds.values()] + [haadf.ravel()]
                    + [np.ones(haadf.size)], axis=1).astype(np.float64)
    gram = cols.T @ cols
    g, rhs, bb, b_sum = gram[:k, :k], gram[:k, k], gram[k, k], gram[k, k + 1]
    chol = scipy.linalg.cholesky(g, lower=True)
    r, _ = scipy.optimize.nnls(chol.T, scipy.linalg.solve_triangular(chol, rhs, lower=True))
    ss_res = max(bb - 2.0 * rhs @ r + r @ g @ r, 0.0)
    return r, 1.0 - ss_res / (bb - b_sum * b_sum / haadf.size)


def smooth(h, sigma):
    if sigma == 0:
        return h.astype(np.float64)
    return gaussian_filter(h.astype(np.float64), (0.0, sigma if h.shape[1] > 1 else 0.0, sigma),
                           mode="nearest")


@pytest.fixture(params=[((5, 1, 40), 2), ((4, 9, 11), 3)], ids=["sinogram-2", "series-3"])
def blurred_eds(request):
    """EDS series blurred by σ 0.8 px in the image plane, and a sharp HAADF series."""
    shape, k = request.param
    rng = np.random.default_rng(2)
    maps = [rng.random(shape) for _ in range(k)]
    sigma = (0.0, 0.8 if shape[1] > 1 else 0.0, 0.8)
    eds = {el: 50 * gaussian_filter(m, sigma).astype(np.float32)
           for el, m in zip(("Ag", "Au", "Pt"), maps)}
    haadf = sum(r * m for r, m in zip((0.8, 1.1, 0.6), maps)).astype(np.float32)
    return haadf, eds


def test_match_resolution_equals_a_refit_from_scratch_at_every_sigma(blurred_eds):
    haadf, eds = blurred_eds
    best, curve = match_resolution(haadf, eds)
    grid = np.round(np.arange(0.0, MAX_MATCH_SIGMA + 1e-9, MATCH_SIGMA_STEP), 6)
    assert list(curve) == [float(s) for s in grid]
    for sigma, value in curve.items():
        assert value == pytest.approx(1.0 - naive_fit(smooth(haadf, sigma), eds)[1],
                                      rel=1e-12, abs=1e-12)
    assert 0.6 < best < 1.0  # the EDS series' extra blur

    choice = choose_ratios(haadf, eds)
    r, r2 = naive_fit(smooth(haadf, choice.haadf_sigma_px), eds)
    assert choice.method == "fitted" and choice.haadf_sigma_px == best
    np.testing.assert_allclose(list(choice.ratios.values()), r, rtol=1e-12)
    assert choice.r2 == pytest.approx(r2, rel=1e-12)


def test_the_data_are_checked_and_the_eds_normal_matrix_built_once(blurred_eds, monkeypatch):
    haadf, eds = blurred_eds
    checks, builds = [], []
    check = ratios.check_element_stacks
    init = ratios._NormalEquations.__init__

    def counting_check(*args, **kwargs):
        checks.append(1)
        return check(*args, **kwargs)

    def counting_init(self, *args, **kwargs):
        builds.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(ratios, "check_element_stacks", counting_check)
    monkeypatch.setattr(ratios._NormalEquations, "__init__", counting_init)
    _, curve = match_resolution(haadf, eds)
    assert len(curve) == 11 and checks == [1] and builds == [1]
    checks.clear()
    builds.clear()
    choose_ratios(haadf, eds)  # the σ search and both fits share them
    assert checks == [1] and builds == [1]


def test_bad_stacks_are_still_one_sentence_before_any_fit():
    h = np.random.default_rng(0).random((3, 1, 5)).astype(np.float32)
    with pytest.raises(ValueError, match="linearly dependent"):
        match_resolution(h, {"Ag": h, "Au": np.zeros_like(h)})
    with pytest.raises(ValueError, match="has shape"):
        match_resolution(h, {"Ag": np.ones((3, 1, 4), np.float32)})
    with pytest.raises(ValueError, match="haadf_sigma must be"):
        choose_ratios(h, {"Ag": h}, haadf_sigma=-1)
