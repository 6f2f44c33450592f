"""Slow, plain NumPy reference implementations that the fast kernels are tested against.

Every reference here is written from the definition of its algorithm, independently of
the code under test (it never calls a numba kernel), and is meant for small inputs only.
Other modules may append their own references below the projector one.
"""

from __future__ import annotations

import math

import numpy as np

# ---------------------------------------------------------------------------------------
# Parallel-beam Joseph projector (CONVENTIONS.md, "Arrays and geometry")
#
# A ray of tilt θ hits the detector at u (relative to the detector centre); it is the line
# x cos θ + z sin θ = u in the (x, z) plane of one y slice (x, z relative to the volume
# centre). Joseph's method walks along the axis closest to the ray direction one voxel at
# a time, interpolates the slice linearly along the other axis (zero outside the volume)
# and multiplies by the path length per step, 1 / max(|cos θ|, |sin θ|).
# ---------------------------------------------------------------------------------------


def joseph_matrix(n_z: int, n_x: int, angles_deg, n_u: int | None = None, du=None) -> np.ndarray:
    """Dense system matrix of one ``(z, x)`` slice, built ray by ray with Python loops.

    Row ``a * n_u + m`` is the ray of detector column ``m`` at angle ``a``; column
    ``k * n_x + i`` is voxel ``(z=k, x=i)``. ``du`` are per-angle detector shifts (the
    projection appears at ``u + du``). Float64.
    """
    angles = np.asarray(angles_deg, dtype=np.float64)
    n_u = n_x if n_u is None else n_u
    du = np.zeros(angles.size) if du is None else np.asarray(du, dtype=np.float64)
    c_x, c_z, c_u = (n_x - 1) / 2, (n_z - 1) / 2, (n_u - 1) / 2
    a_mat = np.zeros((angles.size * n_u, n_z * n_x))
    for a, theta in enumerate(np.radians(angles)):
        cos, sin = math.cos(theta), math.sin(theta)
        for m in range(n_u):
            u = m - c_u - du[a]
            row = a * n_u + m
            if abs(cos) >= abs(sin):  # walk along z, interpolate along x
                length = 1.0 / abs(cos)
                for k in range(n_z):
                    x = (u - (k - c_z) * sin) / cos + c_x  # fractional x index on the ray
                    for i in range(n_x):
                        weight = max(0.0, 1.0 - abs(x - i))  # linear interpolation
                        if weight > 0.0:
                            a_mat[row, k * n_x + i] += length * weight
            else:  # walk along x, interpolate along z
                length = 1.0 / abs(sin)
                for i in range(n_x):
                    z = (u - (i - c_x) * cos) / sin + c_z
                    for k in range(n_z):
                        weight = max(0.0, 1.0 - abs(z - k))
                        if weight > 0.0:
                            a_mat[row, k * n_x + i] += length * weight
    return a_mat


def row_shift_matrix(n_y: int, dy: float) -> np.ndarray:
    """Matrix ``S`` with ``(S p)(v) = p(v - dy)``: linear interpolation, zero outside.

    Built column by column with :func:`numpy.interp` on zero-padded unit vectors.
    """
    s = np.zeros((n_y, n_y))
    grid = np.arange(-1, n_y + 1, dtype=np.float64)
    for j in range(n_y):
        unit = np.zeros(n_y + 2)
        unit[j + 1] = 1.0
        s[:, j] = np.interp(np.arange(n_y) - dy, grid, unit)
    return s


def _shifts(shifts, n_a):
    return np.zeros((n_a, 2)) if shifts is None else np.asarray(shifts, dtype=np.float64)


def forward_project_naive(volume, angles_deg, n_u=None, shifts=None) -> np.ndarray:
    """Float64 reference of ``forward_project``: volume ``(z, y, x)`` -> ``(angle, y, u)``."""
    vol = np.asarray(volume, dtype=np.float64)
    n_z, n_y, n_x = vol.shape
    angles = np.asarray(angles_deg, dtype=np.float64)
    n_u = n_x if n_u is None else n_u
    sh = _shifts(shifts, angles.size)
    a_mat = joseph_matrix(n_z, n_x, angles, n_u, du=sh[:, 1])
    flat = vol.transpose(0, 2, 1).reshape(n_z * n_x, n_y)  # (voxel, y)
    stack = (a_mat @ flat).reshape(angles.size, n_u, n_y).transpose(0, 2, 1)
    return np.stack([row_shift_matrix(n_y, sh[a, 0]) @ stack[a] for a in range(angles.size)])


def back_project_naive(stack, angles_deg, volume_shape, shifts=None) -> np.ndarray:
    """Float64 reference of ``back_project``: the transpose of :func:`forward_project_naive`."""
    stk = np.asarray(stack, dtype=np.float64)
    n_a, n_y, n_u = stk.shape
    n_z, _, n_x = volume_shape
    sh = _shifts(shifts, n_a)
    unshifted = np.stack([row_shift_matrix(n_y, sh[a, 0]).T @ stk[a] for a in range(n_a)])
    a_mat = joseph_matrix(n_z, n_x, angles_deg, n_u, du=sh[:, 1])
    flat = unshifted.transpose(0, 2, 1).reshape(n_a * n_u, n_y)  # (ray, y)
    return (a_mat.T @ flat).reshape(n_z, n_x, n_y).transpose(0, 2, 1)
