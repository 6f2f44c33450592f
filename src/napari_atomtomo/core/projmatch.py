"""Projection-matching refinement of per-image shifts (``atomtomo align --refine N``).

Each round splits the images into two interleaved halves (even and odd indices). For
each half in turn, the *other* half is reconstructed by SIRT with its current shifts
applied inside the projector (no resampling), re-projected at this half's angles, and
every image of this half is registered to its re-projection to a fraction of a pixel
(scikit-image's upsampled cross-correlation of high-passed, edge-tapered images). An
image is never compared with a volume it helped make (which would partly reproduce
its own misalignment and stall the refinement), and the second half already meets the
first half's update (updating both at once makes them swap places). The rounds stop
after ``n_iter`` or when no shift changes by more than ``tol_px``.

Gauge: a translation of the whole object is invisible to projection matching (the
reconstruction moves with it): along ``y`` it shifts every image by the same ``dy``,
across it adds ``X cos θ + Z sin θ`` to ``dx``. Those components of each update are
removed, so the refined shifts stay in the frame of the starting shifts (the centre-of-
mass frame of :func:`napari_atomtomo.core.align.estimate_shifts`).

Quality: the RMS and largest shift change of each iteration, and the relative residual
``‖b − A x‖ / ‖b‖`` of each iteration's reconstruction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from ._refs import PAPER_000, PAPER_002, cites
from .geometry import validate_angles, validate_shifts
from .projectors import forward_project
from .sirt import SirtParams, reconstruct_sirt

__all__ = ["RefineParams", "RefineResult", "refine_shifts"]


@dataclass(frozen=True)
class RefineParams:
    """Projection-matching settings (CLI ``align --refine N``, widget, metadata).

    Attributes
    ----------
    n_iter : int
        Largest number of reconstruct → re-project → register rounds (1-100).
    sirt_iterations : int
        SIRT iterations per round.
    upsample : int
        Registration precision ``1 / upsample`` px.
    tol_px : float
        Stop when no shift changes by more than this.
    highpass_px : float
        Both images are high-passed (minus a Gaussian blur of this σ, px; 0 = off) and
        tapered at the edges (Tukey window) before registration.
    """

    n_iter: int = 10
    sirt_iterations: int = 15
    upsample: int = 20
    tol_px: float = 0.01
    highpass_px: float = 2.0

    def __post_init__(self):
        for name, lo, hi in (("n_iter", 1, 100), ("sirt_iterations", 1, 1000), ("upsample", 1, 1000)):
            v = getattr(self, name)
            if isinstance(v, bool) or not float(v).is_integer() or not lo <= v <= hi:
                raise ValueError(f"{name} must be a whole number in {lo}..{hi}, got {v!r}")
            object.__setattr__(self, name, int(v))
        if not (np.isfinite(self.tol_px) and self.tol_px > 0):
            raise ValueError(f"tol_px must be a positive number of pixels, got {self.tol_px!r}")
        if not (np.isfinite(self.highpass_px) and self.highpass_px >= 0):
            raise ValueError(f"highpass_px must be ≥ 0 px, got {self.highpass_px!r}")


@dataclass(frozen=True)
class RefineResult:
    """Refined ``(n, 2)`` shifts ``(dy, dx)`` and one record per iteration
    (``iteration``, ``rms_change_px``, ``max_change_px``, ``residual``).
    """

    shifts: np.ndarray
    history: list
    converged: bool


def _gauge_free(delta: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``delta`` without a global translation of the object (module docstring)."""
    out = delta.copy()
    out[:, 0] -= out[:, 0].mean()
    basis = np.column_stack([np.cos(theta), np.sin(theta)])
    coef, *_ = np.linalg.lstsq(basis, out[:, 1], rcond=None)
    out[:, 1] -= basis @ coef
    return out


