"""Tilt-series alignment: shift recovery at R_noise 25 %, Fourier shifts, better SIRT."""

import numpy as np
import pytest

from napari_atomtomo.core.align import (
    AlignParams,
    align_tilt_series,
    apply_shifts,
    estimate_shifts,
)
from napari_atomtomo.core.simulate.haadf import HaadfParams, project_atoms, simulate_haadf_series
from napari_atomtomo.core.sirt import SirtParams, reconstruct_sirt
from napari_atomtomo.io import read_xyz
from napari_atomtomo.io._paths import shipped_structure_path


@pytest.fixture(scope="module")
def noisy_series():
    atoms = read_xyz(shipped_structure_path())
    return simulate_haadf_series(atoms, HaadfParams(r_noise=0.25, seed=7, shift_sigma_px=2.0))


@pytest.mark.slow
def test_recovers_simulated_shifts_at_r_noise_25(noisy_series):
    sim = noisy_series
    res = align_tilt_series(sim.stack_noisy, sim.angles_nominal)
    assert sim.angles_nominal[res.reference_index] == 0.0
    truth = sim.shifts.copy()
    truth[:, 0] -= truth[res.reference_index, 0]  # y is relative to the 0° image
    err = res.shifts - truth
    rms = np.sqrt(np.mean(err**2, axis=0))
    assert rms[0] <= 0.25 and rms[1] <= 0.25, rms
    assert res.aligned.shape == sim.stack_noisy.shape and res.aligned.dtype == np.float32


def test_apply_shifts_moves_a_gaussian_exactly():
    n = 48
    y, x = np.mgrid[:n, :n]
    true = np.array([[1.3, -2.6], [-0.4, 0.75]])
    stack = np.stack([np.exp(-((y - 23.5 - dy) ** 2 + (x - 23.5 - dx) ** 2) / 18.0) for dy, dx in true])
    back = apply_shifts(stack, true)
    centred = np.exp(-((y - 23.5) ** 2 + (x - 23.5) ** 2) / 18.0)
    np.testing.assert_allclose(back, np.stack([centred, centred]), atol=1e-5)
    # estimate_shifts finds the same numbers (reference image 0 for y)
    shifts, ref = estimate_shifts(stack, [0.0, 10.0])
    assert ref == 0
    np.testing.assert_allclose(shifts[:, 1], true[:, 1], atol=1e-3)
    np.testing.assert_allclose(shifts[1, 0], true[1, 0] - true[0, 0], atol=0.02)


@pytest.mark.slow
def test_aligned_series_reconstructs_better(noisy_series):
    sim = noisy_series
    # reference: SIRT of the clean series without shifts at the nominal angles
    clean = project_atoms(sim.atoms, sim.angles_true)
    params = SirtParams(n_iter=15)
    ref = reconstruct_sirt(clean, sim.angles_nominal, params).volume
    aligned = align_tilt_series(sim.stack_noisy, sim.angles_nominal).aligned
    rec_aligned = reconstruct_sirt(aligned, sim.angles_nominal, params).volume
    rec_raw = reconstruct_sirt(sim.stack_noisy, sim.angles_nominal, params).volume

    def rel_err(v):
        return np.linalg.norm(v - ref) / np.linalg.norm(ref)

    e_al, e_raw = rel_err(rec_aligned), rel_err(rec_raw)
    assert e_al < 0.7 * e_raw, (e_al, e_raw)


def test_bad_input_raises_one_sentence():
    stack = np.ones((3, 8, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="angles has 2 entries but the tilt series has 3 images"):
        align_tilt_series(stack, [0.0, 10.0])
    bad = stack.copy()
    bad[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        align_tilt_series(bad, [-10.0, 0.0, 10.0])
    empty = stack.copy()
    empty[2] = 0.0
    with pytest.raises(ValueError, match="image 2 of the tilt series has no positive signal"):
        align_tilt_series(empty, [-10.0, 0.0, 10.0])
    with pytest.raises(ValueError, match="must be 3D"):
        align_tilt_series(stack[0], [0.0])
    with pytest.raises(ValueError, match="reference index"):
        align_tilt_series(stack, [-10.0, 0.0, 10.0], reference=5)
    with pytest.raises(ValueError, match="shifts must have shape"):
        apply_shifts(stack, np.zeros((2, 2)))


def test_params_path_equals_the_keyword_path():
    n = 32
    y, x = np.mgrid[:n, :n]
    true = np.array([[0.0, 0.0], [1.4, -2.2], [-0.7, 0.9]])
    stack = np.stack([0.2 + np.exp(-((y - 15.5 - dy) ** 2 + (x - 15.5 - dx) ** 2) / 12.0)
                      for dy, dx in true])
    params = AlignParams(reference=1, upsample=20, background="edge")
    by_params = estimate_shifts(stack, [-10.0, 0.0, 10.0], params=params)
    by_keywords = estimate_shifts(stack, [-10.0, 0.0, 10.0], reference=1, upsample=20,
                                  background="edge")
    assert by_params[1] == by_keywords[1] == 1
    np.testing.assert_array_equal(by_params[0], by_keywords[0])
    np.testing.assert_allclose(by_params[0][:, 0], true[:, 0] - true[1, 0], atol=0.06)
    res = align_tilt_series(stack, [-10.0, 0.0, 10.0], params=params)
    np.testing.assert_array_equal(res.shifts, by_params[0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reference": "first"}, "reference must be 'zero' or an image index"),
        ({"reference": 1.5}, "reference must be 'zero' or an image index"),
        ({"upsample": 0}, r"upsample must be an integer in 1\.\.1000"),
        ({"upsample": True}, r"upsample must be an integer in 1\.\.1000"),
        ({"background": "median"}, "background must be 'none' or 'edge'"),
    ],
)
def test_bad_align_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AlignParams(**kwargs)
    with pytest.raises(ValueError, match=match):
        estimate_shifts(np.ones((2, 4, 4)), [0.0, 10.0], **kwargs)


def test_params_and_keywords_exclude_each_other():
    with pytest.raises(ValueError, match="either params or reference"):
        estimate_shifts(np.ones((2, 4, 4)), [0.0, 10.0], upsample=5, params=AlignParams())
    with pytest.raises(ValueError, match="params must be an AlignParams"):
        align_tilt_series(np.ones((2, 4, 4)), [0.0, 10.0], params={"upsample": 5})
