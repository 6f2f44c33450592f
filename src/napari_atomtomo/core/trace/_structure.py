"""Structure report of a list of atoms: judge a tracing without a ground truth.

For a finite particle (no periodic box):

* partial radial distribution functions g_AB(r) = n_AB(r) / (4π r² dr ρ_B N_A), with
  ρ_B = N_B / V and V the volume of the atoms' convex hull (a finite particle's g(r)
  falls below 1 at large r, where shells leave the particle: read the peak *positions*);
* bonds: two atoms closer than 1.2 × the sum of their covalent radii
  (:data:`COVALENT_RADII_A`; Si–O 2.12 Å, Si–Si 2.66 Å, O–O 1.58 Å);
* coordination numbers: mean number of B bonded to an A;
* bond angles B–A–C at every atom A with two or more bonds, per triplet type;
* nearest-neighbour distances; pairs closer than the physical minimum (0.7 × the
  covalent bond, the tracing's own minimum distance rule): atoms a tracing should never
  produce.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._refs import PAPER_000, cites
from ..atoms import Atoms
from ._physics import COVALENT_RADII_A, DEFAULT_COVALENT_RADIUS_A, MIN_DISTANCE_BOND_FRACTION

__all__ = ["BOND_FACTOR", "StructureReport", "structure_report"]

#: Two atoms are bonded when closer than this × the sum of their covalent radii.
BOND_FACTOR = 1.2


def _radius(e: str) -> float:
    return COVALENT_RADII_A.get(str(e), DEFAULT_COVALENT_RADIUS_A)


@dataclass(frozen=True)
class StructureReport:
    """See :func:`structure_report`; :meth:`to_dict` is the ``--json`` content."""

    r: np.ndarray
    partial_g: dict
    first_peak_A: dict
    coordination: dict
    bond_cutoff_A: dict
    angle_edges_deg: np.ndarray
    angle_hist: dict
    angle_mean_deg: dict
    nn_edges_A: np.ndarray
    nn_hist: np.ndarray
    nn_median_A: float
    n_close_pairs: int
    n_atoms_too_close: int
    min_distance_A: dict
    n_atoms: int
    counts: dict
    hull_volume_A3: float

    def to_dict(self) -> dict:
        def f(a):
            return [float(v) for v in a]

        return {
            "n_atoms": self.n_atoms, "counts": self.counts,
            "hull_volume_A3": self.hull_volume_A3,
            "rdf": {"r_A": f(self.r), "partial_g": {k: f(v) for k, v in self.partial_g.items()},
                    "first_peak_A": self.first_peak_A},
            "bond_cutoff_A": self.bond_cutoff_A,
            "coordination": self.coordination,
            "bond_angles": {"edges_deg": f(self.angle_edges_deg),
                            "hist": {k: [int(v) for v in h] for k, h in self.angle_hist.items()},
                            "mean_deg": self.angle_mean_deg},
            "nearest_neighbour": {"edges_A": f(self.nn_edges_A),
                                  "hist": [int(v) for v in self.nn_hist],
                                  "median_A": self.nn_median_A},
            "too_close": {"min_distance_A": self.min_distance_A,
                          "n_pairs": self.n_close_pairs, "n_atoms": self.n_atoms_too_close},
        }


def _first_peak(r, g, r_min):
    """Position of the first local maximum of g above half its maximum, beyond r_min."""
    sel = r >= r_min
    rr, gg = r[sel], g[sel]
    if gg.size < 3 or not np.any(gg > 0):
        return None
    from scipy.ndimage import gaussian_filter1d

    gs = gaussian_filter1d(gg.astype(np.float64), 1.0)
    high = gs >= 0.5 * gs.max()
    for i in range(1, gs.size - 1):
        if high[i] and gs[i] >= gs[i - 1] and gs[i] > gs[i + 1]:
            lo, hi = max(i - 3, 0), min(i + 4, gs.size)
            return float(rr[lo + int(np.argmax(gg[lo:hi]))])
    return float(rr[int(np.argmax(gs))])


@cites(PAPER_000)
def structure_report(atoms: Atoms, *, r_max: float = 8.0, dr: float = 0.05,
                     angle_bin_deg: float = 2.0) -> StructureReport:
    """The structure report of ``atoms`` (positions in Å, a finite particle).

    The short-range order paper 000 [1]_ reads from the traced SiO2 glass: partial pair
    distribution functions g(r) and their first peaks, coordination numbers, bond-angle
    distributions and nearest-neighbour distances.

    Parameters
    ----------
    atoms : Atoms
        Positions in Å and element symbols.
    r_max : float
        Largest distance of g(r) in Å.
    dr : float
        Bin width of g(r) in Å.
    angle_bin_deg : float
        Bin width of the bond-angle histograms in degrees.

    Returns
    -------
    StructureReport
        g(r), first peaks, coordination, bond angles and nearest-neighbour histograms.
    """
    from scipy.spatial import ConvexHull, QhullError, cKDTree

    if not isinstance(atoms, Atoms):
        raise ValueError(f"atoms must be an Atoms object, got {type(atoms).__name__}")
    n = len(atoms)
    if n < 5:
        raise ValueError(f"a structure report needs at least 5 atoms, got {n}")
    if not (np.isfinite(r_max) and r_max > 0 and np.isfinite(dr) and 0 < dr < r_max):
        raise ValueError(f"need 0 < dr < r_max, got dr={dr!r}, r_max={r_max!r}")
    pos, el = atoms.positions, atoms.elements
    counts = atoms.counts()
    species = list(counts)
    try:
        volume = float(ConvexHull(pos).volume)
    except QhullError:
        raise ValueError("the atoms are flat or collinear; a 3D structure report needs a "
                         "particle") from None
    tree = cKDTree(pos)
    pairs = tree.query_pairs(float(r_max), output_type="ndarray")
    d = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1) if pairs.size else np.zeros(0)
    edges = np.arange(0.0, r_max + dr / 2, dr)
    r = 0.5 * (edges[1:] + edges[:-1])
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    partial, first, cutoff, coord, min_d = {}, {}, {}, {}, {}
    ea, eb = (el[pairs[:, 0]], el[pairs[:, 1]]) if pairs.size else (el[:0], el[:0])
    for i, a in enumerate(species):
        for b in species[i:]:
            key = f"{a}-{b}"
            sel = ((ea == a) & (eb == b)) | ((ea == b) & (eb == a))
            hist, _ = np.histogram(d[sel], bins=edges)
            na, nb = counts[a], counts[b]
            n_pairs = na * (nb - 1) / 2 if a == b else na * nb
            ideal = shell * n_pairs / volume
            g = np.where(ideal > 0, hist / np.where(ideal > 0, ideal, 1.0), 0.0)
            partial[key] = g
            bond = _radius(a) + _radius(b)
            min_d[key] = MIN_DISTANCE_BOND_FRACTION * bond
            cutoff[key] = BOND_FACTOR * bond
            first[key] = _first_peak(r, g, min_d[key])
    # bonds, coordination and angles
    bonded = pairs[d < np.array([cutoff[_key(x, y, species)] for x, y in zip(ea, eb)])] \
        if pairs.size else pairs
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for i, j in bonded:
        nbrs[i].append(j)
        nbrs[j].append(i)
    for a in species:
        ia = np.flatnonzero(el == a)
        for b in species:
            coord[f"{a}-{b}"] = float(np.mean([sum(el[j] == b for j in nbrs[i]) for i in ia]))
    angle_edges = np.arange(0.0, 180.0 + angle_bin_deg / 2, angle_bin_deg)
    angles: dict = {}
    for i in range(n):
        ring = nbrs[i]
        for p in range(len(ring)):
            for q in range(p + 1, len(ring)):
                u, v = pos[ring[p]] - pos[i], pos[ring[q]] - pos[i]
                c = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
                ends = sorted((str(el[ring[p]]), str(el[ring[q]])))
                angles.setdefault(f"{ends[0]}-{el[i]}-{ends[1]}", []).append(
                    np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))
    angle_hist = {k: np.histogram(v, bins=angle_edges)[0] for k, v in sorted(angles.items())}
    angle_mean = {k: float(np.mean(v)) for k, v in sorted(angles.items())}
    # nearest neighbours and atoms closer than the physical minimum
    dnn = tree.query(pos, k=2)[0][:, 1]
    nn_edges = np.arange(0.0, max(float(dnn.max()), 0.1) + dr, dr)
    close = pairs[d < np.array([min_d[_key(x, y, species)] for x, y in zip(ea, eb)])] \
        if pairs.size else pairs
    return StructureReport(
        r=r, partial_g=partial, first_peak_A=first, coordination=coord, bond_cutoff_A=cutoff,
        angle_edges_deg=angle_edges, angle_hist=angle_hist, angle_mean_deg=angle_mean,
        nn_edges_A=nn_edges, nn_hist=np.histogram(dnn, bins=nn_edges)[0],
        nn_median_A=float(np.median(dnn)), n_close_pairs=len(close),
        n_atoms_too_close=int(np.unique(close).size), min_distance_A=min_d, n_atoms=n,
        counts=counts, hull_volume_A3=volume)


def _key(a, b, species) -> str:
    a, b = str(a), str(b)
    return f"{a}-{b}" if species.index(a) <= species.index(b) else f"{b}-{a}"

