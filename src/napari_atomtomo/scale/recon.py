"""SIRT, EDS and HEBT over y-slabs: the in-memory reconstructions, mapped slab by slab.

Under a single tilt axis along ``y`` (CONVENTIONS.md) voxel row ``j`` of the volume is
seen only by row ``j`` of every image, and SIRT's weights ``R = 1/(A·1)`` and
``C = 1/(Aᵀ·1)`` are per row and per voxel, so SIRT on rows ``[y0, y1)`` of the series
gives exactly rows ``[y0, y1)`` of the whole volume. What is global is computed once and
passed in: HEBT's response ratios (fitted on the whole series), and the relative
residual, summed over slabs as ``sqrt(Σ_s ||A x − b||²_s / Σ_s ||b||²_s)``. A slab whose
data are all zero reconstructs to zeros (as its rows do in memory). Per-image ``dy``
shifts move rows between slabs and are refused here (``dx`` shifts are fine).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from ..core.hebt import HebtParams, check_ratios, reconstruct_hebt
from ..core.sirt import SirtParams, check_element_stacks, reconstruct_sirt
from ._engine import open_scheduler, run_slabs, slab_bounds

__all__ = ["ChunkedResult", "reconstruct_sirt_chunked", "reconstruct_eds_chunked",
           "reconstruct_hebt_chunked", "VolumeSink"]


@dataclass(eq=False)
class ChunkedResult:
    """Maps ``{name: (z, y, x) float32}`` (empty when written to ``out``), the relative
    residual per iteration over the whole volume, and how the work ran.
    """

    maps: dict
    residuals: np.ndarray
    slab: int
    n_slabs: int
    scheduler: str
    seconds: float
    seconds_per_iteration: float
    extra: dict = field(default_factory=dict)

    @property
    def volume(self):
        """The one map of a single-map run (``None`` for several)."""
        return next(iter(self.maps.values())) if len(self.maps) == 1 else None

    def report(self) -> dict:
        """How the run went, JSON-ready (for ``--json`` and the OME-Zarr attributes)."""
        return {"chunked": True, "slab_rows": self.slab, "n_slabs": self.n_slabs,
                "scheduler": self.scheduler, "seconds": self.seconds,
                "seconds_per_iteration": self.seconds_per_iteration, **self.extra}


class VolumeSink:
    """Collect slabs into numpy volumes, or pass them to writers (``write_slab(y0, block)``)."""

    def __init__(self, names, shape, out=None):
        self.names = list(names)
        if out is None:
            self.arrays = {n: np.zeros(shape, dtype=np.float32) for n in self.names}
            self.writers = None
        else:
            self.arrays = {}
            self.writers = out if isinstance(out, dict) else {self.names[0]: out}
            missing = [n for n in self.names if n not in self.writers]
            if missing:
                raise ValueError(f"no output writer for {missing}")

    def put(self, y0: int, y1: int, blocks: dict) -> None:
        """Store the ``{name: (z, y1 - y0, x)}`` blocks of one slab."""
        for name, block in blocks.items():
            if self.writers is None:
                self.arrays[name][:, y0:y1, :] = block
            else:
                self.writers[name].write_slab(y0, block)


def _check_dy(shifts, n_angles):
    if shifts is None:
        return None
    from ..core.geometry import validate_shifts

    s = validate_shifts(shifts, n_angles)
    if np.any(s[:, 0] != 0):
        raise ValueError("shifts with a non-zero dy move rows between y-slabs, so the chunked "
                         "path cannot use them; apply the dy shifts to the series first or run "
                         "in memory (chunks=0)")
    return s


def _angles(angles_deg, n):
    from ..core.geometry import validate_angles

    return validate_angles(angles_deg, n_images=n)


def _volume_shape(stack_shape, support):
    n_a, n_y, n_u = stack_shape
    if support is None:
        return (n_u, n_y, n_u)
    if np.ndim(support) != 3 or np.shape(support)[1] != n_y:
        raise ValueError(f"support has shape {np.shape(support)} but a (z, {n_y}, x) volume "
                         f"was expected for a tilt series of shape {tuple(stack_shape)}")
    if np.asarray(support).dtype != bool:
        raise ValueError(f"support must be a boolean mask, got dtype {np.asarray(support).dtype}")
    return tuple(np.shape(support))


def _timed(fn, n_iter):
    """Run ``fn(callback)``; returns its result, set-up seconds and seconds per iteration."""
    marks = [time.perf_counter()]
    out = fn(lambda *_: marks.append(time.perf_counter()))
    first = marks[1] - marks[0] if len(marks) > 1 else 0.0
    per_it = (marks[-1] - marks[1]) / (len(marks) - 2) if len(marks) > 2 else first
    return out, max(first - per_it, 0.0), per_it


# ----------------------------------------------------------------------- slab tasks
def _sirt_slab(y0, y1, *slabs, angles, params, shifts, names, shape_zx):
    """SIRT of every source (one per map) on rows ``[y0, y1)``; support last if given."""
    n_maps = len(names)
    support = slabs[n_maps] if len(slabs) > n_maps else None
    if support is not None:
        support = np.asarray(support, dtype=bool)
    params = replace(params, yield_every=params.n_iter)
    blocks, ss, b2, setup, per_it = {}, np.zeros(params.n_iter), 0.0, 0.0, 0.0
    for name, s in zip(names, slabs[:n_maps]):
        nb2 = float(np.sum(np.square(s, dtype=np.float64)))
        if nb2 == 0.0 or (support is not None and not support.any()):
            blocks[name] = np.zeros((shape_zx[0], y1 - y0, shape_zx[1]), dtype=np.float32)
            ss += nb2
            b2 += nb2
            continue
        res, t0, t1 = _timed(lambda cb, s=s: reconstruct_sirt(
            s, angles, params, support=support, shifts=shifts, callback=cb), params.n_iter)
        blocks[name] = res.volume
        ss += (res.residuals * np.sqrt(nb2)) ** 2
        b2 += nb2
        setup += t0
        per_it += t1
    return blocks, ss, b2, setup, per_it


def _hebt_slab(y0, y1, haadf, *eds, angles, params, ratios, shifts, names, shape_zx):
    n = len(names)
    support = np.asarray(eds[n], dtype=bool) if len(eds) > n else None
    stacks = dict(zip(names, eds[:n]))
    params = replace(params, yield_every=params.n_iter)
    a = float(params.alpha)
    b2 = (1 - a) ** 2 * sum(float(np.sum(np.square(ratios[e] * s.astype(np.float32),
                                                   dtype=np.float64)))
                            for e, s in stacks.items())
    b2 += a**2 * float(np.sum(np.square(haadf, dtype=np.float64)))
    if b2 == 0.0 or (support is not None and not support.any()):
        zero = {e: np.zeros((shape_zx[0], y1 - y0, shape_zx[1]), np.float32) for e in names}
        return zero, np.zeros(params.n_iter), 0.0, 0.0, 0.0
    res, t0, t1 = _timed(lambda cb: reconstruct_hebt(
        haadf, stacks, angles, params, ratios=ratios, support=support, shifts=shifts,
        callback=cb), params.n_iter)
    return res.maps, (res.residuals * np.sqrt(b2)) ** 2, b2, t0, t1


# ----------------------------------------------------------------------- driver
def _run(task, sources, names, stack_shape, shape, n_iter, *, chunks, scheduler, workers,
         out, progress, extra=None) -> ChunkedResult:
    sched = open_scheduler(scheduler, workers)
    bounds = slab_bounds(stack_shape[1], chunks)
    sink = VolumeSink(names, shape, out)
    acc = {"ss": np.zeros(n_iter), "b2": 0.0, "setup": 0.0, "per_it": 0.0}

    def collect(y0, y1, result):
        blocks, ss, b2, setup, per_it = result
        sink.put(y0, y1, blocks)
        acc["ss"] += ss
        acc["b2"] += b2
        acc["setup"] += setup
        acc["per_it"] += per_it

    t0 = time.perf_counter()
    try:
        run_slabs(task, sources, bounds, collect, scheduler=sched, progress=progress)
    finally:
        sched.close()
    seconds = time.perf_counter() - t0
    if acc["b2"] == 0.0:
        raise ValueError("tilt series is all zeros; there is nothing to reconstruct")
    residuals = np.sqrt(acc["ss"] / acc["b2"])
    ext = {"setup_seconds": acc["setup"], **(extra or {})}
    return ChunkedResult(sink.arrays, residuals, int(min(chunks, stack_shape[1])), len(bounds),
                         sched.describe(), seconds, acc["per_it"], ext)


def _check_source(stack, name="tilt series"):
    if getattr(stack, "ndim", None) != 3:
        raise ValueError(f"{name} must be 3D (angle, y, x), got shape {np.shape(stack)}")
    return tuple(int(s) for s in stack.shape)


def reconstruct_sirt_chunked(stack, angles_deg, params: SirtParams = SirtParams(), *,
                             support=None, shifts=None, chunks: int = 64, scheduler=None,
                             workers: int | None = None, out=None,
                             progress=None) -> ChunkedResult:
    """:func:`~napari_atomtomo.core.sirt.reconstruct_sirt` in y-slabs of ``chunks`` rows.

    ``stack`` may be a numpy or a lazy dask array ``(angle, y, x)``. ``scheduler``: None
    (threads, ``workers`` slabs at a time, default 1), a dask.distributed address or
    ``Client``. ``out``: None (the volume is returned in ``maps["volume"]``) or a writer
    with ``write_slab(y0, block)`` (e.g. :class:`~napari_atomtomo.io.omezarr.OmeZarrWriter`).
    ``progress(done, total)`` is called after each slab.
    """
    if not isinstance(params, SirtParams):
        raise ValueError(f"params must be a SirtParams, got {type(params).__name__}")
    shape_s = _check_source(stack)
    angles = _angles(angles_deg, shape_s[0])
    shifts = _check_dy(shifts, angles.size)
    shape = _volume_shape(shape_s, support)
    task = partial(_sirt_slab, angles=angles, params=params, shifts=shifts, names=["volume"],
                   shape_zx=(shape[0], shape[2]))
    sources = [stack] + ([] if support is None else [np.asarray(support)])
    return _run(task, sources, ["volume"], shape_s, shape, params.n_iter, chunks=chunks,
                scheduler=scheduler, workers=workers, out=out, progress=progress)


def reconstruct_eds_chunked(eds, angles_deg, params: SirtParams = SirtParams(), *,
                            support=None, shifts=None, chunks: int = 64, scheduler=None,
                            workers: int | None = None, out=None,
                            progress=None) -> ChunkedResult:
    """:func:`~napari_atomtomo.core.sirt.reconstruct_eds` in y-slabs (one SIRT per element;
    ``out`` a dict ``{element: writer}``). ``residuals`` are summed over the elements.
    """
    if not isinstance(eds, dict) or not eds:
        raise ValueError("eds must be a non-empty dict {element: tilt series}")
    shapes = {e: _check_source(s, f"eds[{e!r}]") for e, s in eds.items()}
    shape_s = next(iter(shapes.values()))
    for e, sh in shapes.items():
        if sh != shape_s:
            raise ValueError(f"eds[{e!r}] has shape {sh} but the first map has {shape_s}")
    angles = _angles(angles_deg, shape_s[0])
    shifts = _check_dy(shifts, angles.size)
    shape = _volume_shape(shape_s, support)
    names = list(eds)
    task = partial(_sirt_slab, angles=angles, params=params, shifts=shifts, names=names,
                   shape_zx=(shape[0], shape[2]))
    sources = list(eds.values()) + ([] if support is None else [np.asarray(support)])
    return _run(task, sources, names, shape_s, shape, params.n_iter, chunks=chunks,
                scheduler=scheduler, workers=workers, out=out, progress=progress)


def reconstruct_hebt_chunked(haadf, eds, angles_deg, params: HebtParams = HebtParams(), *,
                             ratios=None, support=None, shifts=None, chunks: int = 64,
                             scheduler=None, workers: int | None = None, out=None,
                             progress=None) -> ChunkedResult:
    """:func:`~napari_atomtomo.core.hebt.reconstruct_hebt` in y-slabs.

    The response ratios are global: fitted once on the whole series (as in memory) when
    not given, then passed to every slab; ``extra`` reports them (``ratios``, ``r2``).
    """
    if not isinstance(params, HebtParams):
        raise ValueError(f"params must be a HebtParams, got {type(params).__name__}")
    shape_s = _check_source(haadf, "haadf")
    if not isinstance(eds, dict) or not eds:
        raise ValueError("eds must be a non-empty dict {element: tilt series}")
    for e, s in eds.items():
        if tuple(s.shape) != shape_s:
            raise ValueError(f"eds[{e!r}] has shape {tuple(s.shape)} but the HAADF tilt "
                             f"series has shape {shape_s}")
    angles = _angles(angles_deg, shape_s[0])
    shifts = _check_dy(shifts, angles.size)
    shape = _volume_shape(shape_s, support)
    names = list(eds)
    r2 = note = None
    if ratios is None:  # global: one fit over every pixel, as reconstruct_hebt does
        from ..core.ratios import choose_ratios

        fit = choose_ratios(np.asarray(haadf, dtype=np.float32),
                            check_element_stacks({e: np.asarray(s) for e, s in eds.items()}))
        ratios, r2, note = dict(fit.ratios), fit.r2, fit.warning
        zero = [e for e, r in ratios.items() if r == 0.0]
        if zero:
            raise ValueError(f"the fitted response ratio of {zero} is 0 (its EDS signal does not "
                             "explain any HAADF signal); give ratios explicitly")
    else:
        ratios = check_ratios(ratios, names)
    task = partial(_hebt_slab, angles=angles, params=params, ratios=ratios, shifts=shifts,
                   names=names, shape_zx=(shape[0], shape[2]))
    sources = [haadf] + list(eds.values()) + ([] if support is None else [np.asarray(support)])
    return _run(task, sources, names, shape_s, shape, params.n_iter, chunks=chunks,
                scheduler=scheduler, workers=workers, out=out, progress=progress,
                extra={"ratios": ratios, "r2": r2, "ratio_note": note})
