"""EST and Fourier gridding over y-slabs.

Every ``y`` slice of EST and gridding is its own 2D problem (core/est works on
``(y, z, x)`` with batched FFTs), except one step: the second round's tight support is
the first-round volume smoothed in 3D, thresholded at a fraction of its global maximum
and dilated. So, when there is a second round:

1. pass 1 runs round 1 on every slab widened by ``halo`` rows on each side
   (:func:`~napari_atomtomo.core.est._common.support_halo`: the Gaussian's radius plus
   the dilation), smooths it and keeps the maximum over the slab's own rows; the
   maximum over slabs is the global ``top``;
2. pass 2 runs both rounds on every widened slab with ``support_top=top`` and keeps the
   slab's own rows, whose smoothing and dilation then saw every neighbour they see in
   memory.

Round 1 is therefore computed twice (pass 1 costs ``n_iter`` iterations). Without a
second round (``n_iter_tight=0``) there is one pass and no halo. The reported error per
iteration is the largest over slabs (each slab's error is relative to its own data).
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial

import numpy as np
from scipy import ndimage

from ..core.est import (
    EstParams,
    GriddingParams,
    reconstruct_est,
    reconstruct_fourier_gridding,
)
from ..core.est._common import support_halo
from ._engine import Whole, _rows, open_scheduler, run_slabs, slab_bounds
from .recon import ChunkedResult, VolumeSink, _angles, _check_source

__all__ = ["reconstruct_est_chunked", "reconstruct_gridding_chunked"]


def _solve(method, data, angles, params, top):
    if method == "est":
        return reconstruct_est(data, angles, params, support_top=top)
    return reconstruct_fourier_gridding(data, angles, params, support_top=top)


def _top_slab(y0, y1, stack, *, method, angles, params, n_y, halo):
    """Pass 1: the maximum of the smoothed round-1 volume over rows ``[y0, y1)``."""
    lo, hi = max(y0 - halo, 0), min(y1 + halo, n_y)
    rows = _rows(stack, lo, hi)
    if not np.any(rows):
        return 0.0
    res = _solve(method, rows, angles, replace(params, n_iter_tight=0,
                                               yield_every=params.n_iter), None)
    vol = res.volume.transpose(1, 0, 2)  # (y, z, x) as core/est smooths it
    sigma = params.tight_support_sigma
    smooth = ndimage.gaussian_filter(vol, sigma) if sigma > 0 else vol
    return float(smooth[y0 - lo:y0 - lo + (y1 - y0)].max())


def _est_slab(y0, y1, stack, *, method, angles, params, n_y, halo, top, n):
    lo, hi = max(y0 - halo, 0), min(y1 + halo, n_y)
    rows = _rows(stack, lo, hi)
    if not np.any(rows):
        return ({"volume": np.zeros((n, y1 - y0, n), np.float32)},
                np.zeros(params.n_iter + params.n_iter_tight), 0.0)
    t0 = time.perf_counter()
    res = _solve(method, rows, angles, replace(params, yield_every=10**9), top)
    block = np.ascontiguousarray(res.volume[:, y0 - lo:y0 - lo + (y1 - y0), :])
    return {"volume": block}, np.asarray(res.errors), time.perf_counter() - t0


def _chunked(method, stack, angles_deg, params, *, chunks, scheduler, workers, out, progress):
    shape_s = _check_source(stack)
    angles = _angles(angles_deg, shape_s[0])
    n_y, n = shape_s[1], shape_s[2]
    two_rounds = params.n_iter_tight > 0
    halo = support_halo(params.tight_support_dilation, params.tight_support_sigma) \
        if two_rounds else 0
    bounds = slab_bounds(n_y, chunks)
    sched = open_scheduler(scheduler, workers)
    # the tasks read widened slabs themselves, so they get the whole (lazy or numpy) series
    src = Whole(stack)
    total = len(bounds) * (2 if two_rounds else 1)
    done = [0]

    def tick(*_):
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    t0 = time.perf_counter()
    try:
        top = None
        if two_rounds:
            tops = []
            task = partial(_top_slab, method=method, angles=angles, params=params,
                           n_y=n_y, halo=halo)
            run_slabs(task, [src], bounds, lambda y0, y1, r: (tops.append(r), tick()),
                      scheduler=sched)
            top = max(tops)
        sink = VolumeSink(["volume"], (n, n_y, n), out)
        errs = []
        secs = [0.0]

        def collect(y0, y1, result):
            blocks, e, seconds = result
            sink.put(y0, y1, blocks)
            errs.append(e)
            secs[0] += seconds
            tick()

        task = partial(_est_slab, method=method, angles=angles, params=params, n_y=n_y,
                       halo=halo, top=top, n=n)
        run_slabs(task, [src], bounds, collect, scheduler=sched)
    finally:
        sched.close()
    seconds = time.perf_counter() - t0
    n_it = params.n_iter + params.n_iter_tight
    return ChunkedResult(sink.arrays, np.max(errs, axis=0), int(min(chunks, n_y)), len(bounds),
                         sched.describe(), seconds, secs[0] / max(n_it, 1),
                         {"halo_rows": halo, "support_top": top,
                          "error": "largest relative error over slabs"})


def reconstruct_est_chunked(stack, angles_deg, params: EstParams = EstParams(), *,
                            chunks: int = 64, scheduler=None, workers: int | None = None,
                            out=None, progress=None) -> ChunkedResult:
    """:func:`~napari_atomtomo.core.est.reconstruct_est` in y-slabs (see the module notes)."""
    if not isinstance(params, EstParams):
        raise ValueError(f"params must be an EstParams, got {type(params).__name__}")
    return _chunked("est", stack, angles_deg, params, chunks=chunks, scheduler=scheduler,
                    workers=workers, out=out, progress=progress)


def reconstruct_gridding_chunked(stack, angles_deg, params: GriddingParams = GriddingParams(),
                                 *, chunks: int = 64, scheduler=None,
                                 workers: int | None = None, out=None,
                                 progress=None) -> ChunkedResult:
    """:func:`~napari_atomtomo.core.est.reconstruct_fourier_gridding` in y-slabs."""
    if not isinstance(params, GriddingParams):
        raise ValueError(f"params must be a GriddingParams, got {type(params).__name__}")
    return _chunked("gridding", stack, angles_deg, params, chunks=chunks,
                    scheduler=scheduler, workers=workers, out=out, progress=progress)
