"""The Joseph projector pair: adjointness, analytic geometry, NumPy reference, shifts, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import back_project_naive, forward_project_naive

from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import (
    DENORMAL_FLOOR,
    ParallelBeamProjector,
    back_project,
    flush_denormals,
    forward_project,
)

EST_ANGLES = equally_sloped_angles(32, 72.6)  # the 55 angles of CONVENTIONS.md
FEW_ANGLES = np.array([-72.6, -50.0, -45.0, -17.3, 0.0, 12.5, 45.0, 63.0, 90.0])


def _dot(a, b) -> float:
    return float(np.dot(np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)))


def _random_shifts(rng, n_a):
    """Fractional dy and dx, both signs, up to ~2 px."""
    return np.column_stack([rng.uniform(-2.2, 2.2, n_a), rng.uniform(-2.2, 2.2, n_a)])


# (volume shape (z, y, x), n_u): 2D and 3D, odd and even, n_u = n_x and n_u != n_x
SHAPES = [
    ((8, 1, 8), None),
    ((9, 1, 9), None),
    ((7, 1, 10), 13),
    ((9, 5, 7), None),
    ((8, 6, 10), 7),
    ((6, 4, 9), 12),
]


# ------------------------------------------------------------------------------ adjoint
@pytest.mark.parametrize("with_shifts", [False, True], ids=["no-shift", "shifted"])
@pytest.mark.parametrize("shape, n_u", SHAPES)
def test_adjoint_identity(shape, n_u, with_shifts):
    rng = np.random.default_rng(sum(shape))
    shifts = _random_shifts(rng, EST_ANGLES.size) if with_shifts else None
    proj = ParallelBeamProjector(shape, EST_ANGLES, n_u=n_u, shifts=shifts)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.standard_normal(proj.stack_shape).astype(np.float32)
    lhs = _dot(proj.forward(x), y)
    rhs = _dot(x, proj.back(y))
    scale = math.sqrt(_dot(proj.forward(x), proj.forward(x)) * _dot(y, y))
    assert abs(lhs - rhs) <= 1e-5 * scale
    # the functional API is the same operator pair
    np.testing.assert_array_equal(
        forward_project(x, EST_ANGLES, n_u=n_u, shifts=shifts), proj.forward(x)
    )
    np.testing.assert_array_equal(
        back_project(y, EST_ANGLES, volume_shape=shape, shifts=shifts), proj.back(y)
    )


@settings(max_examples=20, deadline=None)
@given(
    n_z=st.integers(1, 9),
    n_y=st.integers(1, 4),
    n_x=st.integers(1, 9),
    n_u=st.integers(1, 12),
    angles=st.lists(st.floats(-90.0, 90.0), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_adjoint_identity_property(n_z, n_y, n_x, n_u, angles, seed):
    rng = np.random.default_rng(seed)
    shifts = _random_shifts(rng, len(angles))
    proj = ParallelBeamProjector((n_z, n_y, n_x), angles, n_u=n_u, shifts=shifts)
    x = rng.random((n_z, n_y, n_x), dtype=np.float32)
    y = rng.random(proj.stack_shape, dtype=np.float32)
    lhs, rhs = _dot(proj.forward(x), y), _dot(x, proj.back(y))
    assert abs(lhs - rhs) <= 1e-5 * max(abs(lhs), abs(rhs), 1e-12)


# ------------------------------------------------------------------------------ geometry
@pytest.mark.parametrize("n, k, i", [(33, 24, 9), (32, 7, 20)])
def test_point_voxel_lands_on_analytic_u(n, k, i):
    """Joseph's footprint of a point is a triangle of half-width h = max(|cos|, |sin|)
    centred on u = x cos θ + z sin θ; its peak is the detector column nearest to u."""
    vol = np.zeros((n, 1, n), dtype=np.float32)
    vol[k, 0, i] = 1.0
    stack = forward_project(vol, EST_ANGLES)[:, 0, :]
    c = (n - 1) / 2
    m = np.arange(n)
    for a, theta in enumerate(np.radians(EST_ANGLES)):
        u = (i - c) * math.cos(theta) + (k - c) * math.sin(theta)  # CONVENTIONS.md
        m_star = u + c
        h = max(abs(math.cos(theta)), abs(math.sin(theta)))
        triangle = np.maximum(0.0, 1.0 - np.abs(m - m_star) / h) / h
        np.testing.assert_allclose(stack[a], triangle, rtol=0, atol=1e-5)
        assert abs(m_star - round(m_star)) != 0.5  # no tie for the peak
        assert int(np.argmax(stack[a])) == round(m_star)


def test_gaussian_blob_centroid_matches_analytic_u():
    n = 48
    c = (n - 1) / 2
    x0, z0, sigma = 6.3, -8.7, 2.0  # relative to the volume centre, voxels
    z, x = np.mgrid[0:n, 0:n] - c
    blob = np.exp(-((x - x0) ** 2 + (z - z0) ** 2) / (2 * sigma**2)).astype(np.float32)
    stack = forward_project(blob[:, None, :], EST_ANGLES)[:, 0, :].astype(np.float64)
    m = np.arange(n)
    theta = np.radians(EST_ANGLES)
    centroid = stack @ m / stack.sum(axis=1) - c
    expected = x0 * np.cos(theta) + z0 * np.sin(theta)
    np.testing.assert_allclose(centroid, expected, atol=0.05)
    # line integrals: every projection carries the blob's mass
    np.testing.assert_allclose(stack.sum(axis=1), blob.sum(), rtol=2e-3)


@pytest.mark.parametrize("n", [9, 12])
def test_ray_through_a_row_of_ones_sums_to_its_length(n):
    n_y = 3
    # a row along z at x index 2: the 0° ray of column 2 crosses n voxels
    vol = np.zeros((n, n_y, n), dtype=np.float32)
    vol[:, :, 2] = 1.0
    p = forward_project(vol, [0.0])
    np.testing.assert_allclose(p[0, :, 2], n, rtol=1e-6)
    np.testing.assert_allclose(p[0].sum(axis=1), n, rtol=1e-6)
    # a row along x at z index 3: at 90°, u = z, so column 3
    vol = np.zeros((n, n_y, n), dtype=np.float32)
    vol[3, :, :] = 1.0
    p = forward_project(vol, [90.0])
    np.testing.assert_allclose(p[0, :, 3], n, rtol=1e-6)
    np.testing.assert_allclose(p[0].sum(axis=1), n, rtol=1e-6)
    # the anti-diagonal x + z = 0 (i + k = n - 1): at 45° the central ray runs along it
    # and crosses n voxels with a chord of √2 each (for even n no detector column sits
    # on u = 0, so only odd n has such a ray)
    if n % 2:
        vol = np.zeros((n, n_y, n), dtype=np.float32)
        vol[np.arange(n), :, n - 1 - np.arange(n)] = 1.0
        p = forward_project(vol, [45.0])
        np.testing.assert_allclose(p[0, :, (n - 1) // 2], n * math.sqrt(2), rtol=1e-6)


def test_3d_is_a_stack_of_independent_2d_slices():
    rng = np.random.default_rng(3)
    vol = rng.random((10, 4, 11), dtype=np.float32)
    stack = forward_project(vol, FEW_ANGLES, n_u=13)
    for j in range(vol.shape[1]):
        np.testing.assert_array_equal(
            stack[:, j : j + 1], forward_project(vol[:, j : j + 1], FEW_ANGLES, n_u=13)
        )


# ------------------------------------------------------------------------------ reference
@pytest.mark.parametrize("with_shifts", [False, True], ids=["no-shift", "shifted"])
@pytest.mark.parametrize("shape, n_u", SHAPES)
def test_matches_naive_reference(shape, n_u, with_shifts):
    rng = np.random.default_rng(7 + sum(shape))
    shifts = _random_shifts(rng, FEW_ANGLES.size) if with_shifts else None
    vol = rng.random(shape, dtype=np.float32)
    got = forward_project(vol, FEW_ANGLES, n_u=n_u, shifts=shifts)
    want = forward_project_naive(vol, FEW_ANGLES, n_u=n_u, shifts=shifts)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())

    stack = rng.random(want.shape, dtype=np.float32)
    got = back_project(stack, FEW_ANGLES, volume_shape=shape, shifts=shifts)
    want = back_project_naive(stack, FEW_ANGLES, shape, shifts=shifts)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_matches_naive_reference_on_all_est_angles():
    rng = np.random.default_rng(11)
    vol = rng.random((12, 2, 12), dtype=np.float32)
    want = forward_project_naive(vol, EST_ANGLES)
    np.testing.assert_allclose(
        forward_project(vol, EST_ANGLES), want, rtol=1e-5, atol=1e-5 * want.max()
    )


# ------------------------------------------------------------------------------ shifts
def test_integer_shift_moves_the_projection_exactly():
    rng = np.random.default_rng(5)
    vol = rng.random((9, 8, 9), dtype=np.float32)
    plain = forward_project(vol, FEW_ANGLES)
    dy, dx = 2, -3
    shifts = np.tile([dy, dx], (FEW_ANGLES.size, 1))
    moved = forward_project(vol, FEW_ANGLES, shifts=shifts)
    # the projection appears at (v + dy, u + dx); rays beyond the unshifted detector's
    # edge come from a detector 3 columns wider on each side
    np.testing.assert_array_equal(moved[:, dy:, :dx], plain[:, :-dy, -dx:])
    wide = forward_project(vol, FEW_ANGLES, n_u=9 + 6)
    np.testing.assert_array_equal(moved[:, dy:, :], wide[:, :-dy, 6:])
    assert not moved[:, :dy].any()  # nothing lands on the first dy rows


def test_fractional_shift_is_linear_interpolation():
    rng = np.random.default_rng(6)
    vol = rng.random((9, 7, 9), dtype=np.float32)
    plain = forward_project(vol, FEW_ANGLES).astype(np.float64)
    dy = 0.3
    shifts = np.tile([dy, 0.0], (FEW_ANGLES.size, 1))
    moved = forward_project(vol, FEW_ANGLES, shifts=shifts)
    grid = np.arange(-1, 8)
    expected = np.empty_like(plain)
    for a in range(plain.shape[0]):
        for m in range(plain.shape[2]):
            column = np.concatenate([[0.0], plain[a, :, m], [0.0]])
            expected[a, :, m] = np.interp(np.arange(7) - dy, grid, column)
    np.testing.assert_allclose(moved, expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------ layout
def test_internal_layout_is_contiguous_and_round_trips():
    rng = np.random.default_rng(8)
    proj = ParallelBeamProjector((5, 4, 6), FEW_ANGLES, n_u=7)
    vol = rng.random((5, 4, 6))
    vol_t = proj.to_internal_volume(vol)
    assert vol_t.shape == (5, 6, 4) and vol_t.dtype == np.float32
    assert vol_t.flags.c_contiguous  # the kernels are fast only in this layout
    np.testing.assert_array_equal(proj.from_internal_volume(vol_t), vol.astype(np.float32))
    stack = rng.random(proj.stack_shape)
    stk_t = proj.to_internal_stack(stack)
    assert stk_t.shape == proj.internal_stack_shape and stk_t.flags.c_contiguous
    np.testing.assert_array_equal(proj.from_internal_stack(stk_t), stack.astype(np.float32))
    # a non-contiguous or float64 internal input gives the same answer
    expected = proj.forward_internal(vol_t)
    odd_layout = np.asfortranarray(vol_t.astype(np.float64))
    np.testing.assert_array_equal(proj.forward_internal(odd_layout), expected)
    # out is overwritten, not accumulated into
    out = np.full(proj.internal_stack_shape, 7.0, dtype=np.float32)
    np.testing.assert_array_equal(proj.forward_internal(vol_t, out=out), expected)
    out_v = np.full(proj.internal_volume_shape, 7.0, dtype=np.float32)
    np.testing.assert_array_equal(proj.back_internal(stk_t, out=out_v), proj.back_internal(stk_t))


def test_denormals_are_flushed_on_entry():
    vol = np.full((4, 2, 4), 1e-40, dtype=np.float32)
    vol[0, 0, 0] = 1e-20
    vol_t = ParallelBeamProjector(vol.shape, [0.0]).to_internal_volume(vol)
    assert np.count_nonzero(vol_t) == 1 and vol_t.max() == np.float32(1e-20)
    a = np.array([1e-38, -1e-31, 1e-29, -2.0], dtype=np.float32)
    np.testing.assert_array_equal(flush_denormals(a), np.float32([0.0, 0.0, 1e-29, -2.0]))
    assert DENORMAL_FLOOR == 1e-30


# ------------------------------------------------------------------------------ errors
def test_bad_input_raises_one_clear_sentence():
    vol = np.zeros((4, 2, 4), dtype=np.float32)
    stack = np.zeros((3, 2, 4), dtype=np.float32)
    angles = [-30.0, 0.0, 30.0]
    with pytest.raises(ValueError, match=r"volume must be 3D \(z, y, x\); got 2D"):
        forward_project(np.zeros((4, 4)), angles)
    with pytest.raises(ValueError, match=r"tilt series must be 3D \(angle, y, x\); got 4D"):
        back_project(np.zeros((3, 2, 4, 1)), angles)
    bad = vol.copy()
    bad[1, 1, 1] = np.nan
    with pytest.raises(ValueError, match="volume contains NaN or infinite values"):
        forward_project(bad, angles)
    bad = stack.copy()
    bad[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="tilt series contains NaN or infinite values"):
        back_project(bad, angles)
    with pytest.raises(ValueError, match="angles has 2 entries but the tilt series has 3 images"):
        back_project(stack, [0.0, 30.0])
    with pytest.raises(ValueError, match=r"has n_y=5 but the tilt series has 2 rows"):
        back_project(stack, angles, volume_shape=(4, 5, 4))
    with pytest.raises(ValueError, match=r"volume_shape must be \(n_z, n_y, n_x\)"):
        back_project(stack, angles, volume_shape=(4, 2))
    with pytest.raises(ValueError, match=r"volume is empty \(shape \(0, 2, 4\)\)"):
        forward_project(np.zeros((0, 2, 4)), angles)
    with pytest.raises(ValueError, match="volume must hold real numbers, got dtype complex128"):
        forward_project(np.zeros((4, 2, 4), dtype=complex), angles)
    with pytest.raises(ValueError, match=r"shifts must have shape \(3, 2\)"):
        forward_project(vol, angles, shifts=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="angles contains NaN"):
        forward_project(vol, [0.0, np.nan])
    with pytest.raises(ValueError, match="n_u must be a positive integer, got 0"):
        forward_project(vol, angles, n_u=0)
    proj = ParallelBeamProjector(vol.shape, angles)
    with pytest.raises(ValueError, match=r"volume has shape \(4, 4, 2\) but the projector expects"):
        proj.forward(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match=r"tilt series has shape \(2, 2, 4\) but the projector"):
        proj.back(np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match=r"internal volume has shape \(4, 2, 4\) but the"):
        proj.forward_internal(vol)
    with pytest.raises(ValueError, match="out must be a C-contiguous float32 stack of shape"):
        proj.forward_internal(proj.new_internal_volume(), out=np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="out must be a C-contiguous float32 volume of shape"):
        proj.back_internal(proj.new_internal_stack(), out=np.zeros((4, 2, 4), np.float32).T)
    with pytest.raises(ValueError, match=r"volume_shape must be \(n_z, n_y, n_x\) with positive"):
        ParallelBeamProjector((4, 0, 4), angles)


@pytest.mark.parametrize("n_y", [1, 3])
def test_from_internal_returns_a_copy_even_for_single_slices(n_y):
    """A 2D problem (n_y = 1) has the same memory order in both layouts; still a copy."""
    proj = ParallelBeamProjector((6, n_y, 6), [0.0, 30.0])
    vol_t = proj.new_internal_volume()
    stk_t = proj.new_internal_stack()
    vol = proj.from_internal_volume(vol_t)
    stk = proj.from_internal_stack(stk_t)
    vol_t += 1.0
    stk_t += 1.0
    assert not vol.any() and not stk.any()
    assert vol.flags.c_contiguous and stk.flags.c_contiguous


# ------------------------------------------------------------------------------ 2D path
@pytest.mark.parametrize("n_z, n_x, n_u", [(9, 9, 9), (8, 11, 13), (12, 7, 6)])
@pytest.mark.slow
def test_2d_path_equals_3d_path(n_z, n_x, n_u):
    """A single slice runs the scalar 2D kernels; a (z, 2, x) volume runs the 3D ones.

    Forward: bit-identical. Back: the 2D kernel is the scatter-form transpose of the
    forward kernel, equal to the 3D gather form to float rounding. The parallel twins
    (used for large slices) give the same numbers.
    """
    from napari_atomtomo.core import _projector_kernels as kernels

    rng = np.random.default_rng(n_z * n_x + n_u)
    shifts = np.column_stack([np.zeros(EST_ANGLES.size), rng.uniform(-2.2, 2.2, EST_ANGLES.size)])
    vol = rng.random((n_z, 2, n_x), dtype=np.float32)
    stack = rng.random((EST_ANGLES.size, 2, n_u), dtype=np.float32)
    proj_3d = ParallelBeamProjector(vol.shape, EST_ANGLES, n_u=n_u, shifts=shifts)
    fwd_3d, back_3d = proj_3d.forward(vol), proj_3d.back(stack)
    proj_2d = ParallelBeamProjector((n_z, 1, n_x), EST_ANGLES, n_u=n_u, shifts=shifts)
    for j in range(2):
        np.testing.assert_array_equal(proj_2d.forward(vol[:, j : j + 1]), fwd_3d[:, j : j + 1])
        back_2d = proj_2d.back(stack[:, j : j + 1])
        np.testing.assert_allclose(back_2d, back_3d[:, j : j + 1], rtol=1e-5, atol=1e-6)

    geometry = (proj_2d._cos, proj_2d._sin, proj_2d._du)
    slice_zx, sino = vol[:, 0].copy(), stack[:, 0].copy()
    serial = np.empty((EST_ANGLES.size, n_u), np.float32)
    parallel = np.empty_like(serial)
    kernels.forward_kernel_2d(slice_zx, *geometry, serial)
    kernels.forward_kernel_2d_parallel(slice_zx, *geometry, parallel)
    np.testing.assert_array_equal(parallel, serial)
    np.testing.assert_array_equal(serial, fwd_3d[:, 0])
    back_serial = np.empty((n_z, n_x), np.float32)
    kernels.back_kernel_2d(sino, *geometry, back_serial)
    for n_part in (1, 2, 3):
        back_parallel = np.full((n_z, n_x), 7.0, np.float32)  # overwritten, not added to
        kernels.back_kernel_2d_parallel(sino, *geometry, back_parallel, n_part)
        np.testing.assert_allclose(back_parallel, back_serial, rtol=1e-5, atol=1e-6)


def test_2d_back_is_the_exact_transpose_of_2d_forward():
    """Build both 2D operators column by column: Bᵀ equals A to float32 rounding."""
    n_z, n_x, n_u = 6, 7, 9
    angles = np.array([-72.6, -45.0, -20.0, 0.0, 33.0, 45.0, 60.0, 90.0])
    proj = ParallelBeamProjector((n_z, 1, n_x), angles, n_u=n_u, shifts=np.column_stack(
        [np.zeros(angles.size), np.linspace(-1.5, 1.5, angles.size)]))
    eye_v = np.eye(n_z * n_x, dtype=np.float32).reshape(-1, n_z, 1, n_x)
    a_mat = np.stack([proj.forward(e).ravel() for e in eye_v], axis=1)
    eye_s = np.eye(angles.size * n_u, dtype=np.float32).reshape(-1, angles.size, 1, n_u)
    b_mat = np.stack([proj.back(e).ravel() for e in eye_s], axis=1)
    np.testing.assert_allclose(b_mat.T, a_mat, rtol=1e-6, atol=1e-6)
    assert np.count_nonzero(a_mat) > 0.1 * a_mat.size  # the rays do cross the slice


@pytest.mark.parametrize("shape", [(5, 4, 7), (6, 1, 9), (3, 8, 1), (1, 1, 1)])
def test_release_internal_volume_is_the_public_volume_in_the_same_memory(shape):
    rng = np.random.default_rng(7)
    vol = rng.random(shape, dtype=np.float32)
    proj = ParallelBeamProjector(shape, FEW_ANGLES)
    vol_t = proj.to_internal_volume(vol)
    out = proj.release_internal_volume(vol_t)
    np.testing.assert_array_equal(out, vol)
    assert out.flags.c_contiguous and np.shares_memory(out, vol_t)
    with pytest.raises(ValueError, match="C-contiguous float32 internal volume"):
        proj.release_internal_volume(np.zeros(proj.internal_volume_shape))
