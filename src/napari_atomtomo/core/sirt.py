"""SIRT (simultaneous iterative reconstruction technique) with non-negativity.

The update is the standard weighted Landweber form

    x ← x + λ · C · Aᵀ · R · (b − A x),   R = 1 / (A·1),   C = 1 / (Aᵀ·1),

with ``A`` the Joseph projector of :mod:`.projectors`, ``R`` and ``C`` the inverse row
and column sums precomputed once (sums below :data:`SUM_FLOOR` get weight 0, so rays
that miss the volume and voxels that no ray sees are left alone), ``λ`` the
relaxation, and negative voxels set to zero after every update when ``nonnegative``.
A support mask restricts the unknowns: ``R`` then uses the row sums of the restricted
matrix (``A·support``), ``C`` is zero outside the support and the start volume is
zeroed there, which is exactly SIRT on the columns inside the support.

Everything runs in the projector's internal layout (tilt axis innermost) with
preallocated buffers; the layout is converted only on entry, on yield and on exit. The
arithmetic goes through a compute backend (:mod:`.backends`, ``backend="numba-cpu"`` by
default): its fused kernels do one iteration in two passes (back projection + update
slab by slab, forward projection + residual angle by angle) and hold only ``x``, ``b``
and the weighted residual; without a support ``R`` and ``C`` are one slice each.

EDS-STEM tomography (paper 002, Eq. 11) is SIRT per element map:
:func:`reconstruct_eds`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import config
from ._generators import run_to_end

# re-exported: hebt, stopping and older callers import these from here
from ._iterative import (  # noqa: F401
    RELAXATION,
    check_element_stacks,
    check_iteration_settings,
    check_stack,
    check_support,
    public_copy,
    resolve_volume_shape,
    sum_of_squares,
)
from ._refs import PAPER_002, cites
from ._threads import PARALLEL_MIN_WORK, THREAD_RECHECK, ThreadPolicy  # noqa: F401
from .backends import DEFAULT_BACKEND, get_backend
from .geometry import validate_angles, validate_shifts
from .params import param, register_params
from .projectors import DENORMAL_FLOOR, ParallelBeamProjector  # noqa: F401

__all__ = [
    "SirtParams",
    "SirtState",
    "SirtResult",
    "iter_sirt",
    "reconstruct_sirt",
    "reconstruct_eds",
    "SUM_FLOOR",
    "PARALLEL_MIN_WORK",
    "ThreadPolicy",
]

#: Row and column sums below this get an inverse weight of 0 (zero-safe R and C).
SUM_FLOOR = config.SUM_FLOOR


# ---------------------------------------------------------------------------- parameters
@register_params("sirt")
@dataclass(frozen=True)
class SirtParams:
    """SIRT settings shared by the CLI, the widget and ``layer.metadata``.

    Attributes
    ----------
    n_iter : int
        Number of iterations (≥ 1).
    relaxation : float
        Relaxation λ in (0, 2); SIRT converges for any value in that range.
    nonnegative : bool
        Set negative voxels to zero after every update.
    yield_every : int
        A copy of the volume is yielded every ``yield_every`` iterations and at the end.
    """

    n_iter: int = param(100, flag="--iterations", label="iterations", range=(1, 1000),
                        widget="slider", help="SIRT iterations: more sharpen the volume but "
                        "also amplify the noise")
    relaxation: float = RELAXATION
    nonnegative: bool = param(True, flag="--allow-negative", label="non-negative",
                              widget="check", negate=True,
                              help="clip negative voxels to zero after every update")
    yield_every: int = 10

    def __post_init__(self):
        check_iteration_settings(self.n_iter, self.relaxation, self.yield_every)


@dataclass(frozen=True, eq=False)
class SirtState:
    """One SIRT iteration: ``residual = ||A x − b|| / ||b||`` of the current ``x``.

    ``volume`` is a ``(z, y, x)`` float32 copy every ``yield_every`` iterations and at the
    last one, else ``None``.
    """

    iteration: int
    residual: float
    volume: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class SirtResult:
    """Final ``volume`` ``(z, y, x)`` float32 and the ``residuals`` of every iteration."""

    volume: np.ndarray
    residuals: np.ndarray


# ---------------------------------------------------------------------------- SIRT
@cites(PAPER_002)
def iter_sirt(
    stack,
    angles_deg,
    params: SirtParams = SirtParams(),
    *,
    support=None,
    x0=None,
    shifts=None,
    backend: str = DEFAULT_BACKEND,
) -> Generator[SirtState, None, SirtResult]:
    """Run SIRT on a tilt series, yielding a :class:`SirtState` after every iteration.

    The simultaneous iterative reconstruction technique of paper 002 [2]_ (Eq. 7), with the
    non-negativity constraint. Input is validated when this function is called, before any
    work; the iterations run as the returned generator is consumed.

    Parameters
    ----------
    stack : ndarray, shape (angle, y, x)
        Tilt series of line integrals (a 2D sinogram as ``(angle, 1, x)``).
    angles_deg : array_like, shape (angle,)
        Tilt angles in degrees (docs/conventions.md).
    params : SirtParams
        Iterations, relaxation, non-negativity and how often to yield the volume.
    support : ndarray of bool, shape (z, y, x), optional
        Voxels allowed to be non-zero.
    x0 : ndarray, shape (z, y, x), optional
        Start volume (default zeros). ``x0`` or ``support`` fix the volume shape;
        otherwise it is ``(n_x, n_y, n_x)``.
    shifts : array_like, shape (angle, 2), optional
        Per-image ``(dy, dx)`` in pixels, as for :class:`ParallelBeamProjector`.
    backend : str
        Compute backend (:func:`.backends.available_backends`), default ``"numba-cpu"``.

    Yields
    ------
    SirtState
        Iteration number, residual, and a copy of the volume every ``params.yield_every``
        iterations and at the last one.

    Notes
    -----
    Input is validated when this function is called, before any work; the iterations
    run as the returned generator is consumed, which returns the :class:`SirtResult`
    (``StopIteration.value``, see :func:`~napari_atomtomo.core._generators.run_to_end`).
    """
    run = _prepare_sirt(stack, angles_deg, params, support=support, x0=x0, shifts=shifts,
                        backend=backend)
    return _with_sirt_result(_run_sirt(*run))


def _with_sirt_result(gen) -> Generator[SirtState, None, SirtResult]:
    residuals, volume = [], None
    for state in gen:
        residuals.append(state.residual)
        if state.volume is not None:
            volume = state.volume
        yield state
    assert volume is not None  # the last iteration always yields its volume
    return SirtResult(volume=volume, residuals=np.asarray(residuals, dtype=np.float64))


def _prepare_sirt(stack, angles_deg, params, *, support, x0, shifts, backend=DEFAULT_BACKEND):
    if not isinstance(params, SirtParams):
        raise ValueError(f"params must be a SirtParams, got {type(params).__name__}")
    engine = get_backend(backend)
    s = check_stack(stack)
    angles = validate_angles(angles_deg, n_images=s.shape[0])
    if shifts is not None:
        shifts = validate_shifts(shifts, angles.size)
    shape = resolve_volume_shape(s.shape, support, x0)
    support = check_support(support, shape)
    if x0 is not None:
        x0 = np.asarray(x0)
        if not np.all(np.isfinite(x0)):
            raise ValueError("x0 contains NaN or infinite values")
    projector = engine.projector(shape, angles, n_u=s.shape[2], shifts=shifts)
    b = projector.to_internal_stack(s)
    b_norm = np.sqrt(sum_of_squares(b.reshape(-1)))
    if b_norm == 0.0:
        raise ValueError("tilt series is all zeros; there is nothing to reconstruct")
    return engine.sirt_operator(projector), b, b_norm, params, support, x0


def _run_sirt(operator, b, b_norm, params, support, x0) -> Generator[SirtState, None, None]:
    projector = operator.projector
    threads = ThreadPolicy(np.prod(projector.volume_shape) * projector.n_angles)
    with ThreadPolicy(0 if threads.small else PARALLEL_MIN_WORK):  # setup: 1 or all threads
        support_t = None if support is None else projector.to_internal_volume(support)
        inv_rows, inv_cols = operator.weights(support_t)
        x = projector.new_internal_volume() if x0 is None else projector.to_internal_volume(x0)
        if support_t is not None:
            x *= support_t
            del support_t  # C is zero off the support, so x stays zero there
        if params.nonnegative:
            np.maximum(x, 0.0, out=x)
        e = projector.new_internal_stack()  # R (b − A x), kept one iteration ahead
        if x0 is None:  # A·0 = 0: no projection in the set-up
            np.multiply(b, inv_rows, out=e)
        else:
            operator.forward_residual(x, b, inv_rows, e)
    for it in range(1, params.n_iter + 1):
        with threads:
            operator.back_update(e, inv_cols, params.relaxation, params.nonnegative, x)
            # residual of the new x; e is reused by the next iteration
            residual = float(np.sqrt(operator.forward_residual(x, b, inv_rows, e)) / b_norm)
        volume = None
        if it == params.n_iter:  # the working volume becomes the result: no copy at the end
            volume = projector.release_internal_volume(x)
        elif it % params.yield_every == 0:
            volume = public_copy(projector, x)
        yield SirtState(it, residual, volume)


@cites(PAPER_002)
def reconstruct_sirt(
    stack,
    angles_deg,
    params: SirtParams = SirtParams(),
    *,
    support=None,
    x0=None,
    shifts=None,
    callback: Callable[[SirtState], None] | None = None,
    backend: str = DEFAULT_BACKEND,
) -> SirtResult:
    """Run :func:`iter_sirt` to the end; ``callback(state)`` is called after every iteration.

    Parameters
    ----------
    stack, angles_deg, params, support, x0, shifts, backend
        As for :func:`iter_sirt`.
    callback : callable, optional
        ``callback(state)`` with each :class:`SirtState`.

    Returns
    -------
    SirtResult
        ``volume`` ``(z, y, x)`` float32 and ``residuals`` (float64, one per iteration).
    """
    return run_to_end(
        iter_sirt(stack, angles_deg, params, support=support, x0=x0, shifts=shifts,
                  backend=backend), callback)


# ---------------------------------------------------------------------------- EDS-STEM
@cites(PAPER_002)
def reconstruct_eds(
    eds,
    angles_deg,
    params: SirtParams = SirtParams(),
    *,
    support=None,
    shifts=None,
    callback: Callable[[str, SirtState], None] | None = None,
    backend: str = DEFAULT_BACKEND,
) -> dict[str, np.ndarray]:
    """EDS-STEM tomography: SIRT of every element's tilt series (paper 002, Eq. 11).

    Parameters
    ----------
    eds : dict of str to ndarray, shape (angle, y, x)
        X-ray counts per element line (non-negative), all of one shape.
    angles_deg, params, support, shifts, backend
        As for :func:`iter_sirt`.
    callback : callable, optional
        ``callback(element, state)`` after every iteration.

    Returns
    -------
    dict of str to ndarray, shape (z, y, x)
        The maps ``X_A = n f_A C_A ρ`` (Eq. 10), in the element order of ``eds``.
    """
    stacks = check_element_stacks(eds)
    runs = {
        el: _prepare_sirt(s, angles_deg, params, support=support, x0=None, shifts=shifts,
                          backend=backend)
        for el, s in stacks.items()
    }
    return {element: run_to_end(_with_sirt_result(_run_sirt(*run)),
                                None if callback is None else partial(callback, element)).volume
            for element, run in runs.items()}