def _highpass(img: np.ndarray, sigma: float) -> np.ndarray:
    """``img`` minus its Gaussian blur: the registration follows atoms, not the particle's
    outline (which a smooth misalignment of the series barely changes).
    """
    if not sigma:
        return img
    return img - ndimage.gaussian_filter(img, sigma)


def _window(shape) -> np.ndarray:
    """A Tukey window (flat centre, cosine edges over 1/8 of each side): content entering
    at the edges (another particle) weighs little in the registration.
    """
    from scipy.signal.windows import tukey

    wy = tukey(shape[0], 0.25) if shape[0] > 8 else np.ones(shape[0])
    return (wy[:, None] * tukey(shape[1], 0.25)[None, :]).astype(np.float32)


@cites(PAPER_000, PAPER_002)
def refine_shifts(stack, angles_deg, shifts=None, params: RefineParams = RefineParams(), *,
                  callback: Callable[[dict], None] | None = None) -> RefineResult:
    """Refine per-image shifts by projection matching (module docstring).

    ``shifts`` are the starting ``(dy, dx)`` (default zeros), e.g. from
    :func:`~napari_atomtomo.core.align.estimate_shifts`; ``callback(record)`` is called
    after every iteration.

    Parameters
    ----------
    stack : ndarray, shape (angle, y, x)
        Tilt series.
    angles_deg : array_like, shape (angle,)
        Tilt angles in degrees.
    shifts : array_like, shape (angle, 2), optional
        Starting ``(dy, dx)`` in pixels.
    params : RefineParams
        Iterations, SIRT iterations per round, upsampling, tolerance, high-pass.
    callback : callable, optional
        ``callback(record)`` with a dict per iteration.

    Returns
    -------
    RefineResult
        The refined shifts and the record of every iteration.
    """
    if not isinstance(params, RefineParams):
        raise ValueError(f"params must be a RefineParams, got {type(params).__name__}")
    s = np.asarray(stack)
    if s.ndim != 3 or s.size == 0 or not np.all(np.isfinite(s)):
        raise ValueError(f"tilt series must be a finite 3D array (angle, y, x), got shape {s.shape}")
    angles = validate_angles(angles_deg, n_images=s.shape[0])
    if angles.size < 3:
        raise ValueError("projection matching needs at least 3 images")
    current = np.zeros((s.shape[0], 2)) if shifts is None else validate_shifts(shifts, s.shape[0]).copy()
    theta = np.radians(angles)
    data = s.astype(np.float32)
    sirt = SirtParams(n_iter=params.sirt_iterations, yield_every=params.sirt_iterations)
    window = _window(s.shape[1:])
    hp = params.highpass_px
    history, converged = [], False
    idx = np.arange(s.shape[0])
    groups = [idx[0::2], idx[1::2]]  # interleaved halves: each image meets a volume without it
    for it in range(1, params.n_iter + 1):
        errors = np.empty(s.shape[0])
        before = current.copy()
        for g in groups:  # one half after the other: the second meets the first's update
            others = np.setdiff1d(idx, g)
            volume = reconstruct_sirt(data[others], angles[others], sirt,
                                      shifts=current[others]).volume
            reproj = forward_project(volume, angles[g], n_u=s.shape[2])
            for k, a in enumerate(g):
                sh, errors[a], _ = phase_cross_correlation(
                    _highpass(reproj[k], hp) * window, _highpass(data[a], hp) * window,
                    upsample_factor=params.upsample, normalization=None)
                current[a] = -sh
        delta = _gauge_free(current - before, theta)
        current = before + delta
        resid = float(np.mean(errors))
        rec = {"iteration": it, "rms_change_px": float(np.sqrt(np.mean(delta**2))),
               "max_change_px": float(np.abs(delta).max()), "residual": resid}
        history.append(rec)
        if callback is not None:
            callback(rec)
        if rec["max_change_px"] < params.tol_px:
            converged = True
            break
    return RefineResult(current, history, converged)
