"""The job of the "Trace atoms" widget (no Qt): trace, then compare with a truth.

* :func:`iter_trace_job`: the worker's generator; returns a :class:`TraceOutcome`;
* :func:`trace_summary`, :func:`comparison_summary`: the one-line summaries;
* :func:`auto_or_numbers`: ``"auto"`` or numbers from a text field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.atoms import Atoms
from ..core.compare import ComparisonResult, compare_atoms
from ..core.params import auto_or_numbers_text
from ..core.trace import TraceResult, trace_atoms, trace_atoms_by_subtraction
from ..core.trace._structure import StructureReport, structure_report

__all__ = ["TRACE_METHODS", "auto_or_numbers", "TraceStep", "TraceOutcome", "iter_trace_job",
           "trace_summary", "comparison_summary"]

#: Tracing methods offered by the widget (``atomtomo trace --method``).
TRACE_METHODS = ("direct", "subtraction")


def auto_or_numbers(text: str, what: str):
    """``"auto"``, one float, or a tuple of floats from comma-separated text (``what``: the
    field, named in the error); :func:`~napari_atomtomo.core.params.auto_or_numbers_text`.
    """
    return auto_or_numbers_text(text, what)


@dataclass(frozen=True)
class TraceStep:
    """Progress of a tracing job: step number and what is being done."""

    iteration: int
    message: str


@dataclass(frozen=True)
class TraceOutcome:
    """What a tracing job returns: the tracing, and the comparison when a truth was given."""

    trace: TraceResult
    comparison: ComparisonResult | None = None
    truth: Atoms | None = None
    structure: StructureReport | None = None


def iter_trace_job(volume, voxel_size, params, n_expected=None, truth=None, resolution_A=1.0,
                   method="direct"):
    """Trace ``volume`` (``trace_atoms``, or ``trace_atoms_by_subtraction`` with
    ``method="subtraction"``), then compare with ``truth`` if given.

    Yields :class:`TraceStep` between the stages (where Cancel takes effect) and returns
    a :class:`TraceOutcome`. Raises ``ValueError`` when no peak rises above the floor.
    """
    yield TraceStep(0, "finding and fitting peaks")
    trace = trace_atoms_by_subtraction if method == "subtraction" else trace_atoms
    result = trace(volume, voxel_size, params, n_expected=n_expected)
    if len(result.atoms) == 0:
        raise ValueError(f"no peak rises above the noise floor {result.noise_floor:.4g}; "
                         "lower the noise floor")
    try:  # the structure report of the traced atoms (judges a trace without a truth)
        structure = structure_report(result.atoms)
    except ValueError:  # fewer than 5 atoms, or a flat layer of them
        structure = None
    yield TraceStep(1, f"{len(result.atoms)} atoms traced")
    comparison = None
    if truth is not None:
        comparison = compare_atoms(result.atoms, truth, resolution_A=resolution_A)
        yield TraceStep(2, "compared with the truth")
    return TraceOutcome(result, comparison, truth, structure)


def trace_summary(elements, element_order, noise_floor: float, thresholds) -> str:
    """``"60 atoms: Si 20, O 40; noise floor 4.53; threshold 54.6"``."""
    els = np.asarray(elements, dtype=str)
    counts = ", ".join(f"{e} {int(np.sum(els == e))}" for e in element_order)
    thr = ", ".join(f"{t:.4g}" for t in thresholds if np.isfinite(t)) or "none"
    return f"{els.size} atoms: {counts}; noise floor {noise_floor:.4g}; threshold {thr}"


def comparison_summary(comparison: ComparisonResult) -> str:
    """``"traced/true Si 20/20, O 40/40; misplaced 0 (Si 0, O 0); missing 0, extra 0;
    RMSD 0.011 Å"``: missing = true atoms no traced atom matched, extra = traced atoms
    with no true match.
    """
    d = comparison.to_dict()
    names = list(dict.fromkeys([*d["counts_true"], *d["counts_traced"]]))
    counts = ", ".join(f"{e} {d['counts_traced'].get(e, 0)}/{d['counts_true'].get(e, 0)}"
                       for e in names)
    mis = ", ".join(f"{e} {d['misplaced_by_element'].get(e, 0)}" for e in names)
    rmsd = "n/a" if d["rmsd_A"] is None else f"{d['rmsd_A']:.3f} Å"
    matched = np.unique(comparison.truth_index[comparison.truth_index >= 0]).size
    missing, extra = comparison.n_true - matched, int(np.sum(comparison.truth_index < 0))
    return (f"traced/true {counts}; misplaced {d['n_misplaced']} ({mis}); "
            f"missing {missing}, extra {extra}; RMSD {rmsd}")
