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

For a single slice (``n_y == 1``) the ``*_2d`` kernels below take the same arrays as
plain ``(z, x)`` and ``(angle, u)`` and run scalar loops: the forward kernel is
bit-identical to the 3D one, the serial back kernel is the scatter-form transpose of the
forward kernel (equal to the gather form to float rounding, and twice as fast), and the
parallel twins are used only for large slices (see ``_threads.use_parallel_2d``).

Of ``fastmath`` only ``contract`` is on (:data:`CONTRACT`): it lets LLVM fuse each
multiply and add of the ``y`` loops into one FMA (one rounding instead of two, so the
pair stays an exact adjoint to float rounding) and made the 3D kernels 10-20 % faster
(thread CPU time at 100³ × 55). The inner loops are written ``acc = (acc + w0·s0) + w1·s1``
so that the only contraction is two chained FMAs, the same in the SIMD 3D loops and the
scalar 2D loop (which therefore stay bit-identical). The reassociating flags stay off: the results must not
depend on how LLVM reorders a sum.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

#: The one ``fastmath`` flag the kernels use: multiply-add contraction into FMA.
CONTRACT = {"contract"}


@njit(nogil=True, cache=True)
def _ray_geometry(c, s, du_a, n_x, n_z, n_u):
    """Joseph set-up of one angle: ``(z_major, w, n_steps, n_cross, slope, b0, db)``.

    The ray of detector column ``m`` meets the cross axis at ``pos = b0 + step·db + m·slope``
    (fractional index) on major-axis step ``step``; ``w`` is the path length per step.
    The 2D and 3D kernels share this helper, so they compute bit-identical positions.
    """
    c_x = (n_x - 1) * 0.5
    c_z = (n_z - 1) * 0.5
    c_u = (n_u - 1) * 0.5
    if abs(c) >= abs(s):
        inv = 1.0 / c
        return True, abs(inv), n_z, n_x, inv, (c_z * s - c_u - du_a) * inv + c_x, -s * inv
    inv = 1.0 / s
    return False, abs(inv), n_x, n_z, inv, (c_x * c - c_u - du_a) * inv + c_z, -c * inv


@njit(nogil=True, cache=True)
def _column_range(base, slope, n_cross, n_u):
    """Detector columns ``[m_lo, m_hi)`` whose ray reaches ``-1 < pos < n_cross`` (a superset)."""
    lo = (-1.0 - base) / slope
    hi = (n_cross - base) / slope
    if slope < 0.0:
        lo, hi = hi, lo
    m_lo = max(0, int(math.floor(lo)) - 1)
    m_hi = min(n_u, int(math.ceil(hi)) + 2)
    return m_lo, max(m_lo, m_hi)


@njit(nogil=True, cache=True, fastmath=CONTRACT)
def forward_angle(vol_t, c, s, du_a, n_u, proj):
    """One projection ``proj[m, :] = Σ w · vol`` of angle ``(c, s) = (cos θ, sin θ)``.

    ``proj`` ``(n_u, n_y)`` is overwritten. Loop order (step, detector column): for one
    step along the ray's major axis, consecutive detector columns read neighbouring
    volume rows, and the whole projection stays in cache. :func:`forward_kernel` and the
    fused SIRT kernels (:mod:`._sirt_kernels`) share this code, so they agree bit for bit.
    """
    n_z, n_x, n_y = vol_t.shape
    proj[:, :] = 0.0
    z_major, w, n_steps, n_cross, slope, b0, db = _ray_geometry(c, s, du_a, n_x, n_z, n_u)
    for step in range(n_steps):
        base = b0 + step * db
        m_lo, m_hi = _column_range(base, slope, n_cross, n_u)
        for m in range(m_lo, m_hi):
            pos = base + m * slope  # ray m on the cross axis at this step
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
                line[j] = (line[j] + w0 * src0[j]) + w1 * src1[j]  # two chained FMAs


@njit(nogil=True, cache=True, parallel=True, fastmath=CONTRACT)
def forward_kernel(vol_t, cos_t, sin_t, du, n_u, out):
    """Forward projection ``out[a] = A_a · vol`` for every angle, parallel over angles."""
    for a in prange(cos_t.shape[0]):
        forward_angle(vol_t, cos_t[a], sin_t[a], du[a], n_u, out[a])


@njit(nogil=True, cache=True, fastmath=CONTRACT)
def back_slab(stk_t, cos_t, sin_t, du, k, n_x, n_z, slab):
    """Slab ``k`` of the back projection, ``slab`` ``(n_x, n_y)`` (overwritten).

    Gather form: the angles are summed into the slab, which stays in cache, and for one
    angle consecutive voxel rows read neighbouring stack rows. Shared by
    :func:`back_kernel` and the fused SIRT kernels.
    """
    n_a, n_u, n_y = stk_t.shape
    c_x = (n_x - 1) * 0.5
    c_z = (n_z - 1) * 0.5
    c_u = (n_u - 1) * 0.5
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
                acc[j] = (acc[j] + w0 * src0[j]) + w1 * src1[j]  # two chained FMAs


