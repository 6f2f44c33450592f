"""Tunables and numerical floors shared by the core (stumpy's ``config.py``): one place
for each number that would otherwise be written in several modules.
"""

from __future__ import annotations

__all__ = ["DENORMAL_FLOOR", "SUM_FLOOR", "TINY", "AVOGADRO"]

#: Magnitudes below this are flushed to zero: on entry to the projectors and SIRT/HEBT
#: (float32 denormals make the kernels 10-20x slower), when MRC files are read, and
#: before tracing. It also guards divisions by a peak height in the sub-voxel fits.
DENORMAL_FLOOR = 1e-30

#: SIRT's inverse row/column sums are taken only where the sum exceeds this (rays and
#: voxels that meet nothing get weight 0).
SUM_FLOOR = 1e-6

#: Guard against division by zero in float64 statistics (variances, normalisations).
TINY = 1e-300

#: Avogadro constant (1/mol), CODATA 2018 exact.
AVOGADRO = 6.02214076e23
