"""EST internals kept fast: the fused update against NumPy, the pruned convolution, threads."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft as sfft

from napari_atomtomo.core.est import EstParams, match_equally_sloped, reconstruct_est
from napari_atomtomo.core.est._kernels import update_in_box
from napari_atomtomo.core.est.reconstruct import FourierNormalOperator
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project


@pytest.mark.parametrize("per_slice", [False, True], ids=["shared-mask", "mask-per-slice"])
@pytest.mark.parametrize("positivity", [True, False])
@pytest.mark.slow
def test_fused_update_equals_numpy(per_slice, positivity):
    rng = np.random.default_rng(int(per_slice) + 2 * int(positivity))
    x_full = rng.normal(size=(3, 12, 12)).astype(np.float32)
    x = x_full[:, 2:10, 2:10]  # a strided view, as the box of the volume is
    x[0, 0, 0] = 0.0  # with b = 0 and g = -1e-35 below: a denormal-sized result, flushed
    outside = x_full.copy()
    g = rng.normal(size=(3, 8, 8)).astype(np.float32)
    b = rng.normal(size=(3, 8, 8)).astype(np.float32)
    b[0, 0, 0] = 0.0
    g[0, 0, 0] = -1e-35
    if per_slice:
        support = rng.random((3, 8, 8)) > 0.3
    else:
        support = np.broadcast_to(rng.random((8, 8)) > 0.3, (3, 8, 8))
    x64 = x.astype(np.float64)
    want_xg, want_xb = np.sum(x64 * g), np.sum(x64 * b)
    want = np.where(support, (x + b) - g, np.float32(0.0))
    if positivity:
        want = np.maximum(want, 0.0)
    assert 0 < abs(((x + b) - g)[0, 0, 0]) < 1e-30
    want[np.abs(want) < 1e-30] = 0.0
    xg, xb = update_in_box(x, g, b, support, positivity)
    np.testing.assert_array_equal(x, want)
    outside[:, 2:10, 2:10] = x
    np.testing.assert_array_equal(x_full, outside)  # nothing outside the box changed
    assert xg == pytest.approx(want_xg, rel=1e-12) and xb == pytest.approx(want_xb, rel=1e-12)


def test_pruned_convolution_equals_the_padded_rfft2_pair():
    n = 20
    op = FourierNormalOperator(match_equally_sloped(equally_sloped_angles(8, 72.6), n), n, 2)
    x = np.random.default_rng(1).normal(size=(3, n, n)).astype(np.float32)
    p = op.period
    spec = sfft.rfft2(x, s=(p, p)) * op.kernel_hat
    want = sfft.irfft2(spec, s=(p, p))[..., :n, :n]
    got = op.apply(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6 * np.abs(want).max())


def test_fixed_and_adaptive_fft_threads_give_the_same_reconstruction():
    n = 32
    angles = equally_sloped_angles(16, 72.6)
    zz, xx = np.mgrid[:n, :n] - (n - 1) / 2
    vol = np.exp(-((zz - 3) ** 2 + (xx + 4) ** 2) / 18.0).astype(np.float32)[:, None, :]
    stack = forward_project(np.repeat(vol, 3, axis=1), angles)
    params = EstParams(n_iter=6, n_iter_tight=4, loose_support_margin=3)
    fixed = reconstruct_est(stack, angles, params, workers=1)
    auto = reconstruct_est(stack, angles, params)
    np.testing.assert_allclose(auto.volume, fixed.volume, rtol=0,
                               atol=1e-5 * np.abs(fixed.volume).max())
    np.testing.assert_allclose(auto.errors, fixed.errors, rtol=1e-5)
