"""Deviation analysis: traced atoms against a known structure (paper 000, Fig. 5).

Traced and true atoms are matched one to one (Hungarian assignment on the distance
matrix, ``scipy.optimize.linear_sum_assignment``) after removing a global translation,
since a reconstruction frame may be shifted relative to the truth frame (CONVENTIONS.md:
"Truth comparisons allow a global translation"). A traced atom is *misplaced* when its
match is farther than the stated resolution or of another element; the RMSD is taken
over the correctly placed atoms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._refs import PAPER_000, cites
from .atoms import Atoms

__all__ = ["ComparisonResult", "compare_atoms", "relabel_comparison"]

#: Offset refinement stops after this many match / re-estimate rounds.
MAX_OFFSET_ROUNDS = 20


@dataclass(frozen=True)
class ComparisonResult:
    """Per-atom matching of traced atoms to the truth, and its summary.

    Per traced atom (in the traced list's order, the x axis of Fig. 5):
    ``truth_index`` (−1 if unmatched), ``deviation_A`` (NaN if unmatched),
    ``element_correct`` and ``misplaced``. ``offset_A`` is the translation removed:
    ``traced − offset_A`` is compared with the truth.
    """

    traced_elements: np.ndarray
    truth_index: np.ndarray
    deviation_A: np.ndarray
    element_correct: np.ndarray
    misplaced: np.ndarray
    offset_A: np.ndarray
    counts_traced: dict
    counts_true: dict
    n_true: int
    resolution_A: float
    n_rounds: int

    @property
    def matched(self) -> np.ndarray:
        """Whether each traced atom was matched to a true atom."""
        return self.truth_index >= 0

    @property
    def correct(self) -> np.ndarray:
        """Matched, within the resolution and of the right element."""
        return self.matched & ~self.misplaced

    @property
    def n_misplaced(self) -> int:
        """Number of traced atoms matched to an atom of another element."""
        return int(self.misplaced.sum())

    @property
    def misplaced_by_element(self) -> dict[str, int]:
        """Misplaced traced atoms per (traced) element, as the paper's "O misplaced"."""
        names = list(dict.fromkeys([*self.counts_true, *self.counts_traced]))
        return {e: int(np.sum(self.misplaced & (self.traced_elements == e))) for e in names}

    @property
    def rmsd_A(self) -> float:
        """Root-mean-square deviation of the correctly placed atoms (NaN if none)."""
        d = self.deviation_A[self.correct]
        return float(np.sqrt(np.mean(d**2))) if d.size else float("nan")

    def to_dict(self, per_atom: bool = False) -> dict:
        """JSON-serialisable summary; units in key names. ``per_atom`` adds the deviations."""
        matched = self.matched
        too_far = matched & (self.deviation_A > self.resolution_A)
        wrong = matched & ~self.element_correct
        mis = self.deviation_A[self.misplaced]
        good = self.deviation_A[self.correct]
        out = {
            "resolution_A": self.resolution_A,
            "offset_A": [float(v) for v in self.offset_A],
            "n_traced": int(self.traced_elements.size),
            "n_true": self.n_true,
            "counts_traced": dict(self.counts_traced),
            "counts_true": dict(self.counts_true),
            "n_matched": int(matched.sum()),
            "n_unmatched_traced": int((~matched).sum()),
            "n_unmatched_true": int(self.n_true - matched.sum()),
            "n_misplaced": self.n_misplaced,
            "misplaced_by_element": self.misplaced_by_element,
            "n_beyond_resolution": int(too_far.sum()),
            "n_wrong_element": int(wrong.sum()),
            "rmsd_A": _num(self.rmsd_A),
            "max_deviation_correct_A": _num(good.max()) if good.size else None,
            "mean_deviation_misplaced_A": _num(mis.mean()) if mis.size else None,
            "offset_rounds": self.n_rounds,
        }
        if per_atom:
            out["deviation_A"] = [_num(v) for v in self.deviation_A]
            out["truth_index"] = [int(v) for v in self.truth_index]
        return out


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def _check_atoms(atoms, what: str) -> Atoms:
    if not isinstance(atoms, Atoms):
        raise ValueError(f"{what} must be an Atoms list, got {type(atoms).__name__}")
    if len(atoms) == 0:
        raise ValueError(f"{what} has no atoms; there is nothing to compare")
    return atoms


#: Added to the cost of pairs beyond the resolution so that the assignment maximises the
#: number of pairs within it first (larger than any sum of in-resolution distances).
_OUTSIDE_PENALTY_A = 1.0e6


@cites(PAPER_000)
def compare_atoms(traced: Atoms, truth: Atoms, *, resolution_A: float = 1.0,
                  remove_offset: bool = True) -> ComparisonResult:
    """Match traced atoms to the true ones and measure their deviations.

    Parameters
    ----------
    traced, truth : Atoms
        Positions ``(x, y, z)`` in Å; the frames may differ by a translation.
    resolution_A : float
        A matched atom farther than this (Å) from its true position is misplaced. The
        one-to-one assignment first maximises the number of pairs within this distance,
        then minimises the total distance.
    remove_offset : bool
        Remove a global translation: start from the difference of the centroids, then
        repeat {match; offset = mean displacement of the pairs within ``resolution_A``}
        until the offset stops changing (at most ``MAX_OFFSET_ROUNDS`` rounds).

    Returns
    -------
    ComparisonResult
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    traced = _check_atoms(traced, "traced")
    truth = _check_atoms(truth, "truth")
    if not (np.isfinite(resolution_A) and resolution_A > 0):
        raise ValueError(f"resolution_A must be a positive number of Å, got {resolution_A!r}")
    a, b = traced.positions, truth.positions
    offset = a.mean(axis=0) - b.mean(axis=0) if remove_offset else np.zeros(3)
    rounds = 0
    while True:
        rounds += 1
        cost = cdist(a - offset, b)
        # Pairs within the resolution are matched first (a large penalty on the others),
        # then the total distance is minimised: otherwise the assignment can route a
        # chain of reassignments through correctly placed atoms to reach one spurious
        # peak, and a single tracing error is counted several times.
        rows, cols = linear_sum_assignment(
            np.where(cost <= resolution_A, cost, cost + _OUTSIDE_PENALTY_A))
        dev = cost[rows, cols]
        inliers = dev <= resolution_A
        if not remove_offset or not inliers.any() or rounds >= MAX_OFFSET_ROUNDS:
            break
        new = (a[rows[inliers]] - b[cols[inliers]]).mean(axis=0)
        if np.allclose(new, offset, rtol=0, atol=1e-9):
            break
        offset = new
    n = len(traced)
    truth_index = np.full(n, -1, dtype=np.intp)
    truth_index[rows] = cols
    deviation = np.full(n, np.nan)
    deviation[rows] = dev
    element_correct = np.zeros(n, dtype=bool)
    element_correct[rows] = traced.elements[rows] == truth.elements[cols]
    matched = truth_index >= 0
    misplaced = matched & ((np.nan_to_num(deviation, nan=0.0) > resolution_A) | ~element_correct)
    return ComparisonResult(
        traced_elements=traced.elements.copy(),
        truth_index=truth_index,
        deviation_A=deviation,
        element_correct=element_correct,
        misplaced=misplaced,
        offset_A=np.asarray(offset, dtype=np.float64),
        counts_traced=traced.counts(),
        counts_true=truth.counts(),
        n_true=len(truth),
        resolution_A=float(resolution_A),
        n_rounds=rounds,
    )


@cites(PAPER_000)
def relabel_comparison(comparison: ComparisonResult, elements, truth: Atoms) -> ComparisonResult:
    """``comparison`` with the traced atoms relabelled ``elements`` (same order).

    The matching ignores elements, so it stays; only the element checks, the misplaced
    flags and the traced counts change (equal to re-running ``compare_atoms``).

    Parameters
    ----------
    comparison : ComparisonResult
        A result of :func:`compare_atoms`.
    elements : array_like of str
        New element of every traced atom, in the traced order.
    truth : Atoms
        The true atoms the comparison was made against.

    Returns
    -------
    ComparisonResult
        The comparison with the new elements.
    """
    els = np.asarray(elements, dtype=str)
    if els.shape != comparison.traced_elements.shape:
        raise ValueError(f"{els.size} elements given for {comparison.traced_elements.size} "
                         "traced atoms")
    matched = comparison.truth_index >= 0
    correct = np.zeros(els.size, dtype=bool)
    correct[matched] = els[matched] == truth.elements[comparison.truth_index[matched]]
    too_far = np.nan_to_num(comparison.deviation_A, nan=0.0) > comparison.resolution_A
    names, first, counts = np.unique(els, return_index=True, return_counts=True)
    order = np.argsort(first)
    return replace(
        comparison,
        traced_elements=els.copy(),
        element_correct=correct,
        misplaced=matched & (too_far | ~correct),
        counts_traced={str(names[o]): int(counts[o]) for o in order},
    )
