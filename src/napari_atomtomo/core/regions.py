"""Compositions per region with standard errors, and the object support of a tilt series.

* :func:`poisson_resample`: a parametric bootstrap replica of counted data, each pixel
  drawn from ``Poisson(max(I, 0))``. For data that were smoothed after counting (the
  paper's Gaussian filter on the EDS sinograms) the replica is noisier than the data, so
  the standard errors it gives are upper bounds.
* :func:`region_statistics`: per labelled region (inside the particle mask) the mean
  weight fraction of each element and its standard error, the standard deviation of the
  region mean over the resampled reconstructions (``se_method = "poisson_resampling"``).
  Without replicas the standard error is ``None`` (``se_method = "none"``).
* :func:`support_from_series`: the object's support from a tilt series (e.g. HAADF):
  the visual hull, i.e. the voxels whose projection lands inside the object's shadow
  (:data:`SHADOW_LEVEL` of the smoothed projections' range) in at least 90 % of the tilts. It
  contains the object (it over-estimates it along the missing wedge), and is used to
  flag thresholded regions that are implausibly small or large (:data:`SUPPORT_RANGE`).
* :func:`particle_from_series`: the particle from a HAADF series instead of the element
  maps: non-negative SIRT with the default stopping rule (:mod:`.stopping`), then the ESF
  threshold (with its Otsu fallback) of that reconstruction.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from ._refs import PAPER_002, cites

__all__ = ["SUPPORT_RANGE", "format_composition", "particle_from_series", "poisson_resample",
           "region_statistics", "support_check", "support_from_series"]

#: A thresholded region outside this fraction of the support is implausible.
SUPPORT_RANGE = (0.2, 3.0)
#: The object's shadow: projections above this fraction of the way from the background
#: (5th percentile) to the top (99.5th percentile) of the smoothed series.
SHADOW_LEVEL = 0.1
#: Fraction of tilts in which a voxel must project into the object's shadow.
HULL_FRACTION = 0.9


def poisson_resample(stacks: dict, rng) -> dict:
    """``{name: Poisson(max(I, 0))}`` as float32, one replica of every stack."""
    return {k: rng.poisson(np.maximum(np.asarray(v, dtype=np.float64), 0.0)).astype(np.float32)
            for k, v in stacks.items()}


def _check_labels(labels, shape) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.shape != tuple(shape):
        raise ValueError(f"the label map has shape {lab.shape} but the maps have shape {tuple(shape)}")
    if not np.all(np.isfinite(lab)) or np.any(lab != np.round(lab)) or np.any(lab < 0):
        raise ValueError("the label map must hold whole numbers >= 0 (0 = no region)")
    lab = lab.astype(np.int64)
    if not np.any(lab > 0):
        raise ValueError("the label map has no region (every voxel is 0)")
    return lab


@cites(PAPER_002)
def region_statistics(fractions: dict, mask: np.ndarray, labels=None,
                      replicas: list | None = None, *, selections: dict | None = None) -> dict:
    """Mean weight fraction ± standard error per region (module docstring).

    Parameters
    ----------
    fractions : dict of str -> ndarray
        Weight fractions per element (zero outside ``mask``).
    mask : ndarray of bool
        The particle (voxels above the threshold).
    labels : ndarray of int, optional
        Region labels (0 = none); default one region ``"particle"`` = ``mask``.
    replicas : list of dict, optional
        Weight fractions of resampled reconstructions (each masked like ``fractions``).
    selections : dict of str -> ndarray of bool, optional
        The voxels to average per region (e.g. away from the boundaries,
        :func:`~.region_margin.region_selections`) instead of ``(labels == k) & mask``;
        the standard errors are then over those voxels too.

    Returns
    -------
    dict
        ``{region: {"n_voxels", "mean": {El: x}, "standard_error": {El: se or None}}}``;
        a region with no voxel inside the mask has means ``None``.
    """
    shape = next(iter(fractions.values())).shape
    if selections is not None:
        regions = {name: np.asarray(sel, dtype=bool) & mask for name, sel in selections.items()}
    elif labels is None:
        regions = {"particle": mask}
    else:
        lab = _check_labels(labels, shape)
        regions = {str(int(v)): (lab == v) & mask for v in np.unique(lab[lab > 0])}
    out = {}
    for name, sel in regions.items():
        n = int(np.count_nonzero(sel))
        mean = {el: (float(f[sel].mean()) if n else None) for el, f in fractions.items()}
        se: dict[str, float | None] = {el: None for el in fractions}
        if replicas and len(replicas) >= 2 and n:
            for el in fractions:
                vals = [float(r[el][sel].mean()) for r in replicas]
                se[el] = float(np.std(vals, ddof=1))
        out[name] = {"n_voxels": n, "mean": mean, "standard_error": se}
    return out


def format_composition(stats: dict) -> str:
    """``"particle: Ag 70 ± 2 wt %, Au 30 ± 2 wt %"``, one region a line."""
    lines = []
    for name, s in stats.items():
        parts = []
        for el, m in s["mean"].items():
            if m is None:
                parts.append(f"{el} –")
                continue
            se = s["standard_error"][el]
            parts.append(f"{el} {100 * m:.1f}" + (f" ± {100 * se:.1f}" if se is not None else "")
                         + " wt %")
        flag = s.get("reliability") or {}
        size = f"{s['n_voxels']} voxels"
        if s.get("n_voxels_used") is not None and s.get("margin_voxels"):
            size = (f"{s['n_voxels_used']} of {s['n_voxels']} voxels, "
                    f"{s['margin_voxels']:.1f} voxels from the boundaries"
                    + (" (smaller margin)" if s.get("margin_fallback") else ""))
        lines.append(f"{name} ({size}): " + ", ".join(parts)
                     + ("  [unreliable, see the warning]" if flag.get("reliable") is False else ""))
    return "\n".join(lines)


def support_from_series(series, angles_deg, volume_shape=None) -> np.ndarray:
    """The visual hull of the object in a tilt series ``(angle, y, x)`` (module docstring)."""
    from .projectors import back_project

    s = np.asarray(series, dtype=np.float64)
    if s.ndim != 3:
        raise ValueError(f"the tilt series must have 3 axes (angle, y, x), got shape {s.shape}")
    sigma = (0, 1.0 if s.shape[1] > 1 else 0, 1.0)
    smooth = gaussian_filter(s, sigma)
    if smooth.max() <= smooth.min():
        raise ValueError("the tilt series is constant; it shows no object")
    low, high = np.percentile(smooth, [5.0, 99.5])
    shadow = (smooth > low + SHADOW_LEVEL * (high - low)).astype(np.float32)
    hits = back_project(shadow, angles_deg, volume_shape=volume_shape)
    total = back_project(np.ones_like(shadow), angles_deg, volume_shape=volume_shape)
    return (hits >= HULL_FRACTION * total) & (total > 0)


def support_check(mask: np.ndarray, support: np.ndarray, source: str) -> tuple[dict, str | None]:
    """Ratio of the thresholded region to the support, and a warning outside :data:`SUPPORT_RANGE`."""
    n_mask, n_sup = int(np.count_nonzero(mask)), int(np.count_nonzero(support))
    ratio = n_mask / n_sup if n_sup else float("inf")
    info = {"support_source": source, "support_voxels": n_sup,
            "region_to_support": float(ratio) if np.isfinite(ratio) else None}
    lo, hi = SUPPORT_RANGE
    warning = None
    if not (lo <= ratio <= hi):
        warning = (f"the thresholded region ({n_mask} voxels) is {100 * ratio:.0f} % of the "
                   f"{source} support ({n_sup} voxels), outside the plausible "
                   f"{100 * lo:.0f}–{100 * hi:.0f} %; check the threshold")
    return info, warning


def particle_from_series(series, angles_deg, volume_shape):
    """``(mask, esf, stop_info)``: the particle of a HAADF series (module docstring)."""
    from .stopping import sirt_stopped
    from .threshold import esf_threshold

    s = np.asarray(series, dtype=np.float32)
    shape = (s.shape[2], s.shape[1], s.shape[2]) if s.ndim == 3 else None
    if shape != tuple(volume_shape):
        raise ValueError(f"the HAADF series reconstructs a volume of shape {shape} but the maps "
                         f"have shape {tuple(volume_shape)}")
    vol, info = sirt_stopped(s, angles_deg)
    esf = esf_threshold(vol)
    return vol > esf.threshold, esf, info
