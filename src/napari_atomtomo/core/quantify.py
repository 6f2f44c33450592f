"""Weight-fraction maps from reconstructed element maps (paper 002, Eq. 12 and Eq. 18).

An EDS-STEM reconstruction of element ``A`` is ``X_A = n f_A C_A ρ`` per voxel, a
HEBT reconstruction ``X_A = z_A C_A ρ`` (the constant ``n`` or the response ratio being
common to all elements). Dividing each map by its factor (``f_A`` for ``kind="eds"``,
``z_A`` for ``kind="hebt"``) leaves ``C_A ρ`` up to one common constant, and
normalising per voxel gives the weight fractions ``C_A``.

Before normalising, voxels whose summed ``S = Σ_A X_A / factor_A`` is below a threshold
are set to zero in every map (paper §2.1): the normalisation would otherwise turn
background noise into fractions of order one. The threshold is given, or chosen on
``S`` by the ESF method (:func:`~napari_atomtomo.core.threshold.esf_threshold`).
Negative voxels (reconstruction noise of an unconstrained solver) count as zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .elements import element_factors
from .threshold import EsfResult, esf_threshold

__all__ = ["QuantifyResult", "factor_kind", "quantify_maps", "summed_map"]

_KIND_TO_FACTOR = {"eds": "f", "hebt": "z"}


@dataclass(frozen=True)
class QuantifyResult:
    """Weight-fraction maps and how they were made.

    Attributes
    ----------
    weight_fractions : dict of str -> ndarray (float32)
        ``C_A`` per voxel, 0–1, zero outside the mask; the fractions sum to 1 inside.
    threshold : float
        Threshold applied to the summed map ``Σ X_A / factor_A``.
    mask : ndarray of bool
        Voxels kept (summed map above zero and not below the threshold).
    factors_used : dict of str -> float
        The factor each map was divided by (b·mol/g).
    n_voxels : int
        Number of voxels in the mask (the particle volume in voxels).
    kind : str
        ``"eds"`` or ``"hebt"``.
    esf : EsfResult or None
        The ESF curve and fit when the threshold was ``"auto"``.
    """

    weight_fractions: dict
    threshold: float
    mask: np.ndarray
    factors_used: dict
    n_voxels: int
    kind: str
    esf: EsfResult | None = field(default=None, repr=False)


def factor_kind(kind: str) -> str:
    """``"f"`` for ``kind="eds"`` (Eq. 12), ``"z"`` for ``kind="hebt"`` (Eq. 18)."""
    if kind not in _KIND_TO_FACTOR:
        raise ValueError(f"kind must be 'eds' or 'hebt', got {kind!r}")
    return _KIND_TO_FACTOR[kind]


def _check_maps(maps) -> dict[str, np.ndarray]:
    if not isinstance(maps, dict) or not maps:
        raise ValueError("maps must be a non-empty dict {element: map}, e.g. {'Ag': ..., 'Au': ...}")
    out: dict[str, np.ndarray] = {}
    shape = None
    for el, m in maps.items():
        a = np.asarray(m)
        if a.size == 0:
            raise ValueError(f"map of {el!r} is empty; expected a 2D or 3D array")
        if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
            raise ValueError(f"map of {el!r} must hold real numbers, got dtype {a.dtype}")
        if shape is None:
            shape, first = a.shape, el
        elif a.shape != shape:
            raise ValueError(f"map of {el!r} has shape {a.shape} but the map of {first!r} has "
                             f"shape {shape}; all maps must have the same shape")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"map of {el!r} contains NaN or infinite values")
        out[el] = a
    return out


def summed_map(maps, kind: str, factors=None) -> tuple[np.ndarray, dict[str, float]]:
    """``S = Σ_A max(X_A, 0) / factor_A`` (float64) and the factors used."""
    which = factor_kind(kind)
    maps = _check_maps(maps)
    table = element_factors(list(maps), factors, require=which)
    used = {el: table[el].get(which) for el in maps}
    total = np.zeros(next(iter(maps.values())).shape, dtype=np.float64)
    for el, m in maps.items():
        total += np.maximum(m, 0).astype(np.float64) / used[el]
    return total, used


def quantify_maps(maps, kind: str, factors=None, threshold="auto", n_thresholds: int = 100) -> QuantifyResult:
    """Weight fractions per voxel from element maps (paper 002, Eq. 12 / Eq. 18).

    Parameters
    ----------
    maps : dict of str -> ndarray
        Reconstructed maps ``X_A`` of equal shape, keyed by element symbol.
    kind : {"eds", "hebt"}
        ``"eds"`` divides by ``f_A`` (Eq. 12), ``"hebt"`` by ``z_A`` (Eq. 18).
    factors : dict, optional
        ``{"Pt": {"z": ..., "f": ...}}`` in b·mol/g, overriding or extending the
        built-in Table 2 factors.
    threshold : "auto" or float
        Threshold on ``Σ X_A / factor_A`` (in those units); ``"auto"`` fits the ESF.
    n_thresholds : int
        Thresholds sampled by the ESF method.

    Returns
    -------
    QuantifyResult
    """
    which = factor_kind(kind)
    maps = _check_maps(maps)
    if isinstance(threshold, str):
        if threshold != "auto":
            raise ValueError(f"threshold must be 'auto' or a number >= 0, got {threshold!r}")
    else:
        try:
            threshold = float(threshold)
        except (TypeError, ValueError):
            raise ValueError(f"threshold must be 'auto' or a number >= 0, got {threshold!r}") from None
        if not math.isfinite(threshold) or threshold < 0:
            raise ValueError(f"threshold must be 'auto' or a finite number >= 0, got {threshold}")
    table = element_factors(list(maps), factors, require=which)
    used = {el: table[el].get(which) for el in maps}

    scaled = {el: np.maximum(m, 0).astype(np.float64) / used[el] for el, m in maps.items()}
    total = np.zeros(next(iter(scaled.values())).shape, dtype=np.float64)
    for s in scaled.values():
        total += s
    if not np.any(total > 0):
        raise ValueError("all maps are zero (or negative) everywhere; nothing to quantify")

    esf = None
    if threshold == "auto":
        esf = esf_threshold(total, n_thresholds=n_thresholds)
        threshold = float(esf.threshold)
    mask = (total > 0) & (total >= threshold)
    inv = np.zeros_like(total)
    np.divide(1.0, total, out=inv, where=mask)
    fractions = {el: (s * inv).astype(np.float32) for el, s in scaled.items()}
    return QuantifyResult(
        weight_fractions=fractions,
        threshold=float(threshold),
        mask=mask,
        factors_used=used,
        n_voxels=int(np.count_nonzero(mask)),
        kind=kind,
        esf=esf,
    )
