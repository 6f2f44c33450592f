"""Equally sloped tomography (EST): iterate between real space and pseudopolar Fourier space.

The iteration of Miao et al. (Phys. Rev. B 72, 052103 (2005); Lee et al., J. Struct. Biol.
164, 221 (2008)), slice by slice about the tilt axis ``y``:

1. each projection becomes its pseudopolar line by a fractional DFT (``ŷ``, fixed);
2. real space: zero outside the support and negative values (``x ← C(x)``);
3. Fourier space: ``ẑ = P x`` with the measured lines replaced by ``ŷ``, the others
   kept; back to real space by the inverse pseudopolar transform;
4. the error metric is the relative difference on the measured lines; after ``n_iter``
   iterations a tighter support is taken from the result and ``n_iter_tight`` more run.

Since ``ẑ = P x + S(ŷ − P x)`` (``S`` keeps the measured lines) and ``P⁺ P = I``, step 3
is exactly ``x + P⁺ S (ŷ − P x)``: the unmeasured lines never need to be stored. We use the
density-compensated adjoint ``Pᴴ W`` for ``P⁺`` on the correction (``Pᴴ W P ≈ I``, see
:func:`ppfft_density_weights`), so an iteration is ``x ← C(x + b − G x)`` with
``b = A_mᴴ W ŷ`` and ``G = A_mᴴ W A_m`` (``A_m``: the measured lines of ``P``). ``G`` is a
convolution, applied exactly with one zero-padded real FFT pair per iteration and slice
batch, and the weighted error ``‖A_m x − ŷ‖²_W = xᵀG x − 2 xᵀb + ‖ŷ‖²_W`` comes for free.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numba
import numpy as np
import scipy.fft as sfft

from .._generators import map_states, run_to_end
from .._refs import PAPER_000, cites
from .._threads import ThreadPolicy
from ..params import register_params
from ._common import (
    FourierState,
    SetupCounter,
    SetupStep,
    TwoRoundParams,
    _drive,
    check_inputs,
    check_up_to,
    loose_support,
    to_public,
)
from ._kernels import update_in_box
from .frft import fft_workers, frft
from .ppfft import ppfft_adjoint, ppfft_density_weights, pseudopolar_frequencies
from .slopes import EqualSlopeAssignment, match_equally_sloped

__all__ = ["EstParams", "EstState", "EstResult", "iter_est", "reconstruct_est", "measured_lines"]


@register_params("est")
@dataclass(frozen=True)
class EstParams(TwoRoundParams):
    """Parameters of :func:`reconstruct_est` (shared by the CLI, the widget and metadata).

    Attributes
    ----------
    n_iter, n_iter_tight : int
        Iterations with the loose support, then with the tight support (paper: 200 + 200).
    oversampling : int
        Radial oversampling of the pseudopolar grid: ``oversampling·N + 1`` samples a line.
    support : {"box", "none"}
        Loose support: the reconstruction box less ``loose_support_margin`` pixels on each
        side in ``x`` and ``z``, or no support (positivity only).
    loose_support_margin : int
        Pixels removed from each edge of the box.
    tight_support_threshold : float
        Tight support: voxels where the Gaussian-smoothed round-1 volume exceeds this
        fraction of its maximum, dilated by ``tight_support_dilation`` pixels.
    tight_support_sigma : float
        Gaussian σ (pixels) of that smoothing.
    positivity : bool
        Set negative values to zero in real space.
    angle_tolerance_deg : float
        Largest accepted distance between a measured angle and its equally sloped line.
    yield_every : int
        A volume copy is yielded every ``yield_every`` iterations.
    """

    angle_tolerance_deg: float = 0.1

    def __post_init__(self):
        super().__post_init__()
        check_up_to("angle_tolerance_deg", self.angle_tolerance_deg, 1.0, "degrees")


#: Slices per chunk of the back projection in the set-up (bounds its memory; with
#: ``setup_steps`` a chunk is also how far the set-up runs after a Cancel).
BACK_PROJECTION_CHUNK = 8


#: A stage of :func:`iter_est`'s set-up done (``setup_steps=True``); the same class as
#: Fourier gridding's set-up steps, so a consumer tells set-up from iterations with one check.
EstSetupStep = SetupStep


@dataclass(frozen=True)
class EstState(FourierState):
    """Progress of :func:`iter_est` after one iteration.

    ``round`` is 1 (loose support) or 2 (tight support); ``iteration`` counts from 1 over
    both rounds; ``error`` is the relative (density-weighted) difference between the
    measured and calculated lines before this iteration's update; ``preview`` is a
    ``(z, y, x)`` copy every ``yield_every`` iterations, else ``None``.
    """


@dataclass(frozen=True)
class EstResult:
    """Final EST volume ``(z, y, x)`` float32, error per iteration, support and line map."""

    volume: np.ndarray
    errors: np.ndarray
    support: np.ndarray
    line_assignment: EqualSlopeAssignment


def measured_lines(stack: np.ndarray, assignment: EqualSlopeAssignment, oversampling: int = 2,
                   workers=None) -> np.ndarray:
    """Pseudopolar lines of the projections: ``(angle, y, M)`` complex128.

    Line ``a`` holds ``F(ω·(cos θ, sin θ))`` at the pseudopolar radii ``ω = k / (M d)``,
    ``d = cos θ`` (horizontal family) or ``sin θ`` (vertical), i.e. a fractional DFT of the
    projection with step ``sqrt(1 + s²)/M``; the origin is pixel ``n // 2`` of the slice.
    """
    n_a, _, n = stack.shape
    n_grid = assignment.n_grid
    kx, kz = pseudopolar_frequencies(n_grid, oversampling)
    m = kx.shape[-1]
    theta = np.radians(np.asarray(assignment.line_angle_deg))
    fam = np.asarray(assignment.family)
    d = np.where(fam == 0, np.cos(theta), np.sin(theta))
    centre = (n - 1) / 2.0
    lines = frft(stack.astype(np.float64), (1.0 / (m * d))[:, None], m, in_offset=-centre,
                 out_offset=-(m // 2), workers=workers)
    li = np.asarray(assignment.line) + n_grid // 2
    ksum = kx[fam, li] + kz[fam, li]  # (angle, M)
    lines *= np.exp(-2j * np.pi * ksum * (centre - n // 2))[:, None, :]
    return lines


def _line_weights(assignment: EqualSlopeAssignment, oversampling: int) -> np.ndarray:
    """Density weights of the measured lines ``(angle, M)``; a diagonal carries both halves."""
    w = ppfft_density_weights(assignment.n_grid, oversampling)
    fam = np.asarray(assignment.family)
    li = np.asarray(assignment.line) + assignment.n_grid // 2
    out = w[fam, li].copy()
    diagonal = np.abs(np.asarray(assignment.line)) == assignment.n_grid // 2
    out[diagonal] *= 2.0
    return out


def _scatter_lines(values: np.ndarray, assignment: EqualSlopeAssignment, shape) -> np.ndarray:
    """Place ``(angle, ..., M)`` line values into zero pseudopolar arrays ``(..., 2, N+1, M)``."""
    pp = np.zeros(shape, dtype=np.complex128)
    li = np.asarray(assignment.line) + assignment.n_grid // 2
    for a, (f, line) in enumerate(zip(assignment.family, li)):
        pp[..., f, line, :] = values[a]
    return pp


class FourierNormalOperator:
    """``G x = A_mᴴ W A_m x`` for a batch of ``n × n`` slices, as an exact FFT convolution.

    The kernel ``K(Δ) = Σ_measured w·exp(2πi ω·Δ)`` is real and even; a zero-padded period
    ``P ≥ 2n − 1`` makes the circular convolution exact on the ``n × n`` region.
    """

    def __init__(self, assignment: EqualSlopeAssignment, n: int, oversampling: int,
                 workers=None):
        self.n = n
        self.period = sfft.next_fast_len(2 * n, real=True)
        self.period += self.period % 2
        self.workers = fft_workers() if workers is None else workers
        w = _line_weights(assignment, oversampling)
        pp = _scatter_lines(w, assignment, (2, assignment.n_grid + 1, w.shape[-1]))
        kernel = ppfft_adjoint(pp, oversampling, n_image=self.period).real
        kernel = np.fft.ifftshift(kernel)  # Δ = 0 at index 0
        self.kernel_hat = sfft.rfft2(kernel).real.astype(np.float32)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``G x`` for ``x`` ``(..., n, n)`` (float32 in, float32 out).

        The zero padding is pruned: only the ``n`` non-zero rows go through the row
        transforms, and only the ``n`` wanted rows come back through them (half the row
        work of a padded ``rfft2``/``irfft2`` pair, same result to float rounding).
        """
        p, n, w = self.period, self.n, self.workers
        spec = sfft.rfft(x, n=p, axis=-1, workers=w)  # rows: (..., n, p//2 + 1)
        spec = sfft.fft(spec, n=p, axis=-2, workers=w, overwrite_x=True)  # (..., p, p//2 + 1)
        spec *= self.kernel_hat
        spec = sfft.ifft(spec, axis=-2, workers=w, overwrite_x=True)
        return sfft.irfft(spec[..., :n, :], n=p, axis=-1, workers=w)[..., :n]


