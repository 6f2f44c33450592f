"""HAADF-EDS bimodal tomography (HEBT, paper 002 §2.2).

HEBT solves Eq. 17, ``min ||I_b − W_b X_b||²``, for the element maps
``X_A,j = z_A C_A,j ρ_j`` (HAADF units), with the block system

    I_b = [(1−α) r_1 I_1; …; (1−α) r_k I_k; α I_H]
    W_b = [(1−α) W, 0, …, 0;  …;  0, …, 0, (1−α) W;  α W, α W, …, α W]

where ``W`` is the projector of :mod:`.projectors`, ``I_A`` the EDS tilt series,
``I_H`` the HAADF tilt series and ``r_A`` the response ratios of Eq. 15
(``I_H ≈ Σ_A r_A I_A``), fitted or checked by :mod:`.ratios`.

SIRT on the block system without building ``W_b``. With ``rs = W·1`` (row sums) and
``cs = Wᵀ·1`` (column sums) of ``W``:

- row sums of ``W_b``: ``(1−α)·rs`` for the rows of every element block and
  ``α·k·rs`` for the HAADF rows (each HAADF row holds ``k`` copies of a row of ``W``);
- column sums of ``W_b``: ``(1−α)·cs + α·cs = cs`` for every element's columns,
  independent of α.

Hence ``R_b (I_b − W_b X_b)`` is ``(r_A I_A − W X_A) / rs`` on element rows and
``(I_H − W Σ_B X_B) / (k·rs)`` on HAADF rows, and one SIRT step for element ``A`` is

    X_A ← max(0, X_A + λ/cs · Wᵀ[((1−α)(r_A I_A − W X_A) + (α/k)(I_H − W Σ_B X_B)) / rs])

(rows with ``rs < SUM_FLOOR`` get weight 0, as in :mod:`.sirt`). This holds on the
closed interval α ∈ [0, 1]: the factors ``(1−α)`` and ``α`` of the back projection
cancel the zero row sums of the empty blocks. One iteration costs ``k`` forward and
``k`` back projections (``W Σ_B X_B = Σ_B W X_B``). At α = 0 it is exactly per-element
SIRT on ``r_A I_A``. With a support mask, ``rs = W·support`` and ``1/cs`` is zero
outside it, as in :mod:`.sirt`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

import numpy as np

from ._generators import run_to_end
from ._iterative import (
    RELAXATION,
    check_iteration_settings,
    check_support,
    public_copy,
    resolve_volume_shape,
    sum_of_squares,
)
from ._refs import PAPER_002, cites
from ._solver_kernels import block_residual_kernel
from ._threads import PARALLEL_MIN_WORK, ThreadPolicy
from .backends import DEFAULT_BACKEND, get_backend
from .geometry import validate_angles, validate_shifts
from .params import param, register_params

# the response-ratio fit lives in .ratios; re-exported here, where it used to be
from .ratios import (
    ResponseRatioFit,
    check_haadf_and_eds,
    check_ratios,
    choose_ratios,
    fit_response_ratios,
)

__all__ = [
    "HebtParams",
    "HebtState",
    "HebtResult",
    "ResponseRatioFit",
    "fit_response_ratios",
    "check_ratios",
    "iter_hebt",
    "reconstruct_hebt",
]


@register_params("hebt")
@dataclass(frozen=True)
class HebtParams:
    """HEBT settings shared by the CLI, the widget and ``layer.metadata``.

    Attributes
    ----------
    alpha : float
        Weight α ∈ [0, 1] of the HAADF term (0: EDS only, 1: HAADF only).
    n_iter : int
        SIRT iterations on the block system (≥ 1).
    relaxation : float
        Relaxation λ in (0, 2).
    yield_every : int
        Maps are yielded every ``yield_every`` iterations and at the end.
    """

    alpha: float = param(0.8, flag="--alpha", label="α (HAADF weight)", range=(0.0, 1.0),
                         widget="slider", step=0.01,
                         help="weight of the HAADF term in [0, 1]: 0 = EDS only, 1 = HAADF "
                              "only; paper 002 found 0.8 best")
    n_iter: int = param(200, flag="--iterations", label="iterations", range=(1, 1000),
                        widget="slider", help="SIRT iterations on the block system")
    relaxation: float = RELAXATION
    yield_every: int = 10

    def __post_init__(self):
        if not (np.isfinite(self.alpha) and 0.0 <= self.alpha <= 1.0):
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha!r}")
        check_iteration_settings(self.n_iter, self.relaxation, self.yield_every)


@dataclass(frozen=True, eq=False)
class HebtState:
    """One HEBT iteration.

    ``residual`` is ``||I_b − W_b X_b|| / ||I_b||`` of the block system; ``maps`` is a
    dict of ``(z, y, x)`` float32 copies every ``yield_every`` iterations and at the end,
    else ``None``; ``ratios`` and ``r2`` (``None`` for user-given ratios) are those used;
    ``ratio_warning`` says when Eq. 16's ratios replaced an ill-determined fit
    (:mod:`.ratios`).
    """

    iteration: int
    residual: float
    maps: dict[str, np.ndarray] | None
    ratios: dict[str, float]
    r2: float | None
    ratio_warning: str | None = None


@dataclass(frozen=True, eq=False)
class HebtResult:
    """Element maps ``X_A`` (HAADF units), the ratios used, their fit R² and residuals."""

    maps: dict[str, np.ndarray]
    ratios: dict[str, float]
    r2: float | None
    residuals: np.ndarray


# ---------------------------------------------------------------------------- HEBT
@cites(PAPER_002)
def iter_hebt(
    haadf,
    eds,
    angles_deg,
    params: HebtParams = HebtParams(),
    *,
    ratios=None,
    support=None,
    shifts=None,
    backend: str = DEFAULT_BACKEND,
) -> Generator[HebtState, None, HebtResult]:
    """Run HEBT (Eq. 17), yielding a :class:`HebtState` after every iteration.

    HAADF-EDS bimodal tomography of paper 002 [2]_: one SIRT-like update per element that
    balances the HAADF residual (weight ``α``) against each element's EDS residual. The
    element maps are ``X_A = z_A C_A ρ`` in HAADF units, non-negative. Input is validated
    (and ratios fitted) when this function is called.

    Parameters
    ----------
    haadf : ndarray, shape (angle, y, x)
        HAADF tilt series (a sinogram as ``(angle, 1, x)``).
    eds : dict of str to ndarray, shape (angle, y, x)
        Non-negative EDS counts per element (e.g. after the paper's Gaussian filter).
    angles_deg : array_like
        Tilt angles in degrees.
    params : HebtParams
        α, iterations, relaxation, yield interval.
    ratios : dict of str to float, optional
        ``r_A`` per element; fitted by :func:`fit_response_ratios` when ``None``.
    support : ndarray of bool, shape (z, y, x), optional
        Voxels allowed to be non-zero (also fixes the volume shape).
    shifts : array_like, shape (angle, 2), optional
        Per-image ``(dy, dx)`` in pixels.
    backend : str
        Compute backend (:func:`.backends.available_backends`), default ``"numba-cpu"``.

    Yields
    ------
    HebtState
        Iteration number, residual, the ratios and their R², and copies of the maps every
        ``params.yield_every`` iterations and at the last one.

    Notes
    -----
    The element maps are ``X_A = z_A C_A ρ`` in HAADF units, non-negative. Input is
    validated (and ratios fitted) when this function is called; the generator returns
    the :class:`HebtResult`.
    """
    if not isinstance(params, HebtParams):
        raise ValueError(f"params must be a HebtParams, got {type(params).__name__}")
    engine = get_backend(backend)
    h, stacks = check_haadf_and_eds(haadf, eds)
    angles = validate_angles(angles_deg, n_images=h.shape[0])
    if shifts is not None:
        shifts = validate_shifts(shifts, angles.size)
    shape = resolve_volume_shape(h.shape, support)
    support = check_support(support, shape)
    if ratios is None:  # fitted, or Eq. 16's when the fit is ill-determined (core/ratios.py)
        fit = choose_ratios(h, stacks)
        used, r2, note = fit.ratios, fit.r2, fit.warning
        zero = [el for el, r in used.items() if r == 0.0]
        if zero:
            raise ValueError(
                f"the fitted response ratio of {zero} is 0 (its EDS signal does not explain "
                "any HAADF signal); give ratios explicitly"
            )
    else:
        used, r2, note = check_ratios(ratios, list(stacks)), None, None
    projector = engine.projector(shape, angles, n_u=h.shape[2], shifts=shifts)
    b_el = {
        el: projector.to_internal_stack(used[el] * s.astype(np.float32))
        for el, s in stacks.items()
    }
    b_h = projector.to_internal_stack(h)
    a = float(params.alpha)
    b_norm2 = (1 - a) ** 2 * sum(sum_of_squares(b.reshape(-1)) for b in b_el.values())
    b_norm2 += a**2 * sum_of_squares(b_h.reshape(-1))
    if b_norm2 == 0.0:
        raise ValueError("the weighted HEBT data are all zeros; there is nothing to reconstruct")
    return _with_hebt_result(_run_hebt(engine.sirt_operator(projector), b_el, b_h,
                                       np.sqrt(b_norm2), params, support, dict(used), r2, note))


def _with_hebt_result(gen) -> Generator[HebtState, None, HebtResult]:
    residuals, maps, state = [], None, None
    for state in gen:
        residuals.append(state.residual)
        if state.maps is not None:
            maps = state.maps
        yield state
    assert state is not None and maps is not None  # the last iteration yields its maps
    return HebtResult(maps, state.ratios, state.r2, np.asarray(residuals, dtype=np.float64))


def _run_hebt(operator, b_el, b_h, b_norm, params, support, ratios, r2, note=None
              ) -> Iterator[HebtState]:
    projector = operator.projector
    threads = ThreadPolicy(np.prod(projector.volume_shape) * projector.n_angles)
    support_t = None if support is None else projector.to_internal_volume(support)
    with ThreadPolicy(0 if threads.small else PARALLEL_MIN_WORK):  # setup: 1 or all threads
        inv_rows, inv_cols = operator.weights(support_t)
    del support_t
    elements = list(b_el)
    k = len(elements)
    a = float(params.alpha)
    w_el, w_h = 1.0 - a, a / k
    x = {el: projector.new_internal_volume() for el in elements}
    p = {el: projector.new_internal_stack() for el in elements}  # W X_A
    d = {el: projector.new_internal_stack() for el in elements}  # R_b-weighted residual
    e_h = projector.new_internal_stack()  # I_H − W Σ X_B

    def residuals() -> float:
        e_h[...] = b_h
        for el in elements:
            np.subtract(e_h, p[el], out=e_h)
        ss = a**2 * sum_of_squares(e_h.reshape(-1))
        for el in elements:
            ss_el = block_residual_kernel(b_el[el], p[el], e_h, inv_rows, w_el, w_h, d[el])
            ss += w_el**2 * ss_el
        return float(np.sqrt(ss) / b_norm)

    residuals()  # x = 0, p = 0 (cheap)
    for it in range(1, params.n_iter + 1):
        with threads:
            for el in elements:  # X_A ← max(0, X_A + λ C Wᵀ d_A), fused slab by slab
                operator.back_update(d[el], inv_cols, params.relaxation, True, x[el])
            for el in elements:
                projector.forward_internal(x[el], out=p[el])
            residual = residuals()
        maps = None
        if it == params.n_iter:  # the working maps become the result: no copies at the end
            maps = {el: projector.release_internal_volume(x[el]) for el in elements}
        elif it % params.yield_every == 0:
            maps = {el: public_copy(projector, x[el]) for el in elements}
        yield HebtState(it, residual, maps, ratios, r2, note)


@cites(PAPER_002)
def reconstruct_hebt(
    haadf,
    eds,
    angles_deg,
    params: HebtParams = HebtParams(),
    *,
    ratios=None,
    support=None,
    shifts=None,
    callback: Callable[[HebtState], None] | None = None,
    backend: str = DEFAULT_BACKEND,
) -> HebtResult:
    """Run :func:`iter_hebt` to the end; ``callback(state)`` after every iteration.

    Parameters
    ----------
    haadf, eds, angles_deg, params, ratios, support, shifts, backend
        As for :func:`iter_hebt`.
    callback : callable, optional
        ``callback(state)`` with each :class:`HebtState`.

    Returns
    -------
    HebtResult
        The element maps ``(z, y, x)``, the ratios used, their R² (``None`` when given) and
        the residual of every iteration.
    """
    return run_to_end(iter_hebt(haadf, eds, angles_deg, params, ratios=ratios, support=support,
                                shifts=shifts, backend=backend), callback)
