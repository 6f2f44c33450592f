"""Particle threshold from the edge-spread-function (ESF) fit of volume vs threshold.

Paper 002 (§2.1, after Collins et al. 2019, its ref. 21) computes the particle volume
``V(t)`` (voxels above ``t``) for a series of thresholds, fits "the variation of the
threshold relative to the particle volume" with an ESF, and takes the threshold where
the particle volume changes least with the threshold, ``min |dV/dt|``.

Our reading ("modified" ESF: the profile is threshold against volume, not intensity
against distance). Raising ``t`` past the values of a blurred boundary peels voxels off
the particle surface, so ``t`` as a function of ``V`` retraces the edge profile: near
the background level while ``V`` includes background voxels, near the particle level
once ``V`` is inside the particle, with a Gaussian-blurred step in between. We fit

    t(V) = t_b + (t_p − t_b) · erfc((V − V_0) / (√2 s)) / 2

(``scipy.optimize.curve_fit``; ``t_b`` background level, ``t_p`` particle level,
``V_0`` the particle volume, ``s`` the edge width in voxels). ``|dV/dt|`` of the fit is
smallest where the ESF is steepest, at ``V = V_0``, i.e. ``t = (t_b + t_p) / 2``: the
threshold. The fitted curve is also returned as ``V_fit(t)`` on the sampled thresholds
for plotting. A two-step model (a sum of two ESFs in ``t``, one per population) was
tried first: it places its gradient minimum by the tails of the two populations and
drifts towards the background for small 3D particles, whose many surface voxels
populate the values between the levels; the single ESF in ``V`` does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import erfc, erfcinv

__all__ = ["EsfResult", "esf_model", "esf_threshold", "esf_volume", "particle_volume_curve"]

_SQRT2 = np.sqrt(2.0)


@dataclass(frozen=True)
class EsfResult:
    """Everything needed to plot and explain an ESF threshold choice.

    Attributes
    ----------
    thresholds : ndarray, shape (n,)
        The thresholds ``t`` at which the volume was counted.
    volumes : ndarray of int64, shape (n,)
        ``V(t)``: number of voxels with a value above ``t``.
    fit : ndarray, shape (n,)
        The fitted model as ``V_fit(t)`` at ``thresholds`` (voxels).
    fit_params : dict
        ``t_background``, ``t_particle`` (levels), ``volume_voxels`` (``V_0``) and
        ``width_voxels`` (``s``) of the ESF ``t(V)``.
    threshold : float
        The chosen threshold, where ``|dV_fit/dt|`` is smallest.
    volume_at_threshold : int
        Voxels above the chosen threshold.
    gradient_at_threshold : float
        ``dV_fit/dt`` there (voxels per unit of the volume's values).
    method : str
        ``"esf"`` when the fit succeeded, ``"histogram"`` when it failed and the
        threshold is the minimum of the smoothed measured ``|dV/dt|`` instead.
    """

    thresholds: np.ndarray
    volumes: np.ndarray
    fit: np.ndarray
    fit_params: dict
    threshold: float
    volume_at_threshold: int
    gradient_at_threshold: float
    method: str

    def summary(self) -> dict:
        """Plain-JSON summary (curve, fit, parameters and choice)."""
        return {
            "method": self.method,
            "threshold": float(self.threshold),
            "volume_at_threshold_voxels": int(self.volume_at_threshold),
            "gradient_at_threshold": float(self.gradient_at_threshold),
            "fit_params": {k: float(v) for k, v in self.fit_params.items()},
            "thresholds": [float(t) for t in self.thresholds],
            "volumes_voxels": [int(v) for v in self.volumes],
            "fit_voxels": [float(v) for v in self.fit],
        }


def esf_model(volume, t_b, t_p, v_0, s):
    """ESF model of the threshold as a function of particle volume (module docstring)."""
    v = np.asarray(volume, dtype=np.float64)
    return t_b + (t_p - t_b) * 0.5 * erfc((v - v_0) / (_SQRT2 * s))


def esf_volume(thresholds, t_b, t_p, v_0, s, n_total):
    """Inverse of :func:`esf_model`: ``V_fit(t)``, clipped to ``[0, n_total]``."""
    t = np.asarray(thresholds, dtype=np.float64)
    u = np.clip((t - t_b) / (t_p - t_b), 0.0, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        v = v_0 + _SQRT2 * s * erfcinv(2.0 * u)  # +inf at u = 0, -inf at u = 1
    return np.clip(v, 0.0, float(n_total))


def _validate_volume(volume) -> np.ndarray:
    v = np.asarray(volume)
    if v.size == 0:
        raise ValueError("volume is empty; expected an array with at least one voxel")
    if not np.issubdtype(v.dtype, np.number) or np.iscomplexobj(v):
        raise ValueError(f"volume must hold real numbers, got dtype {v.dtype}")
    v = v.astype(np.float64, copy=False).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError("volume contains NaN or infinite values")
    if v.max() <= v.min():
        raise ValueError(f"volume is constant ({v.min():g}); a threshold needs some contrast")
    return v


def particle_volume_curve(volume, thresholds) -> np.ndarray:
    """``V(t)``: the number of voxels of ``volume`` above each threshold (int64)."""
    v = np.sort(_validate_volume(volume))
    t = np.asarray(thresholds, dtype=np.float64)
    return (v.size - np.searchsorted(v, t, side="right")).astype(np.int64)


def _initial_guess(values):
    # Split background from particle at Otsu's threshold (a well-kept histogram method).
    from skimage.filters import threshold_otsu

    split = float(threshold_otsu(values))
    bg, fg = values[values <= split], values[values > split]
    t_b = float(np.median(bg)) if bg.size else float(values.min())
    t_p = float(np.median(fg)) if fg.size else float(values.max())
    v_0 = float(fg.size)
    return split, [t_b, t_p, max(v_0, 1.0), max(0.1 * v_0, 1.0)]


def esf_threshold(volume, n_thresholds: int = 100, *, t_range=None) -> EsfResult:
    """Choose a particle threshold by the ESF method of paper 002 (§2.1).

    Parameters
    ----------
    volume : ndarray
        Any-dimensional real array (a reconstruction or a summed element map).
    n_thresholds : int
        Number of thresholds between the lower and upper end of ``t_range``.
    t_range : (float, float), optional
        Threshold range; default the value range of ``volume``.

    Returns
    -------
    EsfResult
        Curve, fit and chosen threshold.
    """
    values = _validate_volume(volume)
    if int(n_thresholds) != n_thresholds or n_thresholds < 10:
        raise ValueError(f"n_thresholds must be an integer >= 10, got {n_thresholds!r}")
    n_thresholds = int(n_thresholds)
    if t_range is None:
        lo, hi = float(values.min()), float(values.max())
    else:
        lo, hi = (float(x) for x in t_range)
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise ValueError(f"t_range must be two finite numbers (low, high) with low < high, got {t_range!r}")
    thresholds = np.linspace(lo, hi, n_thresholds)
    volumes = particle_volume_curve(values, thresholds)
    n = float(values.size)
    span = hi - lo
    split, p0 = _initial_guess(values)
    lower = [lo - span, lo - span, 0.0, 0.25]
    upper = [hi + span, hi + span, n, n]
    p0 = [min(max(p, a), b) for p, a, b in zip(p0, lower, upper)]
    method = "esf"
    try:
        params, _ = curve_fit(esf_model, volumes.astype(np.float64), thresholds, p0=p0,
                              bounds=(lower, upper), maxfev=5000)
        t_b, t_p, v_0, s = (float(p) for p in params)
        if not (t_p > t_b and lo <= 0.5 * (t_b + t_p) <= hi and np.all(np.isfinite(params))):
            raise RuntimeError("fitted levels out of order or out of range")
        threshold = 0.5 * (t_b + t_p)
        gradient = -np.sqrt(2 * np.pi) * s / (t_p - t_b)
    except (RuntimeError, ValueError):
        # Fall back to the smallest smoothed measured |dV/dt| around Otsu's split.
        params, method = np.asarray(p0, dtype=np.float64), "histogram"
        t_b, t_p, v_0, s = (float(p) for p in params)
        g = np.convolve(np.gradient(volumes.astype(np.float64), thresholds), np.ones(5) / 5, "same")
        sel = np.nonzero((thresholds >= min(t_b, split)) & (thresholds <= max(t_p, split)))[0]
        sel = sel if sel.size else np.arange(thresholds.size)
        i = sel[int(np.argmin(np.abs(g[sel])))]
        threshold, gradient = float(thresholds[i]), float(g[i])
    return EsfResult(
        thresholds=thresholds,
        volumes=volumes,
        fit=esf_volume(thresholds, t_b, t_p, v_0, s, n),
        fit_params={"t_background": t_b, "t_particle": t_p, "volume_voxels": v_0,
                    "width_voxels": s},
        threshold=threshold,
        volume_at_threshold=int(np.count_nonzero(values > threshold)),
        gradient_at_threshold=gradient,
        method=method,
    )
