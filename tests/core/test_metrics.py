"""Image-quality metrics against hand-computed values."""

import numpy as np
import pytest

from napari_atomtomo.core.metrics import mse, mse_scaled, r_noise, ssim_structure


def test_ssim_structure_hand_computed():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 3.0, 2.0, 5.0])
    # means 2.5, 2.75; deviations x: -1.5 -.5 .5 1.5 ; y: -1.75 .25 -.75 2.25
    # Σdxdy = 2.625 - .125 - .375 + 3.375 = 5.5 ; Σdx² = 5 ; Σdy² = 3.0625+.0625+.5625+5.0625 = 8.75
    sxy, sx, sy = 5.5 / 3, np.sqrt(5 / 3), np.sqrt(8.75 / 3)
    assert ssim_structure(x, y) == pytest.approx(sxy / (sx * sy), rel=1e-12)
    assert ssim_structure(x, y) == pytest.approx(5.5 / np.sqrt(5 * 8.75), rel=1e-12)
    assert ssim_structure(x, y, C=0.5) == pytest.approx((sxy + 0.5) / (sx * sy + 0.5), rel=1e-12)


def test_ssim_structure_invariances():
    rng = np.random.default_rng(0)
    x = rng.random((5, 6))
    assert ssim_structure(x, 3 * x + 7) == pytest.approx(1.0)
    assert ssim_structure(x, -x) == pytest.approx(-1.0)


def test_mse_hand_computed():
    assert mse([0.0, 1.0, 2.0], [1.0, 1.0, 0.0]) == pytest.approx(5 / 3)


def test_mse_scaled_hand_computed():
    x = np.array([1.0, 2.0, 0.0])
    ref = np.array([2.0, 3.0, 1.0])
    # a = <x,ref>/<x,x> = 8/5 ; a x - ref = (-0.4, 0.2, -1)
    err, scale = mse_scaled(x, ref)
    assert scale == pytest.approx(1.6)
    assert err == pytest.approx((0.16 + 0.04 + 1.0) / 3)
    err2, scale2 = mse_scaled(10 * ref, ref)
    assert (err2, scale2) == (pytest.approx(0.0, abs=1e-15), pytest.approx(0.1))


def test_mse_scaled_is_minimal():
    rng = np.random.default_rng(2)
    x, ref = rng.random(50), rng.random(50)
    err, scale = mse_scaled(x, ref)
    for a in (scale * 0.9, scale * 1.1):
        assert np.mean((a * x - ref) ** 2) > err


def test_r_noise_hand_computed():
    clean = np.array([[[1.0, 3.0]], [[2.0, 2.0]]])  # two projections (angle, y, x)
    noisy = np.array([[[2.0, 3.0]], [[1.0, 4.0]]])
    mean, per = r_noise(noisy, clean)
    assert per.tolist() == pytest.approx([1 / 4, 3 / 4])
    assert mean == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("func", "args", "match"),
    [
        (ssim_structure, (np.ones(3), np.ones(4)), "same shape"),
        (ssim_structure, (np.ones(3), np.arange(3.0)), "constant"),
        (ssim_structure, (np.arange(3.0), np.arange(3.0), -1.0), "C must be"),
        (mse, (np.array([1.0, np.nan]), np.ones(2)), "NaN"),
        (mse, (np.ones(0), np.ones(0)), "empty"),
        (mse_scaled, (np.zeros(3), np.ones(3)), "all zeros"),
        (r_noise, (np.ones((2, 3)), np.zeros((2, 3))), "no positive signal"),
        (r_noise, (np.ones((2, 3)), np.ones((3, 2))), "same shape"),
    ],
)
def test_bad_input(func, args, match):
    with pytest.raises(ValueError, match=match):
        func(*args)
