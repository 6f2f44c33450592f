"""Local peak finding of the tracing pipeline: local maxima, their sub-voxel fits and
the minimum-distance suppression (split from ``_trace.py``; used by the in-memory and the
chunked trace).
"""

from __future__ import annotations

import numpy as np

from ._kernels import greedy_suppress, local_maxima_mask
from ._refine import MAX_GAIN, refine_peaks


def find_local_maxima(volume, min_value: float, connectivity: int = 6) -> np.ndarray:
    """Integer ``(n, 3)`` ``(z, y, x)`` indices of interior local maxima above ``min_value``.

    ``connectivity`` 6 compares each voxel with its face neighbours, 26 with all its
    neighbours; voxels on the volume's faces are never peaks (no 3×3×3 neighbourhood).
    """
    if connectivity not in (6, 26):
        raise ValueError(f"connectivity must be 6 or 26 neighbours, got {connectivity!r}")
    vol = np.ascontiguousarray(volume, dtype=np.float32)
    mask = np.empty(vol.shape, dtype=np.uint8)
    local_maxima_mask(vol, np.float32(min_value), connectivity == 6, mask)
    return np.argwhere(mask)


def suppress_close_peaks(positions_A, intensities, min_distance_A: float) -> np.ndarray:
    """Greedy non-maximum suppression: indices of peaks kept, brightest first.

    Peaks are visited in descending intensity; each kept peak removes every dimmer peak
    closer than ``min_distance_A`` (Å, same units as ``positions_A``).
    """
    from scipy.spatial import cKDTree

    pos = np.asarray(positions_A, dtype=np.float64).reshape(-1, 3)
    inten = np.asarray(intensities, dtype=np.float64).reshape(-1)
    if pos.shape[0] != inten.size:
        raise ValueError(f"{pos.shape[0]} positions but {inten.size} intensities were given")
    if not (np.isfinite(min_distance_A) and min_distance_A > 0):
        raise ValueError(f"min_distance_A must be a positive number of Å, got {min_distance_A!r}")
    n = inten.size
    order = np.argsort(-inten, kind="stable")
    if n == 0:
        return order
    pairs = cKDTree(pos).query_pairs(float(min_distance_A), output_type="ndarray")
    both = np.concatenate([pairs, pairs[:, ::-1]]) if pairs.size else np.zeros((0, 2), np.intp)
    both = both[np.argsort(both[:, 0], kind="stable")]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, both[:, 0] + 1, 1)
    ptr = np.cumsum(ptr)
    keep = greedy_suppress(order.astype(np.int64), ptr, both[:, 1].astype(np.int64))
    return order[keep[order]]


def count_local_maxima(volume, connectivity: int = 6) -> int:
    """Number of interior local maxima of ``volume`` (no floor)."""
    vol = np.ascontiguousarray(volume, dtype=np.float32)
    mask = np.empty(vol.shape, dtype=np.uint8)
    local_maxima_mask(vol, np.float32(-np.inf), connectivity == 6, mask)
    return int(np.count_nonzero(mask))


def floor_for_candidates(floor: float) -> float:
    """The floor applies to the fitted peak height, which is up to MAX_GAIN times the peak
    voxel for an atom between voxels: candidates need only floor / MAX_GAIN.
    """
    return floor - (1 - 1 / MAX_GAIN) * abs(floor)


def peak_candidates(vol, pre_floor: float, connectivity: int, refine: str) -> dict:
    """Local maxima above ``pre_floor`` and their sub-voxel fits (all local: a 3×3×3
    neighbourhood, so a y-chunk with one row of overlap finds its own rows' peaks).
    """
    peaks = find_local_maxima(vol, pre_floor, connectivity)
    pos_zyx, inten, height, width, r2 = refine_peaks(vol, peaks, refine)
    raw = vol[peaks[:, 0], peaks[:, 1], peaks[:, 2]].astype(np.float64)
    return {"peaks": peaks, "pos_zyx": pos_zyx, "inten": inten, "height": height,
            "width": width, "r2": r2, "raw": raw}
