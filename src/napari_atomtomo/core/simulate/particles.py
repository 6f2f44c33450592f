"""Small amorphous test particles: hard cases for tracing (random packing, one element)."""

from __future__ import annotations

import numpy as np

from ..atoms import Atoms
from ..elements import validate_element

__all__ = ["amorphous_particle"]


def amorphous_particle(element, n_atoms: int, min_distance_A: float, radius_A: float,
                       seed: int = 0, *, max_tries: int = 200_000) -> Atoms:
    """``n_atoms`` of ``element`` placed at random in a sphere, never closer than
    ``min_distance_A`` (random sequential addition: an amorphous, bond-length-limited
    cluster). Positions are about the origin; raises ``ValueError`` if the sphere cannot
    hold that many atoms within ``max_tries`` draws.

    A mixed particle: ``element`` a sequence of symbols (one per atom, placed in that
    order, e.g. metal first) and ``min_distance_A`` a dict ``{(a, b): Å}`` of pair minima
    (both orders looked up; a missing pair uses the largest value given).
    """
    els = [element] * int(n_atoms) if isinstance(element, str) else [str(e) for e in element]
    for e in set(els):
        validate_element(e)
    if int(n_atoms) != n_atoms or n_atoms < 1 or len(els) != n_atoms:
        raise ValueError(f"n_atoms must be a positive integer matching the elements, "
                         f"got {n_atoms!r}")
    pair = dict(min_distance_A) if isinstance(min_distance_A, dict) else None
    top = max(pair.values()) if pair else float(min_distance_A)
    if not (top > 0 and radius_A > 0):
        raise ValueError("min_distance_A and radius_A must be positive numbers of Å")

    def dmin(a, b):
        if pair is None:
            return float(min_distance_A)
        return pair.get((a, b), pair.get((b, a), top))

    rng = np.random.default_rng(seed)
    pts = np.zeros((0, 3))
    for _ in range(int(max_tries)):
        if len(pts) == n_atoms:
            break
        p = rng.uniform(-radius_A, radius_A, 3)
        if np.linalg.norm(p) > radius_A:
            continue
        e = els[len(pts)]
        need = np.array([dmin(e, q) for q in els[: len(pts)]])
        if len(pts) == 0 or np.all(np.linalg.norm(pts - p, axis=1) >= need):
            pts = np.vstack([pts, p])
    if len(pts) < n_atoms:
        raise ValueError(f"only {len(pts)} of {n_atoms} atoms fit {top} Å apart in a "
                         f"sphere of {radius_A} Å; use a larger radius or fewer atoms")
    return Atoms(np.asarray(els), pts)
