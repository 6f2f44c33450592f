"""HEBT (paper 002, Eq. 17) and the response-ratio regression (Eq. 15)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize

from napari_atomtomo.core.hebt import (
    HebtParams,
    fit_response_ratios,
    iter_hebt,
    reconstruct_hebt,
)
from napari_atomtomo.core.projectors import ParallelBeamProjector, forward_project
from napari_atomtomo.core.sirt import SUM_FLOOR, SirtParams, reconstruct_sirt

ANGLES = np.arange(-75.0, 76.0, 5.0)  # the paper's 31 tilts


def core_shell(n: int) -> dict[str, np.ndarray]:
    """Two 2D ``(n, 1, n)`` maps: a core rich in one element, a shell rich in the other."""
    zz, xx = np.mgrid[:n, :n] - (n - 1) / 2
    rr = np.hypot(zz, 1.2 * xx)
    core = rr < 0.2 * n
    shell = (rr < 0.38 * n) & ~core
    au = (0.8 * core + 0.2 * shell).astype(np.float32)
    ag = (0.2 * core + 0.8 * shell).astype(np.float32)
    return {"Ag": ag[:, None, :], "Au": au[:, None, :]}


def synthetic(n: int, ratios: dict[str, float]):
    """Noise-free EDS and HAADF sinograms of :func:`core_shell` with ``I_H = Σ r_A I_A``."""
    maps = core_shell(n)  # X_A in HAADF units
    eds = {el: forward_project(m, ANGLES) / ratios[el] for el, m in maps.items()}
    haadf = forward_project(sum(maps.values()), ANGLES)
    return maps, eds, haadf


def dense_matrix(shape, angles) -> np.ndarray:
    proj = ParallelBeamProjector(shape, angles)
    n = int(np.prod(shape))
    eye = np.eye(n, dtype=np.float32)
    return np.stack([proj.forward(eye[j].reshape(shape)).ravel() for j in range(n)], 1).astype(
        np.float64
    )


def dense_sirt(a, b, n_iter, relaxation):
    """Textbook non-negative SIRT with an explicit matrix (slow reference)."""
    rs = a @ np.ones(a.shape[1])
    cs = a.T @ np.ones(a.shape[0])
    r = np.where(rs >= SUM_FLOOR, 1.0 / np.maximum(rs, SUM_FLOOR), 0.0)
    c = np.where(cs >= SUM_FLOOR, 1.0 / np.maximum(cs, SUM_FLOOR), 0.0)
    x = np.zeros(a.shape[1])
    for _ in range(n_iter):
        x = np.maximum(x + relaxation * c * (a.T @ (r * (b - a @ x))), 0.0)
    return x


def block_system(w, alpha, k):
    """The explicit W_b of Eq. 17 for ``k`` elements."""
    m, n = w.shape
    wb = np.zeros(((k + 1) * m, k * n))
    for a in range(k):
        wb[a * m : (a + 1) * m, a * n : (a + 1) * n] = (1 - alpha) * w
        wb[k * m :, a * n : (a + 1) * n] = alpha * w
    return wb


@pytest.mark.parametrize("alpha", [0.0, 0.35, 1.0])
def test_block_sums_follow_from_w_sums(alpha):
    """Row sums (1−α)·rs and α·k·rs, column sums cs, as stated in the module docstring."""
    w = dense_matrix((6, 1, 6), ANGLES[::6])
    k = 3
    wb = block_system(w, alpha, k)
    rs, cs = w.sum(1), w.sum(0)
    expected_rows = np.concatenate([(1 - alpha) * rs] * k + [alpha * k * rs])
    np.testing.assert_allclose(wb.sum(1), expected_rows, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wb.sum(0), np.tile(cs, k), rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.35, 0.8, 1.0])
def test_block_sirt_equals_dense_block_matrix_sirt(alpha):
    shape = (8, 1, 8)
    angles = np.array([-70.0, -30.0, 0.0, 15.0, 50.0])
    rng = np.random.default_rng(7)
    ratios = {"Ag": 2.0, "Au": 5.0}
    eds = {el: rng.random((5, 1, 8)).astype(np.float32) for el in ratios}
    haadf = rng.random((5, 1, 8)).astype(np.float32) * 7
    w = dense_matrix(shape, angles)
    wb = block_system(w, alpha, 2)
    ib = np.concatenate(
        [(1 - alpha) * ratios[el] * eds[el].ravel().astype(np.float64) for el in ratios]
        + [alpha * haadf.ravel().astype(np.float64)]
    )
    ref = dense_sirt(wb, ib, 20, 1.2)
    params = HebtParams(alpha=alpha, n_iter=20, relaxation=1.2)
    ours = reconstruct_hebt(haadf, eds, angles, params, ratios=ratios)
    got = np.concatenate([ours.maps[el].ravel() for el in ratios])
    np.testing.assert_allclose(got, ref, rtol=0, atol=3e-5 * np.abs(ref).max())
    residual = np.linalg.norm(ib - wb @ ref) / np.linalg.norm(ib)
    assert ours.residuals[-1] == pytest.approx(residual, rel=1e-4)


def test_alpha_zero_equals_per_element_sirt_on_scaled_eds():
    ratios = {"Ag": 805.0, "Au": 987.0}
    rng = np.random.default_rng(1)
    _, eds, haadf = synthetic(32, ratios)
    eds = {el: s * rng.uniform(0.8, 1.2, s.shape).astype(np.float32) for el, s in eds.items()}
    res = reconstruct_hebt(haadf, eds, ANGLES, HebtParams(alpha=0.0, n_iter=25), ratios=ratios)
    for el, s in eds.items():
        ref = reconstruct_sirt(ratios[el] * s, ANGLES, SirtParams(n_iter=25)).volume
        np.testing.assert_allclose(res.maps[el], ref, rtol=1e-6, atol=1e-6 * ref.max())


def test_hebt_recovers_maps_from_consistent_data():
    """Noise-free data, true ratios, α = 0.5, 150 iterations of the 32² phantom, 31 tilts.

    Measured: relative map errors 0.112 (Ag) and 0.125 (Au), block residual 0.0065
    (α = 0: 0.101 / 0.116; α = 0.8: 0.132 / 0.157). Asserted with a margin: errors
    < 0.14 and 0.16, residual < 0.008, monotone residual, non-negative maps.
    """
    ratios = {"Ag": 805.0, "Au": 987.0}
    maps, eds, haadf = synthetic(32, ratios)
    res = reconstruct_hebt(haadf, eds, ANGLES, HebtParams(alpha=0.5, n_iter=150), ratios=ratios)
    errs = {el: np.linalg.norm(res.maps[el] - m) / np.linalg.norm(m) for el, m in maps.items()}
    assert errs["Ag"] < 0.14 and errs["Au"] < 0.16, errs
    assert res.residuals[-1] < 0.008
    assert np.all(np.diff(res.residuals) <= 1e-7)
    assert all(m.min() >= 0.0 for m in res.maps.values())
    assert res.r2 is None and res.ratios == ratios


def test_alpha_one_is_haadf_sirt_shared_equally():
    """At α = 1 only Σ_A X_A is constrained: every map is SIRT(I_H) / k (exactly)."""
    ratios = {"Ag": 805.0, "Au": 987.0}
    _, eds, haadf = synthetic(24, ratios)
    res = reconstruct_hebt(haadf, eds, ANGLES, HebtParams(alpha=1.0, n_iter=30), ratios=ratios)
    ref = reconstruct_sirt(haadf, ANGLES, SirtParams(n_iter=30)).volume
    for m in res.maps.values():
        np.testing.assert_allclose(m, ref / 2, rtol=0, atol=1e-5 * ref.max())


def test_states_carry_maps_every_k_and_fitted_ratios():
    ratios = {"Ag": 805.0, "Au": 987.0}
    _, eds, haadf = synthetic(16, ratios)
    states = list(iter_hebt(haadf, eds, ANGLES, HebtParams(n_iter=5, yield_every=2)))
    assert [s.maps is not None for s in states] == [False, True, False, True, True]
    assert list(states[-1].maps) == ["Ag", "Au"]
    assert states[-1].maps["Ag"].shape == (16, 1, 16)
    assert states[0].r2 == pytest.approx(1.0, abs=1e-9)
    for el, r in ratios.items():
        assert states[0].ratios[el] == pytest.approx(r, rel=1e-4)


# ---------------------------------------------------------------------------- ratios
def test_regression_recovers_known_ratios_noise_free():
    ratios = {"Ag": 805.0, "Au": 987.0}
    _, eds, haadf = synthetic(32, ratios)
    fit = fit_response_ratios(haadf, eds, chunk=500)  # small chunks exercise accumulation
    assert list(fit.ratios) == ["Ag", "Au"]
    for el, r in ratios.items():
        assert fit.ratios[el] == pytest.approx(r, rel=1e-4)
    assert fit.r2 == pytest.approx(1.0, abs=1e-9)


def test_regression_matches_nnls_on_the_full_matrix_and_clamps_at_zero():
    rng = np.random.default_rng(5)
    shape = (9, 2, 13)
    eds = {el: rng.poisson(20.0, shape).astype(np.float32) for el in ("Co", "Mn", "O")}
    # O anti-correlated with the HAADF signal: unconstrained LS gives it a negative ratio
    haadf = (3.0 * eds["Co"] + 1.5 * eds["Mn"] - 0.8 * eds["O"] + rng.normal(0, 5, shape)).astype(
        np.float32
    )
    a = np.column_stack([eds[el].ravel() for el in eds]).astype(np.float64)
    b = haadf.ravel().astype(np.float64)
    assert np.linalg.lstsq(a, b, rcond=None)[0][2] < 0
    ref, _ = scipy.optimize.nnls(a, b)
    fit = fit_response_ratios(haadf, eds, chunk=100)
    np.testing.assert_allclose(list(fit.ratios.values()), ref, rtol=1e-7, atol=1e-9)
    assert fit.ratios["O"] == 0.0
    r2 = 1 - np.sum((b - a @ ref) ** 2) / np.sum((b - b.mean()) ** 2)
    assert fit.r2 == pytest.approx(r2, rel=1e-9)
    assert 0.0 < fit.r2 < 1.0


# ---------------------------------------------------------------------------- bad input
ST = np.ones((5, 1, 8), dtype=np.float32)
ANG5 = np.linspace(-60, 60, 5)
EDS = {"Ag": ST, "Au": 2 * ST}


@pytest.mark.parametrize("alpha", [-0.1, 1.1, float("nan")])
def test_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        HebtParams(alpha=alpha)


def test_bad_input_raises_one_sentence_at_call_time():
    nan_h = ST.copy()
    nan_h[1, 0, 3] = np.nan
    good = {"Ag": 1.0, "Au": 2.0}
    cases = [
        ((ST, {"Ag": ST, "Au": np.ones((5, 1, 9))}, ANG5), {}, r"eds\['Au'\] has shape"),
        ((np.ones((5, 1, 9)), EDS, ANG5), {}, r"eds\['Ag'\] has shape .* HAADF"),
        ((ST, {"Ag": ST, "Au": -ST}, ANG5), {}, "negative counts"),
        ((nan_h, EDS, ANG5), {}, "haadf contains NaN"),
        ((ST, EDS, ANG5[:3]), {"ratios": good}, "angles has 3 entries"),
        ((ST, EDS, ANG5), {"ratios": {"Ag": 1.0}}, "no value for element 'Au'"),
        ((ST, EDS, ANG5), {"ratios": {"Ag": 1.0, "Au": -2.0}}, "'Au' must be a positive"),
        ((ST, EDS, ANG5), {"ratios": {**good, "Cu": 1.0}}, r"values for \['Cu'\]"),
        ((ST, EDS, ANG5), {"ratios": {"Ag": "x", "Au": 1.0}}, "must be a number"),
        ((ST, {}, ANG5), {}, "non-empty dict"),
        ((ST, EDS, ANG5), {"support": np.ones((8, 1, 8))}, "boolean"),
    ]
    for args, kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            iter_hebt(*args, HebtParams(n_iter=1), **kwargs)  # no next(): raised on call
    with pytest.raises(ValueError, match="linearly dependent"):
        fit_response_ratios(ST, EDS)
    # an EDS map that explains none of the HAADF signal gets r = 0: refused for HEBT
    rng = np.random.default_rng(2)
    ag = rng.random((5, 1, 8)).astype(np.float32) + 0.5
    au = rng.random((5, 1, 8)).astype(np.float32) + 0.5
    with pytest.raises(ValueError, match=r"fitted response ratio of \['Au'\] is 0"):
        iter_hebt(3 * ag - au, {"Ag": ag, "Au": au}, ANG5, HebtParams(n_iter=1))
    with pytest.raises(ValueError, match="HebtParams"):
        iter_hebt(ST, EDS, ANG5, SirtParams(n_iter=2), ratios=good)
