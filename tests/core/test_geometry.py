"""Tilt geometry: equally sloped angles, TiltGeometry validation, voxel <-> Å conversions."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from napari_atomtomo.core.geometry import (
    TiltGeometry,
    angstrom_to_index,
    equally_sloped_angles,
    equally_sloped_slopes,
    index_to_angstrom,
    validate_angles,
    validate_shifts,
    volume_centre,
)


def test_the_55_equally_sloped_angles_of_conventions():
    """atan(k/16) for k = -16..16 plus ±acot(k/16) for k = 5..15 (CONVENTIONS.md)."""
    inner = [math.degrees(math.atan(k / 16)) for k in range(-16, 17)]
    outer = [s * math.degrees(math.atan(16 / k)) for k in range(5, 16) for s in (1, -1)]
    expected = np.sort(np.array(inner + outer))
    got = equally_sloped_angles(32, 72.6)
    assert got.dtype == np.float64 and got.shape == (55,)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert np.all(np.diff(got) > 0)
    np.testing.assert_allclose(got, -got[::-1], atol=1e-12)  # symmetric about 0°
    assert round(got[-1], 3) == 72.646 and round(got[0], 3) == -72.646


def test_full_equally_sloped_set_has_2n_lines_and_matching_slopes():
    n = 8
    angles = equally_sloped_angles(n, 90.0)
    labels = equally_sloped_slopes(n, 90.0)
    assert angles.size == 2 * n == len(labels)  # the 2N lines of the pseudopolar grid
    for theta, (family, k) in zip(np.radians(angles), labels):
        if family == "h":  # basically horizontal: tan θ = 2k/N
            assert math.tan(theta) == pytest.approx(2 * k / n, abs=1e-12)
        else:  # basically vertical: cot θ = 2k/N
            assert math.cos(theta) / math.sin(theta) == pytest.approx(2 * k / n, abs=1e-12)


@pytest.mark.parametrize(
    "n_slopes, max_angle, match",
    [
        (31, 72.6, "n_slopes must be an even integer"),
        (0, 72.6, "n_slopes must be an even integer"),
        (32.5, 72.6, "n_slopes must be an even integer"),
        (32, -5.0, r"max_angle must be in \(0, 90\] degrees"),
    ],
)
def test_equally_sloped_angles_rejects_bad_parameters(n_slopes, max_angle, match):
    with pytest.raises(ValueError, match=match):
        equally_sloped_angles(n_slopes, max_angle)


def test_tilt_geometry_normalises_and_reports_shapes():
    geo = TiltGeometry(np.array([-30.0, 0.0, 30.0]), n_u=12, n_v=5, voxel_size=0.5)
    assert geo.angles_deg == (-30.0, 0.0, 30.0)
    assert all(type(a) is float for a in geo.angles_deg)
    assert geo.n_angles == 3
    assert geo.stack_shape == (3, 5, 12)
    assert geo.volume_shape == (12, 5, 12)  # n_x = n_z = n_u, n_y = n_v
    np.testing.assert_array_equal(geo.shifts_array(), np.zeros((3, 2)))
    shifted = TiltGeometry([-30.0, 0.0, 30.0], 12, 5, shifts=[[1, -2], [0, 0.5], [0.25, 0]])
    np.testing.assert_array_equal(shifted.shifts_array(), [[1, -2], [0, 0.5], [0.25, 0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        geo.n_u = 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"angles_deg": [0.0, np.nan]}, "angles contains NaN or infinite values"),
        ({"angles_deg": []}, "angles is empty"),
        ({"angles_deg": [0.0, 200.0]}, r"within ±180.*radians"),
        ({"angles_deg": [[0.0, 1.0]]}, "angles must be a 1D list"),
        ({"n_u": 0}, "detector size must be positive, got n_u=0"),
        ({"n_v": -1}, "detector size must be positive"),
        ({"voxel_size": 0.0}, "voxel_size must be a positive number of Å"),
        ({"voxel_size": float("nan")}, "voxel_size must be a positive number of Å"),
        ({"shifts": [[0.0, 0.0]]}, r"shifts must have shape \(2, 2\)"),
        ({"shifts": [[0.0, np.inf], [0.0, 0.0]]}, "shifts contains NaN or infinite"),
    ],
)
def test_tilt_geometry_rejects_bad_input(kwargs, match):
    args = {"angles_deg": [-10.0, 10.0], "n_u": 8, "n_v": 4} | kwargs
    with pytest.raises(ValueError, match=match):
        TiltGeometry(**args)


def test_validate_angles_and_shifts():
    np.testing.assert_array_equal(validate_angles([1, 2, 3], n_images=3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="angles has 54 entries but the tilt series has 55 images"):
        validate_angles(np.zeros(54), n_images=55)
    assert validate_shifts(np.zeros((4, 2)), 4).dtype == np.float64
    with pytest.raises(ValueError, match=r"shifts must have shape \(4, 2\) as \(dy, dx\)"):
        validate_shifts(np.zeros((4, 3)), 4)


def test_index_angstrom_conversions():
    # voxel (k, j, i) has its centre at (x, y, z) = (i, j, k) * voxel_size
    np.testing.assert_allclose(index_to_angstrom([1, 2, 3], 0.5), [1.5, 1.0, 0.5])
    np.testing.assert_allclose(angstrom_to_index([1.5, 1.0, 0.5], 0.5), [1.0, 2.0, 3.0])
    rng = np.random.default_rng(0)
    idx = rng.uniform(-5, 50, (20, 3))
    np.testing.assert_allclose(angstrom_to_index(index_to_angstrom(idx, 0.37), 0.37), idx)
    np.testing.assert_allclose(volume_centre((4, 5, 6)), [1.5, 2.0, 2.5])
    np.testing.assert_allclose(volume_centre((1, 1, 1)), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("max_angle", [0.0, -10.0, 95.0])
def test_equally_sloped_angles_rejects_max_angle_outside_range(max_angle):
    with pytest.raises(ValueError, match="max_angle must be in"):
        equally_sloped_angles(32, max_angle)


def test_tilt_geometry_rejects_fractional_detector():
    with pytest.raises(ValueError, match="whole pixels"):
        TiltGeometry(angles_deg=(0.0,), n_u=10.5, n_v=4)
