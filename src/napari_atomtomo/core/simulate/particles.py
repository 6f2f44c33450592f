"""Small amorphous test particles: hard cases for tracing (random packing, one element)."""

from __future__ import annotations

import numpy as np

from ..atoms import Atoms
from ..elements import validate_element

__all__ = ["amorphous_particle"]


def amorphous_particle(element: str, n_atoms: int, min_distance_A: float, radius_A: float,
                       seed: int = 0, *, max_tries: int = 200_000) -> Atoms:
    """``n_atoms`` of ``element`` placed at random in a sphere, never closer than
    ``min_distance_A`` (random sequential addition: an amorphous, bond-length-limited
    cluster). Positions are about the origin; raises ``ValueError`` if the sphere cannot
    hold that many atoms within ``max_tries`` draws.
    """
    validate_element(element)
    if int(n_atoms) != n_atoms or n_atoms < 1:
        raise ValueError(f"n_atoms must be a positive integer, got {n_atoms!r}")
    if not (min_distance_A > 0 and radius_A > 0):
        raise ValueError("min_distance_A and radius_A must be positive numbers of Å")
    rng = np.random.default_rng(seed)
    pts = np.zeros((0, 3))
    for _ in range(int(max_tries)):
        if len(pts) == n_atoms:
            break
        p = rng.uniform(-radius_A, radius_A, 3)
        if np.linalg.norm(p) > radius_A:
            continue
        if len(pts) == 0 or np.min(np.linalg.norm(pts - p, axis=1)) >= min_distance_A:
            pts = np.vstack([pts, p])
    if len(pts) < n_atoms:
        raise ValueError(f"only {len(pts)} of {n_atoms} atoms fit {min_distance_A} Å apart in a "
                         f"sphere of {radius_A} Å; use a larger radius or fewer atoms")
    return Atoms(np.full(int(n_atoms), element), pts)
