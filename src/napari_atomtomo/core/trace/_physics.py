"""Tracing defaults from physics: bond lengths of the elements and the measured atom width.

* The minimum distance between two traced atoms is a fraction of the shortest bond the
  elements can form (sums of covalent radii, Cordero et al., Dalton Trans. 2008, 2832):
  noise or a split peak closer than that cannot be a second atom.
* The smoothing (pre-filter) width follows the measured width of the atoms in the
  reconstruction: σ_f = σ_atom / √2 lowers uncorrelated voxel noise while widening
  atoms by only ~22 %. σ_atom is measured on *isolated* peaks of a volume first
  smoothed at the physical floor width (noise spikes one voxel wide cannot pass as
  atoms there), with a robust (median/MAD) estimate, a quality measure and the floor
  as the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..elements import COVALENT_RADII_A

__all__ = [
    "ATOM_SIGMA_FLOOR_A",
    "COVALENT_RADII_A",
    "MIN_DISTANCE_BOND_FRACTION",
    "WidthEstimate",
    "measure_atom_width",
    "physical_min_distance_A",
    "shortest_bond_A",
]

#: Covalent radius (Å) of an element missing from :data:`~..elements.COVALENT_RADII_A`.
DEFAULT_COVALENT_RADIUS_A = 1.5
#: The automatic minimum distance is this fraction of the shortest bond (Si–O: 1.24 Å).
MIN_DISTANCE_BOND_FRACTION = 0.7
#: Narrowest plausible atom in a reconstruction (σ, Å): the projected potential of a
#: light atom with thermal vibration (~0.2 Å) seen through a ≥ 0.5 Å probe.
ATOM_SIGMA_FLOOR_A = 0.25
#: Fewest isolated peaks for a measured width; below this the floor is used.
MIN_WIDTH_PEAKS = 8
#: Largest relative spread (1.4826 MAD / median) of the widths for a measurement.
MAX_WIDTH_SPREAD = 0.35


def shortest_bond_A(elements) -> tuple[float, str]:
    """Shortest bond (Å, sum of covalent radii) the elements form, and the pair's name.

    With several elements only bonds between different elements count (the bonds that
    hold a compound together: Si–O, not O–O); one element bonds to itself.
    """
    els = list(elements)
    r = {e: COVALENT_RADII_A.get(e, DEFAULT_COVALENT_RADIUS_A) for e in els}
    pairs = ([(a, b) for i, a in enumerate(els) for b in els[i + 1:]] if len(els) > 1
             else [(els[0], els[0])])
    a, b = min(pairs, key=lambda p: r[p[0]] + r[p[1]])
    return r[a] + r[b], f"{a}-{b}"


def physical_min_distance_A(elements, voxel_size: float) -> float:
    """``0.7 ×`` the shortest bond, and never below 1.5 voxels (two voxels can't be two atoms)."""
    bond, _ = shortest_bond_A(elements)
    return float(max(MIN_DISTANCE_BOND_FRACTION * bond, 1.5 * float(voxel_size)))


def auto_min_distance(elements, voxel_size: float) -> tuple[float, dict[str, object]]:
    """:func:`physical_min_distance_A` and the record of how it was chosen (``auto``)."""
    md = physical_min_distance_A(elements, voxel_size)
    bond, pair = shortest_bond_A(elements)
    return md, {"min_distance_A": md, "min_distance_from": f"0.7 x covalent {pair} "
                f"bond {bond:.3g} A (at least 1.5 voxels)"}


@dataclass(frozen=True)
class WidthEstimate:
    """Measured Gaussian σ of the atoms (voxels) and how far to trust it.

    ``method`` is ``"measured"`` or ``"floor"`` (the fallback, when too few isolated peaks
    agree or the measurement is below the physical floor); ``spread`` is 1.4826 MAD /
    median of the widths used; ``n_peaks`` how many isolated peaks were fitted.
    """

    sigma_vox: float
    floor_vox: float
    method: str
    n_peaks: int
    spread: float
    warning: str | None = None

    def to_dict(self) -> dict:
        return {"atom_sigma_vox": self.sigma_vox, "atom_sigma_floor_vox": self.floor_vox,
                "atom_sigma_method": self.method, "atom_sigma_n_peaks": self.n_peaks,
                "atom_sigma_spread": self.spread, "atom_sigma_warning": self.warning}


def measure_atom_width(volume, voxel_size: float, min_distance_A: float) -> WidthEstimate:
    """Robust Gaussian σ (voxels) of the atoms of ``volume``, from its isolated peaks.

    1. Smooth at the floor width s = :data:`ATOM_SIGMA_FLOOR_A` / √2: an atom of σ_a
       becomes √(σ_a² + s²) wide, a one-voxel noise spike about s.
    2. Local maxima (26 neighbours) above the median, fitted (:func:`refine_peaks`,
       Gaussian); keep the isolated ones (no maximum of half their height or more within
       ``min_distance_A``) with a fit r² ≥ 0.9.
    3. Keep the atom class of :func:`classify_candidates` (height and integrated
       intensity: never the brightest peaks alone, which at low dose are noise);
       σ_a = √(median² − s²), spread = 1.4826 MAD / median.
       Without a clear gap all of them are used (one population: the atoms of a clean
       volume, or noise, which the next step rejects).
    4. Fall back to the floor with a warning if fewer than 8 peaks remain, the spread
       exceeds 0.35, or σ_a is below the floor (noise bumps are about s wide).
    """
    from scipy import ndimage
    from scipy.spatial import cKDTree

    from ._classify import classify_candidates
    from ._refine import refine_peaks
    from ._trace import find_local_maxima

    vs = float(voxel_size)
    floor = max(ATOM_SIGMA_FLOOR_A / vs, 0.5)
    s = floor / np.sqrt(2.0)
    sm = ndimage.gaussian_filter(np.asarray(volume, dtype=np.float32), s)
    peaks = find_local_maxima(sm, float(np.median(sm)), 26)
    n_used, spread = 0, float("nan")

    def fallback(why):
        return WidthEstimate(float(floor), float(floor), "floor", n_used, spread,
                             f"atom width not measured ({why}); using the physical floor "
                             f"{ATOM_SIGMA_FLOOR_A} Å = {floor:.3g} voxels")

    if peaks.shape[0] < MIN_WIDTH_PEAKS:
        return fallback(f"{peaks.shape[0]} peaks")
    _, inten, height, width, r2 = refine_peaks(sm, peaks, "gaussian")
    # Isolated: no other maximum of at least half the height within the minimum distance.
    pos = peaks * vs
    pairs = cKDTree(pos).query_pairs(float(min_distance_A), output_type="ndarray")
    iso = np.ones(peaks.shape[0], bool)
    if pairs.size:
        for a, b in ((0, 1), (1, 0)):
            iso[pairs[inten[pairs[:, b]] >= 0.5 * inten[pairs[:, a]], a]] = False
    ok = iso & np.isfinite(width) & (r2 >= 0.9) & (height > 0)
    if np.count_nonzero(ok) < MIN_WIDTH_PEAKS:
        return fallback(f"{np.count_nonzero(ok)} isolated peaks with a good fit")
    cls = classify_candidates(inten[ok], height[ok], width[ok], 1)
    # No gap: the isolated peaks are one population (all atoms of a clean volume, or all
    # noise); the spread and the floor below tell which.
    w = width[ok][cls.is_atom]
    n_used = int(w.size)
    med = float(np.median(w)) if n_used else float("nan")
    spread = float(1.4826 * np.median(np.abs(w - med)) / med) if n_used else float("nan")
    if n_used < MIN_WIDTH_PEAKS:
        return fallback(f"{n_used} isolated atom peaks")
    if spread > MAX_WIDTH_SPREAD:
        return fallback(f"peak widths spread {spread:.2f} > {MAX_WIDTH_SPREAD}")
    sigma = float(np.sqrt(max(med**2 - s**2, 0.0)))
    if sigma < floor:
        return fallback(f"measured {sigma:.3g} voxels is below the floor")
    return WidthEstimate(sigma, float(floor), "measured", n_used, spread, None)
