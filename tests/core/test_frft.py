"""Fractional Fourier transform against the direct O(N²) sum."""

import numpy as np
import pytest

from napari_atomtomo.core.est import frft, frft_adjoint, frft_centred


def direct_frft(x, alpha, n_out, a=0.0, b=0.0):
    j = np.arange(x.shape[-1]) + a
    k = np.arange(n_out) + b
    return x @ np.exp(-2j * np.pi * np.outer(j, k) * alpha)


@pytest.mark.parametrize("n", [1, 2, 7, 16, 33, 64])
@pytest.mark.parametrize("alpha", [0.013, 0.25, -0.37, 1.7])
def test_frft_matches_direct_sum(n, alpha):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(3, n)) + 1j * rng.normal(size=(3, n))
    for n_out, a, b in [(n, 0.0, 0.0), (2 * n + 1, -(n // 2), -n), (n + 3, -(n - 1) / 2, 0.5)]:
        ref = direct_frft(x, alpha, n_out, a, b)
        got = frft(x, alpha, n_out, in_offset=a, out_offset=b)
        assert np.max(np.abs(got - ref)) <= 1e-10 * np.max(np.abs(ref))


@pytest.mark.parametrize("n", [8, 9, 31])
def test_alpha_one_over_n_is_the_dft(n):
    x = np.random.default_rng(0).normal(size=n)
    np.testing.assert_allclose(frft(x, 1.0 / n), np.fft.fft(x), atol=1e-10 * n)
    centred = np.fft.fftshift(np.fft.fft(np.fft.ifftshift(x)))
    np.testing.assert_allclose(frft_centred(x, 1.0 / n), centred, atol=1e-10 * n)


def test_batched_alpha_per_row_and_axis():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 11, 5))  # transform axis 1, one alpha per (row, column)
    alpha = rng.uniform(-0.2, 0.2, size=(4, 5))
    got = frft(x, alpha, 13, in_offset=-5, out_offset=-6, axis=1)
    assert got.shape == (4, 13, 5)
    for i in range(4):
        for c in range(5):
            ref = direct_frft(x[i, :, c], alpha[i, c], 13, -5, -6)
            assert np.max(np.abs(got[i, :, c] - ref)) <= 1e-10 * np.max(np.abs(ref))


def test_adjoint_identity():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 12)) + 1j * rng.normal(size=(2, 12))
    y = rng.normal(size=(2, 19)) + 1j * rng.normal(size=(2, 19))
    kw = dict(in_offset=-6, out_offset=-9.0)
    lhs = np.vdot(y, frft(x, 0.071, 19, **kw))
    rhs = np.vdot(frft_adjoint(y, 0.071, 12, **kw), x)
    assert abs(lhs - rhs) <= 1e-12 * abs(lhs)


def test_float32_gives_complex64_to_single_precision():
    x = np.random.default_rng(3).normal(size=40).astype(np.float32)
    got = frft(x, 0.031, 50, in_offset=-20)
    assert got.dtype == np.complex64
    ref = direct_frft(x.astype(np.float64), 0.031, 50, -20)
    assert np.max(np.abs(got - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_bad_input():
    with pytest.raises(ValueError, match="alpha contains NaN"):
        frft(np.ones(4), np.nan)
    with pytest.raises(ValueError, match="n_out must be a positive"):
        frft(np.ones(4), 0.1, 0)
    with pytest.raises(ValueError, match="does not broadcast"):
        frft(np.ones((3, 4)), np.ones(5) * 0.1)
