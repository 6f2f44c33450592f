"""core/reliability.py: the measured resolution and the per-region reliability flags."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from napari_atomtomo.core.reliability import edge_resolution, region_reliability, wedge_fraction


def _ball(n=48, r=14):
    z, y, x = np.mgrid[:n, :n, :n] - (n - 1) / 2
    return np.sqrt(x**2 + y**2 + z**2) < r, z, x


def test_edge_resolution_measures_the_blur_per_axis():
    ball, _, _ = _ball()
    # Blurred more along z (a missing wedge's elongation) than along y and x.
    vol = gaussian_filter(ball.astype(float), (2.0, 1.2, 1.2))
    res = edge_resolution(vol, vol > 0.5)
    # The FWHM of the blur and of the grid's own step (central differences: σ 2/√(2π)),
    # added in quadrature.
    grid = 2 / np.sqrt(2 * np.pi)
    assert res["z"] == pytest.approx(2.3548 * np.hypot(2.0, grid), rel=0.15)
    assert res["x"] == pytest.approx(2.3548 * np.hypot(1.2, grid), rel=0.15)
    assert res["y"] == pytest.approx(res["x"], rel=0.1)
    assert res["z"] > 1.3 * res["x"]
    # 2D volumes (z, 1, x) have no y resolution.
    assert set(edge_resolution(vol[:, 24:25, :], vol[:, 24:25, :] > 0.5)) == {"z", "x"}


def test_regions_stacked_along_the_beam_are_flagged_only_with_a_missing_wedge():
    ball, z, x = _ball()
    labels = np.where(ball, np.where(z < -6, 3, np.where(x < 0, 1, 2)), 0)
    res = {"z": 2.5, "y": 2.0, "x": 2.0}
    rel = region_reliability(labels, ball, res, max_tilt_deg=70)
    assert not rel["3"]["reliable"] and "missing wedge" in rel["3"]["reason"]
    assert rel["1"]["reliable"] and rel["2"]["reliable"]
    assert wedge_fraction(labels, 1, 70) < 0.5 < wedge_fraction(labels, 3, 70)
    assert all(r["reliable"] for r in region_reliability(labels, ball, res, max_tilt_deg=90).values())
    # Without a tilt range the wedge is not checked (and says so by None).
    rel = region_reliability(labels, ball, res)
    assert rel["3"]["wedge_fraction"] is None and rel["3"]["reliable"]


def test_a_region_thinner_than_the_resolution_is_flagged():
    ball, _z, x = _ball()
    # A 2-voxel slab between two halves (interfaces along x, never in the wedge).
    labels = np.where(ball, np.where(np.abs(x) <= 1, 2, np.where(x < 0, 1, 3)), 0)
    rel = region_reliability(labels, ball, {"z": 3.0, "y": 3.0, "x": 3.0}, max_tilt_deg=75)
    assert not rel["2"]["reliable"] and "resolution lengths of region" in rel["2"]["reason"]
    assert rel["2"]["depth_resolutions"] < 1.0 < rel["1"]["depth_resolutions"]
    assert rel["1"]["reliable"] and rel["3"]["reliable"]
    # Separate particles more than a resolution apart: no interface, not flagged.
    two = np.where(ball & (x < -3), 1, np.where(ball & (x > 3), 2, 0))
    rel = region_reliability(two, two > 0, {"z": 2.0, "x": 2.0, "y": 2.0}, max_tilt_deg=60)
    assert rel["1"]["reliable"] and rel["1"]["wedge_fraction"] is None
