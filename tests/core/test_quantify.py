"""Weight fractions from element maps (paper 002, Eq. 12 and Eq. 18)."""

import dataclasses

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from napari_atomtomo.core.elements import TABLE2_LINES
from napari_atomtomo.core.quantify import (
    QuantifyParams,
    ThresholdPicker,
    quantify_maps,
    summed_map,
    threshold_map,
    unthresholded_fractions,
)


def _synthetic(n=48, seed=0):
    """Concentric two-phase disc: C_Au 0.8 in the core, 0.2 in the shell, density ρ."""
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    r = np.hypot(yy, xx)
    particle, core = r < 18, r < 9
    c_au = np.where(core, 0.8, np.where(particle, 0.2, 0.0))
    c_ag = np.where(particle, 1.0 - c_au, 0.0)
    rho = np.where(core, 16.5, np.where(particle, 11.5, 0.0))
    return {"Ag": c_ag[:, None, :], "Au": c_au[:, None, :]}, rho[:, None, :], particle[:, None, :]


@pytest.mark.parametrize(("kind", "which"), [("eds", "f"), ("hebt", "z")])
def test_exact_weight_fractions_noise_free(kind, which):
    conc, rho, particle = _synthetic()
    n_const = 37.5  # common constant (n for EDS, response ratio for HEBT)
    maps = {el: n_const * getattr(TABLE2_LINES[el], which) * c * rho for el, c in conc.items()}
    res = quantify_maps(maps, kind, threshold=0.0)
    for el in conc:
        np.testing.assert_allclose(res.weight_fractions[el], conc[el], atol=1e-6)
        assert res.weight_fractions[el].dtype == np.float32
    assert res.n_voxels == particle.sum()
    assert np.array_equal(res.mask, particle)
    assert res.factors_used == {el: getattr(TABLE2_LINES[el], which) for el in conc}
    # The automatic (ESF) threshold keeps exactly the particle of a noise-free map.
    auto = quantify_maps(maps, kind)
    assert auto.esf is not None and 0 < auto.threshold < n_const * 11.5
    assert np.array_equal(auto.mask, particle)
    for el in conc:
        np.testing.assert_allclose(auto.weight_fractions[el], conc[el], atol=1e-6)


def test_wrong_factor_kind_gives_wrong_fractions():
    conc, rho, _ = _synthetic()
    maps = {el: TABLE2_LINES[el].f * c * rho for el, c in conc.items()}
    res = quantify_maps(maps, "hebt", threshold=0.0)  # maps are EDS-scaled: z is the wrong divisor
    ag, au = TABLE2_LINES["Ag"], TABLE2_LINES["Au"]
    q_ag, q_au = ag.f / ag.z * conc["Ag"], au.f / au.z * conc["Au"]
    inside = rho > 0
    expected = q_au[inside] / (q_ag[inside] + q_au[inside])
    np.testing.assert_allclose(res.weight_fractions["Au"][inside], expected, rtol=1e-5)
    assert np.max(np.abs(expected - conc["Au"][inside])) > 1e-3


def test_threshold_zeroes_background_noise_and_fractions_sum_to_one():
    conc, rho, particle = _synthetic()
    rng = np.random.default_rng(3)
    maps = {}
    for el, c in conc.items():
        clean = TABLE2_LINES[el].f * c * rho
        maps[el] = np.clip(gaussian_filter(clean, (1, 0, 1)) + rng.normal(0, 0.3, clean.shape), 0, None)
    res = quantify_maps(maps, "eds")
    total = res.weight_fractions["Ag"] + res.weight_fractions["Au"]
    np.testing.assert_allclose(total[res.mask], 1.0, atol=1e-6)
    assert np.all(total[~res.mask] == 0)
    assert res.n_voxels == pytest.approx(particle.sum(), rel=0.05)
    # Inside the core the Au fraction is close to 0.8.
    core = np.zeros_like(particle)
    core[24 - 5:24 + 5, 0, 24 - 5:24 + 5] = True
    assert res.weight_fractions["Au"][core].mean() == pytest.approx(0.8, abs=0.05)


def test_user_factors_for_other_elements():
    rho = np.zeros((5, 1, 5))
    rho[1:4, 0, 1:4] = 2.0
    factors = {"Pt": {"z": 1.0e5, "f": 2.0}, "Pd": {"z": 5.0e4, "f": 1.0}}
    maps = {"Pt": 2.0 * 0.25 * rho, "Pd": 1.0 * 0.75 * rho}
    res = quantify_maps(maps, "eds", factors=factors, threshold=0.5)
    np.testing.assert_allclose(res.weight_fractions["Pt"][rho > 0], 0.25, rtol=1e-6)
    assert res.n_voxels == 9


