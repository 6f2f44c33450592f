"""The tilt axis's in-plane direction and offset, estimated from the data, and its removal.

Convention (CONVENTIONS.md, docs/conventions.md): the tilt axis of a raw series is the
line through the image centre ``c = ((n_y − 1)/2, (n_x − 1)/2)`` moved by ``offset_px``
perpendicular to itself (towards ``+x`` when the angle is 0), with the direction
``(dy, dx) = (cos φ, sin φ)``: ``φ = angle_deg`` is measured from the image's ``+y`` axis
towards ``+x``. :func:`remove_tilt_axis` resamples every image so that the axis becomes
the column through the centre (``y``), i.e. an image taken with the axis along ``y`` at
the centre, then moved by ``offset_px`` along ``x`` and rotated by ``φ`` about the
centre, is restored.

Estimation (:func:`estimate_tilt_axis`):

* **angle**: a rotation about an axis leaves the projection of every image onto that axis
  unchanged, so after rotating the images by the right ``−φ`` their profiles along ``y``
  (sums over ``x``) are the same curve for every tilt, up to drift. The spread of the
  profiles' Fourier magnitudes (which ignore drift) across the tilts is minimised over
  ``φ``: on a 1° grid over ``±search_deg``, then to ``0.01°`` by a bounded scalar search.
  Quality: the relative spread at the minimum and the curvature of the criterion
  (a flat minimum means the angle is poorly defined);
* **offset**: after the rotation, each image's centre of mass along ``x`` follows
  ``u(θ) = offset + X cos θ + Z sin θ`` for an object whose centre of mass is at
  ``(X, Z)`` from the axis; a least-squares fit over the tilts gives the offset, with its
  standard error and the RMS residual (large when the images drift along ``x``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize

from ._refs import PAPER_000, PAPER_002, cites
from ._validate import check_stack
from .config import TINY
from .geometry import validate_angles

__all__ = ["TiltAxisParams", "TiltAxisResult", "estimate_tilt_axis", "estimate_axis_offset",
           "remove_tilt_axis", "apply_tilt_axis"]


@dataclass(frozen=True)
class TiltAxisParams:
    """Tilt-axis search settings (CLI ``align --tilt-axis auto``, widget, metadata).

    Attributes
    ----------
    search_deg : float
        The angle is searched in ``[−search_deg, +search_deg]`` (≤ 90°: 90 covers every
        direction, e.g. an axis along ``x``, at about six times the cost of 15).
    """

    search_deg: float = 15.0

    def __post_init__(self):
        if not (np.isfinite(self.search_deg) and 0.5 <= self.search_deg <= 90):
            raise ValueError(f"search_deg must be in [0.5, 90], got {self.search_deg!r}")


@dataclass(frozen=True)
class TiltAxisResult:
    """The estimated in-plane tilt-axis angle (degrees) and offset (pixels)."""

    angle_deg: float
    offset_px: float
    quality: dict
    warnings: tuple[str, ...]

    def report(self) -> dict:
        """The result as JSON-able ``tilt_axis_*`` entries."""
        return {"tilt_axis_angle_deg": self.angle_deg, "tilt_axis_offset_px": self.offset_px,
                "tilt_axis_quality": self.quality, "tilt_axis_warnings": list(self.warnings)}


def _check_axis(angle_deg, offset_px) -> tuple[float, float]:
    a, o = float(angle_deg), float(offset_px)
    if not (np.isfinite(a) and abs(a) <= 90):
        raise ValueError(f"tilt-axis angle must be a number of degrees within ±90, got {angle_deg!r}")
    if not np.isfinite(o):
        raise ValueError(f"tilt-axis offset must be a finite number of pixels, got {offset_px!r}")
    return a, o


def _unrotate(image: np.ndarray, angle_deg: float, offset_px: float, order: int) -> np.ndarray:
    """One image with its axis (angle, offset) moved onto the centre column."""
    phi = np.radians(angle_deg)
    m = np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])
    c = (np.array(image.shape, dtype=float) - 1) / 2
    # output pixel q -> input  M (q − c + (0, offset)) + c
    shift = c - m @ c + m @ np.array([0.0, offset_px])
    return ndimage.affine_transform(image, m, offset=shift, order=order, mode="nearest")


@cites(PAPER_000, PAPER_002)
def remove_tilt_axis(stack, angle_deg: float, offset_px: float = 0.0, *, order: int = 3
                     ) -> np.ndarray:
    """Resample a series so its tilt axis (module docstring) is ``y`` through the centre.

    The input is not modified. The reconstructions (EST of paper 000 [1]_, SIRT and HEBT of
    paper 002 [2]_) assume the tilt axis is ``y``.

    Parameters
    ----------
    stack : ndarray, shape (angle, y, x)
        Tilt series.
    angle_deg : float
        In-plane angle of the tilt axis in degrees (as estimated by
        :func:`estimate_tilt_axis`).
    offset_px : float
        Offset of the axis from the centre in pixels.
    order : int
        Spline order of the resampling.

    Returns
    -------
    ndarray, shape (angle, y, x), float32
        The resampled series.
    """
    s = check_stack(stack)
    a, o = _check_axis(angle_deg, offset_px)
    out = np.empty(s.shape, dtype=np.float32)
    for k in range(s.shape[0]):
        out[k] = _unrotate(s[k].astype(np.float64), a, o, order)
    return out


def apply_tilt_axis(stack, angle_deg: float, offset_px: float = 0.0, *, order: int = 3
                    ) -> np.ndarray:
    """The inverse of :func:`remove_tilt_axis`: give a series with its axis along ``y`` the
    axis ``(angle_deg, offset_px)`` (for simulations and tests).
    """
    s = check_stack(stack)
    a, o = _check_axis(angle_deg, offset_px)
    phi = np.radians(a)
    m_inv = np.array([[np.cos(phi), np.sin(phi)], [-np.sin(phi), np.cos(phi)]])
    out = np.empty(s.shape, dtype=np.float32)
    for k in range(s.shape[0]):
        img = s[k].astype(np.float64)
        c = (np.array(img.shape, dtype=float) - 1) / 2
        # R(p) = S(M⁻¹ (p − c) + c), S(q) = A(q − (0, offset))
        shift = c - m_inv @ c - np.array([0.0, o])
        out[k] = ndimage.affine_transform(img, m_inv, offset=shift, order=order, mode="nearest")
    return out


def _profile_spread(stack: np.ndarray, angle_deg: float, order: int) -> float:
    n_y = stack.shape[1]
    prof = np.stack([_unrotate(img, angle_deg, 0.0, order).sum(axis=1) for img in stack])
    mag = np.abs(np.fft.rfft(prof, n=2 * n_y, axis=1))
    mag /= np.maximum(mag[:, :1], TINY)  # per-image scale (dose, normalisation)
    mean = mag.mean(axis=0)
    return float(np.sum((mag - mean) ** 2) / np.sum(mean**2))


@cites(PAPER_000)
def estimate_tilt_axis(stack, angles_deg, params: TiltAxisParams = TiltAxisParams()
                       ) -> TiltAxisResult:
    """Estimate the tilt axis's in-plane angle and offset (module docstring).

    Parameters
    ----------
    stack : ndarray, shape (angle, y, x)
        Tilt series with its vacuum level removed (``atomtomo preprocess``) and the object
        inside the field of view at every tilt.
    angles_deg : array_like, shape (angle,)
        Tilt angles in degrees.
    params : TiltAxisParams
        The search range of the angle.

    Returns
    -------
    TiltAxisResult
        The angle in degrees, the offset in pixels and quality measures.
    """
    if not isinstance(params, TiltAxisParams):
        raise ValueError(f"params must be a TiltAxisParams, got {type(params).__name__}")
    s = check_stack(stack)
    validate_angles(angles_deg, n_images=s.shape[0])
    if s.shape[0] < 4:
        raise ValueError("tilt-axis estimation needs at least 4 images")
    if s.shape[1] < 8:
        raise ValueError(f"tilt-axis estimation needs images at least 8 px tall, got {s.shape[1]}")
    data = s.astype(np.float64)
    # angle: coarse grid, then a bounded search around the best grid point
    grid = np.arange(-params.search_deg, params.search_deg + 1e-9, 1.0)
    coarse = np.array([_profile_spread(data, a, 1) for a in grid])
    k = int(np.argmin(coarse))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    res = optimize.minimize_scalar(lambda a: _profile_spread(data, a, 3), bounds=(lo, hi),
                                   method="bounded", options={"xatol": 0.005})
    angle = float(res.x)
    spread = float(res.fun)
    h = 0.25
    curv = (_profile_spread(data, angle + h, 3) + _profile_spread(data, angle - h, 3)
            - 2 * spread) / h**2
    warnings = []
    if k in (0, grid.size - 1) and params.search_deg < 90:  # ±90° is the same axis
        warnings.append(f"the tilt-axis angle is at the edge of the ±{params.search_deg:g}° search; "
                        "widen it")
    contrast = float((np.median(coarse) - spread) / max(np.median(coarse), TINY))
    if contrast < 0.2:
        warnings.append("the profile criterion barely changes with the angle; the tilt-axis "
                        "angle is poorly defined (too little structure along the axis?)")

    offset, fit = estimate_axis_offset(data, angles_deg, angle)
    warnings += fit.pop("warnings")
    quality = {
        "profile_spread": spread, "profile_spread_median_over_search": float(np.median(coarse)),
        "angle_curvature_per_deg2": float(curv),
        **fit,
    }
    return TiltAxisResult(angle, offset, quality, tuple(warnings))


def estimate_axis_offset(stack, angles_deg, angle_deg: float) -> tuple[float, dict]:
    """Offset (px) of a tilt axis at ``angle_deg`` from the centre-of-mass trajectory.

    Returns ``(offset_px, fit)`` where ``fit`` holds ``offset_fit_rms_px``,
    ``offset_standard_error_px``, ``object_com_px`` (``X, Z`` of the object's centre of
    mass from the axis) and ``warnings`` (a list).
    """
    s = check_stack(stack)
    theta = np.radians(validate_angles(angles_deg, n_images=s.shape[0]))
    if theta.size < 4:
        raise ValueError("the tilt-axis offset fit needs at least 4 images")
    unrot = remove_tilt_axis(s, angle_deg, 0.0).astype(np.float64)
    prof_x = unrot.sum(axis=1)
    totals = prof_x.sum(axis=1)
    if np.any(totals <= 0):
        raise ValueError("an image of the tilt series has no positive signal; remove the "
                         "background first and keep the object in every image")
    n_x = s.shape[2]
    com = prof_x @ np.arange(n_x) / totals - (n_x - 1) / 2
    design = np.column_stack([np.ones_like(theta), np.cos(theta), np.sin(theta)])
    coef, *_ = np.linalg.lstsq(design, com, rcond=None)
    resid = com - design @ coef
    rms = float(np.sqrt(np.sum(resid**2) / (theta.size - 3)))
    se = float(np.sqrt(max(np.linalg.pinv(design.T @ design)[0, 0], 0.0)) * rms)
    warnings = []
    if rms > 0.5:
        warnings.append(f"the centre of mass departs from the fitted trajectory by {rms:.2f} px "
                        "RMS (drift along x?); the tilt-axis offset is uncertain")
    return float(coef[0]), {"offset_fit_rms_px": rms, "offset_standard_error_px": se,
                            "object_com_px": [float(coef[1]), float(coef[2])],
                            "warnings": warnings}
