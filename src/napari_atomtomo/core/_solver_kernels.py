"""Numba kernels of the SIRT and HEBT iteration loops that are not projections (private).

Kept apart from the code that drives them (:mod:`._iterative`, :mod:`.hebt`): numba's
on-disk cache of a kernel is keyed on the stamp of the file that defines it, so an edit
to the driving code would otherwise recompile these in the job's worker on the next run,
holding the GIL while the GUI waits.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .config import DENORMAL_FLOOR

__all__ = ["block_residual_kernel", "sum_of_squares"]


@njit(nogil=True, cache=True, parallel=True)
def sum_of_squares(a):
    """``Σ a²`` in float64 over a flat float32 array, in parallel."""
    total = 0.0
    for i in prange(a.size):
        total += np.float64(a[i]) * np.float64(a[i])
    return total


@njit(nogil=True, cache=True, parallel=True)
def block_residual_kernel(b_el, p_el, e_h, inv_rows, w_el, w_h, out):
    """``out = R · (w_el (b_el − p_el) + w_h e_h)``; returns ``Σ (b_el − p_el)²``.

    Internal stacks ``(n_a, n_u, n_y)``; ``inv_rows`` is that or ``(n_a, n_u, 1)`` (the same
    row sums for every ``y``, as the backend returns them without a support).
    """
    we = np.float32(w_el)
    wh = np.float32(w_h)
    n_a, n_u, n_y = b_el.shape
    full = inv_rows.shape[2] == n_y
    sums = np.zeros(n_a)
    for a in prange(n_a):
        total = 0.0
        for m in range(n_u):
            for j in range(n_y):
                d = b_el[a, m, j] - p_el[a, m, j]
                total += np.float64(d) * np.float64(d)
                v = (we * d + wh * e_h[a, m, j]) * inv_rows[a, m, j if full else 0]
                out[a, m, j] = v if abs(v) >= DENORMAL_FLOOR else np.float32(0.0)
        sums[a] = total
    return sums.sum()
