"""Weight-fraction maps from reconstructed element maps (paper 002, Eq. 12 and Eq. 18).

An EDS-STEM reconstruction of element ``A`` is ``X_A = n f_A C_A ρ`` per voxel, a
HEBT reconstruction ``X_A = z_A C_A ρ`` (the constant ``n`` or the response ratio being
common to all elements). Dividing each map by its factor (``f_A`` for ``kind="eds"``,
``z_A`` for ``kind="hebt"``) leaves ``C_A ρ`` up to one common constant, and
normalising per voxel gives the weight fractions ``C_A``.

Before normalising, voxels whose summed ``S = Σ_A X_A / factor_A`` is below a threshold
are set to zero in every map (paper §2.1): the normalisation would otherwise turn
background noise into fractions of order one. The threshold is given, or chosen on
``S`` by the ESF method (:func:`~napari_atomtomo.core.threshold.esf_threshold`, which
falls back to Otsu's threshold on a poor fit and says so). For EDS maps (counting noise)
the threshold is chosen and applied on ``S`` smoothed by a Gaussian of
``smooth_voxels`` (``"auto"``: 1 voxel for ``kind="eds"``, none for ``"hebt"``, whose
maps carry the HAADF's low noise); the fractions themselves are never smoothed. The
thresholded region is compared with a support (the visual hull of a HAADF series when
given, else Otsu's threshold of the smoothed ``S``) and a warning is raised when it is
implausibly small or large (:data:`~napari_atomtomo.core.regions.SUPPORT_RANGE`).
Negative voxels (reconstruction noise of an unconstrained solver) count as zero.

The fractions are computed once for every voxel with ``S > 0``
(:func:`unthresholded_fractions`, in :mod:`._fractions`) and then masked at the threshold
(:class:`ThresholdPicker`), so the widget can re-threshold in milliseconds with the same
formula :func:`quantify_maps` uses.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field
from typing import cast

import numpy as np

from ._fractions import (
    ThresholdPicker,
    check_maps,
    factor_kind,
    summed_map,
    summed_of_checked,
    threshold_map,
    unthresholded_fractions,
)
from ._refs import PAPER_002, cites
from .params import auto_or_float, param, register_params
from .regions import support_check
from .threshold import EsfResult, esf_threshold

__all__ = [
    "DEFAULT_SUPPORT", "QuantifyParams", "QuantifyResult", "ThresholdPicker", "check_region",
    "default_support", "factor_kind",
    "make_picker", "quantify_maps", "summed_map", "threshold_map", "unthresholded_fractions",
]

@register_params("quantify")
@dataclass(frozen=True)
class QuantifyParams:
    """Quantification settings shared by the CLI, the widget and ``layer.metadata``.

    Attributes
    ----------
    kind : {"eds", "hebt"}
        ``"eds"`` divides each map by ``f_A`` (Eq. 12), ``"hebt"`` by ``z_A`` (Eq. 18).
    threshold : "auto" or float
        Threshold on ``Σ X_A / factor_A`` (in those units); ``"auto"`` fits the ESF.
        A number is stored as a float.
    n_thresholds : int
        Thresholds sampled by the ESF method (≥ 10).
    smooth_voxels : "auto" or float
        Gaussian σ (voxels) of the smoothing of ``S`` before thresholding; ``"auto"``:
        1 for ``kind="eds"``, 0 for ``"hebt"`` (:meth:`smoothing`).
    region_margin : "auto" or float
        With labelled regions, the voxels (≥ 0; 0: every painted voxel) a region's mean
        keeps away from its boundaries; ``"auto"``: 2 σ of the measured edge blur
        (:mod:`~.region_margin`). A number is stored as a float.
    """

    kind: str = param(MISSING, flag="--kind", label="kind", choices=("eds", "hebt"),
                      help="eds: maps from EDS-STEM tomography; hebt: maps from HEBT")
    threshold: float | str = param(
        "auto", flag="--threshold", label="threshold", widget="text", metavar="auto|VALUE",
        help="threshold on the summed map Σ X_A/factor_A, or 'auto' for the ESF method",
        shown="auto", parse=auto_or_float("--threshold", finite=True))
    n_thresholds: int = 100
    smooth_voxels: float | str = param(
        "auto", flag="--smooth", label="smoothing σ", widget="text", metavar="auto|SIGMA",
        help="Gaussian σ in voxels of the summed map before thresholding",
        shown="auto: 1 for --kind eds, 0 for hebt",
        parse=auto_or_float("--smooth", "a number of voxels >= 0"))
    region_margin: float | str = param(
        "auto", flag="--region-margin", label="region margin (voxels)", widget="text",
        metavar="auto|VOXELS",
        help="with regions, average each region only over its voxels at least this far from "
             "every other region, unpainted voxel and the particle's outside, where the "
             "reconstruction's blur mixes compositions; 0: every painted voxel. A region "
             "too thin for it gets a smaller margin and a warning",
        shown="auto: 2 σ of the blur measured at the particle surface",
        parse=auto_or_float("--region-margin", "a number of voxels >= 0", finite=True))

    def __post_init__(self):
        factor_kind(self.kind)
        object.__setattr__(self, "threshold", _check_threshold(self.threshold))
        sm = self.smooth_voxels
        if sm != "auto":
            try:
                sm = float(sm)
            except (TypeError, ValueError):
                sm = float("nan")
            if not (math.isfinite(sm) and 0 <= sm <= 10):
                raise ValueError(f"smooth_voxels must be 'auto' or a number in [0, 10], "
                                 f"got {self.smooth_voxels!r}")
            object.__setattr__(self, "smooth_voxels", sm)
        from .region_margin import check_margin

        object.__setattr__(self, "region_margin", check_margin(self.region_margin))
        n = self.n_thresholds
        if isinstance(n, bool) or int(n) != n or n < 10:
            raise ValueError(f"n_thresholds must be an integer >= 10, got {n!r}")
        object.__setattr__(self, "n_thresholds", int(n))

    def smoothing(self) -> float:
        """The smoothing σ in voxels that ``smooth_voxels`` stands for."""
        if self.smooth_voxels == "auto":
            return 1.0 if self.kind == "eds" else 0.0
        return float(self.smooth_voxels)


def _check_threshold(threshold):
    if isinstance(threshold, str):
        if threshold != "auto":
            raise ValueError(f"threshold must be 'auto' or a number >= 0, got {threshold!r}")
        return threshold
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be 'auto' or a number >= 0, got {threshold!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"threshold must be 'auto' or a finite number >= 0, got {value}")
    return value


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
    smooth_voxels : float
        Smoothing σ of the map the threshold was applied to.
    threshold_method : str
        ``"esf"``, ``"otsu"`` (fallback after a poor fit), ``"user"`` or ``"particle"``
        (a mask given, e.g. from the HAADF series).
    support : dict
        ``support_source``, ``support_voxels`` and ``region_to_support``.
    warnings : tuple of str
        Poor fit / fallback and implausible region size, in words.
    """

    weight_fractions: dict
    threshold: float
    mask: np.ndarray
    factors_used: dict
    n_voxels: int
    kind: str
    esf: EsfResult | None = field(default=None, repr=False)
    smooth_voxels: float = 0.0
    threshold_method: str = "user"
    support: dict = field(default_factory=dict)
    warnings: tuple = ()