@njit(nogil=True, cache=True, parallel=True, fastmath=CONTRACT)
def back_kernel(stk_t, cos_t, sin_t, du, n_x, n_z, out):
    """Exact adjoint of :func:`forward_kernel` (out is overwritten), parallel over z slabs.

    Slab ``out[k]`` is written by one thread only (no atomics, no private copies).
    """
    for k in prange(n_z):
        back_slab(stk_t, cos_t, sin_t, du, k, n_x, n_z, out[k])


# ---------------------------------------------------------------------------- 2D (n_y = 1)
# A single slice leaves the y loop above with length 1. These kernels work on plain
# (z, x) and (angle, u) arrays instead, with the rows padded by two zeros on each side
# (PAD): an interpolation index clamped into the padded row then reads zeros where Joseph's
# method has none, so the inner loops carry no edge branches.
PAD = 2


@njit(nogil=True, cache=True)
def _pad_rows(a, transpose):
    """``a`` (or its transpose) with ``PAD`` zero columns on each side, float32."""
    n_r, n_c = (a.shape[1], a.shape[0]) if transpose else a.shape
    out = np.zeros((n_r, n_c + 2 * PAD), dtype=np.float32)
    for r in range(n_r):
        for c in range(n_c):
            out[r, c + PAD] = a[c, r] if transpose else a[r, c]
    return out


@njit(nogil=True, cache=True, fastmath=CONTRACT)
def _forward_angle_2d(rows_z, rows_x, n_z, n_x, c, s, du_a, proj):
    """One projection ``proj[m]`` (overwritten) from the padded rows of the slice.

    ``rows_z`` are the padded z rows (for angles stepping along z), ``rows_x`` the padded
    x columns (stepping along x). Same arithmetic and order as :func:`forward_kernel`,
    hence bit-identical to it.
    """
    n_u = proj.shape[0]
    proj[:] = 0.0
    z_major, w, n_steps, n_cross, slope, b0, db = _ray_geometry(c, s, du_a, n_x, n_z, n_u)
    src = rows_z if z_major else rows_x
    top = n_cross + PAD  # largest first index whose pair stays inside the padded row
    for step in range(n_steps):
        base = b0 + step * db
        m_lo, m_hi = _column_range(base, slope, n_cross, n_u)
        row = src[step]
        for m in range(m_lo, m_hi):
            pos = base + m * slope
            p0 = math.floor(pos)
            f = pos - p0
            q = min(max(int(p0) + PAD, 0), top)
            # the 3D kernel's expression, so both contract to the same two FMAs
            proj[m] = (proj[m] + np.float32(w * (1.0 - f)) * row[q]) + np.float32(w * f) * row[q + 1]


@njit(nogil=True, cache=True)
def forward_kernel_2d(vol, cos_t, sin_t, du, out):
    """:func:`forward_kernel` for one slice: ``vol`` ``(z, x)``, ``out`` ``(angle, u)``.

    Single-threaded scalar loops; bit-identical to the 3D kernel on every slice.
    """
    n_z, n_x = vol.shape
    rows_z = _pad_rows(vol, False)
    rows_x = _pad_rows(vol, True)
    for a in range(cos_t.shape[0]):
        _forward_angle_2d(rows_z, rows_x, n_z, n_x, cos_t[a], sin_t[a], du[a], out[a])


@njit(nogil=True, cache=True, parallel=True)
def forward_kernel_2d_parallel(vol, cos_t, sin_t, du, out):
    """:func:`forward_kernel_2d` parallel over angles (large 2D problems)."""
    n_z, n_x = vol.shape
    rows_z = _pad_rows(vol, False)
    rows_x = _pad_rows(vol, True)
    for a in prange(cos_t.shape[0]):
        _forward_angle_2d(rows_z, rows_x, n_z, n_x, cos_t[a], sin_t[a], du[a], out[a])


