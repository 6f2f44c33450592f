"""The Ag–Au core–shell phantom of paper 002 (§3.1)."""

import math

import numpy as np
import pytest

from napari_atomtomo.core.elements import TABLE2_LINES
from napari_atomtomo.core.projectors import forward_project
from napari_atomtomo.core.simulate.agau import (
    AVOGADRO,
    AgAuParams,
    agau_phantom,
    alloy_density,
    expected_response_ratios,
    simulate_agau,
)


@pytest.fixture(scope="module")
def dataset():
    return simulate_agau(seed=1)


def test_geometry_matches_paper(dataset):
    assert dataset.angles_deg.tolist() == pytest.approx(np.arange(-75, 76, 5).tolist())
    assert dataset.haadf.shape == (31, 1, 97)
    assert all(e.shape == (31, 1, 97) for e in dataset.eds.values())
    assert dataset.voxel_size == 15.0
    assert all(p.shape == (97, 1, 97) for p in dataset.phantoms.values())
    assert dataset.haadf.dtype == np.float32 and dataset.eds["Ag"].dtype == np.float32


def test_phantom_compositions(dataset):
    ag, au = dataset.phantoms["Ag"], dataset.phantoms["Au"]
    inside = (ag + au) > 0
    np.testing.assert_allclose((ag + au)[inside], 1.0)
    np.testing.assert_allclose(np.unique(au[inside]), [0.2, 0.8], rtol=1e-6)
    params = AgAuParams()
    core_area = np.count_nonzero(au > 0.5) * params.pixel_size_nm**2
    assert core_area == pytest.approx(math.pi * params.core_radius_nm**2, rel=0.03)
    particle_area = np.count_nonzero(inside) * params.pixel_size_nm**2
    assert particle_area == pytest.approx(math.pi * params.particle_radius_nm**2, rel=0.03)


def test_alloy_density_is_volume_additive():
    assert alloy_density({"Ag": 1.0}) == pytest.approx(10.49)
    rho = alloy_density({"Au": 0.8, "Ag": 0.2})
    assert 1 / rho == pytest.approx(0.8 / 19.32 + 0.2 / 10.49)


def test_noise_free_signals_follow_eq9_and_eq14(dataset):
    p = AgAuParams()
    conc, rho = agau_phantom(p)
    rho_t = {el: forward_project((conc[el] * rho).astype(np.float32), dataset.angles_deg)
             * p.pixel_size_nm * 1e-7 for el in ("Ag", "Au")}
    n = AVOGADRO * p.eds_electrons * p.solid_angle_sr / (4 * math.pi) * 1e-24
    for el in ("Ag", "Au"):
        np.testing.assert_allclose(dataset.eds_clean[el], n * TABLE2_LINES[el].f * rho_t[el],
                                   rtol=1e-4, atol=1e-3)
    haadf = sum(p.haadf_electrons * AVOGADRO * 1e-24 * TABLE2_LINES[el].z * rho_t[el]
                for el in ("Ag", "Au"))
    np.testing.assert_allclose(dataset.haadf_clean, haadf, rtol=1e-4, atol=1e-2)
    # Eq. 15: I_H = Σ r_A I_A exactly for the noise-free signals.
    r = expected_response_ratios(p)
    mix = sum(r[el] * dataset.eds_clean[el] for el in ("Ag", "Au"))
    np.testing.assert_allclose(dataset.haadf_clean, mix, rtol=1e-4, atol=1e-2)


def test_poisson_noise_and_filter():
    raw = simulate_agau(seed=3, gaussian_sigma=0.0)
    again = simulate_agau(seed=3, gaussian_sigma=0.0)
    np.testing.assert_array_equal(raw.eds["Ag"], again.eds["Ag"])
    assert np.all(raw.eds["Ag"] == np.round(raw.eds["Ag"]))  # counts
    clean = raw.eds_clean["Ag"]
    sel = clean > 100
    # Poisson: variance of (counts - mean) / sqrt(mean) is 1.
    z = (raw.eds["Ag"][sel] - clean[sel]) / np.sqrt(clean[sel])
    assert z.std() == pytest.approx(1.0, abs=0.1)
    filtered = simulate_agau(seed=3)
    assert filtered.eds["Ag"].std() < raw.eds["Ag"].std()
    assert filtered.eds["Ag"].sum() == pytest.approx(raw.eds["Ag"].sum(), rel=1e-3)
    assert not np.array_equal(simulate_agau(seed=4).eds["Au"], filtered.eds["Au"])


def test_expected_ratios_scale_with_solid_angle():
    r1 = expected_response_ratios(AgAuParams(solid_angle_sr=0.7))
    r2 = expected_response_ratios(AgAuParams(solid_angle_sr=0.35))
    assert r2["Ag"] == pytest.approx(2 * r1["Ag"])
    assert r1["Au"] / r1["Ag"] == pytest.approx(
        (TABLE2_LINES["Au"].z / TABLE2_LINES["Au"].f) / (TABLE2_LINES["Ag"].z / TABLE2_LINES["Ag"].f))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"core_radius_nm": 50.0}, "must lie inside"),
        ({"particle_radius_nm": 80.0, "core_radius_nm": 20.0}, "does not fit"),
        ({"core_au": 1.5}, "weight fraction"),
        ({"eds_electrons": -1.0}, "positive finite"),
        ({"solid_angle_sr": 20.0}, "at most 4π"),
        ({"gaussian_sigma": -0.5}, "gaussian_sigma"),
    ],
)
def test_bad_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AgAuParams(**kwargs)


def test_bad_seed():
    with pytest.raises(ValueError, match="seed must be"):
        simulate_agau(seed=-1)
