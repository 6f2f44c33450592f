"""The phantom family for quantification (core/simulate/phantoms.py)."""

import numpy as np
import pytest

from napari_atomtomo.core.elements import TABLE2_LINES
from napari_atomtomo.core.hebt import HebtParams, reconstruct_hebt
from napari_atomtomo.core.quantify import quantify_maps
from napari_atomtomo.core.regions import region_statistics
from napari_atomtomo.core.simulate.phantoms import (
    DENSITY_G_CM3,
    ELEMENT_PAIRS,
    LAYOUTS,
    PhantomParams,
    phantom_layout,
    simulate_phantom,
)

EXPECTED_B = {  # true weight fraction of the second element per region
    "core_shell": {"1": 0.8, "2": 0.2},
    "core_shell_cap": {"1": 0.8, "2": 0.2, "3": 0.5},
    "janus": {"1": 0.15, "2": 0.85},
    "several": {"1": 0.2, "2": 0.5, "3": 0.8},
    "hollow": {"1": 0.3},
}


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts_have_their_regions_and_compositions(layout, ndim):
    p = PhantomParams(layout=layout, ndim=ndim, n_pixels=32)
    frac, regions = phantom_layout(p)
    assert frac.shape == regions.shape == ((32, 1, 32) if ndim == 2 else (32, 32, 32))
    assert np.all(frac[regions == 0] == 0) and np.all((frac >= 0) & (frac <= 1))
    labels = sorted(str(v) for v in np.unique(regions[regions > 0]))
    if layout == "gradient":  # thirds along x, B rising with x
        means = [frac[regions == k].mean() for k in (1, 2, 3)]
        assert labels == ["1", "2", "3"] and means[0] < means[1] < means[2]
        assert means[1] == pytest.approx(0.5, abs=0.02)
    else:
        assert labels == sorted(EXPECTED_B[layout])
        for lab, b in EXPECTED_B[layout].items():
            np.testing.assert_allclose(frac[regions == int(lab)], b)
    if layout == "hollow":  # the centre is empty
        c = 16 if ndim == 3 else 0
        assert regions[16, c, 16] == 0 or regions[15, c, 15] == 0


def test_signals_follow_the_thin_film_model_and_the_dose():
    a, b = "Co", "Zn"
    p = PhantomParams(layout="janus", elements=(a, b), n_pixels=32, gaussian_sigma=0)
    ds = simulate_phantom(p, seed=1)
    low = simulate_phantom(PhantomParams(layout="janus", elements=(a, b), n_pixels=32,
                                         gaussian_sigma=0, dose=0.1), seed=1)
    assert ds.haadf.shape == ds.eds[a].shape == (31, 1, 32)
    for el in (a, b):
        np.testing.assert_allclose(low.eds_clean[el], 0.1 * ds.eds_clean[el], rtol=1e-5)
    # Density of the ideal alloy, and the fractions sum to 1 in the particle.
    inside = ds.regions > 0
    total = ds.phantoms[a] + ds.phantoms[b]
    np.testing.assert_allclose(total[inside], 1.0, atol=1e-6)
    c_b = ds.phantoms[b][inside]
    rho = 1 / ((1 - c_b) / DENSITY_G_CM3[a] + c_b / DENSITY_G_CM3[b])
    np.testing.assert_allclose(ds.density[inside], rho, rtol=1e-5)
    # EDS counts of each element ∝ f_A (the ratio of the clean sinograms' sums, Eq. 6).
    ratio = ds.eds_clean[a].sum() / ds.eds_clean[b].sum()
    mass = {el: (ds.phantoms[el] * ds.density).sum() for el in (a, b)}
    assert ratio == pytest.approx(TABLE2_LINES[a].f * mass[a] / (TABLE2_LINES[b].f * mass[b]),
                                  rel=1e-3)
    assert ds.truth["regions"]["1"][b] == pytest.approx(0.15)
    assert len(ELEMENT_PAIRS) >= 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"layout": "donut"}, "layout must be one of"), ({"elements": ("Ag", "Pt")}, "elements must be"),
     ({"ndim": 4}, "ndim must be 2 or 3"), ({"n_pixels": 8}, "n_pixels must be"),
     ({"dose": 0}, "dose must be a positive")],
)
def test_bad_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PhantomParams(**kwargs)