# The loop of _forward_angle_2d again, on purpose: a gather and its exact scatter (adjoint)
# cannot share the inner loop without a branch per sample in the hottest path.
@njit(nogil=True, cache=True)
def _scatter_angle_2d(proj, n_z, n_x, c, s, du_a, acc_z, acc_x):
    """Add the transpose of :func:`_forward_angle_2d` applied to ``proj`` into the
    padded accumulators (``acc_z`` rows z for z-stepping angles, ``acc_x`` rows x)."""
    n_u = proj.shape[0]
    z_major, w, n_steps, n_cross, slope, b0, db = _ray_geometry(c, s, du_a, n_x, n_z, n_u)
    dst = acc_z if z_major else acc_x
    top = n_cross + PAD
    for step in range(n_steps):
        base = b0 + step * db
        m_lo, m_hi = _column_range(base, slope, n_cross, n_u)
        row = dst[step]
        for m in range(m_lo, m_hi):
            pos = base + m * slope
            p0 = math.floor(pos)
            f = pos - p0
            q = min(max(int(p0) + PAD, 0), top)
            v = proj[m]
            row[q] += np.float32(w * (1.0 - f)) * v
            row[q + 1] += np.float32(w * f) * v


@njit(nogil=True, cache=True)
def back_kernel_2d(stk, cos_t, sin_t, du, out):
    """Adjoint of :func:`forward_kernel_2d` in scatter form (``out`` ``(z, x)`` overwritten).

    Every ray spreads its value back with the forward weights (the exact transpose, so
    equal to :func:`back_kernel` to float rounding): about twice as fast as the gather
    form on one thread, and the reason the 2D path has its own back projector.
    """
    n_z, n_x = out.shape
    acc_z = np.zeros((n_z, n_x + 2 * PAD), dtype=np.float32)
    acc_x = np.zeros((n_x, n_z + 2 * PAD), dtype=np.float32)
    for a in range(cos_t.shape[0]):
        _scatter_angle_2d(stk[a], n_z, n_x, cos_t[a], sin_t[a], du[a], acc_z, acc_x)
    for k in range(n_z):
        for i in range(n_x):
            out[k, i] = acc_z[k, i + PAD] + acc_x[i, k + PAD]


@njit(nogil=True, cache=True, parallel=True)
def back_kernel_2d_parallel(stk, cos_t, sin_t, du, out, n_part):
    """:func:`back_kernel_2d` with the angles dealt to ``n_part`` threads (large 2D problems).

    Each part scatters its share of the angles into its own accumulators; they are
    summed at the end (so the float rounding differs slightly from the serial kernel).
    """
    n_z, n_x = out.shape
    n_a = cos_t.shape[0]
    n_part = max(1, min(n_part, n_a))
    acc_z = np.zeros((n_part, n_z, n_x + 2 * PAD), dtype=np.float32)
    acc_x = np.zeros((n_part, n_x, n_z + 2 * PAD), dtype=np.float32)
    for t in prange(n_part):
        for a in range(t, n_a, n_part):
            _scatter_angle_2d(stk[a], n_z, n_x, cos_t[a], sin_t[a], du[a], acc_z[t], acc_x[t])
    for k in prange(n_z):
        for i in range(n_x):
            total = np.float32(0.0)
            for t in range(n_part):
                total += acc_z[t, k, i + PAD] + acc_x[t, i, k + PAD]
            out[k, i] = total


@njit(nogil=True, cache=True, parallel=True)
def shift_rows_kernel(stk_t, dv, out, step):
    """Linear-interpolation shift along the tilt axis and its exact adjoint.

    ``step = 1``: ``out[a, m, j] = in[a, m, j - dv[a]]``; ``step = -1``: the adjoint
    (``in[a, m, j + dv[a]]`` with the same two weights).
    """
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
                j0 = j - step * base
                if 0 <= j0 < n_y:
                    acc += w0 * stk_t[a, m, j0]
                j1 = j0 - step
                if 0 <= j1 < n_y:
                    acc += w1 * stk_t[a, m, j1]
                out[a, m, j] = acc


@njit(nogil=True, cache=True, parallel=True)
def flush_denormals_kernel(flat, floor):
    """Set entries with ``|v| < floor`` to zero, in place (flat C-contiguous float32)."""
    for n in prange(flat.shape[0]):
        if abs(flat[n]) < floor:
            flat[n] = 0.0


@njit(nogil=True, cache=True)
def flush_denormals_serial_kernel(flat, floor):
    """:func:`flush_denormals_kernel` on one thread (small arrays: no parallel launch)."""
    for n in range(flat.shape[0]):
        if abs(flat[n]) < floor:
            flat[n] = 0.0


@njit(nogil=True, cache=True, parallel=True)
def transpose_slabs_inplace_kernel(flat, n_z, n_a, n_b):
    """Turn every slab ``(n_a, n_b)`` of a C-contiguous ``(n_z, n_a, n_b)`` buffer into its
    transpose ``(n_b, n_a)``, in place (one slab-sized scratch per slab, not a volume)."""
    size = n_a * n_b
    for k in prange(n_z):
        slab = flat[k * size:(k + 1) * size]
        tmp = slab.copy()
        for i in range(n_a):
            for j in range(n_b):
                slab[j * n_a + i] = tmp[i * n_b + j]
