"""Amorphous SiO2: a continuous random network by bond-switching Monte Carlo.

Paper 000 made its 334 Si + 668 O glass particle by a melt-and-quench molecular dynamics
run. We build an equivalent continuous random network the Wooten-Winer-Weaire way, which
is faster and leaves no coordination defects by construction:

1. ``n_si`` Si sites are placed at random (minimum separation 2.6 Å) in a periodic cube
   of edge ``box`` and joined into a four-connected network (nearest free partners
   first, then a few bond exchanges until every Si has exactly four Si partners).
2. Bond switches with Metropolis acceptance anneal that Si network under a Keating-type
   force field (Si···Si 3.06 Å, tetrahedral Si···Si···Si angles, soft non-bonded walls).
3. One O is put on every Si···Si link (2 n_si O), and the SiO2 network is relaxed with
   Si–O 1.61 Å, tetrahedral O–Si–O angles, a weak Si–O–Si preference for 147° and soft
   walls that keep non-bonded O–O ≥ 2.5 Å, Si–Si ≥ 3.0 Å and Si–O ≥ 3.0 Å.

The network is periodic, which is how bulk glass is modelled. The particle is the cube
itself: positions are wrapped into ``[0, box)³``, so the finite cluster holds all
``3 n_si`` atoms; the Si–O bonds that cross a face of the cube are broken in the cluster
(:func:`silica_statistics` reports coordination both ways).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..atoms import Atoms
from . import _network_kernels as _k

__all__ = [
    "SILICA_BOX_A",
    "SILICA_N_SI",
    "SilicaStats",
    "generate_silica",
    "silica_statistics",
    "partial_rdf",
]

#: The paper's particle: 334 Si + 668 O in a 24.7 Å cube (2.2 g/cm³).
SILICA_N_SI = 334
SILICA_BOX_A = 24.7

_SI_O = 1.61  # Å
_SI_SI_LINK = 3.06  # Å, Si···Si across a bridging O at ~144°
_AVOGADRO = 6.02214076e23
_M_SIO2 = 28.0855 + 2 * 15.999  # g/mol
_COS_TETRA = -1.0 / 3.0


def _random_sites(n, box, min_dist, rng) -> np.ndarray:
    pos = np.empty((n, 3))
    count = 0
    tries = 0
    while count < n:
        tries += 1
        if tries > 2000 * n:
            raise ValueError(
                f"could not place {n} Si sites {min_dist} Å apart in a {box} Å box; "
                "the density is too high"
            )
        p = rng.uniform(0.0, box, 3)
        d = pos[:count] - p
        d -= box * np.round(d / box)
        if count == 0 or np.min(np.einsum("ij,ij->i", d, d)) >= min_dist**2:
            pos[count] = p
            count += 1
    return pos


def _four_connected_graph(pos, box) -> np.ndarray:
    """A simple graph with every vertex of degree 4, preferring short links."""
    n = pos.shape[0]
    d = pos[:, None, :] - pos[None, :, :]
    d -= box * np.round(d / box)
    dist = np.sqrt(np.einsum("ijk,ijk->ij", d, d))
    np.fill_diagonal(dist, np.inf)
    iu, ju = np.triu_indices(n, 1)
    order = np.argsort(dist[iu, ju], kind="stable")
    adj = [set() for _ in range(n)]
    for p in order:
        i, j = int(iu[p]), int(ju[p])
        if dist[i, j] > 6.0:
            break
        if len(adj[i]) < 4 and len(adj[j]) < 4:
            adj[i].add(j)
            adj[j].add(i)
    # Repair: link pairs of unsaturated sites, or split an existing link to make room.
    for _ in range(10 * n):
        free = [i for i in range(n) if len(adj[i]) < 4]
        if not free:
            break
        a = free[0]
        partners = [b for b in free[1:] if b not in adj[a]]
        if partners:
            b = min(partners, key=lambda q: dist[a, q])
            adj[a].add(b)
            adj[b].add(a)
            continue
        # a needs a partner but every other free site is already linked to it (or none is
        # free): take the link c–e nearest to a, and make it c–a, a–e (or c–a, e–b).
        b = free[1] if len(free) > 1 else None
        best = None
        for c in np.argsort(dist[a]):
            c = int(c)
            if c == a or c in adj[a] or c == b:
                continue
            for e in adj[c]:
                if e == a or (b is None and e in adj[a]) or (b is not None and (e == b or e in adj[b])):
                    continue
                best = (c, e)
                break
            if best:
                break
        c, e = best
        adj[c].discard(e)
        adj[e].discard(c)
        adj[a].add(c)
        adj[c].add(a)
        other = a if b is None else b
        adj[other].add(e)
        adj[e].add(other)
    else:  # pragma: no cover - the repair always converges for sane densities
        raise RuntimeError("could not build a four-connected Si network")
    return np.array([sorted(s) for s in adj], dtype=np.int64)


def generate_silica(
    n_si: int = SILICA_N_SI,
    box: float = SILICA_BOX_A,
    seed: int = 0,
    *,
    n_switches: int | None = None,
    kt_start: float = 0.2,
    kt_end: float = 0.02,
    origin: str = "corner",
) -> Atoms:
    """Generate an amorphous SiO2 continuous random network of ``n_si`` SiO2 units.

    Parameters
    ----------
    n_si : int
        Number of Si atoms (the O count is ``2 n_si``); the paper's particle has 334.
    box : float
        Edge of the periodic cube in Å (24.7 Å gives 2.2 g/cm³ for 334 SiO2).
    seed : int
        Seed of the random sites and of the Monte Carlo; same seed, same structure.
    n_switches : int, optional
        Bond-switch trials (default ``90 n_si``).
    kt_start, kt_end : float
        Annealing temperature range of the bond switches, eV.
    origin : {"corner", "centre"}
        ``"corner"``: positions in ``[0, box)³``; ``"centre"``: the cube centre at 0.

    Returns
    -------
    Atoms
        Si atoms first, then O; positions ``(x, y, z)`` in Å; feature ``bonded_si``
        ``(n, 4)`` is not stored (use :func:`silica_statistics` to count neighbours).
    """
    if int(n_si) != n_si or n_si < 8:
        raise ValueError(f"n_si must be an integer ≥ 8, got {n_si!r}")
    if not (np.isfinite(box) and box > 0):
        raise ValueError(f"box must be a positive length in Å, got {box!r}")
    density = n_si * _M_SIO2 / _AVOGADRO / (box * 1e-8) ** 3
    if not 1.5 <= density <= 3.0:
        raise ValueError(
            f"{n_si} SiO2 in a {box} Å cube is {density:.2f} g/cm³; expected 1.5 to 3.0 "
            "(amorphous silica is 2.2)"
        )
    if origin not in ("corner", "centre"):
        raise ValueError(f"origin must be 'corner' or 'centre', got {origin!r}")
    if not (kt_start > 0 and kt_end > 0):
        raise ValueError(f"kt_start and kt_end must be positive, got {kt_start}, {kt_end}")
    n_si = int(n_si)
    n_switches = 90 * n_si if n_switches is None else int(n_switches)
    if n_switches < 0:
        raise ValueError(f"n_switches must be ≥ 0, got {n_switches}")
    rng = np.random.default_rng(seed)

    # 1-2: the Si network, annealed by bond switches
    si = _random_sites(n_si, box, 2.6, rng)
    nbr = _four_connected_graph(si, box)
    _k.www_anneal(si, float(box), nbr, _SI_SI_LINK, 2.0, 2.5, 3.4, 1.0, n_switches,
                  kt_start, kt_end, 5.5, 100, int(rng.integers(2**31 - 1)))

    # 3: decorate every Si···Si link with a bridging O, then relax SiO2
    pos, partners, species = _decorate(si, nbr, box, rng)
    r0 = np.array([[0.0, _SI_O], [_SI_O, 0.0]])
    kb = np.array([[0.0, 100.0], [100.0, 0.0]])
    c0 = np.array([_COS_TETRA, np.cos(np.radians(147.0))])
    ka = np.array([10.0, 0.2])
    rc = np.array([[3.05, 3.0], [3.0, 2.6]])
    _k.fire_relax(pos, float(box), species, partners, r0, kb, c0, ka, rc, 50.0, 30000, 1e-4)

    pos = np.mod(pos, box)
    if origin == "centre":
        pos -= box / 2.0
    elements = np.where(species == 0, "Si", "O")
    return Atoms(elements, pos)


def _decorate(si, nbr, box, rng):
    n_si = si.shape[0]
    links = [(i, int(j)) for i in range(n_si) for j in nbr[i] if j > i]
    n_o = len(links)
    pos = np.empty((n_si + n_o, 3))
    pos[:n_si] = si
    partners = -np.ones((n_si + n_o, 4), dtype=np.int64)
    fill = np.zeros(n_si, dtype=np.int64)
    for m, (i, j) in enumerate(links):
        d = si[j] - si[i]
        d -= box * np.round(d / box)
        r = np.linalg.norm(d)
        # bridge off the line so Si–O is 1.61 Å (a bent Si–O–Si)
        h = np.sqrt(max(_SI_O**2 - (r / 2) ** 2, 0.0))
        perp = np.cross(d, rng.normal(size=3))
        perp /= np.linalg.norm(perp)
        o = n_si + m
        pos[o] = si[i] + d / 2 + h * perp
        partners[o, 0], partners[o, 1] = i, j
        partners[i, fill[i]] = o
        partners[j, fill[j]] = o
        fill[i] += 1
        fill[j] += 1
    species = np.zeros(n_si + n_o, dtype=np.int64)
    species[n_si:] = 1
    return pos, partners, species


@dataclass(frozen=True)
class SilicaStats:
    """Bond and coordination statistics of a silica structure (lengths in Å)."""

    n_si: int
    n_o: int
    density_g_cm3: float
    si_o_mean_A: float
    si_o_std_A: float
    si_o_min_A: float
    si_o_max_A: float
    frac_si_4fold: float
    frac_o_2fold: float
    min_si_o_A: float
    min_o_o_A: float
    min_si_si_A: float
    periodic: bool


def _distances(pos, box):
    d = pos[:, None, :] - pos[None, :, :]
    if box is not None:
        d -= box * np.round(d / box)
    dist = np.sqrt(np.einsum("ijk,ijk->ij", d, d))
    np.fill_diagonal(dist, np.inf)
    return dist


def silica_statistics(atoms: Atoms, box: float | None = None, bond_cutoff: float = 2.0) -> SilicaStats:
    """Coordination and shortest distances of a silica model.

    ``box`` given: distances use the minimum image of that periodic cube (the network);
    ``box=None``: the finite cluster as it stands. A Si–O pair closer than
    ``bond_cutoff`` (2.0 Å, the first minimum of g_SiO) counts as a bond.
    """
    el = atoms.elements
    is_si = el == "Si"
    is_o = el == "O"
    if not is_si.any() or not is_o.any() or (is_si | is_o).sum() != len(atoms):
        raise ValueError("silica_statistics needs a structure of Si and O atoms only")
    dist = _distances(atoms.positions, box)
    d_so = dist[np.ix_(is_si, is_o)]
    bonds = d_so[d_so < bond_cutoff]
    if box is None:
        extent = np.ptp(atoms.positions, axis=0)
        volume = float(np.prod(extent))
    else:
        volume = float(box) ** 3
    n_si = int(is_si.sum())
    n_o = int(is_o.sum())
    mass = (n_si * 28.0855 + n_o * 15.999) / _AVOGADRO
    return SilicaStats(
        n_si=n_si,
        n_o=n_o,
        density_g_cm3=float(mass / (volume * 1e-24)),
        si_o_mean_A=float(bonds.mean()) if bonds.size else float("nan"),
        si_o_std_A=float(bonds.std()) if bonds.size else float("nan"),
        si_o_min_A=float(bonds.min()) if bonds.size else float("nan"),
        si_o_max_A=float(bonds.max()) if bonds.size else float("nan"),
        frac_si_4fold=float(np.mean((d_so < bond_cutoff).sum(axis=1) == 4)),
        frac_o_2fold=float(np.mean((d_so < bond_cutoff).sum(axis=0) == 2)),
        min_si_o_A=float(d_so.min()),
        min_o_o_A=float(dist[np.ix_(is_o, is_o)].min()),
        min_si_si_A=float(dist[np.ix_(is_si, is_si)].min()),
        periodic=box is not None,
    )


def partial_rdf(atoms: Atoms, pair: tuple[str, str], box: float, r_max: float = 8.0,
                dr: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Partial radial distribution function g_AB(r) of a periodic structure.

    Returns ``(r, g)`` with ``r`` the bin centres in Å; ``g → 1`` at large r.
    """
    a, b = pair
    if r_max <= 0 or dr <= 0 or r_max > box / 2:
        raise ValueError(f"need 0 < r_max ≤ box/2 = {box / 2} Å and dr > 0, got {r_max}, {dr}")
    dist = _distances(atoms.positions, box)
    sel_a = atoms.elements == a
    sel_b = atoms.elements == b
    if not sel_a.any() or not sel_b.any():
        raise ValueError(f"the structure has no {a} or no {b} atoms")
    d = dist[np.ix_(sel_a, sel_b)].ravel()
    edges = np.arange(0.0, r_max + dr, dr)
    hist, _ = np.histogram(d[np.isfinite(d)], bins=edges)
    r = 0.5 * (edges[1:] + edges[:-1])
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    n_pairs = sel_a.sum() * sel_b.sum() - (sel_a & sel_b).sum()
    g = hist / (shell * n_pairs / box**3)
    return r, g
