"""Particle threshold from the edge-spread-function (ESF) fit of volume vs threshold.

Paper 002 (§2.1, after Collins et al. 2019, its ref. 21) counts the particle volume
``V(t)`` (voxels above ``t``) for a series of thresholds, fits it with an ESF and takes
the threshold where the volume changes least with the threshold.

Our model. Every material level of the map (the background, and each phase of the
particle: a core/shell particle has two) is a blurred step in ``V(t)``, so

    V(t) = Σ_k A_k · erfc((t − μ_k) / (√2 σ_k)) / 2,      k = 0 … K

with ``A_k`` voxels at level ``μ_k`` (edge and noise width ``σ_k``); ``k = 0`` is the
background, ``k ≥ 1`` the particle's levels (``K = 1…3``). The fit
(``scipy.optimize.curve_fit``, trust-region with bounds ``0 ≤ A_k ≤ N``,
the background level below the histogram's first valley and the particle levels above
it, all inside the sampled range (or one step below it, with ``V = N`` there), ``Δt/2 ≤ σ_k ≤ range``)
starts from the data: the
levels are the peaks of the smoothed ``−dV/dt`` (the histogram), the amplitudes the
voxel counts between its valleys (a peak counts as a level when its valley is at least
:data:`MIN_RELATIVE_PROMINENCE` of its height deep).
``K`` is chosen by the Bayesian information criterion.
The particle boundary is the *outermost* step, the lowest particle level ``μ_1``
(a shell, a cap) that holds at least 5 % of the particle and is a plateau (width at most
:data:`MAX_LEVEL_WIDTH` of its height; a broad "level" is the ramp of blurred edge
voxels), and the threshold is the centre of the ESF between background and that
level, ``(μ_0 + μ_1) / 2``: the half-maximum edge of a blurred boundary, where the
volume changes least between the two steps.

Fit quality (:data:`QUALITY_LIMITS`): the RMS residual relative to the particle volume,
the *edge fraction* (voxels gained or lost when the threshold moves by a quarter of the
step height either way, relative to the particle volume: the edge width against the
particle's size) and the step separation ``(μ_1 − μ_0) / (σ_0 + σ_1)``. When the fit
fails or any measure is outside its limit, the threshold falls back to Otsu's threshold
of the same values (:func:`skimage.filters.threshold_otsu`), ``method = "otsu"``,
``fallback = True`` and ``warning`` says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import curve_fit
from scipy.signal import find_peaks
from scipy.special import erfc

from ._refs import PAPER_002, cites
from ._validate import check_real

__all__ = ["QUALITY_LIMITS", "EsfResult", "esf_threshold", "particle_volume_curve", "steps_model"]

_SQRT2 = math.sqrt(2.0)
#: Largest number of particle levels fitted.
MAX_LEVELS = 3
#: A histogram peak is a level when its prominence is at least this fraction of its height.
MIN_RELATIVE_PROMINENCE = 0.25
#: A particle level is a plateau when its width is at most this fraction of its height.
MAX_LEVEL_WIDTH = 0.4
#: Limits of a good fit: the relative RMS residual, the edge fraction (both at most) and
#: the step separation (at least).
QUALITY_LIMITS = {"residual": 0.1, "edge_fraction": 0.5, "separation": 2.0}


@dataclass(frozen=True)
class EsfResult:
    """Everything needed to plot and explain a threshold choice.

    Attributes
    ----------
    thresholds, volumes : ndarray, shape (n,)
        The thresholds ``t`` and ``V(t)`` (voxels above ``t``, int64).
    fit : ndarray, shape (n,)
        The fitted multi-step model at ``thresholds`` (zeros if the fit failed).
    fit_params : dict
        ``levels`` (``μ_k``), ``amplitudes_voxels`` (``A_k``) and ``widths`` (``σ_k``),
        background first, ``n_levels`` (particle levels ``K``, including a broad edge
        component when the fit has one) and ``boundary_level`` (the index of the level
        taken as the particle boundary).
    threshold : float
        The chosen threshold.
    volume_at_threshold : int
        Voxels above the chosen threshold.
    gradient_at_threshold : float
        ``dV_fit/dt`` there (NaN without a fit).
    method : str
        ``"esf"`` (the fit), ``"otsu"`` (the fallback) or ``"user"``.
    quality : dict
        ``residual``, ``edge_fraction``, ``separation`` (NaN where undefined) and
        ``good`` (all within :data:`QUALITY_LIMITS`).
    fallback : bool
        True when the fit was poor and Otsu's threshold was used.
    warning : str or None
        Why the fallback was used.
    esf_threshold : float or None
        The threshold the fit gave (also when it was rejected; None if it failed).
    """

    thresholds: np.ndarray
    volumes: np.ndarray
    fit: np.ndarray
    fit_params: dict
    threshold: float
    volume_at_threshold: int
    gradient_at_threshold: float
    method: str
    quality: dict = field(default_factory=dict)
    fallback: bool = False
    warning: str | None = None
    esf_threshold: float | None = None

    def summary(self) -> dict:
        """Plain-JSON summary (curve, fit, quality and choice)."""
        def num(x):
            return None if x is None or not np.isfinite(x) else float(x)

        return {
            "method": self.method,
            "fallback": bool(self.fallback),
            "warning": self.warning,
            "threshold": float(self.threshold),
            "esf_threshold": num(self.esf_threshold),
            "volume_at_threshold_voxels": int(self.volume_at_threshold),
            "gradient_at_threshold": num(self.gradient_at_threshold),
            "quality": {k: (bool(v) if isinstance(v, (bool, np.bool_)) else num(v))
                        for k, v in self.quality.items()},
            "quality_limits": dict(QUALITY_LIMITS),
            "fit_params": {k: (int(v) if k in ("n_levels", "boundary_level")
                               else [float(x) for x in v])
                           for k, v in self.fit_params.items()},
            "thresholds": [float(t) for t in self.thresholds],
            "volumes_voxels": [int(v) for v in self.volumes],
            "fit_voxels": [float(v) for v in self.fit],
        }


def steps_model(t, *p):
    """``V(t) = Σ_k A_k erfc((t − μ_k)/(√2 σ_k))/2`` with ``p = (A_0, μ_0, σ_0, A_1, …)``."""
    t = np.asarray(t, dtype=np.float64)
    v = np.zeros_like(t)
    for a, mu, s in zip(p[0::3], p[1::3], p[2::3]):
        v += a * 0.5 * erfc((t - mu) / (_SQRT2 * s))
    return v


def _validate_volume(volume) -> np.ndarray:
    v = np.asarray(volume)
    if v.size == 0:
        raise ValueError("volume is empty; expected an array with at least one voxel")
    check_real(v, "volume")
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


def _start_values(t, volumes, n_total):
    """Candidate start vectors (one per number of particle levels) from V(t)'s histogram.

    Empty when the histogram has no peak above the background's (no particle level).

    The histogram is ``−ΔV`` with a first bin below ``t[0]`` holding the voxels at or
    below it (``N − V(t_0)``: e.g. a background clipped at zero).
    """
    dt = t[1] - t[0]
    v = np.r_[float(n_total), volumes.astype(np.float64)]
    raw = -np.diff(v)
    mid = np.r_[t[0] - 0.5 * dt, 0.5 * (t[1:] + t[:-1])]
    dens = gaussian_filter1d(raw, 1.0, mode="constant")
    peaks, props = find_peaks(np.r_[0.0, dens, 0.0], prominence=0.01 * dens.max())
    peaks = peaks - 1
    # A level is a peak with a real valley next to it (prominence ≥ a quarter of its
    # height); bumps on a broad distribution are not levels.
    keep = props["prominences"] >= MIN_RELATIVE_PROMINENCE * dens[peaks] if peaks.size else []
    peaks, prom = (peaks[keep], props["prominences"][keep]) if peaks.size else (peaks, peaks)
    if peaks.size == 0:
        peaks, prom = np.array([int(np.argmax(dens))]), np.array([1.0])
    bg = int(peaks[0])  # the lowest level is the background
    others = sorted([(p, pr) for p, pr in zip(peaks, prom) if p > bg + 1], key=lambda x: -x[1])
    span = t[-1] - t[0]
    candidates = []
    for k in range(1, min(MAX_LEVELS, len(others)) + 1):
        chosen = sorted([p for p, _ in others[:k]])
        if len(chosen) < k:
            break
        idx = [bg, *chosen]
        valleys = [a + int(np.argmin(dens[a:b + 1])) for a, b in zip(idx[:-1], idx[1:])]
        edges = [0, *valleys, len(raw)]
        p0 = []
        for j, pk in enumerate(idx):
            a = float(raw[edges[j]:edges[j + 1]].sum())
            width = (mid[edges[j + 1] - 1] - mid[edges[j]]) / 4 if edges[j + 1] > edges[j] else dt
            p0 += [max(a, 1.0), float(mid[pk]), float(np.clip(width, dt, span))]
        # The background level stays below the first valley, the particle levels above it.
        valley = float(mid[valleys[0]])
        candidates.append((p0, valley))
        if k < MAX_LEVELS:
            # The same with a broad component for the partial-volume voxels of the edge
            # (a ramp between background and the first level; small particles have many).
            mu0, mu1 = p0[1], p0[4]
            ramp = float(raw[valleys[0]:edges[2]].sum()) if len(edges) > 2 else 1.0
            extra = [max(ramp * 0.5, 1.0), max(valley, 0.5 * (mu0 + mu1)),
                     float(np.clip((mu1 - mu0) / 3, dt, span))]
            candidates.append((p0[:3] + extra + p0[3:], valley))
    return candidates


def _fit(t, volumes, n_total, p0, valley):
    lo, hi, span, dt = t[0], t[-1], t[-1] - t[0], t[1] - t[0]
    k = len(p0) // 3
    lower = [0.0, lo - dt, dt / 2] + [0.0, valley, dt / 2] * (k - 1)
    upper = [float(n_total), valley, span] + [float(n_total), hi, span] * (k - 1)
    p0 = [min(max(p, a), b) for p, a, b in zip(p0, lower, upper)]
    # One point below the range, where every voxel counts (V = N), pins the background.
    t_ext = np.r_[lo - dt, t]
    v_ext = np.r_[float(n_total), volumes.astype(np.float64)]
    params, _ = curve_fit(steps_model, t_ext, v_ext, p0=p0, bounds=(lower, upper), maxfev=4000)
    order = np.argsort(params[1::3])
    params = np.concatenate([params[3 * i:3 * i + 3] for i in order])
    rss = float(np.sum((steps_model(t, *params) - volumes) ** 2))
    return params, rss


def _otsu(values) -> float:
    from skimage.filters import threshold_otsu

    return float(threshold_otsu(values))


@cites(PAPER_002)
def esf_threshold(volume, n_thresholds: int = 100, *, t_range=None,
                  limits: dict | None = None) -> EsfResult:
    """Choose a particle threshold by the multi-step ESF fit of ``V(t)`` (module docstring).

    Parameters
    ----------
    volume : ndarray
        Any-dimensional real array (a reconstruction or a summed element map).
    n_thresholds : int
        Number of thresholds between the lower and upper end of ``t_range`` (≥ 10).
    t_range : (float, float), optional
        Threshold range; default the value range of ``volume``.
    limits : dict, optional
        Overrides of :data:`QUALITY_LIMITS` (e.g. ``{"residual": 0}`` rejects every fit).

    Returns
    -------
    EsfResult
    """
    values = _validate_volume(volume)
    if isinstance(n_thresholds, bool) or int(n_thresholds) != n_thresholds or n_thresholds < 10:
        raise ValueError(f"n_thresholds must be an integer >= 10, got {n_thresholds!r}")
    lim = {**QUALITY_LIMITS, **(limits or {})}
    unknown = set(lim) - set(QUALITY_LIMITS)
    if unknown:
        raise ValueError(f"unknown quality limit(s) {sorted(unknown)}; known: {list(QUALITY_LIMITS)}")
    if t_range is None:
        lo, hi = float(values.min()), float(values.max())
    else:
        lo, hi = (float(x) for x in t_range)
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise ValueError("t_range must be two finite numbers (low, high) with low < high, "
                             f"got {t_range!r}")
    thresholds = np.linspace(lo, hi, int(n_thresholds))
    sorted_values = np.sort(values)
    n = sorted_values.size

    def count_above(t):
        return int(n - np.searchsorted(sorted_values, t, side="right"))

    volumes = (n - np.searchsorted(sorted_values, thresholds, side="right")).astype(np.int64)
    best, reason = None, None
    starts = _start_values(thresholds, volumes, n)
    if not starts:
        reason = ("the histogram of the values has a single peak "
                  "(no particle level distinct from the background)")
    try:
        fits = []
        for p0, valley in starts:
            try:
                params, rss = _fit(thresholds, volumes, n, p0, valley)
            except (RuntimeError, ValueError):
                continue
            bic = thresholds.size * math.log(max(rss, 1e-12) / thresholds.size) \
                + len(params) * math.log(thresholds.size)
            fits.append((bic, params))
        if fits:
            best = min(fits, key=lambda f: f[0])[1]
    except (RuntimeError, ValueError) as exc:  # pragma: no cover - defensive
        reason = f"the fit failed ({exc})"
    quality = {"residual": math.nan, "edge_fraction": math.nan, "separation": math.nan,
               "good": False}
    fit_curve = np.zeros(thresholds.size)
    fit_params = {"levels": [], "amplitudes_voxels": [], "widths": [], "n_levels": 0}
    esf_t, gradient = None, math.nan
    if reason is not None:
        best = None
    elif best is None:
        reason = "the fit of V(t) did not converge"
    else:
        amps, mus, sigmas = best[0::3], best[1::3], best[2::3]
        fit_curve = steps_model(thresholds, *best)
        fit_params = {"levels": mus.tolist(), "amplitudes_voxels": amps.tolist(),
                      "widths": sigmas.tolist(), "n_levels": int(len(mus) - 1)}
        # The outermost particle level: the lowest level that holds ≥ 5 % of the particle
        # and is a plateau, not the ramp of blurred edge voxels (σ ≤ 0.4 of its height);
        # if every level is broad, the largest one.
        particle = amps[1:].sum()
        real = [i for i in range(1, len(mus)) if amps[i] >= 0.05 * particle and mus[i] > mus[0]]
        sharp = [i for i in real if sigmas[i] <= MAX_LEVEL_WIDTH * (mus[i] - mus[0])]
        if not real or particle <= 0:
            reason = "the fit found no particle level above the background"
        else:
            i = sharp[0] if sharp else max(real, key=lambda j: amps[j])
            fit_params["boundary_level"] = int(i)
            esf_t = 0.5 * (mus[0] + mus[i])
            height = mus[i] - mus[0]
            v_t = count_above(esf_t)
            gradient = float(np.sum([
                -a * math.exp(-0.5 * ((esf_t - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
                for a, m, s in zip(amps, mus, sigmas)]))
            edge = count_above(esf_t - height / 4) - count_above(esf_t + height / 4)
            quality = {
                "residual": float(np.sqrt(np.mean((fit_curve - volumes) ** 2)) / max(v_t, 1)),
                "edge_fraction": float(edge / max(v_t, 1)),
                "separation": float(height / (sigmas[0] + sigmas[i])),
            }
            bad = [f"{k} {quality[k]:.3g} > {lim[k]:g}" for k in ("residual", "edge_fraction")
                   if quality[k] > lim[k]]
            if quality["separation"] < lim["separation"]:
                bad.append(f"separation {quality['separation']:.3g} < {lim['separation']:g}")
            if v_t == 0 or v_t == n:
                bad.append(f"{'no' if v_t == 0 else 'every'} voxel is above it")
            quality["good"] = not bad
            if bad:
                reason = "the ESF fit of V(t) is poor (" + ", ".join(bad) + ")"
    if reason is None:
        assert esf_t is not None  # no reason to fall back: the fit set esf_t
        threshold, method, warning = float(esf_t), "esf", None
    else:
        threshold, method = _otsu(values), "otsu"
        warning = f"{reason}; fell back to Otsu's threshold {threshold:.4g}"
    return EsfResult(
        thresholds=thresholds, volumes=volumes, fit=fit_curve, fit_params=fit_params,
        threshold=float(threshold), volume_at_threshold=count_above(threshold),
        gradient_at_threshold=gradient if method == "esf" else math.nan, method=method,
        quality=quality, fallback=method != "esf", warning=warning,
        esf_threshold=None if esf_t is None else float(esf_t),
    )
