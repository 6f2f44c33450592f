"""Per-region compositions away from the blurred region boundaries (the margin).

A reconstruction blurs every element map (its point-spread function, plus the voxel grid's
own partial volume). A region painted up to its boundaries (as a user paints it in napari,
or a label map of the true regions) then averages, in the voxels next to a neighbour, a
mixture of the two compositions: measured on the phantom family
(``benchmarks/quantify_phantoms.py``, docs/quantification.md) the core of the 3D Co–Zn
core/shell/cap particle comes out at 69.6 wt % Zn instead of 80 with its full true label
map, and within 1 wt % once the voxels within about two blur σ of another region are left
out. Nothing in the mean itself shows the bias.

* :func:`auto_margin`: the margin is :data:`MARGIN_SIGMAS` σ of the blur measured on the
  reconstruction itself: the edge FWHM of the summed map at the particle surface
  (:func:`~.reliability.edge_resolution`, which includes the grid's own step), worst axis,
  ``σ = FWHM / 2.355``. A step blurred by a Gaussian of σ leaks
  ``erfc(2 / √2) / 2 = 2.3 %`` of the neighbour's composition into a voxel 2σ from the
  interface, so the voxels used carry at most that much of it (less on average).
* :func:`region_selections`: a region's voxels used are those of the region (inside the
  particle) whose centre lies at least the margin from every voxel that is not the
  region's: another label, an unpainted voxel (of unknown composition) or the particle's
  outside. With the Euclidean distance transform ``d`` (:func:`scipy.ndimage.
  distance_transform_edt`, voxel centre to the nearest outside voxel centre) the
  interface lies at ``d − 0.5``, so a voxel is used when ``d − 0.5 ≥ margin`` (the field's
  edge counts as outside; a 2D ``(z, 1, x)`` slice is eroded in its plane). It is computed
  in each region's bounding box.
  A region that keeps fewer than :data:`MIN_VOXELS` voxels or :data:`MIN_FRACTION` of its
  painted voxels falls back to the largest smaller margin that keeps that many (0: all of
  them), and a warning says so: its mean is then closer to the boundary's bias, and its
  standard error (over the voxels used) larger.
* :func:`region_composition`: the per-region statistics
  (:func:`~.regions.region_statistics` over the voxels used), the margin per region and
  the reliability checks (:func:`~.reliability.region_reliability`), with their warnings:
  what ``atomtomo quantify --regions`` and the Quantify widget's regions (a Labels layer)
  both report.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import distance_transform_edt, find_objects

from ._refs import PAPER_002, cites

__all__ = ["margin_text", "MARGIN_SIGMAS", "MIN_FRACTION", "MIN_VOXELS", "auto_margin", "check_margin",
           "region_composition", "region_selections"]

#: The automatic margin, in σ of the measured blur (2.3 % of a neighbour's step left).
MARGIN_SIGMAS = 2.0
#: A region's voxels used must be at least this many ...
MIN_VOXELS = 10
#: ... and at least this fraction of its painted voxels (inside the particle).
MIN_FRACTION = 0.05
_FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0))


def check_margin(margin):
    """``"auto"`` or a finite number of voxels ≥ 0 (as a float)."""
    if isinstance(margin, str):
        if margin != "auto":
            raise ValueError(f"the region margin must be 'auto' or a number of voxels >= 0, "
                             f"got {margin!r}")
        return margin
    try:
        value = float(margin)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(margin, bool) or not (math.isfinite(value) and value >= 0):
        raise ValueError(f"the region margin must be 'auto' or a number of voxels >= 0, "
                         f"got {margin!r}")
    return value


def auto_margin(resolution: dict) -> tuple[float, str]:
    """``(margin_voxels, source)``: :data:`MARGIN_SIGMAS` σ of the worst-axis edge blur."""
    known = {ax: v for ax, v in resolution.items() if v}
    if not known:
        return 0.0, "no edge blur could be measured (the particle has no interior): no margin"
    axis = max(known, key=lambda ax: known[ax])
    sigma = known[axis] / _FWHM
    return (MARGIN_SIGMAS * sigma,
            f"auto: {MARGIN_SIGMAS:g} σ of the blur measured at the particle surface "
            f"(edge FWHM of the summed map {known[axis]:.2f} voxels along {axis}, the worst "
            f"axis; σ = FWHM / 2.355 = {sigma:.2f} voxels)")


def _distance_inside(region: np.ndarray, pad) -> np.ndarray:
    """Distance of each voxel of ``region`` (a bounding box of it) to the nearest voxel
    outside it (0 outside); ``pad``: per axis, ``(1, 1)`` where the field's edge counts as
    outside, ``(0, 0)`` for axes of length 1 (a 2D ``(z, 1, x)`` slice is eroded in its
    plane). Outside its box every voxel is outside the region, so the box padded with one
    ring of outside voxels gives the same distances as the whole field.
    """
    d = distance_transform_edt(np.pad(region, pad))
    return d[tuple(slice(p[0], d.shape[a] - p[1]) for a, p in enumerate(pad))]


def _fallback_margin(d_inside: np.ndarray, margin: float, need: int) -> float:
    """The largest margin ≤ ``margin`` that keeps at least ``need`` voxels (0: all)."""
    if d_inside.size <= need:
        return 0.0
    kth = float(np.sort(d_inside)[::-1][need - 1]) - 0.5
    return float(max(0.0, min(margin, kth)))


def region_selections(labels, mask, margin: float) -> tuple[dict, dict, list]:
    """``(selections, info, warnings)`` per label (module docstring).

    ``selections[name]`` is the bool array of the voxels used; ``info[name]`` holds
    ``n_voxels_painted`` (inside the particle), ``n_voxels_used``, ``margin_voxels`` (the
    margin applied), ``margin_fallback`` (bool).
    """
    lab = np.asarray(labels)
    m = np.asarray(mask, dtype=bool)
    sel_out, info, warnings = {}, {}, []
    values = np.unique(lab[lab > 0])
    # each label's work in its bounding box, not over the whole field (per label: a
    # comparison, a distance map and selections, GiB-sized at 512³)
    boxes = find_objects(lab.astype(np.intp, copy=False)) if values.size else []
    pad = [(1, 1) if n > 1 else (0, 0) for n in lab.shape]
    for v in values:
        name = str(int(v))
        box = boxes[int(v) - 1]
        region = (lab[box] == v) & m[box]
        painted = int(np.count_nonzero(region))
        used_margin, fallback = float(margin), False
        if margin > 0 and painted:
            d = _distance_inside(region, pad)
            sel = region & (d - 0.5 >= margin)
            need = max(MIN_VOXELS, int(math.ceil(MIN_FRACTION * painted)))
            n_at_margin = int(np.count_nonzero(sel))
            if n_at_margin < need:
                used_margin, fallback = _fallback_margin(d[region], margin, need), True
                sel = region & (d - 0.5 >= used_margin) if used_margin > 0 else region
                warnings.append(
                    f"region {name} is too thin for the margin of {margin:.2f} voxels "
                    f"({n_at_margin} of its {painted} "
                    f"voxels would be left, fewer than {need}): a margin of {used_margin:.2f} "
                    f"voxels was used ({int(np.count_nonzero(sel))} voxels), so its mean still "
                    "mixes with its neighbours' blur")
        else:
            sel = region
        sel_out[name] = np.zeros(lab.shape, bool)
        sel_out[name][box] = sel
        info[name] = {"n_voxels_painted": painted, "n_voxels_used": int(np.count_nonzero(sel)),
                      "margin_voxels": used_margin, "margin_fallback": fallback}
    return sel_out, info, warnings


@cites(PAPER_002)
def region_composition(fractions: dict, mask, labels, replicas=None, *, summed=None,
                       resolution: dict | None = None, margin="auto",
                       voxel_size: float | None = None, max_tilt_deg=None
                       ) -> tuple[dict, list, dict]:
    """Per-region composition away from the boundaries, with reliability (module docstring).

    Parameters
    ----------
    fractions, mask, labels, replicas
        As :func:`~.regions.region_statistics` (``labels`` required).
    summed : ndarray, optional
        The summed map ``S`` the particle was thresholded on (for the edge blur); needed
        unless ``resolution`` is given.
    resolution : dict, optional
        :func:`~.reliability.edge_resolution` of ``summed`` and ``mask``, when the caller
        has measured it already (else measured here).
    margin : "auto" or float
        The margin in voxels (0: every painted voxel, the former behaviour).
    voxel_size : float, optional
        Å per voxel, for ``margin_A``.
    max_tilt_deg : float, optional
        The tilt range, for the missing-wedge check.

    Returns
    -------
    (regions, warnings, margin_info)
        ``regions`` as :func:`~.regions.region_statistics` plus per region
        ``n_voxels_painted`` (= ``n_voxels``, inside the particle), ``n_voxels_used`` (the
        voxels the mean and standard error are over), ``margin_voxels``,
        ``margin_A``, ``margin_source``, ``margin_fallback`` and ``reliability``;
        ``margin_info`` the requested margin, the margin it stands for and its source.
    """
    from .regions import _check_labels, region_statistics
    from .reliability import edge_resolution, region_reliability, reliability_warnings

    m = np.asarray(mask, dtype=bool)
    lab = _check_labels(labels, m.shape)
    requested = check_margin(margin)
    if resolution is None:
        if summed is None:
            raise ValueError("region_composition needs the summed map (summed=) or its edge "
                             "resolution (resolution=)")
        resolution = edge_resolution(summed, m)
    if requested == "auto":
        value, source = auto_margin(resolution)
    else:
        value, source = float(requested), ("off: every painted voxel"
                                           if requested == 0 else "given")
    sels, info, warnings = region_selections(lab, m, value)
    regions = region_statistics(fractions, m, lab, replicas, selections=sels)
    vs = None if voxel_size is None else float(voxel_size)
    for name, entry in regions.items():
        i = info[name]
        # n_voxels keeps its meaning (the region inside the particle); the mean and
        # standard error are over the n_voxels_used voxels.
        entry.update(i, n_voxels=i["n_voxels_painted"],
                     margin_A=None if vs is None else i["margin_voxels"] * vs,
                     margin_source=source)
    rel = region_reliability(lab, m, resolution, max_tilt_deg=max_tilt_deg)
    for name, entry in rel.items():
        if name in regions:
            regions[name]["reliability"] = entry
    warnings = warnings + reliability_warnings(rel)
    margin_info = {"requested": requested, "margin_voxels": value,
                   "margin_A": None if vs is None else value * vs, "source": source,
                   "margin_sigmas": MARGIN_SIGMAS if requested == "auto" else None,
                   "min_voxels": MIN_VOXELS, "min_fraction": MIN_FRACTION,
                   "resolution_voxels": resolution}
    return regions, warnings, margin_info


def margin_text(info: dict) -> str:
    """The region margin chosen, as ``atomtomo quantify --regions`` prints it and the
    Quantify dock shows it: voxels, Å and where it came from (``margin_info`` of
    :func:`region_composition`).
    """
    m_a = info.get("margin_A")
    return (f"region margin {info['margin_voxels']:.2f} voxels"
            + (f" = {m_a:.3g} Å" if m_a is not None else "") + f" ({info['source']})")
