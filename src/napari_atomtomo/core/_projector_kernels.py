"""numba kernels of the parallel-beam Joseph projector pair (private).

Working layout: the tilt axis ``y`` is innermost in memory, so the geometry of each
(angle, detector column, volume row) is computed once and the ``y`` loop is a
contiguous axpy (see PERFORMANCE.md).

- volume  ``vol_t[k, i, j]``  = volume[z=k, y=j, x=i]   shape (n_z, n_x, n_y)
- stack   ``stk_t[a, m, j]``  = stack[angle=a, y=j, u=m] shape (n_a, n_u, n_y)

Joseph's method steps along the axis closest to the ray direction and interpolates
linearly along the other; the weight ``1 / max(|cos θ|, |sin θ|)`` is the path length
per step, so a ray through voxels of value 1 sums to its length in voxels. The back
projector below is its exact adjoint written in gather form: voxel ``(k, i)`` receives
from the detector columns ``m`` within ``a = max(|cos θ|, |sin θ|)`` of its projected
position ``m* = x cos θ + z sin θ + c_u + du``, with the triangle weight
``(1 - |m - m*| / a) / a``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(nogil=True, cache=True, parallel=True, fastmath=False)
def forward_kernel(vol_t, cos_t, sin_t, du, n_u, out):
    """Forward projection ``out[a, m, :] = Σ w · vol`` (out is overwritten).

    Loop order (angle, step, detector column): for one step along the ray's major
    axis, consecutive detector columns read neighbouring volume rows, and the whole
    projection ``out[a]`` stays in cache.
    """
    n_z, n_x, n_y = vol_t.shape
    n_a = cos_t.shape[0]
    c_x = (n_x - 1) * 0.5
    c_z = (n_z - 1) * 0.5
    c_u = (n_u - 1) * 0.5
    for a in prange(n_a):
        c = cos_t[a]
        s = sin_t[a]
        proj = out[a]
        proj[:, :] = 0.0
        z_major = abs(c) >= abs(s)
        if z_major:
            w = 1.0 / abs(c)
            n_steps = n_z
            n_cross = n_x
        else:
            w = 1.0 / abs(s)
            n_steps = n_x
            n_cross = n_z
        for step in range(n_steps):
            for m in range(n_u):
                u_rel = m - c_u - du[a]
                # position of ray m along the cross axis at this step
                if z_major:
                    pos = (u_rel - (step - c_z) * s) / c + c_x
                else:
                    pos = (u_rel - (step - c_x) * c) / s + c_z
                p0 = math.floor(pos)
                f = pos - p0
                p0 = int(p0)
                if p0 < -1 or p0 >= n_cross:
                    continue
                w0 = np.float32(0.0) if p0 < 0 else np.float32(w * (1.0 - f))
                w1 = np.float32(0.0) if p0 + 1 >= n_cross else np.float32(w * f)
                q0 = max(p0, 0)
                q1 = min(p0 + 1, n_cross - 1)
                if z_major:
                    src0 = vol_t[step, q0]
                    src1 = vol_t[step, q1]
                else:
                    src0 = vol_t[q0, step]
                    src1 = vol_t[q1, step]
                line = proj[m]
                for j in range(n_y):
                    line[j] += w0 * src0[j] + w1 * src1[j]


@njit(nogil=True, cache=True, parallel=True, fastmath=False)
def back_kernel(stk_t, cos_t, sin_t, du, n_x, n_z, out):
    """Exact adjoint of :func:`forward_kernel` (out is overwritten)."""
    n_a, n_u, n_y = stk_t.shape
    c_x = (n_x - 1) * 0.5
    c_z = (n_z - 1) * 0.5
    c_u = (n_u - 1) * 0.5
    for k in prange(n_z):
        z_rel = k - c_z
        for i in range(n_x):
            acc = out[k, i]
            acc[:] = 0.0
            x_rel = i - c_x
            for a in range(n_a):
                c = cos_t[a]
                s = sin_t[a]
                half = max(abs(c), abs(s))
                inv = 1.0 / half
                m_star = x_rel * c + z_rel * s + c_u + du[a]
                m_lo = max(int(math.ceil(m_star - half)), 0)
                m_hi = min(int(math.floor(m_star + half)), n_u - 1)
                for m in range(m_lo, m_hi + 1):
                    t = 1.0 - abs(m - m_star) * inv
                    if t <= 0.0:
                        continue
                    w = np.float32(t * inv)
                    src = stk_t[a, m]
                    for j in range(n_y):
                        acc[j] += w * src[j]


@njit(nogil=True, cache=True, parallel=True)
def shift_rows_kernel(stk_t, dv, out):
    """Linear-interpolation shift along the tilt axis: ``out[a, m, j] = in[a, m, j - dv[a]]``."""
    n_a, n_u, n_y = stk_t.shape
    for a in prange(n_a):
        base = math.floor(dv[a])
        f = dv[a] - base
        base = int(base)
        w0 = np.float32(1.0 - f)
        w1 = np.float32(f)
        for m in range(n_u):
            for j in range(n_y):
                acc = np.float32(0.0)
                j0 = j - base
                if 0 <= j0 < n_y:
                    acc += w0 * stk_t[a, m, j0]
                j1 = j0 - 1
                if 0 <= j1 < n_y:
                    acc += w1 * stk_t[a, m, j1]
                out[a, m, j] = acc


@njit(nogil=True, cache=True, parallel=True)
def shift_rows_adjoint_kernel(stk_t, dv, out):
    """Exact adjoint of :func:`shift_rows_kernel`."""
    n_a, n_u, n_y = stk_t.shape
    for a in prange(n_a):
        base = math.floor(dv[a])
        f = dv[a] - base
        base = int(base)
        w0 = np.float32(1.0 - f)
        w1 = np.float32(f)
        for m in range(n_u):
            for j in range(n_y):
                acc = np.float32(0.0)
                j0 = j + base
                if 0 <= j0 < n_y:
                    acc += w0 * stk_t[a, m, j0]
                j1 = j0 + 1
                if 0 <= j1 < n_y:
                    acc += w1 * stk_t[a, m, j1]
                out[a, m, j] = acc
