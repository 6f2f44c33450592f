"""A small container for atom lists (truth models, traced atoms).

Positions are ``(x, y, z)`` in Å in the frame of CONVENTIONS.md: the origin is the
centre of voxel ``(0, 0, 0)`` of the volume the atoms belong to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Atoms"]


@dataclass
class Atoms:
    """Elements and positions of ``n`` atoms, plus optional per-atom columns.

    Attributes
    ----------
    elements : ndarray of str, shape (n,)
        Element symbols (``"Si"``, ``"O"``, ...).
    positions : ndarray of float64, shape (n, 3)
        ``(x, y, z)`` in Å.
    features : dict of str -> ndarray, shape (n,)
        Extra per-atom columns such as ``intensity``.
    """

    elements: np.ndarray
    positions: np.ndarray
    features: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        self.elements = np.asarray(self.elements, dtype=str).reshape(-1)
        pos = np.asarray(self.positions, dtype=np.float64)
        if pos.size == 0:
            pos = pos.reshape(0, 3)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise ValueError(f"positions must have shape (n, 3) as (x, y, z) Å, got {pos.shape}")
        if pos.shape[0] != self.elements.size:
            raise ValueError(
                f"{self.elements.size} element names but {pos.shape[0]} positions were given"
            )
        if not np.all(np.isfinite(pos)):
            raise ValueError("atom positions contain NaN or infinite values")
        self.positions = pos
        feats = {}
        for name, col in self.features.items():
            col = np.asarray(col)
            if col.shape != (pos.shape[0],):
                raise ValueError(
                    f"feature {name!r} has shape {col.shape} but there are {pos.shape[0]} atoms"
                )
            feats[str(name)] = col
        self.features = feats

    def __len__(self) -> int:
        return self.elements.size

    def counts(self) -> dict[str, int]:
        """Number of atoms per element, in order of first appearance."""
        names, idx, cnt = np.unique(self.elements, return_index=True, return_counts=True)
        order = np.argsort(idx)
        return {str(names[o]): int(cnt[o]) for o in order}

    def select(self, mask_or_index) -> Atoms:
        """A new :class:`Atoms` holding the selected rows."""
        sel = np.asarray(mask_or_index)
        return Atoms(
            self.elements[sel],
            self.positions[sel],
            {k: v[sel] for k, v in self.features.items()},
        )

    def positions_zyx(self, voxel_size: float = 1.0) -> np.ndarray:
        """Positions as ``(z, y, x)``, in Å (``voxel_size=1``) or voxel indices."""
        return self.positions[:, ::-1] / float(voxel_size)