def _iter_back_project_lines(lines, weights, assignment, n, oversampling, workers, chunk):
    """``b = A_mᴴ W ŷ`` for every slice: ``(y, n, n)`` float32 (chunks bound the memory),
    yielding the number of slices done after each chunk; returns ``b``.
    """
    n_a, n_v, m = lines.shape
    out = np.empty((n_v, n, n), dtype=np.float32)
    shape_pp = (2, assignment.n_grid + 1, m)
    for start in range(0, n_v, chunk):
        stop = min(n_v, start + chunk)
        vals = lines[:, start:stop] * weights[:, None, :]  # (angle, v, M)
        pp = _scatter_lines(vals, assignment, (stop - start,) + shape_pp)
        out[start:stop] = ppfft_adjoint(pp, oversampling, n_image=n, workers=workers).real
        yield stop
    return out


@cites(PAPER_000)
def iter_est(stack, angles_deg, params: EstParams = EstParams(), *, voxel_size: float = 1.0,
             workers: int | None = None, support_top: float | None = None,
             setup_steps: bool = False) -> Generator[EstState, None, EstResult]:
    """Run EST on an equally sloped tilt series ``(angle, y, x)``, yielding every iteration.

    Equally sloped tomography as used by paper 000 [1]_: the measured projections fill the
    lines of a pseudopolar grid (fractional FFT), and the iteration alternates between that
    grid and real space (pseudopolar FFT and its inverse), enforcing the support and
    positivity in real space and the measured lines in Fourier space. Input is checked
    when this is called (before any heavy work). The reconstruction is ``(z, y, x)`` with
    ``n_z = n_x = n_u`` (docs/conventions.md). A consumer that stops iterating cancels
    within one iteration.

    Parameters
    ----------
    stack : ndarray, shape (angle, y, x)
        Aligned tilt series; the tilt axis is ``y``.
    angles_deg : array_like, shape (angle,)
        Tilt angles in degrees.
    params : EstParams
        Iterations of the loose and tight support phases, oversampling, support and
        positivity constraints, yield interval.
    voxel_size : float
        Voxel size in Å; only checked, the volume keeps the stack's pixel.
    workers : int, optional
        FFT threads; by default every iteration uses 1 or all cores, whichever was faster
        when last timed (``core._threads.ThreadPolicy``).
    support_top : float, optional
        The maximum of the smoothed first-round volume when ``stack`` is a y-slab of a
        larger series (the chunked path, ``napari_atomtomo.scale``).
    setup_steps : bool
        Also yield an :class:`EstSetupStep` after each stage of the set-up (measured
        lines, each chunk of the back projection, the normal operator), so a consumer can
        cancel the set-up between stages (the GUI's Cancel); off by default.

    Yields
    ------
    EstState
        Round, iteration, the Fourier error, and a preview of the volume every
        ``params.yield_every`` iterations (after the :class:`EstSetupStep` states when
        ``setup_steps`` is true).

    Returns
    -------
    EstResult
        As ``StopIteration.value`` when the generator is exhausted.
    """
    data, angles = check_inputs(stack, angles_deg, params, EstParams, voxel_size)
    n_a, n_v, n = data.shape
    assignment = match_equally_sloped(angles, n, params.angle_tolerance_deg)
    loose = loose_support(n, params.loose_support_margin, params.support)
    return _iter_est(data, assignment, params, loose, workers, support_top, setup_steps)


