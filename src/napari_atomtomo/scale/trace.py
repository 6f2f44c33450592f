"""Atom tracing of a large volume in overlapping y-chunks (``map_overlap`` style).

:func:`~napari_atomtomo.core.trace.trace_atoms` has a local part and a global part. The
local part (local maxima, sub-voxel fits) looks at 3×3×3 neighbourhoods, so a chunk of
rows ``[y0, y1)`` read with :data:`HALO` extra rows on each side finds exactly the peaks
whose voxel lies in its own rows, with the same fits; each peak is kept only by the chunk
that owns its row, so peaks near chunk borders are found once. The global part (noise
floor, minimum distance, atom/non-atom classification, count caps and the element
split) then runs once on the merged candidates
(:func:`~napari_atomtomo.core.trace._trace.select_atoms`), in the in-memory order.

The automatic noise floor is computed on the same strided voxel sample that
:func:`~napari_atomtomo.core.trace.estimate_noise_floor` takes in memory, read point by
point from a lazy volume. The result equals the in-memory trace.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..core.trace import TraceParams, TraceResult
from ..core.trace._kernels import local_maxima_mask
from ..core.trace._peaks import floor_for_candidates, peak_candidates
from ..core.trace._trace import NOISE_SAMPLE_VOXELS, resolve_auto, select_atoms
from ._engine import Whole, _rows, open_scheduler, run_slabs, slab_bounds

__all__ = ["trace_atoms_chunked", "HALO"]

#: Rows of overlap on each side of a chunk: the 3×3×3 neighbourhood needs one.
HALO = 1


def _sample(volume) -> np.ndarray:
    """The voxels ``estimate_noise_floor`` would use: every ``step``-th of the flat volume."""
    size = int(np.prod(volume.shape))
    if isinstance(volume, np.ndarray):
        return volume.reshape(-1)
    step = int(np.ceil(size / NOISE_SAMPLE_VOXELS)) if size > NOISE_SAMPLE_VOXELS else 1
    idx = np.unravel_index(np.arange(0, size, step), volume.shape)
    return np.asarray(volume.vindex[idx].compute(), dtype=np.float32)


def _chunk(y0, y1, volume, *, n_y, pre_floor, connectivity, refine):
    lo, hi = max(y0 - HALO, 0), min(y1 + HALO, n_y)
    vol = _rows(volume, lo, hi)
    if not np.all(np.isfinite(vol)):
        raise ValueError("volume contains NaN or infinite values")
    c = peak_candidates(vol, pre_floor, connectivity, refine)
    own = (c["peaks"][:, 1] + lo >= y0) & (c["peaks"][:, 1] + lo < y1)
    c = {k: v[own] for k, v in c.items()}
    c["peaks"] = c["peaks"] + np.array([0, lo, 0])
    c["pos_zyx"] = c["pos_zyx"] + np.array([0.0, lo, 0.0])
    # all local maxima of the own rows (the in-memory count excludes the volume's faces)
    mask = np.empty(vol.shape, dtype=np.uint8)
    local_maxima_mask(vol, np.float32(-np.inf), connectivity == 6, mask)
    n_all = int(np.count_nonzero(mask[:, y0 - lo:y1 - lo, :]))
    return c, n_all


def trace_atoms_chunked(volume, voxel_size: float, params: TraceParams | None = None, *,
                        n_expected: int | None = None, chunks: int = 64, scheduler=None,
                        workers: int | None = None, progress=None) -> TraceResult:
    """:func:`~napari_atomtomo.core.trace.trace_atoms` on y-chunks of a numpy or dask
    volume ``(z, y, x)``; same arguments plus the chunking ones of :mod:`.recon`.
    ``auto["chunked"]`` records the chunking.
    """
    params = TraceParams() if params is None else params
    if not isinstance(params, TraceParams):
        raise ValueError(f"params must be a TraceParams, got {type(params).__name__}")
    if getattr(volume, "ndim", None) != 3:
        raise ValueError(f"volume must be 3D (z, y, x), got shape {np.shape(volume)}")
    if not (np.isfinite(voxel_size) and voxel_size > 0):
        raise ValueError(f"voxel_size must be a positive number of Å, got {voxel_size!r}")
    if min(volume.shape) < 3:
        raise ValueError(f"volume of shape {tuple(volume.shape)} is too small to trace "
                         "(at least 3 voxels per axis)")
    voxel_size = float(voxel_size)
    min_dist, floor, auto = resolve_auto(params, voxel_size, n_expected,
                                         lambda: _sample(volume))
    n_y = int(volume.shape[1])
    bounds = slab_bounds(n_y, chunks)
    sched = open_scheduler(scheduler, workers)
    parts = []
    task = partial(_chunk, n_y=n_y, pre_floor=floor_for_candidates(floor),
                   connectivity=params.connectivity, refine=params.refine)
    try:
        run_slabs(task, [Whole(volume)], bounds, lambda y0, y1, r: parts.append(r),
                  scheduler=sched, progress=progress)
    finally:
        sched.close()
    keys = parts[0][0].keys()
    cands = {k: np.concatenate([p[0][k] for p in parts]) for k in keys}
    order = np.lexsort(cands["peaks"].T[::-1])  # (z, y, x) order, as np.argwhere gives
    cands = {k: v[order] for k, v in cands.items()}
    n_all = sum(p[1] for p in parts)
    auto["chunked"] = {"chunk_rows": int(min(chunks, n_y)), "n_chunks": len(bounds),
                       "halo_rows": HALO, "scheduler": sched.describe()}
    return select_atoms(cands, floor, min_dist, params, n_all, voxel_size, auto, n_expected)
