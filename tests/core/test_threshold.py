"""ESF threshold (paper 002, §2.1)."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from napari_atomtomo.core.threshold import (
    esf_model,
    esf_threshold,
    esf_volume,
    particle_volume_curve,
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
    assert res.method == "esf"
    # The particle volume at the chosen threshold is within 5 % of the true one, and the
    # threshold lies in the plateau between background (0) and particle (level).
    assert res.volume_at_threshold == pytest.approx(obj.astype(bool).sum(), rel=0.05)
    assert 0.25 * level < res.threshold < 0.75 * level
    # The fit finds the two levels and the particle volume.
    p = res.fit_params
    assert p["t_background"] == pytest.approx(0.0, abs=0.15 * level)
    assert p["t_particle"] == pytest.approx(level, rel=0.15)
    assert p["volume_voxels"] == pytest.approx(obj.astype(bool).sum(), rel=0.1)


def test_chosen_threshold_is_minimum_gradient_of_fit():
    img, _ = _disc()
    res = esf_threshold(img, n_thresholds=60)
    p = res.fit_params
    # |dV/dt| of the fitted curve, by finite differences on a fine grid inside the step.
    t = np.linspace(p["t_background"], p["t_particle"], 4001)[1:-1]
    v = esf_volume(t, p["t_background"], p["t_particle"], p["volume_voxels"], p["width_voxels"],
                   img.size)
    grad = np.abs(np.gradient(v, t))
    assert res.threshold == pytest.approx(t[np.argmin(grad)], abs=(t[-1] - t[0]) / 200)
    assert abs(res.gradient_at_threshold) == pytest.approx(grad.min(), rel=1e-3)
    # The model t(V) and its inverse V(t) agree.
    assert esf_model(v[::500], p["t_background"], p["t_particle"], p["volume_voxels"],
                     p["width_voxels"]) == pytest.approx(t[::500], rel=1e-6)
    assert res.thresholds.shape == res.volumes.shape == res.fit.shape == (60,)
    s = res.summary()
    assert s["threshold"] == res.threshold and len(s["volumes_voxels"]) == 60


def test_works_in_3d():
    n = 40
    zz, yy, xx = np.mgrid[:n, :n, :n] - (n - 1) / 2
    obj = (np.sqrt(zz**2 + yy**2 + xx**2) < 12).astype(float)
    img = gaussian_filter(obj, 1.0) + np.random.default_rng(1).normal(0, 0.05, obj.shape)
    res = esf_threshold(img)
    assert res.volume_at_threshold == pytest.approx(obj.sum(), rel=0.05)


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