def test_summed_map():
    maps = {"Ag": np.full((2, 1, 2), 2.0), "Au": np.array([[[1.0, -1.0]], [[0.0, 3.0]]])}
    s, used = summed_map(maps, "hebt")
    expected = 2.0 / used["Ag"] + np.maximum(maps["Au"], 0) / used["Au"]
    np.testing.assert_allclose(s, expected)


@pytest.mark.parametrize(
    ("maps", "kwargs", "match"),
    [
        ({"Ag": np.ones((3, 1, 3)), "Au": np.ones((3, 1, 4))}, {}, "same shape"),
        ({"Ag": np.ones((3, 1, 3)), "Pt": np.ones((3, 1, 3))}, {}, "no 'f' factor for element 'Pt'"),
        ({"Ag": np.ones((3, 1, 3))}, {"kind": "haadf"}, "kind must be 'eds' or 'hebt'"),
        ({"Ag": np.ones((3, 1, 3))}, {"threshold": -1.0}, "finite number >= 0"),
        ({"Ag": np.ones((3, 1, 3))}, {"threshold": float("nan")}, "finite number >= 0"),
        ({"Ag": np.ones((3, 1, 3))}, {"threshold": "otsu"}, "'auto' or a number"),
        ({"Ag": np.full((3, 1, 3), np.nan)}, {}, "NaN"),
        ({}, {}, "non-empty dict"),
        ({"Ag": np.zeros((3, 1, 3))}, {"threshold": 0.0}, "all maps are zero"),
        ({"Xx": np.ones((3, 1, 3))}, {}, "unknown element 'Xx'"),
    ],
)
def test_bad_input(maps, kwargs, match):
    kwargs = {"kind": "eds", **kwargs}
    with pytest.raises(ValueError, match=match):
        quantify_maps(maps, **kwargs)


def test_params_path_and_picker_equal_the_keyword_path():
    conc, rho, _ = _synthetic(n=32, seed=1)
    rng = np.random.default_rng(3)
    maps = {el: 40.0 * TABLE2_LINES[el].f * c * rho + rng.normal(0, 5.0, rho.shape)
            for el, c in conc.items()}
    params = QuantifyParams("eds", n_thresholds=40)
    assert dataclasses.asdict(params) == {"kind": "eds", "threshold": "auto", "n_thresholds": 40,
                                          "smooth_voxels": "auto", "region_margin": "auto"}
    assert QuantifyParams("eds", region_margin=0).region_margin == 0.0
    with pytest.raises(ValueError, match="region margin must be 'auto' or a number"):
        QuantifyParams("eds", region_margin=-1)
    assert params.smoothing() == 1.0 and QuantifyParams("hebt").smoothing() == 0.0
    by_params = quantify_maps(maps, params=params)
    by_keywords = quantify_maps(maps, "eds", n_thresholds=40)
    assert by_params.threshold == by_keywords.threshold and by_params.smooth_voxels == 1.0
    summed, used = summed_map(maps, "eds")
    # The threshold applies to the summed map smoothed by 1 voxel (EDS default).
    picker = ThresholdPicker("eds", summed, unthresholded_fractions(maps, summed, used), used,
                             by_params.esf, threshold_map(summed, 1.0), 1.0)
    assert picker.auto_threshold == by_params.threshold
    for t in (by_params.threshold, 0.3 * by_params.threshold, 0.0):
        ref = quantify_maps(maps, params=QuantifyParams("eds", t))
        assert np.array_equal(picker.mask(t), ref.mask)
        for el in maps:
            np.testing.assert_array_equal(by_params.weight_fractions[el],
                                          by_keywords.weight_fractions[el])
            np.testing.assert_array_equal(picker.weight_fractions(t)[el], ref.weight_fractions[el])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: QuantifyParams("haadf"), "kind must be 'eds' or 'hebt'"),
        (lambda: QuantifyParams("eds", threshold=-1), "finite number >= 0"),
        (lambda: QuantifyParams("eds", n_thresholds=5), "n_thresholds must be an integer >= 10"),
        (lambda: QuantifyParams("eds", smooth_voxels=-1), "smooth_voxels must be"),
        (lambda: quantify_maps({"Ag": np.ones((3, 3))}, "eds", params=QuantifyParams("eds")),
         "either params or kind"),
        (lambda: quantify_maps({"Ag": np.ones((3, 3))}, params={"kind": "eds"}),
         "params must be a QuantifyParams"),
        (lambda: ThresholdPicker("eds", np.ones(3), {}, {}).auto_threshold, "no ESF fit"),
    ],
)
def test_bad_params(make, match):
    with pytest.raises(ValueError, match=match):
        make()
