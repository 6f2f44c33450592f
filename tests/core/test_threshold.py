"""ESF threshold (paper 002, §2.1): multi-step fit, quality measures and the Otsu fallback."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from napari_atomtomo.core.threshold import (
    QUALITY_LIMITS,
    esf_threshold,
    particle_volume_curve,
    steps_model,
)


def _disc(n=96, radius=24.0, blur=1.2, noise=0.05, level=1.0, seed=0, clip=False):
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    obj = (np.hypot(yy, xx) < radius).astype(float) * level
    img = gaussian_filter(obj, blur) + np.random.default_rng(seed).normal(0, noise * level, obj.shape)
    return (np.clip(img, 0, None) if clip else img), obj


def test_volume_curve_matches_counting():
    v = np.array([[0.0, 1.0, 2.0], [3.0, 3.0, 5.0]])
    t = np.array([-1.0, 0.0, 2.5, 3.0, 5.0])
    assert particle_volume_curve(v, t).tolist() == [6, 5, 3, 1, 0]


@pytest.mark.parametrize(
    ("blur", "noise", "radius", "level", "clip"),
    [(1.0, 0.05, 24, 1.0, False), (1.5, 0.08, 20, 1.0, False), (1.2, 0.05, 24, 250.0, True),
     (2.0, 0.1, 28, 3.0, True)],
)
def test_threshold_recovers_known_step(blur, noise, radius, level, clip):
    img, obj = _disc(radius=radius, blur=blur, noise=noise, level=level, clip=clip)
    res = esf_threshold(img)
    assert res.method == "esf" and not res.fallback and res.warning is None
    assert res.quality["good"]
    # The particle volume at the chosen threshold is within 5 % of the true one, and the
    # threshold lies in the plateau between background (0) and particle (level).
    assert res.volume_at_threshold == pytest.approx(obj.astype(bool).sum(), rel=0.05)
    assert 0.25 * level < res.threshold < 0.75 * level
    # The fit finds the background (first) and the particle level (a strongly blurred
    # edge may add a broad ramp "level" in between, which is not taken as the boundary).
    p = res.fit_params
    assert p["levels"][0] == pytest.approx(0.0, abs=0.15 * level)
    assert min(abs(m - level) for m in p["levels"][1:]) < 0.15 * level


def _core_shell(n=96, r_out=30, r_in=15, shell=1.0, core=2.0, blur=1.2, noise=0.05, seed=0):
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    r = np.hypot(yy, xx)
    obj = np.where(r < r_in, core, np.where(r < r_out, shell, 0.0))
    img = gaussian_filter(obj, blur) + np.random.default_rng(seed).normal(0, noise, obj.shape)
    return np.clip(img, 0, None), r < r_out


@pytest.mark.parametrize(("shell", "core"), [(1.0, 2.0), (2.0, 1.0), (1.0, 1.3)])
def test_two_step_particle_uses_the_outermost_step(shell, core):
    # A core/shell particle gives two steps in V(t); the particle boundary is the lowest
    # particle level, whichever phase it is (a dim shell or a dim core).
    img, particle = _core_shell(shell=shell, core=core)
    res = esf_threshold(img)
    assert res.method == "esf" and res.quality["good"]
    low = min(shell, core)
    mask = img > res.threshold
    if shell < core:  # the whole particle
        assert res.volume_at_threshold == pytest.approx(particle.sum(), rel=0.04)
        assert res.threshold == pytest.approx(low / 2, rel=0.15)
    assert res.fit_params["n_levels"] >= (2 if abs(core - shell) > 0.5 else 1)
    # The mask holds the whole particle; with a dim core, half the core level lies a
    # little outside the brighter shell's blurred edge (a few % more voxels).
    assert np.count_nonzero(particle & ~mask) < 0.02 * particle.sum()
    assert np.count_nonzero(mask & ~particle) < (0.01 if shell < core else 0.08) * particle.sum()


def test_fit_curve_is_the_model_at_the_thresholds():
    img, _ = _disc()
    res = esf_threshold(img, n_thresholds=60)
    p = res.fit_params
    flat = [x for a, m, s in zip(p["amplitudes_voxels"], p["levels"], p["widths"]) for x in (a, m, s)]
    np.testing.assert_allclose(res.fit, steps_model(res.thresholds, *flat))
    # The quality numbers follow their definitions on the measured curve.
    b = p["boundary_level"]
    assert res.threshold == pytest.approx(0.5 * (p["levels"][0] + p["levels"][b]))
    t, h = res.threshold, p["levels"][b] - p["levels"][0]
    v = particle_volume_curve(img, [t - h / 4, t, t + h / 4])
    assert res.quality["edge_fraction"] == pytest.approx((v[0] - v[2]) / v[1])
    assert res.quality["residual"] == pytest.approx(
        np.sqrt(np.mean((res.fit - res.volumes) ** 2)) / v[1])
    assert res.thresholds.shape == res.volumes.shape == res.fit.shape == (60,)
    s = res.summary()
    assert s["threshold"] == res.threshold and len(s["volumes_voxels"]) == 60
    assert s["method"] == "esf" and s["fallback"] is False and s["quality"]["good"] is True


def test_works_in_3d():
    n = 40
    zz, yy, xx = np.mgrid[:n, :n, :n] - (n - 1) / 2
    obj = (np.sqrt(zz**2 + yy**2 + xx**2) < 12).astype(float)
    img = gaussian_filter(obj, 1.0) + np.random.default_rng(1).normal(0, 0.05, obj.shape)
    res = esf_threshold(img)
    assert res.method == "esf"
    assert res.volume_at_threshold == pytest.approx(obj.sum(), rel=0.05)


def test_featureless_volume_falls_back_to_otsu_with_a_warning():
    # Uniform noise has no particle: V(t) falls linearly, no plateau. The fit must be
    # judged poor and the threshold must be Otsu's, with a warning that says so.
    from skimage.filters import threshold_otsu

    img = np.random.default_rng(0).uniform(0, 1, (64, 64))
    res = esf_threshold(img)
    assert res.fallback and res.method == "otsu" and not res.quality["good"]
    assert res.threshold == pytest.approx(threshold_otsu(img))
    assert "poor" in res.warning or "no particle" in res.warning or "converge" in res.warning
    assert "Otsu" in res.warning


def test_forced_bad_fit_by_limits():
    img, _ = _disc()
    res = esf_threshold(img, limits={"residual": 0.0})
    assert res.fallback and res.method == "otsu"
    assert res.warning.startswith("the ESF fit of V(t) is poor (residual")
    assert res.esf_threshold is not None  # the rejected fit is still reported
    with pytest.raises(ValueError, match="unknown quality limit"):
        esf_threshold(img, limits={"bogus": 1})
    assert set(QUALITY_LIMITS) == {"residual", "edge_fraction", "separation"}


@pytest.mark.parametrize(
    ("volume", "kwargs", "match"),
    [
        (np.zeros((0, 3)), {}, "volume is empty"),
        (np.ones((4, 4)), {}, "volume is constant"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), {}, "NaN"),
        (np.arange(16.0).reshape(4, 4), {"n_thresholds": 3}, "n_thresholds must be"),
        (np.arange(16.0).reshape(4, 4), {"t_range": (2.0, 1.0)}, "t_range must be"),
    ],
)
def test_bad_input(volume, kwargs, match):
    with pytest.raises(ValueError, match=match):
        esf_threshold(volume, **kwargs)
