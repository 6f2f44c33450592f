"""The numba kernel of EST's iteration (private; used by :mod:`.reconstruct`).

Kept apart from the code that drives it: numba's on-disk cache of a kernel is keyed on
the stamp of the file that defines it, so every edit to :mod:`.reconstruct` used to
recompile this kernel on the next run, in the job's worker and holding the GIL (the GUI
thread stalled 250-310 ms in the first iterations). An edit here still does.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..config import DENORMAL_FLOOR

__all__ = ["update_in_box"]


@njit(nogil=True, cache=True, parallel=True)
def update_in_box(xb, gx, b, support, positivity):
    """One EST update on the support box, in place: ``x ← C(x + b − G x)``.

    ``C`` zeroes voxels outside ``support`` (any strides: the loose support is one mask
    broadcast over the slices) and, with ``positivity``, negative ones; magnitudes below
    1e-30 are flushed (float32 denormals slow the FFTs). Returns ``Σ x·Gx`` and ``Σ x·b``
    of the old ``x`` in float64 (the error metric), all in one pass over memory.
    """
    n_v, n_r, n_c = xb.shape
    xg = 0.0
    xbb = 0.0
    for j in prange(n_v):
        for r in range(n_r):
            for c in range(n_c):
                xv = xb[j, r, c]
                g = gx[j, r, c]
                bv = b[j, r, c]
                xg += np.float64(xv) * np.float64(g)
                xbb += np.float64(xv) * np.float64(bv)
                v = (xv + bv) - g
                if not support[j, r, c] or (positivity and v < 0.0) or abs(v) < DENORMAL_FLOOR:
                    v = np.float32(0.0)
                xb[j, r, c] = v
    return xg, xbb
