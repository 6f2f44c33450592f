"""The arithmetic of the weight fractions (paper 002, Eq. 12 and Eq. 18).

Checked element maps, the factor each is divided by, the summed map
``S = Σ_A max(X_A, 0) / factor_A``, the fractions before any threshold, and the
:class:`ThresholdPicker` that masks them at a threshold in milliseconds.
:mod:`.quantify` chooses the threshold and re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from ._validate import check_real
from .elements import element_factors
from .threshold import EsfResult

__all__ = [
    "ThresholdPicker", "check_maps", "factor_kind", "summed_map", "summed_of_checked",
    "threshold_map", "unthresholded_fractions",
]

_KIND_TO_FACTOR = {"eds": "f", "hebt": "z"}


def factor_kind(kind: str) -> str:
    """``"f"`` for ``kind="eds"`` (Eq. 12), ``"z"`` for ``kind="hebt"`` (Eq. 18)."""
    if kind not in _KIND_TO_FACTOR:
        raise ValueError(f"kind must be 'eds' or 'hebt', got {kind!r}")
    return _KIND_TO_FACTOR[kind]


def check_maps(maps) -> dict[str, np.ndarray]:
    """A non-empty ``{element: map}`` dict of finite real arrays of one shape."""
    if not isinstance(maps, dict) or not maps:
        raise ValueError("maps must be a non-empty dict {element: map}, e.g. {'Ag': ..., 'Au': ...}")
    out: dict[str, np.ndarray] = {}
    shape = None
    for el, m in maps.items():
        a = np.asarray(m)
        if a.size == 0:
            raise ValueError(f"map of {el!r} is empty; expected a 2D or 3D array")
        check_real(a, f"map of {el!r}")
        if shape is None:
            shape, first = a.shape, el
        elif a.shape != shape:
            raise ValueError(f"map of {el!r} has shape {a.shape} but the map of {first!r} has "
                             f"shape {shape}; all maps must have the same shape")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"map of {el!r} contains NaN or infinite values")
        out[el] = a
    return out


def _factors_used(maps: dict, which: str, factors) -> dict[str, float]:
    table = element_factors(list(maps), factors, require=which)
    return {el: table[el].get(which) for el in maps}


def _scaled(m, factor: float) -> np.ndarray:
    """``max(X_A, 0) / factor_A`` in float64."""
    return np.maximum(m, 0).astype(np.float64) / factor


def summed_map(maps, kind: str, factors=None) -> tuple[np.ndarray, dict[str, float]]:
    """``S = Σ_A max(X_A, 0) / factor_A`` (float64) and the factors used."""
    which = factor_kind(kind)
    return summed_of_checked(check_maps(maps), which, factors)


def summed_of_checked(maps: dict, which: str, factors) -> tuple[np.ndarray, dict[str, float]]:
    """:func:`summed_map` of maps already checked, for factor ``which`` (``"f"``/``"z"``)."""
    used = _factors_used(maps, which, factors)
    total = np.zeros(next(iter(maps.values())).shape, dtype=np.float64)
    for el, m in maps.items():
        total += _scaled(m, used[el])
    return total, used


def unthresholded_fractions(maps, summed: np.ndarray, factors_used) -> dict[str, np.ndarray]:
    """``C_A = (max(X_A, 0) / factor_A) / S`` (float32) where ``S > 0``, else 0.

    ``maps`` and ``factors_used`` as checked and returned by :func:`summed_map`, ``summed``
    its ``S``.
    """
    inv = np.zeros_like(summed)
    np.divide(1.0, summed, out=inv, where=summed > 0)
    return {el: (_scaled(m, factors_used[el]) * inv).astype(np.float32) for el, m in maps.items()}


@dataclass(frozen=True, eq=False)
class ThresholdPicker:
    """Everything needed to re-threshold element maps without redoing the ESF fit.

    ``ThresholdPicker.weight_fractions(t)`` is what :func:`quantify_maps` returns at
    threshold ``t``.

    Attributes
    ----------
    kind : str
        ``"eds"`` or ``"hebt"``.
    summed : ndarray (float64)
        ``S = Σ_A max(X_A, 0) / factor_A``, the map the threshold applies to.
    fractions : dict of str -> ndarray (float32)
        Weight fractions before thresholding (:func:`unthresholded_fractions`).
    factors_used : dict of str -> float
        The factor each map was divided by (b·mol/g).
    esf : EsfResult or None
        The V(t) curve, its fit and the automatic threshold (``None`` if not fitted).
    threshold_map : ndarray or None
        The (smoothed) map the threshold applies to; ``None``: ``summed`` itself.
    smooth_voxels : float
        Its smoothing σ in voxels.
    """

    kind: str
    summed: np.ndarray
    fractions: dict
    factors_used: dict
    esf: EsfResult | None = None
    threshold_map: np.ndarray | None = None
    smooth_voxels: float = 0.0

    @property
    def elements(self) -> tuple[str, ...]:
        """The quantified elements, in order."""
        return tuple(self.fractions)

    @property
    def auto_threshold(self) -> float:
        """The ESF threshold (needs ``esf``)."""
        if self.esf is None:
            raise ValueError("this picker has no ESF fit, so no automatic threshold")
        return float(self.esf.threshold)

    def mask(self, threshold: float) -> np.ndarray:
        """Voxels kept at ``threshold`` (summed map above zero and not below it)."""
        level = self.summed if self.threshold_map is None else self.threshold_map
        return (self.summed > 0) & (level >= float(threshold))

    def weight_fractions(self, threshold: float, mask: np.ndarray | None = None) -> dict:
        """``{element: fractions}`` (float32, 0 outside the mask) at ``threshold``.

        ``mask`` may be given when it is already known (``self.mask(threshold)``).
        """
        keep = self.mask(threshold) if mask is None else mask
        zero = np.float32(0.0)
        return {el: np.where(keep, f, zero) for el, f in self.fractions.items()}


def threshold_map(summed: np.ndarray, sigma: float) -> np.ndarray:
    """``summed`` smoothed by a Gaussian of ``sigma`` voxels along its non-singleton axes."""
    if sigma <= 0:
        return summed
    return gaussian_filter(summed, [sigma if n > 1 else 0.0 for n in summed.shape])
