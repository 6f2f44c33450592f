"""Is a region's composition trustworthy? The measured resolution against the region's size.

A reconstruction blurs each element map by its point-spread function, which is wider along
``z`` (the beam direction at 0°) when the tilt range leaves a missing wedge. A region's mean
weight fraction is then mixed with its neighbours' wherever it lies within about one
resolution length of another region of a different composition; vacuum does not bias it
(fractions are normalised per voxel). Measured on the phantom family
(``benchmarks/quantify_phantoms.py``, docs/reproduction-hebt.md): the cap of the
core/shell/cap particle, a layer 3–10 voxels thick stacked along ``z`` on the shell, is the
family's worst region at 31 tilts ±75° (1.1–3.4 wt % off with HEBT's and EDS's default
stopping rules, every other region ≤ 2.1; 2–6 wt % with fewer iterations), and within
1 wt % at ±90°.

* :func:`edge_resolution`: the resolution along each axis, measured on the particle's
  surface in the summed map ``S``: for a step of height ``H`` blurred by a Gaussian of σ,
  the steepest gradient across it is ``H / (σ √(2π))``. ``H`` is the median of ``S`` over
  the particle's interior (the mask eroded by 2 voxels), the gradient the 90th percentile
  of ``|∂S/∂a|`` at the voxels where the mask changes along axis ``a`` (the edges most
  nearly perpendicular to ``a``). Reported as the FWHM ``2.355 σ`` in voxels; it includes
  the grid's own step (a sharp edge gives ~1.9 voxels; blur and grid add in quadrature).
* Missing wedge: with single-axis tilts (axis ``y``) up to ±θ, a direction of Fourier
  space whose projection on the ``x``–``z`` plane lies within ``90° − θ`` of ``z`` is
  measured by no projection. An interface between two regions whose normal lies in that
  wedge (a layer stacked along ``z``, such as the cap) is therefore not measured, only
  inferred by the iterations. :func:`region_reliability` flags a region when more than
  :data:`MAX_WEDGE_FRACTION` of its interface with other regions (normals from the
  smoothed region indicator) lies in the wedge — this is what separates the cap (2–6 wt %
  off at ±75°, within 1 wt % at ±90°) from the core, shell, halves and gradient thirds
  (within 1.5 wt %), whose interfaces face every direction or lie along ``z``.
* :func:`region_reliability`: per region, the depth of its interior: the largest distance
  of its voxels (inside the particle) from every other region, measured in resolution
  lengths (the FWHM per axis, so a distance along ``z`` counts for less when ``z`` is
  blurred more). A region whose depth is below :data:`MIN_DEPTH_RESOLUTIONS` has no voxel
  free of its neighbours' blur: its composition is flagged unreliable, with the axis that
  limits it. Regions with no other region nearby (one particle, separate particles) are
  never flagged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.ndimage import binary_dilation, binary_erosion, distance_transform_edt, gaussian_filter

__all__ = ["MAX_WEDGE_FRACTION", "MIN_DEPTH_RESOLUTIONS", "edge_resolution", "region_reliability",
           "reliability_warnings", "wedge_fraction"]

#: A region is flagged when more than this fraction of its interface with other regions
#: has its normal in the missing wedge.
MAX_WEDGE_FRACTION = 0.5

#: A region whose interior is less than this many resolution lengths (FWHM) from another
#: region is flagged (its mean mixes with the neighbour's).
MIN_DEPTH_RESOLUTIONS = 1.0
_AXES = ("z", "y", "x")
_FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: A sharp step sampled on the grid (central differences): the smallest FWHM measurable.
_MIN_FWHM = _FWHM * 2.0 / math.sqrt(2.0 * math.pi)


def _active_axes(shape) -> list[int]:
    return [a for a in range(3) if shape[a] > 1]


def edge_resolution(summed: np.ndarray, mask: np.ndarray) -> dict:
    """``{"z": fwhm, "y": fwhm, "x": fwhm}`` in voxels (axes of length 1 left out; module docstring).

    ``None`` for an axis without particle edges (or when the particle has no interior).
    """
    s = np.asarray(summed, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    if s.shape != m.shape or s.ndim != 3:
        raise ValueError(f"the summed map {s.shape} and the mask {m.shape} must be (z, y, x) "
                         "volumes of one shape")
    axes = _active_axes(s.shape)
    st = np.zeros((3, 3, 3), bool)
    for a in axes:
        idx = [1, 1, 1]
        for k in (0, 2):
            idx[a] = k
            st[tuple(idx)] = True
    st[1, 1, 1] = True
    core = binary_erosion(m, st, iterations=2)
    inside = s[core] if core.any() else s[m]
    out: dict[str, float | None] = {}
    if inside.size == 0:
        return {_AXES[a]: None for a in axes}
    height = float(np.median(inside))
    for a in axes:
        g = np.abs(np.gradient(s, axis=a))
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[a], hi[a] = slice(0, -1), slice(1, None)
        change = m[tuple(lo)] != m[tuple(hi)]
        if not change.any() or height <= 0:
            out[_AXES[a]] = None
            continue
        g_edge = np.maximum(g[tuple(lo)], g[tuple(hi)])[change]
        steep = float(np.percentile(g_edge, 90))
        if steep <= 0:
            out[_AXES[a]] = None
            continue
        sigma = height / (math.sqrt(2.0 * math.pi) * steep)
        out[_AXES[a]] = float(max(_FWHM * sigma, _MIN_FWHM))
    return out


def _cross(axes) -> np.ndarray:
    st = np.zeros((3, 3, 3), bool)
    st[1, 1, 1] = True
    for a in axes:
        for k in (0, 2):
            idx = [1, 1, 1]
            idx[a] = k
            st[tuple(idx)] = True
    return st


def wedge_fraction(labels: np.ndarray, value: int, max_tilt_deg: float) -> float | None:
    """Fraction of region ``value``'s interface with other regions whose normal is in the
    missing wedge of a ±``max_tilt_deg`` series (tilt axis ``y``); ``None`` without one.
    """
    lab = np.asarray(labels)
    region = lab == value
    other = (lab > 0) & ~region
    axes = _active_axes(lab.shape)
    face = region & binary_dilation(other, _cross(axes))
    if not face.any():
        return None
    sigma = [1.0 if a in axes else 0.0 for a in range(3)]
    smooth = gaussian_filter(region.astype(np.float64), sigma)
    nz = np.gradient(smooth, axis=0)[face]
    nx = np.gradient(smooth, axis=2)[face]
    nxz = np.hypot(nz, nx)
    ok = nxz > 1e-9
    if not ok.any():
        return 0.0
    limit = math.sin(math.radians(min(abs(float(max_tilt_deg)), 90.0)))
    return float(np.mean(np.abs(nz[ok]) / nxz[ok] > limit + 1e-12))


def region_reliability(labels: np.ndarray, mask: np.ndarray, resolution: dict,
                       min_depth: float = MIN_DEPTH_RESOLUTIONS, max_tilt_deg=None) -> dict:
    """Per region ``{"depth_resolutions", "limiting_axis", "wedge_fraction", "reliable",
    "reason"}`` (module docstring).

    ``depth_resolutions`` is ``None`` when no other region exists, ``wedge_fraction``
    ``None`` when the tilt range is unknown (``max_tilt_deg=None``) or the region touches
    no other region.
    """
    lab = np.asarray(labels)
    m = np.asarray(mask, dtype=bool)
    axes = _active_axes(lab.shape)
    fwhm = {_AXES[a]: resolution.get(_AXES[a]) for a in axes}
    known = [v for v in fwhm.values() if v]
    default = max(known) if known else _MIN_FWHM
    sampling = [1.0, 1.0, 1.0]
    for a in axes:
        sampling[a] = 1.0 / (fwhm[_AXES[a]] or default)
    values = [int(v) for v in np.unique(lab[lab > 0])]
    out = {}
    for v in values:
        region = (lab == v) & m
        other = (lab > 0) & (lab != v)
        entry: dict[str, Any] = {"depth_resolutions": None, "limiting_axis": None,
                                 "wedge_fraction": None, "reliable": True, "reason": None}
        if not region.any():
            entry.update(reliable=False, reason="no voxel of the region is inside the particle")
        elif other.any():
            dist, idx = distance_transform_edt(~other, sampling=sampling, return_indices=True)
            inner = np.where(region, dist, -1.0)
            k = np.unravel_index(int(np.argmax(inner)), inner.shape)
            depth = float(inner[k])
            # The axis along which the nearest other region lies (in resolution lengths).
            steps = [abs(int(idx[a][k]) - k[a]) * sampling[a] for a in range(3)]
            limit = _AXES[int(np.argmax(steps))]
            entry.update(depth_resolutions=depth, limiting_axis=limit)
            if depth < min_depth:
                nb = int(lab[tuple(int(idx[a][k]) for a in range(3))])
                entry.update(reliable=False, reason=(
                    f"every voxel of it lies within {depth:.2f} resolution lengths of region "
                    f"{nb} (less than {min_depth:g}; nearest along {limit}, resolution "
                    + ", ".join(f"{ax} {f:.1f}" for ax, f in fwhm.items() if f)
                    + " voxels): its mean mixes with that region's"
                    + (" — z is the beam direction, blurred most by the missing wedge"
                       if limit == "z" else "")))
        if max_tilt_deg is not None and entry["reliable"]:
            wf = wedge_fraction(lab, v, max_tilt_deg)
            entry["wedge_fraction"] = wf
            if wf is not None and wf > MAX_WEDGE_FRACTION:
                entry.update(reliable=False, reason=(
                    f"{100 * wf:.0f} % of its interface with other regions faces the beam "
                    f"direction z within {90 - abs(float(max_tilt_deg)):.0f}°, the missing "
                    f"wedge of a ±{abs(float(max_tilt_deg)):g}° tilt series: no projection "
                    "measures that interface, so the region's mean mixes with its neighbour's "
                    "(more tilts, a wider range or a sample turned by 90° would measure it)"))
        out[str(v)] = entry
    return out


def reliability_warnings(reliability: dict) -> list[str]:
    """One ``"composition of region k is unreliable: …"`` line per flagged region."""
    return [f"composition of region {k} is unreliable: {e['reason']}"
            for k, e in reliability.items() if not e["reliable"]]