def make_picker(maps: dict, params: QuantifyParams, factors=None, *, limits=None
                ) -> ThresholdPicker:
    """Summed map, its (smoothed) threshold map, ESF fit and unthresholded fractions."""
    maps = check_maps(maps)
    summed, used = summed_of_checked(maps, factor_kind(params.kind), factors)  # validates the factors
    if not np.any(summed > 0):
        raise ValueError("all maps are zero (or negative) everywhere; nothing to quantify")
    sigma = params.smoothing()
    level = threshold_map(summed, sigma)
    esf = None
    if params.threshold == "auto":
        esf = esf_threshold(level, n_thresholds=params.n_thresholds, limits=limits)
    return ThresholdPicker(params.kind, summed, unthresholded_fractions(maps, summed, used),
                           used, esf, None if sigma <= 0 else level, sigma)


#: Name of the support used without a HAADF series.
DEFAULT_SUPPORT = "Otsu (summed map)"


def default_support(picker: ThresholdPicker) -> np.ndarray:
    """The support without a HAADF series: Otsu's region of the (smoothed) summed map."""
    from skimage.filters import threshold_otsu

    level = picker.summed if picker.threshold_map is None else picker.threshold_map
    return level > threshold_otsu(level)


def check_region(picker: ThresholdPicker, mask: np.ndarray, support=None,
                 support_source: str = "haadf", *, fit_warnings: bool = True
                 ) -> tuple[dict, list]:
    """Support comparison and warnings (fit fallback, implausible size) for ``mask``."""
    warnings = []
    if fit_warnings and picker.esf is not None and picker.esf.warning:
        warnings.append(picker.esf.warning)
    if support is None:
        support, support_source = default_support(picker), DEFAULT_SUPPORT
    elif np.shape(support) != mask.shape:
        raise ValueError(f"the support has shape {np.shape(support)} but the maps have shape {mask.shape}")
    info, warning = support_check(mask, np.asarray(support, dtype=bool), support_source)
    if warning:
        warnings.append(warning)
    return info, warnings


