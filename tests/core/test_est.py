"""EST: line assignment, the fast iteration against the literal pseudopolar one, quality."""

import numpy as np
import pytest

from napari_atomtomo.core.est import (
    EstParams,
    iter_est,
    match_equally_sloped,
    measured_lines,
    ppfft,
    ppfft_adjoint,
    ppfft_density_weights,
    reconstruct_est,
)
from napari_atomtomo.core.est.reconstruct import FourierNormalOperator, _line_weights
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project

ANGLES_55 = equally_sloped_angles(32, 72.6)


def blob_phantom(n=64, n_y=2, seed=1, n_blobs=12):
    rng = np.random.default_rng(seed)
    z, x = np.mgrid[0:n, 0:n] - (n - 1) / 2
    vol = np.zeros((n, n_y, n), np.float32)
    for j in range(n_y):
        for _ in range(n_blobs):
            cz, cx = rng.uniform(-0.28 * n, 0.28 * n, 2)
            s = rng.uniform(1.5, 3.5)
            vol[:, j, :] += np.exp(-((z - cz) ** 2 + (x - cx) ** 2) / (2 * s * s))
    return vol


def test_55_angles_fill_every_4th_line_of_the_128_grid():
    assert ANGLES_55.size == 55
    a = match_equally_sloped(ANGLES_55, 100)
    assert (a.n_slopes, a.n_grid) == (32, 128)
    assert all(line % 4 == 0 for line in a.line)
    assert max(abs(e) for e in a.angle_error_deg) < 1e-9
    assert a.family.count(0) == 33 and a.family.count(1) == 22
    text = a.describe()
    assert len(text) == 55 and "basically vertical" in text[0] and "l=-20" in text[0]


def test_angles_within_tolerance_accepted_others_refused():
    shifted = ANGLES_55 + np.linspace(0, 0.08, 55)
    assert match_equally_sloped(shifted, 64).n_slopes == 32
    with pytest.raises(ValueError, match="not an equally sloped set.*SIRT.*gridding"):
        match_equally_sloped(np.linspace(-70, 70, 41), 64)
    with pytest.raises(ValueError, match="same equally sloped line"):
        match_equally_sloped([0.0, 0.01, 45.0], 64)