def _iter_est(data, assignment, params, loose, workers, support_top=None, setup_steps=False):
    n_v, n = data.shape[1], data.shape[2]
    adaptive = workers is None
    workers = fft_workers() if workers is None else workers
    os_ = params.oversampling
    # Work on the bounding box of the loose support (x is zero outside it): a smaller
    # convolution period, same result. The box is centred, so its pixel size // 2 is the
    # slice's pixel n // 2, the Fourier origin.
    rows = np.flatnonzero(loose.any(axis=1))
    lo, hi = int(rows[0]), int(rows[-1]) + 1
    size = hi - lo
    done = SetupCounter(2 + -(-n_v // BACK_PROJECTION_CHUNK)).done
    lines = measured_lines(data, assignment, os_, workers)
    if setup_steps:
        yield done("measured lines")
    weights = _line_weights(assignment, os_)
    yy = float(np.sum(weights[:, None, :] * np.abs(lines) ** 2))
    chunks = _iter_back_project_lines(lines, weights, assignment, size, os_, workers,
                                      BACK_PROJECTION_CHUNK)
    b = (yield from map_states(chunks, lambda _: done("back projection"))) if setup_steps \
        else run_to_end(chunks)
    del lines
    op = FourierNormalOperator(assignment, size, os_, workers)
    if setup_steps:
        yield done("operator")
    x = np.zeros((n_v, n, n), dtype=np.float32)
    xb = x[:, lo:hi, lo:hi]

    # Threads per iteration (FFT workers and numba): with ``workers=None`` the faster of
    # 1 and all cores, timed on the first iterations and again every 25 (two threads ran
    # 1.7x slower than one per iteration while other processes held the cores).
    threads = ThreadPolicy(n_v * size * size * data.shape[0]) if adaptive else None

    def update(support):
        # x is zero outside the box (support ⊆ loose ⊆ box), so the box is all there is
        gx = op.apply(xb)
        xg, xbb = update_in_box(xb, gx, b, support[:, lo:hi, lo:hi], params.positivity)
        e2 = xg - 2.0 * xbb + yy
        return float(np.sqrt(max(e2, 0.0) / yy))

    def step(_x, support):
        if threads is None:
            return update(support)
        with threads:
            op.workers = min(workers, numba.get_num_threads())
            return update(support)

    errors, support = yield from _drive(x, step, loose, params, EstState, support_top,
                                        constrained_step=True)
    return EstResult(volume=to_public(x), errors=errors, support=support,
                     line_assignment=assignment)


@cites(PAPER_000)
def reconstruct_est(stack, angles_deg, params: EstParams = EstParams(), *,
                    voxel_size: float = 1.0, callback: Callable[[EstState], None] | None = None,
                    workers: int | None = None, support_top: float | None = None) -> EstResult:
    """Run :func:`iter_est` to the end and return the :class:`EstResult`.

    Parameters
    ----------
    stack, angles_deg, params, voxel_size, workers, support_top
        As for :func:`iter_est`.
    callback : callable, optional
        ``callback(state)`` with each :class:`EstState`.

    Returns
    -------
    EstResult
        The volume ``(z, y, x)``, the error of every iteration, the support and the line
        assignment of the projections.
    """
    return run_to_end(iter_est(stack, angles_deg, params, voxel_size=voxel_size,
                               workers=workers, support_top=support_top), callback)