def test_hebt_quantifies_a_small_core_shell_phantom():
    # End to end at the paper's dose: HEBT (α 0.8) and the automatic threshold give the
    # core and shell compositions within 3 wt % (region interiors).
    from scipy.ndimage import binary_erosion

    ds = simulate_phantom(PhantomParams(layout="core_shell", n_pixels=48), seed=0)
    h = reconstruct_hebt(ds.haadf, ds.eds, ds.angles_deg, HebtParams(alpha=0.8, n_iter=150))
    q = quantify_maps(h.maps, "hebt")
    assert q.threshold_method == "esf" and not q.warnings
    labels = np.zeros_like(ds.regions)
    for lab in (1, 2):
        labels[binary_erosion(ds.regions == lab, np.ones((3, 1, 3), bool))] = lab
    stats = region_statistics(q.weight_fractions, q.mask, labels)
    for lab, b in (("1", 0.8), ("2", 0.2)):
        assert stats[lab]["mean"]["Au"] == pytest.approx(b, abs=0.03)


def test_uniform_composition_uses_the_physical_ratios():
    # A hollow shell of one alloy: the EDS signals are proportional, the NNLS ratios are
    # ill-determined, and choose_ratios falls back to r_A ∝ z_A/f_A (Eq. 16) with a warning.
    from napari_atomtomo.core.hebt import fit_response_ratios
    from napari_atomtomo.core.ratios import MAX_RELATIVE_SE, choose_ratios

    ds = simulate_phantom(PhantomParams(layout="hollow", elements=("Co", "Au"), n_pixels=48))
    choice = choose_ratios(ds.haadf, ds.eds)
    assert choice.method == "physical" and "ill-determined" in choice.warning
    assert max(choice.relative_se.values()) > MAX_RELATIVE_SE
    zf = {el: TABLE2_LINES[el].z / TABLE2_LINES[el].f for el in ("Co", "Au")}
    assert choice.ratios["Au"] / choice.ratios["Co"] == pytest.approx(zf["Au"] / zf["Co"])
    h = reconstruct_hebt(ds.haadf, ds.eds, ds.angles_deg, HebtParams(n_iter=150))
    assert h.ratios == pytest.approx(choice.ratios)  # iter_hebt uses the same choice
    q = quantify_maps(h.maps, "hebt")
    inside = (ds.regions == 1) & q.mask
    assert q.weight_fractions["Au"][inside].mean() == pytest.approx(0.3, abs=0.03)
    # A core/shell particle: the fit is well determined and kept as it is.
    cs = simulate_phantom(PhantomParams(layout="core_shell", elements=("Co", "Au"), n_pixels=48))
    choice = choose_ratios(cs.haadf, cs.eds)
    assert choice.method == "fitted" and choice.warning is None
    assert (choose_ratios(cs.haadf, cs.eds, haadf_sigma=0).ratios
            == fit_response_ratios(cs.haadf, cs.eds).ratios)


@pytest.mark.parametrize("eds_sigma", [0.0, 0.8, 1.4])
def test_ratio_fit_matches_the_haadf_resolution_to_the_eds_series(eds_sigma):
    # EDS sinograms smoothed after counting (the paper's σ 0.8 px) and a sharp HAADF: the
    # plain fit of Eq. 15 is biased; matching the HAADF's resolution finds the smoothing and
    # recovers r_B/r_A = z_B f_A / (z_A f_B) of the simulator's thin-film model (Eq. 16).
    from napari_atomtomo.core.ratios import choose_ratios, match_resolution

    ds = simulate_phantom(PhantomParams(layout="core_shell_cap", elements=("Co", "Zn"),
                                        ndim=3, n_pixels=24, dose=100.0,
                                        gaussian_sigma=eds_sigma))
    sigma, curve = match_resolution(ds.haadf, ds.eds)
    assert sigma == pytest.approx(eds_sigma, abs=0.15)
    assert set(curve) >= {0.0, 0.8, 2.0}  # 1 − R² per σ tried, for the report
    t = TABLE2_LINES
    exact = t["Zn"].z * t["Co"].f / (t["Co"].z * t["Zn"].f)
    choice = choose_ratios(ds.haadf, ds.eds)
    assert choice.haadf_sigma_px == pytest.approx(sigma)
    assert choice.as_dict()["haadf_sigma_px"] == pytest.approx(sigma)
    matched = choice.ratios["Zn"] / choice.ratios["Co"]
    plain = choose_ratios(ds.haadf, ds.eds, haadf_sigma=0).ratios
    assert matched == pytest.approx(exact, rel=0.005)
    if eds_sigma > 0:  # the unmatched fit is measurably worse
        assert abs(plain["Zn"] / plain["Co"] / exact - 1) > 3 * abs(matched / exact - 1)
    with pytest.raises(ValueError, match="haadf_sigma"):
        choose_ratios(ds.haadf, ds.eds, haadf_sigma=-1)
