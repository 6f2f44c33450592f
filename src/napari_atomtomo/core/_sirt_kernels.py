"""Fused numba kernels of one SIRT step (private; used by :mod:`.backends`).

One SIRT iteration ``x ← max(0, x + λ C Aᵀ R (b − A x))`` in two parallel passes instead
of four, with no projection-sized or volume-sized temporaries:

- :func:`back_update_kernel`, parallel over z slabs: slab ``k`` of ``Aᵀ e`` is gathered
  into a slab-sized scratch that stays in cache, and ``x[k]`` is updated from it at once
  (``x += λ C · slab``, clipped at 0, denormals flushed). The volume-sized ``Aᵀ e``
  buffer of the unfused path is gone.
- :func:`forward_residual_kernel`, parallel over angles: projection ``a`` of ``x`` is
  computed into ``e[a]`` and turned in place, while it is in cache, into the weighted
  residual ``e[a] = R (b[a] − A_a x)``; ``Σ (b − A x)²`` is accumulated per angle in
  float64. The stack-sized ``A x`` buffer is gone.

Both share their projection code with :mod:`._projector_kernels` (``forward_angle``,
``back_slab``), so they compute the same numbers as the unfused operator pair. The weights
``R`` (inverse row sums) and ``C`` (inverse column sums) come in two forms: whole arrays
in the internal layout (``(n_a, n_u, n_y)`` / ``(n_z, n_x, n_y)``, with a support mask),
or, without a support, the same for every ``y`` (a single tilt axis makes ``A·1`` and
``Aᵀ·1`` independent of ``y``): then they are ``(n_a, n_u, 1)`` / ``(n_z, n_x, 1)``,
``n_y`` times smaller, and stay in cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._projector_kernels import CONTRACT, back_slab, forward_angle
from .config import DENORMAL_FLOOR

#: Values with a smaller magnitude are flushed to zero (the project-wide denormal floor).
FLOOR = DENORMAL_FLOOR


@njit(nogil=True, cache=True, fastmath=CONTRACT)
def _update_row(row, acc, cw, lam, nonnegative, full):
    """``row += λ · cw · acc``, clipped at 0 if ``nonnegative``, denormals flushed.

    ``cw`` holds one weight per ``y`` (``full``) or one for the whole row; the two loops
    are written out so that each stays a branch-free SIMD loop.
    """
    if full:
        for j in range(row.shape[0]):
            v = row[j] + lam * cw[j] * acc[j]
            v = np.float32(0.0) if nonnegative and v < 0.0 else v
            row[j] = v if abs(v) >= FLOOR else np.float32(0.0)
    else:
        g = lam * cw[0]
        for j in range(row.shape[0]):
            v = row[j] + g * acc[j]
            v = np.float32(0.0) if nonnegative and v < 0.0 else v
            row[j] = v if abs(v) >= FLOOR else np.float32(0.0)


@njit(nogil=True, cache=True, fastmath=CONTRACT)
def _residual_row(data, proj, rw, out, full, lanes):
    """``out = rw · (data − proj)`` (``out`` may be ``proj``); ``lanes += (data − proj)²``."""
    if full:
        for j in range(out.shape[0]):
            d = data[j] - proj[j]
            lanes[j] += np.float64(d) * np.float64(d)
            v = d * rw[j]
            out[j] = v if abs(v) >= FLOOR else np.float32(0.0)
    else:
        r = rw[0]
        for j in range(out.shape[0]):
            d = data[j] - proj[j]
            lanes[j] += np.float64(d) * np.float64(d)
            v = d * r
            out[j] = v if abs(v) >= FLOOR else np.float32(0.0)


@njit(nogil=True, cache=True, parallel=True, fastmath=CONTRACT)
def back_update_kernel(stk_t, cos_t, sin_t, du, inv_cols, relaxation, nonnegative, x):
    """``x ← x + λ · C · Aᵀ stk_t`` slab by slab, clipped at 0 if ``nonnegative``.

    ``inv_cols`` is ``(n_z, n_x, n_y)`` or ``(n_z, n_x, 1)`` (the same for every ``y``).
    """
    n_z, n_x, n_y = x.shape
    full = inv_cols.shape[2] == n_y and n_y > 1
    lam = np.float32(relaxation)
    for k in prange(n_z):
        slab = np.empty((n_x, n_y), dtype=np.float32)
        back_slab(stk_t, cos_t, sin_t, du, k, n_x, n_z, slab)
        for i in range(n_x):
            _update_row(x[k, i], slab[i], inv_cols[k, i], lam, nonnegative, full)


@njit(nogil=True, cache=True, parallel=True, fastmath=CONTRACT)
def forward_residual_kernel(vol_t, cos_t, sin_t, du, b, inv_rows, e, ss):
    """``e = R (b − A vol_t)`` angle by angle; ``ss[a] = Σ (b[a] − A_a vol_t)²`` (float64).

    ``inv_rows`` is ``(n_a, n_u, n_y)`` or ``(n_a, n_u, 1)`` (the same for every ``y``).
    """
    n_a, n_u, n_y = e.shape
    full = inv_rows.shape[2] == n_y and n_y > 1
    for a in prange(n_a):
        proj = e[a]
        forward_angle(vol_t, cos_t[a], sin_t[a], du[a], n_u, proj)
        lanes = np.zeros(n_y, dtype=np.float64)  # per-y sums: the j loop stays SIMD
        for m in range(n_u):
            _residual_row(b[a, m], proj[m], inv_rows[a, m], proj[m], full, lanes)
        ss[a] = lanes.sum()


@njit(nogil=True, cache=True, parallel=True)
def residual_flat_kernel(b, p, inv_rows, e):
    """``e = R (b − p)`` on flat arrays of one size, for a projection ``p`` already made
    (the 2D and ``y``-shifted paths, whose weights are always full); returns ``Σ (b − p)²``.
    ``p`` may be ``e`` itself.
    """
    total = 0.0
    for i in prange(b.size):
        d = b[i] - p[i]
        total += np.float64(d) * np.float64(d)
        v = d * inv_rows[i]
        e[i] = v if abs(v) >= FLOOR else np.float32(0.0)
    return total


@njit(nogil=True, cache=True, parallel=True)
def update_flat_kernel(x, bp, inv_cols, relaxation, nonnegative):
    """``x ← x + λ · C · bp`` on flat arrays of one size (2D and ``y``-shifted paths)."""
    lam = np.float32(relaxation)
    for i in prange(x.size):
        v = x[i] + lam * inv_cols[i] * bp[i]
        if nonnegative and v < 0.0:
            v = np.float32(0.0)
        x[i] = v if abs(v) >= FLOOR else np.float32(0.0)