@cites(PAPER_002)
def quantify_maps(maps, kind: str | None = None, factors=None, threshold="auto",
                  n_thresholds: int = 100, *, params: QuantifyParams | None = None,
                  support=None, limits=None, particle=None) -> QuantifyResult:
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
    params : QuantifyParams, optional
        ``kind``, ``threshold`` and ``n_thresholds`` together (then leave those three
        at their defaults).
    support : ndarray of bool, optional
        The object's support (e.g. :func:`~.regions.support_from_series` of the HAADF
        series) the thresholded region is checked against.
    limits : dict, optional
        Overrides of the ESF fit-quality limits (:data:`~.threshold.QUALITY_LIMITS`).
    particle : ndarray of bool, optional
        The particle from elsewhere (e.g. :func:`~.regions.particle_from_series` of the
        HAADF series): used instead of a threshold on the maps (``threshold_method``
        ``"particle"``, ``threshold`` NaN); ``params.threshold`` is then ignored.

    Returns
    -------
    QuantifyResult
    """
    if params is None:
        params = QuantifyParams(cast(str, kind), threshold, n_thresholds)  # it rejects None
    elif not isinstance(params, QuantifyParams):
        raise ValueError(f"params must be a QuantifyParams, got {type(params).__name__}")
    elif (kind, threshold, n_thresholds) != (None, "auto", 100):
        raise ValueError("give either params or kind/threshold/n_thresholds, not both")
    if particle is not None:
        params = QuantifyParams(params.kind, 0.0, params.n_thresholds, params.smooth_voxels)
    picker = make_picker(maps, params, factors, limits=limits)
    esf = picker.esf
    threshold = params.threshold if esf is None else float(esf.threshold)
    mask = picker.mask(threshold)
    method = "user" if esf is None else esf.method
    if particle is not None:
        if np.shape(particle) != mask.shape:
            raise ValueError(f"the particle mask has shape {np.shape(particle)} but the maps have "
                             f"shape {mask.shape}")
        mask = mask & np.asarray(particle, dtype=bool)
        threshold, method = float("nan"), "particle"
    info, warnings = check_region(picker, mask, support, fit_warnings=particle is None)
    return QuantifyResult(
        weight_fractions=picker.weight_fractions(threshold, mask),
        threshold=float(threshold),
        mask=mask,
        factors_used=picker.factors_used,
        n_voxels=int(np.count_nonzero(mask)),
        kind=params.kind,
        esf=esf,
        smooth_voxels=picker.smooth_voxels,
        threshold_method=method,
        support=info,
        warnings=tuple(warnings),
    )
