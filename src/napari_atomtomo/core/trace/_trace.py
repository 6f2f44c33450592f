"""The tracing pipeline: parameters, noise floor, local maxima, suppression, result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np

from .._refs import PAPER_000, cites
from .._validate import check_volume
from ..atoms import Atoms
from ..config import DENORMAL_FLOOR
from ..elements import validate_element
from ..params import auto_or_numbers_text, param, register_params
from ._classify import classify_for_trace
from ._peaks import (
    count_local_maxima,
    find_local_maxima,
    floor_for_candidates,
    peak_candidates,
    suppress_close_peaks,
)
from ._physics import auto_min_distance
from ._refine import REFINE_METHODS
from ._split import split_elements

__all__ = [
    "TraceParams",
    "TraceResult",
    "trace_atoms",
    "estimate_noise_floor",
    "find_local_maxima",
    "suppress_close_peaks",
    "validate_volume",
]

#: The auto noise floor sits this many robust standard deviations above the median voxel.
NOISE_FLOOR_SIGMAS = 5.0
#: ... or this many when an expected atom count stops the list instead.
NOISE_FLOOR_SIGMAS_WITH_COUNT = 3.0
#: Voxels used for the robust background statistics (a regular subsample beyond this).
NOISE_SAMPLE_VOXELS = 2_000_000
#: ``TraceParams.classify`` choices.
CLASSIFY_METHODS = ("auto", "none")


def _validate_elements(elements) -> tuple[str, ...]:
    if isinstance(elements, str):
        elements = tuple(e.strip() for e in elements.split(",") if e.strip())
    els = tuple(str(e) for e in elements)
    if not els:
        raise ValueError("elements is empty; give at least one element symbol, e.g. ('Si', 'O')")
    if len(set(els)) != len(els):
        raise ValueError(f"elements {els} repeats a symbol; give each element once, heaviest first")
    for e in els:
        validate_element(e)
    return els


@register_params("trace_atoms")
@dataclass(frozen=True)
class TraceParams:
    """Parameters of :func:`trace_atoms`, shared by the CLI, the widget and layer metadata.

    Attributes
    ----------
    min_distance_A : "auto" or float
        Minimum separation of two atoms in Å (constraint iii). ``"auto"``: 0.7 × the
        shortest bond of the elements (sum of covalent radii; Si–O 1.24 Å, Si alone 1.55 Å),
        at least 1.5 voxels (:func:`physical_min_distance_A`).
    elements : tuple of str
        Element symbols, heaviest (brightest) first: ``("Si", "O")`` labels the brighter
        class Si.
    noise_floor : "auto" or float
        Peaks whose intensity is at or below this value are not atoms (constraint i).
        ``"auto"`` is ``median + 5 · 1.4826 · MAD`` of the voxels (3 instead of 5 when
        ``n_expected`` is given; see :func:`estimate_noise_floor`).
    split : "auto", float or tuple of float
        Intensity thresholds between the element classes (constraint ii), ``len(elements) - 1``
        of them; ``"auto"`` fits a Gaussian mixture to the peak intensities.
    refine : {"gaussian", "quadratic"}
        Sub-voxel model fitted on the 3×3×3 neighbourhood of each peak.
    max_atoms : int or None
        Keep at most this many (brightest) atoms.
    connectivity : {6, 26}
        A peak voxel is larger than its 6 face neighbours (default) or all 26 neighbours.
        With 6, a light atom on the shoulder of a heavy one 3 voxels away is still found;
        the extra maxima it admits are removed by the minimum distance.
    classify : {"auto", "none"}
        ``"auto"``: split the candidates into atoms and non-atoms by their height and
        integrated intensity (:func:`classify_candidates`) when no ``n_expected`` cuts the
        list and one element is traced (each pass of the subtraction method traces one:
        the heaviest, then the lighter ones in the residual); non-atoms are kept in
        :attr:`TraceResult.rejected`. ``"none"``: the floor alone decides.
    """

    min_distance_A: str | float = param(
        "auto", flag="--min-distance-A", label="min distance", unit="Å", widget="text",
        help="minimum separation of two atoms in Å", metavar="auto|Å",
        shown="auto: 0.7 × the shortest covalent bond of the elements, e.g. 1.24 Å for "
              "Si,O, 1.55 Å for Si", parse=auto_or_numbers_text)
    elements: tuple[str, ...] = param(
        ("Si", "O"), flag="--elements", label="elements", widget="text", metavar="EL,EL",
        help="element symbols, heaviest (brightest) first")
    noise_floor: str | float = param(
        "auto", flag="--noise-floor", label="noise floor", widget="text",
        help="peaks at or below this are not atoms", metavar="auto|VALUE",
        shown="auto: median + 5 robust σ", parse=auto_or_numbers_text)
    split: str | float | tuple[float, ...] = param(
        "auto", flag="--split", label="element threshold", widget="text",
        help="intensity thresholds between the elements", metavar="auto|T[,T...]",
        shown="auto: Gaussian mixture", parse=auto_or_numbers_text)
    refine: str = param("gaussian", flag="--refine", label="sub-voxel fit",
                        choices=tuple(REFINE_METHODS),
                        help="sub-voxel model on the 3×3×3 neighbourhood")
    max_atoms: int | None = None
    connectivity: int = param(6, flag="--connectivity", label="peak neighbours", choices=(6, 26),
                              help="neighbours a peak voxel must exceed")
    classify: str = param(
        "auto", flag="--classify", label="atom / non-atom", choices=CLASSIFY_METHODS,
        help="auto: split candidate peaks into atoms and non-atoms by height and integrated "
             "intensity when one element is traced per pass and no --n-expected is given "
             "(rejected candidates go to --json); none: the noise floor alone decides")

    def __post_init__(self):
        d = self.min_distance_A
        if isinstance(d, str):
            if d != "auto":
                raise ValueError(f"min_distance_A must be 'auto' or a number of Å, got {d!r}")
        elif not (isinstance(d, (int, float, np.floating)) and np.isfinite(d) and d > 0):
            raise ValueError(f"min_distance_A must be a positive number of Å, got {d!r}")
        else:
            object.__setattr__(self, "min_distance_A", float(d))
        if self.classify not in CLASSIFY_METHODS:
            raise ValueError(f"classify must be one of {CLASSIFY_METHODS}, got {self.classify!r}")
        object.__setattr__(self, "elements", _validate_elements(self.elements))
        nf = self.noise_floor
        if isinstance(nf, str):
            if nf != "auto":
                raise ValueError(f"noise_floor must be 'auto' or a number, got {nf!r}")
        elif not np.isfinite(float(nf)):
            raise ValueError(f"noise_floor must be 'auto' or a finite number, got {nf!r}")
        else:
            object.__setattr__(self, "noise_floor", float(nf))
        sp = self.split
        n_thr = len(self.elements) - 1
        if isinstance(sp, str):
            if sp != "auto":
                raise ValueError(f"split must be 'auto' or intensity thresholds, got {sp!r}")
        else:
            thr = tuple(float(t) for t in np.atleast_1d(np.asarray(sp, dtype=np.float64)))
            if len(thr) != n_thr:
                raise ValueError(
                    f"split has {len(thr)} thresholds but {len(self.elements)} elements "
                    f"need {n_thr}"
                )
            if not all(np.isfinite(thr)):
                raise ValueError(f"split thresholds must be finite numbers, got {thr}")
            object.__setattr__(self, "split", tuple(sorted(thr, reverse=True)))
        if self.refine not in REFINE_METHODS:
            raise ValueError(f"refine must be one of {REFINE_METHODS}, got {self.refine!r}")
        if self.max_atoms is not None:
            if int(self.max_atoms) != self.max_atoms or self.max_atoms < 1:
                raise ValueError(
                    f"max_atoms must be a positive integer or None, got {self.max_atoms!r}"
                )
            object.__setattr__(self, "max_atoms", int(self.max_atoms))
        if self.connectivity not in (6, 26):
            raise ValueError(f"connectivity must be 6 or 26 neighbours, got {self.connectivity!r}")

    def to_dict(self) -> dict:
        """Plain JSON-serialisable parameters (for ``layer.metadata`` and reports)."""
        return {
            "min_distance_A": self.min_distance_A,
            "elements": list(self.elements),
            "noise_floor": self.noise_floor,
            # __post_init__ turns a single float into a tuple
            "split": self.split if isinstance(self.split, str) else list(cast(tuple, self.split)),
            "refine": self.refine,
            "max_atoms": self.max_atoms,
            "connectivity": self.connectivity,
            "classify": self.classify,
        }


@dataclass(frozen=True)
class TraceResult:
    """Traced atoms and what the tracing decided.

    Attributes
    ----------
    atoms : Atoms
        In descending peak intensity; features ``intensity`` (height of the quadratic
        through the peak, used for ranking and the split), ``fit_height`` (height of the
        chosen model), ``peak_voxel`` (raw voxel maximum), ``width_A`` (equivalent Gaussian σ) and
        ``fit_r2`` (coefficient of determination of the fit on the 27 voxels).
    sorted_intensities : ndarray
        Peak intensities of the kept atoms, descending (the curve of Fig. 3).
    noise_floor : float
        The floor used (auto estimate or the user's value).
    split_thresholds : tuple of float
        Thresholds between element classes, descending.
    n_local_maxima : int
        All local maxima of the volume (no floor).
    counts : dict
        What every gate passed: ``n_local_maxima``, ``n_above_floor`` (fitted peak above
        the noise floor), ``n_after_min_distance``, ``n_rejected_non_atoms`` (by the
        classification), ``n_cut_by_count`` (beyond ``n_expected``/``max_atoms``), ``n_atoms``.
    auto : dict
        Every value chosen automatically (min distance, noise floor, pre-filter, atom
        width and their quality measures, classification), for reports and metadata.
    rejected : Atoms
        Candidates classified as non-atoms (same features as ``atoms``).
    """

    atoms: Atoms
    sorted_intensities: np.ndarray
    noise_floor: float
    split_thresholds: tuple[float, ...]
    n_local_maxima: int
    voxel_size: float
    params: TraceParams = field(default_factory=TraceParams)
    counts: dict = field(default_factory=dict)
    auto: dict = field(default_factory=dict)
    rejected: Atoms = field(default_factory=lambda: Atoms(np.zeros(0, str), np.zeros((0, 3))))
    warnings: tuple[str, ...] = ()

    @property
    def split_threshold(self) -> float | None:
        """The (first) threshold between the two brightest classes, None for one element."""
        return self.split_thresholds[0] if self.split_thresholds else None


def validate_volume(volume, voxel_size) -> np.ndarray:
    """Check a 3D volume for tracing; return it as C-contiguous float32, denormals flushed."""
    vol = check_volume(volume, min_size=3, finite=False)  # NaNs are counted below
    if not (np.isfinite(voxel_size) and voxel_size > 0):
        raise ValueError(f"voxel_size must be a positive number of Å, got {voxel_size!r}")
    vol = np.ascontiguousarray(vol, dtype=np.float32)
    n_bad = int(np.count_nonzero(~np.isfinite(vol)))
    if n_bad:
        raise ValueError(f"volume contains {n_bad} NaN or infinite values out of {vol.size}")
    vmax, vmin = float(vol.max()), float(vol.min())
    if vmax == vmin:
        raise ValueError(f"volume is constant ({vmax:g} everywhere); there are no peaks to trace")
    tiny = (np.abs(vol) < DENORMAL_FLOOR) & (vol != 0)
    if tiny.any():
        vol = np.where(tiny, np.float32(0), vol)
    return vol


def estimate_noise_floor(volume, n_sigma: float = NOISE_FLOOR_SIGMAS) -> float:
    """Automatic noise floor: ``median + n_sigma · 1.4826 · MAD`` of the voxel values.

    Most voxels of a reconstruction are background or space between atoms, so the median
    and the median absolute deviation (MAD, × 1.4826 the standard deviation of Gaussian
    noise) measure the background level and its noise while ignoring the bright minority
    of atom voxels. Voxels holding exactly the minimum value or exactly 0, when more than
    5 % of the volume does (a positivity-clipped or masked background), are left out.
    """
    v = np.asarray(volume).reshape(-1)
    if v.size > NOISE_SAMPLE_VOXELS:
        v = v[:: int(np.ceil(v.size / NOISE_SAMPLE_VOXELS))]
    v = v.astype(np.float64)
    for value in {float(v.min()), 0.0}:
        same = v == value
        if np.count_nonzero(same) > 0.05 * v.size and np.count_nonzero(~same) > 0:
            v = v[~same]
    med = float(np.median(v))
    mad = float(np.median(np.abs(v - med)))
    return med + float(n_sigma) * 1.4826 * mad


@cites(PAPER_000)
def trace_atoms(volume, voxel_size: float, params: TraceParams | None = None, *,
                n_expected: int | None = None) -> TraceResult:
    """Trace atoms in a reconstruction: peaks -> sub-voxel positions -> elements.

    Parameters
    ----------
    volume : ndarray (z, y, x)
        Reconstruction, brighter where heavier atoms are.
    voxel_size : float
        Voxel size in Å; positions are returned in Å, voxel ``(k, j, i)`` at
        ``(x, y, z) = (i, j, k) · voxel_size``.
    params : TraceParams, optional
    n_expected : int, optional
        Keep at most this many (brightest) atoms, e.g. the known atom count. The count
        then stops the list, so the automatic noise floor is lowered from 5 to 3 robust σ
        (the paper's use: the sorted peak list cut at the known number of atoms).

    Returns
    -------
    TraceResult
    """
    params = TraceParams() if params is None else params
    if not isinstance(params, TraceParams):
        raise ValueError(f"params must be a TraceParams, got {type(params).__name__}")
    if n_expected is not None and (int(n_expected) != n_expected or n_expected < 1):
        raise ValueError(f"n_expected must be a positive integer or None, got {n_expected!r}")
    vol = validate_volume(volume, voxel_size)
    voxel_size = float(voxel_size)
    min_dist, floor, auto = resolve_auto(params, voxel_size, n_expected, lambda: vol)
    n_all = int(count_local_maxima(vol, params.connectivity))
    cands = peak_candidates(vol, floor_for_candidates(floor), params.connectivity, params.refine)
    return select_atoms(cands, floor, min_dist, params, n_all, voxel_size, auto, n_expected)


def resolve_auto(params: TraceParams, voxel_size: float, n_expected, noise_sample
                 ) -> tuple[float, float, dict[str, object]]:
    """The minimum distance and noise floor of ``params``, ``"auto"`` values resolved.

    ``noise_sample()`` gives the voxels for the automatic noise floor (the whole volume in
    memory, a strided sample of a lazy one); it is called only when needed. Returns
    ``(min_distance_A, noise_floor, auto)``, ``auto`` recording how each was chosen.
    """
    auto: dict[str, object] = {}
    if params.min_distance_A == "auto":
        min_dist, chosen = auto_min_distance(params.elements, voxel_size)
        auto |= chosen
    else:
        min_dist = float(params.min_distance_A)
    if params.noise_floor == "auto":
        n_sigma = NOISE_FLOOR_SIGMAS if n_expected is None else NOISE_FLOOR_SIGMAS_WITH_COUNT
        floor = estimate_noise_floor(noise_sample(), n_sigma)
        auto |= {"noise_floor": float(floor), "noise_floor_sigmas": n_sigma}
    else:
        floor = float(params.noise_floor)
    return min_dist, floor, auto


def select_atoms(cands: dict, floor, min_dist, params, n_all, voxel_size, auto,
                 n_expected=None) -> TraceResult:
    """The global steps of :func:`trace_atoms` on the candidates of the whole volume:
    noise floor, minimum distance, classification, count caps and the element split.
    """
    above = cands["inten"] > floor
    peaks, pos_zyx, inten, height, width, r2, raw = (
        cands[k][above] for k in ("peaks", "pos_zyx", "inten", "height", "width", "r2", "raw"))
    n_above = int(peaks.shape[0])
    pos_xyz = pos_zyx[:, ::-1] * voxel_size
    kept = suppress_close_peaks(pos_xyz, inten, min_dist)
    n_after_md = int(kept.size)
    caps = [c for c in (params.max_atoms, n_expected) if c is not None]
    cls = classify_for_trace(params.classify, n_expected, len(params.elements), kept, inten,
                             height, width)
    auto |= cls.to_dict()
    rej = kept[~cls.is_atom]
    kept = kept[cls.is_atom]
    n_cut = 0
    if caps:
        n_cut = max(int(kept.size) - int(min(caps)), 0)
        kept = kept[: int(min(caps))]
    inten_k = inten[kept]
    thresholds = None if params.split == "auto" else params.split
    split = split_elements(inten_k, len(params.elements), thresholds=thresholds)
    elements = np.asarray(params.elements)[split.labels] if kept.size else np.zeros(0, dtype=str)
    atoms = Atoms(elements, pos_xyz[kept], {
        "intensity": inten_k,
        "fit_height": height[kept],
        "peak_voxel": raw[kept],
        "width_A": width[kept] * voxel_size,
        "fit_r2": r2[kept],
        "score": cls.scores_all[kept],
    })
    feats = {"intensity": inten, "fit_height": height, "peak_voxel": raw,
             "width_A": width * voxel_size, "fit_r2": r2, "score": cls.scores_all}
    rejected = Atoms(np.full(rej.size, "X"), pos_xyz[rej], {k: v[rej] for k, v in feats.items()})
    counts = {"n_local_maxima": n_all, "n_above_floor": n_above,
              "n_after_min_distance": n_after_md, "n_rejected_non_atoms": int(rej.size),
              "n_cut_by_count": n_cut, "n_atoms": len(atoms)}
    return TraceResult(
        atoms=atoms,
        sorted_intensities=inten_k.copy(),
        noise_floor=float(floor),
        split_thresholds=tuple(float(t) for t in split.thresholds),
        n_local_maxima=n_all,
        voxel_size=voxel_size,
        params=params,
        counts=counts,
        auto=auto,
        rejected=rejected,
        warnings=tuple(w for w in (cls.warning,) if w),
    )
