"""Tracing by subtraction: heavy atoms first, then the lighter ones in the residual.

In a reconstruction blurred by the probe (0.8 Å FWHM, atom σ ≈ 0.45 Å) a light atom
1.6 Å from a heavy one sits on the heavy atom's shoulder: in paper 000's geometry the
O peak rises only ~1 unit above the saddle towards its Si (Si peak ~10). Noise then
pulls the O peak towards the Si (by up to 0.5 Å), where the minimum distance removes
it, and a noise peak takes its place in a list cut at the expected count. Subtracting
the fitted heavy atoms removes the shoulder, so the light atoms are found and placed
on a flat background (the idea of CLEAN in radio astronomy and of iterative
point-source subtraction in crowded-field photometry).

A light Gaussian pre-filter of the volume (σ_f = σ_atom / √2, from the atoms' own
fitted width) lowers the voxel noise ~3× while widening the atoms by only ~20 %:
uncorrelated voxel noise is what remains at frequencies the probe does not transfer.
Without the subtraction that widening merges light atoms into heavy shoulders;
with it, it is harmless.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import numpy as np
from scipy import ndimage

from .._refs import PAPER_000, cites
from ..atoms import Atoms
from ._kernels import add_isotropic_gaussians
from ._physics import auto_min_distance, measure_atom_width
from ._trace import TraceParams, TraceResult, find_local_maxima, trace_atoms, validate_volume

__all__ = ["auto_prefilter_sigma", "estimate_atom_width", "trace_atoms_by_subtraction"]

#: The model of a heavy atom is drawn out to this many σ.
MODEL_REACH_SIGMAS = 4.0
#: With no gap between the candidates and no measurable atom width, a median candidate
#: below this multiple of the noise floor is the pile-up of noise maxima just above the
#: floor (measured: 1.15–1.18 × on noise-only hard cases; atoms ≥ 2.5 ×).
NOISE_PILEUP_RATIO = 1.5


def _check(params, n_expected):
    params = TraceParams() if params is None else params
    if not isinstance(params, TraceParams):
        raise ValueError(f"params must be a TraceParams, got {type(params).__name__}")
    if n_expected is not None and (int(n_expected) != n_expected or n_expected < 1):
        raise ValueError(f"n_expected must be a positive integer or None, got {n_expected!r}")
    return params


def estimate_atom_width(volume, voxel_size: float, params: TraceParams | None = None, *,
                        n_expected: int | None = None) -> float:
    """Median Gaussian σ (voxels) of the brightest element class traced in ``volume``.

    Returns NaN when no atom of that class gives a valid fit.
    """
    params = _check(params, n_expected)
    res = trace_atoms(volume, voxel_size, params, n_expected=n_expected)
    sel = res.atoms.elements == params.elements[0]
    w = res.atoms.features["width_A"][sel] / float(voxel_size)
    w = w[np.isfinite(w)]
    return float(np.median(w)) if w.size else float("nan")


def auto_prefilter_sigma(volume, voxel_size: float, params: TraceParams | None = None, *,
                         n_expected: int | None = None) -> float:
    """The automatic pre-filter σ_f in voxels: σ_atom / √2 (0 if no atom width is found)."""
    width = estimate_atom_width(volume, voxel_size, params, n_expected=n_expected)
    return float(width / np.sqrt(2.0)) if np.isfinite(width) else 0.0


def _mirror_noise_count(raw: np.ndarray, filtered: np.ndarray, floor: float,
                        connectivity: int) -> int | None:
    """Local minima of ``filtered`` at least as far below its median as ``floor`` is above
    it: for noise symmetric about the background, the expected number of noise maxima above
    the floor. None when ``raw`` is clipped (over 5 % of its voxels at its minimum or at 0,
    e.g. a non-negative SIRT): its lower side is not noise.
    """
    n = raw.size
    if max(np.count_nonzero(raw == raw.min()), np.count_nonzero(raw == 0)) > 0.05 * n:
        return None
    med = float(np.median(filtered))
    return int(find_local_maxima(-filtered, floor - 2.0 * med, connectivity).shape[0])


def _reject_noise_pileup(res: TraceResult, width_method: str, raw, filtered) -> TraceResult:
    """One element, no gap between the candidates and no atom width measured: if the
    candidates pile up just above the noise floor (median < :data:`NOISE_PILEUP_RATIO` ×
    floor), nothing tells them from noise maxima; all become rejected candidates (warned).
    In a signed volume the mirror (:func:`_mirror_noise_count`) must also say that noise
    explains at least half of them: faint atoms of a linear reconstruction also sit just
    above a 5 σ floor.

    Keeping them (the floor alone deciding) returned dozens of noise peaks as atoms at low
    dose with a vacuum level; atoms of a clean volume lie far above the floor.
    """
    if res.auto.get("classification_method") != "no gap" or len(res.atoms) == 0:
        return res
    floor = float(res.noise_floor)
    ratio = float(np.median(res.atoms.features["intensity"]) / floor) if floor > 0 else float("inf")
    auto = res.auto | {"classification_median_over_floor": ratio}
    if width_method != "floor" or not ratio < NOISE_PILEUP_RATIO:
        return replace(res, auto=auto)
    mirror = _mirror_noise_count(raw, filtered, floor, res.params.connectivity)
    auto |= {"noise_maxima_mirrored_above_floor": mirror}
    if mirror is not None and mirror < 0.5 * len(res.atoms):
        return replace(res, auto=auto)
    a, r = res.atoms, res.rejected
    keys = [k for k in a.features if k in r.features] if len(r) else list(a.features)
    rejected = Atoms(np.full(len(a) + len(r), "X"), np.vstack([r.positions, a.positions]),
                     {k: np.concatenate([r.features[k], a.features[k]]) if len(r) else a.features[k]
                      for k in keys})
    n = len(a)
    counts = res.counts | {"n_rejected_non_atoms": res.counts["n_rejected_non_atoms"] + n,
                           "n_atoms": 0}
    warn = (f"no clear gap between atoms and non-atoms, no measurable atom width, and the {n} "
            f"candidates pile up just above the noise floor (median {ratio:.2f} x the floor, "
            f"below {NOISE_PILEUP_RATIO}), as noise maxima do: no atom can be told from noise; "
            "all are kept as rejected candidates")
    empty = Atoms(np.zeros(0, str), np.zeros((0, 3)), {k: v[:0] for k, v in a.features.items()})
    # the no-gap warning said every candidate is kept: replaced, not contradicted
    old = res.auto.get("classification_warning")
    return replace(res, atoms=empty, sorted_intensities=res.sorted_intensities[:0],
                   counts=counts, rejected=rejected,
                   auto=auto | {"classification_method": "no gap (noise pile-up)",
                                "classification_warning": warn},
                   warnings=tuple(w for w in res.warnings if w != old) + (warn,))


def _model_sigmas(width_vox: np.ndarray) -> np.ndarray:
    """Per-atom σ in voxels: the fit where valid, clipped to [½, 2]× the median."""
    ok = np.isfinite(width_vox)
    med = float(np.median(width_vox[ok])) if ok.any() else 1.0
    return np.where(ok, np.clip(width_vox, 0.5 * med, 2.0 * med), med)


@cites(PAPER_000)
def trace_atoms_by_subtraction(volume, voxel_size: float, params: TraceParams | None = None, *,
                               n_expected: int | None = None,
                               prefilter_sigma: str | float = "auto") -> TraceResult:
    """Trace the brightest element, subtract it, and trace the lighter ones in the residual.

    1. Pre-filter: Gaussian of σ_f voxels; 0 = off. ``"auto"``: σ_atom measured on
       isolated atom peaks by :func:`measure_atom_width` (the physical floor as the
       fallback); σ_f = σ_atom for one element (the matched filter: the largest
       signal-to-noise ratio for isolated Gaussian atoms, which one element's bond
       lengths keep ≥ 4 σ apart), σ_atom / √2 for several (a light atom 1.6 Å from a
       heavy one must not merge into its shoulder).
    2. :func:`trace_atoms` on the filtered volume (all classes, ``n_expected``); keep the
       brightest class (``params.elements[0]``).
    3. Subtract an isotropic Gaussian per kept atom (its fitted height and width).
    4. :func:`trace_atoms` on the residual for ``params.elements[1:]``; drop peaks closer
       than ``min_distance_A`` to a heavy atom; keep the brightest
       ``n_expected − n_heavy`` (or ``max_atoms − n_heavy``).

    Positions, features and intensities are those of :func:`trace_atoms` (intensities in
    the filtered volume, light atoms' in the residual); the noise floor of the first pass
    (auto: estimated on the filtered volume) applies to both. One element: steps 1–2 only.

    Parameters
    ----------
    volume : ndarray, shape (z, y, x)
        Reconstruction, brighter where heavier atoms are.
    voxel_size : float
        Voxel size in Å.
    params : TraceParams, optional
        As for :func:`trace_atoms`; ``elements`` from heaviest to lightest.
    n_expected : int, optional
        Known number of atoms of all elements.
    prefilter_sigma : "auto" or float
        σ_f of step 1 in voxels (0 = no filter).

    Returns
    -------
    TraceResult
        Atoms in descending intensity; ``split_thresholds`` of the first pass between the
        heaviest class and the rest, then those of the second pass.
    """
    params = _check(params, n_expected)
    if not (prefilter_sigma == "auto" or (isinstance(prefilter_sigma, (int, float, np.number))
                                          and np.isfinite(prefilter_sigma) and prefilter_sigma >= 0)):
        raise ValueError(f"prefilter_sigma must be 'auto' or a number of voxels ≥ 0, "
                         f"got {prefilter_sigma!r}")
    vol = validate_volume(volume, voxel_size)
    vs = float(voxel_size)
    auto: dict[str, object] = {}
    if params.min_distance_A == "auto":
        md, chosen = auto_min_distance(params.elements, vs)
        auto |= chosen
        params = replace(params, min_distance_A=md)
    warnings = []
    if prefilter_sigma == "auto":
        width = measure_atom_width(vol, vs, float(params.min_distance_A))  # a number by now
        one = len(params.elements) == 1
        sigma_f = float(width.sigma_vox if one else width.sigma_vox / np.sqrt(2.0))
        auto |= {"prefilter_sigma_vox": sigma_f,
                 "prefilter_from": "atom width (matched filter, one element)" if one
                 else "atom width / sqrt(2) (several elements)"} | width.to_dict()
        if width.warning:
            warnings.append(width.warning)
    else:
        sigma_f = float(prefilter_sigma)
    filtered = ndimage.gaussian_filter(vol, sigma_f) if sigma_f > 0 else vol
    first = trace_atoms(filtered, vs, params, n_expected=n_expected)
    first = replace(first, auto=auto | first.auto, warnings=tuple(warnings) + first.warnings)
    if len(params.elements) == 1 and prefilter_sigma == "auto":
        first = _reject_noise_pileup(first, width.method, vol, filtered)
    heavy = first.atoms.elements == params.elements[0]
    if len(params.elements) == 1 or not heavy.any():
        return first
    caps = [c for c in (params.max_atoms, n_expected) if c is not None]
    n_light = None if not caps else int(min(caps)) - int(heavy.sum())

    feats = first.atoms.features
    sigmas = _model_sigmas(feats["width_A"][heavy] / vs)
    residual = np.array(filtered, dtype=np.float32, copy=True)
    centres_zyx = np.ascontiguousarray(first.atoms.positions[heavy][:, ::-1] / vs)
    add_isotropic_gaussians(residual, centres_zyx,
                            -np.asarray(feats["fit_height"][heavy], dtype=np.float64),
                            sigmas.astype(np.float64), MODEL_REACH_SIGMAS)
    # The same floor for both passes: the noise of the (filtered) reconstruction.
    floor = float(first.noise_floor)
    light_params = replace(
        params, elements=params.elements[1:], noise_floor=floor, max_atoms=None,
        classify="none" if n_expected is not None else params.classify,
        split="auto" if params.split == "auto" else (cast(tuple, params.split)[1:] or "auto"),
    )
    if n_light is not None and n_light < 1:
        light = None
    else:
        light = trace_atoms(residual, vs, light_params)
    if light is None or len(light.atoms) == 0:
        keep = np.zeros(0, dtype=np.intp)
    else:
        from scipy.spatial import cKDTree

        dist, _ = cKDTree(first.atoms.positions[heavy]).query(light.atoms.positions)
        keep = np.flatnonzero(dist >= params.min_distance_A)
        if n_light is not None:
            keep = keep[:n_light]
    parts = [(first.atoms, np.flatnonzero(heavy))]
    if keep.size:
        assert light is not None  # keep is empty without light atoms
        parts.append((light.atoms, keep))
    elements = np.concatenate([a.elements[i] for a, i in parts])
    positions = np.concatenate([a.positions[i] for a, i in parts])
    features = {k: np.concatenate([a.features[k][i] for a, i in parts]) for k in feats}
    order = np.argsort(-features["intensity"], kind="stable")
    atoms = Atoms(elements[order], positions[order], {k: v[order] for k, v in features.items()})
    thresholds = first.split_thresholds[:1] + (light.split_thresholds if light is not None else ())
    counts = dict(first.counts)
    n_light_dropped = 0
    if light is not None:
        counts |= {f"light_{k}": v for k, v in light.counts.items()}
        n_light_dropped = len(light.atoms) - int(keep.size)
        auto |= {f"light_{k}": v for k, v in light.auto.items() if k.startswith("class")}
    counts["n_light_dropped_near_heavy_or_count"] = n_light_dropped
    counts["n_atoms"] = len(atoms)
    rejected = first.rejected
    if light is not None and len(light.rejected):
        rejected = Atoms(np.concatenate([rejected.elements, light.rejected.elements]),
                         np.concatenate([rejected.positions, light.rejected.positions]),
                         {k: np.concatenate([rejected.features[k], light.rejected.features[k]])
                          for k in rejected.features})
    return TraceResult(
        counts=counts, auto=first.auto | auto, rejected=rejected,
        warnings=first.warnings + (light.warnings if light is not None else ()),
        atoms=atoms,
        sorted_intensities=atoms.features["intensity"].copy(),
        noise_floor=float(first.noise_floor),
        split_thresholds=tuple(float(t) for t in thresholds),
        n_local_maxima=int(first.n_local_maxima),
        voxel_size=vs,
        params=params,
    )
