"""Fourier-iterative reconstruction from arbitrary tilt angles (GENFIRE-like gridding).

Real tilt series are rarely equally sloped. Here each projection's 1D Fourier transform
(sampled along its line at the Cartesian spacing ``1/P``) is gridded onto an oversampled
``P × P`` Cartesian Fourier grid per ``y`` slice (``P = oversampling·n``): each sample
goes to its nearest grid point, and a grid point that receives samples within
``interpolation_radius`` (grid units) holds their distance-weighted mean. The iteration
then alternates, as in EST, between real space (support, positivity) and Fourier space,
where gridded points are set to the measured values and the others kept. Idea after
GENFIRE (Pryor et al., Sci. Rep. 7, 10409 (2017)); this is our own code.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft

from .._generators import map_states, run_to_end
from .._refs import PAPER_000, cites
from ..params import register_params
from ._common import (
    FourierState,
    SetupCounter,
    TwoRoundParams,
    _drive,
    check_inputs,
    check_up_to,
    loose_support,
    to_public,
)
from .frft import fft_workers, frft

__all__ = [
    "GriddingParams",
    "GriddingState",
    "GriddingResult",
    "grid_projections",
    "iter_fourier_gridding",
    "reconstruct_fourier_gridding",
]


@register_params("gridding")
@dataclass(frozen=True)
class GriddingParams(TwoRoundParams):
    """Parameters of :func:`reconstruct_fourier_gridding` (see :class:`EstParams` for the
    shared support fields). ``oversampling`` is the real-space padding factor of the
    Fourier grid; ``interpolation_radius`` the largest sample-to-grid distance (grid units).
    """

    interpolation_radius: float = 0.5

    def __post_init__(self):
        super().__post_init__()
        check_up_to("interpolation_radius", self.interpolation_radius, 2.0, "grid units")


@dataclass(frozen=True)
class GriddingState(FourierState):
    """As :class:`EstState`: error = relative difference on the gridded Fourier points."""


@dataclass(frozen=True)
class GriddingResult:
    """Volume ``(z, y, x)``, error per iteration, support, and the fraction of the Fourier
    grid that holds measured values.
    """

    volume: np.ndarray
    errors: np.ndarray
    support: np.ndarray
    coverage: float


#: Slices per chunk of the gridding set-up (bounds the memory of the Fourier lines; with
#: ``setup_steps`` a chunk is also how far the set-up runs after a Cancel).
GRIDDING_CHUNK = 8


def grid_projections(stack: np.ndarray, angles_deg, oversampling: int = 2,
                     interpolation_radius: float = 0.5, workers=None):
    """Grid measured Fourier lines onto the ``rfft2`` layout of a ``P × P`` slice grid.

    Returns ``(values (y, P, P//2+1) complex64, mask (P, P//2+1) bool)`` where ``values``
    equal the DFT of the zero-padded slice (slice pixel ``(0, 0)`` at grid index 0), so an
    iteration compares them with ``rfft2(x, s=(P, P))`` directly.
    """
    return run_to_end(_iter_grid_projections(stack, angles_deg, oversampling,
                                             interpolation_radius, workers, GRIDDING_CHUNK))


def _iter_grid_projections(stack, angles_deg, oversampling, interpolation_radius, workers,
                           chunk):
    """:func:`grid_projections` a chunk of ``y`` slices at a time, yielding the number of
    slices done after each; returns ``(values, mask)``. Every slice is gridded alone (the
    sample-to-grid map depends on the angles only), so the chunking changes nothing.
    """
    n_a, n_v, n = stack.shape
    p = int(oversampling) * n
    p += p % 2
    theta = np.radians(np.asarray(angles_deg, dtype=np.float64))
    j_max = int(np.ceil(p / np.sqrt(2.0)))  # the grid corner is at radius P/√2
    m = 2 * j_max + 1
    centre = (n - 1) / 2.0
    j = np.arange(m) - j_max
    qx = j[None, :] * np.cos(theta)[:, None]
    qz = j[None, :] * np.sin(theta)[:, None]
    gx, gz = np.rint(qx).astype(np.int64), np.rint(qz).astype(np.int64)
    dist = np.hypot(qx - gx, qz - gz)
    keep = (dist <= interpolation_radius) & (gx >= 0) & (gx <= p // 2) & (np.abs(gz) < p // 2)
    weight = 1.0 / (dist + 0.05)
    a_idx, j_idx = np.nonzero(keep)
    flat = (gz[keep] % p) * (p // 2 + 1) + gx[keep]
    n_cells = p * (p // 2 + 1)
    wsum = np.bincount(flat, weights=weight[keep], minlength=n_cells)
    mask = wsum > 0
    # Move the origin from the slice centre to pixel (0, 0): F_0(q) = F_c(q)·exp(−2πi q·c/P).
    qz_all = np.fft.fftfreq(p, 1.0 / p)[:, None]
    qx_all = np.arange(p // 2 + 1)[None, :]
    phase = np.exp(-2j * np.pi * (qx_all + qz_all) * centre / p).ravel()
    shape = (p, p // 2 + 1)
    out = np.empty((n_v,) + shape, dtype=np.complex64)
    for start in range(0, n_v, chunk):
        stop = min(n_v, start + chunk)
        # Samples at radius j/P along each line: F_c(ω) with ω = j/P (origin at the slice
        # centre).
        lines = frft(stack[:, start:stop].astype(np.float64), 1.0 / p, m, in_offset=-centre,
                     out_offset=-j_max, workers=workers)  # (angle, y, m)
        wv = lines[a_idx, :, j_idx] * weight[keep][:, None]  # (samples, y)
        vals = np.zeros((stop - start, n_cells), dtype=np.complex128)
        for v in range(stop - start):
            vals[v] = np.bincount(flat, weights=wv[:, v].real, minlength=n_cells) + \
                1j * np.bincount(flat, weights=wv[:, v].imag, minlength=n_cells)
        vals[:, mask] /= wsum[mask]
        vals *= phase
        out[start:stop] = vals.reshape((stop - start,) + shape)
        yield stop
    return out, mask.reshape(shape)


@cites(PAPER_000)
def iter_fourier_gridding(stack, angles_deg, params: GriddingParams = GriddingParams(), *,
                          voxel_size: float = 1.0, workers: int | None = None,
                          support_top: float | None = None, setup_steps: bool = False
                          ) -> Generator[GriddingState, None, GriddingResult]:
    """Fourier-iterative reconstruction from any tilt angles; yields every iteration.

    The iteration of :func:`iter_est` for angles that are not equally sloped: each
    projection's Fourier line is gridded onto the oversampled Cartesian grid by
    interpolation instead of filling a pseudopolar line; the constraints are those of
    EST (paper 000 [1]_). Checks input when called.

    Parameters
    ----------
    stack, angles_deg, voxel_size, workers, support_top
        As for :func:`~napari_atomtomo.core.est.iter_est`.
    params : GriddingParams
        Iterations of the loose and tight support phases, oversampling, support and
        positivity constraints, interpolation radius, yield interval.
    setup_steps : bool
        Also yield a :class:`~napari_atomtomo.core.est.EstSetupStep` (stage "gridding")
        after each chunk of :data:`GRIDDING_CHUNK` slices of the set-up, so a consumer can
        cancel the set-up between chunks (the GUI's Cancel); off by default.

    Yields
    ------
    GriddingState
        As :func:`~napari_atomtomo.core.est.iter_est` yields (error on the gridded points),
        after the set-up steps when ``setup_steps`` is true.

    Returns
    -------
    GriddingResult
        The volume, errors, support and the grid's measured fraction (``coverage``), as
        ``StopIteration.value``.
    """
    data, angles = check_inputs(stack, angles_deg, params, GriddingParams, voxel_size)
    loose = loose_support(data.shape[2], params.loose_support_margin, params.support)
    return _iter_gridding(data, angles, params, loose, workers, support_top, setup_steps)


def _iter_gridding(data, angles, params, loose, workers, support_top=None, setup_steps=False):
    workers = fft_workers() if workers is None else workers
    n = data.shape[2]
    chunks = _iter_grid_projections(data, angles, params.oversampling,
                                    params.interpolation_radius, workers, GRIDDING_CHUNK)
    if setup_steps:
        done = SetupCounter(-(-data.shape[1] // GRIDDING_CHUNK)).done
        values, mask = yield from map_states(chunks, lambda _: done("gridding"))
    else:
        values, mask = run_to_end(chunks)
    p = values.shape[1]
    measured = values[:, mask]
    weights = np.ones(mask.shape, dtype=np.float32)
    weights[:, 1:(p // 2)] = 2.0  # rfft half-plane: interior columns stand for two points
    wm = weights[mask]
    norm = float(np.sum(wm * np.abs(measured) ** 2, dtype=np.float64))
    x = np.zeros((data.shape[1], n, n), dtype=np.float32)

    def step(x):
        spec = sfft.rfft2(x, s=(p, p), workers=workers)
        diff = measured - spec[:, mask]
        err = float(np.sqrt(np.sum(wm * np.abs(diff) ** 2, dtype=np.float64) / norm))
        spec[:, mask] = measured
        x[...] = sfft.irfft2(spec, s=(p, p), workers=workers, overwrite_x=True)[:, :n, :n]
        return err

    errors, support = yield from _drive(x, step, loose, params, GriddingState, support_top)
    return GriddingResult(volume=to_public(x), errors=errors, support=support,
                          coverage=float(mask.mean()))


@cites(PAPER_000)
def reconstruct_fourier_gridding(stack, angles_deg, params: GriddingParams = GriddingParams(),
                                 *, voxel_size: float = 1.0,
                                 callback: Callable[[GriddingState], None] | None = None,
                                 workers: int | None = None,
                                 support_top: float | None = None) -> GriddingResult:
    """Run :func:`iter_fourier_gridding` to the end and return its result.

    Parameters
    ----------
    stack, angles_deg, params, voxel_size, workers, support_top
        As for :func:`iter_fourier_gridding`.
    callback : callable, optional
        ``callback(state)`` with each :class:`GriddingState`.

    Returns
    -------
    GriddingResult
        The volume ``(z, y, x)``, the error of every iteration and the support.
    """
    return run_to_end(iter_fourier_gridding(stack, angles_deg, params, voxel_size=voxel_size,
                                            workers=workers, support_top=support_top),
                      callback)