def test_fast_normal_operator_equals_the_pseudopolar_path():
    n = 24
    angles = equally_sloped_angles(8, 72.6)
    a = match_equally_sloped(angles, n)
    op = FourierNormalOperator(a, n, 2)
    x = np.random.default_rng(0).normal(size=(2, n, n)).astype(np.float32)
    # literal: P x, keep the measured lines (density weighted), adjoint back
    w = ppfft_density_weights(a.n_grid)
    mask = np.zeros_like(w)
    mask[np.asarray(a.family), np.asarray(a.line) + a.n_grid // 2] = 1.0
    mask[:, [0, -1]] *= 2.0  # a measured diagonal carries both families' halves
    mask[1, [0, -1]] = 0.0
    ref = ppfft_adjoint(w * mask * ppfft(x.astype(np.float64), n_grid=a.n_grid),
                        n_image=n).real
    got = op.apply(x)
    assert np.max(np.abs(got - ref)) < 1e-5 * np.max(np.abs(ref))


@pytest.mark.slow
def test_error_metric_is_the_weighted_difference_on_measured_lines():
    vol = blob_phantom(32, 1)
    angles = equally_sloped_angles(16, 72.6)
    stack = forward_project(vol, angles)
    gen = iter_est(stack, angles, EstParams(n_iter=3, n_iter_tight=0, yield_every=1))
    states = [next(gen) for _ in range(2)]
    x = states[0].preview[:, 0, :].astype(np.float64)  # volume after iteration 1
    a = match_equally_sloped(angles, 32)
    y = measured_lines(stack, a)[:, 0, :]
    w = _line_weights(a, 2)
    pp = ppfft(x, n_grid=a.n_grid)[np.asarray(a.family), np.asarray(a.line) + a.n_grid // 2]
    direct = np.sqrt(np.sum(w * np.abs(pp - y) ** 2) / np.sum(w * np.abs(y) ** 2))
    assert states[1].error == pytest.approx(direct, rel=1e-3)
    assert states[0].error == pytest.approx(1.0)  # the first iteration starts from zero


@pytest.fixture(scope="module")
def est_and_sirt():
    from napari_atomtomo.core.sirt import SirtParams, reconstruct_sirt

    vol = blob_phantom(64, 2)
    stack = forward_project(vol, ANGLES_55)
    est = reconstruct_est(stack, ANGLES_55, EstParams(n_iter=100, n_iter_tight=100,
                                                      loose_support_margin=8))
    sirt = reconstruct_sirt(stack, ANGLES_55, SirtParams(n_iter=200))
    return vol, est, sirt.volume


@pytest.mark.slow
def test_est_beats_sirt_on_a_noise_free_phantom(est_and_sirt):
    vol, est, sirt = est_and_sirt
    def rel(v):
        return np.linalg.norm(v - vol) / np.linalg.norm(vol)
    assert rel(est.volume) < 0.06  # measured 0.038
    assert rel(est.volume) < 0.75 * rel(sirt)  # SIRT: 0.065
    assert est.errors.shape == (200,)
    assert est.errors[99] < 0.01 and est.errors[0] == pytest.approx(1.0)
    # mass: the 0° line's DC term is enforced
    assert est.volume.sum() == pytest.approx(vol.sum(), rel=5e-3)  # measured 0.2 %


@pytest.mark.slow
def test_est_recovers_the_missing_wedge_better_than_sirt(est_and_sirt):
    vol, est, sirt = est_and_sirt
    n = vol.shape[0]
    kz, kx = np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij")
    theta = np.degrees(np.arctan2(kz, kx)) % 180
    wedge = (np.abs(theta - 90) < 90 - 72.7) & (np.hypot(kx, kz) > 0.02) & (np.hypot(kx, kz) < 0.2)
    def wedge_err(v):
        f = np.fft.fft2(v[:, 0, :]), np.fft.fft2(vol[:, 0, :])
        return np.linalg.norm((f[0] - f[1])[wedge]) / np.linalg.norm(f[1][wedge])
    assert wedge_err(est.volume) < 0.6 * wedge_err(sirt)


@pytest.mark.slow
def test_rounds_previews_and_cancel():
    vol = blob_phantom(32, 1)
    angles = equally_sloped_angles(16, 72.6)
    stack = forward_project(vol, angles)
    gen = iter_est(stack, angles, EstParams(n_iter=4, n_iter_tight=3, yield_every=2))
    states = list(gen)
    assert [s.round for s in states] == [1] * 4 + [2] * 3
    assert [s.iteration for s in states] == list(range(1, 8))
    assert [s.preview is not None for s in states] == [False, True] * 3 + [False]
    assert states[1].preview.shape == (32, 1, 32)
    gen = iter_est(stack, angles, EstParams(n_iter=50, n_iter_tight=0))
    next(gen)
    gen.close()  # a consumer that stops: the generator ends at once
    with pytest.raises(StopIteration):
        next(gen)


@pytest.mark.slow
def test_support_and_callback():
    vol = blob_phantom(32, 1)
    angles = equally_sloped_angles(16, 72.6)
    stack = forward_project(vol, angles)
    seen = []
    res = reconstruct_est(stack, angles, EstParams(n_iter=10, n_iter_tight=5,
                                                   loose_support_margin=3), callback=seen.append)
    assert len(seen) == 15 and res.volume.shape == (32, 1, 32) and res.volume.dtype == np.float32
    assert res.volume.min() >= 0
    assert not res.support[:3].any() and not res.support[:, :, -3:].any()
    assert np.all(res.volume[~res.support] == 0)


def test_bad_input():
    stack = np.ones((55, 2, 16), np.float32)
    with pytest.raises(ValueError, match="angles has 54 entries but the tilt series has 55"):
        iter_est(stack, ANGLES_55[:54])
    with pytest.raises(ValueError, match="NaN"):
        iter_est(np.full_like(stack, np.nan), ANGLES_55)
    with pytest.raises(ValueError, match="empty"):
        iter_est(np.zeros_like(stack), ANGLES_55)
    with pytest.raises(ValueError, match="not an equally sloped set"):
        iter_est(stack, np.linspace(-70, 70, 55))
    with pytest.raises(ValueError, match="3D"):
        iter_est(stack[:, 0], ANGLES_55)
    with pytest.raises(ValueError, match="oversampling"):
        EstParams(oversampling=0)
    with pytest.raises(ValueError, match="support must be one of"):
        EstParams(support="sphere")
    with pytest.raises(ValueError, match="n_iter must be"):
        EstParams(n_iter=-1)
    with pytest.raises(ValueError, match="leaves no support"):
        iter_est(stack, ANGLES_55, EstParams(loose_support_margin=8))


def test_setup_steps_can_be_stopped_between_stages_and_change_nothing_else():
    from napari_atomtomo.core._generators import run_to_end
    from napari_atomtomo.core.est import EstSetupStep
    from napari_atomtomo.core.est.reconstruct import BACK_PROJECTION_CHUNK

    vol = blob_phantom(24, 2 * BACK_PROJECTION_CHUNK + 1)  # 3 chunks of slices
    angles = equally_sloped_angles(12, 72.6)
    stack = forward_project(vol, angles)
    params = EstParams(n_iter=2, n_iter_tight=1)
    states = []
    with_steps = run_to_end(iter_est(stack, angles, params, workers=1, setup_steps=True),
                            states.append)
    setup = [s for s in states if isinstance(s, EstSetupStep)]
    assert [s.stage for s in setup] == (["measured lines"] + ["back projection"] * 3
                                        + ["operator"])
    assert [s.step for s in setup] == [1, 2, 3, 4, 5] and {s.n_steps for s in setup} == {5}
    assert states[:5] == setup  # all before the first iteration
    assert [s.iteration for s in states[5:]] == [1, 2, 3]
    plain = reconstruct_est(stack, angles, params, workers=1)
    np.testing.assert_array_equal(with_steps.volume, plain.volume)
    np.testing.assert_array_equal(with_steps.errors, plain.errors)
    # a consumer that stops after the first stage: nothing more runs
    gen = iter_est(stack, angles, params, workers=1, setup_steps=True)
    assert next(gen).stage == "measured lines"
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)
