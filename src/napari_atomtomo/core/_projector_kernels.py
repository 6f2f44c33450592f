"""numba kernels of the parallel-beam Joseph projector pair (private).

Working layout: the tilt axis ``y`` is innermost in memory, so the geometry of each
(angle, detector column, volume row) is computed once and the ``y`` loop is a
contiguous two-term axpy that LLVM turns into packed SIMD (see PERFORMANCE.md and
docs/projectors.md).

- volume  ``vol_t[k, i, j]``  = volume[z=k, y=j, x=i]   shape (n_z, n_x, n_y)
- stack   ``stk_t[a, m, j]``  = stack[angle=a, y=j, u=m] shape (n_a, n_u, n_y)

Both arrays MUST be C-contiguous float32: the kernels are only fast (and only compiled,
cached and benchmarked) for that layout; the wrappers in :mod:`.projectors` guarantee it.

Joseph's method steps along the axis closest to the ray direction and interpolates
linearly along the other; the weight ``1 / max(|cos θ|, |sin θ|)`` is the path length
per step, so a ray through voxels of value 1 sums to its length in voxels. The back
projector below is its exact adjoint written in gather form: voxel ``(k, i)`` receives
from the detector columns ``m`` within ``h = max(|cos θ|, |sin θ|)`` of its projected
position ``m* = x cos θ + z sin θ + c_u + du``, with the triangle weight
``(1 - |m - m*| / h) / h``. Since ``h ≤ 1`` at most the two columns ``floor(m*)`` and
``floor(m*) + 1`` qualify, so the back kernel has the same two-term inner loop as the
forward kernel.

``fastmath`` is off: the pair must stay an exact adjoint to float rounding, and the
kernels are bound by memory traffic, not by the multiply-add count.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(nogil=True, cache=True, parallel=True)
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


@njit(nogil=True, cache=True, parallel=True)
def back_kernel(stk_t, cos_t, sin_t, du, n_x, n_z, out):
    """Exact adjoint of :func:`forward_kernel` (out is overwritten).

    Gather form, parallel over z slabs: slab ``out[k]`` (``n_x · n_y`` floats) is written
    by one thread only and stays in cache while the angles are summed into it, and for
    one angle consecutive voxel rows read neighbouring stack rows.
    """
    n_a, n_u, n_y = stk_t.shape
    c_x = (n_x - 1) * 0.5
    c_z = (n_z - 1) * 0.5
    c_u = (n_u - 1) * 0.5
    for k in prange(n_z):
        slab = out[k]
        slab[:, :] = 0.0
        z_rel = k - c_z
        for a in range(n_a):
            c = cos_t[a]
            s = sin_t[a]
            inv = 1.0 / max(abs(c), abs(s))
            offset = z_rel * s + c_u + du[a]
            for i in range(n_x):
                m_star = (i - c_x) * c + offset  # where voxel (k, i) projects
                m0 = math.floor(m_star)
                d = m_star - m0  # distance of column m0 below m*, in [0, 1)
                m0 = int(m0)
                if m0 < -1 or m0 >= n_u:
                    continue
                t0 = 1.0 - d * inv  # triangle weights of columns m0 and m0 + 1
                t1 = 1.0 - (1.0 - d) * inv
                w0 = np.float32(t0 * inv) if (t0 > 0.0 and m0 >= 0) else np.float32(0.0)
                w1 = np.float32(t1 * inv) if (t1 > 0.0 and m0 + 1 < n_u) else np.float32(0.0)
                src0 = stk_t[a, max(m0, 0)]
                src1 = stk_t[a, min(m0 + 1, n_u - 1)]
                acc = slab[i]
                for j in range(n_y):
                    acc[j] += w0 * src0[j] + w1 * src1[j]


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


@njit(nogil=True, cache=True, parallel=True)
def flush_denormals_kernel(flat, floor):
    """Set entries with ``|v| < floor`` to zero, in place (flat C-contiguous float32)."""
    for n in prange(flat.shape[0]):
        if abs(flat[n]) < floor:
            flat[n] = 0.0
